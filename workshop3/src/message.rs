//! What the nodes of this workshop say to each other: the wire protocol.
//!
//! Three conversations share one network: candidates and leaders talk to the
//! lease store (acquire, renew, release), the leader writes to storage, and
//! the leader tells followers it is alive (heartbeats). The simulated network
//! carries one message type, so [`ClusterMessage`] has a variant for each
//! request and each answer; the typed clients
//! ([`LeaseClient`](crate::LeaseClient), [`StorageClient`](crate::StorageClient))
//! wrap the calls so that no other code matches on answers it did not ask
//! for.

use std::time::Duration;

use coordination::sim::Message;
use coordination::{FencingToken, NodeId};

use crate::{LeaseError, WriteRefused};

/// Every message of the workshop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterMessage {
    /// A request to the lease store.
    Lease(LeaseRequest),
    /// The lease store's answer, or why it refused to consider the request.
    LeaseAnswer(Result<LeaseAnswer, LeaseError>),
    /// A request to storage: store this entry.
    Write(Write),
    /// Storage's answer.
    WriteAnswer(Result<WriteAck, WriteRefused>),
    /// One-way, from the leader to each follower: "I am alive and I lead".
    Heartbeat(Heartbeat),
}

impl Message for ClusterMessage {
    fn kind(&self) -> &'static str {
        match self {
            Self::Lease(LeaseRequest::Acquire { .. }) => "acquire",
            Self::Lease(LeaseRequest::Renew { .. }) => "renew",
            Self::Lease(LeaseRequest::Release { .. }) => "release",
            Self::LeaseAnswer(_) => "lease answer",
            Self::Write(_) => "write",
            Self::WriteAnswer(_) => "write answer",
            Self::Heartbeat(_) => "heartbeat",
        }
    }
}

/// What a node can ask of the lease store.
///
/// The caller is not part of the request: the network tells the store who
/// sent it, so a node cannot act for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseRequest {
    /// Take the lease if it is free or has expired. Asking again while
    /// holding it is not an error: the answer is the lease already held,
    /// extended. That makes a retry after a lost answer harmless.
    Acquire {
        /// How long the lease lasts from the moment the store grants it.
        lease_duration: Duration,
    },
    /// Extend the lease held under `token`, for `lease_duration` from the
    /// moment the store handles the request. Refused once the lease has
    /// expired, even if nobody took it meanwhile: the holder must acquire
    /// again and gets a new token.
    Renew {
        /// The token the lease was granted under.
        token: FencingToken,
        /// How long the extended lease lasts.
        lease_duration: Duration,
    },
    /// Give the lease up now, so the next candidate need not wait for it to
    /// expire.
    Release {
        /// The token the lease was granted under.
        token: FencingToken,
    },
}

/// The lease store's answer to a well-formed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseAnswer {
    /// The caller holds the lease under `token`, until `lease_duration` after
    /// the store handled the request.
    Granted {
        /// The token of this lease: the store's revision when it was first
        /// granted. Renewals keep it.
        token: FencingToken,
    },
    /// An acquire was refused: `holder` holds an unexpired lease.
    HeldBy {
        /// Who holds it.
        holder: NodeId,
        /// Under which token.
        token: FencingToken,
        /// How long until it expires unless renewed.
        expires_in: Duration,
    },
    /// A renew or release was refused: the caller no longer holds the lease
    /// granted under `token`. It expired, or it was released.
    Lost {
        /// The token the caller asked about.
        token: FencingToken,
    },
    /// The lease was released; it is free.
    Released,
}

/// One entry for storage, from the node that believes it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write {
    /// The writer's own number for the entry: 1, 2, 3, ... per leadership,
    /// so a reader of the storage log can follow each writer's sequence.
    pub entry: u64,
    /// The token of the writer's lease, or `None` from a writer that holds no
    /// lease at all (the uncoordinated replicas of the Observe part).
    pub token: Option<FencingToken>,
}

/// Storage's receipt for an accepted write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteAck {
    /// Where in storage's log the entry landed, from 1.
    pub position: u64,
}

/// A leader's "I am alive", sent to every follower each heartbeat interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The token of the leader's lease. A follower that has heard a larger
    /// token ignores this one: it comes from a leader that was replaced.
    pub token: FencingToken,
}
