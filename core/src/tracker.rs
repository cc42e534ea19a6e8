//! The record of what happened to every item.
//!
//! A coordinator that loses track of an item loses the item. The tracker is
//! the single place that knows each item's [`WorkStatus`], enforces the
//! lifecycle (a succeeded item cannot fail later; only the current receipt can
//! report a result), and keeps the event history that reports, timelines and
//! tests are built from.
//!
//! Design: [`WorkTracker`] is the interface the seed series named
//! (`IWorkTracker`); [`InMemoryWorkTracker`] is the provided implementation.
//! A tracker is a plain value whose changes take `&mut self`: it is one part
//! of its owner's state (Workshop 1's queue, Workshop 2's cluster), and it
//! changes under the owner's one lock together with the rest of that state.
//! A tracker with a mutex of its own would make two locks for one state, and
//! a rule about which to take first. Reports list items sorted by id, so runs
//! are reproducible whatever order items were submitted in.
//!
//! Left out: persistence (a real tracker is a database table or the queue
//! service itself) and any bound on history; a workshop run is small.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use crate::sim::clock;
use crate::{
    Attempt, DeadLetterReason, ItemSummary, Receipt, RunReport, WorkError, WorkItemId, WorkStatus,
    WorkerId,
};

/// Keeps the status and history of every item in a run.
///
/// Every change takes `&mut self`: whoever owns the tracker guards it with
/// the same lock as the rest of its state, so an item's place in a queue and
/// its status in the tracker change together.
pub trait WorkTracker: Send {
    /// Registers a new item as [`WorkStatus::Pending`].
    ///
    /// # Errors
    /// [`TrackerError::AlreadySubmitted`] if the id is known.
    fn submit(&mut self, item: WorkItemId) -> Result<(), TrackerError>;

    /// Hands a pending item to `worker` and issues a fresh receipt for this
    /// attempt; only that receipt may report its outcome.
    ///
    /// # Errors
    /// [`TrackerError::UnknownItem`], or [`TrackerError::IllegalTransition`]
    /// unless the item is pending.
    fn start(&mut self, item: WorkItemId, worker: WorkerId) -> Result<Claim, TrackerError>;

    /// Marks the attempt behind `receipt` as successful: final.
    ///
    /// # Errors
    /// [`TrackerError::StaleReceipt`] when `receipt` is not the current one (a
    /// late result, which is recorded and rejected), or another
    /// [`TrackerError`] when the item is unknown.
    fn succeed(&mut self, item: WorkItemId, receipt: Receipt) -> Result<(), TrackerError>;

    /// Marks the attempt behind `receipt` as failed with `error`. The item waits
    /// in [`WorkStatus::Failed`] for a decision: [`retry`](Self::retry) or
    /// [`dead_letter`](Self::dead_letter).
    ///
    /// # Errors
    /// As for [`succeed`](Self::succeed).
    fn fail(
        &mut self,
        item: WorkItemId,
        receipt: Receipt,
        error: WorkError,
    ) -> Result<(), TrackerError>;

    /// Sends a failed item back to pending, to be started again after `delay`
    /// (zero for at once). The delay is recorded for timelines and reports.
    ///
    /// # Errors
    /// [`TrackerError::IllegalTransition`] unless the item is failed.
    fn retry(&mut self, item: WorkItemId, delay: Duration) -> Result<(), TrackerError>;

    /// Sets a failed item aside for good: final.
    ///
    /// # Errors
    /// [`TrackerError::IllegalTransition`] unless the item is failed.
    fn dead_letter(
        &mut self,
        item: WorkItemId,
        reason: DeadLetterReason,
    ) -> Result<(), TrackerError>;

    /// The item's current status, or `None` if it was never submitted.
    fn status(&self, item: WorkItemId) -> Option<WorkStatus>;

    /// Everything known so far: every item's outcome and the full history.
    fn report(&self) -> RunReport;

    /// The report of a finished run. A tracker that can hand over its
    /// records instead of copying them overrides this.
    fn into_report(self) -> RunReport
    where
        Self: Sized,
    {
        self.report()
    }
}

/// What [`WorkTracker::start`] hands out: the receipt for this attempt, its
/// number and when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Proof of holding this attempt; required to report its outcome.
    pub receipt: Receipt,
    /// Which attempt of the item this is.
    pub attempt: Attempt,
    /// When the attempt started, in simulated time since the run began.
    pub started_at: Duration,
}

/// A refused tracker operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// The id was never submitted.
    #[error("{0} was never submitted")]
    UnknownItem(WorkItemId),
    /// The id was submitted before.
    #[error("{item} was already submitted and is {status}")]
    AlreadySubmitted {
        /// The item.
        item: WorkItemId,
        /// Its status now.
        status: WorkStatus,
    },
    /// The operation does not apply to an item in this state, such as failing
    /// an item that already succeeded.
    #[error("cannot {action} {item} while it is {status}")]
    IllegalTransition {
        /// The item.
        item: WorkItemId,
        /// The operation that was refused.
        action: &'static str,
        /// The item's status.
        status: WorkStatus,
    },
    /// A result arrived with a receipt that is no longer current: the item was
    /// handed to someone else meanwhile (or already finished). The result is
    /// rejected so the item is not counted twice.
    #[error("late result for {item} rejected: {receipt} is no longer current")]
    StaleReceipt {
        /// The item.
        item: WorkItemId,
        /// The receipt the late result came with.
        receipt: Receipt,
    },
}

impl TrackerError {
    /// Whether this is a late result that was safely rejected. A coordinator
    /// logs it and moves on; every other tracker error is a bug in the
    /// coordinator.
    pub fn is_late_result(&self) -> bool {
        matches!(self, Self::StaleReceipt { .. })
    }
}

/// One thing that happened to one item.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerEvent {
    /// When, in simulated time since the run began.
    pub at: Duration,
    /// To which item.
    pub item: WorkItemId,
    /// What.
    pub what: Happened,
}

/// The kinds of [`TrackerEvent`].
#[derive(Debug, Clone, PartialEq)]
pub enum Happened {
    /// The item entered the system.
    Submitted,
    /// A worker started an attempt.
    Started {
        /// Who.
        worker: WorkerId,
        /// Which attempt.
        attempt: Attempt,
        /// The receipt issued for it.
        receipt: Receipt,
    },
    /// The attempt succeeded.
    Succeeded {
        /// Who.
        worker: WorkerId,
        /// Which attempt.
        attempt: Attempt,
    },
    /// The attempt failed.
    Failed {
        /// Who.
        worker: WorkerId,
        /// Which attempt.
        attempt: Attempt,
        /// Why.
        error: WorkError,
    },
    /// The item was sent back for another attempt after `delay`.
    RetryScheduled {
        /// How long it waits before it may start again.
        delay: Duration,
    },
    /// The item was set aside for good.
    DeadLettered {
        /// Why.
        reason: DeadLetterReason,
    },
    /// A result came back under an old receipt and was not counted.
    LateResultRejected {
        /// The stale receipt.
        receipt: Receipt,
    },
}

impl fmt::Display for TrackerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.as_secs_f64();
        let item = self.item;
        match &self.what {
            Happened::Submitted => write!(f, "{at:>9.3}s {item} submitted"),
            Happened::Started {
                worker,
                attempt,
                receipt,
            } => write!(
                f,
                "{at:>9.3}s {item} {attempt} started on {worker} ({receipt})"
            ),
            Happened::Succeeded { worker, attempt } => {
                write!(f, "{at:>9.3}s {item} {attempt} succeeded on {worker}")
            }
            Happened::Failed {
                worker,
                attempt,
                error,
            } => write!(f, "{at:>9.3}s {item} {attempt} failed on {worker}: {error}"),
            Happened::RetryScheduled { delay } => {
                write!(f, "{at:>9.3}s {item} retry in {delay:?}")
            }
            Happened::DeadLettered { reason } => {
                write!(f, "{at:>9.3}s {item} dead-lettered: {reason}")
            }
            Happened::LateResultRejected { receipt } => {
                write!(f, "{at:>9.3}s {item} late result rejected ({receipt})")
            }
        }
    }
}

/// The provided [`WorkTracker`]: everything in memory.
#[derive(Debug, Default)]
pub struct InMemoryWorkTracker {
    /// Every item, in the order submitted.
    items: Vec<ItemSummary>,
    /// Where each item is in `items`. Ordered rather than hashed: items are
    /// mostly looked up in about the order they were submitted, and an
    /// ordered map keeps those lookups in cache where a hash scatters them
    /// (measured: the scattered probes were the tracker's largest cost).
    index: BTreeMap<WorkItemId, usize>,
    /// Per position in `items`, the attempt in progress, if there is one.
    holders: Vec<Option<Holder>>,
    /// Per receipt (receipt n at n - 1), the position of its item. Receipts
    /// are issued in sequence, so settling an attempt needs no lookup.
    receipts: Vec<usize>,
    /// Every event, in the order it happened.
    events: Vec<TrackerEvent>,
}

/// Who holds an attempt in progress, under which receipt.
#[derive(Debug, Clone, Copy)]
struct Holder {
    worker: WorkerId,
    receipt: Receipt,
    attempt: Attempt,
}

impl InMemoryWorkTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Submits every item of a batch at one instant. It is
    /// [`WorkTracker::submit`] for many items, and refuses the whole batch
    /// before changing anything if any id is known or repeated.
    ///
    /// # Errors
    /// [`TrackerError::AlreadySubmitted`] for the first id that is known or
    /// appears twice.
    pub fn submit_all(&mut self, items: &[WorkItemId]) -> Result<(), TrackerError> {
        // Batches usually come in increasing id order, which proves them
        // free of repeats in one pass; only other batches need a set.
        let repeated = if items.is_sorted() {
            items
                .windows(2)
                .find(|pair| pair[0] == pair[1])
                .map(|pair| pair[1])
        } else {
            let mut seen = BTreeSet::new();
            items.iter().copied().find(|&item| !seen.insert(item))
        };
        if let Some(item) = repeated {
            return Err(TrackerError::AlreadySubmitted {
                item,
                status: WorkStatus::Pending,
            });
        }
        for &item in items {
            if let Some(&at) = self.index.get(&item) {
                let status = self.items[at].status;
                return Err(TrackerError::AlreadySubmitted { item, status });
            }
        }
        let now = clock::elapsed();
        // Each item will have about three events: submitted, started and
        // settled. Reserving once avoids copying the history as it grows.
        self.events.reserve(items.len() * 3);
        self.items.reserve(items.len());
        let first = self.items.len();
        if self.index.is_empty() {
            // Collecting builds the tree in one pass from sorted input,
            // where inserting searches it once per item.
            self.index = items.iter().copied().zip(first..).collect();
        } else {
            self.index.extend(items.iter().copied().zip(first..));
        }
        for &item in items {
            self.insert(now, item);
        }
        Ok(())
    }

    /// Adds an item already placed in `index` at the end of `items`.
    fn insert(&mut self, now: Duration, item: WorkItemId) {
        self.items.push(ItemSummary {
            id: item,
            status: WorkStatus::Pending,
            attempts: 0,
            last_worker: None,
            last_error: None,
            submitted_at: now,
            finished_at: None,
        });
        self.holders.push(None);
        self.record(now, item, Happened::Submitted);
    }

    fn record(&mut self, at: Duration, item: WorkItemId, what: Happened) {
        let event = TrackerEvent { at, item, what };
        tracing::debug!(target: "coordination::tracker", "{event}");
        crate::timeline::record_tracker_event(&event);
        self.events.push(event);
    }

    /// Where `item` is, if it is in `expected` state.
    fn position_in(
        &self,
        item: WorkItemId,
        expected: WorkStatus,
        action: &'static str,
    ) -> Result<usize, TrackerError> {
        let &at = self
            .index
            .get(&item)
            .ok_or(TrackerError::UnknownItem(item))?;
        let status = self.items[at].status;
        if status == expected {
            Ok(at)
        } else {
            Err(TrackerError::IllegalTransition {
                item,
                action,
                status,
            })
        }
    }

    /// Ends the attempt behind `receipt` and returns its position and holder,
    /// or records a late result.
    fn finish_attempt(
        &mut self,
        now: Duration,
        item: WorkItemId,
        receipt: Receipt,
    ) -> Result<(usize, Holder), TrackerError> {
        let issued = usize::try_from(receipt.get())
            .ok()
            .and_then(|number| self.receipts.get(number.checked_sub(1)?))
            .copied();
        let at = match issued {
            Some(at) if self.items[at].id == item => at,
            // A receipt for another item, or one never issued: look the item
            // up only to tell an unknown item from a stale receipt.
            _ => *self
                .index
                .get(&item)
                .ok_or(TrackerError::UnknownItem(item))?,
        };
        match self.holders[at] {
            Some(holder) if holder.receipt == receipt => {
                self.holders[at] = None;
                Ok((at, holder))
            }
            _ => {
                self.record(now, item, Happened::LateResultRejected { receipt });
                Err(TrackerError::StaleReceipt { item, receipt })
            }
        }
    }
}

impl WorkTracker for InMemoryWorkTracker {
    fn submit(&mut self, item: WorkItemId) -> Result<(), TrackerError> {
        self.submit_all(&[item])
    }

    fn start(&mut self, item: WorkItemId, worker: WorkerId) -> Result<Claim, TrackerError> {
        let at = self.position_in(item, WorkStatus::Pending, "start")?;
        let now = clock::elapsed();
        self.receipts.push(at);
        let receipt = Receipt::new(self.receipts.len() as u64);
        let summary = &mut self.items[at];
        summary.attempts = summary.attempts.saturating_add(1);
        summary.status = WorkStatus::InProgress;
        summary.last_worker = Some(worker);
        let attempt =
            Attempt::new(summary.attempts).expect("an incremented attempt count is never 0");
        self.holders[at] = Some(Holder {
            worker,
            receipt,
            attempt,
        });
        self.record(
            now,
            item,
            Happened::Started {
                worker,
                attempt,
                receipt,
            },
        );
        Ok(Claim {
            receipt,
            attempt,
            started_at: now,
        })
    }

    fn succeed(&mut self, item: WorkItemId, receipt: Receipt) -> Result<(), TrackerError> {
        let now = clock::elapsed();
        let (at, holder) = self.finish_attempt(now, item, receipt)?;
        let summary = &mut self.items[at];
        summary.status = WorkStatus::Succeeded;
        summary.finished_at = Some(now);
        self.record(
            now,
            item,
            Happened::Succeeded {
                worker: holder.worker,
                attempt: holder.attempt,
            },
        );
        Ok(())
    }

    fn fail(
        &mut self,
        item: WorkItemId,
        receipt: Receipt,
        error: WorkError,
    ) -> Result<(), TrackerError> {
        let now = clock::elapsed();
        let (at, holder) = self.finish_attempt(now, item, receipt)?;
        let summary = &mut self.items[at];
        summary.status = WorkStatus::Failed;
        summary.last_error = Some(error.clone());
        self.record(
            now,
            item,
            Happened::Failed {
                worker: holder.worker,
                attempt: holder.attempt,
                error,
            },
        );
        Ok(())
    }

    fn retry(&mut self, item: WorkItemId, delay: Duration) -> Result<(), TrackerError> {
        let at = self.position_in(item, WorkStatus::Failed, "retry")?;
        self.items[at].status = WorkStatus::Pending;
        self.record(clock::elapsed(), item, Happened::RetryScheduled { delay });
        Ok(())
    }

    fn dead_letter(
        &mut self,
        item: WorkItemId,
        reason: DeadLetterReason,
    ) -> Result<(), TrackerError> {
        let at = self.position_in(item, WorkStatus::Failed, "dead-letter")?;
        let now = clock::elapsed();
        let summary = &mut self.items[at];
        summary.status = WorkStatus::DeadLettered;
        summary.finished_at = Some(now);
        self.record(now, item, Happened::DeadLettered { reason });
        Ok(())
    }

    fn status(&self, item: WorkItemId) -> Option<WorkStatus> {
        let &at = self.index.get(&item)?;
        Some(self.items[at].status)
    }

    fn report(&self) -> RunReport {
        RunReport::from_records(self.items.clone(), self.events.clone())
    }

    /// Takes the records instead of copying them.
    fn into_report(self) -> RunReport {
        RunReport::from_records(self.items, self.events)
    }
}
