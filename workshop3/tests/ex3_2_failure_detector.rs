//! Exercise 3.2: heartbeats and a timeout failure detector. Edit
//! `workshop3/src/failure_detector.rs`.
//!
//! Read `workshop3/README.md`, "Implement", 3.2. Run just these tests with
//! `cargo test -p workshop3 --test workshop ex3_2_failure_detector`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coordination::sim::{clock, simulate};
use coordination::{FencingToken, NodeId};
use tokio::time::Instant;
use workshop3::testing::{longest_trip, millis, node, secs, start, sweep};
use workshop3::{
    Cluster, ClusterConfig, FailureDetector, Heartbeat, NodeContext, StepDown,
    listen_for_heartbeats, send_heartbeats,
};

const LESSON: &str = "exercise 3.2 (failure detector)";

/// What usually keeps a test of this exercise from finishing, for the
/// message of the guard that stops it.
const WHEN_STUCK: &str = "`send_heartbeats` without a sleep of one interval between rounds: sending never waits, so \
     only that sleep lets simulated time move";

/// The token the scripted leader of these tests leads under.
const TOKEN: FencingToken = FencingToken::new(7);

fn beat(token: u64) -> Heartbeat {
    Heartbeat {
        token: FencingToken::new(token),
    }
}

/// A detector that has heard nothing gives a leader one full timeout to be
/// heard, then suspects.
#[test]
fn a_new_detector_suspects_only_after_one_timeout() {
    simulate(async {
        let start = Instant::now();
        let detector = FailureDetector::new(secs(3), start);
        assert_eq!(
            detector.deadline(),
            start + secs(3),
            "{LESSON}: a detector started at t suspects from t + timeout"
        );
        assert!(
            !detector.suspects(start + millis(2999)),
            "{LESSON}: 2.999 s of silence is less than the 3 s timeout: no suspicion yet"
        );
        assert!(
            detector.suspects(start + secs(3)),
            "{LESSON}: after exactly the timeout without a heartbeat, suspect"
        );
    });
}

/// Every heartbeat pushes suspicion back by one timeout from its arrival.
#[test]
fn each_heartbeat_pushes_suspicion_back() {
    simulate(async {
        let start = Instant::now();
        let detector = FailureDetector::new(secs(3), start);
        detector.heard(node(1), beat(7), start + secs(2));
        assert_eq!(
            detector.deadline(),
            start + secs(5),
            "{LESSON}: a heartbeat at 2 s moves the deadline to 2 s + 3 s"
        );
        assert!(
            !detector.suspects(start + secs(4)),
            "{LESSON}: heard at 2 s, the detector must not suspect at 4 s, within the 3 s timeout"
        );
        assert_eq!(
            detector.leader(),
            Some(node(1)),
            "{LESSON}: the sender of the heartbeat is the leader the detector trusts"
        );
    });
}

/// Suspicion is only a guess: a heartbeat that arrives after the detector
/// began to suspect takes the suspicion back, so a follower cut off for a
/// while goes back to following instead of campaigning for ever.
#[test]
fn a_heartbeat_after_suspicion_takes_the_suspicion_back() {
    simulate(async {
        let start = Instant::now();
        let detector = FailureDetector::new(secs(3), start);
        detector.heard(node(1), beat(7), start + secs(1));
        assert!(
            detector.suspects(start + secs(6)),
            "{LESSON}: five seconds without a heartbeat is past the 3 s timeout: suspect"
        );
        detector.heard(node(1), beat(7), start + secs(6));
        assert!(
            !detector.suspects(start + secs(7)),
            "{LESSON}: node-1's heartbeat arrived at 6 s, after the detector began to suspect \
             it; one second later the detector must trust node-1 again. A heartbeat always \
             moves \"last heard\" on, however late it comes: suspicion is a guess, not a \
             verdict"
        );
        assert_eq!(
            detector.deadline(),
            start + secs(9),
            "{LESSON}: after the heartbeat at 6 s the next suspicion is due at 6 s + 3 s"
        );
    });
}

/// A heartbeat stamped earlier than one already taken in (a late delivery)
/// never moves "last heard" backwards.
#[test]
fn a_late_heartbeat_never_brings_suspicion_forward() {
    simulate(async {
        let start = Instant::now();
        let detector = FailureDetector::new(secs(3), start);
        detector.heard(node(1), beat(7), start + secs(5));
        detector.heard(node(1), beat(7), start + secs(4));
        assert_eq!(
            detector.deadline(),
            start + secs(8),
            "{LESSON}: node-1 was heard at 5 s; a heartbeat stamped 4 s taken in afterwards \
             must not move the deadline back to 7 s (keep the later of the two instants)"
        );
    });
}

/// A heartbeat from a leader that has been replaced (a lower token than one
/// already heard) is ignored: it does not keep suspicion away.
#[test]
fn a_heartbeat_from_a_replaced_leader_is_ignored() {
    simulate(async {
        let start = Instant::now();
        let detector = FailureDetector::new(secs(3), start);
        detector.heard(node(2), beat(34), start + secs(1));
        detector.heard(node(1), beat(33), start + secs(3));
        assert_eq!(
            (detector.leader(), detector.deadline()),
            (Some(node(2)), start + secs(4)),
            "{LESSON}: node-1's token 33 is older than node-2's 34, which was already heard: \
             node-1 was replaced, so its heartbeat must change nothing"
        );
    });
}

/// A heartbeat with a newer token is trusted at once, from whoever sends it.
#[test]
fn a_heartbeat_from_a_newer_leader_is_trusted_at_once() {
    simulate(async {
        let start = Instant::now();
        let detector = FailureDetector::new(secs(3), start);
        detector.heard(node(1), beat(33), start + secs(1));
        detector.heard(node(2), beat(34), start + secs(2));
        detector.heard(node(2), beat(34), start + secs(3));
        assert_eq!(
            (detector.leader(), detector.deadline()),
            (Some(node(2)), start + secs(6)),
            "{LESSON}: node-2's token 34 is newer than 33: node-2 is the leader now"
        );
    });
}

/// What the followers of a scripted leader observed: when each first
/// suspected it.
type Suspicions = Arc<Mutex<Vec<(NodeId, Duration)>>>;

/// A cluster where node-1 leads from the start, for an hour, and sends
/// heartbeats; every other node listens and records when its detector first
/// suspects node-1.
fn scripted(seed: coordination::Seed, config: ClusterConfig) -> (Cluster, Suspicions) {
    let suspicions = Suspicions::default();
    let record = Arc::clone(&suspicions);
    let cluster = start(seed, config, move |context: NodeContext| {
        let record = Arc::clone(&record);
        async move {
            let heartbeats = context.config.heartbeats;
            if context.node.id() == node(1) {
                context.leadership.lead(TOKEN, Instant::now() + secs(3600));
                send_heartbeats(
                    &context.node,
                    &context.peers,
                    &context.leadership,
                    heartbeats.interval(),
                )
                .await;
                return;
            }
            let detector = FailureDetector::new(heartbeats.suspect_after(), Instant::now());
            if context
                .node
                .spawn(listen_for_heartbeats(context.inbox, detector.clone()))
                .is_err()
            {
                return;
            }
            loop {
                context.node.sleep_until(detector.deadline()).await;
                if detector.suspects(Instant::now()) {
                    record
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((context.node.id(), clock::elapsed()));
                    return;
                }
            }
        }
    });
    (cluster, suspicions)
}

fn taken(suspicions: &Suspicions) -> Vec<(NodeId, Duration)> {
    suspicions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// On a healthy network no follower ever suspects a live leader, over ten
/// simulated minutes.
#[test]
fn followers_never_suspect_a_healthy_leader_over_ten_minutes() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let (cluster, suspicions) = scripted(seed, ClusterConfig::new(3));
        cluster.run_for(secs(600)).await;
        let heartbeats = cluster.network().counts().of("heartbeat");
        assert!(
            heartbeats.delivered >= 1190,
            "{LESSON}: node-1 leads for ten minutes and should send each of its two followers \
             a heartbeat every second, about 1200, but {} were delivered. Send to every peer, \
             then sleep one interval, while `leadership.token()` is Some.",
            heartbeats.delivered
        );
        assert_eq!(
            taken(&suspicions),
            vec![],
            "{LESSON}: node-1 was alive and heartbeating the whole time, yet followers \
             suspected it (node, when). Does every heartbeat in the inbox reach \
             `detector.heard`, stamped with `Instant::now()`?"
        );
    });
}

/// When the leader crashes, every follower suspects it within the timeout
/// of the last heartbeat it heard.
#[test]
fn followers_suspect_a_crashed_leader_within_the_timeout() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let (cluster, suspicions) = scripted(seed, ClusterConfig::new(3));
        let crash_at = secs(20) + millis(seed.value() % 1000);
        cluster.run_for(crash_at).await;
        cluster.crash(node(1)).expect("node-1 is running");
        cluster.run_for(secs(10)).await;
        let mut suspicions = taken(&suspicions);
        suspicions.sort();
        assert_eq!(
            suspicions
                .iter()
                .map(|(follower, _)| *follower)
                .collect::<Vec<_>>(),
            vec![node(2), node(3)],
            "{LESSON}: both followers should suspect node-1 after it crashed at {:.3}s; \
             suspected: {suspicions:?}",
            crash_at.as_secs_f64()
        );
        let config = ClusterConfig::new(3);
        let (interval, timeout) = (
            config.heartbeats.interval(),
            config.heartbeats.suspect_after(),
        );
        let trip = longest_trip(&config);
        for (follower, at) in suspicions {
            assert!(
                crash_at + timeout - interval <= at && at <= crash_at + timeout + trip,
                "{LESSON}: node-1 crashed at {:.3}s and heartbeated every {interval:?}; {follower} \
                 should suspect it {timeout:?} after the last heartbeat it heard, between \
                 {:.3}s and {:.3}s, but did at {:.3}s",
                crash_at.as_secs_f64(),
                (crash_at + timeout - interval).as_secs_f64(),
                (crash_at + timeout + trip).as_secs_f64(),
                at.as_secs_f64()
            );
        }
    });
}

/// A leader that stops leading stops sending heartbeats, so its followers
/// can go and find a new one.
#[test]
fn a_leader_stops_sending_heartbeats_when_it_stops_leading() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let (cluster, suspicions) = scripted(seed, ClusterConfig::new(3));
        cluster.run_for(secs(10)).await;
        let leadership = cluster
            .leadership(node(1))
            .expect("node-1 is a candidate")
            .clone();
        leadership.step_down(StepDown::LeaseLost);
        cluster.run_for(secs(1)).await;
        let before = cluster.network().counts();
        cluster.run_for(secs(10)).await;
        let after = cluster.network().counts().since(&before);
        assert_eq!(
            after.of("heartbeat").sent,
            0,
            "{LESSON}: node-1 stepped down but kept sending heartbeats; check \
             `leadership.token()` before every round and stop when it is None"
        );
        assert_eq!(
            taken(&suspicions).len(),
            2,
            "{LESSON}: without heartbeats, both followers should suspect node-1"
        );
    });
}
