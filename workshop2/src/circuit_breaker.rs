//! Exercise 2.5: health checks and a circuit breaker.
//!
//! A worker that has crashed fails every item at once, so it looks idle and
//! least-loaded sends it more: a black hole. A downstream service that is
//! down makes every caller wait for its timeout, and the retries keep it
//! down. Both need the same thing: stop sending work where it fails, fail
//! fast meanwhile, and find out when it is back. That is a circuit breaker:
//!
//! ```text
//!            failure rate ≥ threshold                 wait over
//!   Closed ─────────────────────────────▶ Open ─────────────────────▶ HalfOpen
//!     ▲      (over the last `window` calls,  │  fails fast meanwhile     │
//!     │       once `minimum_calls` are in)   ▲                           │
//!     │                                      └──── a trial fails ────────┤
//!     └──────────────── every trial succeeds ────────────────────────────┘
//! ```
//!
//! - **Closed**: calls go through; each outcome enters a sliding window of the
//!   last `window` calls. Once at least `minimum_calls` are in it and the share
//!   of failures reaches `failure_rate_threshold`, the breaker opens.
//! - **Open**: calls fail at once with a retry-after hint, for `open_for`.
//! - **HalfOpen**: up to `half_open_trials` calls go through as trials; more
//!   fail fast. One failed trial reopens the breaker; when every trial has
//!   succeeded, it closes with an empty window.
//!
//! The breaker does no I/O and reads no clock: every method takes `now`, so a
//! test can drive every transition on the paused clock. The cluster uses one
//! breaker per worker, fed by health probes, and keeps a worker in rotation
//! while its breaker is closed (like a Kubernetes readiness probe); the same
//! type guards a call to a failing downstream.
//!
//! - Read: `workshop2/README.md`, "Implement", 2.5.
//! - Check: `cargo workshop check 2.5`, or all of its output with
//!   `cargo test -p workshop2 --test workshop ex2_5_circuit_breaker`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use coordination::{ConfigError, Probability};

/// How a breaker decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSettings {
    /// Open when at least this share of the window failed (0.5: half).
    pub failure_rate_threshold: f64,
    /// How many recent calls the failure rate is computed over.
    pub window: usize,
    /// No verdict before this many calls are in the window.
    pub minimum_calls: usize,
    /// How long the breaker stays open before it lets a trial through.
    pub open_for: Duration,
    /// How many trial calls the half-open state lets through.
    pub half_open_trials: usize,
}

/// Where a breaker is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through and are counted.
    Closed,
    /// Calls fail fast until `until` (since the run began).
    Open {
        /// When trials may start.
        until: Duration,
    },
    /// A few trial calls go through.
    HalfOpen {
        /// Trials let through so far.
        started: usize,
        /// Trials that succeeded so far.
        succeeded: usize,
    },
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("closed"),
            Self::Open { .. } => f.write_str("open"),
            Self::HalfOpen { .. } => f.write_str("half-open"),
        }
    }
}

/// A call the breaker refused, without trying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BreakerError {
    /// The breaker is open: the downstream is presumed down.
    #[error("circuit open; retry after {retry_after:?}")]
    Open {
        /// When the breaker will let a trial through.
        retry_after: Duration,
    },
    /// Half-open, and every trial slot is taken: wait for their results.
    #[error("circuit half-open and every trial call is in flight")]
    TrialsInFlight,
}

impl BreakerError {
    /// Always `true`: a refused call never reached the downstream, so trying
    /// later is safe.
    pub fn is_retryable(&self) -> bool {
        true
    }
}

/// One change of state, for tests and timelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// When, since the run began.
    pub at: Duration,
    /// The state left.
    pub from: BreakerState,
    /// The state entered.
    pub to: BreakerState,
}

/// A circuit breaker: closed, open, half-open.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    /// How it decides; checked by [`new`](Self::new).
    settings: BreakerSettings,
    /// Where it is now.
    state: BreakerState,
    /// Outcomes of the last calls while closed, oldest first; `true` for a
    /// failure.
    window: VecDeque<bool>,
    /// Every change of state, in order.
    transitions: Vec<Transition>,
}

impl CircuitBreaker {
    /// A closed breaker deciding as `settings` say.
    ///
    /// # Errors
    /// [`ConfigError::ProbabilityOutOfRange`] for a threshold outside
    /// `0.0..=1.0`; [`ConfigError::ZeroCapacity`] for a zero window, zero
    /// minimum calls or zero trials; [`ConfigError::MinAboveMax`] when
    /// minimum calls exceed the window (the verdict would never come);
    /// [`ConfigError::ZeroDuration`] for a zero `open_for`.
    pub fn new(settings: BreakerSettings) -> Result<Self, ConfigError> {
        Probability::new(settings.failure_rate_threshold)?;
        for (value, setting) in [
            (settings.window, "breaker window"),
            (settings.minimum_calls, "breaker minimum calls"),
            (settings.half_open_trials, "breaker half-open trials"),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroCapacity { setting });
            }
        }
        if settings.minimum_calls > settings.window {
            return Err(ConfigError::MinAboveMax {
                setting: "breaker minimum calls and window",
                min: settings.minimum_calls,
                max: settings.window,
            });
        }
        if settings.open_for.is_zero() {
            return Err(ConfigError::ZeroDuration {
                setting: "breaker open_for",
            });
        }
        Ok(Self {
            settings,
            state: BreakerState::Closed,
            window: VecDeque::with_capacity(settings.window),
            transitions: Vec::new(),
        })
    }

    /// The state now (an open breaker whose wait is over still reads open
    /// until the next [`try_call`](Self::try_call)).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether calls flow freely.
    pub fn is_closed(&self) -> bool {
        self.state == BreakerState::Closed
    }

    /// Every change of state so far, in order.
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// The share of failures in the window, once it holds at least
    /// `minimum_calls`.
    pub fn failure_rate(&self) -> Option<f64> {
        if self.window.len() < self.settings.minimum_calls {
            return None;
        }
        let failures = self.window.iter().filter(|&&failed| failed).count();
        Some(failures as f64 / self.window.len() as f64)
    }

    /// Moves to `to` at `now`, recording the transition; the window starts
    /// empty in every state.
    fn move_to(&mut self, now: Duration, to: BreakerState) {
        tracing::info!("breaker {} -> {to}", self.state);
        self.transitions.push(Transition {
            at: now,
            from: self.state,
            to,
        });
        self.state = to;
        self.window.clear();
    }

    /// Asks to make a call at `now`.
    ///
    /// # Errors
    /// [`BreakerError::Open`] while open; [`BreakerError::TrialsInFlight`]
    /// while half-open with every trial let through.
    pub fn try_call(&mut self, now: Duration) -> Result<(), BreakerError> {
        // TODO(2.5): closed lets every call through; open fails fast and says
        // how long is left; the first call once the wait is over starts the
        // half-open trials, of which only `half_open_trials` may be in
        // flight. Every change of state is a recorded transition.
        todo!(
            "exercise 2.5: let calls through, fail fast, or allow a trial \
             (see workshop2/README.md, Implement 2.5)"
        )
    }

    /// Records the outcome of a call let through by
    /// [`try_call`](Self::try_call), at `now`.
    pub fn record(&mut self, now: Duration, succeeded: bool) {
        // TODO(2.5): closed: the outcome joins a window of the last
        // `settings.window` calls, and the breaker opens the moment the
        // failure rate *reaches* the threshold (not before `minimum_calls`).
        // Half-open: one failed trial reopens it for a full wait; it closes
        // once every trial succeeded. An answer that arrives while open was
        // let through before: the breaker has already decided.
        todo!(
            "exercise 2.5: count outcomes and move between states \
             (see workshop2/README.md, Implement 2.5)"
        )
    }
}
