//! Exercise 1.1: immediate retry. Edit `workshop1/src/immediate_retry.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.1. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_1_immediate_retry`.

use coordination::sim::FaultPlan;
use coordination::{Happened, Seed, WorkDistributor, WorkError, WorkItemId, WorkStatus};
use workshop1::testing::{
    ScriptedWorker, attempts, check_retries_on_flaky_workers, for_each_seed, history,
    image_workers, pool, rate,
};
use workshop1::{ImageWorkItem, ImmediateRetryDistributor};

const LESSON: &str = "exercise 1.1 (immediate retry)";

/// Transient failures are retried until the item succeeds or its attempts run
/// out; permanent failures are not retried.
#[test]
fn transient_failures_are_retried_until_success_or_attempts_run_out() {
    for_each_seed(|seed| async move {
        check_retries_on_flaky_workers(seed, attempts(4), LESSON, |workers| {
            ImmediateRetryDistributor::new(workers, attempts(4))
        })
        .await;
    });
}

/// The retry happens at once, on the same worker, before it takes anything
/// else.
#[test]
fn a_failed_attempt_is_retried_at_once_on_the_same_worker() {
    for_each_seed(|seed| async move {
        let blip = || WorkError::transient("connection reset");
        let worker = ScriptedWorker::new(1).failing(1, [blip(), blip()]);
        let images = vec![ImageWorkItem::new(1, 300), ImageWorkItem::new(2, 300)];
        let report = ImmediateRetryDistributor::new(pool(vec![worker]), attempts(3))
            .distribute(images)
            .await
            .expect("ids are unique");

        let item = WorkItemId::new(1);
        let story = history(&report, item);
        let summary = report.item(item).expect("item 1 was submitted");
        assert_eq!(
            (summary.status, summary.attempts),
            (WorkStatus::Succeeded, 3),
            "{LESSON}: item-1 fails twice and then works; with 3 attempts allowed it should \
             succeed on attempt 3.\n{story}"
        );
        let item_1_started_at: Vec<_> = report
            .events_of(item)
            .filter(|event| matches!(event.what, Happened::Started { .. }))
            .map(|event| event.at)
            .collect();
        let item_2_started_at = report
            .events_of(WorkItemId::new(2))
            .find(|event| matches!(event.what, Happened::Started { .. }))
            .map(|event| event.at)
            .expect("item 2 was started");
        assert!(
            item_1_started_at.iter().all(|&at| at < item_2_started_at),
            "{LESSON}: the worker should retry item-1 on the spot, before it takes item-2. \
             (seed {seed})\n{story}"
        );
    });
}

/// A corrupt image fails permanently: one attempt, then it is given up.
#[test]
fn permanent_failures_are_not_retried() {
    for_each_seed(|seed| async move {
        let images = vec![
            ImageWorkItem::new(1, 200),
            ImageWorkItem::new(2, 200).corrupt(),
            ImageWorkItem::new(3, 200),
        ];
        let report =
            ImmediateRetryDistributor::new(image_workers(2, FaultPlan::NONE, seed), attempts(5))
                .distribute(images)
                .await
                .expect("ids are unique");
        let corrupt = report.item(WorkItemId::new(2)).expect("submitted");
        assert_eq!(
            corrupt.attempts,
            1,
            "{LESSON}: item-2 is corrupt; retrying a permanent failure cannot help \
             (`is_retryable()` is false).\n{}",
            history(&report, corrupt.id)
        );
        assert_eq!(
            report.succeeded(),
            2,
            "{LESSON}: the two healthy images must succeed"
        );
    });
}

/// An item that always fails gets exactly `max_attempts`, no more and no fewer.
#[test]
fn an_item_that_always_fails_gets_exactly_attempts() {
    for_each_seed(|seed| async move {
        let always = FaultPlan::NONE.with_transient(rate(1.0));
        let report = ImmediateRetryDistributor::new(image_workers(2, always, seed), attempts(3))
            .distribute(ImageWorkItem::batch(5, rate(0.0), Seed::new(1)))
            .await
            .expect("ids are unique");
        for item in report.items() {
            assert_eq!(
                item.attempts,
                3,
                "{LESSON}: {} fails every time and max attempts is 3.\n{}",
                item.id,
                history(&report, item.id)
            );
        }
    });
}
