//! Exercise 2.3: work stealing. Edit `workshop2/src/work_stealing.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.3. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_3_work_stealing`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use coordination::Seed;
use coordination::sim::simulate;
use rand::RngExt;
use workshop2::StealingDeques;
use workshop2::testing::{
    Scenario, assert_each_ran_once, assert_makespan_within, describe, for_each_seed,
    on_threads_within,
};

const LESSON: &str = "exercise 2.3 (work stealing)";

/// How long the tests on operating-system threads may take before they are
/// declared stuck: a hundred times what they need.
const REAL_TIME_LIMIT: Duration = Duration::from_secs(10);

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
    assert_eq!(
        deques.pop(0),
        None,
        "{LESSON}: after three pops the owner has nothing left"
    );
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
    assert_eq!(
        deques.steal_count(),
        0,
        "{LESSON}: nothing was taken, so no steal is counted"
    );
    assert_eq!(
        drain(&deques, 0),
        vec![1, 2],
        "{LESSON}: worker 0 keeps its own items"
    );
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
    assert_eq!(
        deques.next(0, &mut rng),
        Some(7),
        "{LESSON}: worker 0 ran dry and steals the last item, 7, from worker 2"
    );
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
    let shared = Arc::clone(&deques);
    let taken_by_thread = on_threads_within(REAL_TIME_LIMIT, THREADS, move |worker| {
        let mut rng = Seed::new(worker as u64).rng();
        let mut taken = Vec::new();
        // A worker stops when every item is taken, or when it finds every
        // deque empty: then whatever is still missing was lost, and the
        // assertions below say so instead of the workers waiting forever.
        while remaining.load(Ordering::Acquire) > 0 {
            match shared.next(worker, &mut rng) {
                Some(item) => {
                    taken.push(item);
                    remaining.fetch_sub(1, Ordering::AcqRel);
                }
                None if shared.is_empty() => break,
                None => std::thread::yield_now(),
            }
        }
        taken
    });
    let mut taken: Vec<u32> = taken_by_thread.into_iter().flatten().collect();
    taken.sort_unstable();
    assert_eq!(
        taken.len(),
        ITEMS as usize,
        "{LESSON}: {ITEMS} items were pushed and {} taken: items were lost or taken twice",
        taken.len()
    );
    assert!(
        taken.iter().copied().eq(0..ITEMS),
        "{LESSON}: some item was taken twice and another never"
    );
}

/// Two workers rob each other at the same moment, a thousand times: each
/// round, both start their steal together. A thief that held its own deque
/// while it took the victim's would deadlock here; the deques refuse a
/// second lock on one thread, so that mistake fails at once, with its rule.
#[test]
fn two_thieves_robbing_each_other_at_once_never_deadlock() {
    const ROUNDS: u32 = 1_000;
    let deques = Arc::new(StealingDeques::new(2).expect("two workers"));
    let together = Arc::new(Barrier::new(2));
    let shared = Arc::clone(&deques);
    let stolen = on_threads_within(REAL_TIME_LIMIT, 2, move |thief| {
        let victim = 1 - thief;
        let mut stolen = Vec::new();
        for round in 0..ROUNDS {
            // Each refills its own deque, then both steal at once.
            let owned = round * 4 + 2 * thief as u32;
            shared.push(thief, owned);
            shared.push(thief, owned + 1);
            together.wait();
            stolen.extend(shared.steal(thief, victim));
            together.wait();
            stolen.extend(std::iter::from_fn(|| shared.pop(thief)));
            together.wait();
        }
        stolen
    });
    let mut all: Vec<u32> = stolen.into_iter().flatten().collect();
    all.sort_unstable();
    assert!(
        all.iter().copied().eq(0..ROUNDS * 4),
        "{LESSON}: after {ROUNDS} rounds of two thieves robbing each other, {} of {} items \
         came out, or some twice",
        all.len(),
        ROUNDS * 4
    );
}

/// An idle worker starts its search at a random victim, not always at the
/// first worker: otherwise every idle worker robs the same one first, and
/// the first worker's deque is emptied while the others stay full.
#[test]
fn an_idle_worker_starts_its_search_at_a_random_victim() {
    let mut robbed = [0_u32; 3];
    for seed in 1..=64 {
        let deques = deques_holding(&[vec![1, 2], vec![3, 4], vec![5, 6], vec![]]);
        let mut rng = Seed::new(seed).rng();
        deques
            .next(3, &mut rng)
            .unwrap_or_else(|| panic!("{LESSON}: worker 3 is idle and three others have work"));
        for (victim, count) in robbed.iter_mut().enumerate() {
            *count += u32::from(deques.len(victim) < 2);
        }
    }
    assert!(
        robbed.iter().all(|&count| count > 0),
        "{LESSON}: over 64 seeds an idle worker 3 robbed workers 0, 1 and 2 {robbed:?} times. \
         Draw the first victim with `rng` and go round from there; starting every search at \
         worker 0 sends every idle worker to the same victim."
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
