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
//! [`agree`](RaftCluster::agree), the lab's `one()`, which submits a command
//! and waits for agreement.
//!
//! It drives the sans-IO nodes itself, in one loop (toydb's and the
//! simulated network's driver style): it takes every message in delivery
//! order from one [`Inboxes`], steps it into its receiver, ticks every running
//! node every [`RaftConfig::tick`], and sends what the nodes produce. There
//! are no tasks and no locks, and simulated time only moves while a check or
//! [`run_for`](RaftCluster::run_for) waits. Which nodes are connected is the
//! network's to say ([`Network::is_connected`]); the harness keeps no copy.
//!
//! After every step of a node, the driver hands what the node did to two
//! observers. The [`SafetyOracle`] checks Raft's promises (one leader per
//! term, the same command at an index on every node, indexes applied in
//! order, a commit index that never moves back); a broken one is reported by
//! every check that follows as a [`ClusterError::SafetyViolation`], the way
//! the lab's applier fails a test. The history keeps the changes of role,
//! term and commit, and the faults, as [`ClusterRecord`]s, and draws them on
//! the run's timeline when a demo records one.
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

mod checks;
mod error;
mod faults;
mod history;
mod safety;

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::sim::{
    Envelope, Inboxes, MessageCounts, Network, NetworkConditions, Node, NodeStatus,
};
use coordination::{NodeId, Seed, SimRng};
use tokio::time::{Interval, MissedTickBehavior};

pub use self::error::ClusterError;
use self::faults::Switches;
use self::history::History;
pub use self::history::{ClusterEvent, ClusterRecord, Fault};
pub use self::safety::{SafetyOracle, SafetyViolation};
use crate::{Command, LogIndex, LostEntries, RaftConfig, RaftMessage, RaftNode, Term};

/// A cluster of Raft-lite nodes on a simulated network, with the checks of
/// the Raft lab; see the module documentation.
pub struct RaftCluster<C: Command> {
    /// Carries every message, and says which nodes are up and connected.
    network: Network<RaftMessage<C>>,
    /// Every member, sorted.
    members: Vec<NodeId>,
    /// Each member's network handle, for sending.
    handles: BTreeMap<NodeId, Node<RaftMessage<C>>>,
    /// Every node's inbox, read as one in delivery order.
    inboxes: Inboxes<RaftMessage<C>>,
    /// The state machines of the nodes that have not crashed.
    nodes: BTreeMap<NodeId, RaftNode<C>>,
    /// What each crashed node had on disk: its term, vote and log, kept in
    /// the node it was.
    disks: BTreeMap<NodeId, RaftNode<C>>,
    /// The timing every node runs with, for restarts.
    config: RaftConfig,
    /// The run's seed, for restarted nodes' own draws.
    seed: Seed,
    /// How many times each node was restarted, so each life draws its own
    /// timeouts.
    restarts: BTreeMap<NodeId, u64>,
    /// Ticks every node; kept between runs so ticks stay evenly spaced.
    ticks: Interval,
    /// Draws the harness's own waits.
    rng: SimRng,
    /// The lab's network switches, as last set.
    switches: Switches,
    /// Checks Raft's promises against everything the nodes do.
    oracle: SafetyOracle<C>,
    /// What the nodes did and what was done to them, and its drawing.
    history: History,
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
        Self {
            network,
            history: History::new(&members),
            members,
            handles,
            inboxes,
            nodes,
            disks: BTreeMap::new(),
            config,
            seed,
            restarts: BTreeMap::new(),
            ticks,
            rng: seed.derive(u64::MAX).rng(),
            switches: Switches::starting_with(conditions),
            oracle: SafetyOracle::new(),
        }
    }

    /// Every member, sorted.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The network, for its counts, its trace, and the faults the harness
    /// does not wrap (pauses).
    pub fn network(&self) -> &Network<RaftMessage<C>> {
        &self.network
    }

    /// The state machine of `node`, unless it crashed.
    pub fn node(&self, node: NodeId) -> Option<&RaftNode<C>> {
        self.nodes.get(&node)
    }

    /// Every report, so far, of a follower found to have lost entries it
    /// had acknowledged, with the leader that heard it, in order.
    pub fn lost_entries(&self) -> &[(NodeId, LostEntries)] {
        self.history.lost_entries()
    }

    /// Message counts so far, per kind.
    pub fn counts(&self) -> MessageCounts {
        self.network.counts()
    }

    /// Role, term and commit changes, and faults, in order.
    pub fn timeline(&self) -> &[ClusterRecord] {
        self.history.records()
    }

    /// The commands `node` has applied, in log order (index 1 first), in
    /// its current life.
    pub fn applied(&self, node: NodeId) -> &[C] {
        self.oracle.applied_by(node)
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

    /// Sends what `id` produced, and shows the oracle and the history what
    /// it did.
    fn after_activity(&mut self, id: NodeId) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let messages = node.take_messages();
        let committed = node.take_committed();
        let lost_entries = node.take_lost_entries();
        let (role, term, commit_index) = (node.role(), node.term(), node.commit_index());
        for (to, message) in messages {
            // Sending fails only for a crashed sender, and crashed nodes are
            // no longer driven.
            self.handles[&id]
                .send(to, message)
                .expect("a node that is driven has not crashed");
        }
        for entry in committed {
            self.oracle.applied(id, entry.index, entry.command);
        }
        for report in lost_entries {
            self.history.heard_lost_entries(id, report);
        }
        // Most steps change nothing the oracle checks (a heartbeat, a tick),
        // and the oracle has seen every state the history has shown.
        if self.history.observed(id, role, term, commit_index) {
            self.oracle.observed(id, role, term, commit_index);
        }
    }
}
