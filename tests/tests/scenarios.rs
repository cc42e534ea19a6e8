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

use std::collections::BTreeMap;
use std::time::Duration;

use capstone::sim::{Scenario, ScenarioReport, StillQueued, Violation};
use capstone::testing::{
    SCENARIO_SEEDS, assert_every_rule_held, exam, for_each_scenario_seed, sweep,
};
use capstone::{ConsumerStats, DeadLetteredMessage, MessageId, QueueAttributes, Upload};
use coordination::sim::{MessageCounts, simulate};
use coordination::{DeadLetterReason, Seed, WorkError};
use workshop4::pipeline::ImageId;

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

/// Each rule names the message that broke it: a report of a run that lost
/// one upload, queued one twice, published poison and dead-lettered a
/// healthy upload lists exactly those violations, and no others.
#[test]
fn each_broken_rule_is_reported_with_the_message_that_broke_it() {
    let upload = |image: u64, corrupt: bool| Upload {
        image: ImageId::new(image),
        size_kb: 100,
        corrupt,
    };
    let uploads = vec![
        upload(1, false),
        upload(2, false),
        upload(3, false),
        upload(4, true),
        upload(5, false),
    ];
    let message = MessageId::new;
    let queued = BTreeMap::from([
        (ImageId::new(1), vec![message(1)]),
        (ImageId::new(2), vec![message(2)]),
        (ImageId::new(3), vec![message(3), message(6)]),
        (ImageId::new(4), vec![message(4)]),
        (ImageId::new(5), vec![message(5)]),
    ]);
    let posts = BTreeMap::from([
        (ImageId::new(1), 1),
        (ImageId::new(3), 1),
        (ImageId::new(4), 1),
    ]);
    let healthy_letter = DeadLetteredMessage {
        id: message(5),
        body: uploads[4].body(),
        receive_count: 5,
        reason: DeadLetterReason::AttemptsExhausted,
        last_error: Some(WorkError::transient("503")),
        dead_lettered_at: Duration::from_secs(9),
    };
    let report = ScenarioReport {
        name: "a run that broke four rules",
        seed: Seed::new(1),
        finished: true,
        uploads,
        queued,
        posts,
        dead_letters: BTreeMap::from([(message(5), healthy_letter)]),
        left_in_queue: BTreeMap::from([(message(2), 3)]),
        attributes: QueueAttributes::default(),
        safety: Ok(()),
        logs_agree: Ok(()),
        commit_index: 0,
        leaders: BTreeMap::new(),
        consumers: ConsumerStats::default(),
        duplicate_sends: 0,
        retries_answered: 0,
        client_crashes: 0,
        network: MessageCounts::default(),
        simulated: Duration::from_secs(10),
        wall: Duration::from_secs(1),
    };
    let broken = report.violations();
    let expected = [
        Violation::Lost {
            image: ImageId::new(2),
            message: message(2),
            still_queued: Some(StillQueued {
                message: message(2),
                receives: 3,
            }),
        },
        Violation::QueuedMoreThanOnce {
            image: ImageId::new(3),
            messages: vec![message(3), message(6)],
        },
        Violation::PoisonPublished {
            image: ImageId::new(4),
            message: message(4),
            posts: 1,
        },
        Violation::PoisonNotDeadLettered {
            image: ImageId::new(4),
            message: message(4),
            still_queued: None,
        },
        Violation::Lost {
            image: ImageId::new(5),
            message: message(5),
            still_queued: None,
        },
        Violation::HealthyDeadLettered {
            image: ImageId::new(5),
            message: message(5),
            receive_count: 5,
            reason: DeadLetterReason::AttemptsExhausted,
            last_error: Some(WorkError::transient("503")),
        },
    ];
    assert_eq!(
        broken, expected,
        "the violations, in upload order, name each broken rule's message"
    );
    assert_eq!(
        broken[0].to_string(),
        "image-2 (message-2) was never published: lost (message-2 is still in the queue after 3 \
         receive(s))",
        "a violation reads as one line naming its message"
    );
}
