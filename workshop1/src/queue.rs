//! An in-memory work queue with the semantics of Amazon SQS.
//!
//! Every distributor in this workshop is a set of consumers pulling from one
//! [`WorkQueue`], as consumers pull from SQS or Azure Service Bus. What changes
//! from exercise to exercise is what a consumer does after an attempt fails, so
//! the queue offers each choice as a verb:
//!
//! | verb            | what happens to the item                    | exercise |
//! |-----------------|---------------------------------------------|----------|
//! | [`complete`]    | done (SQS `DeleteMessage`)                  | all      |
//! | [`give_up`]     | dropped: the item is lost                   | naive    |
//! | [`retry_now`]   | tried again at once by the same worker      | 1.1      |
//! | [`requeue`]     | back of the queue                           | 1.2      |
//! | [`retry_after`] | invisible for a delay, then back (SQS `ChangeMessageVisibility`) | 1.4 |
//! | [`dead_letter`] | set aside with its reason                   | 1.5      |
//! | [`reclaim`]     | taken back from a worker that never answered | 1.6     |
//!
//! Each [`receive`](WorkQueue::receive) hands out a [`Delivery`] with a fresh
//! [`Receipt`]. Only the newest receipt of an item can settle it: a worker that
//! answers after its item was reclaimed and handed to someone else gets its
//! late result rejected, never counted twice. That rule lives in the
//! [`WorkTracker`] underneath ([`InMemoryWorkTracker`] unless
//! [`with_tracker`](WorkQueue::with_tracker) gives another), which also keeps
//! the history every report and test reads.
//!
//! The queue knows when the run is over: when every item has either reached a
//! final state or been given up, it is *drained*, and `receive` returns `None`
//! to every consumer.
//!
//! Design: one `std::sync::Mutex` around the whole state, tracker included
//! (never held across an `.await`), which also counts changes, and one
//! `tokio::sync::Notify`. The tracker is a plain value inside that state, so
//! an item's place in the queue and its status change together, and no rule
//! about the order of two locks is needed. A
//! consumer with nothing to do registers with the `Notify` *before* it looks
//! at the state, then waits only if the count has not moved: a change that
//! lands in between cannot be missed. Waiting consumers all wake on every
//! change and re-check; with a handful of workers that is cheaper than
//! tracking who waits for what. (A `tokio::sync::watch` channel expresses the
//! same thing, but wakes through several internal notifiers on every change,
//! which cost a fifth of the queue's time per item when measured.)
//!
//! Left out: message retention limits, FIFO groups, batching, long-polling
//! limits. Capstone material.
//!
//! [`complete`]: WorkQueue::complete
//! [`give_up`]: WorkQueue::give_up
//! [`retry_now`]: WorkQueue::retry_now
//! [`requeue`]: WorkQueue::requeue
//! [`retry_after`]: WorkQueue::retry_after
//! [`dead_letter`]: WorkQueue::dead_letter
//! [`reclaim`]: WorkQueue::reclaim

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::sim::clock;
use coordination::wait::{self, Check};
use coordination::{
    Attempt, DeadLetter, DeadLetterQueue, DeadLetterReason, DistributeError, InMemoryWorkTracker,
    Receipt, RunReport, TrackerError, WorkError, WorkItem, WorkItemId, WorkTracker, WorkerId,
};
use tokio::sync::Notify;

/// One item handed to one worker for one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<I> {
    /// The work.
    item: I,
    /// Proof of holding this attempt.
    receipt: Receipt,
    /// Which attempt this is (SQS calls it `ApproximateReceiveCount`).
    attempt: Attempt,
    /// Who received it.
    worker: WorkerId,
    /// When, in simulated time since the run began.
    received_at: Duration,
}

impl<I: WorkItem> Delivery<I> {
    /// The item to process.
    pub fn item(&self) -> &I {
        &self.item
    }

    /// The receipt of this delivery.
    pub fn receipt(&self) -> Receipt {
        self.receipt
    }

    /// Which attempt this delivery is: 1 the first time the item is received.
    pub fn attempt(&self) -> Attempt {
        self.attempt
    }

    /// The worker that received it.
    pub fn worker(&self) -> WorkerId {
        self.worker
    }

    /// When it was received, in simulated time since the run began.
    pub fn received_at(&self) -> Duration {
        self.received_at
    }
}

/// A delivery in flight, as [`WorkQueue::in_flight`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    /// The receipt to [`reclaim`](WorkQueue::reclaim) it by.
    pub receipt: Receipt,
    /// The item.
    pub item: WorkItemId,
    /// The worker holding it.
    pub worker: WorkerId,
    /// When that worker received it.
    pub received_at: Duration,
}

/// A shared work queue; cloning gives another handle to the same queue.
///
/// `T` keeps every item's lifecycle; tests may give a tracker of their own
/// to watch what the queue does with it.
pub struct WorkQueue<I: WorkItem, T: WorkTracker = InMemoryWorkTracker> {
    shared: Arc<Shared<I, T>>,
}

impl<I: WorkItem, T: WorkTracker> Clone for WorkQueue<I, T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<I, T> {
    /// Where every item is and what happened to it, under one lock.
    state: Mutex<QueueState<I, T>>,
    /// Wakes everyone waiting for a change, so they re-check.
    changed: Notify,
    /// Wakes whoever waits for the end of the run, once, when the last item
    /// settles; kept apart from `changed` so that waiting for the end costs
    /// nothing per change.
    drained: Notify,
}

struct QueueState<I, T> {
    /// The lifecycle and history of every item.
    tracker: T,
    /// Visible now, oldest first.
    ready: VecDeque<I>,
    /// Waiting out a retry delay, keyed by when they become visible; the
    /// sequence number keeps items due at the same instant in arrival order.
    delayed: BTreeMap<(Duration, u64), I>,
    /// Handed out and not yet settled, by receipt.
    in_flight: BTreeMap<Receipt, Delivery<I>>,
    /// How many items are neither final nor given up; zero means drained.
    unsettled: usize,
    /// Next tie-breaker for `delayed`.
    sequence: u64,
    /// How many changes there have been; a waiter compares it with the last
    /// count it saw.
    version: u64,
    /// How many [`QueueChanges`] exist, so a change with nobody to wake
    /// skips the wake-up.
    waiting: usize,
}

impl<I: WorkItem> WorkQueue<I> {
    /// A queue holding `items`, each submitted to a fresh tracker.
    ///
    /// # Errors
    /// [`DistributeError::DuplicateItem`] when two items share an id; nothing is
    /// queued then.
    pub fn new(items: Vec<I>) -> Result<Self, DistributeError> {
        let mut tracker = InMemoryWorkTracker::new();
        let ids: Vec<WorkItemId> = items.iter().map(WorkItem::id).collect();
        // A fresh tracker refuses a batch only for a repeated id, and refuses
        // it whole, before anything is queued.
        if let Err(TrackerError::AlreadySubmitted { item, .. }) = tracker.submit_all(&ids) {
            return Err(DistributeError::DuplicateItem(item));
        }
        Ok(Self::queued(items, tracker))
    }
}

impl<I: WorkItem, T: WorkTracker> WorkQueue<I, T> {
    /// A queue holding `items`, each submitted to `tracker`, which must know
    /// none of them.
    ///
    /// # Errors
    /// [`DistributeError::DuplicateItem`] when two items share an id or
    /// `tracker` knew one already; `tracker` may hold the items before it
    /// then, and nothing is queued.
    pub fn with_tracker(items: Vec<I>, mut tracker: T) -> Result<Self, DistributeError> {
        for item in &items {
            if let Err(TrackerError::AlreadySubmitted { item, .. }) = tracker.submit(item.id()) {
                return Err(DistributeError::DuplicateItem(item));
            }
        }
        Ok(Self::queued(items, tracker))
    }

    /// A queue holding `items`, all pending in `tracker`.
    fn queued(items: Vec<I>, tracker: T) -> Self {
        let state = QueueState {
            tracker,
            unsettled: items.len(),
            ready: items.into(),
            delayed: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            sequence: 0,
            version: 0,
            waiting: 0,
        };
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                changed: Notify::new(),
                drained: Notify::new(),
            }),
        }
    }

    /// Waits for an item and hands it to `worker` under a fresh receipt, or
    /// returns `None` once the queue is drained (every item final or given up).
    pub async fn receive(&self, worker: WorkerId) -> Option<Delivery<I>> {
        loop {
            let (seen, next_visible) = {
                let mut state = self.lock();
                state.release_due();
                if let Some(item) = state.ready.pop_front() {
                    let delivery = state.hand_out(item, worker);
                    tracing::info!(
                        "{worker} took {} ({})",
                        delivery.item.id(),
                        delivery.attempt
                    );
                    // A new delivery in flight is a change too: whoever
                    // watches deadlines must hear of it.
                    self.changed(state);
                    return Some(delivery);
                }
                if state.unsettled == 0 {
                    return None;
                }
                let now = clock::elapsed();
                let next_visible = state.delayed.keys().next().map(|&(at, _)| at - now);
                state.waiting += 1;
                (state.version, next_visible)
            };
            // Nothing to take: wait for a change after the one just seen, or
            // for the next delayed item to become visible.
            let mut changes = QueueChanges {
                queue: self.clone(),
                seen,
            };
            match next_visible {
                Some(wait) => {
                    tokio::select! {
                        biased;
                        () = changes.next() => {}
                        () = tokio::time::sleep(wait) => {}
                    }
                }
                None => changes.next().await,
            }
        }
    }

    /// The attempt succeeded: the item is done.
    pub fn complete(&self, delivery: Delivery<I>) {
        let mut state = self.lock();
        state.in_flight.remove(&delivery.receipt);
        match state.tracker.succeed(delivery.item.id(), delivery.receipt) {
            Ok(()) => {
                state.unsettled -= 1;
                tracing::info!(
                    "{} finished {} ({})",
                    delivery.worker,
                    delivery.item.id(),
                    delivery.attempt
                );
            }
            Err(error) => report_late(&delivery, &error),
        }
        self.changed(state);
    }

    /// The attempt failed and nobody will try again: the item is dropped and
    /// shows as lost in the report. This is what the naive distributor does.
    pub fn give_up(&self, delivery: Delivery<I>, error: WorkError) {
        let mut state = self.lock();
        if state.fail(&delivery, &error) {
            state.unsettled -= 1;
            tracing::warn!(
                "{} failed {} ({}): {error}. Giving up: {} is lost",
                delivery.worker,
                delivery.item.id(),
                delivery.attempt,
                delivery.item.id()
            );
        }
        self.changed(state);
    }

    /// The attempt failed; the same worker tries again at once. Returns the
    /// new delivery, or `None` when this attempt was no longer current (its
    /// item was reclaimed meanwhile), so there is nothing left to retry.
    pub fn retry_now(&self, delivery: Delivery<I>, error: WorkError) -> Option<Delivery<I>> {
        let mut state = self.lock();
        if !state.fail(&delivery, &error) {
            self.changed(state);
            return None;
        }
        let id = delivery.item.id();
        state
            .tracker
            .retry(id, Duration::ZERO)
            .expect("an attempt that just failed can be retried");
        let retried = state.hand_out(delivery.item, delivery.worker);
        tracing::info!(
            "{} failed {id} ({}): {error}. Retrying at once ({})",
            delivery.worker,
            delivery.attempt,
            retried.attempt
        );
        self.changed(state);
        Some(retried)
    }

    /// The attempt failed; the item goes to the back of the queue, behind
    /// everything already waiting.
    pub fn requeue(&self, delivery: Delivery<I>, error: WorkError) {
        self.retry_after(delivery, error, Duration::ZERO);
    }

    /// The attempt failed; the item stays invisible for `delay`, then joins the
    /// back of the queue. Workers are free to take other items meanwhile.
    pub fn retry_after(&self, delivery: Delivery<I>, error: WorkError, delay: Duration) {
        let mut state = self.lock();
        if state.fail(&delivery, &error) {
            let id = delivery.item.id();
            state
                .tracker
                .retry(id, delay)
                .expect("an attempt that just failed can be retried");
            tracing::info!(
                "{} failed {id} ({}): {error}. Retrying in {delay:?}",
                delivery.worker,
                delivery.attempt
            );
            if delay.is_zero() {
                state.ready.push_back(delivery.item);
            } else {
                state.sequence += 1;
                let key = (clock::elapsed() + delay, state.sequence);
                state.delayed.insert(key, delivery.item);
            }
        }
        self.changed(state);
    }

    /// The attempt failed and the item will not succeed: it is set aside in
    /// `dead_letters` with `reason`, its attempt count and `error`.
    pub fn dead_letter(
        &self,
        delivery: Delivery<I>,
        error: WorkError,
        reason: DeadLetterReason,
        dead_letters: &dyn DeadLetterQueue<I>,
    ) {
        let mut state = self.lock();
        if state.fail(&delivery, &error) {
            let id = delivery.item.id();
            state
                .tracker
                .dead_letter(id, reason)
                .expect("an attempt that just failed can be dead-lettered");
            state.unsettled -= 1;
            tracing::warn!(
                "{} failed {id} ({}): {error}. Dead-lettered: {reason}",
                delivery.worker,
                delivery.attempt
            );
            dead_letters.push(DeadLetter {
                item: delivery.item,
                reason,
                attempts: delivery.attempt.get(),
                last_error: error,
                dead_lettered_at: clock::elapsed(),
            });
        }
        self.changed(state);
    }

    /// Every delivery handed out and not yet settled, oldest first.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let state = self.lock();
        let mut listed: Vec<InFlight> = state
            .in_flight
            .values()
            .map(|delivery| InFlight {
                receipt: delivery.receipt,
                item: delivery.item.id(),
                worker: delivery.worker,
                received_at: delivery.received_at,
            })
            .collect();
        listed.sort_by_key(|in_flight| (in_flight.received_at, in_flight.receipt));
        listed
    }

    /// Takes back the delivery behind `receipt` from a worker that has not
    /// answered, so it can be decided on like any failed attempt (retried or
    /// dead-lettered). Returns `None` if the delivery was settled meanwhile.
    /// Whatever that worker answers later is rejected as late.
    pub fn reclaim(&self, receipt: Receipt) -> Option<Delivery<I>> {
        let mut state = self.lock();
        let delivery = state.in_flight.remove(&receipt)?;
        tracing::warn!(
            "{} did not answer for {} ({}); taking it back",
            delivery.worker,
            delivery.item.id(),
            delivery.attempt
        );
        self.changed(state);
        Some(delivery)
    }

    /// Whether every item is final or given up.
    pub fn is_drained(&self) -> bool {
        self.lock().unsettled == 0
    }

    /// Waits until the queue is drained.
    pub async fn drained(&self) {
        wait::wait_until(&self.shared.drained, || self.is_drained()).await;
    }

    /// A subscription to changes of this queue: an item received, settled,
    /// reclaimed or made visible again.
    pub fn changes(&self) -> QueueChanges<I, T> {
        let mut state = self.lock();
        state.waiting += 1;
        QueueChanges {
            seen: state.version,
            queue: self.clone(),
        }
    }

    /// Everything known so far about every item.
    pub fn report(&self) -> RunReport {
        self.lock().tracker.report()
    }

    /// The report of a finished run. When this is the queue's last handle,
    /// the report takes the records instead of copying them.
    pub fn into_report(self) -> RunReport {
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => shared
                .state
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .tracker
                .into_report(),
            Err(shared) => Self { shared }.report(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<I, T>> {
        // No method panics while holding the lock, so a poisoned lock still
        // guards consistent state.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a change, releases the lock and wakes everyone waiting; when
    /// the change drained the queue, wakes whoever waits for that too.
    fn changed(&self, mut state: MutexGuard<'_, QueueState<I, T>>) {
        state.version += 1;
        let drained = state.unsettled == 0;
        // Waking costs a lock even with nobody to wake; a busy run has
        // nobody waiting most of the time. Skipping is safe: a waiter counts
        // itself under this lock before it registers, and re-checks the
        // version after registering.
        let anyone_waiting = state.waiting > 0;
        drop(state);
        if anyone_waiting {
            self.shared.changed.notify_waiters();
        }
        if drained {
            self.shared.drained.notify_waiters();
        }
    }
}

impl<I: WorkItem, T: WorkTracker> QueueState<I, T> {
    /// Records a new attempt of `item` by `worker` and remembers it in flight.
    fn hand_out(&mut self, item: I, worker: WorkerId) -> Delivery<I> {
        let claim = self
            .tracker
            .start(item.id(), worker)
            .expect("items in the queue are pending in the tracker");
        let delivery = Delivery {
            item,
            receipt: claim.receipt,
            attempt: claim.attempt,
            worker,
            received_at: claim.started_at,
        };
        self.in_flight.insert(claim.receipt, delivery.clone());
        delivery
    }

    /// Records a failed attempt. Returns `false` when the attempt was no longer
    /// current: its result is late, rejected, and nothing else may follow.
    fn fail(&mut self, delivery: &Delivery<I>, error: &WorkError) -> bool {
        self.in_flight.remove(&delivery.receipt);
        match self
            .tracker
            .fail(delivery.item.id(), delivery.receipt, error.clone())
        {
            Ok(()) => true,
            Err(late) => {
                report_late(delivery, &late);
                false
            }
        }
    }

    /// Moves every delayed item whose delay has passed to the back of `ready`.
    fn release_due(&mut self) {
        if self.delayed.is_empty() {
            return;
        }
        let now = clock::elapsed();
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            self.ready.push_back(entry.remove());
        }
    }
}

fn report_late<I: WorkItem>(delivery: &Delivery<I>, error: &TrackerError) {
    debug_assert!(
        error.is_late_result(),
        "only late results may be refused: {error}"
    );
    tracing::warn!(
        "late result from {} for {} rejected: {error}",
        delivery.worker,
        delivery.item.id()
    );
}

/// A subscription to a [`WorkQueue`]'s changes.
pub struct QueueChanges<I: WorkItem, T: WorkTracker = InMemoryWorkTracker> {
    queue: WorkQueue<I, T>,
    /// The change count last seen.
    seen: u64,
}

impl<I: WorkItem, T: WorkTracker> Drop for QueueChanges<I, T> {
    /// A subscription counts in the queue's `waiting` for its whole life.
    fn drop(&mut self) {
        self.queue.lock().waiting -= 1;
    }
}

impl<I: WorkItem, T: WorkTracker> QueueChanges<I, T> {
    /// Waits for the next change after the last one seen; returns at once if
    /// there was one since.
    pub async fn next(&mut self) {
        let seen = self.seen;
        let queue = &self.queue;
        self.seen = wait::wait_for(&queue.shared.changed, || {
            let version = queue.lock().version;
            Check::from((version != seen).then_some(version))
        })
        .await;
    }
}
