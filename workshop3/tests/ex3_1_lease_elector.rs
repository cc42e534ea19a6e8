//! Exercise 3.1: acquire and renew a lease, and step down in time. Edit
//! `workshop3/src/lease_elector.rs`.
//!
//! Read `workshop3/README.md`, "Implement", 3.1. Run just these tests with
//! `cargo test -p workshop3 --test workshop ex3_1_lease_elector`.

use std::time::Duration;

use coordination::ConfigError;
use coordination::sim::{NetworkConditions, simulate};
use coordination::{NodeId, Seed};
use workshop3::testing::{
    assert_one_believer_at_a_time, assert_one_lease_holder_at_a_time, elect_by_polling,
    first_leader, millis, secs, start, story, stranger, sweep,
};
use workshop3::{
    ClusterConfig, ElectionConfig, LEASE_STORE, LeaseCallError, LeaseElector, LeaseError,
    NodeEvent, StepDown,
};

const LESSON: &str = "exercise 3.1 (lease)";

/// What usually keeps a test of this exercise from finishing, for the
/// message of the guard that stops it.
const WHEN_STUCK: &str = "a loop in `hold` that goes round again without waiting once its renew deadline has passed \
     (sleeping until an instant in the past returns at once): at the deadline, step down and return";

/// Kubernetes' timings are valid, and the getters give them back.
#[test]
fn the_kubernetes_timings_are_accepted() {
    let config = ElectionConfig::new(secs(15), secs(10), secs(2));
    assert_eq!(
        config,
        Ok(ElectionConfig::KUBERNETES),
        "{LESSON}: 15 s / 10 s / 2 s are Kubernetes' defaults and must be accepted"
    );
    let config = ElectionConfig::KUBERNETES;
    assert_eq!(
        (
            config.lease_duration(),
            config.renew_deadline(),
            config.retry_period()
        ),
        (secs(15), secs(10), secs(2)),
        "{LESSON}: the getters give back the lease duration, renew deadline and retry period, \
         in that order"
    );
}

/// A zero timing is refused with the name of the setting.
#[test]
fn a_zero_timing_is_refused_naming_the_setting() {
    let cases = [
        ((Duration::ZERO, secs(10), secs(2)), "lease duration"),
        ((secs(15), Duration::ZERO, secs(2)), "renew deadline"),
        ((secs(15), secs(10), Duration::ZERO), "retry period"),
    ];
    for ((lease, deadline, retry), setting) in cases {
        assert_eq!(
            ElectionConfig::new(lease, deadline, retry),
            Err(ConfigError::ZeroDuration { setting }),
            "{LESSON}: a zero {setting} must be refused with \
             ConfigError::ZeroDuration {{ setting: {setting:?} }}; check every timing for zero \
             first (ConfigError::ensure_positive)"
        );
    }
}

/// lease duration > renew deadline > retry period, strictly, as client-go
/// requires: otherwise a typed error names both settings.
#[test]
fn timings_out_of_order_are_refused() {
    let lease_first = ("lease duration", "renew deadline");
    let deadline_first = ("renew deadline", "retry period");
    let cases = [
        (
            (secs(10), secs(10), secs(2)),
            lease_first,
            "a lease no longer than the renew deadline",
        ),
        (
            (secs(5), secs(10), secs(2)),
            lease_first,
            "a lease shorter than the renew deadline",
        ),
        (
            (secs(15), secs(2), secs(2)),
            deadline_first,
            "a renew deadline no longer than the retry period",
        ),
        (
            (secs(15), secs(1), secs(2)),
            deadline_first,
            "a renew deadline shorter than the retry period",
        ),
    ];
    for ((lease, deadline, retry), (longer, shorter), what) in cases {
        let outcome = ElectionConfig::new(lease, deadline, retry);
        let named = match &outcome {
            Err(ConfigError::NotLonger {
                longer, shorter, ..
            }) => Some((*longer, *shorter)),
            _ => None,
        };
        assert_eq!(
            named,
            Some((longer, shorter)),
            "{LESSON}: {what} must be refused with ConfigError::NotLonger naming {longer:?} \
             and {shorter:?} (ConfigError::ensure_longer); got {outcome:?}"
        );
    }
}

/// A lone candidate gets the lease at once and keeps it for ten minutes,
/// renewing it once per retry period.
#[test]
fn a_lone_candidate_acquires_the_lease_and_keeps_it_for_ten_minutes() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(1), elect_by_polling);
        cluster.run_for(secs(600)).await;
        let story = story(&cluster);
        let journal = cluster.journal().entries();
        assert!(
            matches!(
                journal.first().map(|entry| entry.event),
                Some(NodeEvent::BecameLeader { .. })
            ),
            "{LESSON}: node-1 is the only candidate and should lead at once; did `acquire` \
             return the lease, and does `hold` call `leadership.lead`?\n{story}"
        );
        assert_eq!(
            journal.len(),
            1,
            "{LESSON}: on a healthy network the leader should never step down.\n{story}"
        );
        assert_eq!(
            cluster.lease_store().tenures().len(),
            1,
            "{LESSON}: one lease, renewed for ten minutes, never given up.\n{story}"
        );
        let renewals = cluster.network().counts().of("renew").sent;
        assert!(
            (290..=300).contains(&renewals),
            "{LESSON}: the leader should renew once per retry period (2 s), about 300 times in \
             ten minutes, but sent {renewals} renewals"
        );
    });
}

/// Of three candidates exactly one leads; the others keep asking, once per
/// retry period.
#[test]
fn of_three_candidates_one_leads_and_the_others_keep_asking() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(3), elect_by_polling);
        cluster.run_for(secs(60)).await;
        let story = story(&cluster);
        assert_eq!(
            cluster.journal().leaders_elected(),
            1,
            "{LESSON}: exactly one of three candidates should lead, and keep leading.\n{story}"
        );
        let asked = cluster.network().counts().of("acquire").sent;
        assert!(
            (50..=63).contains(&asked),
            "{LESSON}: two followers asking once per retry period (2 s) for a minute make about \
             60 acquire requests, but there were {asked}. After a refusal, sleep one retry \
             period and ask again.\n{story}"
        );
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// A leader cut off from the lease store steps down at its renew deadline,
/// before its lease expires; a new leader is elected after the expiry.
#[test]
fn a_leader_cut_off_from_the_store_steps_down_before_its_lease_expires() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        // A renew deadline that is not a whole number of retry periods: a
        // leader that sleeps a whole retry period between tries oversleeps it.
        let election = ElectionConfig::new(secs(15), secs(9), secs(2))
            .expect("15 s > 9 s > 2 s is a valid election");
        let config = ClusterConfig {
            election,
            ..ClusterConfig::new(3)
        };
        let cluster = start(seed, config, elect_by_polling);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(5)).await;
        cluster
            .network()
            .partition(&[&[leader]])
            .expect("the leader is on the network");
        cluster.run_for(secs(30)).await;

        let story = story(&cluster);
        let beliefs = cluster.journal().beliefs();
        let old = beliefs
            .iter()
            .find(|belief| belief.node == leader)
            .expect("the leader's belief is in the journal");
        let stepped_down = cluster.journal().first_step_down(leader);
        let Some((at, reason)) = stepped_down else {
            panic!(
                "{LESSON}: {leader} was cut off from the lease store for 30 s and never stepped \
                 down. When no renewal succeeds by the renew deadline, call \
                 `leadership.step_down(StepDown::RenewDeadlinePassed)` and return.\n{story}"
            )
        };
        assert_eq!(
            reason,
            StepDown::RenewDeadlinePassed,
            "{LESSON}: nothing told {leader} its lease was lost; it should step down because \
             its renew deadline passed.\n{story}"
        );
        assert!(
            at <= old.until + millis(1),
            "{LESSON}: {leader}'s renewals stopped succeeding; its deadline was {:.3}s but it \
             stepped down only at {:.3}s. Wake up at the deadline, not after the next \
             retry period.\n{story}",
            old.until.as_secs_f64(),
            at.as_secs_f64()
        );
        let tenures = cluster.lease_store().tenures();
        assert!(
            tenures.len() >= 2 && tenures[1].holder != leader,
            "{LESSON}: after {leader}'s lease expired another candidate should hold it.\n{story}"
        );
        assert_one_lease_holder_at_a_time(&cluster, LESSON);
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// On a slow network the leader's belief still ends the whole safety margin
/// (lease duration - renew deadline) before the store's lease: its deadline
/// is counted from when each renewal was *sent*, never from when the answer
/// came back, because the store started that lease somewhere in between.
#[test]
fn on_a_slow_network_the_leader_stops_believing_a_full_margin_before_its_lease_ends() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        // Every message takes 400 ms: an answer comes back 400 ms after the
        // store renewed the lease.
        let conditions = NetworkConditions::reliable()
            .with_latency(millis(400), millis(400))
            .expect("400 ms is a valid latency");
        let config = ClusterConfig {
            conditions,
            ..ClusterConfig::new(1)
        };
        let cluster = start(seed, config, elect_by_polling);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(30)).await;

        let story = story(&cluster);
        let margin = config.election.lease_duration() - config.election.renew_deadline();
        let beliefs = cluster.journal().beliefs();
        let tenures = cluster.lease_store().tenures();
        let (Some(belief), Some(tenure)) = (beliefs.last(), tenures.last()) else {
            panic!("{LESSON}: {leader} should lead and hold the lease after 30 s.\n{story}")
        };
        let left = tenure.until.saturating_sub(belief.until);
        assert!(
            left >= margin,
            "{LESSON}: {leader} believes it leads until {:.3}s and the store's lease ends at \
             {:.3}s: only {left:?} apart, less than the {margin:?} safety margin. The store \
             starts a renewed lease when the request arrives, which is before the answer comes \
             back; count the deadline from when the renewal was sent \
             (`lease.requested_at`), not from when its answer arrived.\n{story}",
            belief.until.as_secs_f64(),
            tenure.until.as_secs_f64()
        );
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// A leader whose lease was revoked finds out at its next renewal and steps
/// down at once, without waiting for its deadline.
#[test]
fn a_leader_whose_lease_is_revoked_steps_down_at_its_next_renewal() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(2), elect_by_polling);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(millis(4321)).await;
        cluster.revoke_lease();
        let revoked_at = coordination::sim::clock::elapsed();
        cluster.run_for(secs(3)).await;

        let story = story(&cluster);
        let stepped_down = cluster.journal().first_step_down(leader);
        match stepped_down {
            Some((at, StepDown::LeaseLost)) => assert!(
                at <= revoked_at + secs(2) + millis(20),
                "{LESSON}: the next renewal after the revocation should have told {leader}; \
                 it stepped down only at {:.3}s.\n{story}",
                at.as_secs_f64()
            ),
            other => panic!(
                "{LESSON}: the store answers {leader}'s renewal with `Lost`; that error is not \
                 retryable, so step down at once with StepDown::LeaseLost (got {other:?}).\n{story}"
            ),
        }
    });
}

/// A leader paused past its renew deadline steps down the moment it wakes,
/// before anything else.
#[test]
fn a_leader_paused_past_its_deadline_steps_down_when_it_wakes() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(1), elect_by_polling);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(3)).await;
        cluster
            .network()
            .pause(leader)
            .expect("the leader is running");
        cluster.run_for(secs(20)).await;
        cluster
            .network()
            .resume(leader)
            .expect("the leader is paused");
        let resumed_at = coordination::sim::clock::elapsed();
        cluster.run_for(millis(1)).await;

        let story = story(&cluster);
        let stepped_down = cluster.journal().first_step_down(leader);
        assert_eq!(
            stepped_down,
            Some((resumed_at, StepDown::RenewDeadlinePassed)),
            "{LESSON}: {leader} woke up 20 s later, far past its renew deadline; after every \
             sleep, check the deadline first and step down.\n{story}"
        );
    });
}

/// A renewal answered after the renew deadline is too late: at the deadline
/// the leader stopped trusting its lease, so it steps down when the answer
/// arrives instead of leading on under the renewed lease. Here the lease
/// store stalls for 10.5 s, holding a renewal it then grants.
#[test]
fn a_renewal_answered_after_the_deadline_does_not_keep_the_leader() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        // Calls wait longer than the stall, so the held renewal is answered
        // rather than timed out.
        let config = ClusterConfig {
            call_timeout: secs(20),
            ..ClusterConfig::new(1)
        };
        let cluster = start(seed, config, elect_by_polling);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(5)).await;
        cluster
            .network()
            .pause(LEASE_STORE)
            .expect("the lease store is running");
        let stalled_at = coordination::sim::clock::elapsed();
        cluster.run_for(millis(10_500)).await;
        cluster
            .network()
            .resume(LEASE_STORE)
            .expect("the lease store is paused");
        cluster.run_for(secs(1)).await;

        let story = story(&cluster).since(stalled_at);
        let stepped_down = cluster.journal().first_step_down(leader);
        assert!(
            matches!(stepped_down, Some((at, StepDown::RenewDeadlinePassed)) if at > stalled_at),
            "{LESSON}: the lease store stalled at {:.3}s for 10.5 s, longer than the 10 s renew \
             deadline, then granted {leader}'s held renewal; {leader} should step down when \
             that late answer arrives (got {stepped_down:?}). Accept a renewal only if its \
             answer arrives before the deadline.\n{story}",
            stalled_at.as_secs_f64()
        );
    });
}

/// Safety on a bad network: lost and late messages, a crash and a
/// partition. At no instant do two nodes hold the lease, or believe they
/// lead, and no belief outlives its lease.
#[test]
fn on_a_bad_network_no_two_nodes_ever_hold_the_lease_or_believe_they_lead() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig {
            conditions: NetworkConditions::unreliable(),
            ..ClusterConfig::new(3)
        };
        let cluster = start(seed, config, elect_by_polling);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(20)).await;
        cluster
            .network()
            .partition(&[&[leader]])
            .expect("known node");
        cluster.run_for(secs(25)).await;
        cluster.network().heal();
        cluster.run_for(secs(10)).await;
        if let Some(&current) = cluster.leaders().first() {
            cluster.crash(current).expect("a running candidate");
        }
        cluster.run_for(secs(40)).await;
        assert_one_lease_holder_at_a_time(&cluster, LESSON);
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// A refusal is final: a node the lease store does not know gets the
/// refusal back from `acquire` after one request, instead of asking again
/// every retry period for ever.
#[test]
fn a_node_the_store_refuses_gets_the_refusal_after_one_request() {
    simulate(async {
        let config = ClusterConfig::new(1);
        let cluster = start(Seed::new(1), config, |_context| async {});
        let context = stranger(&cluster, NodeId::new(9));
        let elector = LeaseElector::new(context.lease, config.election);
        let outcome = tokio::time::timeout(secs(60), elector.acquire()).await;
        let asked = cluster.network().counts().of("acquire").sent;
        assert!(
            matches!(
                outcome,
                Ok(Err(LeaseCallError::Refused(LeaseError::UnknownNode(_))))
            ) && asked == 1,
            "{LESSON}: node-9 is not a candidate, and the lease store refuses it; that refusal \
             will not change. `acquire` asked {asked} time(s) in a minute and returned \
             {outcome:?}; it should return the refusal after one request. Wait and ask again \
             only after an error whose `is_retryable()` is true."
        );
    });
}
