//! Observe: what the naive distributor does wrong.
//!
//! These tests describe the starting point, not an exercise: they pass before
//! you change anything and keep passing after. Read them with
//! `workshop1/README.md`, section "Observe".

use std::time::Duration;

use coordination::sim::{FaultPlan, Guard, Hang, simulate_with};
use coordination::{Probability, Seed, WorkDistributor, WorkStatus};
use workshop1::testing::{for_each_seed, image_workers, rate};
use workshop1::{ImageWorkItem, NaiveWorkDistributor};

/// A 30% transient failure rate loses items: each failed once, was tried once,
/// and is gone.
#[test]
fn naive_distributor_loses_items_that_fail_transiently() {
    for_each_seed(|seed| async move {
        let workers = image_workers(3, FaultPlan::NONE.with_transient(rate(0.3)), seed);
        let images = ImageWorkItem::batch(60, Probability::NEVER, seed);
        let report = NaiveWorkDistributor::new(workers)
            .distribute(images)
            .await
            .expect("ids are unique");

        let lost = report.lost();
        assert!(
            !lost.is_empty(),
            "with 30% failures something should be lost"
        );
        for item in &lost {
            assert_eq!(
                item.attempts, 1,
                "{item}: the naive distributor never retries"
            );
            assert_eq!(
                item.status,
                WorkStatus::Failed,
                "{item}: a lost item ended failed"
            );
            let error = item.last_error.as_ref().expect("a lost item failed");
            assert!(
                error.is_retryable(),
                "{item}: this failure was worth a retry"
            );
        }
        assert_eq!(
            report.submitted(),
            report.succeeded() + report.dead_lettered() + lost.len(),
            "every item is accounted for: submitted = succeeded + dead-lettered + lost"
        );
    });
}

/// When nothing fails, the naive distributor is fine: every item succeeds once.
#[test]
fn naive_distributor_loses_nothing_when_nothing_fails() {
    for_each_seed(|seed| async move {
        let workers = image_workers(4, FaultPlan::NONE, seed);
        let images = ImageWorkItem::batch(40, Probability::NEVER, seed);
        let report = NaiveWorkDistributor::new(workers)
            .distribute(images)
            .await
            .expect("ids are unique");
        report.assert_nothing_lost();
        assert_eq!(
            report.succeeded(),
            40,
            "with nothing failing, all 40 images succeed"
        );
        assert_eq!(
            report.attempts(),
            40,
            "with nothing failing, each image takes exactly one attempt"
        );
    });
}

/// Determinism, the property every test here relies on: the same seed gives
/// the same run, event for event, and another seed gives another run.
#[test]
fn the_same_seed_gives_the_same_trace_byte_for_byte() {
    let trace = |seed: u64| {
        coordination::sim::simulate(async move {
            let seed = Seed::new(seed);
            let workers = image_workers(3, FaultPlan::NONE.with_transient(rate(0.3)), seed);
            let images = ImageWorkItem::batch(30, rate(0.1), seed);
            NaiveWorkDistributor::new(workers)
                .distribute(images)
                .await
                .expect("ids are unique")
                .trace()
        })
    };
    assert_eq!(trace(7), trace(7), "the same seed must give the same trace");
    assert_ne!(trace(7), trace(8), "another seed should give another trace");
}

/// One hung worker is enough to stall the naive distributor for good: it waits
/// for an answer that never comes. Exercise 1.6 fixes this.
#[test]
fn a_hung_worker_stalls_the_naive_distributor_forever() {
    let guard = Guard {
        simulated: Duration::from_secs(600),
        ..Guard::default()
    };
    let outcome = std::panic::catch_unwind(|| {
        simulate_with(guard, async {
            let seed = Seed::new(1);
            let hangs = FaultPlan::NONE.with_hang(Hang::Forever, Probability::ALWAYS);
            let workers = image_workers(2, hangs, seed);
            let images = ImageWorkItem::batch(5, Probability::NEVER, seed);
            NaiveWorkDistributor::new(workers).distribute(images).await
        })
    });
    let panic = outcome.expect_err("the run cannot finish while a worker hangs");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("probable deadlock"), "{message}");
}
