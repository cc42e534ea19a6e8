//! Helpers for this workshop's tests and demos.
//!
//! Starting a cluster, finding its leader and checking the safety properties
//! take the same few lines in every test; they live here so each test shows
//! only its scenario and its expectation. The checks explain a failure in the
//! words of the lesson that calls them and print the run's [`Story`].

use std::fmt;
use std::time::Duration;

use coordination::sim::clock;
use coordination::{NodeId, Probability, Seed};

use crate::{
    Belief, Cluster, ClusterConfig, Journal, LEASE_STORE, Leadership, LeaseClient, LeaseElector,
    NodeContext, STORAGE, StorageClient, StoredWrite, Story, Tenure,
};

// This workshop's `sweep()` and `for_each_seed()`, which name it in the
// commands that replay a failing seed.
coordination::seed_sweep!();

/// The story of `cluster`, for a failure message: told only if the
/// message is printed, so passing tests do not pay for it.
pub fn story(cluster: &Cluster) -> StoryOf<'_> {
    StoryOf {
        cluster,
        since: Duration::ZERO,
    }
}

/// A story not told yet; see [`story`].
#[derive(Debug, Clone, Copy)]
pub struct StoryOf<'a> {
    /// Whose story.
    cluster: &'a Cluster,
    /// From when on.
    since: Duration,
}

impl StoryOf<'_> {
    /// Only the chapters from `from` on (see [`Story::since`]).
    pub fn since(self, from: Duration) -> Self {
        Self {
            since: from,
            ..self
        }
    }
}

impl fmt::Display for StoryOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Story::of(self.cluster).since(self.since).fmt(f)
    }
}

/// The node with id `raw`.
pub const fn node(raw: u32) -> NodeId {
    NodeId::new(raw)
}

/// Seconds, for short test lines.
pub const fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// Milliseconds, for short test lines.
pub const fn millis(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A probability written in a test.
///
/// # Panics
/// When `value` is not in `0.0..=1.0`: test set-up is wrong.
pub fn rate(value: f64) -> Probability {
    Probability::new(value).expect("a rate written in a test is between 0 and 1")
}

/// The longest one-way trip of an ordinary message under `config`'s
/// network conditions (10 ms on the reliable network), held-back messages
/// aside.
pub fn longest_trip(config: &ClusterConfig) -> Duration {
    config.conditions.latency.longest()
}

/// How long after a leader crashes a new leader holds the lease, at the
/// latest, when no message is lost or held back: the crashed leader's lease
/// runs out within one lease duration (plus one trip, for a renewal already
/// on its way), and the next try after that comes within one retry period
/// (plus a refused try's round trip, and its own trip to the store).
pub fn failover_bound(config: &ClusterConfig) -> Duration {
    config.election.lease_duration() + config.election.retry_period() + 4 * longest_trip(config)
}

/// Starts a cluster whose candidates run `program`.
///
/// # Panics
/// When the configuration is refused: test set-up is wrong.
pub fn start<R, F>(seed: Seed, config: ClusterConfig, program: R) -> Cluster
where
    R: Fn(NodeContext) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    Cluster::start(seed, config, program).expect("a test cluster has at least one candidate")
}

/// What a candidate's program gets, for a node `id` added to `cluster`'s
/// network that is not one of its candidates: a misconfigured process.
/// The lease store refuses it, no leader sends it heartbeats, and its
/// beliefs go to a journal of its own.
///
/// # Panics
/// When `id` is already on the network: test set-up is wrong.
pub fn stranger(cluster: &Cluster, id: NodeId) -> NodeContext {
    let (node, inbox) = cluster
        .network()
        .add_node(id)
        .expect("a stranger's id is not on the network yet");
    let config = *cluster.config();
    NodeContext {
        peers: cluster.candidates(),
        lease: LeaseClient::new(node.clone(), LEASE_STORE, config.call_timeout),
        storage: StorageClient::new(node.clone(), STORAGE, config.call_timeout),
        leadership: Leadership::new(id, Journal::new()),
        config,
        inbox,
        node,
    }
}

/// The program of exercise 3.1 alone: every candidate runs Kubernetes' loop,
/// asking for the lease every retry period until it gets it.
pub async fn elect_by_polling(context: NodeContext) {
    LeaseElector::new(context.lease, context.config.election)
        .run(&context.leadership)
        .await;
}

/// Runs `cluster` until some candidate believes it leads, for at most a
/// minute, and returns it.
///
/// # Panics
/// When nobody leads after a minute, in the words of `lesson`.
pub async fn first_leader(cluster: &Cluster, lesson: &str) -> NodeId {
    let elected = cluster
        .run_until(Duration::from_secs(60), |cluster| {
            !cluster.leaders().is_empty()
        })
        .await;
    assert!(
        elected,
        "{lesson}: nobody believes it leads after a minute of simulated time. Did the lease \
         store grant the lease to anyone (see below), and does the code that holds it tell \
         `leadership.lead`?\n{}",
        Story::of(cluster)
    );
    cluster.leaders()[0]
}

/// When the lease store next granted the lease to a node other than `old`,
/// at `since` or later.
pub fn next_grant(cluster: &Cluster, old: NodeId, since: Duration) -> Option<Duration> {
    cluster
        .lease_store()
        .tenures()
        .into_iter()
        .find(|tenure| tenure.holder != old && tenure.from >= since)
        .map(|tenure| tenure.from)
}

/// A failover, timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failover {
    /// When the leader crashed.
    pub crashed_at: Duration,
    /// How long after the crash another node was granted the lease; `None`
    /// if none was within the bound and five seconds more.
    pub took: Option<Duration>,
}

/// Crashes `leader` at a moment of its renewal cycle that `seed` picks (the
/// failover time depends on how long ago it last renewed), and runs until
/// another node holds the lease, or the failover bound and five seconds
/// have passed.
///
/// # Panics
/// When `leader` is not a running candidate: test set-up is wrong.
pub async fn crash_and_time_failover(cluster: &Cluster, leader: NodeId, seed: Seed) -> Failover {
    let cycle = cluster.config().election.retry_period();
    let offset = seed.derive(CRASH_STREAM).value() % cycle.as_millis().max(1) as u64;
    cluster.run_for(Duration::from_millis(offset)).await;
    let crashed_at = clock::elapsed();
    cluster
        .crash(leader)
        .expect("the leader is a running candidate");
    let patience = failover_bound(cluster.config()) + Duration::from_secs(5);
    cluster
        .run_until(patience, |cluster| {
            next_grant(cluster, leader, crashed_at).is_some()
        })
        .await;
    Failover {
        crashed_at,
        took: next_grant(cluster, leader, crashed_at).map(|at| at - crashed_at),
    }
}

/// Names the crash moment's stream among a run's derived seeds.
const CRASH_STREAM: u64 = 0xC2A5;

/// The garbage-collection pause of Kleppmann's example: runs until
/// `leader` has had one more write accepted, lets it start preparing its
/// next entry (its leadership checked), pauses it for `pause`, and resumes
/// it. Returns the instant it resumed.
///
/// # Panics
/// When `leader` writes nothing for 10 s, in the words of `lesson`.
pub async fn pause_mid_entry(
    cluster: &Cluster,
    leader: NodeId,
    pause: Duration,
    lesson: &str,
) -> Duration {
    let written = writes_by(cluster, leader).len();
    let wrote_again = cluster
        .run_until(Duration::from_secs(10), |cluster| {
            writes_by(cluster, leader).len() > written
        })
        .await;
    assert!(
        wrote_again,
        "{lesson}: {leader} leads but wrote nothing to storage for 10 s. While \
         `leadership.token()` is Some, prepare an entry (`node.sleep(work_time)`) and write it \
         with `storage.write(Some(token), entry)`.\n{}",
        Story::of(cluster)
    );
    // The write was accepted at most one check of `run_until` ago, and its
    // acknowledgement takes at most one trip back; then the leader checks its
    // leadership and starts preparing the next entry, which takes `work_time`
    // (half a second by default), far longer than these few milliseconds.
    cluster.run_for(2 * longest_trip(cluster.config())).await;
    cluster
        .network()
        .pause(leader)
        .expect("the leader is running");
    cluster.run_for(pause).await;
    cluster
        .network()
        .resume(leader)
        .expect("the leader was paused");
    clock::elapsed()
}

/// Checks the store's side of safety: at no instant did two nodes hold
/// unexpired leases.
///
/// # Panics
/// Naming the two overlapping leases, in the words of `lesson`.
#[track_caller]
pub fn assert_one_lease_holder_at_a_time(cluster: &Cluster, lesson: &str) {
    let tenures = cluster.lease_store().tenures();
    for (earlier, later) in tenures.iter().zip(tenures.iter().skip(1)) {
        assert!(
            later.from >= earlier.until,
            "{lesson}: {} and {} held the lease at the same time.\n{}",
            describe_tenure(earlier),
            describe_tenure(later),
            Story::of(cluster)
        );
    }
}

/// Checks the nodes' side of safety: at no instant did two nodes believe
/// they led, and no node believed it led outside its own lease.
///
/// # Panics
/// Naming the overlapping beliefs, or the belief outside its lease, in the
/// words of `lesson`.
#[track_caller]
pub fn assert_one_believer_at_a_time(cluster: &Cluster, lesson: &str) {
    let beliefs = cluster.journal().beliefs();
    for (index, first) in beliefs.iter().enumerate() {
        for second in &beliefs[index + 1..] {
            let apart = second.from >= first.until || first.from >= second.until;
            assert!(
                first.node == second.node || apart,
                "{lesson}: {} and {} overlap: two nodes believed they led at once.\n{}",
                describe_belief(first),
                describe_belief(second),
                Story::of(cluster)
            );
        }
    }
    let tenures = cluster.lease_store().tenures();
    for belief in &beliefs {
        let within = tenures.iter().any(|tenure| {
            tenure.holder == belief.node
                && tenure.token == belief.token
                && tenure.from <= belief.from
                && belief.until <= tenure.until
        });
        assert!(
            within,
            "{lesson}: {} is not inside {}'s lease under {}: a leader must stop believing \
             before the store could give its lease away.\nLeases: {tenures:?}\n{}",
            describe_belief(belief),
            belief.node,
            belief.token,
            Story::of(cluster)
        );
    }
}

/// Checks storage's side of safety: it never accepted a write whose token
/// was lower than one it had accepted before.
///
/// # Panics
/// Naming the stale write, in the words of `lesson`.
#[track_caller]
pub fn assert_tokens_never_go_back(cluster: &Cluster, lesson: &str) {
    let storage = cluster.storage();
    let mut highest = None;
    for write in storage.accepted() {
        if let (Some(highest), Some(token)) = (highest, write.token) {
            assert!(
                token >= highest,
                "{lesson}: storage accepted entry {} from {} with {token} after it had accepted \
                 {highest}: a stale leader's write got through.\n{}",
                write.entry,
                write.writer,
                Story::of(cluster)
            );
        }
        highest = highest.max(write.token);
    }
}

/// The writes storage accepted from `writer`, in log order.
pub fn writes_by(cluster: &Cluster, writer: NodeId) -> Vec<StoredWrite> {
    cluster
        .storage()
        .accepted()
        .iter()
        .filter(|write| write.writer == writer)
        .copied()
        .collect()
}

fn describe_tenure(tenure: &Tenure) -> String {
    format!(
        "{}'s lease under {} (from {:.3}s to {:.3}s)",
        tenure.holder,
        tenure.token,
        tenure.from.as_secs_f64(),
        tenure.until.as_secs_f64()
    )
}

fn describe_belief(belief: &Belief) -> String {
    format!(
        "{}'s belief under {} (from {:.3}s to {:.3}s)",
        belief.node,
        belief.token,
        belief.from.as_secs_f64(),
        belief.until.as_secs_f64()
    )
}
