//! The lease store: who may lead, until when, decided in one place.
//!
//! ## The problem
//!
//! Three replicas of a service must agree that exactly one of them does the
//! work. They cannot simply vote among themselves over an unreliable network
//! without building consensus (that is Workshop 4). The common answer in
//! production is to lean on a service that already is consistent, etcd or
//! the Kubernetes API server, and keep one small record there: *who holds the
//! lease, until when*.
//!
//! ## The design
//!
//! One record, changed only by compare-and-set, at the instant a request
//! arrives: [`Node::serve`](coordination::sim::Node::serve) runs the handler
//! one request at a time, so the store is linearizable by construction.
//!
//! - **Acquire** succeeds when the record is free or expired (or already the
//!   caller's: a retried acquire is harmless). The new lease gets a token: the
//!   store's revision at that moment, which rises with every change, as
//!   etcd's revision does. The token is the lease's *create revision*;
//!   renewals move the revision on but keep the token.
//! - **Renew** succeeds only for the current holder, with the current token,
//!   before expiry. An expired lease cannot be renewed even if nobody took
//!   it: the holder acquires again and gets a new token.
//! - **Release** frees it early.
//!
//! Expiry is judged on the store's clock, the only clock that decides. A
//! holder measures its own time from when it *sent* its request, which is
//! earlier than when the store granted it, so the holder's view of its lease
//! ends no later than the store's. The simulation has one clock for
//! everyone, so clock drift is out of the picture; the pause of a process is
//! not.
//!
//! The store keeps a history of every change, so that tests can check the
//! safety property (at most one unexpired lease at any instant) from the
//! store's own point of view, and demos can draw who held what when.
//!
//! ## What is left out
//!
//! - **Replication**: a real store (etcd, the API server) is itself a
//!   replicated, consensus-backed service. This one is a single node that
//!   never crashes unless a test crashes it; Workshop 4 builds the
//!   replication.
//! - **Several leases**: one record, one election. A real store keeps one per
//!   election name (a `Lease` object per controller in Kubernetes).
//! - **Watches**: etcd tells waiting candidates when a key is deleted;
//!   here candidates ask again (Kubernetes' client-go does the same).

use std::collections::BTreeSet;
use std::time::Duration;

use coordination::sim::Message;
use coordination::{FencingToken, NodeId};

use crate::{ClusterMessage, LeaseAnswer, LeaseRequest};

/// Why the lease store refused to consider a request at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// The caller is not one of the election's candidates. A store that
    /// granted leases to anyone would let a misconfigured process take over.
    #[error("{0} is not a candidate in this election")]
    UnknownNode(NodeId),
    /// A lease of zero duration was asked for: it would expire as it was
    /// granted.
    #[error("a lease must last longer than zero")]
    ZeroDuration,
    /// The store was sent something that is not a lease request (a write, a
    /// heartbeat): a node talked to the wrong service.
    #[error("the lease store does not handle {kind} messages")]
    NotALeaseRequest {
        /// The kind of message it was sent.
        kind: &'static str,
    },
}

impl LeaseError {
    /// Whether asking again can succeed. Never: every refusal here is a
    /// mistake in the request, and the same request is refused the same way.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// The lease as the store holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The node that holds it.
    pub holder: NodeId,
    /// The token it was granted under (its create revision).
    pub token: FencingToken,
    /// The store's revision at its last change (its modify revision).
    pub revision: u64,
    /// When it expires unless renewed, in simulated time since the run began.
    pub expires_at: Duration,
}

/// One change to the lease, as the store's history keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseEvent {
    /// When, in simulated time since the run began.
    pub at: Duration,
    /// Whose lease.
    pub holder: NodeId,
    /// Under which token.
    pub token: FencingToken,
    /// What happened to it.
    pub change: LeaseChange,
}

/// What happened to a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseChange {
    /// Granted to a new holder, until `expires_at`.
    Acquired {
        /// When it expires unless renewed.
        expires_at: Duration,
    },
    /// Extended by its holder (a renew, or a retried acquire), until
    /// `expires_at`.
    Renewed {
        /// The new expiry.
        expires_at: Duration,
    },
    /// Given up by its holder.
    Released,
    /// Taken away by an operator (etcd's `LeaseRevoke`, deleting a
    /// Kubernetes `Lease` object).
    Revoked,
}

/// One holder's time with one lease, from grant to expiry or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenure {
    /// Who held it.
    pub holder: NodeId,
    /// Under which token.
    pub token: FencingToken,
    /// When it was granted.
    pub from: Duration,
    /// When it expired or was released; for a lease still held, its current
    /// expiry.
    pub until: Duration,
}

/// A single lease record with compare-and-set semantics, revisions and
/// time-to-live: the given lease store of this workshop.
#[derive(Debug, Clone)]
pub struct LeaseStore {
    /// The candidates allowed to hold the lease.
    candidates: BTreeSet<NodeId>,
    /// Rises by one with every change; a new lease's token is its value.
    revision: u64,
    /// The lease, if one was granted and not released. It may have expired:
    /// expiry is checked against the time of each request.
    record: Option<LeaseRecord>,
    /// Every change, in order.
    history: Vec<LeaseEvent>,
}

impl LeaseStore {
    /// A store for an election among `candidates`, with no lease granted yet.
    pub fn new(candidates: impl IntoIterator<Item = NodeId>) -> Self {
        Self {
            candidates: candidates.into_iter().collect(),
            revision: 0,
            record: None,
            history: Vec::new(),
        }
    }

    /// Answers one message sent to the store by `caller` at `now` (simulated
    /// time since the run began): what [`Node::serve`] runs for each request.
    ///
    /// [`Node::serve`]: coordination::sim::Node::serve
    pub fn answer(
        &mut self,
        caller: NodeId,
        message: ClusterMessage,
        now: Duration,
    ) -> ClusterMessage {
        let answer = match message {
            ClusterMessage::Lease(request) => self.handle(caller, request, now),
            other => Err(LeaseError::NotALeaseRequest { kind: other.kind() }),
        };
        ClusterMessage::LeaseAnswer(answer)
    }

    /// Handles one request from `caller` at `now`.
    ///
    /// # Errors
    /// [`LeaseError::UnknownNode`] for a caller that is not a candidate;
    /// [`LeaseError::ZeroDuration`] for a lease of zero duration.
    pub fn handle(
        &mut self,
        caller: NodeId,
        request: LeaseRequest,
        now: Duration,
    ) -> Result<LeaseAnswer, LeaseError> {
        if !self.candidates.contains(&caller) {
            return Err(LeaseError::UnknownNode(caller));
        }
        match request {
            LeaseRequest::Acquire { lease_duration } => {
                Ok(self.acquire(caller, positive(lease_duration)?, now))
            }
            LeaseRequest::Renew {
                token,
                lease_duration,
            } => Ok(self.renew(caller, token, positive(lease_duration)?, now)),
            LeaseRequest::Release { token } => Ok(self.release(caller, token, now)),
        }
    }

    /// The lease in force at `now`, if any: granted, not released, not
    /// expired.
    pub fn holder_at(&self, now: Duration) -> Option<LeaseRecord> {
        self.record.filter(|record| now < record.expires_at)
    }

    /// Takes the lease away from its holder, as an operator would. The
    /// holder finds out at its next renewal.
    pub fn revoke(&mut self, now: Duration) {
        if let Some(record) = self.record.take() {
            self.revision += 1;
            self.log(now, record.holder, record.token, LeaseChange::Revoked);
        }
    }

    /// Every change so far, in order.
    pub fn history(&self) -> &[LeaseEvent] {
        &self.history
    }

    /// Every holder's time with the lease, in the order the leases were
    /// granted. A lease still held ends at its current expiry.
    pub fn tenures(&self) -> Vec<Tenure> {
        let mut tenures: Vec<Tenure> = Vec::new();
        for event in &self.history {
            match event.change {
                LeaseChange::Acquired { expires_at } => tenures.push(Tenure {
                    holder: event.holder,
                    token: event.token,
                    from: event.at,
                    until: expires_at,
                }),
                LeaseChange::Renewed { expires_at } => {
                    if let Some(tenure) = tenures.last_mut() {
                        tenure.until = expires_at;
                    }
                }
                LeaseChange::Released | LeaseChange::Revoked => {
                    if let Some(tenure) = tenures.last_mut() {
                        tenure.until = tenure.until.min(event.at);
                    }
                }
            }
        }
        tenures
    }

    fn acquire(&mut self, caller: NodeId, lease_duration: Duration, now: Duration) -> LeaseAnswer {
        match self.holder_at(now) {
            Some(record) if record.holder == caller => {
                // A retried acquire whose first answer was lost: the caller
                // already holds the lease. Extending it is what it asked for.
                self.extend(record, lease_duration, now)
            }
            Some(record) => LeaseAnswer::HeldBy {
                holder: record.holder,
                token: record.token,
                expires_in: record.expires_at - now,
            },
            None => {
                self.revision += 1;
                let token = FencingToken::new(self.revision);
                let expires_at = now + lease_duration;
                self.record = Some(LeaseRecord {
                    holder: caller,
                    token,
                    revision: self.revision,
                    expires_at,
                });
                self.log(now, caller, token, LeaseChange::Acquired { expires_at });
                LeaseAnswer::Granted { token }
            }
        }
    }

    fn renew(
        &mut self,
        caller: NodeId,
        token: FencingToken,
        lease_duration: Duration,
        now: Duration,
    ) -> LeaseAnswer {
        match self.holder_at(now) {
            Some(record) if record.holder == caller && record.token == token => {
                self.extend(record, lease_duration, now)
            }
            _ => LeaseAnswer::Lost { token },
        }
    }

    fn release(&mut self, caller: NodeId, token: FencingToken, now: Duration) -> LeaseAnswer {
        match self.holder_at(now) {
            Some(record) if record.holder == caller && record.token == token => {
                self.record = None;
                self.revision += 1;
                self.log(now, caller, token, LeaseChange::Released);
                LeaseAnswer::Released
            }
            _ => LeaseAnswer::Lost { token },
        }
    }

    /// Extends the holder's unexpired lease: a new revision, the same token.
    fn extend(
        &mut self,
        record: LeaseRecord,
        lease_duration: Duration,
        now: Duration,
    ) -> LeaseAnswer {
        self.revision += 1;
        let expires_at = now + lease_duration;
        self.record = Some(LeaseRecord {
            revision: self.revision,
            expires_at,
            ..record
        });
        self.log(
            now,
            record.holder,
            record.token,
            LeaseChange::Renewed { expires_at },
        );
        LeaseAnswer::Granted {
            token: record.token,
        }
    }

    fn log(&mut self, at: Duration, holder: NodeId, token: FencingToken, change: LeaseChange) {
        self.history.push(LeaseEvent {
            at,
            holder,
            token,
            change,
        });
    }
}

/// The duration, unless it is zero.
fn positive(lease_duration: Duration) -> Result<Duration, LeaseError> {
    if lease_duration.is_zero() {
        Err(LeaseError::ZeroDuration)
    } else {
        Ok(lease_duration)
    }
}
