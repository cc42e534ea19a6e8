//! The queue's verbs, as values: what a client asks for, and what it gets.
//!
//! Every change to the queue is an operation that goes through the Raft log,
//! so each is a value that can be cloned to followers, compared, printed and
//! encoded. The leader **stamps** each with its clock when it proposes it
//! ([`Stamped`]): applying an operation never reads a clock, so every
//! replica computes the same visibility deadlines from the same log.

use std::time::Duration;

use coordination::{DeadLetterReason, WorkError};

use crate::{NewMessage, QueueError, ReceiptHandle, ReceivedMessage, SendOutcome};

/// One request to the queue (the API of SQS, plus one verb of Azure Service
/// Bus).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOperation {
    /// `SendMessageBatch`: queue these messages, 1 to 10 of them.
    Send(Vec<NewMessage>),
    /// `ReceiveMessage`: hand out up to `max_messages` visible messages,
    /// hidden for `visibility_timeout` (the queue's default if `None`).
    Receive {
        /// At most this many, 1 to 10.
        max_messages: usize,
        /// How long they stay hidden; `None` for the queue's default.
        visibility_timeout: Option<Duration>,
    },
    /// `DeleteMessage`: the consumer is done with the message.
    Delete(ReceiptHandle),
    /// `ChangeMessageVisibility`: hide the message for `timeout` from now
    /// (0 makes it visible at once). A consumer backs off this way.
    ChangeVisibility {
        /// The message, by its newest receipt.
        receipt: ReceiptHandle,
        /// How long from now it stays hidden.
        timeout: Duration,
    },
    /// Set the message aside in the dead-letter queue now, with the reason
    /// and the error (Azure Service Bus's `DeadLetter`; SQS only dead-letters
    /// by its redrive policy, which this queue also does).
    DeadLetter {
        /// The message, by its newest receipt.
        receipt: ReceiptHandle,
        /// Why.
        reason: DeadLetterReason,
        /// The error of the last attempt.
        error: WorkError,
    },
    /// Move every dead-lettered message back into the queue, receive count
    /// reset (SQS's dead-letter queue redrive).
    Redrive,
}

impl QueueOperation {
    /// A short name for logs and message counts.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Send(_) => "send",
            Self::Receive { .. } => "receive",
            Self::Delete(_) => "delete",
            Self::ChangeVisibility { .. } => "change visibility",
            Self::DeadLetter { .. } => "dead-letter",
            Self::Redrive => "redrive",
        }
    }
}

/// An operation with the time the leader proposed it at: the only clock the
/// queue ever reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    /// The leader's clock when it proposed the operation, as time since an
    /// epoch the whole deployment shares. The queue never lets its own time
    /// go backwards, so a new leader whose clock is a little behind cannot
    /// make a hidden message visible early.
    pub at: Duration,
    /// What to do.
    pub operation: QueueOperation,
}

/// What an operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOutput {
    /// The messages of a send, in order.
    Sent(Vec<SendOutcome>),
    /// The messages of a receive; empty when none was visible.
    Received(Vec<ReceivedMessage>),
    /// The message was deleted.
    Deleted,
    /// The message stays hidden until this queue time.
    VisibilityChanged {
        /// When it becomes visible again.
        visible_at: Duration,
    },
    /// The message is in the dead-letter queue.
    DeadLettered,
    /// This many messages went back from the dead-letter queue.
    Redriven(usize),
}

/// What applying an operation returns to the client.
pub type QueueResult = Result<QueueOutput, QueueError>;

/// How many messages are where (SQS's approximate attributes; exact here,
/// at the queue's own time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueAttributes {
    /// Waiting to be received (`ApproximateNumberOfMessages`).
    pub visible: usize,
    /// Received and not yet deleted, or backing off
    /// (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: usize,
    /// In the dead-letter queue.
    pub dead_lettered: usize,
    /// Ever queued (duplicates by deduplication id not counted).
    pub sent: u64,
    /// Ever deleted.
    pub deleted: u64,
}

impl QueueAttributes {
    /// Messages in the queue, visible or not: its depth.
    pub fn depth(&self) -> usize {
        self.visible + self.in_flight
    }
}
