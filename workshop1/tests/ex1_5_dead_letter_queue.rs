//! Exercise 1.5: the dead-letter queue. Edit
//! `workshop1/src/dead_letter_queue.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.5. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_5_dead_letter_queue`.

use std::sync::Arc;
use std::time::Duration;

use coordination::sim::FaultPlan;
use coordination::{
    DeadLetter, DeadLetterQueue, DeadLetterReason, Seed, WorkDistributor, WorkError, WorkItemId,
};
use workshop1::testing::{
    self, ScriptedWorker, for_each_seed, history, image_workers, pool, rate, retries,
};
use workshop1::{DeadLetterDistributor, ImageWorkItem, InMemoryDeadLetterQueue, RetryPolicy};

const LESSON: &str = "exercise 1.5 (dead-letter queue)";

fn retry_policy(count: u32) -> RetryPolicy {
    testing::retry_policy(count, Duration::from_millis(50), Duration::from_secs(2))
}

fn letter(id: u64, reason: DeadLetterReason) -> DeadLetter<ImageWorkItem> {
    DeadLetter {
        item: ImageWorkItem::new(id, 100),
        reason,
        attempts: 1,
        last_error: WorkError::permanent("corrupt"),
        dead_lettered_at: Duration::from_secs(id),
    }
}

/// Nothing is lost: every item either succeeds or is dead-lettered, for every
/// seed, and the dead-letter queue holds exactly the dead-lettered items.
#[test]
fn nothing_is_lost_succeeded_plus_dead_lettered_equals_submitted() {
    for_each_seed(|seed| async move {
        let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
        let workers = image_workers(3, FaultPlan::NONE.with_transient(rate(0.4)), seed);
        let report =
            DeadLetterDistributor::new(workers, retry_policy(3), dead_letters.clone(), seed)
                .distribute(ImageWorkItem::batch(50, rate(0.1), seed))
                .await
                .expect("ids are unique");
        report.assert_nothing_lost();
        assert_eq!(
            dead_letters.len(),
            report.dead_lettered(),
            "{LESSON}: the report counts {} dead-lettered items but the queue holds {}",
            report.dead_lettered(),
            dead_letters.len()
        );
    });
}

/// A corrupt image goes to the dead-letter queue after its one attempt, with
/// the reason and the error that explain it.
#[test]
fn a_permanent_failure_is_dead_lettered_at_once_with_its_reason() {
    for_each_seed(|seed| async move {
        let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
        let images = vec![
            ImageWorkItem::new(1, 200),
            ImageWorkItem::new(2, 300).corrupt(),
        ];
        DeadLetterDistributor::new(
            image_workers(2, FaultPlan::NONE, seed),
            retry_policy(5),
            dead_letters.clone(),
            seed,
        )
        .distribute(images)
        .await
        .expect("ids are unique");

        let letters = dead_letters.letters();
        assert_eq!(
            letters.len(),
            1,
            "{LESSON}: exactly the corrupt image belongs here"
        );
        let letter = &letters[0];
        assert_eq!(
            letter.item,
            ImageWorkItem::new(2, 300).corrupt(),
            "{LESSON}: the letter carries the corrupt image itself, so it can be redriven"
        );
        assert_eq!(
            (letter.reason, letter.attempts),
            (DeadLetterReason::PermanentFailure, 1),
            "{LESSON}: a permanent failure is set aside at once, reason PermanentFailure"
        );
        assert!(
            !letter.last_error.is_retryable(),
            "{LESSON}: keep the error that explains it"
        );
    });
}

/// An item that keeps failing transiently is dead-lettered after its last
/// allowed attempt, with reason AttemptsExhausted.
#[test]
fn an_item_that_fails_every_attempt_is_dead_lettered_after_max_attempts() {
    for_each_seed(|seed| async move {
        let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
        let always = FaultPlan::NONE.with_transient(rate(1.0));
        let report = DeadLetterDistributor::new(
            image_workers(2, always, seed),
            retry_policy(4),
            dead_letters.clone(),
            seed,
        )
        .distribute(ImageWorkItem::batch(6, rate(0.0), seed))
        .await
        .expect("ids are unique");
        report.assert_nothing_lost();
        let letters = dead_letters.letters();
        assert_eq!(
            letters.len(),
            6,
            "{LESSON}: all six items fail every attempt"
        );
        for letter in &letters {
            assert_eq!(
                (letter.reason, letter.attempts),
                (DeadLetterReason::AttemptsExhausted, 4),
                "{LESSON}: {} used all 4 attempts; set it aside as AttemptsExhausted",
                letter.item.name()
            );
            assert!(
                letter.last_error.is_retryable(),
                "{LESSON}: keep the last error, a retryable one, so an operator sees why {} ran out of attempts",
                letter.item.name()
            );
        }
    });
}

/// Letters are listed oldest first and stay until redriven; redrive empties
/// the queue and returns the items in the same order.
#[test]
fn letters_are_kept_oldest_first_until_redriven() {
    let queue = InMemoryDeadLetterQueue::new();
    queue.push(letter(3, DeadLetterReason::PermanentFailure));
    queue.push(letter(1, DeadLetterReason::AttemptsExhausted));
    queue.push(letter(2, DeadLetterReason::PermanentFailure));
    let ids = |letters: Vec<DeadLetter<ImageWorkItem>>| -> Vec<u64> {
        letters
            .iter()
            .map(|letter| coordination::WorkItem::id(&letter.item).get())
            .collect()
    };
    assert_eq!(
        ids(queue.letters()),
        vec![3, 1, 2],
        "{LESSON}: oldest first"
    );
    assert_eq!(
        queue.len(),
        3,
        "{LESSON}: looking at the letters must not remove them"
    );
    let redriven: Vec<u64> = queue
        .redrive()
        .iter()
        .map(|item| coordination::WorkItem::id(item).get())
        .collect();
    assert_eq!(
        redriven,
        vec![3, 1, 2],
        "{LESSON}: redrive returns the items, oldest first"
    );
    assert!(
        queue.is_empty(),
        "{LESSON}: after a redrive the queue is empty"
    );
}

/// Once the cause is fixed, redriven items succeed and the dead-letter queue
/// is empty.
#[test]
fn redriven_items_succeed_once_the_cause_is_fixed() {
    for_each_seed(|seed| async move {
        let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
        let outage = FaultPlan::NONE.with_transient(rate(1.0));
        let first = DeadLetterDistributor::new(
            image_workers(2, outage, seed),
            retry_policy(2),
            dead_letters.clone(),
            seed,
        )
        .distribute(ImageWorkItem::batch(8, rate(0.0), seed))
        .await
        .expect("ids are unique");
        assert_eq!(
            first.dead_lettered(),
            8,
            "{LESSON}: the outage fails everything"
        );

        let recovered = DeadLetterDistributor::new(
            image_workers(2, FaultPlan::NONE, Seed::new(99)),
            retry_policy(2),
            dead_letters.clone(),
            seed,
        )
        .distribute(dead_letters.redrive())
        .await
        .expect("ids are unique");
        assert_eq!(
            recovered.succeeded(),
            8,
            "{LESSON}: the redriven items should all succeed on healthy workers"
        );
        assert!(
            dead_letters.is_empty(),
            "{LESSON}: every letter was redriven, so the dead-letter queue is empty"
        );
        assert!(
            recovered.item(WorkItemId::new(1)).is_some(),
            "{LESSON}: item-1 was redriven and must be in the second run"
        );
    });
}

/// A transient failure with attempts left waits out a backoff delay before
/// its retry: the policy holds the item back, it does not hand it straight
/// back to the queue.
#[test]
fn a_transient_failure_is_retried_after_a_backoff_delay() {
    for_each_seed(|seed| async move {
        let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
        let blip = || WorkError::transient("connection reset");
        let worker = ScriptedWorker::new(1).failing(1, [blip(), blip()]);
        let policy = testing::retry_policy(3, Duration::from_secs(1), Duration::from_secs(4));
        let report = DeadLetterDistributor::new(pool(vec![worker]), policy, dead_letters, seed)
            .distribute(vec![ImageWorkItem::new(1, 100), ImageWorkItem::new(2, 100)])
            .await
            .expect("ids are unique");
        report.assert_nothing_lost();
        let story = history(&report, WorkItemId::new(1));
        let found = retries(&report);
        assert_eq!(
            found.len(),
            2,
            "{LESSON}: item-1 fails twice with a transient error and has 3 attempts; both \
             failures are retried.\n{story}"
        );
        for retry in &found {
            assert!(
                !retry.delay.is_zero(),
                "{LESSON}: item-1 failed ({}) and was re-queued with no delay. A transient \
                 failure with attempts left waits out `retry.backoff.delay(..)` first: hand \
                 that delay to `queue.retry_after`.\n{story}",
                retry.failed
            );
            let ceiling = policy.backoff.ceiling(retry.failed);
            assert!(
                retry.delay <= ceiling,
                "{LESSON}: item-1 waited {:?} after {}, above the backoff ceiling \
                 {ceiling:?}.\n{story}",
                retry.delay,
                retry.failed
            );
        }
    });
}

/// A permanent failure is a permanent failure even on the last allowed
/// attempt: the letter says why the item cannot succeed, not that it ran out
/// of tries.
#[test]
fn a_permanent_failure_on_the_last_attempt_is_dead_lettered_as_permanent() {
    for_each_seed(|seed| async move {
        let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
        let worker = ScriptedWorker::new(1).failing(
            1,
            [
                WorkError::transient("timeout"),
                WorkError::transient("timeout"),
                WorkError::permanent("not an image"),
            ],
        );
        let report = DeadLetterDistributor::new(
            pool(vec![worker]),
            retry_policy(3),
            dead_letters.clone(),
            seed,
        )
        .distribute(vec![ImageWorkItem::new(1, 100)])
        .await
        .expect("ids are unique");
        let letters = dead_letters.letters();
        assert_eq!(
            letters
                .iter()
                .map(|letter| (letter.reason, letter.attempts))
                .collect::<Vec<_>>(),
            vec![(DeadLetterReason::PermanentFailure, 3)],
            "{LESSON}: item-1 failed permanently on its third and last attempt. Ask whether \
             the error is permanent before asking whether attempts are used up: the reason \
             tells the operator what to fix.\n{}",
            history(&report, WorkItemId::new(1))
        );
    });
}
