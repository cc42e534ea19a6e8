//! Exercise 1.4: wait out the backoff without blocking anyone. Edit
//! `workshop1/src/backoff_distributor.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.4. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_4_backoff_distributor`.

use std::time::Duration;

use coordination::{Happened, WorkDistributor, WorkError, WorkItemId};
use workshop1::testing::{
    Retry, ScriptedWorker, check_retries_on_flaky_workers, for_each_seed, history, pool, retries,
    retry_policy,
};
use workshop1::{BackoffDistributor, ImageWorkItem};

const LESSON: &str = "exercise 1.4 (backoff distributor)";

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
        for retry in &found {
            let Retry {
                item,
                failed,
                failed_at,
                delay,
                started_at,
            } = *retry;
            assert!(
                delay <= policy.backoff.ceiling(failed),
                "{LESSON}: {item} waited {delay:?} after {failed}, above the policy's ceiling \
                 {:?}. Draw the delay with `backoff.delay(delivery.attempt(), ..)`.\n{}",
                policy.backoff.ceiling(failed),
                history(&report, item)
            );
            assert!(
                started_at >= failed_at + delay,
                "{LESSON}: {item} was retried {:?} after failing, before its delay {delay:?} \
                 had passed.\n{}",
                started_at - failed_at,
                history(&report, item)
            );
        }
        assert!(
            found.iter().any(|retry| !retry.delay.is_zero()),
            "{LESSON}: every retry was scheduled with a zero delay: that is a re-queue, not a \
             backoff. Pass the policy's delay to `queue.retry_after`."
        );
        assert!(
            found
                .iter()
                .any(|retry| retry.delay < policy.backoff.ceiling(retry.failed)),
            "{LESSON}: all {} retries waited exactly their ceiling: that is backoff without \
             jitter, and items that failed together come back together. Draw the delay with \
             `backoff.delay(..)`, which picks a random point below the ceiling.",
            found.len()
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

/// The wait grows with each failed attempt: an item that fails nine times in
/// a row waits, after its later failures, far longer than the first ceiling.
#[test]
fn the_wait_grows_with_each_failed_attempt() {
    for_each_seed(|seed| async move {
        let base = Duration::from_millis(100);
        let policy = retry_policy(10, base, Duration::from_secs(10));
        let blips = (0..9).map(|_| WorkError::transient("503 service unavailable"));
        let worker = ScriptedWorker::new(1).failing(1, blips);
        let report = BackoffDistributor::new(pool(vec![worker]), policy, seed)
            .distribute(vec![ImageWorkItem::new(1, 100)])
            .await
            .expect("ids are unique");
        let found = retries(&report);
        assert_eq!(
            found.len(),
            9,
            "{LESSON}: item-1 fails nine times with a transient error and has ten attempts; \
             each failure is retried.\n{}",
            history(&report, WorkItemId::new(1))
        );
        let longest = found
            .iter()
            .map(|retry| retry.delay)
            .max()
            .unwrap_or_default();
        assert!(
            longest > base,
            "{LESSON}: after nine failures in a row the longest wait was {longest:?}, never \
             above the first ceiling {base:?}. The ceiling doubles with each attempt: pass \
             `delivery.attempt()` to `backoff.delay`, not the first attempt.\n{}",
            history(&report, WorkItemId::new(1))
        );
    });
}
