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

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

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
        // TODO(1.3): refuse a zero `base` and a `base` above `cap` with the
        // matching `ConfigError`; otherwise keep both.
        todo!("exercise 1.3: validate base and cap (see workshop1/README.md, Implement 1.3)")
    }

    /// The longest wait after `attempt` failed: `base × 2^(attempt − 1)`,
    /// never more than `cap`. Safe for every attempt number.
    pub fn ceiling(&self, attempt: Attempt) -> Duration {
        // TODO(1.3): `base × 2^(attempt − 1)`, at most `cap`. Attempt 1000 and
        // `u32::MAX` must neither overflow nor panic, and a tiny base with a
        // huge cap must still double correctly at attempt 40. Doubling in a
        // loop that stops at the cap (with `saturating_mul`) is one safe way.
        todo!(
            "exercise 1.3: compute the capped exponential ceiling without overflow \
             (see workshop1/README.md, Implement 1.3)"
        )
    }

    /// How long to wait after `attempt` failed: uniformly random between zero
    /// and [`ceiling`](Self::ceiling), drawn from `rng` (full jitter).
    pub fn delay(&self, attempt: Attempt, rng: &mut SimRng) -> Duration {
        // TODO(1.3): full jitter: a duration drawn uniformly from zero to
        // `self.ceiling(attempt)`, inclusive, using `rng` (`RngExt::random_range`
        // on nanoseconds works well).
        todo!(
            "exercise 1.3: draw a full-jitter delay between zero and the ceiling \
             (see workshop1/README.md, Implement 1.3)"
        )
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
