//! The simulated clock as one number: time since the run began.
//!
//! tokio's paused clock starts at an arbitrary instant. Reports, traces and
//! timelines want "12.500 s into the run", the same in every run, so this module
//! keeps the instant a run began and measures from it. The epoch is per thread,
//! which is per run: a simulation runs on one current-thread runtime.

use std::cell::Cell;
use std::time::Duration;

use tokio::time::Instant;

thread_local! {
    /// When the current run began; set by [`restart`], or by the first reading.
    static EPOCH: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Simulated time since the current run began.
pub fn elapsed() -> Duration {
    let now = Instant::now();
    EPOCH.with(|epoch| {
        let start = epoch.get().unwrap_or_else(|| {
            epoch.set(Some(now));
            now
        });
        now.saturating_duration_since(start)
    })
}

/// Starts measuring from now. [`simulate`](super::simulate) calls this at the
/// start of every run, so each run's timestamps begin at zero.
pub fn restart() {
    EPOCH.with(|epoch| epoch.set(Some(Instant::now())));
}
