//! The network as a test sees it: add nodes, inject faults, read what
//! happened.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::node::Life;
use super::shared::Shared;
use super::{
    Inbox, Message, MessageCounts, NetworkConditions, NetworkError, Node, NodeStatus, Trace,
};
use crate::wait::Check;
use crate::{NodeId, Seed};

/// A simulated network of nodes, on tokio's paused clock, with faults a test
/// injects and losses and delays drawn from one seed.
///
/// Cloning it is cheap: every clone controls the same network.
pub struct Network<M> {
    /// The state every handle shares: a network is a view of it, as every
    /// node's handle and inbox is.
    shared: Arc<Shared<M>>,
}

impl<M> Clone for Network<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> fmt::Debug for Network<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network").finish_non_exhaustive()
    }
}

impl<M: Message> Network<M> {
    /// An empty network whose losses and delays are drawn from `seed` under
    /// `conditions`.
    pub fn new(seed: Seed, conditions: NetworkConditions) -> Self {
        Self {
            shared: Arc::new(Shared::new(seed, conditions)),
        }
    }

    /// Adds a running node and returns its handle and its inbox. The inbox is
    /// the only one: whoever holds it receives the node's messages.
    ///
    /// # Errors
    /// [`NetworkError::DuplicateNode`] when a node with this id is already on
    /// the network.
    pub fn add_node(&self, node: NodeId) -> Result<(Node<M>, Inbox<M>), NetworkError> {
        let life = self.shared.update(|state, _| state.add(node))?;
        Ok(self.handles(life))
    }

    /// Every node on the network, sorted.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.shared.read(|state| state.node_ids())
    }

    /// Where `node` is in its lifecycle.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`].
    pub fn status(&self, node: NodeId) -> Result<NodeStatus, NetworkError> {
        self.shared
            .read(|state| state.host(node).map(|host| host.status))
    }

    /// Whether `node`'s links work: `false` from [`disconnect`](Self::disconnect)
    /// until [`connect`](Self::connect). A partition leaves it as it is, and
    /// so do a crash and a restart.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`].
    pub fn is_connected(&self, node: NodeId) -> Result<bool, NetworkError> {
        self.shared
            .read(|wire| wire.host(node).map(|host| host.connected))
    }

    /// The conditions messages leave under now.
    pub fn conditions(&self) -> NetworkConditions {
        self.shared.read(|state| state.conditions)
    }

    /// Changes the conditions for every message that leaves from now on;
    /// messages already on the wire keep their fate.
    pub fn set_conditions(&self, conditions: NetworkConditions) {
        self.shared.update(|state, _| state.conditions = conditions);
    }

    /// Splits the network: nodes reach each other only within their group.
    /// Nodes not named form one more group together, so
    /// `partition(&[&[leader]])` cuts the leader off from everyone else.
    /// Messages on the wire across the cut are lost; messages that have
    /// already arrived stay in their receiver's inbox. Replaces any
    /// earlier partition; disconnected nodes stay disconnected.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`] for a node not on the network;
    /// [`NetworkError::NodeInTwoGroups`] for a node named twice. On error
    /// nothing changes.
    pub fn partition(&self, groups: &[&[NodeId]]) -> Result<(), NetworkError> {
        self.shared
            .update(|state, now| state.partition(now, groups))
    }

    /// Ends the partition: every connected node reaches every other again.
    pub fn heal(&self) {
        self.shared.update(|state, _| state.heal());
    }

    /// Cuts every link of `node`, both ways, like a pulled cable: what it sends
    /// and what is sent to it is lost, including what is on the wire now
    /// (what has already arrived stays in its inbox). The node itself goes on
    /// running and believes what it believed.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`].
    pub fn disconnect(&self, node: NodeId) -> Result<(), NetworkError> {
        self.shared
            .update(|state, now| state.set_connected(now, node, false))
    }

    /// Restores the links of a disconnected `node`.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`].
    pub fn connect(&self, node: NodeId) -> Result<(), NetworkError> {
        self.shared
            .update(|state, now| state.set_connected(now, node, true))
    }

    /// Freezes `node`, like a stop-the-world garbage-collection pause:
    /// messages to it queue up, its timers stop, what it sends is held. It
    /// does not know it was paused.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`];
    /// [`NetworkError::IllegalTransition`] unless it is running.
    pub fn pause(&self, node: NodeId) -> Result<(), NetworkError> {
        self.shared.update(|state, _| state.pause(node))
    }

    /// Lets a paused `node` go on: queued messages are delivered, held ones
    /// leave, late timers fire. It acts on what it believed before the pause.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`];
    /// [`NetworkError::IllegalTransition`] unless it is paused.
    pub fn resume(&self, node: NodeId) -> Result<(), NetworkError> {
        self.shared.update(|state, now| state.resume(now, node))
    }

    /// Kills `node`'s process: its tasks stop, messages queued for it and
    /// answers to its open calls are dropped, and its handles stop working.
    /// Messages it sent that are already on the wire still arrive: they left
    /// the machine.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`];
    /// [`NetworkError::IllegalTransition`] when it has already crashed.
    pub fn crash(&self, node: NodeId) -> Result<(), NetworkError> {
        let tasks = self.shared.update(|state, _| state.crash(node))?;
        for task in tasks {
            task.abort();
        }
        Ok(())
    }

    /// Brings a crashed `node` back, running, with an empty inbox and no
    /// tasks: its memory is gone. Whatever should survive a crash (a log on
    /// disk) is the caller's to keep and hand to the new life. Links keep
    /// their state: a node disconnected before its crash is still
    /// disconnected.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`];
    /// [`NetworkError::IllegalTransition`] unless it has crashed.
    pub fn restart(&self, node: NodeId) -> Result<(Node<M>, Inbox<M>), NetworkError> {
        let life = self.shared.update(|state, _| state.restart(node))?;
        Ok(self.handles(life))
    }

    /// How many messages of each kind were sent, delivered and dropped so far.
    ///
    /// # Panics
    /// When a node's task panicked: the task's panic, raised again here.
    pub fn counts(&self) -> MessageCounts {
        self.shared.surface_task_panic();
        self.shared.read(|state| state.counts.clone())
    }

    /// Everything the network did so far, in order.
    ///
    /// # Panics
    /// When a node's task panicked: the task's panic, raised again here.
    pub fn trace(&self) -> Trace {
        self.shared.surface_task_panic();
        self.shared.read(|state| state.trace.clone())
    }

    /// Lets the simulation run for `duration` of simulated time: the way a
    /// test waits for nodes to do their work.
    ///
    /// # Panics
    /// As soon as a node's task panics: the task's panic, raised again here,
    /// so the test fails with the task's own message.
    pub async fn run_for(&self, duration: Duration) {
        let until = Instant::now() + duration;
        self.shared
            .wait_for(|state, now| {
                if now >= until || state.has_task_panic() {
                    Check::Ready(())
                } else {
                    Check::WaitUntil(until)
                }
            })
            .await;
        self.shared.surface_task_panic();
    }

    /// The handle and the inbox of one life of a node.
    fn handles(&self, life: Life) -> (Node<M>, Inbox<M>) {
        (
            Node::new(life, Arc::clone(&self.shared)),
            Inbox::new(life, Arc::clone(&self.shared)),
        )
    }
}
