//! Helpers for this workshop's tests and demos.
//!
//! Building a pool of simulated workers, a batch of images and a sweep over
//! seeds takes the same few lines in every test; they live here so each test
//! shows only what it checks.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coordination::sim::FaultPlan;
use coordination::{
    Attempt, Happened, MaxAttempts, Probability, RunReport, Seed, WorkDistributor, WorkError,
    WorkItem, WorkItemId, WorkStatus, Worker, WorkerId, Workers, async_trait,
};

use crate::{BackoffPolicy, ImageWorkItem, ImageWorker, RetryPolicy};

// This workshop's `sweep()` and `for_each_seed()`, which name it in the
// commands that replay a failing seed.
coordination::seed_sweep!();

/// A pool of `count` image workers (ids 1..=count) that all follow `plan`.
pub fn image_workers(count: u32, plan: FaultPlan, seed: Seed) -> Workers<ImageWorkItem> {
    pool(
        (1..=count)
            .map(|id| ImageWorker::new(id, plan, seed))
            .collect(),
    )
}

/// A pool of the given workers, all of one kind.
///
/// # Panics
/// When `workers` is empty or two share an id: test set-up is wrong.
pub fn pool<W: Worker<ImageWorkItem> + 'static>(workers: Vec<W>) -> Workers<ImageWorkItem> {
    mixed_pool(
        workers
            .into_iter()
            .map(|worker| Arc::new(worker) as Arc<dyn Worker<ImageWorkItem>>)
            .collect(),
    )
}

/// A pool of workers of different kinds.
///
/// # Panics
/// When `workers` is empty or two share an id: test set-up is wrong.
pub fn mixed_pool(workers: Vec<Arc<dyn Worker<ImageWorkItem>>>) -> Workers<ImageWorkItem> {
    Workers::new(workers).expect("a test pool has at least one worker and unique ids")
}

/// Max attempts written in a test.
///
/// # Panics
/// For 0: test set-up is wrong.
pub fn attempts(count: u32) -> MaxAttempts {
    MaxAttempts::new(count).expect("tests allow at least one attempt")
}

/// A retry policy written in a test: `count` attempts, backoff from `base` up
/// to `cap`.
///
/// # Panics
/// When the policy is invalid: test set-up is wrong.
pub fn retry_policy(count: u32, base: Duration, cap: Duration) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts(count),
        backoff: BackoffPolicy::new(base, cap).expect("a backoff written in a test is valid"),
    }
}

/// How many of the report's events `wanted` picks out.
pub fn count_events(report: &RunReport, wanted: impl Fn(&Happened) -> bool) -> usize {
    report
        .events()
        .iter()
        .filter(|event| wanted(&event.what))
        .count()
}

/// Whether an event is an attempt that timed out.
pub fn is_timeout(what: &Happened) -> bool {
    matches!(
        what,
        Happened::Failed {
            error: WorkError::TimedOut { .. },
            ..
        }
    )
}

/// A probability written in a test.
///
/// # Panics
/// When `value` is not in `0.0..=1.0`: test set-up is wrong.
pub fn rate(value: f64) -> Probability {
    Probability::new(value).expect("a rate written in a test is between 0 and 1")
}

/// A worker that fails chosen items in a chosen way, then behaves like a
/// healthy [`ImageWorker`]: for tests that need one exact failure at one exact
/// moment rather than a rate.
pub struct ScriptedWorker {
    /// Does the work when no failure is scripted.
    healthy: ImageWorker,
    /// Per item, the errors its next attempts on this worker return, in order.
    /// A std mutex: held only to pop, never across an `.await`.
    script: Mutex<BTreeMap<WorkItemId, VecDeque<WorkError>>>,
    /// Items this worker never answers for: it hangs on them, as a worker
    /// whose process froze mid-item.
    hangs_on: BTreeSet<WorkItemId>,
}

impl ScriptedWorker {
    /// A healthy worker with id `id`.
    pub fn new(id: u32) -> Self {
        Self {
            healthy: ImageWorker::new(id, FaultPlan::NONE, Seed::new(0)),
            script: Mutex::new(BTreeMap::new()),
            hangs_on: BTreeSet::new(),
        }
    }

    /// This worker never answers for `item`: it hangs on it, and serves every
    /// other item normally.
    pub fn hanging_on(mut self, item: u64) -> Self {
        self.hangs_on.insert(WorkItemId::new(item));
        self
    }

    /// The next attempts at `item` on this worker fail with `errors`, in
    /// order, each after the item's full processing time; later attempts
    /// succeed.
    pub fn failing(self, item: u64, errors: impl IntoIterator<Item = WorkError>) -> Self {
        self.script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(WorkItemId::new(item))
            .or_default()
            .extend(errors);
        self
    }
}

#[async_trait]
impl Worker<ImageWorkItem> for ScriptedWorker {
    fn id(&self) -> WorkerId {
        self.healthy.id()
    }

    async fn process(&self, image: &ImageWorkItem) -> Result<(), WorkError> {
        if self.hangs_on.contains(&image.id()) {
            return std::future::pending().await;
        }
        let scripted = self
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&image.id())
            .and_then(VecDeque::pop_front);
        match scripted {
            Some(error) => {
                tokio::time::sleep(image.processing_time()).await;
                Err(error)
            }
            None => self.healthy.process(image).await,
        }
    }
}

/// One retry read off a report: the attempt that failed, the delay chosen
/// for it, and when the next attempt started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The item retried.
    pub item: WorkItemId,
    /// The attempt that failed.
    pub failed: Attempt,
    /// When it failed.
    pub failed_at: Duration,
    /// The delay scheduled before the next attempt.
    pub delay: Duration,
    /// When the next attempt started.
    pub started_at: Duration,
}

/// Every retry in `report` that was scheduled with a delay and then started,
/// item by item.
pub fn retries(report: &RunReport) -> Vec<Retry> {
    let mut found = Vec::new();
    for item in report.items() {
        let mut failed = None;
        let mut scheduled = None;
        for event in report.events_of(item.id) {
            match &event.what {
                Happened::Failed { attempt, .. } => failed = Some((*attempt, event.at)),
                Happened::RetryScheduled { delay } => scheduled = Some(*delay),
                Happened::Started { .. } => {
                    if let (Some((attempt, failed_at)), Some(delay)) = (failed, scheduled.take()) {
                        found.push(Retry {
                            item: item.id,
                            failed: attempt,
                            failed_at,
                            delay,
                            started_at: event.at,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// One item's history, one event per line, for failure messages.
pub fn history(report: &RunReport, item: WorkItemId) -> String {
    report
        .events_of(item)
        .map(|event| format!("    {event}\n"))
        .collect()
}

/// Runs 40 images (10% of them corrupt) through the distributor `build`
/// makes, on three workers that fail 30% of attempts transiently, and checks
/// [`assert_retries_follow_the_rules`] plus that some item really was retried.
/// The shared test of every retrying distributor; returns the report for
/// further checks.
///
/// # Panics
/// When a rule is broken, in the words of `lesson`.
pub async fn check_retries_on_flaky_workers<D, F>(
    seed: Seed,
    max_attempts: MaxAttempts,
    lesson: &str,
    build: F,
) -> RunReport
where
    D: WorkDistributor<ImageWorkItem>,
    F: FnOnce(Workers<ImageWorkItem>) -> D,
{
    let workers = image_workers(3, FaultPlan::NONE.with_transient(rate(0.3)), seed);
    let images = ImageWorkItem::batch(40, rate(0.1), seed);
    let report = build(workers)
        .distribute(images)
        .await
        .expect("a generated batch has unique ids");
    assert_retries_follow_the_rules(&report, max_attempts, lesson);
    assert!(
        report.attempts() > report.submitted(),
        "{lesson}: with 30% transient failures some items need a second attempt, but {} \
         items took only {} attempts",
        report.submitted(),
        report.attempts()
    );
    report
}

/// Checks the retry rules every retrying distributor must keep, and explains
/// a failure in the words of `lesson` (for example "exercise 1.1"):
///
/// - an item that failed permanently had exactly one attempt;
/// - no item had more than `max_attempts`;
/// - an item that did not succeed after a retryable failure used every attempt.
///
/// # Panics
/// When a rule is broken, naming the item and showing its history.
#[track_caller]
pub fn assert_retries_follow_the_rules(
    report: &RunReport,
    max_attempts: MaxAttempts,
    lesson: &str,
) {
    let max = max_attempts.get();
    for item in report.items() {
        let id = item.id;
        let story = history(report, id);
        assert!(
            item.attempts <= max,
            "{lesson}: {id} had {} attempts but max attempts is {max}. Check \
             `max_attempts.is_reached_by(delivery.attempt())` before retrying.\n{story}",
            item.attempts
        );
        match (&item.status, &item.last_error) {
            (WorkStatus::Succeeded, _) => {}
            (_, Some(error)) if !error.is_retryable() => assert_eq!(
                item.attempts, 1,
                "{lesson}: {id} failed permanently ({error}) yet had {} attempts. A permanent \
                 error fails the same way every time: do not retry when \
                 `error.is_retryable()` is false.\n{story}",
                item.attempts
            ),
            (_, Some(error)) => assert_eq!(
                item.attempts, max,
                "{lesson}: {id} failed with a retryable error ({error}) and was given up after \
                 {} of its {max} attempts. Retry it while attempts remain.\n{story}",
                item.attempts
            ),
            (status, None) => panic!(
                "{lesson}: {id} ended {status} without ever failing: every item must be \
                 completed or given up.\n{story}"
            ),
        }
    }
}
