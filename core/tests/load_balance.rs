//! The load balance read off a run's history: busy time per worker, queue
//! latency, makespan and fairness.

use std::time::Duration;

use coordination::metrics::LoadBalance;
use coordination::sim::simulate;
use coordination::{InMemoryWorkTracker, WorkError, WorkItemId, WorkTracker, WorkerId};

const FAST: WorkerId = WorkerId::new(1);
const IDLE: WorkerId = WorkerId::new(2);

/// Busy time counts every attempt, failed ones too; an idle worker is listed
/// with zeros and drags the fairness index down; queue latency runs from
/// submission to the first start.
#[test]
fn balance_counts_busy_time_latency_and_idle_workers() {
    let balance = simulate(async {
        let mut tracker = InMemoryWorkTracker::new();
        let (first, second) = (WorkItemId::new(1), WorkItemId::new(2));
        tracker.submit(first).expect("new");
        tracker.submit(second).expect("new");
        let claim = tracker.start(first, FAST).expect("pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
        tracker
            .fail(first, claim.receipt, WorkError::transient("blip"))
            .expect("current");
        tracker.retry(first, Duration::ZERO).expect("failed");
        let claim = tracker.start(second, FAST).expect("pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
        tracker.succeed(second, claim.receipt).expect("current");
        let claim = tracker.start(first, FAST).expect("pending again");
        tokio::time::sleep(Duration::from_millis(50)).await;
        tracker.succeed(first, claim.receipt).expect("current");
        LoadBalance::of(&tracker.report(), [FAST, IDLE]).with_steals(3)
    });
    assert_eq!(balance.makespan, Duration::from_millis(200));
    let fast = balance.per_worker[&FAST];
    assert_eq!(fast.attempts, 3);
    assert_eq!(fast.busy, Duration::from_millis(200));
    assert_eq!(balance.per_worker[&IDLE].busy, Duration::ZERO);
    assert!((balance.fairness() - 0.5).abs() < 1e-12);
    assert_eq!(balance.queue_latency.max, Duration::from_millis(100));
    assert_eq!(balance.queue_latency.count, 2);
    assert_eq!(balance.steals, 3);
    assert!((balance.ratio_to(Duration::from_millis(100)) - 2.0).abs() < 1e-12);
}
