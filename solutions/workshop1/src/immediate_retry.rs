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
    while let Some(mut delivery) = queue.receive(worker.id()).await {
        loop {
            match worker.process(delivery.item()).await {
                Ok(()) => {
                    queue.complete(delivery);
                    break;
                }
                Err(error)
                    if error.is_retryable() && !max_attempts.is_reached_by(delivery.attempt()) =>
                {
                    match queue.retry_now(delivery, error) {
                        Some(next) => delivery = next,
                        None => break,
                    }
                }
                Err(error) => {
                    queue.give_up(delivery, error);
                    break;
                }
            }
        }
    }
}
