//! The record of what happened to every item.
//!
//! A coordinator that loses track of an item loses the item. The tracker is
//! the single place that knows each item's [`WorkStatus`], enforces the
//! lifecycle (a succeeded item cannot fail later; only the current receipt can
//! report a result), and keeps the event history that reports, timelines and
//! tests are built from.
//!
//! Design: [`WorkTracker`] is the interface the seed series named
//! (`IWorkTracker`); [`InMemoryWorkTracker`] is the provided implementation. It
//! keeps everything behind one `std::sync::Mutex`: every method is short and
//! synchronous and never holds the lock across an `.await`, so tokio's async
//! mutex would only add cost. Items live in a `BTreeMap`, so every listing
//! comes out sorted by id and runs are reproducible.
//!
//! Left out: persistence (a real tracker is a database table or the queue
//! service itself) and any bound on history; a workshop run is small.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::sim::clock;
use crate::{
    Attempt, DeadLetterReason, Receipt, RunReport, WorkError, WorkItemId, WorkStatus, WorkerId,
};

/// Keeps the status and history of every item in a run.
///
/// Every method takes `&self` because one tracker is shared by all the workers
/// of a distributor.
pub trait WorkTracker: Send + Sync {
    /// Registers a new item as [`WorkStatus::Pending`].
    ///
    /// # Errors
    /// [`TrackerError::AlreadySubmitted`] if the id is known.
    fn submit(&self, item: WorkItemId) -> Result<(), TrackerError>;

    /// Hands a pending item to `worker` and issues a fresh receipt for this
    /// attempt; only that receipt may report its outcome.
    ///
    /// # Errors
    /// [`TrackerError::UnknownItem`], or [`TrackerError::IllegalTransition`]
    /// unless the item is pending.
    fn start(&self, item: WorkItemId, worker: WorkerId) -> Result<Claim, TrackerError>;

    /// Marks the attempt behind `receipt` as successful: final.
    ///
    /// # Errors
    /// [`TrackerError::StaleReceipt`] when `receipt` is not the current one (a
    /// late result, which is recorded and rejected), or another
    /// [`TrackerError`] when the item is unknown.
    fn succeed(&self, item: WorkItemId, receipt: Receipt) -> Result<(), TrackerError>;

    /// Marks the attempt behind `receipt` as failed with `error`. The item waits
    /// in [`WorkStatus::Failed`] for a decision: [`retry`](Self::retry) or
    /// [`dead_letter`](Self::dead_letter).
    ///
    /// # Errors
    /// As for [`succeed`](Self::succeed).
    fn fail(
        &self,
        item: WorkItemId,
        receipt: Receipt,
        error: WorkError,
    ) -> Result<(), TrackerError>;

    /// Sends a failed item back to pending, to be started again after `delay`
    /// (zero for at once). The delay is recorded for timelines and reports.
    ///
    /// # Errors
    /// [`TrackerError::IllegalTransition`] unless the item is failed.
    fn retry(&self, item: WorkItemId, delay: Duration) -> Result<(), TrackerError>;

    /// Sets a failed item aside for good: final.
    ///
    /// # Errors
    /// [`TrackerError::IllegalTransition`] unless the item is failed.
    fn dead_letter(&self, item: WorkItemId, reason: DeadLetterReason) -> Result<(), TrackerError>;

    /// The item's current status, or `None` if it was never submitted.
    fn status(&self, item: WorkItemId) -> Option<WorkStatus>;

    /// Everything known so far: every item's outcome and the full history.
    fn report(&self) -> RunReport;
}

/// What [`WorkTracker::start`] hands out: the receipt for this attempt and its
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Proof of holding this attempt; required to report its outcome.
    pub receipt: Receipt,
    /// Which attempt of the item this is.
    pub attempt: Attempt,
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

/// The provided [`WorkTracker`]: everything in memory, behind one mutex.
#[derive(Default)]
pub struct InMemoryWorkTracker {
    /// All state, so every operation sees and changes it atomically.
    state: Mutex<TrackerState>,
}

#[derive(Default)]
struct TrackerState {
    /// Per item, sorted by id.
    items: BTreeMap<WorkItemId, ItemRecord>,
    /// Every event, in the order it happened.
    events: Vec<TrackerEvent>,
    /// The last receipt issued; receipts are never reused.
    last_receipt: u64,
}

/// What the tracker remembers about one item.
pub(crate) struct ItemRecord {
    pub(crate) status: WorkStatus,
    pub(crate) attempts: u32,
    /// The worker and receipt of the attempt in progress, if one is.
    holder: Option<(WorkerId, Receipt, Attempt)>,
    pub(crate) last_worker: Option<WorkerId>,
    pub(crate) last_error: Option<WorkError>,
    pub(crate) submitted_at: Duration,
    pub(crate) finished_at: Option<Duration>,
}

impl InMemoryWorkTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_state<T>(&self, change: impl FnOnce(&mut TrackerState) -> T) -> T {
        // A poisoned lock means a panic elsewhere while it was held. No method
        // here panics between two writes, so the state is still consistent and
        // the panic that matters is reported where it happened.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut state)
    }
}

impl TrackerState {
    fn record(&mut self, item: WorkItemId, what: Happened) {
        let event = TrackerEvent {
            at: clock::elapsed(),
            item,
            what,
        };
        tracing::debug!(target: "coordination::tracker", "{event}");
        self.events.push(event);
    }

    fn item_in(
        &mut self,
        item: WorkItemId,
        expected: WorkStatus,
        action: &'static str,
    ) -> Result<&mut ItemRecord, TrackerError> {
        let record = self
            .items
            .get_mut(&item)
            .ok_or(TrackerError::UnknownItem(item))?;
        if record.status == expected {
            Ok(record)
        } else {
            Err(TrackerError::IllegalTransition {
                item,
                action,
                status: record.status,
            })
        }
    }

    /// Ends the attempt behind `receipt`, or records a late result.
    fn finish_attempt(
        &mut self,
        item: WorkItemId,
        receipt: Receipt,
    ) -> Result<(WorkerId, Attempt), TrackerError> {
        let record = self
            .items
            .get_mut(&item)
            .ok_or(TrackerError::UnknownItem(item))?;
        match record.holder {
            Some((worker, current, attempt)) if current == receipt => {
                record.holder = None;
                Ok((worker, attempt))
            }
            _ => {
                self.record(item, Happened::LateResultRejected { receipt });
                Err(TrackerError::StaleReceipt { item, receipt })
            }
        }
    }
}

impl WorkTracker for InMemoryWorkTracker {
    fn submit(&self, item: WorkItemId) -> Result<(), TrackerError> {
        self.with_state(|state| {
            if let Some(record) = state.items.get(&item) {
                return Err(TrackerError::AlreadySubmitted {
                    item,
                    status: record.status,
                });
            }
            state.items.insert(
                item,
                ItemRecord {
                    status: WorkStatus::Pending,
                    attempts: 0,
                    holder: None,
                    last_worker: None,
                    last_error: None,
                    submitted_at: clock::elapsed(),
                    finished_at: None,
                },
            );
            state.record(item, Happened::Submitted);
            Ok(())
        })
    }

    fn start(&self, item: WorkItemId, worker: WorkerId) -> Result<Claim, TrackerError> {
        self.with_state(|state| {
            state.item_in(item, WorkStatus::Pending, "start")?;
            state.last_receipt += 1;
            let receipt = Receipt::new(state.last_receipt);
            let record = state
                .items
                .get_mut(&item)
                .expect("item_in found this item just above");
            record.attempts = record.attempts.saturating_add(1);
            let attempt =
                Attempt::new(record.attempts).expect("an incremented attempt count is never 0");
            record.status = WorkStatus::InProgress;
            record.holder = Some((worker, receipt, attempt));
            record.last_worker = Some(worker);
            state.record(
                item,
                Happened::Started {
                    worker,
                    attempt,
                    receipt,
                },
            );
            Ok(Claim { receipt, attempt })
        })
    }

    fn succeed(&self, item: WorkItemId, receipt: Receipt) -> Result<(), TrackerError> {
        self.with_state(|state| {
            let (worker, attempt) = state.finish_attempt(item, receipt)?;
            let now = clock::elapsed();
            let record = state.item_in(item, WorkStatus::InProgress, "succeed")?;
            record.status = WorkStatus::Succeeded;
            record.finished_at = Some(now);
            state.record(item, Happened::Succeeded { worker, attempt });
            Ok(())
        })
    }

    fn fail(
        &self,
        item: WorkItemId,
        receipt: Receipt,
        error: WorkError,
    ) -> Result<(), TrackerError> {
        self.with_state(|state| {
            let (worker, attempt) = state.finish_attempt(item, receipt)?;
            let record = state.item_in(item, WorkStatus::InProgress, "fail")?;
            record.status = WorkStatus::Failed;
            record.last_error = Some(error.clone());
            state.record(
                item,
                Happened::Failed {
                    worker,
                    attempt,
                    error,
                },
            );
            Ok(())
        })
    }

    fn retry(&self, item: WorkItemId, delay: Duration) -> Result<(), TrackerError> {
        self.with_state(|state| {
            state.item_in(item, WorkStatus::Failed, "retry")?.status = WorkStatus::Pending;
            state.record(item, Happened::RetryScheduled { delay });
            Ok(())
        })
    }

    fn dead_letter(&self, item: WorkItemId, reason: DeadLetterReason) -> Result<(), TrackerError> {
        self.with_state(|state| {
            let now = clock::elapsed();
            let record = state.item_in(item, WorkStatus::Failed, "dead-letter")?;
            record.status = WorkStatus::DeadLettered;
            record.finished_at = Some(now);
            state.record(item, Happened::DeadLettered { reason });
            Ok(())
        })
    }

    fn status(&self, item: WorkItemId) -> Option<WorkStatus> {
        self.with_state(|state| state.items.get(&item).map(|record| record.status))
    }

    fn report(&self) -> RunReport {
        self.with_state(|state| RunReport::from_tracker(&state.items, &state.events))
    }
}
