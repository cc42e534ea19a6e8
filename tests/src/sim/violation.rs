//! The rules a scenario can break, as values.
//!
//! A broken rule is a variant that names the message and the numbers that
//! broke it, so a test asks which rule broke (`matches!`) rather than
//! searching a sentence for a phrase, and the sentence a person reads is
//! written once, in `Display`.

use std::fmt;

use coordination::{DeadLetterReason, NodeId, WorkError};
use workshop4::pipeline::ImageId;
use workshop4::{Entry, LogIndex};

use crate::{Command, MessageId};

/// A rule of [`ScenarioReport::violations`](super::ScenarioReport::violations)
/// that a run broke.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// The run was still going at its time limit.
    Unfinished {
        /// Messages still in the queue then.
        left_in_queue: usize,
    },
    /// Two replicas applied different commands at one index, or one applied
    /// out of order.
    Safety(SafetyViolation),
    /// The replicas' logs disagree.
    LogsDisagree(LogDisagreement),
    /// An upload was never queued, though its producer finished.
    NeverQueued {
        /// The upload's image.
        image: ImageId,
    },
    /// An upload was queued more than once: deduplication by id failed.
    QueuedMoreThanOnce {
        /// The upload's image.
        image: ImageId,
        /// Every message queued for it, in order.
        messages: Vec<MessageId>,
    },
    /// A poison upload was published.
    PoisonPublished {
        /// The upload's image.
        image: ImageId,
        /// Its message.
        message: MessageId,
        /// How many posts the gallery shows for it.
        posts: usize,
    },
    /// A poison upload is not in the dead-letter queue.
    PoisonNotDeadLettered {
        /// The upload's image.
        image: ImageId,
        /// Its message.
        message: MessageId,
        /// Where it is instead.
        still_queued: Option<StillQueued>,
    },
    /// A message is in the dead-letter queue with no receive count.
    DeadLetteredWithoutReceives {
        /// The upload's image.
        image: ImageId,
        /// The dead letter's message.
        message: MessageId,
    },
    /// A healthy upload was never published.
    Lost {
        /// The upload's image.
        image: ImageId,
        /// Its message.
        message: MessageId,
        /// Where it is instead.
        still_queued: Option<StillQueued>,
    },
    /// A healthy upload was published more than once.
    PublishedMoreThanOnce {
        /// The upload's image.
        image: ImageId,
        /// Its message.
        message: MessageId,
        /// How many posts the gallery shows for it.
        posts: usize,
    },
    /// A healthy upload was dead-lettered.
    HealthyDeadLettered {
        /// The upload's image.
        image: ImageId,
        /// The dead letter's message.
        message: MessageId,
        /// How many times it had been received.
        receive_count: u32,
        /// Why it was set aside.
        reason: DeadLetterReason,
        /// The error a consumer reported with it, if any.
        last_error: Option<WorkError>,
    },
}

/// A message that should have been settled and is still in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillQueued {
    /// Which message.
    pub message: MessageId,
    /// How many times it was received.
    pub receives: u32,
}

/// A replica that applied what it must not have.
#[derive(Debug, Clone, PartialEq)]
pub enum SafetyViolation {
    /// A replica applied an index other than the next one.
    OutOfOrder {
        /// The replica.
        node: NodeId,
        /// The index it applied.
        applied: LogIndex,
        /// The index that was next.
        expected: u64,
    },
    /// A replica applied a command other than the one another replica
    /// applied at the same index.
    Conflict {
        /// The replica.
        node: NodeId,
        /// The index.
        index: LogIndex,
        /// What it applied there (boxed, as commands are large).
        applied: Box<Command>,
        /// What another replica applied there first.
        first: Box<Command>,
    },
}

/// Replicas whose logs do not agree.
#[derive(Debug, Clone, PartialEq)]
pub enum LogDisagreement {
    /// A replica's log in memory is not the one on its disk.
    MemoryAndDisk {
        /// The replica.
        node: NodeId,
        /// Entries in memory.
        in_memory: usize,
        /// Entries on disk.
        on_disk: usize,
    },
    /// Two replicas hold different entries at an index both committed.
    Committed {
        /// The replica with the highest commit index.
        reference: NodeId,
        /// The replica that differs from it.
        node: NodeId,
        /// The index.
        index: LogIndex,
        /// What the reference holds there (boxed, as entries are large).
        ours: Option<Box<Entry<Command>>>,
        /// What the other replica holds there.
        theirs: Option<Box<Entry<Command>>>,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unfinished { left_in_queue } => write!(
                f,
                "the run was still going at its time limit: {left_in_queue} messages left in the \
                 queue"
            ),
            Self::Safety(violation) => write!(f, "safety: {violation}"),
            Self::LogsDisagree(disagreement) => {
                write!(f, "the replicas' logs disagree: {disagreement}")
            }
            Self::NeverQueued { image } => write!(
                f,
                "{image} was never queued, though its producer finished: lost before the queue"
            ),
            Self::QueuedMoreThanOnce { image, messages } => {
                let list: Vec<String> = messages.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "{image} was queued {} times ({}): deduplication by id failed",
                    messages.len(),
                    list.join(", ")
                )
            }
            Self::PoisonPublished {
                image,
                message,
                posts,
            } => write!(
                f,
                "{image} ({message}) is poison but was published {posts} time(s)"
            ),
            Self::PoisonNotDeadLettered {
                image,
                message,
                still_queued,
            } => write!(
                f,
                "{image} ({message}) is poison but is not in the dead-letter queue{}",
                WhereElse(*still_queued)
            ),
            Self::DeadLetteredWithoutReceives { image, message } => write!(
                f,
                "{image} ({message}) is in the dead-letter queue with no receive count"
            ),
            Self::Lost {
                image,
                message,
                still_queued,
            } => write!(
                f,
                "{image} ({message}) was never published: lost{}",
                WhereElse(*still_queued)
            ),
            Self::PublishedMoreThanOnce {
                image,
                message,
                posts,
            } => write!(
                f,
                "{image} ({message}) was published {posts} times: applied more than once"
            ),
            Self::HealthyDeadLettered {
                image,
                message,
                receive_count,
                reason,
                last_error,
            } => {
                write!(
                    f,
                    "{image} ({message}) is healthy but was dead-lettered after {receive_count} \
                     receive(s): {reason}"
                )?;
                match last_error {
                    Some(error) => write!(f, " ({error})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Where a message that should have been settled is instead, as the tail
/// of a sentence.
struct WhereElse(Option<StillQueued>);

impl fmt::Display for WhereElse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(StillQueued { message, receives }) => write!(
                f,
                " ({message} is still in the queue after {receives} receive(s))"
            ),
            None => write!(
                f,
                " (it is neither in the queue nor in the dead-letter queue)"
            ),
        }
    }
}

impl fmt::Display for SafetyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfOrder {
                node,
                applied,
                expected,
            } => write!(
                f,
                "{node} applied {applied} when index {expected} was next: out of order"
            ),
            Self::Conflict {
                node,
                index,
                applied,
                first,
            } => write!(
                f,
                "{node} applied {applied:?} at {index}, but another replica applied {first:?} there"
            ),
        }
    }
}

impl fmt::Display for LogDisagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MemoryAndDisk {
                node,
                in_memory,
                on_disk,
            } => write!(
                f,
                "{node}'s log in memory ({in_memory} entries) differs from its log on disk \
                 ({on_disk} entries)"
            ),
            Self::Committed {
                reference,
                node,
                index,
                ours,
                theirs,
            } => write!(
                f,
                "{reference} and {node} disagree at committed {index}: {ours:?} against {theirs:?}"
            ),
        }
    }
}
