//! A stage's queue: at-least-once delivery with receipts and a visibility
//! timeout, and deduplication of sends by id within a window.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Duration;

use super::{ImageId, Job, Stage};

/// Names a message for deduplication: two sends with the same id within the
/// window are one message (SQS FIFO's `MessageDeduplicationId`). Only useful
/// if the id is the same every time the *same* message is sent, and
/// different for different messages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeduplicationId(String);

impl DeduplicationId {
    /// An id with this text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeduplicationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One delivery of a message to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Proves which delivery an acknowledgement is for; new on every
    /// delivery.
    pub receipt: u64,
    /// How many times this message has been handed out, this time included
    /// (SQS's `ApproximateReceiveCount`).
    pub attempt: u32,
    /// The message.
    pub job: Job,
}

/// A message in the queue, with how often it was handed out.
#[derive(Debug, Clone, Copy)]
struct Queued {
    job: Job,
    receives: u32,
}

/// One stage's queue; see the module documentation.
#[derive(Debug, Clone)]
pub struct StageQueue {
    /// Which stage reads it.
    stage: Stage,
    /// How long a received message stays hidden before it is handed out
    /// again, unless acknowledged.
    visibility_timeout: Duration,
    /// How long a deduplication id is remembered.
    deduplication_window: Duration,
    /// Messages ready to hand out, oldest first.
    visible: VecDeque<Queued>,
    /// Handed out and not acknowledged: receipt → message and when it
    /// becomes visible again.
    in_flight: BTreeMap<u64, (Queued, Duration)>,
    /// Deduplication ids seen, with when they were first sent.
    seen: BTreeMap<DeduplicationId, Duration>,
    /// The next receipt to issue.
    next_receipt: u64,
    /// How many messages were accepted per image: more than one means a
    /// duplicate got in.
    accepted: BTreeMap<ImageId, u32>,
    /// Sends dropped as duplicates.
    dropped_duplicates: u64,
}

impl StageQueue {
    /// An empty queue for `stage`.
    pub fn new(stage: Stage, visibility_timeout: Duration, deduplication_window: Duration) -> Self {
        Self {
            stage,
            visibility_timeout,
            deduplication_window,
            visible: VecDeque::new(),
            in_flight: BTreeMap::new(),
            seen: BTreeMap::new(),
            next_receipt: 1,
            accepted: BTreeMap::new(),
            dropped_duplicates: 0,
        }
    }

    /// The stage that reads this queue.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Adds `job` at the back, whatever was sent before.
    pub fn send(&mut self, job: Job) {
        *self.accepted.entry(job.image).or_default() += 1;
        self.visible.push_back(Queued { job, receives: 0 });
    }

    /// Adds `job` at the back unless a message with `id` was sent within the
    /// deduplication window before `now`; returns whether it was added.
    pub fn send_deduplicated(&mut self, job: Job, id: DeduplicationId, now: Duration) -> bool {
        let window = self.deduplication_window;
        self.seen
            .retain(|_, first_sent| now.saturating_sub(*first_sent) < window);
        if self.seen.contains_key(&id) {
            self.dropped_duplicates += 1;
            return false;
        }
        self.seen.insert(id, now);
        self.send(job);
        true
    }

    /// Returns every message whose visibility timeout passed by `now` to the
    /// front of the queue, oldest receipt first.
    pub fn release_expired(&mut self, now: Duration) {
        let expired: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, (_, visible_at))| *visible_at <= now)
            .map(|(receipt, _)| *receipt)
            .collect();
        for receipt in expired.into_iter().rev() {
            if let Some((queued, _)) = self.in_flight.remove(&receipt) {
                self.visible.push_front(queued);
            }
        }
    }

    /// Hands out the oldest visible message, hidden for the visibility
    /// timeout. With `leave_a_copy`, a copy stays visible and is handed out
    /// again: a standard queue's occasional duplicate delivery.
    pub fn receive(&mut self, now: Duration, leave_a_copy: bool) -> Option<Delivery> {
        let mut queued = self.visible.pop_front()?;
        queued.receives += 1;
        if leave_a_copy {
            self.visible.push_back(queued);
        }
        let receipt = self.next_receipt;
        self.next_receipt += 1;
        self.in_flight
            .insert(receipt, (queued, now + self.visibility_timeout));
        Some(Delivery {
            receipt,
            attempt: queued.receives,
            job: queued.job,
        })
    }

    /// Deletes the message of `receipt`; false when the receipt is unknown
    /// (already acknowledged, or the message was handed out again).
    pub fn acknowledge(&mut self, receipt: u64) -> bool {
        self.in_flight.remove(&receipt).is_some()
    }

    /// Whether a message is ready to hand out.
    pub fn has_visible(&self) -> bool {
        !self.visible.is_empty()
    }

    /// When the first hidden message becomes visible again.
    pub fn next_visible_at(&self) -> Option<Duration> {
        self.in_flight.values().map(|(_, at)| *at).min()
    }

    /// Whether nothing is visible or hidden: all done.
    pub fn is_empty(&self) -> bool {
        self.visible.is_empty() && self.in_flight.is_empty()
    }

    /// How many messages were accepted for each image.
    pub fn accepted(&self) -> &BTreeMap<ImageId, u32> {
        &self.accepted
    }

    /// How many sends were dropped as duplicates.
    pub fn dropped_duplicates(&self) -> u64 {
        self.dropped_duplicates
    }
}
