//! Exercise 3.5: fencing tokens. Edit `workshop3/src/fencing.rs`.
//!
//! Read `workshop3/README.md`, "Implement", 3.5. Run just these tests with
//! `cargo test -p workshop3 --test workshop ex3_5_fencing`.

use coordination::FencingToken;
use coordination::sim::NetworkConditions;
use workshop3::testing::{
    assert_one_lease_holder_at_a_time, assert_tokens_never_go_back, first_leader, pause_mid_entry,
    secs, start, story, sweep, writes_by,
};
use workshop3::{ClusterConfig, Fencing, FencingGate, WriteRefused, run_candidate_and_work};

const LESSON: &str = "exercise 3.5 (fencing)";

/// What usually keeps a test of this exercise from finishing, for the
/// message of the guard that stops it.
const WHEN_STUCK: &str = "a loop in the leader's work or the candidate (3.3, 3.4) that never waits: the gate itself \
     cannot hang";

fn token(raw: u64) -> Option<FencingToken> {
    Some(FencingToken::new(raw))
}

/// A token as a test message names it.
fn named(token: Option<FencingToken>) -> String {
    token.map_or_else(|| "no token".to_string(), |token| token.to_string())
}

/// Kleppmann's example: the write with token 34 is accepted, and the
/// paused client's write with token 33 that arrives after it is refused.
#[test]
fn the_write_with_token_33_after_token_34_is_refused() {
    let mut gate = FencingGate::new();
    assert_eq!(
        gate.admit(token(33)),
        Ok(()),
        "{LESSON}: the first token is admitted"
    );
    assert_eq!(
        gate.admit(token(34)),
        Ok(()),
        "{LESSON}: a newer token is admitted"
    );
    assert_eq!(
        gate.admit(token(33)),
        Err(WriteRefused::StaleToken {
            token: FencingToken::new(33),
            highest: FencingToken::new(34)
        }),
        "{LESSON}: token 33 after 34 comes from a replaced leader: refuse it with \
         StaleToken, naming both tokens"
    );
    assert_eq!(
        gate.highest(),
        Some(FencingToken::new(34)),
        "{LESSON}: a refused token must not lower the bar"
    );
}

/// The current leader writes many entries under one token: an equal token
/// is admitted.
#[test]
fn the_current_leader_writes_many_entries_under_one_token() {
    let mut gate = FencingGate::new();
    for _ in 0..3 {
        assert_eq!(
            gate.admit(token(34)),
            Ok(()),
            "{LESSON}: the same token again is the same leader writing again: admit it \
             (refuse only tokens *lower* than the highest)"
        );
    }
}

/// With fencing on, a write without a token is refused: storage cannot tell
/// whether its writer still leads.
#[test]
fn a_write_without_a_token_is_refused() {
    let mut gate = FencingGate::new();
    assert_eq!(
        gate.admit(None),
        Err(WriteRefused::MissingToken),
        "{LESSON}: a write without a token must be refused with MissingToken"
    );
    assert_eq!(
        gate.highest(),
        None,
        "{LESSON}: a refused write without a token must not set the highest token"
    );
}

/// Safety, over at least 500 sequences: the gate admits a write exactly when
/// its token is at least every token admitted before, so the admitted tokens
/// never go back.
#[test]
fn the_gate_admits_exactly_the_tokens_that_keep_storage_in_order() {
    sweep().at_least(500).run(|seed| async move {
        let mut gate = FencingGate::new();
        let mut highest: Option<FencingToken> = None;
        for step in 0..64 {
            let draw = seed.derive(step).value();
            let offered = (draw % 10 != 0).then(|| FencingToken::new(draw % 7));
            let admitted = gate.admit(offered).is_ok();
            let expected = offered.is_some() && offered >= highest;
            assert_eq!(
                admitted,
                expected,
                "{LESSON}: with {} the highest admitted so far, a write with {} should be {}",
                named(highest),
                named(offered),
                if expected { "admitted" } else { "refused" }
            );
            if admitted {
                highest = offered;
            }
        }
    });
}

/// The fix, shown: the same paused leader as in 3.4, with fencing on.
/// Storage refuses its stale write, and nothing it sends under its old
/// token gets in again.
#[test]
fn with_fencing_the_paused_leaders_stale_write_is_refused() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig {
            fencing: Fencing::On,
            ..ClusterConfig::new(3)
        };
        let cluster = start(seed, config, run_candidate_and_work);
        let leader = first_leader(&cluster, LESSON).await;
        let resumed_at = pause_mid_entry(&cluster, leader, secs(30), LESSON).await;
        cluster.run_for(secs(10)).await;

        let story = story(&cluster).since(resumed_at.saturating_sub(secs(35)));
        let storage = cluster.storage();
        let refused = storage
            .refused()
            .iter()
            .find(|write| write.writer == leader && write.at >= resumed_at);
        assert!(
            refused.is_some_and(|write| matches!(write.reason, WriteRefused::StaleToken { .. })),
            "{LESSON}: {leader} woke from its pause and wrote with its old token after a newer \
             leader had written; storage should refuse it as stale.\n{story}"
        );
        let stale_accepted = writes_by(&cluster, leader)
            .into_iter()
            .filter(|write| write.at >= resumed_at)
            .count();
        assert_eq!(
            stale_accepted, 0,
            "{LESSON}: no write of the paused leader may get in.\n{story}"
        );
        assert_tokens_never_go_back(&cluster, LESSON);
        assert!(
            !cluster.leaders().contains(&leader),
            "{LESSON}: {leader} must not believe it leads after its lease was taken over.\n{story}"
        );
    });
}

/// Safety on a bad network: lost and late messages, a paused leader, a
/// crash and a partition. Storage never accepts a token lower than one it
/// has accepted, and no two nodes hold the lease at once.
#[test]
fn on_a_bad_network_with_pauses_storage_never_accepts_an_older_token() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig {
            fencing: Fencing::On,
            conditions: NetworkConditions::unreliable(),
            ..ClusterConfig::new(3)
        };
        let cluster = start(seed, config, run_candidate_and_work);
        let first = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(7)).await;
        cluster
            .network()
            .pause(first)
            .expect("the leader is running");
        cluster.run_for(secs(25)).await;
        cluster
            .network()
            .resume(first)
            .expect("the leader is paused");
        cluster.run_for(secs(10)).await;
        if let Some(&second) = cluster.leaders().first() {
            cluster
                .network()
                .partition(&[&[second]])
                .expect("known node");
            cluster.run_for(secs(25)).await;
            cluster.network().heal();
        }
        cluster.run_for(secs(10)).await;
        if let Some(&third) = cluster.leaders().first() {
            cluster.crash(third).expect("a running candidate");
        }
        cluster.run_for(secs(30)).await;
        assert_tokens_never_go_back(&cluster, LESSON);
        assert_one_lease_holder_at_a_time(&cluster, LESSON);
    });
}
