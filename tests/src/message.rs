//! What the queue holds and hands out: message ids, receipt handles, and the
//! messages on their way in, out and to the dead-letter queue.
//!
//! Amazon SQS names these things, and so does this module: a producer sends a
//! body (with an optional deduplication id), the queue answers with a
//! [`MessageId`]; a consumer receives a [`ReceivedMessage`] with a
//! [`ReceiptHandle`] and an approximate receive count, and deletes the
//! message by its handle when it is done.

use std::fmt;
use std::time::Duration;

use coordination::{DeadLetterReason, FencingToken, WorkError};
use workshop4::pipeline::DeduplicationId;

/// Identifies one message for its whole life in the queue, from the order in
/// which the queue accepted it (SQS's `MessageId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(u64);

impl MessageId {
    /// Wraps a raw number as a message id. Ids are issued by the queue.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message-{}", self.0)
    }
}

/// Proof of one receive of one message (SQS's `ReceiptHandle`).
///
/// Every receive of a message issues a new handle, numbered by the message's
/// receive count, and only the newest handle of a message can delete it or
/// change its visibility. The number doubles as a **fencing token** for
/// whatever the consumer writes: a consumer whose visibility timeout ran out
/// holds an older handle than the consumer that received the message after
/// it, so a store that remembers the highest token it saw per message can
/// refuse the stale writer (Workshop 3's fencing, with the queue as the
/// issuer of tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceiptHandle {
    /// The message it is a receipt for.
    message: MessageId,
    /// Which receive of the message issued it: 1 for the first.
    receive: u32,
}

impl ReceiptHandle {
    /// The handle of receive number `receive` of `message`. Handles are
    /// issued by the queue; tests build them to present stale ones.
    pub const fn new(message: MessageId, receive: u32) -> Self {
        Self { message, receive }
    }

    /// The message it is a receipt for.
    pub const fn message(self) -> MessageId {
        self.message
    }

    /// Which receive of the message issued it: 1 for the first.
    pub const fn receive(self) -> u32 {
        self.receive
    }

    /// The fencing token a consumer writes with: later receives of the same
    /// message always carry a larger one.
    pub const fn fencing_token(self) -> FencingToken {
        FencingToken::new(self.receive as u64)
    }
}

impl fmt::Display for ReceiptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "receipt {}#{}", self.message, self.receive)
    }
}

/// A message a producer sends (one entry of SQS's `SendMessageBatch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// What the message says; the queue never looks inside.
    pub body: String,
    /// Names the message for deduplication: a second send with the same id
    /// within the queue's deduplication window is accepted but not queued
    /// again (SQS FIFO's `MessageDeduplicationId`, Workshop 4's
    /// [`DeduplicationId`]).
    pub deduplication_id: Option<DeduplicationId>,
}

/// What the queue answered for one [`NewMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The message was queued under this id.
    Queued(MessageId),
    /// A message with the same deduplication id was queued within the
    /// window, under this id; nothing new was queued.
    Duplicate(MessageId),
}

impl SendOutcome {
    /// The id the message is (or already was) queued under.
    pub fn message(self) -> MessageId {
        match self {
            Self::Queued(id) | Self::Duplicate(id) => id,
        }
    }
}

/// One message handed to a consumer by a receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Which message.
    pub id: MessageId,
    /// Its body.
    pub body: String,
    /// The handle that proves this receive: delete or extend with it.
    pub receipt: ReceiptHandle,
    /// How many times the message has been received, this time included
    /// (SQS's `ApproximateReceiveCount`; exact here, because every receive
    /// goes through the replicated log).
    pub receive_count: u32,
}

/// A message set aside in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetteredMessage {
    /// Which message.
    pub id: MessageId,
    /// Its body, kept whole so it can be redriven.
    pub body: String,
    /// How many times it had been received when it was set aside.
    pub receive_count: u32,
    /// Why: a consumer said it can never succeed, or it was received the
    /// maximum number of times without being deleted.
    pub reason: DeadLetterReason,
    /// The error a consumer reported with it; `None` when the queue moved it
    /// by its redrive policy, knowing only that nobody deleted it.
    pub last_error: Option<WorkError>,
    /// When it was set aside, in queue time.
    pub dead_lettered_at: Duration,
}
