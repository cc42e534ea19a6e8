//! Exercise 1.5: the dead-letter queue.
//!
//! Every distributor so far ends by giving up on some items: the corrupt ones
//! at once, the unlucky ones after their last attempt. Given up means lost,
//! and a lost image is a user whose upload silently vanished. A dead-letter
//! queue keeps them instead, with the reason, the attempt count and the last
//! error, so someone can look, fix the cause and *redrive* them. After this
//! exercise, `succeeded + dead-lettered = submitted` for every run.
//!
//! Two parts:
//!
//! 1. [`InMemoryDeadLetterQueue`]: the queue itself, oldest letter first.
//! 2. [`FailurePolicy::handle`]: the decision after a failed attempt. A
//!    permanent error goes to the dead-letter queue at once; a retryable one is
//!    retried after the backoff delay while attempts remain, and dead-lettered
//!    when they run out.
//!
//! - Read: `workshop1/README.md`, "Implement", 1.5.
//! - Check: `cargo workshop check 1.5`, or all of its output with
//!   `cargo test -p workshop1 --test workshop ex1_5_dead_letter_queue`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use coordination::{
    DeadLetter, DeadLetterQueue, DeadLetterReason, DistributeError, RunReport, Seed, SimRng,
    WorkDistributor, WorkError, WorkItem, Worker, Workers, async_trait,
};

use crate::backoff_distributor::jitter_for;
use crate::{Delivery, RetryPolicy, WorkQueue, distribute_with};

/// A dead-letter queue in memory, oldest letter first.
pub struct InMemoryDeadLetterQueue<I> {
    /// The letters, oldest at the front. A std mutex: every method is short and
    /// none awaits while holding it.
    letters: Mutex<VecDeque<DeadLetter<I>>>,
}

impl<I> InMemoryDeadLetterQueue<I> {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            letters: Mutex::new(VecDeque::new()),
        }
    }
}

impl<I> Default for InMemoryDeadLetterQueue<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: WorkItem> DeadLetterQueue<I> for InMemoryDeadLetterQueue<I> {
    fn push(&self, letter: DeadLetter<I>) {
        // TODO(1.5): keep `letter`, after every letter already kept.
        todo!("exercise 1.5: store the letter (see workshop1/README.md, Implement 1.5)")
    }

    fn len(&self) -> usize {
        // TODO(1.5): how many letters are kept.
        todo!("exercise 1.5: count the letters (see workshop1/README.md, Implement 1.5)")
    }

    fn letters(&self) -> Vec<DeadLetter<I>> {
        // TODO(1.5): a copy of every letter, oldest first; the queue keeps them.
        todo!("exercise 1.5: list the letters (see workshop1/README.md, Implement 1.5)")
    }

    fn redrive(&self) -> Vec<I> {
        // TODO(1.5): take every letter out, oldest first, and return their
        // items; the queue is empty afterwards.
        todo!("exercise 1.5: redrive the letters (see workshop1/README.md, Implement 1.5)")
    }
}

/// What happens after a failed attempt: retry with backoff, or set aside.
pub struct FailurePolicy<I: WorkItem> {
    /// Attempts and delays.
    pub retry: RetryPolicy,
    /// Where items go when they will not succeed.
    pub dead_letters: Arc<dyn DeadLetterQueue<I>>,
}

impl<I: WorkItem> Clone for FailurePolicy<I> {
    fn clone(&self) -> Self {
        Self {
            retry: self.retry,
            dead_letters: Arc::clone(&self.dead_letters),
        }
    }
}

impl<I: WorkItem> FailurePolicy<I> {
    /// Decides the fate of `delivery`, whose attempt failed with `error`:
    /// dead-letter it at once if the error is permanent, dead-letter it if its
    /// attempts are used up, and otherwise retry it after a backoff delay drawn
    /// from `jitter`.
    pub fn handle(
        &self,
        queue: &WorkQueue<I>,
        delivery: Delivery<I>,
        error: WorkError,
        jitter: &mut SimRng,
    ) {
        // TODO(1.5): three fates, and the order of the questions matters. An
        // error that no retry can fix is set aside at once, and its letter
        // says so even on the last attempt. A retryable one that used every
        // attempt is set aside as exhausted. Anything else is retried after
        // its backoff delay, never at once. Nothing is given up: given up
        // means lost.
        todo!(
            "exercise 1.5: retry, or dead-letter with the right reason \
             (see workshop1/README.md, Implement 1.5)"
        )
    }
}

/// Retries with backoff and dead-letters what will not succeed: nothing is
/// lost.
pub struct DeadLetterDistributor<I: WorkItem> {
    /// The pool.
    workers: Workers<I>,
    /// Retry or set aside.
    policy: FailurePolicy<I>,
    /// Seeds each consumer's jitter.
    seed: Seed,
}

impl<I: WorkItem> DeadLetterDistributor<I> {
    /// A distributor over `workers` that retries as `retry` says and sets
    /// aside in `dead_letters`, with jitter drawn from `seed`.
    pub fn new(
        workers: Workers<I>,
        retry: RetryPolicy,
        dead_letters: Arc<dyn DeadLetterQueue<I>>,
        seed: Seed,
    ) -> Self {
        Self {
            workers,
            policy: FailurePolicy {
                retry,
                dead_letters,
            },
            seed,
        }
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for DeadLetterDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        let policy = self.policy.clone();
        let seed = self.seed;
        distribute_with(items, &self.workers, move |worker, queue| {
            let jitter = jitter_for(seed, &*worker);
            consume(worker, queue, policy.clone(), jitter)
        })
        .await
    }
}

/// One consumer: one attempt per delivery; every failure goes to the policy.
pub(crate) async fn consume<I: WorkItem>(
    worker: Arc<dyn Worker<I>>,
    queue: WorkQueue<I>,
    policy: FailurePolicy<I>,
    mut jitter: SimRng,
) {
    while let Some(delivery) = queue.receive(worker.id()).await {
        match worker.process(delivery.item()).await {
            Ok(()) => queue.complete(delivery),
            Err(error) => policy.handle(&queue, delivery, error, &mut jitter),
        }
    }
}
