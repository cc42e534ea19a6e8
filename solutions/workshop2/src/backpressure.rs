//! Exercise 2.4: backpressure.
//!
//! Every queue so far was unbounded. When work arrives faster than the
//! workers finish it, an unbounded queue grows until memory runs out, and
//! long before that every item in it is late: a request that waited a minute
//! has a caller that gave up fifty seconds ago. A bounded intake says no
//! early instead, and the caller chooses how:
//!
//! | policy       | when the intake is full                          | who pays |
//! |--------------|--------------------------------------------------|----------|
//! | `Wait`       | the submitter awaits room                        | the producer slows down |
//! | `Reject`     | `IntakeError::Full` with a retry-after hint       | the caller retries later (HTTP 429 with `Retry-After`) |
//! | `ShedOldest` | the oldest *waiting* item is dropped to make room | the item least likely still wanted |
//!
//! Whatever the policy, the number of items in the system (waiting plus being
//! processed) never exceeds the capacity, and nothing leaves silently: every
//! shed item is recorded with when and why, so `submitted = finished + shed +
//! rejected` always holds.
//!
//! - Read: `workshop2/README.md`, "Implement", 2.4.
//! - Check: `cargo workshop check 2.4`, or all of its output with
//!   `cargo test -p workshop2 --test workshop ex2_4_backpressure`.

use std::collections::VecDeque;
use std::time::Duration;

use coordination::sim::clock;
use coordination::wait::{self, Check};
use coordination::{ConfigError, WorkItem};
use tokio::sync::Notify;

use crate::tracked_mutex::{LockKind, TrackedGuard, TrackedMutex};

/// What a full intake does with one more item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The submitter waits until there is room.
    Wait,
    /// The submitter gets [`IntakeError::Full`] with this hint.
    Reject {
        /// When it is worth trying again.
        retry_after: Duration,
    },
    /// The oldest waiting item is shed to make room; when nothing waits
    /// (every slot is being processed), the new item is shed instead.
    ShedOldest,
}

/// Why an item was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// The intake is full and its policy rejects: try again later.
    #[error("the intake is full; retry after {retry_after:?}")]
    Full {
        /// When it is worth trying again.
        retry_after: Duration,
    },
    /// The intake was full, nothing waiting could be shed, and the item itself
    /// was shed (and recorded as such).
    #[error("the intake is full of work in progress; the item was shed")]
    Shed,
    /// The intake is closed: no more work is accepted, ever.
    #[error("the intake is closed")]
    Closed,
}

impl IntakeError {
    /// Whether submitting again later could succeed: yes when full, no when
    /// closed; a shed item's fate is already recorded.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Full { .. })
    }

    /// The retry-after hint, if this refusal carries one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Full { retry_after } => Some(*retry_after),
            Self::Shed | Self::Closed => None,
        }
    }
}

/// Why an item was shed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShedReason {
    /// It was the oldest waiting item and made room for a newer one.
    MadeRoom,
    /// It arrived when every slot was being processed and nothing waited.
    NoRoom,
}

/// An item the intake dropped, and when and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ShedItem<I> {
    /// The item.
    pub item: I,
    /// When, since the run began.
    pub at: Duration,
    /// Why.
    pub reason: ShedReason,
}

/// The intake's books, and the rule that keeps its std mutex from blocking
/// the runtime.
static INTAKE: LockKind = LockKind {
    what: "the intake's lock",
    rule: "A task is holding the intake's guard across an `.await` (a lock held across a \
           wait), and another task on the same thread now needs it: with a std mutex that \
           blocks the thread for good. Keep the guard in a block that ends before \
           `self.room.notified().await`.",
};

/// A bounded intake: at most `capacity` items waiting or being processed.
pub struct Intake<I> {
    /// The bound on items in the system.
    capacity: usize,
    /// What to do when full.
    policy: Overflow,
    /// Everything that changes. A std mutex: never held across an `.await`;
    /// tracked, so a guard that is ([`INTAKE`]'s rule) fails at once.
    state: TrackedMutex<IntakeState<I>>,
    /// Woken when a slot frees up, for submitters waiting for room.
    room: Notify,
    /// Woken when an item waits or the intake closes, for takers.
    work: Notify,
}

/// The intake's books.
struct IntakeState<I> {
    /// Admitted and waiting to be taken, oldest first.
    waiting: VecDeque<I>,
    /// Taken and not yet finished.
    in_progress: usize,
    /// Every item shed, in order.
    shed: Vec<ShedItem<I>>,
    /// How many submissions were rejected.
    rejected: usize,
    /// How many items were admitted.
    admitted: usize,
    /// The most items ever in the system at once.
    high_water: usize,
    /// No more submissions once set.
    closed: bool,
}

impl<I> IntakeState<I> {
    /// Items waiting or being processed.
    fn in_system(&self) -> usize {
        self.waiting.len() + self.in_progress
    }

    /// Queues `item` and keeps the books.
    fn admit(&mut self, item: I) {
        self.waiting.push_back(item);
        self.admitted += 1;
        self.high_water = self.high_water.max(self.in_system());
    }

    /// Records `item` as shed, now, for `reason`.
    fn record_shed(&mut self, item: I, reason: ShedReason) {
        self.shed.push(ShedItem {
            item,
            at: clock::elapsed(),
            reason,
        });
    }
}

impl<I: WorkItem> Intake<I> {
    /// An intake holding at most `capacity` items, overflowing as `policy`
    /// says.
    ///
    /// # Errors
    /// [`ConfigError::ZeroCapacity`] for 0: such an intake refuses all work.
    pub fn new(capacity: usize, policy: Overflow) -> Result<Self, ConfigError> {
        if capacity == 0 {
            return Err(ConfigError::ZeroCapacity {
                setting: "intake capacity",
            });
        }
        Ok(Self {
            capacity,
            policy,
            state: TrackedMutex::new(
                IntakeState {
                    waiting: VecDeque::new(),
                    in_progress: 0,
                    shed: Vec::new(),
                    rejected: 0,
                    admitted: 0,
                    high_water: 0,
                    closed: false,
                },
                &INTAKE,
            ),
            room: Notify::new(),
            work: Notify::new(),
        })
    }

    /// Offers `item`. Admitted, it waits for a taker.
    ///
    /// # Errors
    /// [`IntakeError::Closed`] once closed; when full, as the policy says:
    /// [`IntakeError::Full`] (reject) or [`IntakeError::Shed`] (shed, nothing
    /// waiting to drop). `Wait` never errs while open: it waits.
    pub async fn submit(&self, item: I) -> Result<(), IntakeError> {
        loop {
            {
                let mut state = self.lock();
                if state.closed {
                    return Err(IntakeError::Closed);
                }
                if state.in_system() < self.capacity {
                    state.admit(item);
                    self.work.notify_one();
                    return Ok(());
                }
                match self.policy {
                    Overflow::Wait => {}
                    Overflow::Reject { retry_after } => {
                        state.rejected += 1;
                        return Err(IntakeError::Full { retry_after });
                    }
                    Overflow::ShedOldest => match state.waiting.pop_front() {
                        Some(oldest) => {
                            state.record_shed(oldest, ShedReason::MadeRoom);
                            state.admit(item);
                            self.work.notify_one();
                            return Ok(());
                        }
                        None => {
                            state.record_shed(item, ShedReason::NoRoom);
                            return Err(IntakeError::Shed);
                        }
                    },
                }
            }
            // `notify_one` keeps a permit when nobody waits yet, so a slot
            // freed between dropping the lock and this line is not missed.
            self.room.notified().await;
        }
    }

    /// Takes the oldest waiting item, waiting for one if need be; `None` once
    /// the intake is closed and nothing waits. Call [`finish`](Self::finish)
    /// when done with it.
    pub async fn take(&self) -> Option<I> {
        wait::wait_for(&self.work, || {
            let mut state = self.lock();
            if let Some(item) = state.waiting.pop_front() {
                state.in_progress += 1;
                return Check::Ready(Some(item));
            }
            if state.closed {
                return Check::Ready(None);
            }
            Check::WaitForChange
        })
        .await
    }

    /// One taken item is done: its slot is free again.
    pub fn finish(&self) {
        let mut state = self.lock();
        state.in_progress = state.in_progress.saturating_sub(1);
        drop(state);
        self.room.notify_one();
    }

    /// Stops accepting work; takers drain what waits, then get `None`, and
    /// submitters waiting for room get [`IntakeError::Closed`].
    pub fn close(&self) {
        self.lock().closed = true;
        self.work.notify_waiters();
        self.room.notify_waiters();
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Items waiting or being processed now.
    pub fn in_system(&self) -> usize {
        self.lock().in_system()
    }

    /// The most items ever in the system at once.
    pub fn high_water(&self) -> usize {
        self.lock().high_water
    }

    /// How many items were admitted.
    pub fn admitted(&self) -> usize {
        self.lock().admitted
    }

    /// How many submissions were rejected.
    pub fn rejected(&self) -> usize {
        self.lock().rejected
    }

    /// Every shed item, in the order shed.
    pub fn shed(&self) -> Vec<ShedItem<I>> {
        self.lock().shed.clone()
    }

    fn lock(&self) -> TrackedGuard<'_, IntakeState<I>> {
        // Every change above is a few lines with no panic between two writes,
        // so a poisoned lock (which `TrackedMutex` takes anyway) still guards
        // consistent books.
        self.state.lock()
    }
}
