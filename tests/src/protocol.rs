//! What travels between clients and queue nodes, and between the nodes.
//!
//! One message type for everything, [`Packet`], as the simulated network
//! and the TCP framing both want: Raft's own messages between the nodes, and
//! request/response pairs between a client and a node. A node that is not
//! the leader answers every queue request with [`QueueResponse::NotLeader`]
//! and the leader it knows of, and the client goes there: the redirect of
//! etcd's and Consul's clients.

use std::time::Duration;

use coordination::NodeId;
use coordination::sim::Message;
use workshop4::{ClientId, LogIndex, RaftMessage, Role, SequenceNumber, Term};

use crate::{Command, QueueAttributes, QueueOperation, QueueResult};

/// What a client asks a queue node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueRequest {
    /// Open a session: the answer is the client's id.
    OpenSession,
    /// Apply `operation` to the queue, once, however often it is sent.
    Operation {
        /// The client's session.
        client: ClientId,
        /// Which of the client's requests this is; the same on every retry.
        sequence: SequenceNumber,
        /// What to do.
        operation: QueueOperation,
    },
    /// How is the node? Answered by any node from what it knows, without
    /// going through the log: a view, not a linearizable read.
    Report,
}

impl QueueRequest {
    /// A short name for message counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::OpenSession => "open_session",
            Self::Operation { operation, .. } => match operation {
                QueueOperation::Send(_) => "send",
                QueueOperation::Receive { .. } => "receive",
                QueueOperation::Delete(_) => "delete",
                QueueOperation::ChangeVisibility { .. } => "change_visibility",
                QueueOperation::DeadLetter { .. } => "dead_letter",
                QueueOperation::Redrive => "redrive",
            },
            Self::Report => "report",
        }
    }
}

/// A node's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueResponse {
    /// The session is open under this id.
    SessionOpened(ClientId),
    /// The operation was applied (now, or the first time it was sent), with
    /// this result.
    Done(QueueResult),
    /// The request is older than the client's last applied one: a copy that
    /// wandered the network after the client had moved on.
    Expired {
        /// The client's last applied request.
        last: SequenceNumber,
    },
    /// This node does not lead; `leader` is the one it knows of, if any.
    NotLeader {
        /// Where to go instead.
        leader: Option<NodeId>,
    },
    /// The node's view of itself and of the queue.
    Report(NodeReport),
}

/// A node's view of itself and of the queue, for a live view or a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeReport {
    /// Who.
    pub node: NodeId,
    /// Follower, candidate or leader.
    pub role: Role,
    /// Its term.
    pub term: Term,
    /// The leader it knows of (itself when it leads).
    pub leader: Option<NodeId>,
    /// The highest index it knows committed.
    pub commit_index: LogIndex,
    /// How many entries its log holds.
    pub log_length: u64,
    /// How many sessions its state machine has opened.
    pub sessions: u64,
    /// The queue as its state machine has it.
    pub attributes: QueueAttributes,
    /// The queue's time: the last stamp applied.
    pub queue_time: Duration,
}

/// Everything that travels, on the simulated network or over TCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Between queue nodes.
    Raft(RaftMessage<Command>),
    /// From a client to a node.
    Request(QueueRequest),
    /// From a node to a client.
    Response(QueueResponse),
}

impl Message for Packet {
    fn kind(&self) -> &'static str {
        match self {
            Self::Raft(message) => message.kind(),
            Self::Request(request) => request.kind(),
            Self::Response(_) => "response",
        }
    }
}
