//! Workers that misbehave on purpose, at seeded rates.
//!
//! Every failure a coordinator must survive is here, each one a dial:
//!
//! | fault     | what it models                              | decided        |
//! |-----------|---------------------------------------------|----------------|
//! | transient | a dropped connection, a throttled call      | per attempt    |
//! | permanent | a poison message: the item itself is bad    | per item, once |
//! | slowdown  | an overloaded or under-sized machine        | per worker     |
//! | hang      | a stuck process: no answer, for a while or ever | per attempt |
//!
//! A permanent failure is a property of the item, so it is decided from the
//! item's id and the seed alone: the same item fails on every worker, every
//! attempt, in every order. The other faults are drawn per attempt from one
//! generator, in the order attempts happen, which the paused clock makes
//! deterministic.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::RngExt;

use super::{Seed, SimRng};
use crate::{ConfigError, Probability, WorkError, WorkItemId, WorkerId};

/// How a hung attempt behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hang {
    /// Never answers, like a process stuck in a deadlock.
    Forever,
    /// Answers (successfully) after this long, like a process back from a long
    /// garbage-collection pause; by then its answer may be late.
    For(Duration),
}

/// The rates at which a worker misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// Chance that an attempt fails with a transient error.
    pub transient: Probability,
    /// Chance that an item is poison and fails every attempt permanently.
    pub permanent: Probability,
    /// How many times longer than normal every attempt takes (1 = normal).
    pub slowdown: f64,
    /// Chance that an attempt hangs, and how.
    pub hang: Option<(Hang, Probability)>,
}

impl FaultPlan {
    /// A worker that never misbehaves.
    pub const NONE: FaultPlan = FaultPlan {
        transient: Probability::NEVER,
        permanent: Probability::NEVER,
        slowdown: 1.0,
        hang: None,
    };

    /// Attempts fail transiently with probability `rate`.
    pub fn with_transient(self, rate: Probability) -> Self {
        Self {
            transient: rate,
            ..self
        }
    }

    /// Items are poison with probability `rate`.
    pub fn with_permanent(self, rate: Probability) -> Self {
        Self {
            permanent: rate,
            ..self
        }
    }

    /// Every attempt takes `factor` times as long.
    ///
    /// # Errors
    /// [`ConfigError::FactorBelowOne`] for a factor below 1 or NaN: a slowdown
    /// cannot make work faster than it is.
    pub fn with_slowdown(self, factor: f64) -> Result<Self, ConfigError> {
        if factor >= 1.0 && factor.is_finite() {
            Ok(Self {
                slowdown: factor,
                ..self
            })
        } else {
            Err(ConfigError::FactorBelowOne {
                setting: "slowdown",
                value: factor,
            })
        }
    }

    /// Attempts hang as `hang` describes, with probability `rate`.
    pub fn with_hang(self, hang: Hang, rate: Probability) -> Self {
        Self {
            hang: Some((hang, rate)),
            ..self
        }
    }
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::NONE
    }
}

/// What goes wrong on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: the attempt succeeds after its work time.
    None,
    /// The attempt fails with a transient error after its work time.
    Transient,
    /// The item is poison: the attempt fails permanently, quickly.
    Permanent,
    /// The attempt hangs.
    Hang(Hang),
}

/// Reasons for transient failures, so logs read like real incidents.
const TRANSIENT_REASONS: [&str; 4] = [
    "connection reset by peer",
    "downstream returned 503 Service Unavailable",
    "request throttled",
    "read timed out",
];

/// Applies a [`FaultPlan`] to the attempts of one worker.
pub struct FaultInjector {
    /// What to inject.
    plan: FaultPlan,
    /// The run's poison stream: decides which items are poison, the same way
    /// for every worker and independently of attempt order.
    poison: Seed,
    /// Draws this worker's per-attempt faults. A std mutex, not tokio's: it is
    /// held only for a draw, never across an `.await`.
    rng: Mutex<SimRng>,
}

impl FaultInjector {
    /// An injector for `worker` in the run seeded by `run`.
    pub fn new(plan: FaultPlan, run: Seed, worker: WorkerId) -> Self {
        Self {
            plan,
            poison: run.derive(POISON_STREAM),
            rng: Mutex::new(run.derive(u64::from(worker.get())).rng()),
        }
    }

    /// The plan being applied.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Whether `item` is poison under this plan. It depends only on the run's
    /// seed and the item, never on which worker asks or when.
    pub fn is_poison(&self, item: WorkItemId) -> bool {
        let mut rng = self.poison.derive(item.get()).rng();
        self.plan.permanent.sample(&mut rng)
    }

    /// Decides what goes wrong on the next attempt at `item`.
    pub fn draw(&self, item: WorkItemId) -> Fault {
        if self.is_poison(item) {
            return Fault::Permanent;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((hang, rate)) = self.plan.hang
            && rate.sample(&mut rng)
        {
            return Fault::Hang(hang);
        }
        if self.plan.transient.sample(&mut rng) {
            Fault::Transient
        } else {
            Fault::None
        }
    }

    /// Spends `work` of simulated time on an attempt at `item` (scaled by the
    /// slowdown) and fails the way the plan says.
    ///
    /// # Errors
    /// A transient [`WorkError`] after the full work time; a permanent one
    /// after a tenth of it (a corrupt input is noticed early). A hang either
    /// never returns or returns `Ok` after its pause.
    pub async fn perform(&self, item: WorkItemId, work: Duration) -> Result<(), WorkError> {
        let work = work.mul_f64(self.plan.slowdown);
        match self.draw(item) {
            Fault::None => {
                tokio::time::sleep(work).await;
                Ok(())
            }
            Fault::Transient => {
                tokio::time::sleep(work).await;
                Err(WorkError::transient(self.transient_reason()))
            }
            Fault::Permanent => {
                tokio::time::sleep(work / 10).await;
                Err(WorkError::permanent("input is corrupt"))
            }
            Fault::Hang(Hang::Forever) => std::future::pending().await,
            Fault::Hang(Hang::For(pause)) => {
                tokio::time::sleep(pause + work).await;
                Ok(())
            }
        }
    }

    fn transient_reason(&self) -> &'static str {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        TRANSIENT_REASONS[rng.random_range(0..TRANSIENT_REASONS.len())]
    }
}

/// Names the poison stream among a run's derived seeds.
const POISON_STREAM: u64 = 0x9015_0A11;

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(value: f64) -> Probability {
        Probability::new(value).expect("test rates are between 0 and 1")
    }

    /// Poison is a property of the item: every worker agrees on it.
    #[test]
    fn every_worker_agrees_on_which_items_are_poison() {
        let plan = FaultPlan::NONE.with_permanent(rate(0.3));
        let run = Seed::new(5);
        let first = FaultInjector::new(plan, run, WorkerId::new(1));
        let second = FaultInjector::new(plan, run, WorkerId::new(2));
        let poison: Vec<bool> = (0..200)
            .map(|id| first.is_poison(WorkItemId::new(id)))
            .collect();
        let again: Vec<bool> = (0..200)
            .map(|id| second.is_poison(WorkItemId::new(id)))
            .collect();
        assert_eq!(poison, again);
        let count = poison.iter().filter(|&&p| p).count();
        assert!(
            (30..90).contains(&count),
            "30% of 200 should be near 60, got {count}"
        );
    }

    /// Different seeds poison different items.
    #[test]
    fn poison_items_change_with_the_seed() {
        let plan = FaultPlan::NONE.with_permanent(rate(0.5));
        let poisoned = |seed| -> Vec<bool> {
            let injector = FaultInjector::new(plan, Seed::new(seed), WorkerId::new(1));
            (0..64)
                .map(|id| injector.is_poison(WorkItemId::new(id)))
                .collect()
        };
        assert_ne!(poisoned(1), poisoned(2));
    }

    /// A transient rate of 25% fails about a quarter of attempts.
    #[test]
    fn transient_rate_is_respected() {
        let injector = FaultInjector::new(
            FaultPlan::NONE.with_transient(rate(0.25)),
            Seed::new(3),
            WorkerId::new(1),
        );
        let failures = (0..4000)
            .filter(|_| injector.draw(WorkItemId::new(1)) == Fault::Transient)
            .count();
        assert!(
            (850..1150).contains(&failures),
            "expected about 1000, got {failures}"
        );
    }

    /// A slowdown below 1 is refused with a typed error.
    #[test]
    fn slowdown_below_one_is_refused() {
        assert!(matches!(
            FaultPlan::NONE.with_slowdown(0.5),
            Err(ConfigError::FactorBelowOne { .. })
        ));
        assert!(FaultPlan::NONE.with_slowdown(f64::NAN).is_err());
    }
}
