//! Exercise 1.3: the backoff policy.
//!
//! Re-queueing helps the other items, but a failing downstream still gets a
//! retry as soon as the item comes round again, from every worker at once.
//! Backing off means waiting longer after each failure: 100 ms, 200 ms,
//! 400 ms, … up to a cap. Jitter means not waiting exactly that long: if a
//! thousand clients failed together, waiting exactly 400 ms brings all thousand
//! back together. "Full jitter" draws the wait uniformly between zero and the
//! exponential ceiling, which spreads the retries out completely ("Exponential
//! Backoff and Jitter", AWS Architecture Blog, 2015; the `jitter` demo
//! reproduces its experiment).
//!
//! The policy is a pure function of the attempt number and a seeded
//! generator: no clock, no state, easy to test for every attempt up to
//! `u32::MAX`.
//!
//! - Read: `workshop1/README.md`, "Implement", 1.3.
//! - Check: `cargo workshop check 1.3`, or all of its output with
//!   `cargo test -p workshop1 --test workshop ex1_3_backoff`.

use std::time::Duration;

use coordination::{Attempt, ConfigError, SimRng};
use rand::RngExt;

/// Capped exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling after the first failed attempt; it doubles after each.
    base: Duration,
    /// The largest ceiling, however many attempts failed.
    cap: Duration,
}

impl BackoffPolicy {
    /// A policy whose ceiling starts at `base` and doubles up to `cap`.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] for a zero `base` (it would never grow),
    /// [`ConfigError::BaseAboveCap`] when `base` exceeds `cap`.
    pub fn new(base: Duration, cap: Duration) -> Result<Self, ConfigError> {
        if base.is_zero() {
            return Err(ConfigError::ZeroDuration {
                setting: "backoff base",
            });
        }
        if base > cap {
            return Err(ConfigError::BaseAboveCap { base, cap });
        }
        Ok(Self { base, cap })
    }

    /// The longest wait after `attempt` failed: `base × 2^(attempt − 1)`,
    /// never more than `cap`. Safe for every attempt number.
    pub fn ceiling(&self, attempt: Attempt) -> Duration {
        // Double once per attempt before this one, stopping at the cap. Any
        // cap is reached within about 94 doublings (a `Duration` holds less
        // than 2^94 ns), so even attempt u32::MAX loops briefly, and
        // saturating arithmetic cannot overflow on the way.
        let mut ceiling = self.base;
        for _ in 1..attempt.get() {
            if ceiling >= self.cap {
                break;
            }
            ceiling = ceiling.saturating_mul(2);
        }
        ceiling.min(self.cap)
    }

    /// How long to wait after `attempt` failed: uniformly random between zero
    /// and [`ceiling`](Self::ceiling), drawn from `rng` (full jitter).
    pub fn delay(&self, attempt: Attempt, rng: &mut SimRng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=nanos))
    }

    /// The first ceiling.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The largest ceiling.
    pub fn cap(&self) -> Duration {
        self.cap
    }
}
