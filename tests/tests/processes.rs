//! The replicated queue as three operating-system processes on loopback
//! TCP: the leader's process is killed, a new leader takes over, and no
//! message the queue acknowledged is lost.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use capstone::net::watch::{leader_of, reports};
use capstone::net::{LocalCluster, TcpTransport};
use capstone::testing::exam;
use capstone::{ClientSettings, NewMessage, QueueClient};
use coordination::{NodeId, Seed};
use tokio::time::Instant;
use workshop4::Term;

/// The whole test's limit: it never hangs, whatever the nodes do.
const LIMIT: Duration = Duration::from_secs(30);

/// How long the test waits for a leader.
const ELECTION_LIMIT: Duration = Duration::from_secs(10);

/// A folder of this run's own, so two runs never share journals.
fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()))
}

/// Waits until a node leads a term newer than `after`, failing with the
/// reason when a node process died on its own (an unfinished exercise).
async fn wait_for_leader(
    cluster: &mut LocalCluster,
    transport: &TcpTransport,
    after: Term,
) -> (NodeId, Term) {
    let started = Instant::now();
    loop {
        for node in cluster.nodes() {
            if let Some(failure) = cluster.failure(node) {
                panic!("the capstone's node processes run your workshops' code, and {failure}");
            }
        }
        let seen = reports(transport, &cluster.nodes(), Duration::from_millis(200)).await;
        if let Some((leader, term)) = leader_of(&seen)
            && term > after
        {
            return (leader, term);
        }
        assert!(
            started.elapsed() < ELECTION_LIMIT,
            "no node became leader of a term after {after} within {ELECTION_LIMIT:?}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `count` messages named `{prefix}-N`, ten at a time, and returns
/// the ones the queue acknowledged.
async fn send(client: &mut QueueClient<TcpTransport>, prefix: &str, count: usize) -> Vec<String> {
    let bodies: Vec<String> = (1..=count).map(|n| format!("{prefix}-{n}")).collect();
    for batch in bodies.chunks(10) {
        let messages = batch
            .iter()
            .map(|body| NewMessage {
                body: body.clone(),
                deduplication_id: None,
            })
            .collect();
        client
            .send(messages)
            .await
            .unwrap_or_else(|error| panic!("a send through a live majority failed: {error}"));
    }
    bodies
}

/// The leader's process is killed mid-run: a new leader is elected, takes
/// new messages, and every message acknowledged before or after the kill
/// is received; the killed node comes back from its journal and catches up.
#[test]
fn killing_the_leader_process_loses_no_acknowledged_message() {
    exam(killing_the_leader_process);
}

fn killing_the_leader_process() {
    let mut cluster = LocalCluster::start(
        Path::new(env!("CARGO_BIN_EXE_queue-node")),
        &[],
        3,
        &folder("leader-killed"),
        true,
    )
    .expect("three node processes start on free ports");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime builds while the machine has memory");
    let scenario = async {
        let transport = TcpTransport::new(cluster.addresses());
        let nodes = cluster.nodes();
        let settings = ClientSettings::standard().expect("Workshop 1's backoff policy is finished");
        let mut producer = QueueClient::new(transport.clone(), &nodes, settings, Seed::new(1))
            .expect("three members");
        let (first_leader, first_term) =
            wait_for_leader(&mut cluster, &transport, Term::ZERO).await;
        let mut acknowledged = send(&mut producer, "before", 200).await;

        cluster
            .kill(first_leader)
            .expect("the leader is one of the nodes");
        let (second_leader, _) = wait_for_leader(&mut cluster, &transport, first_term).await;
        assert_ne!(
            second_leader, first_leader,
            "the killed node cannot lead: a new leader must take over"
        );
        acknowledged.extend(send(&mut producer, "after", 100).await);
        cluster
            .restart(first_leader)
            .expect("the killed node starts again from its journal");

        let mut consumer = QueueClient::new(transport.clone(), &nodes, settings, Seed::new(2))
            .expect("three members");
        let mut received = BTreeSet::new();
        while received.len() < acknowledged.len() {
            let messages = consumer
                .receive(10, None)
                .await
                .expect("receives through a live majority succeed");
            if messages.is_empty() {
                let missing: Vec<&String> = acknowledged
                    .iter()
                    .filter(|body| !received.contains(*body))
                    .take(10)
                    .collect();
                panic!(
                    "the queue is empty, but {} acknowledged messages were never received, \
                     such as {missing:?}: acknowledged messages were lost",
                    acknowledged.len() - received.len()
                );
            }
            for message in messages {
                consumer
                    .delete(message.receipt)
                    .await
                    .expect("a fresh receipt deletes its message");
                received.insert(message.body);
            }
        }
        assert_eq!(
            received.len(),
            acknowledged.len(),
            "every acknowledged message is received once"
        );

        // The restarted node replays its journal and catches up with the
        // new leader's log.
        let started = Instant::now();
        loop {
            let seen = reports(&transport, &[first_leader], Duration::from_millis(200)).await;
            if seen
                .get(&first_leader)
                .is_some_and(|report| report.attributes.sent == acknowledged.len() as u64)
            {
                break;
            }
            assert!(
                started.elapsed() < ELECTION_LIMIT,
                "{first_leader} did not catch up after its restart: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // The limit's timer needs the runtime, so it is made inside it.
    let finished = runtime.block_on(async { tokio::time::timeout(LIMIT, scenario).await });
    assert!(
        finished.is_ok(),
        "the process test did not finish within {LIMIT:?}; the node logs are in {}",
        cluster.folder().display()
    );
    // Passed: the journals and logs are of no more use. (A failure keeps
    // them for reading.)
    let folder = cluster.folder().to_path_buf();
    drop(cluster);
    let _ = std::fs::remove_dir_all(folder);
}
