//! What the network refuses, and how a call can fail.
//!
//! Two boundaries, two enums. [`NetworkError`] is a refused operation: a node
//! that does not exist, a lifecycle step that does not apply, a handle from
//! before a crash. [`CallError`] is how a request/reply call ends without an
//! answer, and its [`may_have_been_applied`](CallError::may_have_been_applied)
//! is the lesson of the whole network in one method.

use std::time::Duration;

use super::{LifecycleStep, NodeStatus};
use crate::NodeId;

/// An operation the network refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// No node with this id was added to the network.
    #[error("{0} is not on this network; add it first with Network::add_node")]
    UnknownNode(NodeId),
    /// A node with this id is already on the network.
    #[error("{0} is already on this network; every node needs its own id")]
    DuplicateNode(NodeId),
    /// The handle belongs to a life of the node that ended in a crash. A
    /// crashed process cannot send, answer or start work; its restart hands
    /// out new handles.
    #[error("{0} crashed: this handle belongs to its life before the crash")]
    NodeCrashed(NodeId),
    /// The lifecycle step does not apply to the node's status, such as
    /// resuming a node that is not paused or restarting one that is running.
    #[error("cannot {action} {node} while it is {status}")]
    IllegalTransition {
        /// The node.
        node: NodeId,
        /// The step that was refused.
        action: LifecycleStep,
        /// The node's status.
        status: NodeStatus,
    },
    /// A partition named a node in two groups, so it would be on both sides.
    #[error("{0} is named in two groups of the partition; each node is on one side")]
    NodeInTwoGroups(NodeId),
    /// An inbox was handed to another node's handle, or to a set of inboxes
    /// of another network: it would receive someone else's messages.
    #[error("the inbox of {inbox} does not belong here ({expected})")]
    WrongInbox {
        /// The node whose inbox it is.
        inbox: NodeId,
        /// What it was given to.
        expected: &'static str,
    },
}

impl NetworkError {
    /// Whether the error says "this node is down": a task that sees it should
    /// stop acting, because the process it stands for crashed. Every other
    /// network error is a mistake in how the network was set up or driven.
    pub fn is_node_down(&self) -> bool {
        matches!(self, Self::NodeCrashed(_))
    }
}

/// Why a [`call`](super::Node::call) returned without an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer arrived in time. The request may have been lost, or the
    /// handler ran and its reply was lost or is late, or the callee is paused,
    /// crashed or on the other side of a partition. From the caller's seat
    /// these look the same.
    #[error("no answer from {to} within {after:?}; the request may or may not have taken effect")]
    TimedOut {
        /// The node that was called.
        to: NodeId,
        /// How long the caller waited.
        after: Duration,
    },
    /// The call could not be made at all.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

impl CallError {
    /// Whether the request may have taken effect although no answer came. True
    /// for a timeout: a retry must be safe to apply twice (idempotent, or
    /// deduplicated by the callee).
    pub fn may_have_been_applied(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }

    /// Whether calling again can succeed. A timeout can pass; a refused call
    /// (an unknown node, a crashed caller) fails the same way every time.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }
}
