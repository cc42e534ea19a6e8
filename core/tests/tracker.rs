//! The provided tracker keeps the lifecycle: only legal transitions, only the
//! current receipt, and a report that accounts for every item.

use std::time::Duration;

use coordination::sim::simulate;
use coordination::{
    DeadLetterReason, Happened, InMemoryWorkTracker, TrackerError, WorkError, WorkItemId,
    WorkStatus, WorkTracker, WorkerId,
};

const ITEM: WorkItemId = WorkItemId::new(1);
const WORKER: WorkerId = WorkerId::new(1);

/// The happy path: pending, in progress, succeeded; one attempt, one receipt.
#[test]
fn an_item_moves_from_pending_to_succeeded() {
    let mut tracker = InMemoryWorkTracker::new();
    tracker.submit(ITEM).expect("new item");
    assert_eq!(tracker.status(ITEM), Some(WorkStatus::Pending));
    let claim = tracker.start(ITEM, WORKER).expect("pending items start");
    assert_eq!(claim.attempt.get(), 1);
    assert_eq!(tracker.status(ITEM), Some(WorkStatus::InProgress));
    tracker
        .succeed(ITEM, claim.receipt)
        .expect("current receipt");
    assert_eq!(tracker.status(ITEM), Some(WorkStatus::Succeeded));
    tracker.report().assert_nothing_lost();
}

/// Each attempt gets a new receipt; the old one can no longer settle the item,
/// and trying is recorded as a rejected late result.
#[test]
fn an_old_receipt_cannot_settle_a_retried_item() {
    let mut tracker = InMemoryWorkTracker::new();
    tracker.submit(ITEM).expect("new item");
    let first = tracker.start(ITEM, WORKER).expect("pending");
    tracker
        .fail(
            ITEM,
            first.receipt,
            WorkError::TimedOut {
                after: Duration::from_secs(30),
            },
        )
        .expect("current receipt");
    tracker
        .retry(ITEM, Duration::ZERO)
        .expect("failed items retry");
    let second = tracker
        .start(ITEM, WorkerId::new(2))
        .expect("pending again");
    assert_ne!(first.receipt, second.receipt);
    assert_eq!(second.attempt.get(), 2);

    let late = tracker.succeed(ITEM, first.receipt);
    assert!(
        matches!(late, Err(ref error) if error.is_late_result()),
        "{late:?}"
    );
    tracker
        .succeed(ITEM, second.receipt)
        .expect("current receipt");
    let report = tracker.report();
    assert_eq!(report.succeeded(), 1);
    assert_eq!(report.late_results_rejected(), 1);
}

/// A finished item stays finished: no second success, no failure after it.
#[test]
fn a_succeeded_item_cannot_be_settled_again() {
    let mut tracker = InMemoryWorkTracker::new();
    tracker.submit(ITEM).expect("new item");
    let claim = tracker.start(ITEM, WORKER).expect("pending");
    tracker.succeed(ITEM, claim.receipt).expect("current");
    assert!(tracker.succeed(ITEM, claim.receipt).is_err());
    assert!(
        tracker
            .fail(ITEM, claim.receipt, WorkError::transient("x"))
            .is_err()
    );
    assert!(matches!(
        tracker.retry(ITEM, Duration::ZERO),
        Err(TrackerError::IllegalTransition {
            status: WorkStatus::Succeeded,
            ..
        })
    ));
    assert_eq!(tracker.report().succeeded(), 1);
}

/// Only a failed item can be dead-lettered, and that is final.
#[test]
fn only_failed_items_are_dead_lettered() {
    let mut tracker = InMemoryWorkTracker::new();
    tracker.submit(ITEM).expect("new item");
    assert!(matches!(
        tracker.dead_letter(ITEM, DeadLetterReason::PermanentFailure),
        Err(TrackerError::IllegalTransition {
            status: WorkStatus::Pending,
            ..
        })
    ));
    let claim = tracker.start(ITEM, WORKER).expect("pending");
    tracker
        .fail(ITEM, claim.receipt, WorkError::permanent("corrupt"))
        .expect("current");
    tracker
        .dead_letter(ITEM, DeadLetterReason::PermanentFailure)
        .expect("failed items can be dead-lettered");
    assert!(tracker.status(ITEM).is_some_and(WorkStatus::is_final));
    let report = tracker.report();
    assert_eq!(report.dead_lettered(), 1);
    report.assert_nothing_lost();
}

/// Unknown and duplicate ids are typed errors, not panics.
#[test]
fn unknown_and_duplicate_items_are_refused() {
    let mut tracker = InMemoryWorkTracker::new();
    assert_eq!(
        tracker.start(ITEM, WORKER),
        Err(TrackerError::UnknownItem(ITEM))
    );
    tracker.submit(ITEM).expect("new item");
    assert!(matches!(
        tracker.submit(ITEM),
        Err(TrackerError::AlreadySubmitted { .. })
    ));
}

/// The lost-item assertion names the item, its state and its last error.
#[test]
fn assert_nothing_lost_names_the_lost_item() {
    let mut tracker = InMemoryWorkTracker::new();
    for id in 1..=3 {
        tracker.submit(WorkItemId::new(id)).expect("new item");
    }
    for id in [1, 2] {
        let claim = tracker.start(WorkItemId::new(id), WORKER).expect("pending");
        tracker
            .succeed(WorkItemId::new(id), claim.receipt)
            .expect("current");
    }
    let claim = tracker.start(WorkItemId::new(3), WORKER).expect("pending");
    tracker
        .fail(
            WorkItemId::new(3),
            claim.receipt,
            WorkError::transient("connection reset"),
        )
        .expect("current");
    let report = tracker.report();
    let panic =
        std::panic::catch_unwind(|| report.assert_nothing_lost()).expect_err("item 3 is lost");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("item-3 left failed after 1 attempt"),
        "{message}"
    );
    assert!(message.contains("connection reset"), "{message}");
    assert!(
        message.contains("submitted 3 = succeeded 2 + dead-lettered 0 + lost 1"),
        "{message}"
    );
}

/// Events carry simulated time since the run began, in order.
#[test]
fn events_are_stamped_with_simulated_time() {
    simulate(async {
        let mut tracker = InMemoryWorkTracker::new();
        tracker.submit(ITEM).expect("new item");
        let claim = tracker.start(ITEM, WORKER).expect("pending");
        tokio::time::sleep(Duration::from_millis(250)).await;
        tracker.succeed(ITEM, claim.receipt).expect("current");
        let report = tracker.report();
        let stamps: Vec<Duration> = report.events().iter().map(|event| event.at).collect();
        assert_eq!(
            stamps,
            [Duration::ZERO, Duration::ZERO, Duration::from_millis(250)]
        );
        assert!(matches!(
            report.events()[2].what,
            Happened::Succeeded { .. }
        ));
        assert_eq!(report.latency().max, Duration::from_millis(250));
    });
}
