//! Ten thousand messages through the replicated queue, with the faults of a
//! bad day, over several seeds.

use capstone::sim::{ClusterFault, Scenario};
use capstone::testing::{assert_every_rule_held, for_each_scenario_seed};
use std::time::Duration;

/// Poison messages and crashing consumers: every healthy upload is
/// published once, every poison one is dead-lettered, nothing is lost.
#[test]
fn poison_and_crashing_consumers_lose_nothing_and_apply_nothing_twice() {
    for_each_scenario_seed(|seed| async move {
        let scenario = Scenario::baseline("poison and crashing consumers");
        let report = scenario
            .run(seed)
            .await
            .expect("the scenario is well-formed");
        println!("{report}");
        assert_every_rule_held(&report);
    });
}

/// The leader's process is killed mid-run and comes back from its disk.
#[test]
fn a_killed_leader_loses_nothing() {
    for_each_scenario_seed(|seed| async move {
        let mut scenario = Scenario::baseline("leader killed");
        scenario.faults.push(ClusterFault::KillLeader {
            at: Duration::from_secs(10),
            down_for: Duration::from_secs(5),
        });
        let report = scenario
            .run(seed)
            .await
            .expect("the scenario is well-formed");
        println!("{report}");
        assert_every_rule_held(&report);
    });
}

/// The leader and one follower are cut off from the other three replicas
/// and from every client; the majority elects a new leader and goes on.
#[test]
fn a_leader_isolated_with_a_minority_loses_nothing() {
    for_each_scenario_seed(|seed| async move {
        let mut scenario = Scenario::baseline("leader isolated with a minority");
        scenario.replicas = 5;
        scenario
            .faults
            .push(ClusterFault::IsolateLeaderWithMinority {
                at: Duration::from_secs(10),
                lasting: Duration::from_secs(10),
            });
        let report = scenario
            .run(seed)
            .await
            .expect("the scenario is well-formed");
        println!("{report}");
        assert_every_rule_held(&report);
    });
}

/// Requests, replies and Raft messages are lost and held back, so clients
/// retry requests that were applied.
#[test]
fn an_unreliable_network_applies_nothing_twice() {
    for_each_scenario_seed(|seed| async move {
        let mut scenario = Scenario::baseline("unreliable network");
        scenario.network = coordination::sim::NetworkConditions::unreliable();
        let report = scenario
            .run(seed)
            .await
            .expect("the scenario is well-formed");
        println!("{report}");
        assert_every_rule_held(&report);
    });
}
