//! Exercise 1.1: immediate retry.
//!
//! The naive distributor drops an item the first time an attempt fails, so a
//! dropped connection costs you the image. The simplest fix: when an attempt
//! fails with an error worth retrying, the same worker tries again at once, up
//! to a maximum number of attempts. A permanent error (a corrupt image) gets
//! no second try: it would fail the same way.
//!
//! This is what many HTTP clients do by default, and it works for blips that
//! last microseconds. Exercise 1.2 shows what it costs.
//!
//! - Read: `workshop1/README.md`, "Implement", 1.1.
//! - Check: `cargo workshop check 1.1`, or all of its output with
//!   `cargo test -p workshop1 --test workshop ex1_1_immediate_retry`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::sync::Arc;

use coordination::{
    DistributeError, MaxAttempts, RunReport, WorkDistributor, WorkItem, Worker, Workers,
    async_trait,
};

use crate::{WorkQueue, distribute_with};

/// Retries a failed item at once, on the same worker, up to `max_attempts`.
pub struct ImmediateRetryDistributor<I: WorkItem> {
    /// The pool.
    workers: Workers<I>,
    /// Attempts per item, the first one included.
    max_attempts: MaxAttempts,
}

impl<I: WorkItem> ImmediateRetryDistributor<I> {
    /// A distributor over `workers` that gives each item up to `max_attempts`.
    pub fn new(workers: Workers<I>, max_attempts: MaxAttempts) -> Self {
        Self {
            workers,
            max_attempts,
        }
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for ImmediateRetryDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        let max_attempts = self.max_attempts;
        distribute_with(items, &self.workers, move |worker, queue| {
            consume(worker, queue, max_attempts)
        })
        .await
    }
}

/// One consumer: takes items until the queue is drained, and retries each
/// failed attempt on the spot while the error is retryable and attempts remain.
async fn consume<I: WorkItem>(
    worker: Arc<dyn Worker<I>>,
    queue: WorkQueue<I>,
    max_attempts: MaxAttempts,
) {
    // TODO(1.1): serve deliveries until the queue is drained. Every delivery
    // ends settled: completed, retried on the spot by this worker, or given
    // up. Retry only what a second attempt could fix (the error says so) and
    // only while attempts remain; the trap is the off-by-one: `max_attempts`
    // counts the first attempt too. A retry can come back empty-handed (the
    // item was taken back meanwhile): then there is nothing left to retry.
    todo!(
        "exercise 1.1: retry a failed attempt at once while the error is retryable and \
         attempts remain (see workshop1/README.md, Implement 1.1)"
    )
}
