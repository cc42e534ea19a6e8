//! Exercise 2.3: work stealing. Edit `workshop2/src/work_stealing.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.3. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_3_work_stealing`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use coordination::Seed;
use coordination::sim::simulate;
use rand::RngExt;
use workshop2::StealingDeques;
use workshop2::testing::{
    Scenario, assert_each_ran_once, assert_makespan_within, describe, for_each_seed,
};

const LESSON: &str = "exercise 2.3 (work stealing)";

fn deques_holding(items: &[Vec<u32>]) -> StealingDeques<u32> {
    let deques = StealingDeques::new(items.len()).expect("at least one worker");
    for (owner, owned) in items.iter().enumerate() {
        for &item in owned {
            deques.push(owner, item);
        }
    }
    deques
}

fn drain(deques: &StealingDeques<u32>, owner: usize) -> Vec<u32> {
    std::iter::from_fn(|| deques.pop(owner)).collect()
}

/// The owner takes its oldest item first, from the front of its deque.
#[test]
fn the_owner_takes_its_oldest_item_first() {
    let deques = deques_holding(&[vec![1, 2, 3]]);
    assert_eq!(
        drain(&deques, 0),
        vec![1, 2, 3],
        "{LESSON}: the owner pops from the front, oldest first"
    );
    assert_eq!(deques.pop(0), None);
}

/// A thief takes the back half (rounded up) of the victim's deque, runs the
/// oldest of what it took, and keeps the rest in its own deque.
#[test]
fn a_thief_takes_the_back_half_and_runs_the_oldest_of_it() {
    let deques = deques_holding(&[vec![], vec![1, 2, 3, 4, 5]]);
    assert_eq!(
        deques.steal(0, 1),
        Some(3),
        "{LESSON}: from [1, 2, 3, 4, 5] the back half rounded up is [3, 4, 5]; the thief runs 3"
    );
    assert_eq!(
        drain(&deques, 0),
        vec![4, 5],
        "{LESSON}: the rest of the loot joins the thief's deque in order"
    );
    assert_eq!(
        drain(&deques, 1),
        vec![1, 2],
        "{LESSON}: the victim keeps its front half"
    );
    assert_eq!(deques.steal_count(), 1, "{LESSON}: one successful steal");
    let single = deques_holding(&[vec![], vec![9]]);
    assert_eq!(
        single.steal(0, 1),
        Some(9),
        "{LESSON}: half of one, rounded up, is one"
    );
}

/// Stealing from an empty deque, or from oneself, takes nothing and counts
/// no steal.
#[test]
fn stealing_from_an_empty_deque_or_oneself_takes_nothing() {
    let deques = deques_holding(&[vec![1, 2], vec![]]);
    assert_eq!(deques.steal(0, 1), None, "{LESSON}: worker 1 has nothing");
    assert_eq!(
        deques.steal(0, 0),
        None,
        "{LESSON}: a worker does not rob itself"
    );
    assert_eq!(deques.steal_count(), 0);
    assert_eq!(drain(&deques, 0), vec![1, 2]);
}

/// `next` gives the worker's own oldest item while it has one, and otherwise
/// steals; it returns `None` only when every deque is empty.
#[test]
fn next_prefers_own_work_and_steals_only_when_empty() {
    let deques = deques_holding(&[vec![1], vec![], vec![7, 8]]);
    let mut rng = Seed::new(2).rng();
    assert_eq!(
        deques.next(0, &mut rng),
        Some(1),
        "{LESSON}: own work first"
    );
    assert_eq!(
        deques.steal_count(),
        0,
        "{LESSON}: no steal while own work remains"
    );
    assert_eq!(
        deques.next(1, &mut rng),
        Some(8),
        "{LESSON}: an empty worker steals the back half of the only worker with work"
    );
    assert_eq!(deques.next(0, &mut rng), Some(7));
    assert_eq!(
        deques.next(1, &mut rng),
        None,
        "{LESSON}: nothing left anywhere"
    );
}

/// Under any interleaving of pushes, pops, steals and `next` calls that a
/// seed produces, every item comes out exactly once.
#[test]
fn no_item_is_lost_or_taken_twice_under_random_interleavings() {
    for_each_seed(|seed| async move {
        let mut rng = seed.rng();
        let workers = rng.random_range(2..=5);
        let deques = StealingDeques::new(workers).expect("at least two workers");
        let mut pushed = Vec::new();
        let mut taken = Vec::new();
        for step in 0..400_u32 {
            let worker = rng.random_range(0..workers);
            match rng.random_range(0..4) {
                0 => {
                    deques.push(worker, step);
                    pushed.push(step);
                }
                1 => taken.extend(deques.pop(worker)),
                2 => taken.extend(deques.steal(worker, rng.random_range(0..workers))),
                _ => taken.extend(deques.next(worker, &mut rng)),
            }
        }
        for worker in 0..workers {
            while let Some(item) = deques.next(worker, &mut rng) {
                taken.push(item);
            }
        }
        taken.sort_unstable();
        assert_eq!(
            taken, pushed,
            "{LESSON}: items taken differ from items pushed (seed {seed}): one was lost or taken twice"
        );
    });
}

/// On real threads, with every item first in one deque, four workers that
/// steal from each other take every item exactly once.
#[test]
fn no_item_is_lost_or_taken_twice_on_real_threads() {
    const ITEMS: u32 = 20_000;
    const THREADS: usize = 4;
    let deques = Arc::new(StealingDeques::new(THREADS).expect("four workers"));
    for item in 0..ITEMS {
        deques.push(0, item);
    }
    let remaining = Arc::new(AtomicUsize::new(ITEMS as usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|worker| {
            let deques = Arc::clone(&deques);
            let remaining = Arc::clone(&remaining);
            std::thread::spawn(move || {
                let mut rng = Seed::new(worker as u64).rng();
                let mut taken = Vec::new();
                while remaining.load(Ordering::Acquire) > 0 {
                    match deques.next(worker, &mut rng) {
                        Some(item) => {
                            taken.push(item);
                            remaining.fetch_sub(1, Ordering::AcqRel);
                        }
                        None => std::thread::yield_now(),
                    }
                }
                taken
            })
        })
        .collect();
    let mut taken: Vec<u32> = handles
        .into_iter()
        .flat_map(|handle| handle.join().expect("a worker thread panicked"))
        .collect();
    taken.sort_unstable();
    assert_eq!(
        taken.len(),
        ITEMS as usize,
        "{LESSON}: items were lost or duplicated"
    );
    assert!(
        taken.iter().copied().eq(0..ITEMS),
        "{LESSON}: some item was taken twice and another never"
    );
}

/// On heavy-tailed jobs with a quarter-speed machine, work stealing comes
/// within 1.10x of the lower bound, with no job lost or run twice.
#[test]
fn work_stealing_is_within_1_10x_of_the_lower_bound_with_a_slow_machine() {
    for_each_seed(|seed| async move {
        let scenario = Scenario::bars(seed);
        let run = scenario.run_stealing().await;
        assert_each_ran_once(&run.report, LESSON);
        assert_makespan_within(&run, &scenario, 1.10, LESSON);
        assert!(
            run.balance.steals > 0,
            "{LESSON}: nobody stole\n{}",
            describe(&run, &scenario)
        );
    });
}

/// Victims are chosen with the run's seeded generator: the same seed gives
/// the same run, event for event.
#[test]
fn the_same_seed_gives_the_same_steals() {
    let trace = |seed: u64| {
        simulate(async move {
            let scenario = Scenario::new(
                workshop2::Workload::HeavyTailed,
                300,
                &workshop2::testing::ONE_SLOW,
                0.8,
                Seed::new(seed),
            );
            let run = scenario.run_stealing().await;
            (run.report.trace(), run.balance.steals)
        })
    };
    assert_eq!(trace(3), trace(3), "{LESSON}: use the `rng` you are given");
}
