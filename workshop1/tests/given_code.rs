//! The given code keeps its promises: bad input is refused with typed errors,
//! and the queue's rules (receipts, delays, draining) hold. These tests pass
//! in every state of the workshop.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coordination::sim::{FaultPlan, clock, simulate};
use coordination::{
    Claim, ConfigError, DeadLetterReason, DistributeError, Happened, InMemoryWorkTracker,
    MaxAttempts, Probability, Receipt, RunReport, TrackerError, WorkDistributor, WorkError,
    WorkItem, WorkItemId, WorkStatus, WorkTracker, Worker, WorkerId, Workers,
};
use workshop1::testing::{image_workers, pool};
use workshop1::{ImageWorkItem, ImageWorker, NaiveWorkDistributor, VisibilityTimeout, WorkQueue};

/// A pool without workers is refused: nothing could ever run.
#[test]
fn zero_workers_are_refused() {
    let empty: Vec<Arc<dyn Worker<ImageWorkItem>>> = Vec::new();
    assert!(
        matches!(Workers::new(empty), Err(ConfigError::NoWorkers)),
        "a pool without workers is refused with NoWorkers"
    );
}

/// Two workers with one id are refused: their results could not be told apart.
#[test]
fn duplicate_worker_ids_are_refused() {
    let twins: Vec<Arc<dyn Worker<ImageWorkItem>>> = vec![
        Arc::new(ImageWorker::new(
            1,
            FaultPlan::NONE,
            coordination::Seed::new(1),
        )),
        Arc::new(ImageWorker::new(
            1,
            FaultPlan::NONE,
            coordination::Seed::new(1),
        )),
    ];
    assert!(
        matches!(
            Workers::new(twins),
            Err(ConfigError::DuplicateWorker(id)) if id == WorkerId::new(1)
        ),
        "two workers with id 1 are refused, naming the id"
    );
}

/// Zero max attempts is refused: the item would never be tried.
#[test]
fn zero_max_attempts_are_refused() {
    assert_eq!(
        MaxAttempts::new(0),
        Err(ConfigError::ZeroMaxAttempts),
        "zero max attempts is refused: the item would never be tried"
    );
    assert!(MaxAttempts::new(1).is_ok(), "one attempt is allowed");
}

/// A zero visibility timeout is refused: every delivery would be taken back
/// the moment it was handed out.
#[test]
fn a_zero_visibility_timeout_is_refused() {
    assert!(
        matches!(
            VisibilityTimeout::new(Duration::ZERO),
            Err(ConfigError::ZeroDuration { .. })
        ),
        "a zero visibility timeout is refused with ConfigError::ZeroDuration"
    );
    assert_eq!(
        VisibilityTimeout::new(Duration::from_secs(30)).map(VisibilityTimeout::get),
        Ok(Duration::from_secs(30)),
        "a 30 s visibility timeout is valid and kept as given"
    );
}

/// A failure rate outside 0..=1 is refused, NaN included.
#[test]
fn failure_rates_outside_zero_to_one_are_refused() {
    for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                Probability::new(bad),
                Err(ConfigError::ProbabilityOutOfRange { .. })
            ),
            "{bad} must be refused"
        );
    }
    assert!(
        Probability::new(0.0).is_ok() && Probability::new(1.0).is_ok(),
        "0 and 1 are valid probabilities"
    );
}

/// A batch with two items of one id is refused before anything runs.
#[test]
fn duplicate_item_ids_are_refused_before_anything_runs() {
    simulate(async {
        let workers = image_workers(1, FaultPlan::NONE, coordination::Seed::new(1));
        let images = vec![ImageWorkItem::new(7, 100), ImageWorkItem::new(7, 200)];
        let refused = NaiveWorkDistributor::new(workers).distribute(images).await;
        assert_eq!(
            refused,
            Err(DistributeError::DuplicateItem(
                coordination::WorkItemId::new(7)
            )),
            "the batch with item 7 twice is refused, naming item 7"
        );
    });
}

/// Corrupt images fail permanently on every worker.
#[test]
fn corrupt_images_fail_permanently() {
    simulate(async {
        let worker = ImageWorker::new(1, FaultPlan::NONE, coordination::Seed::new(1));
        let error = worker
            .process(&ImageWorkItem::new(1, 500).corrupt())
            .await
            .expect_err("a corrupt image cannot be processed");
        assert!(!error.is_retryable(), "{error}");
    });
}

/// Processing takes 20 ms plus 0.1 ms per kilobyte of simulated time.
#[test]
fn processing_time_grows_with_image_size() {
    simulate(async {
        let worker = ImageWorker::new(1, FaultPlan::NONE, coordination::Seed::new(1));
        worker
            .process(&ImageWorkItem::new(1, 1_000))
            .await
            .expect("a healthy worker processes a healthy image");
        assert_eq!(
            clock::elapsed(),
            Duration::from_millis(120),
            "a 1000 KB image takes 20 ms plus 100 ms"
        );
    });
}

/// Only the newest receipt settles an item: an answer that comes back after
/// its item was reclaimed and finished elsewhere is rejected, not counted.
#[test]
fn a_late_answer_is_rejected_by_its_old_receipt() {
    simulate(async {
        let queue = WorkQueue::new(vec![ImageWorkItem::new(1, 100)]).expect("one item");
        let first = queue
            .receive(WorkerId::new(1))
            .await
            .expect("one item waits");
        let reclaimed = queue.reclaim(first.receipt()).expect("still in flight");
        queue.requeue(
            reclaimed,
            WorkError::TimedOut {
                after: Duration::from_secs(1),
            },
        );
        let second = queue.receive(WorkerId::new(2)).await.expect("requeued");
        queue.complete(second);
        queue.complete(first);

        let report = queue.report();
        assert_eq!(
            report.succeeded(),
            1,
            "the second attempt, under the newest receipt, succeeds"
        );
        assert_eq!(
            report.late_results_rejected(),
            1,
            "the first answer comes under an old receipt and is rejected as late"
        );
        assert!(
            queue.is_drained(),
            "the only item succeeded: the queue is drained"
        );
        assert_eq!(
            queue.receive(WorkerId::new(1)).await,
            None,
            "a drained queue hands out nothing more"
        );
    });
}

/// An item retried after a delay is invisible until the delay has passed, and
/// other items are handed out meanwhile.
#[test]
fn a_delayed_retry_stays_invisible_until_its_delay_passes() {
    simulate(async {
        let queue = WorkQueue::new(vec![ImageWorkItem::new(1, 100), ImageWorkItem::new(2, 100)])
            .expect("unique ids");
        let worker = WorkerId::new(1);
        let first = queue.receive(worker).await.expect("two items wait");
        queue.retry_after(first, WorkError::transient("blip"), Duration::from_secs(5));
        let second = queue.receive(worker).await.expect("item 2 waits");
        assert_eq!(
            second.item().id().get(),
            2,
            "item-1 is invisible for 5 s, so item-2 comes first"
        );
        assert_eq!(
            clock::elapsed(),
            Duration::ZERO,
            "item-2 was ready at once: no time passed"
        );
        queue.complete(second);
        let retried = queue.receive(worker).await.expect("item 1 comes back");
        assert_eq!(
            retried.item().id().get(),
            1,
            "item-1 comes back after its delay"
        );
        assert_eq!(
            clock::elapsed(),
            Duration::from_secs(5),
            "item-1 is visible again exactly when its 5 s delay is over"
        );
        assert_eq!(retried.attempt().get(), 2, "the retry is attempt 2");
        queue.complete(retried);
        assert!(
            queue.is_drained(),
            "both items succeeded: the queue is drained"
        );
    });
}

/// Given up means lost: the report names the item and keeps its last error.
#[test]
fn a_given_up_item_is_reported_lost_with_its_error() {
    simulate(async {
        let queue = WorkQueue::new(vec![ImageWorkItem::new(3, 100)]).expect("one item");
        let delivery = queue.receive(WorkerId::new(1)).await.expect("one item");
        queue.give_up(delivery, WorkError::transient("connection reset"));
        let report = queue.report();
        let lost = report.lost();
        assert_eq!(lost.len(), 1, "the one given-up item is reported lost");
        assert_eq!(
            lost[0].status,
            WorkStatus::Failed,
            "a lost item ends failed"
        );
        assert!(
            std::panic::catch_unwind(|| report.assert_nothing_lost()).is_err(),
            "assert_nothing_lost must fail when an item is lost"
        );
        assert!(
            matches!(
                report.events().last().map(|event| &event.what),
                Some(Happened::Failed { .. })
            ),
            "the last event of a given-up item is its failure"
        );
    });
}

/// A pool helper from `testing` keeps its ids.
#[test]
fn test_pools_number_workers_from_one() {
    let workers = pool(vec![
        ImageWorker::new(1, FaultPlan::NONE, coordination::Seed::new(1)),
        ImageWorker::new(2, FaultPlan::NONE, coordination::Seed::new(1)),
    ]);
    let ids: Vec<u32> = workers.iter().map(|worker| worker.id().get()).collect();
    assert_eq!(
        ids,
        vec![1, 2],
        "the pool keeps the ids it was given, in order"
    );
}

/// Each verb of the queue is the lifecycle change its table promises, asked
/// of the tracker in that order: nothing more, nothing skipped.
#[test]
fn each_queue_verb_makes_the_lifecycle_changes_it_promises() {
    simulate(async {
        let log = TransitionLog::default();
        let asked = Arc::clone(&log.asked);
        let items = (1..=5).map(|id| ImageWorkItem::new(id, 100)).collect();
        let queue = WorkQueue::with_tracker(items, log).expect("unique ids");
        assert_eq!(take(&asked), ["submit"; 5], "every item is submitted once");
        let worker = WorkerId::new(1);

        let delivery = queue.receive(worker).await.expect("five wait");
        queue.complete(delivery);
        assert_eq!(take(&asked), ["start", "succeed"], "receive, then complete");

        let delivery = queue.receive(worker).await.expect("four wait");
        queue.give_up(delivery, WorkError::transient("blip"));
        assert_eq!(
            take(&asked),
            ["start", "fail"],
            "give_up fails the attempt and decides nothing: the item is lost"
        );

        let delivery = queue.receive(worker).await.expect("three wait");
        let retried = queue
            .retry_now(delivery, WorkError::transient("blip"))
            .expect("the attempt was current");
        queue.complete(retried);
        assert_eq!(
            take(&asked),
            ["start", "fail", "retry", "start", "succeed"],
            "retry_now starts the next attempt at once"
        );

        let delivery = queue.receive(worker).await.expect("two wait");
        queue.retry_after(
            delivery,
            WorkError::transient("blip"),
            Duration::from_secs(1),
        );
        assert_eq!(
            take(&asked),
            ["start", "fail", "retry"],
            "retry_after sends the item back to pending at once; only its visibility waits"
        );

        let hung = queue.receive(worker).await.expect("one waits");
        let reclaimed = queue.reclaim(hung.receipt()).expect("still in flight");
        assert_eq!(take(&asked), ["start"], "reclaiming alone changes nothing");
        queue.requeue(
            reclaimed,
            WorkError::TimedOut {
                after: Duration::from_secs(1),
            },
        );
        queue.complete(hung);
        assert_eq!(
            take(&asked),
            ["fail", "retry", "succeed refused"],
            "a reclaimed attempt is decided like a failure; its late answer is refused"
        );
    });
}

/// A tracker that writes down every change asked of it, and leaves the
/// rules to the provided tracker: a spy on what the queue does with its
/// tracker.
#[derive(Default)]
struct TransitionLog {
    /// Keeps the rules and the history.
    tracker: InMemoryWorkTracker,
    /// Each change asked, in order, with " refused" when the tracker said no;
    /// shared with the test, because the queue owns the tracker.
    asked: Arc<Mutex<Vec<String>>>,
}

impl TransitionLog {
    fn note<T>(&self, change: &str, result: Result<T, TrackerError>) -> Result<T, TrackerError> {
        let entry = match result {
            Ok(_) => change.to_owned(),
            Err(_) => format!("{change} refused"),
        };
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
        result
    }
}

impl WorkTracker for TransitionLog {
    fn submit(&mut self, item: WorkItemId) -> Result<(), TrackerError> {
        let result = self.tracker.submit(item);
        self.note("submit", result)
    }

    fn start(&mut self, item: WorkItemId, worker: WorkerId) -> Result<Claim, TrackerError> {
        let result = self.tracker.start(item, worker);
        self.note("start", result)
    }

    fn succeed(&mut self, item: WorkItemId, receipt: Receipt) -> Result<(), TrackerError> {
        let result = self.tracker.succeed(item, receipt);
        self.note("succeed", result)
    }

    fn fail(
        &mut self,
        item: WorkItemId,
        receipt: Receipt,
        error: WorkError,
    ) -> Result<(), TrackerError> {
        let result = self.tracker.fail(item, receipt, error);
        self.note("fail", result)
    }

    fn retry(&mut self, item: WorkItemId, delay: Duration) -> Result<(), TrackerError> {
        let result = self.tracker.retry(item, delay);
        self.note("retry", result)
    }

    fn dead_letter(
        &mut self,
        item: WorkItemId,
        reason: DeadLetterReason,
    ) -> Result<(), TrackerError> {
        let result = self.tracker.dead_letter(item, reason);
        self.note("dead-letter", result)
    }

    fn status(&self, item: WorkItemId) -> Option<WorkStatus> {
        self.tracker.status(item)
    }

    fn report(&self) -> RunReport {
        self.tracker.report()
    }
}

/// Empties the log, returning what it held.
fn take(asked: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *asked.lock().unwrap_or_else(PoisonError::into_inner))
}
