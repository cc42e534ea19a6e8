//! Exercise 2.6: auto-scaling on queue depth, without flapping.
//!
//! A fixed fleet is either too big (paying for idle machines at night) or too
//! small (queues growing at the morning peak). An autoscaler watches a load
//! signal, here the depth of the queue, and sets the number of workers:
//!
//! ```text
//! desired = ceil(queue depth / target depth per worker), kept within [min, max]
//! ```
//!
//! the formula of the Kubernetes Horizontal Pod Autoscaler
//! (`desiredReplicas = ceil(currentReplicas × currentMetric / targetMetric)`,
//! with the queue depth per worker as the metric). Acting on it at every tick
//! flaps: a queue that empties between two bursts scales the fleet down just
//! before the next burst needs it back, and every change costs a start-up or
//! a drain. Two rules stop that, the way the HPA does:
//!
//! - **scale up at once**: a growing queue costs latency now;
//! - **scale down slowly**: only to the *highest* count desired during the
//!   last `cooldown` (the HPA's scale-down stabilisation window, 300 s by
//!   default), and at most once per `cooldown`.
//!
//! Under load that swings faster than the cooldown, the fleet stays sized for
//! the peaks; when the load really goes away, it shrinks one cooldown later.
//!
//! - Read: `workshop2/README.md`, "Implement", 2.6.
//! - Check: `cargo workshop check 2.6`, or all of its output with
//!   `cargo test -p workshop2 --test workshop ex2_6_autoscaler`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::collections::VecDeque;
use std::time::Duration;

use coordination::ConfigError;

/// How an autoscaler decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingSettings {
    /// Never fewer workers than this.
    pub min_workers: usize,
    /// Never more workers than this.
    pub max_workers: usize,
    /// The queue depth one worker is meant to carry.
    pub target_depth_per_worker: usize,
    /// How far back scale-down looks, and the least time between a scale
    /// event and a scale-down.
    pub cooldown: Duration,
}

/// What the autoscaler sees at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Workers running now.
    pub workers: usize,
    /// Items waiting now.
    pub queue_depth: usize,
}

/// One change of the worker count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// When, since the run began.
    pub at: Duration,
    /// Workers before.
    pub from: usize,
    /// Workers after.
    pub to: usize,
}

/// Sets the number of workers from the queue depth.
#[derive(Debug, Clone)]
pub struct Autoscaler {
    /// How it decides; checked by [`new`](Self::new).
    settings: ScalingSettings,
    /// The desired counts of the last `cooldown`, oldest first, with when
    /// each was computed.
    recent: VecDeque<(Duration, usize)>,
    /// When the worker count last changed.
    last_scaled: Option<Duration>,
    /// Every change, in order.
    events: Vec<ScaleEvent>,
}

impl Autoscaler {
    /// An autoscaler deciding as `settings` say.
    ///
    /// # Errors
    /// [`ConfigError::NoWorkers`] for a maximum of 0;
    /// [`ConfigError::MinAboveMax`] for a minimum above the maximum;
    /// [`ConfigError::ZeroCapacity`] for a target depth of 0 (every item
    /// would ask for a worker of its own, and an empty queue for infinity).
    pub fn new(settings: ScalingSettings) -> Result<Self, ConfigError> {
        if settings.max_workers == 0 {
            return Err(ConfigError::NoWorkers);
        }
        if settings.min_workers > settings.max_workers {
            return Err(ConfigError::MinAboveMax {
                setting: "autoscaler workers",
                min: settings.min_workers,
                max: settings.max_workers,
            });
        }
        if settings.target_depth_per_worker == 0 {
            return Err(ConfigError::ZeroCapacity {
                setting: "target queue depth per worker",
            });
        }
        Ok(Self {
            settings,
            recent: VecDeque::new(),
            last_scaled: None,
            events: Vec::new(),
        })
    }

    /// The settings.
    pub fn settings(&self) -> ScalingSettings {
        self.settings
    }

    /// Every change of the worker count so far, in order.
    pub fn events(&self) -> &[ScaleEvent] {
        &self.events
    }

    /// Records a change from `from` to `to` workers at `now`, and returns
    /// `to`.
    fn scale(&mut self, now: Duration, from: usize, to: usize) -> usize {
        tracing::info!("scale {from} -> {to} workers");
        self.events.push(ScaleEvent { at: now, from, to });
        self.last_scaled = Some(now);
        to
    }

    /// The worker count the queue depth alone asks for:
    /// `ceil(depth / target)`, within `[min, max]`.
    pub fn desired(&self, queue_depth: usize) -> usize {
        // TODO(2.6): `ceil(queue_depth / target_depth_per_worker)`, kept
        // within `[min_workers, max_workers]` (`div_ceil`, `clamp`).
        todo!(
            "exercise 2.6: the worker count the queue depth asks for \
             (see workshop2/README.md, Implement 2.6)"
        )
    }

    /// Decides the worker count at `now` given what is `observed`, and
    /// returns it (the observed count when nothing changes).
    pub fn decide(&mut self, now: Duration, observed: Observation) -> usize {
        // TODO(2.6): scale up at once when the queue asks for more workers
        // (and down at once to the maximum if above it). Scale down slowly:
        // never below the highest count desired during the last cooldown,
        // and at most once per cooldown since the last change. Every change
        // is a recorded event; return the count to run.
        todo!(
            "exercise 2.6: scale up at once, down slowly \
             (see workshop2/README.md, Implement 2.6)"
        )
    }
}
