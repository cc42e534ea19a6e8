//! The test harness: a cluster of Raft-lite nodes on the simulated network.
//!
//! ## The problem
//!
//! Raft's bugs show only under failures, in interleavings nobody would think
//! to write down: a leader cut off halfway through replicating, a vote that
//! arrives after the election it was for, a follower that comes back with a
//! log from three terms ago. A test needs a cluster it can cut, heal and make
//! unreliable at will, and checks that say, after any of that, whether Raft's
//! promises held.
//!
//! ## The design
//!
//! [`RaftCluster`] follows the harness of MIT's Raft lab (6.5840,
//! `src/raft/config.go`), which generations of Raft implementations were
//! tested against, with the same verbs: create n nodes, disconnect and
//! connect one, make the network unreliable or reorder it heavily, check
//! that exactly one leader exists and the terms agree, check that none does,
//! count how many nodes committed an index and whether they agree, and
//! [`one`](RaftCluster::one), which submits a command and waits for agreement.
//!
//! It drives the sans-IO nodes itself, in one loop (toydb's and the
//! simulated network's driver style): it takes every message in delivery
//! order from one [`Inboxes`], steps it into its receiver, ticks every running
//! node every [`RaftConfig::tick`], and sends what the nodes produce. There
//! are no tasks and no locks, and simulated time only moves while a check or
//! [`run_for`](RaftCluster::run_for) waits.
//!
//! It watches every entry any node applies: the same index must hold the same
//! command on every node, and each node must apply indexes in order, once.
//! A break of either is a safety violation, reported by every check that
//! follows as [`ClusterError::SafetyViolation`], the way the lab's applier
//! fails a test. So is a commit index that moves back within one life of a
//! node: what is committed stays committed.
//!
//! ## Crashes and disks
//!
//! Raft-lite keeps its term, vote and log in memory only, so the harness
//! plays the disk: [`crash`](RaftCluster::crash) keeps what a node with
//! persistence would have on disk, and [`restart`](RaftCluster::restart)
//! rebuilds the node from it, optionally without the last few entries, as
//! after a power cut that lost writes the disk had acknowledged but not
//! synced. The node's state machine starts empty and applies the log again
//! from index 1, once it learns what is committed. Leaders report followers
//! found to have lost entries; [`lost_entries`](RaftCluster::lost_entries)
//! lists them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use coordination::sim::{
    Envelope, Inboxes, LifecycleStep, MessageCounts, Network, NetworkConditions, NetworkError,
    Node, NodeStatus, clock,
};
use coordination::timeline::{self, Activity, Mark, Outcome, SpanId};
use coordination::{NodeId, Probability, Seed, SimRng};
use rand::RngExt;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::{Command, LogIndex, LostEntries, RaftConfig, RaftMessage, RaftNode, Role, Term};

/// How often the checks look at the cluster while they wait.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// The shortest long delay: the lab's 200 ms.
const LONG_DELAY_MIN: Duration = Duration::from_millis(200);

/// The longest long delay: the lab's 2.2 s.
const LONG_DELAY_MAX: Duration = Duration::from_millis(2_200);

/// How many times [`RaftCluster::check_one_leader`] looks for a leader.
const LEADER_CHECKS: usize = 10;

/// The shortest wait before each look for a leader: the lab's 450 ms.
const SETTLE_MIN: Duration = Duration::from_millis(450);

/// The longest wait before each look for a leader: the lab's 550 ms. Drawn
/// at random in between, so checks do not fall into step with heartbeats.
const SETTLE_MAX: Duration = Duration::from_millis(550);

/// How long [`RaftCluster::one`] keeps trying, over all attempts.
const AGREEMENT_DEADLINE: Duration = Duration::from_secs(10);

/// How long [`RaftCluster::one`] waits for one proposal to be committed.
const ATTEMPT_DEADLINE: Duration = Duration::from_secs(2);

/// What a check of the cluster found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// Two nodes applied different commands at one index, or a node applied
    /// out of order. Raft's core promise is broken.
    #[error("safety violation: {0}")]
    SafetyViolation(String),
    /// Two leaders in one term.
    #[error("{term} has two leaders: {leaders:?}")]
    TwoLeaders {
        /// The term.
        term: Term,
        /// Its leaders.
        leaders: Vec<NodeId>,
    },
    /// No node among those that could elect one became leader in time.
    #[error(
        "no leader among {candidates:?} after {waited:?}; they ended as {}. {}",
        describe_states(states),
        no_leader_advice(states)
    )]
    NoLeader {
        /// The nodes that were up and connected.
        candidates: Vec<NodeId>,
        /// How long the check waited.
        waited: Duration,
        /// Each of them at the end: its role and term.
        states: Vec<(NodeId, Role, Term)>,
    },
    /// A leader exists where none should (without a quorum).
    #[error("{node} leads {term}, but no leader was expected")]
    UnexpectedLeader {
        /// The leader.
        node: NodeId,
        /// Its term.
        term: Term,
    },
    /// Connected nodes disagree on the term once things settled.
    #[error("connected nodes disagree on the term: {terms:?}")]
    TermsDisagree {
        /// Each connected node's term.
        terms: BTreeMap<NodeId, Term>,
    },
    /// A command was not committed by enough nodes in time.
    #[error("{command} was not committed by {expected} nodes within {waited:?} (best: {best})")]
    NoAgreement {
        /// The command, as debug text.
        command: String,
        /// How many nodes had to commit it.
        expected: usize,
        /// The most nodes seen committing it at one index.
        best: usize,
        /// How long it was tried.
        waited: Duration,
    },
    /// The network refused an operation: an unknown node, a node already
    /// crashed.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// `node-1 candidate in term 7, node-2 follower in term 7`.
fn describe_states(states: &[(NodeId, Role, Term)]) -> String {
    let described: Vec<String> = states
        .iter()
        .map(|(node, role, term)| format!("{node} {role} in {term}"))
        .collect();
    described.join(", ")
}

/// What to look at when no leader was elected, from where the nodes ended.
fn no_leader_advice(states: &[(NodeId, Role, Term)]) -> &'static str {
    // Ten looks of about half a second each leave room for a few elections;
    // many more terms than that mean candidates keep standing against each
    // other.
    let highest = states.iter().map(|(_, _, term)| term.get()).max();
    if highest.unwrap_or(0) > 20 {
        "Elections keep colliding: does a node draw a fresh random timeout (restart its \
         election timer) when it stands and when it grants a vote, so that one candidate \
         usually wins before the others wake?"
    } else {
        "Elections are not won: is a vote granted when it is free and the candidate's log is \
         up to date, is each granted vote counted (the candidate's own included) until a \
         majority, and does the winner become leader and send heartbeats at once?"
    }
}

impl ClusterError {
    /// Whether this is a broken safety promise (two leaders in a term,
    /// disagreeing logs) rather than slowness or an unavailable cluster. A
    /// safety violation is never acceptable; the others can be correct
    /// behaviour, for example without a quorum.
    pub fn is_safety_violation(&self) -> bool {
        matches!(self, Self::SafetyViolation(_) | Self::TwoLeaders { .. })
    }
}

/// Something a node did, for a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterEvent {
    /// The node changed role or term.
    Role {
        /// Its new role.
        role: Role,
        /// Its term.
        term: Term,
    },
    /// The node's commit index moved.
    Committed(LogIndex),
    /// The test did something to the node.
    Fault(Fault),
    /// The node, leading, heard that a follower lost entries it had
    /// acknowledged.
    LostEntries(LostEntries),
}

/// What a test did to a node through the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Cut off from every other node.
    Disconnected,
    /// Reconnected.
    Connected,
    /// Put in a group of a partition.
    Partitioned,
    /// The partition it was in ended.
    Healed,
    /// Killed; what it had on disk is kept.
    Crashed,
    /// Brought back from what it had on disk, less `lost` entries at the end
    /// of its log that never reached it.
    Restarted {
        /// How many entries of the log's tail the disk lost.
        lost: u64,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disconnected => "disconnected",
            Self::Connected => "connected",
            Self::Partitioned => "partitioned",
            Self::Healed => "healed",
            Self::Crashed => "crashed",
            Self::Restarted { lost: 0 } => "restarted",
            Self::Restarted { .. } => "restarted with its log's tail lost",
        })
    }
}

/// One line of the cluster's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecord {
    /// Simulated time since the run began.
    pub at: Duration,
    /// Which node.
    pub node: NodeId,
    /// What it did.
    pub event: ClusterEvent,
}

/// A cluster of Raft-lite nodes on a simulated network, with the checks of
/// the Raft lab; see the module documentation.
pub struct RaftCluster<C: Command> {
    /// Carries every message.
    network: Network<RaftMessage<C>>,
    /// Every member, sorted.
    members: Vec<NodeId>,
    /// Each member's network handle, for sending.
    handles: BTreeMap<NodeId, Node<RaftMessage<C>>>,
    /// The state machines of the nodes that have not crashed.
    nodes: BTreeMap<NodeId, RaftNode<C>>,
    /// What each crashed node had on disk: its term, vote and log, kept in
    /// the node it was.
    disks: BTreeMap<NodeId, RaftNode<C>>,
    /// The timing every node runs with, for restarts.
    config: RaftConfig,
    /// The run's seed, for restarted nodes' own draws.
    seed: Seed,
    /// How many times each node was restarted.
    restarts: BTreeMap<NodeId, u64>,
    /// Every report of a follower that lost acknowledged entries, by the
    /// leader that heard it.
    lost_entries: Vec<(NodeId, LostEntries)>,
    /// Every node's inbox, read as one in delivery order.
    inboxes: Inboxes<RaftMessage<C>>,
    /// Nodes cut off by `disconnect`.
    disconnected: BTreeSet<NodeId>,
    /// Ticks every node; kept between runs so ticks stay evenly spaced.
    ticks: Interval,
    /// What each node has applied, in order: index `i + 1` at position `i`.
    applied: BTreeMap<NodeId, Vec<C>>,
    /// The first safety violation seen, if any.
    violation: Option<String>,
    /// What each node looked like after its last activity: role, term,
    /// commit index.
    last_seen: BTreeMap<NodeId, (Role, Term, LogIndex)>,
    /// Role, term and commit changes, and faults, in order.
    timeline: Vec<ClusterRecord>,
    /// Draws the harness's own waits.
    rng: SimRng,
    /// Whether the network loses messages, as the lab's unreliable mode.
    unreliable: bool,
    /// Whether the network holds many messages back, as the lab's long
    /// reordering.
    long_reordering: bool,
    /// The leadership bar each leader has open on the drawn timeline.
    leaderships: BTreeMap<NodeId, SpanId>,
    /// The last term drawn on each node's lane.
    drawn_terms: BTreeMap<NodeId, Term>,
}

impl<C: Command> RaftCluster<C> {
    /// `count` nodes (`node-1` ..= `node-count`) with the paper's timing, on a
    /// network with `conditions`, everything drawn from `seed`.
    ///
    /// # Panics
    /// As [`with_config`](Self::with_config).
    pub fn new(count: u32, seed: Seed, conditions: NetworkConditions) -> Self {
        Self::with_config(count, seed, conditions, RaftConfig::paper())
    }

    /// As [`new`](Self::new), with the given timing.
    ///
    /// # Panics
    /// Outside a tokio runtime with its timer enabled (a test runs inside
    /// [`simulate`](coordination::sim::simulate)): the cluster ticks its
    /// nodes on tokio's clock.
    pub fn with_config(
        count: u32,
        seed: Seed,
        conditions: NetworkConditions,
        config: RaftConfig,
    ) -> Self {
        let network = Network::new(seed, conditions);
        let members: Vec<NodeId> = (1..=count).map(NodeId::new).collect();
        let mut inboxes = Inboxes::new();
        let mut handles = BTreeMap::new();
        let mut nodes = BTreeMap::new();
        for &id in &members {
            let (handle, inbox) = network
                .add_node(id)
                .expect("a new network has none of the ids 1..=count");
            inboxes
                .insert(inbox)
                .expect("every inbox comes from this one network");
            handles.insert(id, handle);
            let node = RaftNode::new(id, &members, config.clone(), seed.derive(id.get().into()))
                .expect("every id is one of the members");
            nodes.insert(id, node);
        }
        let mut ticks = tokio::time::interval(config.tick());
        // A driver that fell behind ticks at once; with the paused clock it
        // never falls behind, but a demo on a real clock could.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let last_seen = members
            .iter()
            .map(|&id| (id, (Role::Follower, Term::ZERO, LogIndex::ZERO)))
            .collect();
        Self {
            network,
            applied: members.iter().map(|&id| (id, Vec::new())).collect(),
            members,
            handles,
            nodes,
            disks: BTreeMap::new(),
            config,
            seed,
            restarts: BTreeMap::new(),
            lost_entries: Vec::new(),
            inboxes,
            disconnected: BTreeSet::new(),
            ticks,
            violation: None,
            last_seen,
            timeline: Vec::new(),
            rng: seed.derive(u64::MAX).rng(),
            unreliable: conditions != NetworkConditions::reliable(),
            long_reordering: false,
            leaderships: BTreeMap::new(),
            drawn_terms: BTreeMap::new(),
        }
    }

    /// Every member, sorted.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The network, for its counts, its trace, and faults the harness does
    /// not wrap (partitions, pauses).
    pub fn network(&self) -> &Network<RaftMessage<C>> {
        &self.network
    }

    /// The state machine of `node`, unless it crashed.
    pub fn node(&self, node: NodeId) -> Option<&RaftNode<C>> {
        self.nodes.get(&node)
    }

    /// Cuts `node` off from every other node, both ways. It keeps running
    /// and believing what it believed.
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown node.
    pub fn disconnect(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.network.disconnect(node)?;
        self.disconnected.insert(node);
        self.record(node, ClusterEvent::Fault(Fault::Disconnected));
        Ok(())
    }

    /// Reconnects a disconnected `node`.
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown node.
    pub fn connect(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.network.connect(node)?;
        self.disconnected.remove(&node);
        self.record(node, ClusterEvent::Fault(Fault::Connected));
        Ok(())
    }

    /// Splits the cluster: nodes reach each other only inside their group;
    /// nodes not named form one more group.
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown node or one named twice.
    pub fn partition(&mut self, groups: &[&[NodeId]]) -> Result<(), ClusterError> {
        self.network.partition(groups)?;
        for group in groups {
            for &node in *group {
                self.record(node, ClusterEvent::Fault(Fault::Partitioned));
            }
        }
        Ok(())
    }

    /// Ends a partition.
    pub fn heal(&mut self) {
        self.network.heal();
        let alive: Vec<NodeId> = self.nodes.keys().copied().collect();
        for node in alive {
            self.record(node, ClusterEvent::Fault(Fault::Healed));
        }
    }

    /// Kills `node`: it stops, its messages in flight to it are lost, and
    /// what it would have on disk (term, vote, log) is kept for
    /// [`restart`](Self::restart).
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown or already crashed node.
    pub fn crash(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.network.crash(node)?;
        if let Some(state) = self.nodes.remove(&node) {
            self.disks.insert(node, state);
        }
        self.record(node, ClusterEvent::Fault(Fault::Crashed));
        Ok(())
    }

    /// Brings a crashed `node` back from its disk: its term, its vote and
    /// its log, except the last `lost` entries (all of them if the log is
    /// shorter), which the disk had acknowledged but not synced when the
    /// power went. `lost = 0` is a disk that syncs before it answers. The
    /// node comes back a follower that knows nothing committed, with an
    /// empty state machine.
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown node or one that is not
    /// crashed.
    pub fn restart(&mut self, node: NodeId, lost: u64) -> Result<(), ClusterError> {
        let disk = self
            .disks
            .get(&node)
            .ok_or(NetworkError::IllegalTransition {
                node,
                action: LifecycleStep::Restart,
                status: self.network.status(node)?,
            })?;
        let log = disk.log();
        let kept = log.last_index().get().saturating_sub(lost);
        let history: Vec<_> = log
            .range(LogIndex::new(1), LogIndex::new(kept))
            .iter()
            .map(|entry| (entry.term, entry.command.clone()))
            .collect();
        let (term, vote) = (disk.term(), disk.voted_for());
        let restarts = self.restarts.entry(node).or_default();
        *restarts += 1;
        // A life of its own draws its own timeouts.
        let seed = self.seed.derive(u64::from(node.get()) + (*restarts << 32));
        let state = RaftNode::new(node, &self.members, self.config.clone(), seed)
            .and_then(|state| state.with_history(term, history))
            .and_then(|state| state.with_vote(vote))
            .expect("a prefix of a node's own log, in its own term, is a possible history");
        let (handle, inbox) = self.network.restart(node)?;
        self.disks.remove(&node);
        self.inboxes
            .insert(inbox)
            .expect("the inbox comes from this cluster's network");
        self.handles.insert(node, handle);
        self.nodes.insert(node, state);
        // The state machine is memory: it starts empty and applies again.
        self.applied.insert(node, Vec::new());
        self.last_seen
            .insert(node, (Role::Follower, term, LogIndex::ZERO));
        self.record(node, ClusterEvent::Fault(Fault::Restarted { lost }));
        Ok(())
    }

    /// Every report, so far, of a follower found to have lost entries it
    /// had acknowledged, with the leader that heard it, in order.
    pub fn lost_entries(&self) -> &[(NodeId, LostEntries)] {
        &self.lost_entries
    }

    /// Loses and delays messages as the Raft lab's unreliable mode does
    /// ([`NetworkConditions::unreliable`], with responses lost as the replies
    /// they are), or stops doing so. Long reordering, if on, stays on.
    pub fn set_unreliable(&mut self, unreliable: bool) {
        self.unreliable = unreliable;
        self.apply_conditions();
    }

    /// Holds back two thirds of all responses (votes, append and heartbeat
    /// responses) for 200 ms to 2.2 s, so that newer ones overtake them, or
    /// stops doing so: the lab's long reordering, which holds back replies
    /// only. Requests travel on time, so leaders keep their followers.
    /// Losses, if on, stay on.
    pub fn set_long_reordering(&mut self, long_reordering: bool) {
        self.long_reordering = long_reordering;
        self.apply_conditions();
    }

    /// Sets the network's conditions outright, for conditions the two
    /// switches above do not give. The next use of a switch replaces them.
    pub fn set_conditions(&mut self, conditions: NetworkConditions) {
        self.network.set_conditions(conditions);
    }

    /// Sets the conditions the two switches ask for.
    fn apply_conditions(&mut self) {
        let base = if self.unreliable {
            NetworkConditions::unreliable().with_one_way_replies()
        } else {
            NetworkConditions::reliable()
        };
        let conditions = if self.long_reordering {
            // Two thirds, the share of replies the lab holds back.
            let rate = Probability::new(2.0 / 3.0).expect("two thirds is a probability");
            base.with_long_delay(rate, LONG_DELAY_MIN, LONG_DELAY_MAX)
                .expect("the long delay range is written in order")
                .with_one_way_replies()
                .with_long_delay_for_replies_only()
        } else {
            base
        };
        self.network.set_conditions(conditions);
    }

    /// Message counts so far, per kind.
    pub fn counts(&self) -> MessageCounts {
        self.network.counts()
    }

    /// How many requests (vote requests, appends, heartbeats) were sent so
    /// far: the Raft lab's RPC count, where a request and its response count
    /// as one.
    pub fn requests_sent(&self) -> u64 {
        let counts = self.network.counts();
        ["request_vote", "append_entries", "heartbeat"]
            .iter()
            .map(|kind| counts.of(kind).sent)
            .sum()
    }

    /// Role, term and commit changes, and faults, in order.
    pub fn timeline(&self) -> &[ClusterRecord] {
        &self.timeline
    }

    /// The commands `node` has applied, in log order (index 1 first).
    pub fn applied(&self, node: NodeId) -> &[C] {
        self.applied.get(&node).map_or(&[], Vec::as_slice)
    }

    /// Runs the cluster for `duration` of simulated time.
    pub async fn run_for(&mut self, duration: Duration) {
        // One timer for the whole run, not one per message.
        let end = tokio::time::sleep(duration);
        tokio::pin!(end);
        loop {
            tokio::select! {
                biased;
                () = &mut end => return,
                Envelope { from, to, message, .. } = self.inboxes.recv() => {
                    if let Some(node) = self.nodes.get_mut(&to) {
                        // Every sender is a member: the network only carries
                        // this cluster's messages.
                        node.step(from, message)
                            .expect("every message comes from a member of the cluster");
                        self.after_activity(to);
                    }
                }
                _ = self.ticks.tick() => {
                    for id in self.members.clone() {
                        let running = self.handles[&id].status() == NodeStatus::Running;
                        if let (true, Some(node)) = (running, self.nodes.get_mut(&id)) {
                            node.tick();
                            self.after_activity(id);
                        }
                    }
                }
            }
        }
    }

    /// The leaders among the nodes that are up and connected, by term.
    pub fn leaders(&self) -> BTreeMap<Term, Vec<NodeId>> {
        let mut leaders: BTreeMap<Term, Vec<NodeId>> = BTreeMap::new();
        for node in self.reachable() {
            if let Some(state) = self.nodes.get(&node)
                && state.is_leader()
            {
                leaders.entry(state.term()).or_default().push(node);
            }
        }
        leaders
    }

    /// Waits about half a second, then until the connected nodes have a
    /// leader, and returns the leader of the newest term (an older leader cut off from the rest may still
    /// believe it leads).
    ///
    /// # Errors
    /// [`ClusterError::TwoLeaders`] when a term has two;
    /// [`ClusterError::NoLeader`] after ten looks, about five simulated
    /// seconds, without one;
    /// any safety violation seen so far.
    pub async fn check_one_leader(&mut self) -> Result<NodeId, ClusterError> {
        let started = Instant::now();
        for _ in 0..LEADER_CHECKS {
            // Let things settle first, as the lab does: an old leader that
            // was just reconnected needs a moment to learn it was replaced.
            let settle = self.rng.random_range(SETTLE_MIN..=SETTLE_MAX);
            self.run_for(settle).await;
            self.check_safety()?;
            let leaders = self.leaders();
            for (&term, nodes) in &leaders {
                if nodes.len() > 1 {
                    return Err(ClusterError::TwoLeaders {
                        term,
                        leaders: nodes.clone(),
                    });
                }
            }
            if let Some((_, nodes)) = leaders.last_key_value() {
                return Ok(nodes[0]);
            }
        }
        let candidates = self.reachable();
        let states = candidates
            .iter()
            .filter_map(|id| {
                let node = self.nodes.get(id)?;
                Some((*id, node.role(), node.term()))
            })
            .collect();
        Err(ClusterError::NoLeader {
            candidates,
            waited: started.elapsed(),
            states,
        })
    }

    /// Checks that no node that is up and connected leads.
    ///
    /// # Errors
    /// [`ClusterError::UnexpectedLeader`] naming one that does.
    pub fn check_no_leader(&self) -> Result<(), ClusterError> {
        self.check_safety()?;
        match self.leaders().into_iter().next_back() {
            Some((term, nodes)) => Err(ClusterError::UnexpectedLeader {
                node: nodes[0],
                term,
            }),
            None => Ok(()),
        }
    }

    /// The term every connected node agrees on.
    ///
    /// # Errors
    /// [`ClusterError::TermsDisagree`] with every connected node's term.
    pub fn check_terms(&self) -> Result<Term, ClusterError> {
        let terms: BTreeMap<NodeId, Term> = self
            .reachable()
            .into_iter()
            .filter_map(|id| Some((id, self.nodes.get(&id)?.term())))
            .collect();
        let distinct: BTreeSet<Term> = terms.values().copied().collect();
        match distinct.len() {
            1 => Ok(*distinct.first().expect("one term")),
            _ => Err(ClusterError::TermsDisagree { terms }),
        }
    }

    /// How many nodes (up or not, connected or not) have applied `index`,
    /// and the command there.
    ///
    /// # Errors
    /// Any safety violation seen so far (disagreement at an index is one).
    pub fn committed(&self, index: LogIndex) -> Result<(usize, Option<C>), ClusterError> {
        self.check_safety()?;
        let position = usize::try_from(index.get()).unwrap_or(usize::MAX);
        let mut count = 0;
        let mut command = None;
        for applied in self.applied.values() {
            if let Some(entry) = position.checked_sub(1).and_then(|p| applied.get(p)) {
                count += 1;
                command = Some(entry.clone());
            }
        }
        Ok((count, command))
    }

    /// Submits `command` and waits until at least `expected` nodes have
    /// committed it, like the lab's `one()`: it proposes at the leader of
    /// the newest term among the connected nodes, and waits up to 2 s for agreement;
    /// with `retry`, it tries again (another leader, perhaps) for up to
    /// 10 s in all. Returns the index the command was committed at.
    ///
    /// # Errors
    /// [`ClusterError::NoAgreement`] when it does not happen in time; any
    /// safety violation.
    pub async fn one(
        &mut self,
        command: C,
        expected: usize,
        retry: bool,
    ) -> Result<LogIndex, ClusterError> {
        let started = Instant::now();
        let mut best = 0;
        while started.elapsed() < AGREEMENT_DEADLINE {
            let Some(index) = self.propose_anywhere(&command) else {
                self.run_for(POLL_INTERVAL).await;
                continue;
            };
            let attempt = Instant::now();
            while attempt.elapsed() < ATTEMPT_DEADLINE {
                let (count, committed) = self.committed(index)?;
                if committed.as_ref() == Some(&command) {
                    best = best.max(count);
                    if count >= expected {
                        return Ok(index);
                    }
                }
                self.run_for(POLL_INTERVAL).await;
            }
            if !retry {
                break;
            }
        }
        self.check_safety()?;
        Err(ClusterError::NoAgreement {
            command: format!("{command:?}"),
            expected,
            best,
            waited: started.elapsed(),
        })
    }

    /// Proposes `command` to `node`, if it is up and leads.
    ///
    /// # Errors
    /// [`crate::ProposeError::NotLeader`] as the node answers; a crashed node
    /// answers the same, with no leader known.
    pub fn propose(
        &mut self,
        node: NodeId,
        command: C,
    ) -> Result<(LogIndex, Term), crate::ProposeError> {
        let Some(state) = self.nodes.get_mut(&node) else {
            return Err(crate::ProposeError::NotLeader { leader: None });
        };
        let proposed = state.propose(command);
        self.after_activity(node);
        proposed
    }

    /// Waits until at least `expected` nodes have committed `index`, for at
    /// most `timeout`, and returns the command there; `None` in time or when
    /// a node moves past `start_term` (the proposal may have been lost to a
    /// new leader), as the lab's `wait` does.
    ///
    /// # Errors
    /// Any safety violation.
    pub async fn wait_for(
        &mut self,
        index: LogIndex,
        expected: usize,
        start_term: Term,
        timeout: Duration,
    ) -> Result<Option<C>, ClusterError> {
        let started = Instant::now();
        loop {
            let (count, command) = self.committed(index)?;
            if count >= expected {
                return Ok(command);
            }
            let moved_on = self.nodes.values().any(|node| node.term() > start_term);
            if moved_on || started.elapsed() >= timeout {
                return Ok(None);
            }
            self.run_for(POLL_INTERVAL).await;
        }
    }

    /// Fails with the first safety violation seen, if any.
    ///
    /// # Errors
    /// [`ClusterError::SafetyViolation`].
    pub fn check_safety(&self) -> Result<(), ClusterError> {
        match &self.violation {
            Some(violation) => Err(ClusterError::SafetyViolation(violation.clone())),
            None => Ok(()),
        }
    }

    /// The nodes that are up (not crashed, not paused) and connected.
    fn reachable(&self) -> Vec<NodeId> {
        self.members
            .iter()
            .copied()
            .filter(|id| !self.disconnected.contains(id))
            .filter(|id| self.network.status(*id) == Ok(NodeStatus::Running))
            .filter(|id| self.nodes.contains_key(id))
            .collect()
    }

    /// Proposes at the leader of the newest term among the nodes that are
    /// up and connected: on the minority side of a partition an old leader
    /// may still believe it leads. `None` when no such node leads.
    fn propose_anywhere(&mut self, command: &C) -> Option<LogIndex> {
        let (_, leaders) = self.leaders().into_iter().next_back()?;
        let (index, _) = self.propose(leaders[0], command.clone()).ok()?;
        Some(index)
    }

    /// Sends what `id` produced, records what it applied, and notes changes
    /// of role, term and commit for the timeline.
    fn after_activity(&mut self, id: NodeId) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let messages = node.take_messages();
        let committed = node.take_committed();
        let lost_entries = node.take_lost_entries();
        let seen = (node.role(), node.term(), node.commit_index());
        for (to, message) in messages {
            // Sending fails only for a crashed sender, and crashed nodes are
            // no longer driven.
            self.handles[&id]
                .send(to, message)
                .expect("a node that is driven has not crashed");
        }
        for entry in committed {
            self.record_applied(id, entry.index, entry.command);
        }
        for report in lost_entries {
            self.lost_entries.push((id, report));
            self.record(id, ClusterEvent::LostEntries(report));
        }
        let before = self.last_seen.insert(id, seen);
        if let Some((role, term, commit)) = before {
            if (role, term) != (seen.0, seen.1) {
                self.record(
                    id,
                    ClusterEvent::Role {
                        role: seen.0,
                        term: seen.1,
                    },
                );
            }
            if commit != seen.2 {
                self.record(id, ClusterEvent::Committed(seen.2));
            }
            if seen.2 < commit && self.violation.is_none() {
                self.violation = Some(format!(
                    "{id}'s commit index went back from {commit} to {} in {}: what is \
                     committed stays committed",
                    seen.2, seen.1
                ));
            }
        }
    }

    /// Checks one applied entry against everything applied before.
    fn record_applied(&mut self, id: NodeId, index: LogIndex, command: C) {
        let applied = self.applied.entry(id).or_default();
        let expected = LogIndex::new(applied.len() as u64 + 1);
        if index != expected && self.violation.is_none() {
            self.violation = Some(format!(
                "{id} applied {index} when {expected} was next: out of order"
            ));
        }
        let position = applied.len();
        applied.push(command);
        if self.violation.is_some() {
            return;
        }
        let mine = &self.applied[&id][position];
        for (other, their) in &self.applied {
            if let Some(theirs) = their.get(position)
                && theirs != mine
            {
                self.violation = Some(format!(
                    "{id} applied {mine:?} at {index}, but {other} applied {theirs:?} there"
                ));
                return;
            }
        }
    }

    fn record(&mut self, node: NodeId, event: ClusterEvent) {
        self.draw(node, &event);
        self.timeline.push(ClusterRecord {
            at: clock::elapsed(),
            node,
            event,
        });
    }

    /// Draws `event` on `node`'s lane of the run's timeline, if one is
    /// being recorded (a demo's `--svg`): terms started, leaderships as bars,
    /// commit indexes and faults as marks.
    fn draw(&mut self, node: NodeId, event: &ClusterEvent) {
        if !timeline::is_recording() {
            return;
        }
        // A change of role or term ends a leadership, and so does a crash.
        if matches!(
            event,
            ClusterEvent::Role { .. } | ClusterEvent::Fault(Fault::Crashed)
        ) && let Some(leadership) = self.leaderships.remove(&node)
        {
            timeline::end(leadership, Outcome::Ended);
        }
        match event {
            ClusterEvent::Role { role, term } => {
                let previous = self.drawn_terms.insert(node, *term);
                if previous != Some(*term) {
                    timeline::point(node, Mark::TermStarted { term: term.get() }, term);
                }
                if *role == Role::Leader {
                    timeline::point(node, Mark::LeaderElected { term: term.get() }, term);
                    let leadership = timeline::begin(node, Activity::Leadership, term);
                    self.leaderships.insert(node, leadership);
                }
            }
            ClusterEvent::Committed(index) => {
                timeline::point(node, Mark::Note, format_args!("commit {}", index.get()));
            }
            ClusterEvent::Fault(Fault::Crashed) => timeline::point(node, Mark::Crashed, "crashed"),
            ClusterEvent::Fault(fault @ (Fault::Partitioned | Fault::Disconnected)) => {
                timeline::point(node, Mark::Partitioned, fault);
            }
            ClusterEvent::Fault(fault @ (Fault::Healed | Fault::Connected)) => {
                timeline::point(node, Mark::Healed, fault);
            }
            ClusterEvent::LostEntries(report) => timeline::point(node, Mark::Note, report),
            ClusterEvent::Fault(fault) => timeline::point(node, Mark::Note, fault),
        }
    }
}
