//! What the queue refuses.

use std::time::Duration;

use crate::{MessageId, ReceiptHandle};

/// A request the queue refused. The queue is a deterministic state machine,
/// so the same request in the same state is refused the same way: none of
/// these is worth retrying as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// A send with no message in it.
    #[error("a send must carry at least one message")]
    EmptyBatch,
    /// A send or receive of more messages than one call may carry.
    #[error("{requested} messages asked for in one call; the limit is {limit}")]
    BatchTooLarge {
        /// How many were asked for.
        requested: usize,
        /// The most one call may carry.
        limit: usize,
    },
    /// A message body above [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES).
    #[error("a message of {bytes} bytes is larger than the limit of {limit}")]
    MessageTooLarge {
        /// The body's size.
        bytes: usize,
        /// The largest allowed.
        limit: usize,
    },
    /// A visibility timeout above the queue's limit.
    #[error("a visibility timeout of {requested:?} is longer than the limit of {limit:?}")]
    VisibilityTimeoutTooLong {
        /// What was asked for.
        requested: Duration,
        /// The longest allowed.
        limit: Duration,
    },
    /// The message of this receipt is no longer in the queue: it was deleted
    /// (by this consumer's retry, or by another consumer that received it
    /// later) or dead-lettered.
    #[error("{0} is no longer in the queue")]
    UnknownMessage(MessageId),
    /// The message was received again after this receipt was issued: the
    /// receipt's holder let its visibility timeout run out, and another
    /// consumer holds the message now.
    #[error("{receipt} is stale: the message was received again (receive {newest})")]
    StaleReceipt {
        /// The receipt presented.
        receipt: ReceiptHandle,
        /// The receive number of the newest receipt.
        newest: u32,
    },
    /// A visibility change for a message whose visibility timeout has
    /// already run out (SQS's `MessageNotInflight`).
    #[error("{0} is not in flight any more: its visibility timeout ran out")]
    NotInFlight(ReceiptHandle),
}

impl QueueError {
    /// Whether the error says "you no longer hold this message": its receipt
    /// is outdated. A consumer that sees it drops the message and moves on:
    /// whoever holds it now, or held it last, settles it.
    pub fn means_receipt_outdated(&self) -> bool {
        matches!(
            self,
            Self::UnknownMessage(_) | Self::StaleReceipt { .. } | Self::NotInFlight(_)
        )
    }
}
