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
//! [`InMemoryWorkTracker`] underneath, which also keeps the history every report
//! and test reads.
//!
//! The queue knows when the run is over: when every item has either reached a
//! final state or been given up, it is *drained*, and `receive` returns `None`
//! to every consumer.
//!
//! Design: one `std::sync::Mutex` around the state (never held across an
//! `.await`) and a `tokio::sync::watch` channel that counts changes. A
//! consumer with nothing to do subscribes, re-checks and waits for the count
//! to move, so it cannot miss a change that happened in between. Waiting
//! consumers all wake on every change and re-check; with a handful of workers
//! that is cheaper than tracking who waits for what.
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

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::sim::clock;
use coordination::{
    Attempt, DeadLetter, DeadLetterQueue, DeadLetterReason, DistributeError, InMemoryWorkTracker,
    Receipt, RunReport, TrackerError, WorkError, WorkItem, WorkItemId, WorkTracker, WorkerId,
};
use tokio::sync::watch;

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
pub struct WorkQueue<I: WorkItem> {
    shared: Arc<Shared<I>>,
}

impl<I: WorkItem> Clone for WorkQueue<I> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<I> {
    /// Where every item is; locked before `tracker` whenever both are needed.
    state: Mutex<QueueState<I>>,
    /// The lifecycle and history of every item.
    tracker: InMemoryWorkTracker,
    /// Counts changes, so waiting consumers wake up and re-check.
    changes: watch::Sender<u64>,
}

struct QueueState<I> {
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
}

impl<I: WorkItem> WorkQueue<I> {
    /// A queue holding `items`, each submitted to a fresh tracker.
    ///
    /// # Errors
    /// [`DistributeError::DuplicateItem`] when two items share an id; nothing is
    /// queued then.
    pub fn new(items: Vec<I>) -> Result<Self, DistributeError> {
        let mut ids = BTreeSet::new();
        for item in &items {
            if !ids.insert(item.id()) {
                return Err(DistributeError::DuplicateItem(item.id()));
            }
        }
        let tracker = InMemoryWorkTracker::new();
        for item in &items {
            tracker
                .submit(item.id())
                .expect("ids were checked to be unique and the tracker is new");
        }
        let state = QueueState {
            unsettled: items.len(),
            ready: items.into(),
            delayed: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            sequence: 0,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                tracker,
                changes: watch::Sender::new(0),
            }),
        })
    }

    /// Waits for an item and hands it to `worker` under a fresh receipt, or
    /// returns `None` once the queue is drained (every item final or given up).
    pub async fn receive(&self, worker: WorkerId) -> Option<Delivery<I>> {
        // Subscribing before looking means no change can slip in between the
        // look and the wait.
        let mut changes = self.changes();
        loop {
            let next_visible = {
                let mut state = self.lock();
                let now = clock::elapsed();
                state.release_due(now);
                if let Some(item) = state.ready.pop_front() {
                    let delivery = self.hand_out(&mut state, item, worker, now);
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
                state.delayed.keys().next().map(|&(at, _)| at - now)
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
        match self
            .shared
            .tracker
            .succeed(delivery.item.id(), delivery.receipt)
        {
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
        if self.fail(&mut state, &delivery, &error) {
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
        if !self.fail(&mut state, &delivery, &error) {
            self.changed(state);
            return None;
        }
        let id = delivery.item.id();
        self.shared
            .tracker
            .retry(id, Duration::ZERO)
            .expect("an attempt that just failed can be retried");
        let retried = self.hand_out(&mut state, delivery.item, delivery.worker, clock::elapsed());
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
        if self.fail(&mut state, &delivery, &error) {
            let id = delivery.item.id();
            self.shared
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
        if self.fail(&mut state, &delivery, &error) {
            let id = delivery.item.id();
            self.shared
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
        let mut changes = self.changes();
        while !self.is_drained() {
            changes.next().await;
        }
    }

    /// A subscription to changes of this queue: an item received, settled,
    /// reclaimed or made visible again.
    pub fn changes(&self) -> QueueChanges {
        QueueChanges(self.shared.changes.subscribe())
    }

    /// Everything known so far about every item.
    pub fn report(&self) -> RunReport {
        self.shared.tracker.report()
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<I>> {
        // No method panics while holding the lock, so a poisoned lock still
        // guards consistent state.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a new attempt of `item` by `worker` and remembers it in flight.
    fn hand_out(
        &self,
        state: &mut QueueState<I>,
        item: I,
        worker: WorkerId,
        now: Duration,
    ) -> Delivery<I> {
        let claim = self
            .shared
            .tracker
            .start(item.id(), worker)
            .expect("items in the queue are pending in the tracker");
        let delivery = Delivery {
            item,
            receipt: claim.receipt,
            attempt: claim.attempt,
            worker,
            received_at: now,
        };
        state.in_flight.insert(claim.receipt, delivery.clone());
        delivery
    }

    /// Records a failed attempt. Returns `false` when the attempt was no longer
    /// current: its result is late, rejected, and nothing else may follow.
    fn fail(&self, state: &mut QueueState<I>, delivery: &Delivery<I>, error: &WorkError) -> bool {
        state.in_flight.remove(&delivery.receipt);
        match self
            .shared
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

    /// Releases the lock and wakes everyone waiting for a change.
    fn changed(&self, state: MutexGuard<'_, QueueState<I>>) {
        drop(state);
        self.shared.changes.send_modify(|count| *count += 1);
    }
}

impl<I> QueueState<I> {
    /// Moves every delayed item whose delay has passed to the back of `ready`.
    fn release_due(&mut self, now: Duration) {
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
pub struct QueueChanges(watch::Receiver<u64>);

impl QueueChanges {
    /// Waits for the next change after the last one seen.
    pub async fn next(&mut self) {
        if self.0.changed().await.is_err() {
            // The queue is gone, so nothing will ever change again.
            std::future::pending::<()>().await;
        }
    }
}
