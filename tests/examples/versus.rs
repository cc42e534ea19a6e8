//! Benchmark: the series' own Raft-lite against NATS JetStream, side by
//! side in one run, on one workload.
//!
//! Both deployments are three processes on loopback TCP on this machine:
//! three `queue-node` processes (this program started again in node mode),
//! and three `nats-server` processes with a stream of three replicas. The
//! workload goes through the same code for both, written once against
//! [`QueueService`]: `--producers` clients send `--messages` messages in
//! batches of ten, `--consumers` clients receive ten at a time and delete
//! each one. Printed for each, and as a ratio:
//!
//! - messages per second, from the first send to the last delete;
//! - p50 and p99 latency from the send of a message's batch to its delete
//!   (its effect);
//! - failover time, `--failovers` times: the process that leads (the Raft
//!   leader; the server leading the stream's replicas) is killed with
//!   SIGKILL while a client sends, and the time runs until the first send
//!   acknowledged after it.
//!
//! ```text
//! cargo run --release -p capstone --features solution,jetstream --example versus
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream;
use capstone::jetstream::{
    JetStreamQueue, JetStreamSettings, ServerBinary, ServerCluster, connect, create_queue,
    stream_leader,
};
use capstone::net::process::NODE_MODE;
use capstone::net::watch::time_failovers;
use capstone::net::watch::{leader_of, reports};
use capstone::net::{LocalCluster, TcpTransport};
use capstone::{ClientSettings, NewMessage, QueueClient, QueueService};
use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::metrics::Percentiles;
use coordination::picture::{BarChart, Picture};
use coordination::{NodeId, Seed};
use tokio::time::Instant;
use workshop1::BackoffPolicy;
use workshop4::Term;

const ABOUT: &str = "versus: Raft-lite's three processes against a three-server JetStream cluster";

const MESSAGES: Flag = Flag::value("messages", "5000", "messages through each deployment");
const PRODUCERS: Flag = Flag::value("producers", "4", "clients sending at once");
const CONSUMERS: Flag = Flag::value("consumers", "16", "clients receiving and deleting at once");
const FAILOVERS: Flag = Flag::value("failovers", "3", "leader kills to time, per deployment");
const FLAGS: [Flag; 6] = [SEED, MESSAGES, PRODUCERS, CONSUMERS, FAILOVERS, SVG];

/// What one deployment measured.
#[derive(Debug, Clone)]
struct Measured {
    /// Messages per second, first send to last delete.
    throughput: f64,
    /// Send-to-delete latencies.
    latency: Percentiles,
    /// Kill-to-first-acknowledged-send times.
    failover: Percentiles,
}

fn main() {
    // Started again by itself as one of the Raft-lite nodes: be that node.
    capstone::net::process::serve_if_asked();
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let load = Load {
        messages: flags.get(MESSAGES)?,
        producers: flags.get::<u64>(PRODUCERS)?.max(1),
        consumers: flags.get::<u64>(CONSUMERS)?.max(1),
    };
    let failovers: usize = flags.get(FAILOVERS)?;
    println!(
        "Built {}; {} cores; {} messages, {} producers, {} consumers.\n",
        if cfg!(debug_assertions) {
            "unoptimised (debug)"
        } else {
            "optimised (release)"
        },
        std::thread::available_parallelism().map_or(1, |cores| cores.get()),
        load.messages,
        load.producers,
        load.consumers
    );
    let binary = ServerBinary::find()?;
    let program = std::env::current_exe()?;
    let base = program.parent().unwrap_or(&program).to_path_buf();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let measured = unless_unfinished(|| {
        runtime.block_on(async {
            let raft = raft_lite(
                &program,
                &base.join(format!("versus-raft-{}", std::process::id())),
                load,
                failovers,
                seed,
            )
            .await?;
            let jetstream = jetstream(
                binary.clone(),
                &base.join(format!("versus-jetstream-{}", std::process::id())),
                load,
                failovers,
            )
            .await?;
            Ok::<_, Box<dyn std::error::Error>>((raft, jetstream))
        })
    });
    let (raft, jetstream) = match measured {
        Ok(measured) => measured?,
        Err(exercise) => {
            println!("The Raft-lite nodes cannot run yet: {exercise}. Add --features solution.");
            return Ok(());
        }
    };
    let milliseconds = |duration: Duration| format!("{:.1} ms", duration.as_secs_f64() * 1e3);
    let ratio = |ours: f64, theirs: f64| format!("{:.2}", ours / theirs.max(f64::EPSILON));
    let mut table = Table::new([
        "three processes on loopback",
        "Raft-lite",
        &format!("JetStream {}", binary.version),
        "Raft-lite / JetStream",
    ]);
    table.row([
        "messages per second".to_string(),
        format!("{:.0}", raft.throughput),
        format!("{:.0}", jetstream.throughput),
        ratio(raft.throughput, jetstream.throughput),
    ]);
    for (name, ours, theirs) in [
        (
            "latency, send to delete, p50",
            raft.latency.p50,
            jetstream.latency.p50,
        ),
        (
            "latency, send to delete, p99",
            raft.latency.p99,
            jetstream.latency.p99,
        ),
        (
            "failover, kill to first acknowledged send, p50",
            raft.failover.p50,
            jetstream.failover.p50,
        ),
        ("failover, max", raft.failover.max, jetstream.failover.max),
    ] {
        table.row([
            name.to_string(),
            milliseconds(ours),
            milliseconds(theirs),
            ratio(ours.as_secs_f64(), theirs.as_secs_f64()),
        ]);
    }
    println!("{table}");
    save_picture(flags, || {
        let mut chart = BarChart::new("messages per second of real time");
        chart.bar("Raft-lite, 3 processes", raft.throughput);
        chart.bar("JetStream, 3 servers", jetstream.throughput);
        let mut picture = Picture::new(format!("versus: Raft-lite and JetStream, seed {seed}"));
        picture.add("messages per second of real time", chart);
        picture
    })?;
    Ok(())
}

/// How much work, and how many clients.
#[derive(Debug, Clone, Copy)]
struct Load {
    messages: u64,
    /// Clients sending.
    producers: u64,
    /// Clients receiving and deleting.
    consumers: u64,
}

/// The workload and the failovers on three Raft-lite node processes.
async fn raft_lite(
    program: &Path,
    folder: &Path,
    load: Load,
    failovers: usize,
    seed: Seed,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let mut cluster = LocalCluster::start(program, &[NODE_MODE], 3, folder, false)?;
    let transport = TcpTransport::new(cluster.addresses());
    let nodes = cluster.nodes();
    let settings = ClientSettings {
        call_timeout: Duration::from_millis(200),
        backoff: BackoffPolicy::new(Duration::from_millis(2), Duration::from_millis(20))?,
        give_up_after: Duration::from_secs(30),
    };
    raft_leader_after(&transport, &nodes, Term::ZERO).await?;
    let connect =
        |stream: u64| QueueClient::new(transport.clone(), &nodes, settings, seed.derive(stream));
    let (throughput, latency) = workload(load, &connect).await?;
    let mut client = connect(99)?;
    let times = time_failovers(&mut cluster, &mut client, failovers).await?;
    drop(cluster);
    let _ = std::fs::remove_dir_all(folder);
    Ok(Measured {
        throughput,
        latency,
        failover: Percentiles::of(times),
    })
}

/// The workload and the failovers on three `nats-server` processes.
async fn jetstream(
    binary: ServerBinary,
    folder: &Path,
    load: Load,
    failovers: usize,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let mut cluster = ServerCluster::start(binary, 3, folder)?;
    let context = jetstream::new(connect(&cluster).await?);
    let settings = JetStreamSettings {
        ack_wait: Duration::from_secs(30),
        max_receives: 10,
        replicas: 3,
        duplicate_window: Duration::from_secs(120),
    };
    let (mut stream, _, consumer) =
        create_queue(&context, settings, Duration::from_secs(30)).await?;
    let mut handles = Vec::new();
    for _ in 0..(load.producers + load.consumers + 1) {
        let context = jetstream::new(connect(&cluster).await?);
        handles.push(JetStreamQueue::new(context, consumer.clone(), settings));
    }
    let connect = |stream: u64| {
        usize::try_from(stream)
            .ok()
            .and_then(|index| handles.get(index % handles.len()))
            .cloned()
            .ok_or(coordination::ConfigError::NoWorkers)
    };
    let (throughput, latency) = workload(load, &connect).await?;
    let mut times = Vec::new();
    let mut client = handles.last().cloned().ok_or("no JetStream connection")?;
    for _ in 0..failovers {
        let leader = wait_for_stream_leader(&mut stream).await?;
        let index = cluster
            .index_of(&leader)
            .ok_or("the leader is not one of ours")?;
        client.send(probe()).await?;
        cluster.kill(index)?;
        let killed = Instant::now();
        while client.send(probe()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        times.push(killed.elapsed());
        cluster.restart(index)?;
        // Let the restarted server catch up before the next kill.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(Measured {
        throughput,
        latency,
        failover: Percentiles::of(times),
    })
}

/// One message to send while a leader dies.
fn probe() -> Vec<NewMessage> {
    vec![NewMessage {
        body: "probe".to_string(),
        deduplication_id: None,
    }]
}

/// `load.producers` handles send `load.messages` messages in batches of
/// ten while `load.consumers` handles receive and delete them; returns
/// messages per second (first send to last delete) and the send-to-delete
/// latencies. Handles are made by `connect`: producers get 0.., consumers
/// 1000...
async fn workload<Q: QueueService>(
    load: Load,
    connect: &dyn Fn(u64) -> Result<Q, coordination::ConfigError>,
) -> Result<(f64, Percentiles), Box<dyn std::error::Error>> {
    let sent_at: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for producer in 0..load.producers {
        let mut client = connect(producer)?;
        let share: Vec<u64> = (0..load.messages)
            .filter(|n| n % load.producers == producer)
            .collect();
        let sent_at = Arc::clone(&sent_at);
        tasks.spawn(async move {
            for batch in share.chunks(10) {
                let messages: Vec<NewMessage> = batch
                    .iter()
                    .map(|n| NewMessage {
                        body: format!("message-{n}"),
                        deduplication_id: None,
                    })
                    .collect();
                let now = Instant::now();
                for message in &messages {
                    lock(&sent_at).insert(message.body.clone(), now);
                }
                client
                    .send(messages)
                    .await
                    .map_err(|error| error.to_string())?;
            }
            Ok::<(), String>(())
        });
    }
    for consumer in 0..load.consumers {
        let mut client = connect(1000 + consumer)?;
        let sent_at = Arc::clone(&sent_at);
        let latencies = Arc::clone(&latencies);
        let messages = usize::try_from(load.messages).unwrap_or(usize::MAX);
        tasks.spawn(async move {
            loop {
                if lock(&latencies).len() >= messages {
                    return Ok(());
                }
                let received = client
                    .receive(10)
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
                    if let Some(sent) = lock(&sent_at).remove(&message.body) {
                        lock(&latencies).push(sent.elapsed());
                    }
                }
            }
        });
    }
    while let Some(finished) = tasks.join_next().await {
        finished??;
    }
    let took = started.elapsed();
    let latencies = std::mem::take(&mut *lock(&latencies));
    Ok((
        load.messages as f64 / took.as_secs_f64(),
        Percentiles::of(latencies),
    ))
}

/// Waits until a Raft-lite node leads a term after `after`.
async fn raft_leader_after(
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
    let seen = reports(transport, nodes, Duration::from_millis(100)).await;
    Err(format!("no Raft-lite leader within 10 s: {seen:?}").into())
}

/// Waits until a server leads the stream's replicas.
async fn wait_for_stream_leader(
    stream: &mut async_nats::jetstream::stream::Stream,
) -> Result<String, Box<dyn std::error::Error>> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Some(leader) = stream_leader(stream).await {
            return Ok(leader);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("no server leads the stream within 30 s".into())
}

/// Locks a map or list the clients share.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
