//! What a test does to the cluster: cut nodes off, split it, crash and
//! restart nodes from their disks, make the network unreliable.

use std::time::Duration;

use coordination::sim::{LifecycleStep, NetworkConditions, NetworkError};
use coordination::{NodeId, Probability};

use super::{ClusterError, Fault, RaftCluster};
use crate::{Command, LogIndex, RaftNode};

/// The shortest long delay: the lab's 200 ms.
const LONG_DELAY_MIN: Duration = Duration::from_millis(200);

/// The longest long delay: the lab's 2.2 s.
const LONG_DELAY_MAX: Duration = Duration::from_millis(2_200);

/// The two switches of the lab's network, which the harness combines into
/// the network's conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Switches {
    /// Whether the network loses messages, as the lab's unreliable mode.
    unreliable: bool,
    /// Whether the network holds many replies back, as the lab's long
    /// reordering.
    long_reordering: bool,
}

impl Switches {
    /// The switches of a network that starts with `conditions`: unreliable
    /// unless they are reliable, without long reordering.
    pub(super) fn starting_with(conditions: NetworkConditions) -> Self {
        Self {
            unreliable: conditions != NetworkConditions::reliable(),
            long_reordering: false,
        }
    }

    /// The conditions the two switches ask for.
    pub(super) fn conditions(self) -> NetworkConditions {
        let base = if self.unreliable {
            NetworkConditions::unreliable().with_one_way_replies()
        } else {
            NetworkConditions::reliable()
        };
        if !self.long_reordering {
            return base;
        }
        // Two thirds, the share of replies the lab holds back.
        let rate = Probability::new(2.0 / 3.0).expect("two thirds is a probability");
        base.with_long_delay(rate, LONG_DELAY_MIN, LONG_DELAY_MAX)
            .expect("the long delay range is written in order")
            .with_one_way_replies()
            .with_long_delay_for_replies_only()
    }
}

impl<C: Command> RaftCluster<C> {
    /// Cuts `node` off from every other node, both ways. It keeps running
    /// and believing what it believed.
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown node.
    pub fn disconnect(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.network.disconnect(node)?;
        self.history.fault(node, Fault::Disconnected);
        Ok(())
    }

    /// Reconnects a disconnected `node`.
    ///
    /// # Errors
    /// [`ClusterError::Network`] for an unknown node.
    pub fn connect(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.network.connect(node)?;
        self.history.fault(node, Fault::Connected);
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
                self.history.fault(node, Fault::Partitioned);
            }
        }
        Ok(())
    }

    /// Ends a partition.
    pub fn heal(&mut self) {
        self.network.heal();
        for &node in self.nodes.keys() {
            self.history.fault(node, Fault::Healed);
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
        self.history.fault(node, Fault::Crashed);
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
        self.oracle.restarted(node);
        self.history.restarted(node, term, lost);
        Ok(())
    }

    /// Loses and delays messages as the Raft lab's unreliable mode does
    /// ([`NetworkConditions::unreliable`], with responses lost as the replies
    /// they are), or stops doing so. Long reordering, if on, stays on.
    pub fn set_unreliable(&mut self, unreliable: bool) {
        self.switches.unreliable = unreliable;
        self.network.set_conditions(self.switches.conditions());
    }

    /// Holds back two thirds of all responses (votes, append and heartbeat
    /// responses) for 200 ms to 2.2 s, so that newer ones overtake them, or
    /// stops doing so: the lab's long reordering, which holds back replies
    /// only. Requests travel on time, so leaders keep their followers.
    /// Losses, if on, stay on.
    pub fn set_long_reordering(&mut self, long_reordering: bool) {
        self.switches.long_reordering = long_reordering;
        self.network.set_conditions(self.switches.conditions());
    }

    /// Sets the network's conditions outright, for conditions the two
    /// switches above do not give. The next use of a switch replaces them.
    pub fn set_conditions(&mut self, conditions: NetworkConditions) {
        self.network.set_conditions(conditions);
    }
}
