//! Test support for trials of real node processes: a cluster with a client's
//! view of it, and the checks the process and fault tests share.
//!
//! Every wait here has a limit and fails with what it saw; every check
//! speaks of acknowledged messages, the queue's promise. The helpers panic,
//! as assertions do, with a message meant for the person reading the test's
//! output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use coordination::{NodeId, Seed};
use tokio::time::Instant;
use workshop4::Term;

use super::watch::{reports, wait_for_leader};
use super::{LocalCluster, NodeProcessOptions, TcpTransport};
use crate::{ClientSettings, NewMessage, NodeReport, QueueClient};

/// How long a trial waits for a leader, or for the nodes to agree.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// A cluster of node processes and a transport to it.
#[derive(Debug)]
pub struct Trial {
    /// The node processes.
    pub cluster: LocalCluster,
    /// The way in, for clients and reports.
    pub transport: TcpTransport,
}

/// What a process holds in memory, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident: what it takes of the machine's memory (`VmRSS`), in KiB.
    pub resident_kib: u64,
    /// Its address space (`VmSize`), in KiB: what reserved buffers count
    /// against, touched or not.
    pub address_space_kib: u64,
}

impl Trial {
    /// Starts `count` nodes of `program` in `folder`.
    ///
    /// # Panics
    /// When the nodes cannot be started.
    pub fn start(program: &Path, count: u32, folder: &Path, options: NodeProcessOptions) -> Self {
        let cluster = LocalCluster::start_with(program, &[], count, folder, options)
            .unwrap_or_else(|error| panic!("the node processes must start: {error}"));
        let transport = TcpTransport::new(cluster.addresses());
        Self { cluster, transport }
    }

    /// A client of its own, its random choices drawn from `seed`.
    ///
    /// # Panics
    /// When Workshop 1's backoff policy is not finished.
    pub fn client(&self, seed: u64) -> QueueClient<TcpTransport> {
        let settings = ClientSettings::standard().expect("Workshop 1's backoff policy is finished");
        QueueClient::new(
            self.transport.clone(),
            &self.cluster.nodes(),
            settings,
            Seed::new(seed),
        )
        .expect("a cluster has members")
    }

    /// Panics with the reason if a node process stopped on its own.
    pub fn assert_no_node_died(&mut self) {
        for node in self.cluster.nodes() {
            if let Some(failure) = self.cluster.failure(node) {
                panic!("the capstone's node processes run your workshops' code, and {failure}");
            }
        }
    }

    /// Waits until a node leads a term newer than `after`.
    ///
    /// # Panics
    /// When a node died on its own, or none leads within [`SETTLE_LIMIT`].
    pub async fn leader(&mut self, after: Term) -> (NodeId, Term) {
        let started = Instant::now();
        let nodes = self.cluster.nodes();
        loop {
            self.assert_no_node_died();
            let found =
                wait_for_leader(&self.transport, &nodes, after, Duration::from_millis(250)).await;
            if let Some(found) = found {
                return found;
            }
            if started.elapsed() >= SETTLE_LIMIT {
                let seen = reports(&self.transport, &nodes, Duration::from_millis(200)).await;
                panic!(
                    "no node became leader of a term after {after} within {SETTLE_LIMIT:?}:\n{}",
                    describe(&seen)
                );
            }
        }
    }

    /// Waits until every node in `nodes` reports the same log, commit index
    /// and queue, and returns the reports.
    ///
    /// # Panics
    /// When they do not agree within [`SETTLE_LIMIT`]: a replica that
    /// silently diverged, or one that never catches up.
    pub async fn converged(&mut self, nodes: &[NodeId]) -> BTreeMap<NodeId, NodeReport> {
        let started = Instant::now();
        loop {
            self.assert_no_node_died();
            let seen = reports(&self.transport, nodes, Duration::from_millis(200)).await;
            let agreed = seen.len() == nodes.len()
                && seen.values().all(|report| {
                    seen.values().all(|other| {
                        (report.log_length, report.commit_index, report.attributes)
                            == (other.log_length, other.commit_index, other.attributes)
                    })
                });
            if agreed {
                return seen;
            }
            assert!(
                started.elapsed() < SETTLE_LIMIT,
                "the replicas did not agree within {SETTLE_LIMIT:?}; their logs, commit \
                 indexes and queues were:\n{}",
                describe(&seen)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What `node`'s process holds in memory now, if it runs.
    pub fn memory(&mut self, node: NodeId) -> Option<Memory> {
        let pid = self.cluster.pid(node)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
        };
        Some(Memory {
            resident_kib: field("VmRSS:")?,
            address_space_kib: field("VmSize:")?,
        })
    }

    /// Stops every node and removes the folder: for a trial that passed (a
    /// failed one keeps its journals and logs for reading).
    pub fn finish(self) {
        let folder = self.cluster.folder().to_path_buf();
        drop(self.cluster);
        let _ = std::fs::remove_dir_all(folder);
    }
}

/// One line per node: role, term, log, commit index, queue.
fn describe(reports: &BTreeMap<NodeId, NodeReport>) -> String {
    reports
        .values()
        .map(|report| {
            format!(
                "  {}: {:?} of term {}, log {}, commit {}, queue {:?}",
                report.node,
                report.role,
                report.term,
                report.log_length,
                report.commit_index,
                report.attributes
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sends `count` messages named `{prefix}-N`, `batch` at a time, and returns
/// the ones the queue acknowledged. A send that fails is not acknowledged,
/// and is left out; the client's own retries make a later success safe.
pub async fn send_numbered(
    client: &mut QueueClient<TcpTransport>,
    prefix: &str,
    count: usize,
    batch: usize,
) -> Vec<String> {
    let bodies: Vec<String> = (1..=count).map(|n| format!("{prefix}-{n}")).collect();
    let mut acknowledged = Vec::new();
    for chunk in bodies.chunks(batch.max(1)) {
        let messages = chunk
            .iter()
            .map(|body| NewMessage {
                body: body.clone(),
                deduplication_id: None,
            })
            .collect();
        if client.send(messages).await.is_ok() {
            acknowledged.extend_from_slice(chunk);
        }
    }
    acknowledged
}

/// Receives and deletes every message in the queue, and checks that every
/// one of `acknowledged` was among them.
///
/// # Panics
/// When the queue runs dry with acknowledged messages missing: they were
/// lost.
pub async fn receive_every(
    client: &mut QueueClient<TcpTransport>,
    acknowledged: &[String],
) -> BTreeSet<String> {
    let wanted: BTreeSet<&String> = acknowledged.iter().collect();
    let mut received = BTreeSet::new();
    while !wanted.iter().all(|body| received.contains(*body)) {
        let messages = client
            .receive(10, None)
            .await
            .unwrap_or_else(|error| panic!("a receive through a live majority failed: {error}"));
        if messages.is_empty() {
            let missing: Vec<&&String> = wanted
                .iter()
                .filter(|body| !received.contains(**body))
                .collect();
            panic!(
                "the queue is empty, but {} of {} acknowledged messages were never received, \
                 such as {:?}: acknowledged messages were lost",
                missing.len(),
                wanted.len(),
                &missing[..missing.len().min(10)]
            );
        }
        for message in messages {
            client
                .delete(message.receipt)
                .await
                .unwrap_or_else(|error| panic!("a fresh receipt must delete: {error}"));
            received.insert(message.body);
        }
    }
    received
}
