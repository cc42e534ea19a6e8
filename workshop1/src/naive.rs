//! The starting point: a distributor that tries each item once.
//!
//! Every consumer takes an item, processes it, and moves on. When an attempt
//! fails, the item is dropped. The code is short and looks reasonable, and with
//! a 10% transient failure rate it loses about one image in ten. Run
//! `cargo run -p workshop1 --example observe_naive` and count.

use std::sync::Arc;

use coordination::{
    DistributeError, RunReport, WorkDistributor, WorkItem, Worker, Workers, async_trait,
};

use crate::{WorkQueue, distribute_with};

/// Hands each item to the next free worker, once. Failures are dropped.
pub struct NaiveWorkDistributor<I: WorkItem> {
    /// The pool.
    workers: Workers<I>,
}

impl<I: WorkItem> NaiveWorkDistributor<I> {
    /// A distributor over `workers`.
    pub fn new(workers: Workers<I>) -> Self {
        Self { workers }
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for NaiveWorkDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        distribute_with(items, &self.workers, consume_once).await
    }
}

/// Takes items until the queue is drained; one attempt each.
async fn consume_once<I: WorkItem>(worker: Arc<dyn Worker<I>>, queue: WorkQueue<I>) {
    while let Some(delivery) = queue.receive(worker.id()).await {
        match worker.process(delivery.item()).await {
            Ok(()) => queue.complete(delivery),
            // The bug this workshop is about: the error is logged and the
            // item is gone.
            Err(error) => queue.give_up(delivery, error),
        }
    }
}
