//! A node's typed handle on the lease store.
//!
//! The network carries one message type and a call can end in many ways: an
//! answer of the right kind, a refusal, a timeout, a crash. [`LeaseClient`]
//! turns all of that into one `Result` per operation, with an error whose
//! [`is_retryable`](LeaseCallError::is_retryable) says what to do next, so
//! that election code reads as the protocol it is.
//!
//! A [`Lease`] also remembers when its request *left* the node. That instant
//! is the only safe origin for the holder's own deadline: the store started
//! the lease later (when the request arrived), so a deadline measured from
//! the sending instant can only end early, never late.

use std::time::Duration;

use coordination::sim::{CallError, Message, Node};
use coordination::{FencingToken, NodeId};
use tokio::time::Instant;

use crate::{ClusterMessage, LeaseAnswer, LeaseError, LeaseRequest};

/// A lease this node was granted, as the node knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The token it was granted under.
    pub token: FencingToken,
    /// When the request that granted or last renewed it left this node: the
    /// store's lease runs from a moment no earlier than this.
    pub requested_at: Instant,
}

/// Why a lease operation did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseCallError {
    /// An acquire was refused: another node holds an unexpired lease.
    #[error("the lease is held by {holder} under {token} for another {expires_in:?}")]
    HeldBy {
        /// Who holds it.
        holder: NodeId,
        /// Under which token.
        token: FencingToken,
        /// How long until it expires unless renewed.
        expires_in: Duration,
    },
    /// A renew or release was refused: this node's lease under `token` has
    /// expired or was taken away. Whoever held it no longer leads.
    #[error("the lease under {token} is no longer this node's")]
    Lost {
        /// The lease's token.
        token: FencingToken,
    },
    /// The store refused the request as malformed.
    #[error("the lease store refused the request: {0}")]
    Refused(LeaseError),
    /// The call got no answer (timeout), or could not be made (this node
    /// crashed).
    #[error(transparent)]
    Call(#[from] CallError),
    /// The store answered with a message that is not a lease answer.
    #[error("the lease store answered with a {kind} message")]
    UnexpectedAnswer {
        /// The kind of message that came back.
        kind: &'static str,
    },
}

impl LeaseCallError {
    /// Whether trying again later can succeed: a lease held by someone else
    /// may expire, and a call that timed out may get through next time. A
    /// lost lease, a refusal and a crashed node stay that way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::HeldBy { .. } => true,
            Self::Call(error) => error.is_retryable(),
            Self::Lost { .. } | Self::Refused(_) | Self::UnexpectedAnswer { .. } => false,
        }
    }

    /// Whether this node has crashed: its task should stop.
    pub fn is_node_down(&self) -> bool {
        matches!(self, Self::Call(CallError::Network(error)) if error.is_node_down())
    }
}

/// A node's client for the lease store.
#[derive(Debug, Clone)]
pub struct LeaseClient {
    /// The node the calls are made from.
    node: Node<ClusterMessage>,
    /// The lease store's node.
    store: NodeId,
    /// How long a call waits for the store's answer.
    timeout: Duration,
}

impl LeaseClient {
    /// A client that calls the store at `store` from `node`, waiting up to
    /// `timeout` for each answer.
    pub fn new(node: Node<ClusterMessage>, store: NodeId, timeout: Duration) -> Self {
        Self {
            node,
            store,
            timeout,
        }
    }

    /// The node the calls are made from: its handle also sleeps on this
    /// node's time.
    pub fn node(&self) -> &Node<ClusterMessage> {
        &self.node
    }

    /// Asks for the lease, for `lease_duration`.
    ///
    /// # Errors
    /// [`LeaseCallError::HeldBy`] when another node holds it; otherwise as
    /// the other variants describe.
    pub async fn acquire(&self, lease_duration: Duration) -> Result<Lease, LeaseCallError> {
        self.grant(LeaseRequest::Acquire { lease_duration }).await
    }

    /// Asks to extend `lease` by `lease_duration` from now.
    ///
    /// # Errors
    /// [`LeaseCallError::Lost`] when the lease is no longer this node's;
    /// otherwise as the other variants describe.
    pub async fn renew(
        &self,
        lease: &Lease,
        lease_duration: Duration,
    ) -> Result<Lease, LeaseCallError> {
        self.grant(LeaseRequest::Renew {
            token: lease.token,
            lease_duration,
        })
        .await
    }

    /// Gives `lease` up.
    ///
    /// # Errors
    /// [`LeaseCallError::Lost`] when it was not this node's any more;
    /// otherwise as the other variants describe.
    pub async fn release(&self, lease: &Lease) -> Result<(), LeaseCallError> {
        match self
            .call(LeaseRequest::Release { token: lease.token })
            .await?
        {
            LeaseAnswer::Released => Ok(()),
            answer => Err(refusal(answer)),
        }
    }

    /// Sends an acquire or a renew; a grant becomes a [`Lease`] stamped with
    /// the instant the request left.
    async fn grant(&self, request: LeaseRequest) -> Result<Lease, LeaseCallError> {
        let requested_at = Instant::now();
        match self.call(request).await? {
            LeaseAnswer::Granted { token } => Ok(Lease {
                token,
                requested_at,
            }),
            answer => Err(refusal(answer)),
        }
    }

    async fn call(&self, request: LeaseRequest) -> Result<LeaseAnswer, LeaseCallError> {
        let answer = self
            .node
            .call(self.store, ClusterMessage::Lease(request), self.timeout)
            .await?;
        match answer {
            ClusterMessage::LeaseAnswer(Ok(answer)) => Ok(answer),
            ClusterMessage::LeaseAnswer(Err(error)) => Err(LeaseCallError::Refused(error)),
            other => Err(LeaseCallError::UnexpectedAnswer { kind: other.kind() }),
        }
    }
}

/// The error that an answer other than the one hoped for stands for.
fn refusal(answer: LeaseAnswer) -> LeaseCallError {
    match answer {
        LeaseAnswer::HeldBy {
            holder,
            token,
            expires_in,
        } => LeaseCallError::HeldBy {
            holder,
            token,
            expires_in,
        },
        LeaseAnswer::Lost { token } => LeaseCallError::Lost { token },
        LeaseAnswer::Granted { .. } | LeaseAnswer::Released => LeaseCallError::UnexpectedAnswer {
            kind: "lease answer of another request",
        },
    }
}
