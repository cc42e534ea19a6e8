//! What travels: a protocol's messages, and the envelope they arrive in.
//!
//! A network carries one message type, the protocol's own enum (Raft's
//! `RequestVote`, `AppendEntries` and their responses; a lease store's
//! requests and answers), the way a real protocol defines one wire format. The
//! network never looks inside a message; it only asks for its
//! [`kind`](Message::kind), to count and trace it.

use std::fmt;

use crate::NodeId;

/// A message a [`Network`](super::Network) can carry.
///
/// `Clone` because a network may deliver a message twice
/// ([`NetworkConditions::duplication`](super::NetworkConditions::duplication)),
/// as a real one does when a layer below the protocol retransmits.
///
/// ```
/// use coordination::sim::Message;
///
/// #[derive(Clone)]
/// enum Raft {
///     RequestVote { term: u64 },
///     Vote { term: u64, granted: bool },
/// }
///
/// impl Message for Raft {
///     fn kind(&self) -> &'static str {
///         match self {
///             Raft::RequestVote { .. } => "request_vote",
///             Raft::Vote { .. } => "vote",
///         }
///     }
/// }
/// ```
pub trait Message: Clone + Send + 'static {
    /// A short name for this kind of message, the same for every message of
    /// the kind: message counts and the trace are grouped by it.
    fn kind(&self) -> &'static str;

    /// Whether this message, sent one way, answers another: a protocol that
    /// answers with one-way messages (Raft's votes and append responses)
    /// says so here. The network treats such a message as a reply only when
    /// [`NetworkConditions::one_way_replies`](super::NetworkConditions::one_way_replies)
    /// asks it to; a [`call`](super::Node::call)'s answer is a reply
    /// whatever this says. No message by default.
    fn is_reply(&self) -> bool {
        false
    }
}

/// Identifies one transmission in a run, in the order they were sent, so
/// that its entries in the [`Trace`](super::Trace) can be joined up. A
/// duplicated message is a transmission of its own, with an id of its own:
/// this is the network's numbering, not a queue's message id (the
/// capstone's `MessageId`, which stays the same across redeliveries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransmissionId(u64);

impl TransmissionId {
    /// Wraps a raw number as a message id. Ids are normally issued by the
    /// network, one per message sent.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TransmissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A message as it arrives: who sent it, to whom, and how to answer it.
#[derive(Debug)]
pub struct Envelope<M> {
    /// The message's id, as it appears in the trace.
    pub id: TransmissionId,
    /// The node that sent it.
    pub from: NodeId,
    /// The node it was sent to: the receiver.
    pub to: NodeId,
    /// The message itself.
    pub message: M,
    /// Present when the sender made a [`call`](super::Node::call) and waits
    /// for an answer: hand it to [`Node::reply`](super::Node::reply). `None`
    /// for a one-way message.
    pub reply_to: Option<ReplyTo>,
}

/// The right to answer one request, once.
///
/// It is not `Clone`: [`Node::reply`](super::Node::reply) consumes it, so a
/// request cannot be answered twice. A request that is never answered leaves
/// its caller to time out, like a server that crashed halfway.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplyTo(pub(super) CallRef);

/// Names one call: the node that waits and its call id. The network's own
/// copyable handle on a call; [`ReplyTo`] is its single-use public face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct CallRef {
    /// The node whose call waits for the answer.
    pub(super) caller: NodeId,
    /// Which of its calls.
    pub(super) call: CallId,
}

/// Identifies one call in a network, in the order calls were made: an answer
/// names the call it answers, so that a late one finds no call waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct CallId(u64);

impl CallId {
    /// The id of a network's first call.
    pub(super) const FIRST: Self = Self(1);

    /// The id of the call made after this one.
    pub(super) const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}
