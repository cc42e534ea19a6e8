//! Exercise 1.6: the visibility timeout. Edit
//! `workshop1/src/visibility_timeout.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.6. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_6_visibility_timeout`.

use std::sync::Arc;
use std::time::Duration;

use coordination::sim::{FaultPlan, Hang, clock};
use coordination::{
    DeadLetterQueue, DeadLetterReason, Happened, Probability, RunReport, Seed, WorkDistributor,
    WorkError, WorkItemId, WorkStatus,
};
use workshop1::testing::{
    ScriptedWorker, count_events, for_each_seed, history, image_workers, is_timeout, pool, rate,
    retry_policy,
};
use workshop1::{
    FailurePolicy, ImageWorkItem, ImageWorker, InMemoryDeadLetterQueue, VisibilityTimeout,
    VisibilityTimeoutDistributor,
};

const LESSON: &str = "exercise 1.6 (visibility timeout)";

fn timeout(seconds: u64) -> VisibilityTimeout {
    VisibilityTimeout::new(Duration::from_secs(seconds)).expect("a positive timeout is valid")
}

fn policy(
    count: u32,
) -> (
    FailurePolicy<ImageWorkItem>,
    Arc<InMemoryDeadLetterQueue<ImageWorkItem>>,
) {
    let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
    let policy = FailurePolicy {
        retry: retry_policy(count, Duration::from_millis(100), Duration::from_secs(1)),
        dead_letters: dead_letters.clone(),
    };
    (policy, dead_letters)
}

fn hanging(id: u32, hang: Hang, seed: Seed) -> ImageWorker {
    ImageWorker::new(
        id,
        FaultPlan::NONE.with_hang(hang, Probability::ALWAYS),
        seed,
    )
}

/// Runs `images` on scripted `workers` with a 5 s visibility timeout and
/// three attempts, checks that nothing was lost, and returns the report
/// with, for `item`, when it was first received and when it first timed
/// out.
async fn first_timeout_of(
    item: u64,
    workers: Vec<ScriptedWorker>,
    images: Vec<ImageWorkItem>,
    seed: Seed,
) -> (RunReport, Duration, Option<Duration>) {
    let (policy, _) = policy(3);
    let report = VisibilityTimeoutDistributor::new(pool(workers), policy, timeout(5), seed)
        .distribute(images)
        .await
        .expect("ids are unique");
    report.assert_nothing_lost();
    let item = WorkItemId::new(item);
    let received = report
        .events_of(item)
        .find(|event| matches!(event.what, Happened::Started { .. }))
        .map(|event| event.at)
        .expect("the item is received");
    let timed_out = report
        .events_of(item)
        .find(|event| is_timeout(&event.what))
        .map(|event| event.at);
    (report, received, timed_out)
}

/// The item a hung worker holds is taken back when the timeout passes and
/// finished by another worker; nothing is lost.
#[test]
fn a_hung_workers_item_goes_to_another_worker_after_the_timeout() {
    for_each_seed(|seed| async move {
        let workers = pool(vec![
            hanging(1, Hang::Forever, seed),
            ImageWorker::new(2, FaultPlan::NONE, seed),
        ]);
        let (policy, _) = policy(3);
        let report = VisibilityTimeoutDistributor::new(workers, policy, timeout(5), seed)
            .distribute(ImageWorkItem::batch(8, rate(0.0), seed))
            .await
            .expect("ids are unique");
        report.assert_nothing_lost();

        let stuck = report
            .events()
            .iter()
            .find(
                |event| matches!(event.what, Happened::Started { worker, .. } if worker.get() == 1),
            )
            .expect("worker 1 takes an item before it hangs");
        let item = report.item(stuck.item).expect("submitted");
        let story = history(&report, stuck.item);
        assert_eq!(
            (item.status, item.last_worker.map(|worker| worker.get())),
            (WorkStatus::Succeeded, Some(2)),
            "{LESSON}: worker-1 hung holding {}; after the timeout worker-2 should finish \
             it.\n{story}",
            stuck.item
        );
        let timed_out = report
            .events_of(stuck.item)
            .find(|event| is_timeout(&event.what))
            .map(|event| event.at);
        assert_eq!(
            timed_out,
            Some(stuck.at + Duration::from_secs(5)),
            "{LESSON}: the delivery should time out exactly 5 s after worker-1 received it, \
             neither earlier nor later.\n{story}"
        );
    });
}

/// A slow worker's answer that arrives after its item was finished elsewhere
/// is rejected: every item counts exactly once.
#[test]
fn a_late_result_is_rejected_and_nothing_counts_twice() {
    for_each_seed(|seed| async move {
        let workers = pool(vec![
            hanging(1, Hang::For(Duration::from_secs(3)), seed),
            ImageWorker::new(2, FaultPlan::NONE, seed),
        ]);
        let (policy, _) = policy(3);
        let report = VisibilityTimeoutDistributor::new(workers, policy, timeout(2), seed)
            .distribute(ImageWorkItem::batch(6, rate(0.0), seed))
            .await
            .expect("ids are unique");
        report.assert_nothing_lost();
        let successes = count_events(&report, |what| matches!(what, Happened::Succeeded { .. }));
        assert_eq!(
            successes,
            report.submitted(),
            "{LESSON}: {} items but {successes} successes were counted.\n{}",
            report.submitted(),
            report.trace()
        );
        assert!(
            report.late_results_rejected() >= 1,
            "{LESSON}: worker-1 answers 3 s after receiving, past the 2 s timeout; its late \
             answer should arrive and be rejected.\n{}",
            report.trace()
        );
    });
}

/// An item that times out on every attempt is dead-lettered once its attempts
/// are used up, not retried forever.
#[test]
fn an_item_that_times_out_on_every_attempt_is_dead_lettered() {
    for_each_seed(|seed| async move {
        let workers = pool((1..=3).map(|id| hanging(id, Hang::Forever, seed)).collect());
        let (policy, dead_letters) = policy(3);
        let report = VisibilityTimeoutDistributor::new(workers, policy, timeout(10), seed)
            .distribute(vec![ImageWorkItem::new(1, 200)])
            .await
            .expect("ids are unique");
        report.assert_nothing_lost();
        let letters = dead_letters.letters();
        assert_eq!(
            letters.len(),
            1,
            "{LESSON}: the item must end in the dead-letter queue"
        );
        assert_eq!(
            (letters[0].reason, letters[0].attempts),
            (DeadLetterReason::AttemptsExhausted, 3),
            "{LESSON}: three timeouts use up three attempts.\n{}",
            history(&report, WorkItemId::new(1))
        );
        assert!(
            matches!(letters[0].last_error, WorkError::TimedOut { .. }),
            "{LESSON}: the letter keeps the last error, a timeout: {:?}",
            letters[0].last_error
        );
    });
}

/// Workers that answer within the timeout are never interrupted.
#[test]
fn workers_that_answer_in_time_are_never_timed_out() {
    for_each_seed(|seed| async move {
        let workers = image_workers(3, FaultPlan::NONE.with_transient(rate(0.2)), seed);
        let (policy, _) = policy(5);
        let report = VisibilityTimeoutDistributor::new(workers, policy, timeout(30), seed)
            .distribute(ImageWorkItem::batch(30, rate(0.1), seed))
            .await
            .expect("ids are unique");
        report.assert_nothing_lost();
        let timeouts = count_events(&report, is_timeout);
        assert_eq!(
            timeouts,
            0,
            "{LESSON}: no image takes anywhere near 30 s, yet {timeouts} deliveries timed out.\n{}",
            report.trace()
        );
    });
}

/// A delivery received between two whole seconds is taken back exactly when
/// its own timeout passes: the reaper wakes for that delivery's deadline, not
/// on a tick of its own, and not a whole timeout after it last looked.
#[test]
fn a_delivery_is_taken_back_exactly_when_its_own_timeout_passes() {
    for_each_seed(|seed| async move {
        // Worker 1 finishes item-1 (300 ms) and then hangs on item-3, which
        // it receives at 300 ms; worker 2 is busy with item-2 until 420 ms.
        let workers = vec![ScriptedWorker::new(1).hanging_on(3), ScriptedWorker::new(2)];
        let images = vec![
            ImageWorkItem::new(1, 2_800),
            ImageWorkItem::new(2, 4_000),
            ImageWorkItem::new(3, 100),
        ];
        let (report, received, timed_out) = first_timeout_of(3, workers, images, seed).await;
        let story = history(&report, WorkItemId::new(3));
        let due = received + Duration::from_secs(5);
        assert_eq!(
            timed_out,
            Some(due),
            "{LESSON}: worker-1 received item-3 at {received:?} and hung; with a 5 s timeout \
             it is due back at {due:?}. A reaper that looks on a fixed tick, or sleeps a whole \
             timeout between looks, takes it back late (up to twice the timeout). Sleep until \
             the oldest delivery's own deadline.\n{story}"
        );
    });
}

/// With two deliveries held by hung workers, the older one is taken back at
/// its own deadline: the reaper waits for the earliest deadline in flight,
/// which is the oldest delivery's, not the newest's.
#[test]
fn the_oldest_of_two_hung_deliveries_is_taken_back_at_its_own_deadline() {
    for_each_seed(|seed| async move {
        // Worker 1 hangs on item-1 from the start; worker 2 finishes item-2
        // (300 ms) and hangs on item-4; worker 3 is busy with item-3 for
        // about 4 s, then takes whatever comes back.
        let workers = vec![
            ScriptedWorker::new(1).hanging_on(1),
            ScriptedWorker::new(2).hanging_on(4),
            ScriptedWorker::new(3),
        ];
        let images = vec![
            ImageWorkItem::new(1, 100),
            ImageWorkItem::new(2, 2_800),
            ImageWorkItem::new(3, 40_000),
            ImageWorkItem::new(4, 100),
        ];
        let (report, received, timed_out) = first_timeout_of(1, workers, images, seed).await;
        let story = history(&report, WorkItemId::new(1));
        let due = received + Duration::from_secs(5);
        assert_eq!(
            timed_out,
            Some(due),
            "{LESSON}: worker-1 received item-1 at {received:?} and hung, and worker-2 hung on \
             item-4 later; with a 5 s timeout item-1 is due back at {due:?}. A reaper that \
             waits for the newest delivery's deadline takes the older one back late: \
             `queue.in_flight()` lists the oldest first, and its deadline comes first.\n{story}"
        );
    });
}

/// The run ends the moment its last item settles: a reaper with nothing in
/// flight waits for the queue to change, it does not sleep on a clock that
/// keeps the run alive after the work is done.
#[test]
fn the_run_ends_as_soon_as_the_last_item_settles() {
    for_each_seed(|seed| async move {
        let workers = image_workers(3, FaultPlan::NONE.with_transient(rate(0.2)), seed);
        let (policy, _) = policy(5);
        let report = VisibilityTimeoutDistributor::new(workers, policy, timeout(30), seed)
            .distribute(ImageWorkItem::batch(30, rate(0.1), seed))
            .await
            .expect("ids are unique");
        let ended = clock::elapsed();
        let last_settled = report
            .events()
            .iter()
            .map(|event| event.at)
            .max()
            .unwrap_or_default();
        assert_eq!(
            ended, last_settled,
            "{LESSON}: the last item settled at {last_settled:?} but the run returned at \
             {ended:?}. A reaper that sleeps on a clock (a tick, a whole timeout, or until a \
             deadline whose delivery was settled meanwhile) keeps the run alive after the work \
             is done. Wait for whichever comes first: the next deadline, or a change of the \
             queue (`changes.next()`), which is also how the reaper hears that the queue is \
             drained."
        );
    });
}
