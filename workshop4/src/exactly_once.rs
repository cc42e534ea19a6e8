//! Exercise 4.4: exactly-once on top of at-least-once.
//!
//! The network loses replies after the request took effect, so a client that
//! wants its deposit to happen must retry when no reply comes, and the
//! service sees the same request twice. Delivery is *at least once*; the
//! client wants the effect *exactly once*.
//!
//! The fix is on the service side, and it is the same in Kafka's idempotent
//! producer, in the Raft thesis (section 6.3) and in every payment API:
//! every request carries a client id and a sequence number, and the service
//! remembers, per client, the last sequence number it applied and the reply
//! it gave. A request with that number again is a retry: answer it from the
//! table, do not apply it. A request with an older number is a straggler the
//! client has already moved past (a long-delayed copy): refuse it. Anything
//! newer is applied and becomes the client's last.
//!
//! Only the last reply per client is kept, so memory grows with the number of
//! clients, not of requests. That is safe because a client has one request
//! outstanding at a time: once it sends number n + 1 it has seen the reply
//! to n and will never ask for it again.
//!
//! Because the table is changed only by applying requests in log order, every
//! replica of a Raft log builds the same table: deduplication is part of the
//! replicated state machine, not something beside it.
//!
//! - Read: `workshop4/README.md`, "Implement", 4.4.
//! - Check: `cargo workshop check 4.4`, or all of its output with
//!   `cargo test -p workshop4 --test workshop ex4_4_exactly_once`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::collections::BTreeMap;

use crate::{ClientId, ClientRequest, SequenceNumber, StateMachine};

/// A reply kept for a client: its last request and what it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastReply<O> {
    /// The last request of the client that was applied.
    pub sequence: SequenceNumber,
    /// What applying it returned.
    pub output: O,
}

/// What happened to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<O> {
    /// It was new: applied, and this is its output.
    Applied(O),
    /// It was a retry of the client's last request: not applied again; this is
    /// the output of the time it was applied.
    Duplicate(O),
    /// It is older than the client's last request, whose number is given: the
    /// client has moved on, and its reply is no longer kept.
    Expired {
        /// The client's last applied request.
        last: SequenceNumber,
    },
}

impl<O> Reply<O> {
    /// The output the client should see, unless the request expired.
    pub fn output(&self) -> Option<&O> {
        match self {
            Self::Applied(output) | Self::Duplicate(output) => Some(output),
            Self::Expired { .. } => None,
        }
    }
}

/// A state machine that applies each client request once, however often it
/// arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactlyOnce<S: StateMachine> {
    machine: S,
    /// Per client, its last applied request and reply.
    last_replies: BTreeMap<ClientId, LastReply<S::Output>>,
}

impl<S: StateMachine> ExactlyOnce<S> {
    /// Wraps `machine`, with no client seen yet.
    pub fn new(machine: S) -> Self {
        Self {
            machine,
            last_replies: BTreeMap::new(),
        }
    }

    /// Applies `request` unless it is a retry or a straggler.
    pub fn apply(&mut self, request: &ClientRequest<S::Operation>) -> Reply<S::Output> {
        // TODO(4.4): look up the client's last reply in `self.last_replies`.
        // Same sequence number: a retry, answer `Reply::Duplicate` with the
        // kept output and do not apply. Older: `Reply::Expired`. Otherwise
        // (new client, or a newer number): apply to `self.machine`, keep the
        // sequence number and a clone of the output as the client's
        // `LastReply` (replacing the one before: one per client), and answer
        // `Reply::Applied`.
        todo!(
            "exercise 4.4: deduplicate by client id and sequence number (see workshop4/README.md, Implement 4.4)"
        )
    }

    /// The state machine.
    pub fn machine(&self) -> &S {
        &self.machine
    }

    /// The last reply kept for `client`.
    pub fn last_reply(&self, client: ClientId) -> Option<&LastReply<S::Output>> {
        self.last_replies.get(&client)
    }

    /// How many clients the table remembers: its size.
    pub fn clients_remembered(&self) -> usize {
        self.last_replies.len()
    }
}
