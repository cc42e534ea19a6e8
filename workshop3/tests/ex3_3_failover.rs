//! Exercise 3.3: failover. Edit `workshop3/src/failover.rs`.
//!
//! Read `workshop3/README.md`, "Implement", 3.3. Run just these tests with
//! `cargo test -p workshop3 --test workshop ex3_3_failover`.

use coordination::sim::{clock, simulate};
use coordination::{NodeId, Seed};
use workshop3::testing::{
    assert_one_believer_at_a_time, assert_one_lease_holder_at_a_time, crash_and_time_failover,
    failover_bound, first_leader, longest_trip, next_grant, secs, start, story, stranger, sweep,
};
use workshop3::{ClusterConfig, run_candidate};

const LESSON: &str = "exercise 3.3 (failover)";

/// What usually keeps a test of this exercise from finishing, for the
/// message of the guard that stops it.
const WHEN_STUCK: &str = "the candidate's loop going round without waiting: while the detector does not suspect, \
     sleep until its deadline; after a refused try, sleep one retry period";

/// At start nobody leads; every candidate suspects after one suspicion
/// timeout, tries, and one wins at once.
#[test]
fn a_leader_is_elected_one_suspicion_timeout_after_the_start() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(3);
        let cluster = start(seed, config, run_candidate);
        cluster.run_for(secs(10)).await;
        let story = story(&cluster);
        let tenures = cluster.lease_store().tenures();
        let expected = config.heartbeats.suspect_after() + longest_trip(&config);
        assert!(
            tenures
                .first()
                .is_some_and(|tenure| tenure.from <= expected),
            "{LESSON}: every candidate hears nothing for {:?} and should then try for the \
             lease; the first try arrives by {expected:?}. Sleep until `detector.deadline()`, \
             and when `detector.suspects(now)`, call `elector.try_acquire()`.\n{story}",
            config.heartbeats.suspect_after()
        );
        assert_eq!(
            cluster.journal().leaders_elected(),
            1,
            "{LESSON}: one leader, and the others follow it.\n{story}"
        );
    });
}

/// Liveness: after the leader crashes, another node holds the lease within
/// lease duration + retry period + the network's delays.
#[test]
fn after_the_leader_crashes_a_new_leader_holds_the_lease_within_the_bound() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(3);
        let cluster = start(seed, config, run_candidate);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(5)).await;
        let failover = crash_and_time_failover(&cluster, leader, seed).await;
        let bound = failover_bound(&config);
        let crashed_at = failover.crashed_at;
        let story = story(&cluster).since(crashed_at.saturating_sub(secs(3)));
        match failover.took {
            Some(took) => assert!(
                took <= bound,
                "{LESSON}: {leader} crashed at {:.3}s and the next leader got the lease {took:?} \
                 later, past the bound of {bound:?} (lease duration + retry period + network \
                 delays). After a refused try, wait one retry period and try again while you \
                 still suspect the leader.\n{story}",
                crashed_at.as_secs_f64()
            ),
            None => panic!(
                "{LESSON}: {leader} crashed at {:.3}s and nobody held the lease {bound:?} later. \
                 Followers must suspect it (no heartbeats) and keep trying for the lease.\n{story}",
                crashed_at.as_secs_f64()
            ),
        }
        assert_one_lease_holder_at_a_time(&cluster, LESSON);
    });
}

/// Stability: with no faults the first leader leads for ten minutes, and
/// followers send nothing to the lease store.
#[test]
fn with_no_faults_the_leader_never_changes_and_followers_stay_quiet() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(3), run_candidate);
        first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(5)).await;
        let settled = cluster.network().counts();
        cluster.run_for(secs(600)).await;
        let story = story(&cluster);
        assert_eq!(
            cluster.journal().entries().len(),
            1,
            "{LESSON}: on a healthy network the first leader should lead for ten minutes, with \
             no step-down and no second leader.\n{story}"
        );
        let steady = cluster.network().counts().since(&settled);
        assert_eq!(
            steady.of("acquire").sent,
            0,
            "{LESSON}: while the leader's heartbeats arrive, followers should not ask the lease \
             store for anything; they asked {} times in ten minutes. Campaign only when \
             `detector.suspects(now)`.",
            steady.of("acquire").sent
        );
        assert!(
            steady.of("heartbeat").sent >= 1190,
            "{LESSON}: the leader should heartbeat its two followers every second while it \
             leads (send_heartbeats, next to hold, with tokio::join!); it sent {}",
            steady.of("heartbeat").sent
        );
    });
}

/// A crashed leader that comes back follows the leader that replaced it,
/// without disturbing it.
#[test]
fn a_crashed_leader_that_restarts_follows_its_successor() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let mut cluster = start(seed, ClusterConfig::new(3), run_candidate);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(4)).await;
        cluster.crash(leader).expect("the leader is running");
        cluster.run_for(secs(20)).await;
        cluster.restart(leader).expect("the leader has crashed");
        cluster.run_for(secs(120)).await;
        let story = story(&cluster);
        assert_eq!(
            cluster.journal().leaders_elected(),
            2,
            "{LESSON}: one failover after the crash, and none when {leader} comes back: it \
             hears the new leader's heartbeats and follows.\n{story}"
        );
        assert!(
            !cluster.leaders().contains(&leader),
            "{LESSON}: {leader} must follow.\n{story}"
        );
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// A leader cut off by a partition is replaced on the other side; after the
/// partition heals it follows, and one leader remains.
#[test]
fn a_partitioned_leader_is_replaced_and_after_healing_one_leader_remains() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(3);
        let cluster = start(seed, config, run_candidate);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(3)).await;
        let cut_at = clock::elapsed();
        cluster
            .network()
            .partition(&[&[leader]])
            .expect("known node");
        cluster.run_for(secs(30)).await;
        let story = story(&cluster);
        let replaced = next_grant(&cluster, leader, cut_at);
        assert!(
            replaced.is_some_and(|at| at - cut_at <= failover_bound(&config)),
            "{LESSON}: the majority side should hold the lease within {:?} of the cut.\n{story}",
            failover_bound(&config)
        );
        cluster.network().heal();
        cluster.run_for(secs(60)).await;
        assert_eq!(
            cluster.leaders().len(),
            1,
            "{LESSON}: after the partition healed exactly one node should lead.\n{story}"
        );
        assert_eq!(
            cluster.journal().leaders_elected(),
            2,
            "{LESSON}: the old leader hears the new one's heartbeats (a higher token) and \
             follows; nobody else should take over.\n{story}"
        );
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// While a crashed leader's lease runs out, followers ask the lease store
/// once per retry period each, not as fast as it answers: a refused try
/// means the lease is still held, and asking again at once cannot change
/// that.
#[test]
fn while_the_old_lease_runs_out_followers_ask_once_per_retry_period() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(3);
        let cluster = start(seed, config, run_candidate);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(5)).await;
        let before = cluster.network().counts();
        let failover = crash_and_time_failover(&cluster, leader, seed).await;
        let asked = cluster.network().counts().since(&before).of("acquire").sent;
        let retry = config.election.retry_period();
        let tries_each = failover_bound(&config).as_millis() / retry.as_millis() + 1;
        let at_most = 2 * tries_each as u64;
        let story = story(&cluster).since(failover.crashed_at);
        assert!(
            failover.took.is_some() && asked <= at_most,
            "{LESSON}: from {leader}'s crash at {:.3}s until the next grant, its two followers \
             asked the lease store for the lease {asked} times; asking once per retry period \
             ({retry:?}) makes at most {at_most}. After a refused try, wait one retry period \
             before you look again.\n{story}",
            failover.crashed_at.as_secs_f64()
        );
    });
}

/// A leader that steps down follows again, and campaigns again when it
/// suspects its successor: a candidate's life is a loop, not a line.
#[test]
fn a_leader_that_stepped_down_takes_over_again_when_its_successor_crashes() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(2);
        let cluster = start(seed, config, run_candidate);
        let first = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(3)).await;
        cluster
            .network()
            .partition(&[&[first]])
            .expect("known node");
        cluster.run_for(secs(30)).await;
        cluster.network().heal();
        cluster.run_for(secs(10)).await;
        let second = cluster.leaders().first().copied();
        let story_so_far = story(&cluster);
        let Some(second) = second.filter(|second| *second != first) else {
            panic!(
                "{LESSON}: {first} was cut off for 30 s; the other candidate should lead \
                 now.\n{story_so_far}"
            )
        };
        let crashed_at = clock::elapsed();
        cluster.crash(second).expect("the second leader is running");
        cluster.run_for(failover_bound(&config) + secs(5)).await;
        let story = story(&cluster).since(crashed_at.saturating_sub(secs(3)));
        assert!(
            next_grant(&cluster, second, crashed_at).is_some(),
            "{LESSON}: {first} led, stepped down when it was cut off, and then followed \
             {second}. When {second} crashed at {:.3}s, {first} should have suspected it and \
             taken the lease: after leading, go back to following, in the same loop.\n{story}",
            crashed_at.as_secs_f64()
        );
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// A candidate whose try is refused for good stops: a node the lease store
/// does not know campaigns once, is refused, and returns, instead of asking
/// again every retry period for as long as it runs.
#[test]
fn a_candidate_the_store_refuses_stops_campaigning() {
    simulate(async {
        let config = ClusterConfig::new(2);
        let cluster = start(Seed::new(1), config, run_candidate);
        let context = stranger(&cluster, NodeId::new(9));
        let stopped = tokio::time::timeout(secs(60), run_candidate(context))
            .await
            .is_ok();
        let asked = cluster.network().counts().of("acquire").sent;
        assert!(
            stopped,
            "{LESSON}: node-9 is not a candidate, and the lease store refuses it; that refusal \
             will not change, yet it was still campaigning after a minute ({asked} requests for \
             the lease from the cluster). After a try fails, wait one retry period only when \
             `is_retryable()` is true; on any other error, return."
        );
    });
}
