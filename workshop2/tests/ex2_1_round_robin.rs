//! Exercise 2.1: round-robin. Edit `workshop2/src/round_robin.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.1. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_1_round_robin`.

use std::time::Duration;

use coordination::{Seed, WorkDistributor, WorkItemId, WorkerId};
use rand::RngExt;
use workshop2::testing::{Scenario, assert_each_ran_once, describe, fleet, for_each_seed};
use workshop2::{Arrival, Candidate, Cluster, Job, Placement, QueueDistributor, RoundRobin};

const LESSON: &str = "exercise 2.1 (round-robin)";

fn candidates(count: u32) -> Vec<Candidate> {
    (1..=count)
        .map(|raw| Candidate {
            worker: WorkerId::new(raw),
            outstanding: 0,
        })
        .collect()
}

/// The rotation visits the candidates in pool order, then starts over,
/// whatever the item ids.
#[test]
fn the_rotation_visits_candidates_in_pool_order() {
    let mut rng = Seed::new(1).rng();
    let mut placement = RoundRobin::new();
    let chosen: Vec<u32> = [40, 2, 2, 8, 100, 6, 3]
        .into_iter()
        .map(|id| {
            placement
                .place(WorkItemId::new(id), &candidates(3), &mut rng)
                .get()
        })
        .collect();
    assert_eq!(
        chosen,
        vec![1, 2, 3, 1, 2, 3, 1],
        "{LESSON}: round-robin keeps its own turn and ignores the item id"
    );
}

/// Counts per worker differ by at most one, for any number of workers and
/// jobs, even when every id is a multiple of the worker count.
#[test]
fn counts_per_worker_differ_by_at_most_one() {
    for_each_seed(|seed| async move {
        let mut rng = seed.rng();
        let workers = rng.random_range(1..=7_u32);
        let jobs = rng.random_range(1..=60_u64);
        let stride = u64::from(workers);
        let fleet = fleet(&vec![1.0; workers as usize], seed);
        let arrivals = Arrival::all_at_once(
            (1..=jobs).map(|n| Job::new(n * stride, Duration::from_millis(10))),
        );
        let run = QueueDistributor::new(Cluster::new(fleet.workers(), seed), RoundRobin::new())
            .run(arrivals)
            .await
            .expect("ids are unique");
        let most = run.placed.values().max().copied().unwrap_or(0);
        let fewest = run.placed.values().min().copied().unwrap_or(0);
        assert!(
            most - fewest <= 1,
            "{LESSON}: {jobs} jobs on {workers} workers (ids all multiples of {stride}) were \
             placed {:?}; counts may differ by at most one",
            run.placed
        );
        assert_each_ran_once(&run.report, LESSON);
    });
}

/// Round-robin balances counts, not time: with a quarter-speed machine it is
/// still far above the best possible makespan. This is its limit, and the
/// reason for exercise 2.2.
#[test]
fn round_robin_balances_counts_not_time() {
    for_each_seed(|seed| async move {
        let scenario = Scenario::bars(seed);
        let run = scenario.run(RoundRobin::new()).await;
        let most = run.placed.values().max().copied().unwrap_or(0);
        let fewest = run.placed.values().min().copied().unwrap_or(0);
        assert!(
            most - fewest <= 1,
            "{LESSON}: {}",
            describe(&run, &scenario)
        );
        assert!(
            run.balance.ratio_to(scenario.lower_bound) > 1.5,
            "{LESSON}: equal counts on a fleet with a quarter-speed machine should leave it \
             far behind\n{}",
            describe(&run, &scenario)
        );
    });
}

/// As a `WorkDistributor` (a batch, all at once), round-robin runs every job
/// exactly once.
#[test]
fn round_robin_runs_a_batch_with_nothing_lost() {
    for_each_seed(|seed| async move {
        let fleet = fleet(&[1.0, 0.5, 1.0], seed);
        let jobs = workshop2::Workload::Uniform
            .arrivals(30, workshop2::Pace::AllAtOnce, seed)
            .into_iter()
            .map(|arrival| arrival.item)
            .collect();
        let report = QueueDistributor::new(Cluster::new(fleet.workers(), seed), RoundRobin::new())
            .distribute(jobs)
            .await
            .expect("ids are unique");
        assert_each_ran_once(&report, LESSON);
    });
}

/// The list of candidates changes between calls (a machine leaves the
/// rotation, another comes back): the rotation goes on over the list it is
/// given each time, without panicking and without skipping anyone.
#[test]
fn the_rotation_survives_a_list_that_shrinks_and_grows() {
    let mut rng = Seed::new(1).rng();
    let mut placement = RoundRobin::new();
    let lists = [3, 3, 2, 2, 2, 1, 3, 3, 3, 4, 4, 4, 4];
    let mut chosen = Vec::new();
    for (call, &count) in lists.iter().enumerate() {
        let list = candidates(count);
        let placed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            placement.place(WorkItemId::new(call as u64), &list, &mut rng)
        }))
        .unwrap_or_else(|_| {
            panic!(
                "{LESSON}: `place` panicked on call {} when the list of candidates went from \
                 {} to {count} (a machine left the rotation). Keep the turn as a count and take \
                 it modulo the length of the list you are given this time, not the last time.",
                call + 1,
                lists[call.saturating_sub(1)]
            )
        });
        assert!(
            (1..=count).contains(&placed.get()),
            "{LESSON}: call {} chose {placed}, which is not among the {count} candidates",
            call + 1
        );
        chosen.push(placed.get());
    }
    let last_four = &chosen[chosen.len() - 4..];
    let mut visited = last_four.to_vec();
    visited.sort_unstable();
    assert_eq!(
        visited,
        vec![1, 2, 3, 4],
        "{LESSON}: four calls in a row over the same four candidates chose {last_four:?}; a \
         rotation visits each once"
    );
}
