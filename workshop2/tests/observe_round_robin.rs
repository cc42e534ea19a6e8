//! Observe: what placing by id does to a fleet with one slow machine.
//!
//! These tests describe the starting point, not an exercise: they pass before
//! you change anything and keep passing after. Read them with
//! `workshop2/README.md`, section "Observe".

use std::time::Duration;

use coordination::sim::simulate;
use coordination::{Seed, WorkerId};
use workshop2::testing::{Scenario, describe, fleet, for_each_seed};
use workshop2::{Arrival, ById, Cluster, Job, QueueDistributor};

/// Jobs with consecutive ids, placed by id, go round-robin: the quarter-speed
/// machine gets a quarter of them and finishes far behind the others, far
/// above the best possible makespan, while the fast machines sit idle.
#[test]
fn placing_by_id_leaves_the_quarter_speed_machine_far_behind() {
    for_each_seed(|seed| async move {
        let scenario = Scenario::bars(seed);
        let run = scenario.run(ById).await;
        run.report.assert_nothing_lost();
        let ratio = run.balance.ratio_to(scenario.lower_bound);
        assert!(
            ratio > 1.5,
            "placing by id was expected to be far from the bound\n{}",
            describe(&run, &scenario)
        );
        let busiest = run
            .balance
            .per_worker
            .iter()
            .max_by_key(|(_, share)| share.busy)
            .map(|(worker, _)| *worker);
        assert_eq!(
            busiest,
            Some(WorkerId::new(1)),
            "{}",
            describe(&run, &scenario)
        );
        assert!(
            run.balance.fairness() < 0.9,
            "{}",
            describe(&run, &scenario)
        );
    });
}

/// Ids that share a stride defeat placement by id: with four machines and
/// only even ids, two machines get every job and two get none.
#[test]
fn placing_by_id_skews_when_ids_share_a_stride() {
    simulate(async {
        let fleet = fleet(&[1.0; 4], Seed::new(1));
        let jobs = (1..=40).map(|n| Job::new(2 * n, Duration::from_millis(20)));
        let run = QueueDistributor::new(Cluster::new(fleet.workers(), Seed::new(1)), ById)
            .run(Arrival::all_at_once(jobs))
            .await
            .expect("ids are unique");
        let placed: Vec<usize> = run.placed.values().copied().collect();
        assert_eq!(
            placed,
            vec![20, 0, 20, 0],
            "ids 2, 4, 6 ... on four workers go to workers 1 and 3 only"
        );
    });
}

/// Determinism, the property every test here relies on: the same seed gives
/// the same run, event for event, and another seed another run.
#[test]
fn the_same_seed_gives_the_same_run_event_for_event() {
    let trace = |seed: u64| {
        simulate(async move {
            let scenario = Scenario::new(
                workshop2::Workload::HeavyTailed,
                200,
                &workshop2::testing::ONE_SLOW,
                0.8,
                Seed::new(seed),
            );
            scenario.run(ById).await.report.trace()
        })
    };
    assert_eq!(trace(7), trace(7), "the same seed must give the same run");
    assert_ne!(trace(7), trace(8), "another seed should give another run");
}
