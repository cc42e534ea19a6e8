//! Benchmark: how fast the replicated queue is, in simulation and as three
//! processes on this machine, and how long a failover takes.
//!
//! Three measurements, side by side in one run:
//!
//! 1. **Simulation**: each capstone scenario (ten thousand messages with
//!    poison, crashing consumers and its own fault), in messages per second
//!    of the machine's time and of simulated time.
//! 2. **Processes, throughput**: three node processes on loopback TCP; for
//!    each load of `--loads` (`producers:consumers`), producer clients send
//!    `--messages` messages in batches of ten while consumer clients receive
//!    them ten at a time and delete each one: messages per second from the
//!    first send to the last delete. Each client has one request
//!    outstanding, and each request waits for a commit (the leader's next
//!    Raft tick, then a round trip to a follower), so throughput grows with
//!    the number of clients, whose requests share each tick's append.
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
use capstone::net::watch::{leader_of, reports};
use capstone::net::{LocalCluster, TcpTransport};
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

const FLAGS: [Flag; 7] = [
    SEED,
    Flag::value(
        "messages",
        "10000",
        "messages through the process deployment",
    ),
    Flag::value(
        "loads",
        "2:2,4:16,16:128",
        "producers:consumers sending and deleting at once, one run per pair",
    ),
    Flag::value("failovers", "10", "leader kills to time"),
    Flag::value("seeds", "1", "seeds per simulated scenario"),
    Flag::switch("skip-simulation", "measure only the processes"),
    SVG,
];

fn main() {
    // Started again by itself as one of the nodes: be that node.
    capstone::net::process::serve_if_asked();
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get("seed")?);
    println!(
        "Built {}; {} cores.\n",
        if cfg!(debug_assertions) {
            "unoptimised (debug)"
        } else {
            "optimised (release)"
        },
        std::thread::available_parallelism().map_or(1, |cores| cores.get())
    );
    let mut chart = BarChart::new("messages per second of real time");
    if !flags.switch("skip-simulation") {
        let seeds: u64 = flags.count("seeds")?;
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
                    chart.bar(
                        format!("simulation: {}", scenario.name),
                        report.messages_per_wall_second(),
                    );
                }
            }
        }
        println!("Simulation: ten thousand messages per run\n\n{table}");
    }
    let messages: usize = flags.count("messages")?;
    let loads = parse_loads(&flags.get::<String>("loads")?)?;
    let failovers: usize = flags.get("failovers")?;
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
            let mut cluster = LocalCluster::start(&program, &[NODE_MODE], 3, &folder, false)?;
            let mut throughputs = Vec::new();
            for &load in &loads {
                throughputs.push((
                    load,
                    process_throughput(&cluster, messages, load, seed).await?,
                ));
            }
            let failover_times = failover(&mut cluster, failovers, seed).await?;
            Ok::<_, Box<dyn std::error::Error>>((throughputs, failover_times))
        })
    });
    let (throughputs, failover_times) = match measured {
        Ok(measured) => measured?,
        Err(exercise) => {
            println!("The processes cannot run yet: {exercise}. Add --features solution.");
            return Ok(());
        }
    };
    let _ = std::fs::remove_dir_all(&folder);
    let mut table = Table::new(["3 processes on loopback", "value"]);
    for ((producers, consumers), took) in throughputs {
        let per_second = messages as f64 / took.as_secs_f64();
        let load = format!("{producers} producers, {consumers} consumers");
        chart.bar(format!("3 processes: {load}"), per_second);
        table.row([
            format!("{messages} messages sent, received, deleted: {load}"),
            format!("{:.2} s, {per_second:.0}/s", took.as_secs_f64()),
        ]);
    }
    if !failover_times.is_empty() {
        let percentiles = Percentiles::of(failover_times.clone());
        table.row([
            format!(
                "failover, kill to first commit (p50 of {})",
                failover_times.len()
            ),
            format!("{} ms", percentiles.p50.as_millis()),
        ]);
        table.row([
            "failover, max".to_string(),
            format!("{} ms", percentiles.max.as_millis()),
        ]);
    }
    println!("\n{table}");
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "measure: the replicated queue's throughput, seed {seed}"
        ));
        picture.add("messages per second of real time", chart);
        picture
    })?;
    Ok(())
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
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Some((leader, term)) =
            leader_of(&reports(transport, nodes, Duration::from_millis(100)).await)
            && term > after
        {
            return Ok((leader, term));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err("no leader within 10 s".into())
}

/// `producers` clients send `messages` in batches of ten while `consumers`
/// clients receive and delete them; returns the time from the first send
/// to the last delete.
async fn process_throughput(
    cluster: &LocalCluster,
    messages: usize,
    (producers, consumers): (u64, u64),
    seed: Seed,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let settings = eager()?;
    let transport = TcpTransport::new(cluster.addresses());
    let nodes = cluster.nodes();
    leader_after(&transport, &nodes, Term::ZERO).await?;
    let deleted = Arc::new(Mutex::new(BTreeSet::new()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for producer in 0..producers {
        let mut client =
            QueueClient::new(transport.clone(), &nodes, settings, seed.derive(producer))?;
        let share: Vec<u64> = (0..messages as u64)
            .filter(|n| n % producers == producer)
            .collect();
        tasks.spawn(async move {
            for batch in share.chunks(10) {
                let batch = batch
                    .iter()
                    .map(|n| NewMessage {
                        body: format!("message-{n}"),
                        deduplication_id: None,
                    })
                    .collect();
                client
                    .send(batch)
                    .await
                    .map_err(|error| error.to_string())?;
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
    Ok(started.elapsed())
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
    let mut client = QueueClient::new(transport.clone(), &nodes, eager()?, seed.derive(99))?;
    let probe = || {
        vec![NewMessage {
            body: "probe".to_string(),
            deduplication_id: None,
        }]
    };
    let mut times = Vec::new();
    let mut term = Term::ZERO;
    for _ in 0..runs {
        let (leader, current) = leader_after(&transport, &nodes, term).await?;
        term = current;
        // The client has found the leader and is sending when it dies.
        client.send(probe()).await?;
        cluster.kill(leader)?;
        let killed_at = Instant::now();
        client.send(probe()).await?;
        times.push(killed_at.elapsed());
        cluster.restart(leader)?;
        // Let the restarted node catch up before the next kill.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(times)
}

/// Locks the set of deleted messages.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
