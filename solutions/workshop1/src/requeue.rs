//! Exercise 1.2: re-queue at the back.
//!
//! Immediate retry has a cost you can see on a timeline: while one worker
//! hammers a failing item, every item behind it waits. If the failure lasts
//! (the downstream is restarting), the retries are wasted too. Sending the
//! failed item to the back of the queue lets the others go first and gives the
//! failure time to pass. This is what SQS does when a consumer does not delete a
//! message: it becomes visible again and waits its turn.
//!
//! - Read: `workshop1/README.md`, "Implement", 1.2.
//! - Check: `cargo workshop check 1.2`, or all of its output with
//!   `cargo test -p workshop1 --test workshop ex1_2_requeue`.

use std::sync::Arc;

use coordination::{
    DistributeError, MaxAttempts, RunReport, WorkDistributor, WorkItem, Worker, Workers,
    async_trait,
};

use crate::{WorkQueue, distribute_with};

/// Sends a failed item to the back of the queue, up to `max_attempts`.
pub struct RequeueDistributor<I: WorkItem> {
    /// The pool.
    workers: Workers<I>,
    /// Attempts per item, the first one included.
    max_attempts: MaxAttempts,
}

impl<I: WorkItem> RequeueDistributor<I> {
    /// A distributor over `workers` that gives each item up to `max_attempts`.
    pub fn new(workers: Workers<I>, max_attempts: MaxAttempts) -> Self {
        Self {
            workers,
            max_attempts,
        }
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for RequeueDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        let max_attempts = self.max_attempts;
        distribute_with(items, &self.workers, move |worker, queue| {
            consume(worker, queue, max_attempts)
        })
        .await
    }
}

/// One consumer: one attempt per delivery; a retryable failure with attempts
/// left goes to the back of the queue, anything else is given up.
async fn consume<I: WorkItem>(
    worker: Arc<dyn Worker<I>>,
    queue: WorkQueue<I>,
    max_attempts: MaxAttempts,
) {
    while let Some(delivery) = queue.receive(worker.id()).await {
        match worker.process(delivery.item()).await {
            Ok(()) => queue.complete(delivery),
            Err(error)
                if error.is_retryable() && !max_attempts.is_reached_by(delivery.attempt()) =>
            {
                queue.requeue(delivery, error);
            }
            Err(error) => queue.give_up(delivery, error),
        }
    }
}
