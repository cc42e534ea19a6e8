//! Where work goes when it will not succeed.
//!
//! Retrying a poison message forever blocks capacity; dropping it loses it. A
//! dead-letter queue is the third way: the item is set aside with the reason,
//! the number of attempts and the last error, so that a person can look at it,
//! fix the cause and *redrive* it (send it back for another try). SQS moves a
//! message to its dead-letter queue after `maxReceiveCount` receives; Azure
//! Service Bus after `MaxDeliveryCount` deliveries (default 10), or at once when
//! the consumer dead-letters it explicitly.

use std::fmt;
use std::time::Duration;

use crate::{WorkError, WorkItem};

/// Why an item was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterReason {
    /// The item failed with a permanent error; retrying could not help.
    PermanentFailure,
    /// Every allowed attempt failed with a retryable error.
    AttemptsExhausted,
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PermanentFailure => "permanent failure",
            Self::AttemptsExhausted => "attempts exhausted",
        })
    }
}

/// One item in a dead-letter queue, with what is known about its failure.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter<I> {
    /// The item itself, kept whole so it can be redriven.
    pub item: I,
    /// Why it was set aside.
    pub reason: DeadLetterReason,
    /// How many attempts it had.
    pub attempts: u32,
    /// The error of its last attempt.
    pub last_error: WorkError,
    /// When it was set aside, in simulated time since the run began.
    pub dead_lettered_at: Duration,
}

/// A place for items that failed for good, from which they can be redriven.
///
/// Methods take `&self`: a dead-letter queue is shared by every worker of a
/// distributor and outlives a single run, like a real one.
pub trait DeadLetterQueue<I: WorkItem>: Send + Sync {
    /// Sets `letter` aside.
    fn push(&self, letter: DeadLetter<I>);

    /// How many items are set aside.
    fn len(&self) -> usize;

    /// Whether nothing is set aside.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every letter, oldest first, leaving them in place (what a
    /// console shows before anyone decides to redrive).
    fn letters(&self) -> Vec<DeadLetter<I>>;

    /// Takes every item out, oldest first, to be sent back for another try.
    /// Afterwards the queue is empty.
    fn redrive(&self) -> Vec<I>;
}
