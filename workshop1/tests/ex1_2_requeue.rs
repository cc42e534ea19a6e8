//! Exercise 1.2: re-queue at the back. Edit `workshop1/src/requeue.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.2. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_2_requeue`.

use coordination::sim::FaultPlan;
use coordination::{Happened, WorkDistributor, WorkError, WorkItemId, WorkStatus};
use workshop1::testing::{
    ScriptedWorker, attempts, check_retries_on_flaky_workers, for_each_seed, history,
    image_workers, pool,
};
use workshop1::{ImageWorkItem, RequeueDistributor};

const LESSON: &str = "exercise 1.2 (re-queue at the back)";

/// A failing item waits its turn: every item already queued finishes before
/// its retry starts.
#[test]
fn a_failing_item_does_not_block_the_items_behind_it() {
    for_each_seed(|seed| async move {
        let worker = ScriptedWorker::new(1).failing(1, [WorkError::transient("503")]);
        let images: Vec<_> = (1..=5).map(|id| ImageWorkItem::new(id, 200)).collect();
        let report = RequeueDistributor::new(pool(vec![worker]), attempts(3))
            .distribute(images)
            .await
            .expect("ids are unique");

        let retry_started = report
            .events_of(WorkItemId::new(1))
            .filter(|event| matches!(event.what, Happened::Started { .. }))
            .nth(1)
            .map(|event| event.at);
        let Some(retry_started) = retry_started else {
            panic!(
                "{LESSON}: item-1 failed once with a transient error and was never retried.\n{}",
                history(&report, WorkItemId::new(1))
            );
        };
        for id in 2..=5 {
            let finished = report
                .item(WorkItemId::new(id))
                .and_then(|item| item.finished_at)
                .expect("every healthy item finishes");
            assert!(
                finished <= retry_started,
                "{LESSON}: item-{id} was waiting when item-1 failed, so it should finish before \
                 item-1's retry starts. Put the failed item at the back of the queue. (seed {seed})\n{}",
                report.trace()
            );
        }
        assert_eq!(
            report.item(WorkItemId::new(1)).map(|item| item.status),
            Some(WorkStatus::Succeeded),
            "{LESSON}: item-1 failed once with a transient error and 3 attempts are allowed: its retry must succeed"
        );
    });
}

/// Transient failures are retried until the item succeeds or its attempts run
/// out; permanent failures are not retried.
#[test]
fn transient_failures_are_retried_until_success_or_attempts_run_out() {
    for_each_seed(|seed| async move {
        check_retries_on_flaky_workers(seed, attempts(4), LESSON, |workers| {
            RequeueDistributor::new(workers, attempts(4))
        })
        .await;
    });
}

/// A corrupt image is not re-queued: it would come back and fail again.
#[test]
fn permanent_failures_are_not_requeued() {
    for_each_seed(|seed| async move {
        let images = vec![
            ImageWorkItem::new(1, 200).corrupt(),
            ImageWorkItem::new(2, 200),
        ];
        let report = RequeueDistributor::new(image_workers(1, FaultPlan::NONE, seed), attempts(5))
            .distribute(images)
            .await
            .expect("ids are unique");
        let corrupt = report.item(WorkItemId::new(1)).expect("submitted");
        assert_eq!(
            corrupt.attempts,
            1,
            "{LESSON}: item-1 is corrupt; a permanent failure is given up, not re-queued.\n{}",
            history(&report, corrupt.id)
        );
        assert_eq!(
            report.succeeded(),
            1,
            "{LESSON}: the healthy image must succeed"
        );
    });
}
