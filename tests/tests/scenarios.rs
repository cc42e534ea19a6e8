//! Ten thousand messages through the replicated queue, with the faults of a
//! bad day, over several seeds (two by default: each run takes one to three
//! seconds; `DWC_SEEDS=20` runs twenty, as `cargo xtask verify` does).
//!
//! Every scenario has the same weather: 1% of the uploads are poison, the
//! image service fails 10% of attempts and stalls 0.2% of them past the
//! visibility timeout, consumer hosts and producers crash and come back.
//! Each adds one fault of the cluster's own. Every run must keep every rule
//! of [`ScenarioReport::violations`]: each healthy upload published once,
//! each poison one dead-lettered with its receive count, nothing lost,
//! nothing applied twice, and the replicas' logs agreeing on every
//! committed index.

use capstone::sim::{Scenario, ScenarioReport};
use capstone::testing::{
    SCENARIO_SEEDS, assert_every_rule_held, exam, for_each_scenario_seed, sweep,
};
use coordination::Seed;
use coordination::sim::simulate;

/// Plays `scenario` from `seed`, prints its summary (shown when the test
/// fails, or with `--nocapture`) and checks every rule.
async fn play(scenario: Scenario, seed: Seed) -> ScenarioReport {
    let report = scenario
        .run(seed)
        .await
        .expect("the scenario's settings are valid");
    println!("{report}");
    assert_every_rule_held(&report);
    report
}

/// The fault deposed the first leader: another took over.
#[track_caller]
fn assert_a_new_leader_took_over(report: &ScenarioReport) {
    assert!(
        report.leaders.len() >= 2,
        "only one leader in the whole run: the fault never made the cluster fail over\n{report}"
    );
}

/// Poison messages and crashing clients alone: every healthy upload is
/// published once, every poison one is dead-lettered, nothing is lost.
#[test]
fn poison_and_crashing_clients_lose_nothing_and_apply_nothing_twice() {
    for_each_scenario_seed(|seed| async move {
        play(Scenario::poison_and_crashing_clients(), seed).await;
    });
}

/// The leader's process is killed ten seconds in and comes back from its
/// disk five seconds later; a new leader takes over meanwhile.
#[test]
fn a_killed_leader_loses_nothing() {
    for_each_scenario_seed(|seed| async move {
        let report = play(Scenario::leader_killed(), seed).await;
        assert_a_new_leader_took_over(&report);
    });
}

/// The leader and one follower of five are cut off from the other three
/// and from every client for ten seconds: the minority cannot commit, the
/// majority elects a leader of its own and goes on, and the old leader's
/// uncommitted entries are overwritten when the partition heals.
#[test]
fn a_leader_isolated_with_a_minority_loses_nothing() {
    for_each_scenario_seed(|seed| async move {
        let report = play(Scenario::leader_isolated_with_a_minority(), seed).await;
        assert_a_new_leader_took_over(&report);
    });
}

/// The network loses 10% of requests and 10% of replies after the handler
/// ran, holds 10% of messages back for up to 2.2 s and duplicates 5%:
/// clients retry requests that were applied, the network delivers some
/// requests twice, and the exactly-once table answers both kinds of
/// duplicate.
#[test]
fn an_unreliable_network_applies_nothing_twice() {
    for_each_scenario_seed(|seed| async move {
        let report = play(Scenario::unreliable_network(), seed).await;
        assert!(
            report.network.total().duplicated > 0,
            "the network duplicated no message: the scenario tested nothing about \
             duplicates\n{report}"
        );
        assert!(
            report.retries_answered > 0,
            "no second copy of an applied request reached the queue: the scenario tested \
             nothing about duplicates\n{report}"
        );
    });
}

/// Determinism, which makes every failure above a command to replay: the
/// same seed gives the same run, message for message (each run in a
/// simulation of its own, as a replay would be).
#[test]
fn the_same_seed_gives_the_same_run() {
    exam(|| {
        for seed in sweep().by_default(SCENARIO_SEEDS).seeds() {
            let mut scenario = Scenario::leader_killed();
            scenario.messages = 500;
            let facts = || {
                let report = simulate(scenario.run(seed)).expect("valid settings");
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                    report.queued,
                    report.posts,
                    report.dead_letters,
                    report.leaders,
                    report.consumers,
                    report.network,
                    report.simulated
                )
            };
            assert!(
                facts() == facts(),
                "two runs of seed {seed} differ: something reads a clock or an unseeded random \
                 source, or a select! is not biased"
            );
        }
    });
}
