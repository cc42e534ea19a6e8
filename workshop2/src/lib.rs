//! # Workshop 2: work distribution
//!
//! A render farm runs jobs on a fleet of machines, and one of them is slow.
//! Workshop 1 had every worker pull from one shared queue; here every worker
//! has its own queue, as servers behind a load balancer do, and the question
//! is *where* each job goes. This crate starts with placement by id, which
//! leaves the slow machine hopelessly behind, and, exercise by exercise,
//! builds what real systems use: round-robin, least-loaded and
//! power-of-two-choices balancing, work stealing, backpressure, circuit
//! breakers and auto-scaling.
//!
//! Read `workshop2/README.md` first. Run `cargo test -p workshop2` to see what
//! is left to do.
//!
//! ## Given code
//!
//! - [`Job`], [`Workload`], [`Arrival`]: seeded streams of jobs, uniform,
//!   heavy-tailed or with one giant.
//! - [`Machine`], [`Fleet`]: workers with speed factors and outages.
//! - [`Placement`], [`Candidate`], [`ById`]: the decision of where an item
//!   goes, and the starting point.
//! - [`WorkerQueues`], [`FifoQueues`]: one queue per worker;
//!   [`run_on_threads`] runs them on operating-system threads.
//! - [`Cluster`], [`QueueDistributor`], [`HealthChecks`]: the runtime that
//!   places, queues, runs and accounts for every item.
//! - [`testing`]: fleets, seeds and assertions for tests and demos.
//!
//! ## Exercises, in order
//!
//! Each lives in its own file in `src/`; with `--features solution` the
//! reference solution from `solutions/workshop2/src/` is compiled in its place.
//!
//! 1. [`round_robin`]: a rotation that ignores ids.
//! 2. [`least_loaded`]: least-loaded and the power of d choices.
//! 3. [`work_stealing`]: per-worker deques; idle workers steal half.
//! 4. [`backpressure`]: a bounded intake that waits, rejects or sheds.
//! 5. [`circuit_breaker`]: closed, open, half-open; health-checked rotation.
//! 6. [`autoscaler`]: scale on queue depth without flapping.

mod cluster;
mod job;
mod machine;
mod placement;
pub mod testing;
mod threads;
mod tracked_mutex;
pub mod worker_queues;
mod workload;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop2/src/round_robin.rs"
)]
pub mod round_robin;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop2/src/least_loaded.rs"
)]
pub mod least_loaded;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop2/src/work_stealing.rs"
)]
pub mod work_stealing;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop2/src/backpressure.rs"
)]
pub mod backpressure;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop2/src/circuit_breaker.rs"
)]
pub mod circuit_breaker;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop2/src/autoscaler.rs"
)]
pub mod autoscaler;

pub use autoscaler::{Autoscaler, Observation, ScaleEvent, ScalingSettings};
pub use backpressure::{Intake, IntakeError, Overflow, ShedItem, ShedReason};
pub use circuit_breaker::{
    BreakerError, BreakerSettings, BreakerState, CircuitBreaker, Transition,
};
pub use cluster::{Cluster, ClusterRun, HealthChecks, QueueDistributor, RotationChange};
pub use job::{Arrival, Job};
pub use least_loaded::{LeastLoaded, PowerOfChoices};
pub use machine::{Fleet, Machine};
pub use placement::{ById, Candidate, Placement};
pub use round_robin::RoundRobin;
pub use threads::run_on_threads;
pub use work_stealing::{StealingDeques, WorkStealingDistributor};
pub use worker_queues::{FifoQueues, WorkerQueues};
pub use workload::{Pace, UnknownWorkload, Workload, timed_work};
