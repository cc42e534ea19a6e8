//! Exercise 1.6: the visibility timeout.
//!
//! A worker that crashes mid-item, or hangs, never answers. Every distributor
//! so far waits for that answer forever: the item is in flight, the run never
//! ends. SQS's answer is the visibility timeout (30 seconds by default): a
//! received message is hidden for that long, and if it is not deleted by then
//! it becomes visible again for another consumer. Azure Service Bus calls it
//! the peek-lock duration (1 minute by default).
//!
//! The catch: the first worker may not be dead, only slow. When it finally
//! answers, the item may already be done by someone else. Its receipt is no
//! longer current, so the queue rejects the late result: no item counts twice.
//!
//! The *reaper* is given: a loop that watches the in-flight deliveries, takes
//! back each one that outlived the timeout, and treats it as a failed attempt
//! ([`WorkError::TimedOut`]) under the same policy as any other failure. You
//! write the part that decides whether it works: [`wait_for_next_look`], when
//! the reaper looks again. Too late, and a hung worker's item comes back
//! late; too early or too often, and the reaper burns turns for nothing; on
//! the wrong clock, and the run outlives its work.
//!
//! - Read: `workshop1/README.md`, "Implement", 1.6.
//! - Check: `cargo workshop check 1.6`, or all of its output with
//!   `cargo test -p workshop1 --test workshop ex1_6_visibility_timeout`.

use std::time::Duration;

use coordination::sim::clock;
use coordination::{
    ConfigError, DistributeError, RunReport, Seed, SimRng, WorkDistributor, WorkError, WorkItem,
    Workers, async_trait,
};

use crate::backoff_distributor::jitter_for;
use crate::dead_letter_queue::consume;
use crate::{FailurePolicy, QueueChanges, WorkQueue, run_consumers};

/// How long a worker may hold a delivery before it is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisibilityTimeout(Duration);

impl VisibilityTimeout {
    /// A visibility timeout of `timeout`.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] for zero: every delivery would be taken
    /// back the moment it was handed out.
    pub fn new(timeout: Duration) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            Err(ConfigError::ZeroDuration {
                setting: "visibility timeout",
            })
        } else {
            Ok(Self(timeout))
        }
    }

    /// The timeout.
    pub fn get(self) -> Duration {
        self.0
    }
}

/// Retries, dead-letters, and takes work back from workers that do not answer
/// within the visibility timeout.
pub struct VisibilityTimeoutDistributor<I: WorkItem> {
    /// The pool.
    workers: Workers<I>,
    /// Retry or set aside, for failures and timeouts alike.
    policy: FailurePolicy<I>,
    /// How long a delivery may stay unanswered.
    timeout: VisibilityTimeout,
    /// Seeds the jitter of consumers and reaper.
    seed: Seed,
}

impl<I: WorkItem> VisibilityTimeoutDistributor<I> {
    /// A distributor over `workers` that handles failures with `policy` and
    /// reclaims deliveries older than `timeout`, with jitter drawn from `seed`.
    pub fn new(
        workers: Workers<I>,
        policy: FailurePolicy<I>,
        timeout: VisibilityTimeout,
        seed: Seed,
    ) -> Self {
        Self {
            workers,
            policy,
            timeout,
            seed,
        }
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for VisibilityTimeoutDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        let queue = WorkQueue::new(items)?;
        // A worker still busy once everything is settled gets one more
        // timeout to answer, so its late result is seen (and rejected).
        let consumers = run_consumers(&self.workers, &queue, self.timeout.get(), |worker| {
            let jitter = jitter_for(self.seed, &*worker);
            consume(worker, queue.clone(), self.policy.clone(), jitter)
        });
        let mut reaper_jitter = self.seed.derive(REAPER_STREAM).rng();
        let reaper =
            enforce_visibility_timeout(&queue, self.timeout, &self.policy, &mut reaper_jitter);
        tokio::join!(consumers, reaper);
        Ok(queue.into_report())
    }
}

/// Names the reaper's jitter stream among a run's derived seeds.
const REAPER_STREAM: u64 = 0x7EA9;

/// The reaper: until the queue is drained, takes back every delivery that has
/// been in flight for `timeout` or longer and hands it to `policy` as a failed
/// attempt; in between, waits for [`wait_for_next_look`].
pub async fn enforce_visibility_timeout<I: WorkItem>(
    queue: &WorkQueue<I>,
    timeout: VisibilityTimeout,
    policy: &FailurePolicy<I>,
    jitter: &mut SimRng,
) {
    // Subscribed before the first look: a change between a look and the
    // wait that follows it still ends that wait.
    let mut changes = queue.changes();
    while !queue.is_drained() {
        let now = clock::elapsed();
        for in_flight in queue.in_flight() {
            if in_flight.received_at + timeout.get() > now {
                // `in_flight` lists the oldest first: everything after this
                // one expires later still.
                break;
            }
            if let Some(delivery) = queue.reclaim(in_flight.receipt) {
                let error = WorkError::TimedOut {
                    after: timeout.get(),
                };
                policy.handle(queue, delivery, error, jitter);
            }
        }
        wait_for_next_look(queue, timeout, &mut changes).await;
    }
}

/// Waits until the reaper should look at the in-flight deliveries again: no
/// later than the moment the oldest of them has been held for `timeout`, and
/// as soon as the queue changes (a delivery answered or handed out, the
/// queue drained), whichever comes first. With nothing in flight, no
/// deadline can pass before something is handed out, which is a change.
///
/// Every delivery still in flight was received less than `timeout` ago: the
/// reaper took back the others just before.
pub async fn wait_for_next_look<I: WorkItem>(
    queue: &WorkQueue<I>,
    timeout: VisibilityTimeout,
    changes: &mut QueueChanges<I>,
) {
    // `in_flight` lists the oldest first, so its deadline is the earliest;
    // a delivery handed out later is due later still.
    let Some(oldest) = queue.in_flight().into_iter().next() else {
        changes.next().await;
        return;
    };
    let due_in = (oldest.received_at + timeout.get()).saturating_sub(clock::elapsed());
    tokio::select! {
        biased;
        () = changes.next() => {}
        () = tokio::time::sleep(due_in) => {}
    }
}
