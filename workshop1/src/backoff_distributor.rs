//! Exercise 1.4: a distributor that waits out backoff without blocking anyone.
//!
//! With a [`BackoffPolicy`] in hand, the tempting code is
//! `tokio::time::sleep(delay).await` right in the consumer, before retrying.
//! That stops the worker for the whole delay: with a 30-second backoff, one
//! failing item idles a worker for 30 seconds while the queue fills. The item
//! should wait, not the worker. [`WorkQueue::retry_after`] makes the item
//! invisible for the delay (what SQS's `ChangeMessageVisibility` does), and the
//! worker moves straight on to the next item.
//!
//! - Read: `workshop1/README.md`, "Implement", 1.4.
//! - Check: `cargo workshop check 1.4`, or all of its output with
//!   `cargo test -p workshop1 --test workshop ex1_4_backoff_distributor`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::sync::Arc;

use coordination::{
    DistributeError, MaxAttempts, RunReport, Seed, SimRng, WorkDistributor, WorkItem, Worker,
    Workers, async_trait,
};

use crate::{BackoffPolicy, WorkQueue, distribute_with};

/// How many times to try an item, and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per item, the first one included.
    pub max_attempts: MaxAttempts,
    /// The wait before each retry.
    pub backoff: BackoffPolicy,
}

/// Retries a failed item after a jittered, growing delay, up to the policy's
/// attempts; the worker serves other items meanwhile.
pub struct BackoffDistributor<I: WorkItem> {
    /// The pool.
    workers: Workers<I>,
    /// Attempts and delays.
    retry: RetryPolicy,
    /// Seeds each consumer's jitter.
    seed: Seed,
}

impl<I: WorkItem> BackoffDistributor<I> {
    /// A distributor over `workers` retrying as `retry` says, with jitter drawn
    /// from `seed`.
    pub fn new(workers: Workers<I>, retry: RetryPolicy, seed: Seed) -> Self {
        Self {
            workers,
            retry,
            seed,
        }
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for BackoffDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        let retry = self.retry;
        let seed = self.seed;
        distribute_with(items, &self.workers, move |worker, queue| {
            let jitter = jitter_for(seed, &*worker);
            consume(worker, queue, retry, jitter)
        })
        .await
    }
}

/// A generator for one worker's jitter, independent of every other worker's.
pub(crate) fn jitter_for<I: WorkItem>(seed: Seed, worker: &dyn Worker<I>) -> SimRng {
    seed.derive(JITTER_STREAM)
        .derive(u64::from(worker.id().get()))
        .rng()
}

/// Names the jitter stream among a run's derived seeds.
const JITTER_STREAM: u64 = 0x0B0F;

/// One consumer: one attempt per delivery; a retryable failure with attempts
/// left is retried after the policy's delay, anything else is given up.
async fn consume<I: WorkItem>(
    worker: Arc<dyn Worker<I>>,
    queue: WorkQueue<I>,
    retry: RetryPolicy,
    mut jitter: SimRng,
) {
    // TODO(1.4): a retryable failure with attempts left comes back after the
    // policy's delay for *that* attempt, drawn from this consumer's `jitter`
    // (the delay grows with each failure and differs between items that
    // failed together). The trap: the item must wait, not the worker. A
    // worker that sleeps out the delay leaves every other item waiting too.
    todo!(
        "exercise 1.4: retry after a backoff delay without blocking the worker \
         (see workshop1/README.md, Implement 1.4)"
    )
}
