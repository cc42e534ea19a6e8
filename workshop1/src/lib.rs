//! # Workshop 1: work queues, retries and dead letters
//!
//! A photo service processes uploads with a pool of workers. Some calls fail
//! for a moment, some images are corrupt, some workers hang. This crate starts
//! with a distributor that loses work and, exercise by exercise, turns it into
//! one that loses nothing: the ideas behind Amazon SQS and Azure Service Bus.
//!
//! Read `workshop1/README.md` first. Run `cargo test -p workshop1` to see what
//! is left to do.
//!
//! ## Given code
//!
//! - [`ImageWorkItem`], [`ImageWorker`]: the work and the flaky workers.
//! - [`WorkQueue`]: an SQS-like queue with receipts; every choice after a
//!   failure (give up, retry, requeue, delay, dead-letter, reclaim) is a verb.
//! - [`run_consumers`], [`distribute_with`]: one consumer task per worker,
//!   stopped cleanly.
//! - [`NaiveWorkDistributor`]: tries each item once and loses failures.
//! - [`testing`]: pools, seeds and scripted workers for tests and demos.
//!
//! ## Exercises, in order
//!
//! Each lives in its own file in `src/`; with `--features solution` the
//! reference solution from `solutions/workshop1/src/` is compiled in its place.
//!
//! 1. [`immediate_retry`]: retry a failed item on the spot.
//! 2. [`requeue`]: send it to the back of the queue instead.
//! 3. [`backoff`]: exponential backoff with a cap and full jitter.
//! 4. [`backoff_distributor`]: wait out the backoff without blocking anyone.
//! 5. [`dead_letter_queue`]: set aside what will not succeed, and redrive it.
//! 6. [`visibility_timeout`]: take work back from a worker that hangs.

mod image;
mod image_worker;
mod naive;
mod pool;
pub mod queue;
pub mod testing;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop1/src/immediate_retry.rs"
)]
pub mod immediate_retry;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop1/src/requeue.rs"
)]
pub mod requeue;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop1/src/backoff.rs"
)]
pub mod backoff;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop1/src/backoff_distributor.rs"
)]
pub mod backoff_distributor;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop1/src/dead_letter_queue.rs"
)]
pub mod dead_letter_queue;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop1/src/visibility_timeout.rs"
)]
pub mod visibility_timeout;

pub use backoff::BackoffPolicy;
pub use backoff_distributor::{BackoffDistributor, RetryPolicy};
pub use dead_letter_queue::{DeadLetterDistributor, FailurePolicy, InMemoryDeadLetterQueue};
pub use image::ImageWorkItem;
pub use image_worker::ImageWorker;
pub use immediate_retry::ImmediateRetryDistributor;
pub use naive::NaiveWorkDistributor;
pub use pool::{distribute_with, run_consumers};
pub use queue::{Delivery, InFlight, QueueChanges, WorkQueue};
pub use requeue::RequeueDistributor;
pub use visibility_timeout::{VisibilityTimeout, VisibilityTimeoutDistributor};
