//! Exercise 1.4: wait out the backoff without blocking anyone. Edit
//! `workshop1/src/backoff_distributor.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.4. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_4_backoff_distributor`.

use std::time::Duration;

use coordination::{Attempt, Happened, RunReport, WorkDistributor, WorkError, WorkItemId};
use workshop1::testing::{
    ScriptedWorker, check_retries_on_flaky_workers, for_each_seed, history, pool, retry_policy,
};
use workshop1::{BackoffDistributor, ImageWorkItem};

const LESSON: &str = "exercise 1.4 (backoff distributor)";

/// For every retry in `report`: the failed attempt, the delay chosen for it,
/// and when the next attempt started.
fn retries(report: &RunReport) -> Vec<(WorkItemId, Attempt, Duration, Duration, Duration)> {
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
                        found.push((item.id, attempt, failed_at, delay, event.at));
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// Every retry waits at least the delay the policy chose, and that delay never
/// exceeds the policy's ceiling for the attempt.
#[test]
fn every_retry_waits_at_least_its_backoff_delay() {
    for_each_seed(|seed| async move {
        let policy = retry_policy(5, Duration::from_millis(100), Duration::from_secs(5));
        let report = check_retries_on_flaky_workers(seed, policy.max_attempts, LESSON, |workers| {
            BackoffDistributor::new(workers, policy, seed)
        })
        .await;

        let found = retries(&report);
        assert!(
            !found.is_empty(),
            "{LESSON}: with 30% failures some items must be retried"
        );
        for (item, attempt, failed_at, delay, started_at) in &found {
            assert!(
                *delay <= policy.backoff.ceiling(*attempt),
                "{LESSON}: {item} waited {delay:?} after {attempt}, above the policy's ceiling \
                 {:?}. Draw the delay with `backoff.delay(delivery.attempt(), ..)`.\n{}",
                policy.backoff.ceiling(*attempt),
                history(&report, *item)
            );
            assert!(
                *started_at >= *failed_at + *delay,
                "{LESSON}: {item} was retried {:?} after failing, before its delay {delay:?} \
                 had passed.\n{}",
                *started_at - *failed_at,
                history(&report, *item)
            );
        }
        assert!(
            found.iter().any(|&(.., delay, _)| !delay.is_zero()),
            "{LESSON}: every retry was scheduled with a zero delay: that is a re-queue, not a \
             backoff. Pass the policy's delay to `queue.retry_after`."
        );
    });
}

/// While one item waits out its backoff, the worker takes the next item the
/// moment the failed attempt ends, instead of sleeping.
#[test]
fn the_worker_serves_other_items_while_one_waits_out_its_backoff() {
    for_each_seed(|seed| async move {
        let policy = retry_policy(3, Duration::from_secs(2), Duration::from_secs(2));
        let worker = ScriptedWorker::new(1).failing(1, [WorkError::transient("throttled")]);
        let images: Vec<_> = (1..=4).map(|id| ImageWorkItem::new(id, 300)).collect();
        let failing = images[0].clone();
        let report = BackoffDistributor::new(pool(vec![worker]), policy, seed)
            .distribute(images)
            .await
            .expect("ids are unique");

        // The scripted failure comes back after the image's full processing
        // time, so that is when the worker became free.
        let first_start = report
            .events_of(WorkItemId::new(1))
            .find(|event| matches!(event.what, Happened::Started { .. }))
            .map(|event| event.at)
            .expect("item 1 is started first");
        let worker_free_at = first_start + failing.processing_time();
        let next_start = report
            .events()
            .iter()
            .find(|event| {
                event.item != WorkItemId::new(1) && matches!(event.what, Happened::Started { .. })
            })
            .expect("items 2-4 are started");
        assert_eq!(
            next_start.at,
            worker_free_at,
            "{LESSON}: item-1's attempt failed at {worker_free_at:?} while items 2-4 were \
             waiting, but the worker only took the next one at {:?}. Do not sleep in the \
             consumer: let `queue.retry_after` hold the failed item while the worker moves on.\n{}",
            next_start.at,
            report.trace()
        );
        report.assert_nothing_lost();
    });
}
