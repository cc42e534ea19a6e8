//! Benchmark: how fast the replicated queue is, in simulation and as three
//! processes on this machine, and how long a failover takes.
//!
//! Each measurement is compared with its like, in one run:
//!
//! 1. **Simulation**: each capstone scenario (ten thousand messages with
//!    poison, crashing consumers and its own fault), in messages per second
//!    of the machine's time and of simulated time. A scenario's figure is
//!    what the simulation costs the machine, faults included: it is not
//!    comparable with the processes', and has a chart of its own.
//! 2. **Processes, synced against unsynced**: three node processes on
//!    loopback TCP, once with every journal write synced before anything is
//!    acknowledged (the default) and once with `--no-sync`; for each load of
//!    `--loads` (`producers:consumers`), producer clients send `--messages`
//!    messages in batches of ten while consumer clients receive them ten at
//!    a time and delete each one: messages per second from the first send to
//!    the last delete, and the ratio of synced to unsynced.
//!
//!    What limits this figure is latency, not the machine: each client has
//!    one request outstanding, and each request waits for a commit (the
//!    leader's next Raft tick, then a round trip to a follower, with the
//!    entry synced on both at once). So the table also prints the median
//!    time a send waits and the bound it sets, `producers x 10 / median
//!    wait`, against which the measured sending rate is read, and the time
//!    one sync takes on the disk the nodes share.
//! 3. **Processes, failover**: `--failovers` times, the leader's process is
//!    killed while a client keeps sending; the failover time is from the
//!    kill to the first send the new leader commits. p50 and max.
//!
//! Build it in release mode for numbers worth quoting; the tests run the
//! same code unoptimised.
//!
//! ```text
//! cargo run --release -p capstone --features solution --example measure
//! ```

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use capstone::net::process::NODE_MODE;
use capstone::net::watch::{time_failovers, wait_for_leader};
use capstone::net::{Durability, LocalCluster, TcpTransport};
use capstone::sim::Scenario;
use capstone::{ClientSettings, NewMessage, QueueClient};
use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::metrics::Percentiles;
use coordination::picture::{BarChart, Picture};
use coordination::sim::simulate;
use coordination::{NodeId, Seed};
use tokio::time::Instant;
use workshop1::BackoffPolicy;
use workshop4::Term;

const ABOUT: &str = "measure: throughput in simulation and as processes, and failover time";

const MESSAGES: Flag = Flag::value(
    "messages",
    "10000",
    "messages through the process deployment",
);
const LOADS: Flag = Flag::value(
    "loads",
    "2:2,4:16,16:128",
    "producers:consumers sending and deleting at once, one run per pair",
);
const FAILOVERS: Flag = Flag::value("failovers", "10", "leader kills to time");
const SEEDS: Flag = Flag::value("seeds", "1", "seeds per simulated scenario");
const SKIP_SIMULATION: Flag = Flag::switch("skip-simulation", "measure only the processes");
const FLAGS: [Flag; 7] = [
    SEED,
    MESSAGES,
    LOADS,
    FAILOVERS,
    SEEDS,
    SKIP_SIMULATION,
    SVG,
];

fn main() {
    // Started again by itself as one of the nodes: be that node.
    capstone::net::process::serve_if_asked();
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    println!(
        "Built {}; {} cores.\n",
        if cfg!(debug_assertions) {
            "unoptimised (debug)"
        } else {
            "optimised (release)"
        },
        std::thread::available_parallelism().map_or(1, |cores| cores.get())
    );
    let mut simulation_chart =
        BarChart::new("simulation: messages per second of the machine's time");
    let mut process_chart = BarChart::new("3 processes: messages per second");
    if !flags.switch(SKIP_SIMULATION) {
        let seeds: u64 = flags.count(SEEDS)?;
        let mut table = Table::new([
            "scenario",
            "seed",
            "simulated",
            "real",
            "msg/s real",
            "msg/s simulated",
        ]);
        for scenario in Scenario::all() {
            for offset in 0..seeds {
                let run_seed = Seed::new(seed.value() + offset);
                let report = match unless_unfinished(|| simulate(scenario.run(run_seed))) {
                    Ok(report) => report?,
                    Err(exercise) => {
                        println!("The queue cannot run yet: {exercise}. Add --features solution.");
                        return Ok(());
                    }
                };
                table.row([
                    scenario.name.to_string(),
                    run_seed.to_string(),
                    format!("{:.1} s", report.simulated.as_secs_f64()),
                    format!("{:.2} s", report.wall.as_secs_f64()),
                    format!("{:.0}", report.messages_per_wall_second()),
                    format!("{:.0}", report.messages_per_simulated_second()),
                ]);
                if offset == 0 {
                    simulation_chart
                        .bar(scenario.name.to_string(), report.messages_per_wall_second());
                }
            }
        }
        println!("Simulation: ten thousand messages per run\n\n{table}");
    }
    let messages: usize = flags.count(MESSAGES)?;
    let loads = parse_loads(&flags.get::<String>(LOADS)?)?;
    let failovers: usize = flags.get(FAILOVERS)?;
    let program = std::env::current_exe()?;
    let folder = program
        .parent()
        .unwrap_or(&program)
        .join(format!("measure-{}", std::process::id()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let measured = unless_unfinished(|| {
        runtime.block_on(async {
            let mut runs = Vec::new();
            let mut failover_times = Vec::new();
            for durability in [Durability::Synced, Durability::Unsynced] {
                let mut cluster = LocalCluster::start(
                    &program,
                    &[NODE_MODE],
                    3,
                    &folder.join(format!("{durability:?}")),
                    durability == Durability::Synced,
                )?;
                for &load in &loads {
                    let run = process_throughput(&cluster, messages, load, seed).await?;
                    runs.push((durability, load, run));
                }
                if durability == Durability::Synced {
                    failover_times = failover(&mut cluster, failovers, seed).await?;
                }
            }
            Ok::<_, Box<dyn std::error::Error>>((runs, failover_times))
        })
    });
    let (runs, failover_times) = match measured {
        Ok(measured) => measured?,
        Err(exercise) => {
            println!("The processes cannot run yet: {exercise}. Add --features solution.");
            return Ok(());
        }
    };
    let sync = sync_latency(&folder)?;
    let _ = std::fs::remove_dir_all(&folder);
    println!(
        "\nThe disk under the nodes' journals: a 4 KiB write and its fdatasync take {:.1} ms \
         (median of 50), and the three nodes share it. A synced send waits for the leader's \
         next tick (5 ms) and for its entry's sync on the leader and on a follower, which \
         run at once.",
        sync.as_secs_f64() * 1000.0
    );
    let mut table = Table::new([
        "3 processes on loopback",
        "synced msg/s",
        "unsynced msg/s",
        "synced / unsynced",
        "median send wait",
        "send bound",
        "sent / bound",
    ]);
    for &load in &loads {
        let of = |wanted: Durability| {
            runs.iter()
                .find(|(durability, run_load, _)| *durability == wanted && *run_load == load)
                .map(|(_, _, run)| run)
        };
        let (Some(synced), Some(unsynced)) = (of(Durability::Synced), of(Durability::Unsynced))
        else {
            continue;
        };
        let (producers, consumers) = load;
        let rate = |run: &ProcessRun| messages as f64 / run.took.as_secs_f64();
        let wait = synced.send_wait_p50.as_secs_f64();
        // Each producer has one send of ten messages outstanding at a time.
        let bound = producers as f64 * 10.0 / wait.max(f64::EPSILON);
        let sent_rate = messages as f64 / synced.sending.as_secs_f64();
        let name = format!("{producers} producers, {consumers} consumers");
        process_chart.bar(format!("{name}, synced"), rate(synced));
        process_chart.bar(format!("{name}, unsynced"), rate(unsynced));
        table.row([
            name,
            format!("{:.0}", rate(synced)),
            format!("{:.0}", rate(unsynced)),
            format!("{:.2}", rate(synced) / rate(unsynced)),
            format!("{:.1} ms", wait * 1000.0),
            format!("{bound:.0}/s"),
            format!("{:.2}", sent_rate / bound),
        ]);
    }
    println!(
        "\n{messages} messages sent, received and deleted per run; the send bound is \
         producers x 10 / median send wait (synced runs)\n\n{table}"
    );
    if !failover_times.is_empty() {
        let percentiles = Percentiles::of(failover_times.clone());
        println!(
            "Failover, leader killed to the first send committed by the next ({} kills, \
             synced): p50 {} ms, max {} ms",
            failover_times.len(),
            percentiles.p50.as_millis(),
            percentiles.max.as_millis()
        );
    }
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "measure: the replicated queue's throughput, seed {seed}"
        ));
        picture.add("simulation, faults included", simulation_chart);
        picture.add("processes, synced against unsynced", process_chart);
        picture
    })?;
    Ok(())
}

/// The median time of a 4 KiB write and its `fdatasync` in `folder`: what
/// one synced journal write costs on this disk.
fn sync_latency(folder: &std::path::Path) -> Result<Duration, Box<dyn std::error::Error>> {
    use std::io::Write;
    std::fs::create_dir_all(folder)?;
    let path = folder.join("sync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [7u8; 4096];
    let mut times = Vec::new();
    for _ in 0..50 {
        let started = std::time::Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        times.push(started.elapsed());
    }
    std::fs::remove_file(&path)?;
    Ok(Percentiles::of(times).p50)
}

/// Reads `2:2,4:16` as (producers, consumers) pairs.
fn parse_loads(text: &str) -> Result<Vec<(u64, u64)>, Box<dyn std::error::Error>> {
    text.split(',')
        .map(|pair| {
            let (producers, consumers) = pair
                .split_once(':')
                .ok_or_else(|| format!("--loads takes producers:consumers pairs, got {pair:?}"))?;
            let count = |text: &str| -> Result<u64, Box<dyn std::error::Error>> {
                match text.trim().parse::<u64>()? {
                    0 => Err(format!(
                        "--loads takes at least one producer and one consumer, got {pair:?}"
                    )
                    .into()),
                    count => Ok(count),
                }
            };
            Ok((count(producers)?, count(consumers)?))
        })
        .collect()
}

/// Client settings with fine-grained retries, so the measurement is the
/// cluster's and not the client's patience.
fn eager() -> Result<ClientSettings, Box<dyn std::error::Error>> {
    Ok(ClientSettings {
        call_timeout: Duration::from_millis(200),
        backoff: BackoffPolicy::new(Duration::from_millis(2), Duration::from_millis(20))?,
        give_up_after: Duration::from_secs(30),
    })
}

/// Waits until a node leads a term after `after`.
async fn leader_after(
    transport: &TcpTransport,
    nodes: &[NodeId],
    after: Term,
) -> Result<(NodeId, Term), Box<dyn std::error::Error>> {
    wait_for_leader(transport, nodes, after, Duration::from_secs(10))
        .await
        .ok_or_else(|| "no leader within 10 s".into())
}

/// One throughput run of the processes.
struct ProcessRun {
    /// From the first send to the last delete.
    took: Duration,
    /// From the first send to the last send's acknowledgement.
    sending: Duration,
    /// The median time a send waited for its acknowledgement.
    send_wait_p50: Duration,
}

/// `producers` clients send `messages` in batches of ten while `consumers`
/// clients receive and delete them; returns the times.
async fn process_throughput(
    cluster: &LocalCluster,
    messages: usize,
    (producers, consumers): (u64, u64),
    seed: Seed,
) -> Result<ProcessRun, Box<dyn std::error::Error>> {
    let settings = eager()?;
    let transport = TcpTransport::new(cluster.addresses());
    let nodes = cluster.nodes();
    leader_after(&transport, &nodes, Term::ZERO).await?;
    let deleted = Arc::new(Mutex::new(BTreeSet::new()));
    // Every send's wait, and when the last send was acknowledged.
    let waits = Arc::new(Mutex::new((Vec::new(), Duration::ZERO)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for producer in 0..producers {
        let mut client =
            QueueClient::new(transport.clone(), &nodes, settings, seed.derive(producer))?;
        let share: Vec<u64> = (0..messages as u64)
            .filter(|n| n % producers == producer)
            .collect();
        let waits = Arc::clone(&waits);
        tasks.spawn(async move {
            for batch in share.chunks(10) {
                let batch = batch
                    .iter()
                    .map(|n| NewMessage {
                        body: format!("message-{n}"),
                        deduplication_id: None,
                    })
                    .collect();
                let sent_at = Instant::now();
                client
                    .send(batch)
                    .await
                    .map_err(|error| error.to_string())?;
                let mut waits = lock(&waits);
                waits.0.push(sent_at.elapsed());
                waits.1 = waits.1.max(started.elapsed());
            }
            Ok::<(), String>(())
        });
    }
    for consumer in 0..consumers {
        let mut client = QueueClient::new(
            transport.clone(),
            &nodes,
            settings,
            seed.derive(1000 + consumer),
        )?;
        let deleted = Arc::clone(&deleted);
        tasks.spawn(async move {
            loop {
                if lock(&deleted).len() >= messages {
                    return Ok(());
                }
                let received = client
                    .receive(10, None)
                    .await
                    .map_err(|error| error.to_string())?;
                if received.is_empty() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                for message in received {
                    client
                        .delete(message.receipt)
                        .await
                        .map_err(|error| error.to_string())?;
                    lock(&deleted).insert(message.body);
                }
            }
        });
    }
    while let Some(finished) = tasks.join_next().await {
        finished??;
    }
    let took = started.elapsed();
    let (waits, sending) = std::mem::take(&mut *lock(&waits));
    Ok(ProcessRun {
        took,
        sending,
        send_wait_p50: Percentiles::of(waits).p50,
    })
}

/// Kills the leader `runs` times while a client sends; returns each time
/// from the kill to the first send committed after it.
async fn failover(
    cluster: &mut LocalCluster,
    runs: usize,
    seed: Seed,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let transport = TcpTransport::new(cluster.addresses());
    let nodes = cluster.nodes();
    let mut client = QueueClient::new(transport, &nodes, eager()?, seed.derive(99))?;
    time_failovers(cluster, &mut client, runs).await
}

/// Locks the set of deleted messages.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
