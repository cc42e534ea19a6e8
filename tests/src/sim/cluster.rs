//! The queue's replicas on the simulated network, driven in one loop.
//!
//! [`QueueCluster`] does for [`QueueNode`]s what Workshop 4's `RaftCluster`
//! does for bare Raft nodes: it owns every replica, takes every message for
//! them in delivery order from one [`Inboxes`], ticks every running replica
//! every Raft tick, and sends what they produce. Each replica's durable
//! state lives beside it, in a [`DurableState`] that a crash does not touch,
//! so a replica can crash and come back with its term, vote and log, and
//! apply the log again from the first entry.
//!
//! Clients are not driven here: they are tasks on their own nodes of the
//! same network, and reach the replicas through [`SimTransport`], which
//! turns the network's calls into the client's [`Transport`].
//!
//! It watches what every replica applies: the same index must hold the same
//! command everywhere, and each life of a replica applies the log in order
//! from index 1. The first break of either is kept and reported by
//! [`check_safety`](QueueCluster::check_safety).

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::sim::{
    CallError, Envelope, Inboxes, Network, NetworkConditions, NetworkError, Node, NodeStatus,
    ReplyTo, clock,
};
use coordination::{NodeId, Seed};
use tokio::time::{Interval, MissedTickBehavior};
use workshop4::{Entry, LogIndex, RaftConfig, Role, Term};

use super::{LogDisagreement, SafetyViolation};

use crate::{
    Command, DurableState, NodeReport, Packet, QueueConfig, QueueNode, QueueRequest, QueueResponse,
    QueueStateMachine, Transport, TransportError,
};

/// The replicas of the queue on a simulated network; see the module
/// documentation.
pub struct QueueCluster {
    /// Carries every message, the clients' included.
    network: Network<Packet>,
    /// The replicas' ids, sorted.
    members: Vec<NodeId>,
    /// Raft's timing.
    raft: RaftConfig,
    /// The queue's settings.
    queue: QueueConfig,
    /// Seeds each replica's elections, per life.
    seed: Seed,
    /// Each replica's network handle, for its current life.
    handles: BTreeMap<NodeId, Node<Packet>>,
    /// The replicas that are up.
    replicas: BTreeMap<NodeId, QueueNode<ReplyTo>>,
    /// What each replica wrote down; survives its crashes.
    disks: BTreeMap<NodeId, DurableState>,
    /// Each replica's number of lives so far.
    lives: BTreeMap<NodeId, u64>,
    /// Every replica's inbox, read as one.
    inboxes: Inboxes<Packet>,
    ticks: Interval,
    /// The command each index holds, as first applied by any replica.
    applied: Vec<Command>,
    /// The next index each replica's current life must apply.
    next_to_apply: BTreeMap<NodeId, u64>,
    /// The first safety violation seen.
    violation: Option<SafetyViolation>,
    /// The leader of each term, as seen when it took office.
    leaders: BTreeMap<Term, NodeId>,
}

impl QueueCluster {
    /// `replicas` replicas (`node-1` ..= `node-replicas`) with Raft timing
    /// `raft` and queue settings `queue`, on a network with `conditions`,
    /// everything drawn from `seed`.
    ///
    /// # Errors
    /// [`NetworkError`] only when set up twice on one network, which this
    /// constructor never does.
    ///
    /// # Panics
    /// Outside a tokio runtime with its timer (a test runs inside
    /// [`simulate`](coordination::sim::simulate)).
    pub fn new(
        replicas: u32,
        seed: Seed,
        conditions: NetworkConditions,
        raft: RaftConfig,
        queue: QueueConfig,
    ) -> Result<Self, NetworkError> {
        let network = Network::new(seed, conditions);
        let members: Vec<NodeId> = (1..=replicas).map(NodeId::new).collect();
        let mut ticks = tokio::time::interval(raft.tick());
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut cluster = Self {
            network,
            members: members.clone(),
            raft,
            queue,
            seed,
            handles: BTreeMap::new(),
            replicas: BTreeMap::new(),
            disks: members
                .iter()
                .map(|&id| (id, DurableState::new()))
                .collect(),
            lives: BTreeMap::new(),
            inboxes: Inboxes::new(),
            ticks,
            applied: Vec::new(),
            next_to_apply: BTreeMap::new(),
            violation: None,
            leaders: BTreeMap::new(),
        };
        for id in members {
            let (handle, inbox) = cluster.network.add_node(id)?;
            cluster.start(id, handle, inbox)?;
        }
        Ok(cluster)
    }

    /// The network, to add clients to, change conditions, and read counts.
    pub fn network(&self) -> &Network<Packet> {
        &self.network
    }

    /// The replicas' ids, sorted.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// The replica `node`, if it is up.
    pub fn replica(&self, node: NodeId) -> Option<&QueueNode<ReplyTo>> {
        self.replicas.get(&node)
    }

    /// What `node` has written down.
    pub fn disk(&self, node: NodeId) -> Option<&DurableState> {
        self.disks.get(&node)
    }

    /// The leader of the newest term among the replicas that are up and
    /// running: on the minority side of a partition an old leader may still
    /// believe it leads.
    pub fn leader(&self) -> Option<NodeId> {
        self.replicas
            .iter()
            .filter(|(id, _)| self.is_running(**id))
            .filter(|(_, replica)| replica.raft().role() == Role::Leader)
            .max_by_key(|(_, replica)| replica.raft().term())
            .map(|(&id, _)| id)
    }

    /// How many leaders took office, term by term, so far.
    pub fn leaders(&self) -> &BTreeMap<Term, NodeId> {
        &self.leaders
    }

    /// The state machine of the current leader, or of any replica that is
    /// up when none leads.
    pub fn state(&self) -> Option<&QueueStateMachine> {
        let node = self
            .leader()
            .or_else(|| self.replicas.keys().next().copied())?;
        self.replicas.get(&node).map(QueueNode::state)
    }

    /// Every replica's report of itself; `None` for a crashed one.
    pub fn reports(&self) -> BTreeMap<NodeId, Option<NodeReport>> {
        self.members
            .iter()
            .map(|&id| (id, self.replicas.get(&id).map(QueueNode::report)))
            .collect()
    }

    /// Kills replica `node`'s process. Its durable state stays.
    ///
    /// # Errors
    /// [`NetworkError`] for an unknown or already crashed node.
    pub fn crash(&mut self, node: NodeId) -> Result<(), NetworkError> {
        self.network.crash(node)?;
        self.replicas.remove(&node);
        Ok(())
    }

    /// Cuts the power of replica `node` whose disk did not sync its last
    /// `lost` log entries: it crashes, and its disk loses them (and keeps
    /// its term and vote, which a real node syncs apart). What a node that
    /// acknowledges before it syncs risks; Raft must neither diverge nor
    /// stall when it comes back.
    ///
    /// # Errors
    /// [`NetworkError`] for an unknown or already crashed node.
    pub fn power_cut(&mut self, node: NodeId, lost: usize) -> Result<(), NetworkError> {
        self.crash(node)?;
        if let Some(disk) = self.disks.get_mut(&node) {
            let kept = disk.entries.len().saturating_sub(lost);
            disk.entries.truncate(kept);
        }
        Ok(())
    }

    /// Starts a crashed replica again from its durable state.
    ///
    /// # Errors
    /// [`NetworkError`] unless `node` is a crashed replica.
    pub fn restart(&mut self, node: NodeId) -> Result<(), NetworkError> {
        let (handle, inbox) = self.network.restart(node)?;
        self.start(node, handle, inbox)
    }

    /// Runs the replicas for `duration` of simulated time.
    pub async fn run_for(&mut self, duration: Duration) {
        let end = tokio::time::sleep(duration);
        tokio::pin!(end);
        loop {
            tokio::select! {
                biased;
                () = &mut end => return,
                envelope = self.inboxes.recv() => self.deliver(envelope),
                _ = self.ticks.tick() => {
                    let running: Vec<NodeId> = self
                        .replicas
                        .keys()
                        .copied()
                        .filter(|&id| self.is_running(id))
                        .collect();
                    for id in running {
                        if let Some(replica) = self.replicas.get_mut(&id) {
                            replica.tick();
                        }
                        self.after_activity(id);
                    }
                }
            }
        }
    }

    /// The first safety violation seen, if any: two replicas applied
    /// different commands at one index, or one applied out of order.
    ///
    /// # Errors
    /// The violation.
    pub fn check_safety(&self) -> Result<(), SafetyViolation> {
        match &self.violation {
            Some(violation) => Err(violation.clone()),
            None => Ok(()),
        }
    }

    /// Whether every replica that is up holds, at every index it knows
    /// committed, the same entry as the replica that knows the most
    /// committed; and holds on disk exactly the log it holds in memory.
    ///
    /// # Errors
    /// The first disagreement, naming the replicas, the index and what each
    /// holds there.
    pub fn check_logs_agree(&self) -> Result<(), LogDisagreement> {
        for (&id, replica) in &self.replicas {
            let memory = replica.raft().log().entries();
            let disk = self
                .disks
                .get(&id)
                .map_or(&[][..], |disk| &disk.entries[..]);
            if memory != disk {
                return Err(LogDisagreement::MemoryAndDisk {
                    node: id,
                    in_memory: memory.len(),
                    on_disk: disk.len(),
                });
            }
        }
        let Some((&reference, most)) = self
            .replicas
            .iter()
            .max_by_key(|(_, replica)| replica.raft().commit_index())
        else {
            return Ok(());
        };
        let reference_log = most.raft().log();
        for (&id, replica) in &self.replicas {
            let log = replica.raft().log();
            for raw in 1..=replica.raft().commit_index().get() {
                let index = LogIndex::new(raw);
                let (ours, theirs) = (reference_log.entry(index), log.entry(index));
                if ours != theirs {
                    return Err(LogDisagreement::Committed {
                        reference,
                        node: id,
                        index,
                        ours: ours.cloned().map(Box::new),
                        theirs: theirs.cloned().map(Box::new),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether `node` is up and not paused.
    fn is_running(&self, node: NodeId) -> bool {
        self.handles
            .get(&node)
            .is_some_and(|handle| handle.status() == NodeStatus::Running)
    }

    /// Starts a life of replica `id` from its durable state.
    fn start(
        &mut self,
        id: NodeId,
        handle: Node<Packet>,
        inbox: coordination::sim::Inbox<Packet>,
    ) -> Result<(), NetworkError> {
        let life = self.lives.entry(id).or_default();
        *life += 1;
        let seed = self.seed.derive(u64::from(id.get())).derive(*life);
        let disk = self.disks.entry(id).or_default();
        let replica = QueueNode::new(id, &self.members, self.raft.clone(), self.queue, seed, disk)
            .expect("a replica is a member, and its disk holds what Raft wrote");
        self.inboxes.insert(inbox)?;
        self.handles.insert(id, handle);
        self.replicas.insert(id, replica);
        self.next_to_apply.insert(id, 1);
        Ok(())
    }

    /// Hands a message to its replica.
    fn deliver(&mut self, envelope: Envelope<Packet>) {
        let Envelope {
            from,
            to,
            message,
            reply_to,
            ..
        } = envelope;
        let Some(replica) = self.replicas.get_mut(&to) else {
            return;
        };
        match (message, reply_to) {
            (Packet::Raft(message), _) => {
                // Only replicas send Raft messages; a stranger's is refused
                // by the node and changes nothing.
                let _ = replica.step(from, message);
            }
            (Packet::Request(request), Some(reply_to)) => {
                replica.request(request, reply_to, clock::elapsed());
            }
            // A request sent one way, or a response sent to a replica: no
            // client of this queue does either.
            (Packet::Request(_) | Packet::Response(_), _) => return,
        }
        self.after_activity(to);
    }

    /// Writes down, sends and answers what replica `id` produced, and
    /// checks what it applied.
    fn after_activity(&mut self, id: NodeId) {
        let Some(replica) = self.replicas.get_mut(&id) else {
            return;
        };
        let ready = replica.ready();
        if replica.raft().role() == Role::Leader {
            self.leaders.entry(replica.raft().term()).or_insert(id);
        }
        let disk = self.disks.entry(id).or_default();
        for change in ready.changes {
            disk.apply(change);
        }
        let handle = &self.handles[&id];
        for (to, message) in ready.messages {
            // Sending fails only for a crashed sender, and a crashed replica
            // is no longer driven.
            let _ = handle.send(to, Packet::Raft(message));
        }
        for (reply_to, response) in ready.replies {
            let _ = handle.reply(reply_to, Packet::Response(response));
        }
        for entry in ready.applied {
            self.check_applied(id, entry);
        }
    }

    /// Checks one applied entry against every replica's before it.
    fn check_applied(&mut self, id: NodeId, entry: Entry<Command>) {
        if self.violation.is_some() {
            return;
        }
        let expected = self.next_to_apply.entry(id).or_insert(1);
        if entry.index.get() != *expected {
            self.violation = Some(SafetyViolation::OutOfOrder {
                node: id,
                applied: entry.index,
                expected: *expected,
            });
            return;
        }
        *expected += 1;
        let position = usize::try_from(entry.index.get() - 1).unwrap_or(usize::MAX);
        match self.applied.get(position) {
            Some(first) if *first != entry.command => {
                self.violation = Some(SafetyViolation::Conflict {
                    node: id,
                    index: entry.index,
                    applied: Box::new(entry.command),
                    first: Box::new(first.clone()),
                });
            }
            Some(_) => {}
            None => self.applied.push(entry.command),
        }
    }

    /// The commands applied so far, index 1 first, as the first replica to
    /// apply each index applied it.
    pub fn applied(&self) -> &[Command] {
        &self.applied
    }

    /// The highest index any replica that is up knows committed.
    pub fn commit_index(&self) -> LogIndex {
        self.replicas
            .values()
            .map(|replica| replica.raft().commit_index())
            .max()
            .unwrap_or(LogIndex::ZERO)
    }
}

/// A client's way onto the simulated network: its node's calls and sleeps,
/// so a crash of the client's node stops it and a pause freezes it.
#[derive(Debug, Clone)]
pub struct SimTransport {
    /// The client's node.
    node: Node<Packet>,
}

impl SimTransport {
    /// Calls and sleeps through `node`.
    pub fn new(node: Node<Packet>) -> Self {
        Self { node }
    }
}

impl Transport for SimTransport {
    async fn call(
        &self,
        to: NodeId,
        request: QueueRequest,
        timeout: Duration,
    ) -> Result<QueueResponse, TransportError> {
        match self.node.call(to, Packet::Request(request), timeout).await {
            Ok(Packet::Response(response)) => Ok(response),
            Ok(other) => Err(TransportError::Unreachable {
                to,
                reason: format!("answered with {:?} instead of a response", other),
            }),
            Err(CallError::TimedOut { to, after }) => Err(TransportError::TimedOut { to, after }),
            Err(CallError::Network(error)) if error.is_node_down() => {
                Err(TransportError::ClientDown)
            }
            Err(CallError::Network(error)) => Err(TransportError::Unreachable {
                to,
                reason: error.to_string(),
            }),
        }
    }

    async fn sleep(&self, duration: Duration) {
        self.node.sleep(duration).await;
    }
}
