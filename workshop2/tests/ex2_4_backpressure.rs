//! Exercise 2.4: backpressure. Edit `workshop2/src/backpressure.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.4. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_4_backpressure`.

use std::sync::Arc;
use std::time::Duration;

use coordination::sim::simulate;
use coordination::{WorkItem, WorkItemId};
use rand::RngExt;
use workshop2::testing::{drive_intake, for_each_seed, ids};
use workshop2::{Arrival, Intake, IntakeError, Job, Overflow, ShedReason};

const LESSON: &str = "exercise 2.4 (backpressure)";
const CAPACITY: usize = 4;

/// 40 jobs of 50 ms arriving every 10 ms for two workers: five times more
/// work than they can do.
fn flood() -> Vec<Arrival<Job>> {
    (1..=40)
        .map(|n| Arrival {
            at: Duration::from_millis(10 * (n - 1)),
            item: Job::new(n, Duration::from_millis(50)),
        })
        .collect()
}

fn intake(policy: Overflow) -> Arc<Intake<Job>> {
    Arc::new(Intake::new(CAPACITY, policy).expect("a valid capacity"))
}

/// Wait: the producer is slowed down to the workers' pace, and every job is
/// processed; never more than the capacity is in the system.
#[test]
fn wait_slows_the_producer_and_loses_nothing() {
    simulate(async {
        let intake = intake(Overflow::Wait);
        let run = drive_intake(Arc::clone(&intake), flood(), 2).await;
        assert!(
            run.refused.is_empty(),
            "{LESSON}: the wait policy never refuses; got {:?}",
            run.refused
        );
        let mut finished = run.finished.clone();
        finished.sort();
        assert_eq!(
            finished,
            ids(&flood()),
            "{LESSON}: every job must be processed"
        );
        assert!(
            intake.high_water() <= CAPACITY && run.most_in_system <= CAPACITY,
            "{LESSON}: {} jobs were in the system at once; the bound is {CAPACITY}",
            intake.high_water().max(run.most_in_system)
        );
        let last = run.submitted_at[&WorkItemId::new(40)];
        assert!(
            last >= Duration::from_millis(800),
            "{LESSON}: the last job arrived at 390 ms and its submission returned at {last:?}; \
             with two workers at 50 ms a job the producer must have waited for room"
        );
    });
}

/// Reject: a full intake answers at once with a retryable error that carries
/// the retry-after hint, and the producer never waits.
#[test]
fn reject_answers_at_once_with_a_retry_after_hint() {
    simulate(async {
        let hint = Duration::from_millis(250);
        let intake = intake(Overflow::Reject { retry_after: hint });
        let run = drive_intake(Arc::clone(&intake), flood(), 2).await;
        assert!(
            !run.refused.is_empty(),
            "{LESSON}: five times too much work, and nothing was rejected?"
        );
        for (id, error) in &run.refused {
            assert_eq!(
                *error,
                IntakeError::Full { retry_after: hint },
                "{LESSON}: {id} should be refused as full, with the configured hint"
            );
            assert!(
                error.is_retryable() && error.retry_after() == Some(hint),
                "{LESSON}: a full intake is worth trying again later, after the hint"
            );
        }
        for arrival in flood() {
            assert_eq!(
                run.submitted_at[&arrival.item.id()],
                arrival.at,
                "{LESSON}: the reject policy answers at once; {} waited",
                arrival.item.id()
            );
        }
        assert_eq!(
            run.finished.len() + run.refused.len(),
            40,
            "{LESSON}: every job is processed or rejected"
        );
        assert_eq!(
            intake.rejected(),
            run.refused.len(),
            "{LESSON}: the intake counted {} rejections but {} submissions were refused",
            intake.rejected(),
            run.refused.len()
        );
        assert!(
            intake.high_water() <= CAPACITY,
            "{LESSON}: {} jobs were in the system at once; the bound is {CAPACITY}",
            intake.high_water()
        );
    });
}

/// Shed: the oldest waiting job makes room for the newest, every shed job is
/// reported, and the newest jobs survive.
#[test]
fn shed_drops_the_oldest_waiting_job_and_reports_every_one() {
    simulate(async {
        let intake = intake(Overflow::ShedOldest);
        let run = drive_intake(Arc::clone(&intake), flood(), 2).await;
        let shed = intake.shed();
        assert!(
            !shed.is_empty(),
            "{LESSON}: five times too much work, and nothing shed?"
        );
        assert!(
            run.refused.is_empty(),
            "{LESSON}: with jobs waiting, the newcomer is admitted"
        );
        let mut accounted: Vec<WorkItemId> = run.finished.clone();
        accounted.extend(shed.iter().map(|shed| shed.item.id()));
        accounted.sort();
        assert_eq!(
            accounted,
            ids(&flood()),
            "{LESSON}: every job is either processed or reported as shed, exactly once"
        );
        assert!(
            shed.iter().all(|shed| shed.reason == ShedReason::MadeRoom),
            "{LESSON}: with jobs waiting, it is the oldest waiting job that goes"
        );
        for id in [39, 40].map(WorkItemId::new) {
            assert!(
                run.finished.contains(&id),
                "{LESSON}: {id} was among the two newest, waiting while two jobs ran; \
                 shedding the oldest keeps it"
            );
        }
        assert!(
            intake.high_water() <= CAPACITY,
            "{LESSON}: {} jobs were in the system at once; the bound is {CAPACITY}",
            intake.high_water()
        );
    });
}

/// Shed with nothing waiting (every slot is being processed): the newcomer
/// itself is shed, reported, and refused with `Shed`.
#[test]
fn shed_with_nothing_waiting_sheds_the_newcomer() {
    simulate(async {
        let intake: Intake<Job> = Intake::new(1, Overflow::ShedOldest).expect("valid");
        intake
            .submit(Job::new(1, Duration::from_millis(10)))
            .await
            .expect("room for one");
        let running = intake.take().await.expect("one waits");
        let refused = intake.submit(Job::new(2, Duration::from_millis(10))).await;
        assert_eq!(
            refused,
            Err(IntakeError::Shed),
            "{LESSON}: nothing waits to be shed"
        );
        let shed = intake.shed();
        assert_eq!(
            shed.len(),
            1,
            "{LESSON}: the shed newcomer must be reported"
        );
        assert_eq!(
            shed[0].item.id(),
            WorkItemId::new(2),
            "{LESSON}: the newcomer, item-2, is the one shed"
        );
        assert_eq!(
            shed[0].reason,
            ShedReason::NoRoom,
            "{LESSON}: with nothing waiting the reason is NoRoom"
        );
        assert_eq!(
            running.id(),
            WorkItemId::new(1),
            "{LESSON}: the job already running is not touched"
        );
    });
}

/// Under every policy and any seeded flood, the jobs in the system never
/// exceed the capacity.
#[test]
fn the_bound_holds_under_every_policy() {
    for_each_seed(|seed| async move {
        let mut rng = seed.rng();
        let capacity = rng.random_range(1..=6);
        let policies = [
            Overflow::Wait,
            Overflow::Reject {
                retry_after: Duration::from_millis(100),
            },
            Overflow::ShedOldest,
        ];
        let policy = policies[rng.random_range(0..policies.len())];
        let mut at = Duration::ZERO;
        let arrivals: Vec<Arrival<Job>> = (1..=60)
            .map(|n| {
                at += Duration::from_millis(rng.random_range(0..20));
                Arrival {
                    at,
                    item: Job::new(n, Duration::from_millis(rng.random_range(10..80))),
                }
            })
            .collect();
        let intake = Arc::new(Intake::new(capacity, policy).expect("capacity is at least 1"));
        let run = drive_intake(Arc::clone(&intake), arrivals, rng.random_range(1..=3)).await;
        assert!(
            intake.high_water() <= capacity && run.most_in_system <= capacity,
            "{LESSON}: {policy:?} let {} jobs in at once; the bound is {capacity} (seed {seed})",
            intake.high_water().max(run.most_in_system)
        );
        assert_eq!(
            run.finished.len() + intake.rejected() + intake.shed().len(),
            60,
            "{LESSON}: {policy:?} lost track of a job: processed {}, rejected {}, shed {} (seed {seed})",
            run.finished.len(),
            intake.rejected(),
            intake.shed().len()
        );
    });
}

/// A closed intake refuses new work with an error that is not worth
/// retrying.
#[test]
fn a_closed_intake_refuses_new_work() {
    simulate(async {
        let intake: Intake<Job> = Intake::new(4, Overflow::Wait).expect("valid");
        intake.close();
        let refused = intake.submit(Job::new(1, Duration::from_millis(10))).await;
        assert_eq!(
            refused,
            Err(IntakeError::Closed),
            "{LESSON}: check `closed` first"
        );
        assert!(
            !IntakeError::Closed.is_retryable(),
            "{LESSON}: closed is for good: retrying cannot help"
        );
        assert_eq!(
            intake.take().await,
            None,
            "{LESSON}: a closed intake with nothing waiting hands out nothing more"
        );
    });
}

/// The intake's books add up as items come and go: an item counts as in the
/// system from its admission until a worker finishes it, the high-water mark
/// is the most at once, and every admission and rejection is counted.
#[test]
fn the_books_count_every_admission_and_every_item_in_the_system() {
    simulate(async {
        let hint = Duration::from_millis(100);
        let intake: Intake<Job> =
            Intake::new(CAPACITY, Overflow::Reject { retry_after: hint }).expect("valid");
        let job = |n| Job::new(n, Duration::from_millis(10));
        for n in 1..=3 {
            assert_eq!(
                intake.submit(job(n)).await,
                Ok(()),
                "{LESSON}: job {n} of 3 fits in an intake of {CAPACITY}"
            );
        }
        assert!(
            intake.take().await.is_some(),
            "{LESSON}: three jobs wait, a worker takes one"
        );
        assert_eq!(
            intake.in_system(),
            3,
            "{LESSON}: a taken job stays in the system until it is finished"
        );
        intake.finish();
        assert_eq!(
            intake.in_system(),
            2,
            "{LESSON}: a finished job leaves the system"
        );
        for n in 4..=5 {
            assert_eq!(
                intake.submit(job(n)).await,
                Ok(()),
                "{LESSON}: job {n} fits: only {} of {CAPACITY} are in the system",
                intake.in_system() - 1
            );
        }
        assert!(
            intake.submit(job(6)).await.is_err(),
            "{LESSON}: the intake is full with {CAPACITY} jobs; job 6 is rejected"
        );
        assert_eq!(
            (intake.admitted(), intake.rejected()),
            (5, 1),
            "{LESSON}: five jobs admitted and one rejected; count each admission once \
             (`admitted += 1`)"
        );
        assert_eq!(
            (intake.in_system(), intake.high_water()),
            (CAPACITY, CAPACITY),
            "{LESSON}: {CAPACITY} jobs in the system now, and that is the most there ever were"
        );
    });
}
