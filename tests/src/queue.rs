//! The queue itself: SQS's semantics as a pure, deterministic state machine.
//!
//! ## The problem
//!
//! The queue's state has to survive the loss of any one server, so it lives
//! in a Raft log and every replica rebuilds it by applying the log's
//! operations in order. That works only if applying is deterministic: the
//! same operations in the same order must give every replica the same
//! messages, the same receipts and the same deadlines. A queue that read its
//! own clock to decide when a message becomes visible again would disagree
//! with itself across replicas.
//!
//! ## The design
//!
//! [`Queue`] does no I/O and reads no clock. Every method takes the time it
//! happens at, which the Raft leader stamped on the operation when it
//! proposed it ([`Stamped`]); the queue keeps the latest time it has seen
//! and never goes back, so a new leader whose clock is a little behind
//! cannot make a message visible early. Nothing happens between
//! operations: a hidden message whose visibility timeout has run out is
//! simply visible to the next receive, which checks deadlines against its
//! own stamp.
//!
//! Every message not deleted sits in one ordered index, keyed by when it is
//! (or becomes) visible: new messages by their send time, received ones by
//! the end of their visibility timeout. A receive takes from the front of
//! that index, so it costs the logarithm of the queue's size per message,
//! whatever the mix of visible and hidden messages.
//!
//! The verbs are SQS's: send (in batches, with an optional deduplication
//! id remembered for five minutes), receive (with a visibility timeout and a
//! fresh receipt per receive), delete by receipt, change visibility, and a
//! redrive policy that moves a message to the dead-letter queue once it has
//! been received the maximum number of times; plus Azure Service Bus's
//! explicit dead-lettering, for a consumer that knows a message will never
//! succeed, and a redrive from the dead-letter queue back.
//!
//! ## What is left out
//!
//! Delay queues and per-message timers, message retention limits, message
//! attributes and sizes, FIFO message groups, long polling (a receive that
//! finds nothing answers at once; the consumer waits and asks again), and
//! purging. None of them changes how the queue is replicated.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use coordination::{DeadLetterReason, WorkError};
use workshop4::StateMachine;
use workshop4::pipeline::DeduplicationId;

use crate::queue_config::{MAX_BATCH, MAX_MESSAGE_BYTES, MAX_VISIBILITY_TIMEOUT};
use crate::{
    DeadLetteredMessage, MessageId, NewMessage, QueueAttributes, QueueConfig, QueueError,
    QueueOperation, QueueOutput, QueueResult, ReceiptHandle, ReceivedMessage, SendOutcome, Stamped,
};

/// A message in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Queued {
    /// What it says.
    body: String,
    /// How many times it has been received: the number of its newest
    /// receipt.
    receives: u32,
    /// When it is, or becomes, visible: its key in the schedule.
    visible_at: Duration,
}

/// An SQS-like queue with a dead-letter queue; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Its settings.
    config: QueueConfig,
    /// The latest time an operation was stamped with.
    now: Duration,
    /// The id the next queued message gets.
    next_id: u64,
    /// Every message not deleted or dead-lettered.
    messages: BTreeMap<MessageId, Queued>,
    /// The same messages, by when each is (or becomes) visible, then by id.
    schedule: BTreeSet<(Duration, MessageId)>,
    /// The dead-letter queue, by message id.
    dead_letters: BTreeMap<MessageId, DeadLetteredMessage>,
    /// Deduplication ids within their window, with the message each queued.
    deduplication: BTreeMap<DeduplicationId, MessageId>,
    /// The same ids by when they expire, oldest first. Time never goes back,
    /// so they expire in the order they were added.
    deduplication_expiry: VecDeque<(Duration, DeduplicationId)>,
    /// Messages ever queued.
    sent: u64,
    /// Messages ever deleted.
    deleted: u64,
}

impl Queue {
    /// An empty queue at time zero.
    pub fn new(config: QueueConfig) -> Self {
        Self {
            config,
            now: Duration::ZERO,
            next_id: 1,
            messages: BTreeMap::new(),
            schedule: BTreeSet::new(),
            dead_letters: BTreeMap::new(),
            deduplication: BTreeMap::new(),
            deduplication_expiry: VecDeque::new(),
            sent: 0,
            deleted: 0,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// The queue's time: the latest stamp it has applied.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Queues `messages` at `at`, dropping those whose deduplication id was
    /// used within the window.
    ///
    /// # Errors
    /// [`QueueError::EmptyBatch`], [`QueueError::BatchTooLarge`] (above 10),
    /// [`QueueError::MessageTooLarge`]; nothing is queued then.
    pub fn send(&mut self, at: Duration, messages: &[NewMessage]) -> QueueResult {
        check_send(messages)?;
        let now = self.advance(at);
        self.forget_expired_deduplication_ids(now);
        let outcomes = messages
            .iter()
            .map(|message| {
                let known = message
                    .deduplication_id
                    .as_ref()
                    .and_then(|id| self.deduplication.get(id));
                if let Some(&id) = known {
                    return SendOutcome::Duplicate(id);
                }
                let id = MessageId::new(self.next_id);
                self.next_id += 1;
                self.sent += 1;
                self.enqueue(id, message.body.clone(), 0, now);
                if let Some(deduplication_id) = &message.deduplication_id {
                    self.deduplication.insert(deduplication_id.clone(), id);
                    let expires = now + self.config.deduplication_window();
                    self.deduplication_expiry
                        .push_back((expires, deduplication_id.clone()));
                }
                SendOutcome::Queued(id)
            })
            .collect();
        Ok(QueueOutput::Sent(outcomes))
    }

    /// Hands out up to `max_messages` visible messages at `at`, oldest
    /// visible first, each with a new receipt and hidden for
    /// `visibility_timeout` (the queue's default for `None`). A message that
    /// has already been received the maximum number of times goes to the
    /// dead-letter queue instead (the redrive policy).
    ///
    /// # Errors
    /// [`QueueError::BatchTooLarge`] above 10 messages (0 is a valid, empty
    /// receive); [`QueueError::VisibilityTimeoutTooLong`] above 12 hours.
    pub fn receive(
        &mut self,
        at: Duration,
        max_messages: usize,
        visibility_timeout: Option<Duration>,
    ) -> QueueResult {
        check_batch(max_messages.max(1))?;
        let timeout = visibility_timeout.unwrap_or(self.config.visibility_timeout());
        check_visibility(timeout)?;
        let now = self.advance(at);
        let max_receives = self.config.max_receive_count();
        let mut received = Vec::new();
        while received.len() < max_messages {
            let Some(&(visible_at, id)) = self.schedule.first() else {
                break;
            };
            if visible_at > now {
                break;
            }
            self.schedule.remove(&(visible_at, id));
            let message = self
                .messages
                .get_mut(&id)
                .expect("every message in the schedule is in the queue");
            if message.receives >= max_receives.get() {
                self.move_to_dead_letters(id, DeadLetterReason::AttemptsExhausted, None);
                continue;
            }
            message.receives += 1;
            message.visible_at = now + timeout;
            self.schedule.insert((message.visible_at, id));
            received.push(ReceivedMessage {
                id,
                body: message.body.clone(),
                receipt: ReceiptHandle::new(id, message.receives),
                receive_count: message.receives,
            });
        }
        Ok(QueueOutput::Received(received))
    }

    /// Deletes the message of `receipt`, which must be its newest: the
    /// consumer is done with it. A receipt whose visibility timeout ran out
    /// still deletes, as in SQS, as long as nobody received the message
    /// since.
    ///
    /// # Errors
    /// [`QueueError::UnknownMessage`] when the message is gone;
    /// [`QueueError::StaleReceipt`] when it was received again since.
    pub fn delete(&mut self, at: Duration, receipt: ReceiptHandle) -> QueueResult {
        self.advance(at);
        let message = self.newest(receipt)?;
        let key = (message.visible_at, receipt.message());
        self.schedule.remove(&key);
        self.messages.remove(&receipt.message());
        self.deleted += 1;
        Ok(QueueOutput::Deleted)
    }

    /// Hides the message of `receipt` for `timeout` from `at`, or shows it
    /// at once for a zero timeout: how a consumer backs off before a retry.
    ///
    /// # Errors
    /// As [`delete`](Self::delete), and [`QueueError::NotInFlight`] when its
    /// visibility timeout has already run out;
    /// [`QueueError::VisibilityTimeoutTooLong`] above 12 hours.
    pub fn change_visibility(
        &mut self,
        at: Duration,
        receipt: ReceiptHandle,
        timeout: Duration,
    ) -> QueueResult {
        check_visibility(timeout)?;
        let now = self.advance(at);
        let visible_at = self.newest(receipt)?.visible_at;
        if visible_at <= now {
            return Err(QueueError::NotInFlight(receipt));
        }
        let id = receipt.message();
        self.schedule.remove(&(visible_at, id));
        let message = self
            .messages
            .get_mut(&id)
            .expect("a message with a newest receipt is in the queue");
        message.visible_at = now + timeout;
        self.schedule.insert((message.visible_at, id));
        Ok(QueueOutput::VisibilityChanged {
            visible_at: message.visible_at,
        })
    }

    /// Moves the message of `receipt` to the dead-letter queue now, with the
    /// reason and the error of its last attempt.
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    pub fn dead_letter(
        &mut self,
        at: Duration,
        receipt: ReceiptHandle,
        reason: DeadLetterReason,
        error: WorkError,
    ) -> QueueResult {
        self.advance(at);
        let visible_at = self.newest(receipt)?.visible_at;
        self.schedule.remove(&(visible_at, receipt.message()));
        self.move_to_dead_letters(receipt.message(), reason, Some(error));
        Ok(QueueOutput::DeadLettered)
    }

    /// Moves every dead-lettered message back into the queue, visible at
    /// once, with its receive count reset, oldest message first.
    pub fn redrive(&mut self, at: Duration) -> QueueResult {
        let now = self.advance(at);
        let letters = std::mem::take(&mut self.dead_letters);
        let count = letters.len();
        for (id, letter) in letters {
            self.enqueue(id, letter.body, 0, now);
        }
        Ok(QueueOutput::Redriven(count))
    }

    /// How many messages are visible, hidden and dead-lettered at the
    /// queue's own time, and how many were ever sent and deleted.
    pub fn attributes(&self) -> QueueAttributes {
        let visible = self
            .schedule
            .range(..=(self.now, MessageId::new(u64::MAX)))
            .count();
        QueueAttributes {
            visible,
            in_flight: self.messages.len() - visible,
            dead_lettered: self.dead_letters.len(),
            sent: self.sent,
            deleted: self.deleted,
        }
    }

    /// Whether no message is in the queue, visible or hidden: every message
    /// sent was deleted or dead-lettered. Cheaper than counting with
    /// [`attributes`](Self::attributes).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The dead-letter queue, by message id.
    pub fn dead_letters(&self) -> impl Iterator<Item = &DeadLetteredMessage> {
        self.dead_letters.values()
    }

    /// The messages still in the queue (visible or hidden), by id, with how
    /// many times each has been received.
    pub fn queued(&self) -> impl Iterator<Item = (MessageId, u32)> + '_ {
        self.messages
            .iter()
            .map(|(&id, message)| (id, message.receives))
    }

    /// Moves the queue's time to `at`, unless it is already later, and
    /// returns it.
    fn advance(&mut self, at: Duration) -> Duration {
        self.now = self.now.max(at);
        self.now
    }

    /// Puts a message in the queue, visible from `visible_at`.
    fn enqueue(&mut self, id: MessageId, body: String, receives: u32, visible_at: Duration) {
        self.schedule.insert((visible_at, id));
        self.messages.insert(
            id,
            Queued {
                body,
                receives,
                visible_at,
            },
        );
    }

    /// The message `receipt` is the newest receipt of.
    fn newest(&self, receipt: ReceiptHandle) -> Result<&Queued, QueueError> {
        let message = self
            .messages
            .get(&receipt.message())
            .ok_or(QueueError::UnknownMessage(receipt.message()))?;
        if message.receives != receipt.receive() {
            return Err(QueueError::StaleReceipt {
                receipt,
                newest: message.receives,
            });
        }
        Ok(message)
    }

    /// Takes message `id` (already out of the schedule) out of the queue
    /// and into the dead-letter queue.
    fn move_to_dead_letters(
        &mut self,
        id: MessageId,
        reason: DeadLetterReason,
        last_error: Option<WorkError>,
    ) {
        let message = self
            .messages
            .remove(&id)
            .expect("only a queued message is dead-lettered");
        self.dead_letters.insert(
            id,
            DeadLetteredMessage {
                id,
                body: message.body,
                receive_count: message.receives,
                reason,
                last_error,
                dead_lettered_at: self.now,
            },
        );
    }

    /// Forgets the deduplication ids whose window has passed by `now`.
    fn forget_expired_deduplication_ids(&mut self, now: Duration) {
        while let Some((expires, _)) = self.deduplication_expiry.front() {
            if *expires > now {
                break;
            }
            if let Some((_, id)) = self.deduplication_expiry.pop_front() {
                self.deduplication.remove(&id);
            }
        }
    }
}

impl StateMachine for Queue {
    type Operation = Stamped;
    type Output = QueueResult;

    fn apply(&mut self, stamped: &Stamped) -> QueueResult {
        let at = stamped.at;
        match &stamped.operation {
            QueueOperation::Send(messages) => self.send(at, messages),
            QueueOperation::Receive {
                max_messages,
                visibility_timeout,
            } => self.receive(at, *max_messages, *visibility_timeout),
            QueueOperation::Delete(receipt) => self.delete(at, *receipt),
            QueueOperation::ChangeVisibility { receipt, timeout } => {
                self.change_visibility(at, *receipt, *timeout)
            }
            QueueOperation::DeadLetter {
                receipt,
                reason,
                error,
            } => self.dead_letter(at, *receipt, *reason, error.clone()),
            QueueOperation::Redrive => self.redrive(at),
        }
    }
}

/// Refuses a send the queue would refuse: an empty one, one above the batch
/// limit, or one with a body above [`MAX_MESSAGE_BYTES`]. A node checks it
/// before proposing, so such a send never enters the log.
///
/// # Errors
/// [`QueueError::EmptyBatch`], [`QueueError::BatchTooLarge`],
/// [`QueueError::MessageTooLarge`].
pub fn check_send(messages: &[NewMessage]) -> Result<(), QueueError> {
    check_batch(messages.len())?;
    match messages
        .iter()
        .map(|message| message.body.len())
        .find(|&bytes| bytes > MAX_MESSAGE_BYTES)
    {
        Some(bytes) => Err(QueueError::MessageTooLarge {
            bytes,
            limit: MAX_MESSAGE_BYTES,
        }),
        None => Ok(()),
    }
}

/// Refuses an empty send and any batch above the limit.
fn check_batch(size: usize) -> Result<(), QueueError> {
    match size {
        0 => Err(QueueError::EmptyBatch),
        size if size > MAX_BATCH => Err(QueueError::BatchTooLarge {
            requested: size,
            limit: MAX_BATCH,
        }),
        _ => Ok(()),
    }
}

/// Refuses a visibility timeout above the limit.
fn check_visibility(timeout: Duration) -> Result<(), QueueError> {
    if timeout > MAX_VISIBILITY_TIMEOUT {
        return Err(QueueError::VisibilityTimeoutTooLong {
            requested: timeout,
            limit: MAX_VISIBILITY_TIMEOUT,
        });
    }
    Ok(())
}
