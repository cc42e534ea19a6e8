//! The network's state and rules: what is in flight, where, until when.
//!
//! [`NetworkState`] is the one value behind the network's lock (see
//! [`Shared`](super::shared::Shared)); its methods are the network's rules,
//! split by concern:
//!
//! - `lifecycle`: nodes added, paused, resumed, crashed and restarted, and
//!   the tasks that die with them;
//! - `links`: disconnections and partitions, and what they cut;
//! - `sending`: what the network decides as a message leaves, in the fixed
//!   order a seed replays;
//! - `receiving`: taking what is due, and the end of a call;
//! - `records`: the counts and the trace every step leaves behind.

mod lifecycle;
mod links;
mod receiving;
mod records;
mod sending;

use std::any::Any;
use std::collections::BTreeMap;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::message::{CallId, CallRef};
use super::node::{Incarnation, Life};
use super::{MessageCounts, NetworkConditions, NetworkError, NodeStatus, Trace, TransmissionId};
use crate::{NodeId, Seed, SimRng};

pub(super) use receiving::CallEnd;

/// Names the network's stream among a run's derived seeds.
const NETWORK_STREAM: u64 = 0x0E7_40E7;

/// The state of a network: nodes, messages in flight, faults, counts, trace.
pub(in crate::sim::network) struct NetworkState<M> {
    /// The current loss and delay rates.
    pub(in crate::sim::network) conditions: NetworkConditions,
    /// Decides every loss and delay, in the order messages leave.
    rng: SimRng,
    /// Every node, by id.
    nodes: BTreeMap<NodeId, Host<M>>,
    /// The current partition, if there is one.
    partition: Option<links::Partition>,
    /// The id the next message gets.
    next_message: u64,
    /// The id the next call gets.
    next_call: CallId,
    /// Messages per kind.
    pub(in crate::sim::network) counts: MessageCounts,
    /// Everything that happened.
    pub(in crate::sim::network) trace: Trace,
    /// The first panic of a node's task, not yet surfaced.
    task_panic: Option<Box<dyn Any + Send>>,
}

/// The network's view of one node.
pub(in crate::sim::network) struct Host<M> {
    /// Running, paused or crashed.
    pub(in crate::sim::network) status: NodeStatus,
    /// Whether its links work; `false` after `disconnect`.
    pub(in crate::sim::network) connected: bool,
    /// Which life of the node this is: raised by every crash, so that handles
    /// from before the crash stop working.
    pub(in crate::sim::network) incarnation: Incarnation,
    /// Messages and requests on their way to it or waiting to be taken,
    /// ordered by when they are due, then by id.
    arriving: BTreeMap<ArrivalKey, InFlight<M>>,
    /// Its calls that wait for an answer, each with its answer slot.
    calls: BTreeMap<CallId, AnswerSlot<M>>,
    /// Messages it sent while paused, in order; they leave when it resumes.
    held: Vec<Outgoing<M>>,
    /// Its running tasks, stopped when it crashes.
    tasks: Vec<AbortHandle>,
}

/// Where a message waits in its receiver's queue: by the instant it is due,
/// then by id, so that of two messages due at once the one sent first comes
/// out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::sim::network) struct ArrivalKey {
    /// When it is due.
    pub(in crate::sim::network) due: Instant,
    /// Its id, issued when it was sent.
    id: TransmissionId,
}

/// What a waiting call holds: nothing yet, or the one answer on its way.
enum AnswerSlot<M> {
    /// No answer has been sent, or every answer sent was lost.
    Empty,
    /// An answer is on its way, or arrived and waits for the caller.
    Coming(InFlight<M>),
}

impl<M> AnswerSlot<M> {
    /// The answer, if one is on its way.
    fn answer(&self) -> Option<&InFlight<M>> {
        match self {
            Self::Empty => None,
            Self::Coming(answer) => Some(answer),
        }
    }

    /// Takes the answer out, if one is on its way, and leaves the slot empty.
    fn take(&mut self) -> Option<InFlight<M>> {
        match std::mem::replace(self, Self::Empty) {
            Self::Empty => None,
            Self::Coming(answer) => Some(answer),
        }
    }
}

/// Where a message that is still travelling waits to land: in a node's
/// queue, or in the answer slot of one of its calls.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A message or request in the receiver's queue.
    Queue(ArrivalKey),
    /// The answer to one of the receiver's calls.
    Answer(CallId),
}

/// How a message relates to a call.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// No answer expected.
    OneWay,
    /// A call's request: answer through this reference.
    Request(CallRef),
    /// The answer to this call.
    Reply(CallRef),
}

/// A message that has been sent but has not left its sender yet.
struct Outgoing<M> {
    /// Its id, issued when it was sent.
    id: TransmissionId,
    /// Its sender.
    from: NodeId,
    /// Its receiver.
    to: NodeId,
    /// What it carries.
    message: M,
    /// Whether it opens, answers or has nothing to do with a call.
    form: Form,
}

/// A message on the wire, or arrived and waiting to be taken. Its receiver is
/// the node whose queue holds it.
struct InFlight<M> {
    /// Its id, issued when it was sent.
    id: TransmissionId,
    /// Its sender.
    from: NodeId,
    /// What it carries.
    message: M,
    /// Whether it opens, answers or has nothing to do with a call.
    form: Form,
    /// When it arrives.
    due: Instant,
}

impl<M> InFlight<M> {
    /// Where it waits in its receiver's queue.
    fn key(&self) -> ArrivalKey {
        ArrivalKey {
            due: self.due,
            id: self.id,
        }
    }
}

impl<M: super::Message> NetworkState<M> {
    /// An empty network whose losses and delays are drawn from `seed`.
    pub(super) fn new(seed: Seed, conditions: NetworkConditions) -> Self {
        Self {
            conditions,
            rng: seed.derive(NETWORK_STREAM).rng(),
            nodes: BTreeMap::new(),
            partition: None,
            next_message: 1,
            next_call: CallId::FIRST,
            counts: MessageCounts::default(),
            trace: Trace::default(),
            task_panic: None,
        }
    }

    /// Every node's id, sorted.
    pub(in crate::sim::network) fn node_ids(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    pub(in crate::sim::network) fn host(&self, node: NodeId) -> Result<&Host<M>, NetworkError> {
        self.nodes.get(&node).ok_or(NetworkError::UnknownNode(node))
    }

    fn host_mut(&mut self, node: NodeId) -> Result<&mut Host<M>, NetworkError> {
        self.nodes
            .get_mut(&node)
            .ok_or(NetworkError::UnknownNode(node))
    }

    /// The node, if `life` is its current one.
    fn live_host(&mut self, life: Life) -> Result<&mut Host<M>, NetworkError> {
        let host = self.host_mut(life.node)?;
        if host.incarnation == life.incarnation && host.status != NodeStatus::Crashed {
            Ok(host)
        } else {
            Err(NetworkError::NodeCrashed(life.node))
        }
    }

    /// The status of this life of the node: crashed for a handle from before
    /// a crash.
    pub(in crate::sim::network) fn status_of(&self, life: Life) -> NodeStatus {
        match self.nodes.get(&life.node) {
            Some(host) if host.incarnation == life.incarnation => host.status,
            _ => NodeStatus::Crashed,
        }
    }

    /// The id for the next message sent.
    fn issue_message_id(&mut self) -> TransmissionId {
        let id = TransmissionId::new(self.next_message);
        self.next_message += 1;
        id
    }

    /// Whether a node's task panicked and the panic was not surfaced yet.
    pub(in crate::sim::network) fn has_task_panic(&self) -> bool {
        self.task_panic.is_some()
    }

    /// Takes the first panic of a node's task, to raise it again.
    pub(super) fn take_task_panic(&mut self) -> Option<Box<dyn Any + Send>> {
        self.task_panic.take()
    }

    /// Keeps the panic of a node's task, unless an earlier one is kept.
    pub(super) fn keep_task_panic(&mut self, payload: Box<dyn Any + Send>) {
        if self.task_panic.is_none() {
            self.task_panic = Some(payload);
        }
    }
}
