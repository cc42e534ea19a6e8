//! The queue's node processes under the faults an operator and an attacker
//! bring: torn and rotten journals, kill -9 under load, slow readers,
//! floods of headers and connections, a process out of file descriptors.
//!
//! Each trial runs three real `queue-node` processes on loopback, holds them
//! to the queue's promise (every acknowledged message is received, checked
//! against what the producers were told), and reads the nodes' memory from
//! `/proc` while they are attacked. Every trial is bounded in time, and its
//! processes are killed when it ends, passed or failed.
//!
//! `cargo test -p capstone --test faults`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use capstone::net::frame::{Frame, MAX_CLIENT_FRAME, MAX_FRAME, framed};
use capstone::net::trial::{Memory, Trial, receive_every, send_numbered};
use capstone::net::{Durability, NodeProcessOptions};
use capstone::testing::exam;
use coordination::{NodeId, Seed};
use rand::RngExt;
use workshop4::Term;

/// Each trial's limit: it never hangs, whatever the nodes do.
const LIMIT: Duration = Duration::from_secs(45);

/// How much more memory an attacked node may hold than before the attack.
/// A node at rest holds a few MiB; the attacks below cost gigabytes when
/// buffers follow what a peer claims.
const MEMORY_BUDGET_KIB: u64 = 32 * 1024;

/// The node program under trial.
fn program() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_queue-node"))
}

/// A folder of this trial's own.
fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-{name}-{}", std::process::id()))
}

/// Runs `trial` on a runtime of its own, within [`LIMIT`], as part of the
/// capstone's exam (an unfinished exercise is named, not a backtrace).
fn run(trial: impl std::future::Future<Output = ()>) {
    exam(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime builds while the machine has memory");
        let finished = runtime.block_on(async { tokio::time::timeout(LIMIT, trial).await });
        assert!(
            finished.is_ok(),
            "the trial did not finish within {LIMIT:?}"
        );
    });
}

/// Nodes as deployed, with connections that go idle in a second, so that
/// the attacks' connections are closed within the trial.
fn quick_options() -> NodeProcessOptions {
    NodeProcessOptions {
        extra_flags: ["--idle-timeout-ms", "1000", "--max-clients", "32"]
            .map(String::from)
            .to_vec(),
        ..NodeProcessOptions::synced()
    }
}

/// A follower of `leader` among `nodes`.
fn follower_of(leader: NodeId, nodes: &[NodeId]) -> NodeId {
    *nodes
        .iter()
        .find(|&&node| node != leader)
        .expect("three nodes")
}

/// Asserts that `after` is within the budget of `before`.
fn assert_bounded(what: &str, before: Memory, after: Memory) {
    eprintln!(
        "{what}: resident {} -> {} KiB, address space {} -> {} KiB",
        before.resident_kib, after.resident_kib, before.address_space_kib, after.address_space_kib
    );
    for (name, was, is) in [
        ("resident memory", before.resident_kib, after.resident_kib),
        (
            "address space",
            before.address_space_kib,
            after.address_space_kib,
        ),
    ] {
        assert!(
            is <= was + MEMORY_BUDGET_KIB,
            "{what}: the node's {name} grew from {was} KiB to {is} KiB, more than \
             {MEMORY_BUDGET_KIB} KiB: a buffer follows what a client sends or claims"
        );
    }
}

/// A follower killed after a load whose journal lost its last bytes (a torn
/// write) comes back, catches up with nothing more sent (the leader's
/// heartbeats must be enough), and agrees with the others: it never
/// commits past what it holds, and the leader backs up to what it has.
#[test]
fn a_torn_journal_tail_is_cut_and_the_follower_catches_up() {
    run(async {
        let mut trial = Trial::start(program(), 3, &folder("torn"), NodeProcessOptions::synced());
        let nodes = trial.cluster.nodes();
        let (leader, _) = trial.leader(Term::ZERO).await;
        let follower = follower_of(leader, &nodes);
        let mut producer = trial.client(1);
        let mut acknowledged = send_numbered(&mut producer, "before", 100, 10).await;
        trial.cluster.kill(follower).expect("a member");
        let journal = trial.cluster.journal_path(follower);
        let length = std::fs::metadata(&journal).expect("a journal").len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&journal)
            .and_then(|file| file.set_len(length - 3))
            .expect("the journal can be cut");
        trial
            .cluster
            .restart(follower)
            .expect("a torn journal opens");
        assert!(
            trial
                .cluster
                .log(follower)
                .contains("cut a torn last record"),
            "the node must say what it cut: {}",
            trial.cluster.log(follower)
        );
        // Nothing more is sent: the follower must catch up all the same.
        trial.converged(&nodes).await;
        acknowledged.extend(send_numbered(&mut producer, "after", 50, 10).await);
        trial.converged(&nodes).await;
        receive_every(&mut trial.client(2), &acknowledged).await;
        trial.converged(&nodes).await;
        trial.finish();
    });
}

/// One bit flipped at a random place in a stopped follower's journal: the
/// node either refuses to start (and starts empty once the journal is moved
/// aside, as its message says), or cuts a damaged last record. Either way
/// every acknowledged message survives and the replicas agree.
#[test]
fn a_flipped_bit_in_a_journal_is_refused_or_repaired_never_lost() {
    run(async {
        let mut trial = Trial::start(program(), 3, &folder("flip"), NodeProcessOptions::synced());
        let nodes = trial.cluster.nodes();
        let seed = Seed::new(11);
        let mut rng = seed.rng();
        let mut acknowledged = Vec::new();
        let mut refused = 0;
        for round in 0..3 {
            let (leader, _) = trial.leader(Term::ZERO).await;
            let mut producer = trial.client(round);
            acknowledged
                .extend(send_numbered(&mut producer, &format!("round{round}"), 60, 10).await);
            let follower = follower_of(leader, &nodes);
            trial.cluster.kill(follower).expect("a member");
            let journal = trial.cluster.journal_path(follower);
            let mut bytes = std::fs::read(&journal).expect("a journal");
            let bit = rng.random_range(0..bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
            std::fs::write(&journal, &bytes).expect("the journal is writable");
            if let Err(error) = trial.cluster.restart(follower) {
                let log = trial.cluster.log(follower);
                assert!(
                    log.contains("corrupt") || log.contains("not a node's journal"),
                    "seed {seed}, round {round}, bit {bit}: a refused journal must say why ({error}): {log}"
                );
                refused += 1;
                std::fs::rename(&journal, journal.with_extension("corrupt"))
                    .expect("the journal can be moved aside");
                trial
                    .cluster
                    .restart(follower)
                    .expect("a node with its journal moved aside starts empty");
            }
            acknowledged
                .extend(send_numbered(&mut producer, &format!("round{round}-after"), 20, 10).await);
            trial.converged(&nodes).await;
        }
        receive_every(&mut trial.client(9), &acknowledged).await;
        trial.converged(&nodes).await;
        eprintln!("bit flips: {refused} of 3 refused, the rest cut as a torn end");
        trial.finish();
    });
}

/// Every node killed with SIGKILL in the middle of a load, then restarted:
/// every message the producers were told was sent is received. Nothing is
/// acknowledged before it is in a majority's journal.
#[test]
fn kill_nine_under_load_loses_no_acknowledged_message() {
    run(async {
        let mut trial = Trial::start(program(), 3, &folder("kill"), NodeProcessOptions::synced());
        let nodes = trial.cluster.nodes();
        trial.leader(Term::ZERO).await;
        let producers: Vec<_> = (0..4)
            .map(|producer| {
                let mut client = trial.client(producer);
                tokio::spawn(async move {
                    send_numbered(&mut client, &format!("p{producer}"), 150, 5).await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        for &node in &nodes {
            trial.cluster.kill(node).expect("a member");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        for &node in &nodes {
            trial
                .cluster
                .restart(node)
                .expect("a killed node starts again");
        }
        let mut acknowledged = Vec::new();
        for producer in producers {
            acknowledged.extend(producer.await.expect("a producer does not panic"));
        }
        assert!(
            acknowledged.len() >= 300,
            "the producers should get most sends through around the restart, got {}",
            acknowledged.len()
        );
        receive_every(&mut trial.client(9), &acknowledged).await;
        trial.converged(&nodes).await;
        trial.finish();
    });
}

/// A client that sends requests and never reads the answers: the node stops
/// reading it once its answers pile up, holds no more memory for it, and
/// serves everyone else.
#[test]
fn a_client_that_never_reads_costs_a_bounded_amount() {
    run(async {
        let mut trial = Trial::start(program(), 3, &folder("slow"), quick_options());
        let (leader, _) = trial.leader(Term::ZERO).await;
        let before = trial.memory(leader).expect("the leader runs");
        let address = trial.cluster.addresses()[&leader];
        let attack = tokio::task::spawn_blocking(move || never_read(address));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let during = trial.memory(leader).expect("the leader runs");
        assert_bounded("a client that never reads", before, during);
        let acknowledged = send_numbered(&mut trial.client(1), "others", 20, 10).await;
        assert_eq!(acknowledged.len(), 20, "other clients are served");
        let sent = attack.await.expect("the attack does not panic");
        assert!(
            sent < 64 * 1024 * 1024,
            "the node kept reading a client that never reads ({sent} bytes taken)"
        );
        trial.finish();
    });
}

/// Writes `Report` requests to `address` for a second, never reading;
/// returns how many bytes the node took.
fn never_read(address: SocketAddr) -> usize {
    use capstone::QueueRequest;
    let mut stream = TcpStream::connect(address).expect("the leader listens");
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .expect("a timeout can be set");
    let request: Vec<u8> = (0..64)
        .flat_map(|call| {
            framed(&Frame::Request {
                call,
                request: QueueRequest::Report,
            })
            .expect("a report request has bytes")
        })
        .collect();
    let started = std::time::Instant::now();
    let mut sent = 0;
    while started.elapsed() < Duration::from_secs(1) {
        match stream.write(&request) {
            Ok(written) => sent += written,
            Err(_) => break,
        }
    }
    sent
}

/// Connections that send a frame header announcing the largest frame they
/// may send (4 MiB for a client, 256 MiB for a connection that says it is a
/// peer) and then nothing, or a little: the node's memory grows with what
/// arrives, not with what is announced, and the cluster goes on
/// acknowledging.
#[test]
fn a_flood_of_huge_frame_headers_costs_what_arrives() {
    run(async {
        let mut trial = Trial::start(program(), 3, &folder("headers"), quick_options());
        let (leader, _) = trial.leader(Term::ZERO).await;
        let before = trial.memory(leader).expect("the leader runs");
        let address = trial.cluster.addresses()[&leader];
        let mut held = Vec::new();
        let peer = follower_of(leader, &trial.cluster.nodes());
        for connection in 0..30 {
            let mut stream = TcpStream::connect(address).expect("the leader listens");
            let mut bytes = if connection % 3 == 0 {
                let mut hello = framed(&Frame::Peer(peer)).expect("a greeting has bytes");
                hello.extend(MAX_FRAME.to_be_bytes());
                hello
            } else {
                MAX_CLIENT_FRAME.to_be_bytes().to_vec()
            };
            if connection % 2 == 1 {
                bytes.extend([7; 4096]);
            }
            stream.write_all(&bytes).expect("the header is sent");
            held.push(stream);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let during = trial.memory(leader).expect("the leader runs");
        assert_bounded(
            "30 connections announcing 4 MiB or 256 MiB frames",
            before,
            during,
        );
        let acknowledged = send_numbered(&mut trial.client(1), "during", 20, 10).await;
        assert_eq!(
            acknowledged.len(),
            20,
            "the cluster acknowledges during the flood"
        );
        drop(held);
        trial.finish();
    });
}

/// Far more connections than the node takes: the excess is closed at once
/// and said in the log, the cluster's own members keep their slots, and the
/// idle ones are closed after the idle timeout.
#[test]
fn a_connection_flood_is_capped_and_the_cluster_goes_on() {
    run(async {
        let mut trial = Trial::start(program(), 3, &folder("connections"), quick_options());
        let nodes = trial.cluster.nodes();
        let (leader, _) = trial.leader(Term::ZERO).await;
        let mut producer = trial.client(1);
        let mut acknowledged = send_numbered(&mut producer, "before", 10, 10).await;
        let before = trial.memory(leader).expect("the leader runs");
        let address = trial.cluster.addresses()[&leader];
        let flood: Vec<TcpStream> = (0..200)
            .filter_map(|_| TcpStream::connect(address).ok())
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let closed = flood
            .iter()
            .filter(|stream| is_closed_by_peer(stream))
            .count();
        assert!(
            closed >= 200 - 32,
            "the node takes 32 clients: at least {} of 200 connections must be closed, {closed} were",
            200 - 32
        );
        assert!(
            trial
                .cluster
                .log(leader)
                .contains("client connections are open, the limit"),
            "the node must say it refused connections: {}",
            trial.cluster.log(leader)
        );
        let during = trial.memory(leader).expect("the leader runs");
        assert_bounded("200 connections", before, during);
        // The producer's connection was open before the flood: it keeps its
        // slot, and the peers theirs, so writes still commit.
        acknowledged.extend(send_numbered(&mut producer, "during", 20, 10).await);
        assert_eq!(
            acknowledged.len(),
            30,
            "the cluster acknowledges during the flood"
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let open = flood
            .iter()
            .filter(|stream| !is_closed_by_peer(stream))
            .count();
        assert_eq!(
            open, 0,
            "idle connections must be closed after the idle timeout"
        );
        drop(flood);
        acknowledged.extend(send_numbered(&mut trial.client(2), "after", 20, 10).await);
        receive_every(&mut trial.client(3), &acknowledged).await;
        trial.converged(&nodes).await;
        trial.finish();
    });
}

/// Whether the other side closed `stream` (a read gives end of file or an
/// error at once).
fn is_closed_by_peer(stream: &TcpStream) -> bool {
    let mut byte = [0; 1];
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("a timeout can be set");
    let mut reading = stream;
    match reading.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => !matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// Nodes that may open only 64 files: a flood of connections runs one out
/// of descriptors. It says so, keeps listening, and serves again once the
/// flood's connections are closed.
#[test]
fn running_out_of_file_descriptors_is_survived() {
    run(async {
        let options = NodeProcessOptions {
            extra_flags: ["--idle-timeout-ms", "1000"].map(String::from).to_vec(),
            open_files: Some(64),
            durability: Durability::Synced,
        };
        let mut trial = Trial::start(program(), 3, &folder("descriptors"), options);
        let nodes = trial.cluster.nodes();
        let (leader, _) = trial.leader(Term::ZERO).await;
        let address = trial.cluster.addresses()[&leader];
        let flood: Vec<TcpStream> = (0..120)
            .filter_map(|_| TcpStream::connect(address).ok())
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            trial
                .cluster
                .log(leader)
                .contains("cannot accept a connection"),
            "the node must say it could not accept: {}",
            trial.cluster.log(leader)
        );
        drop(flood);
        let acknowledged = send_numbered(&mut trial.client(1), "after", 30, 10).await;
        assert_eq!(
            acknowledged.len(),
            30,
            "the node must serve again once descriptors are free"
        );
        receive_every(&mut trial.client(2), &acknowledged).await;
        trial.converged(&nodes).await;
        trial.finish();
    });
}
