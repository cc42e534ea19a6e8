//! A node's typed handle on storage: one call, one `Result`.

use std::time::Duration;

use coordination::sim::{CallError, Message, Node};
use coordination::{FencingToken, NodeId};

use crate::{ClusterMessage, Write, WriteAck, WriteRefused};

/// Why a write was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Storage refused it (with fencing on: a stale or missing token).
    #[error("storage refused the write: {0}")]
    Refused(WriteRefused),
    /// No answer in time, or this node crashed. After a timeout the write
    /// may or may not be in storage.
    #[error(transparent)]
    Call(#[from] CallError),
    /// Storage answered with a message that is not a write answer.
    #[error("storage answered with a {kind} message")]
    UnexpectedAnswer {
        /// The kind of message that came back.
        kind: &'static str,
    },
}

impl WriteError {
    /// Whether sending it again can succeed: only after a timeout.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Call(error) => error.is_retryable(),
            Self::Refused(_) | Self::UnexpectedAnswer { .. } => false,
        }
    }

    /// Whether the refusal says that a newer leader has written: the writer
    /// no longer leads and should step down.
    pub fn means_superseded(&self) -> bool {
        matches!(self, Self::Refused(refused) if refused.means_superseded())
    }

    /// Whether this node has crashed: its task should stop.
    pub fn is_node_down(&self) -> bool {
        matches!(self, Self::Call(CallError::Network(error)) if error.is_node_down())
    }
}

/// A node's client for storage.
#[derive(Debug, Clone)]
pub struct StorageClient {
    /// The node the calls are made from.
    node: Node<ClusterMessage>,
    /// Storage's node.
    storage: NodeId,
    /// How long a call waits for storage's answer.
    timeout: Duration,
}

impl StorageClient {
    /// A client that writes to `storage` from `node`, waiting up to `timeout`
    /// for each answer.
    pub fn new(node: Node<ClusterMessage>, storage: NodeId, timeout: Duration) -> Self {
        Self {
            node,
            storage,
            timeout,
        }
    }

    /// Writes entry number `entry` under `token`.
    ///
    /// # Errors
    /// [`WriteError`]: refused, unanswered, or this node crashed.
    pub async fn write(
        &self,
        token: Option<FencingToken>,
        entry: u64,
    ) -> Result<WriteAck, WriteError> {
        let request = ClusterMessage::Write(Write { entry, token });
        match self.node.call(self.storage, request, self.timeout).await? {
            ClusterMessage::WriteAnswer(Ok(ack)) => Ok(ack),
            ClusterMessage::WriteAnswer(Err(refused)) => Err(WriteError::Refused(refused)),
            other => Err(WriteError::UnexpectedAnswer { kind: other.kind() }),
        }
    }
}
