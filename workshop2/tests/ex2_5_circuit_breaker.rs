//! Exercise 2.5: health checks and a circuit breaker. Edit
//! `workshop2/src/circuit_breaker.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.5. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_5_circuit_breaker`.

use std::time::Duration;

use coordination::WorkerId;
use coordination::sim::{clock, simulate};
use workshop2::testing::{Scenario, starts_on};
use workshop2::{
    BreakerError, BreakerSettings, BreakerState, CircuitBreaker, HealthChecks, QueueDistributor,
    RoundRobin, Workload,
};

const LESSON: &str = "exercise 2.5 (circuit breaker)";

/// Half of the last 10 calls, once 5 are in; open for 5 s; 2 trials.
const SETTINGS: BreakerSettings = BreakerSettings {
    failure_rate_threshold: 0.5,
    window: 10,
    minimum_calls: 5,
    open_for: Duration::from_secs(5),
    half_open_trials: 2,
};

fn breaker() -> CircuitBreaker {
    CircuitBreaker::new(SETTINGS).expect("the test settings are valid")
}

fn secs(value: u64) -> Duration {
    Duration::from_secs(value)
}

/// Makes `outcomes.len()` calls one second apart, recording each outcome.
async fn calls(breaker: &mut CircuitBreaker, outcomes: &[bool]) {
    for &succeeded in outcomes {
        tokio::time::sleep(secs(1)).await;
        let now = clock::elapsed();
        breaker
            .try_call(now)
            .unwrap_or_else(|error| panic!("{LESSON}: a closed breaker refused a call: {error}"));
        breaker.record(now, succeeded);
    }
}

/// Closed → Open: not before `minimum_calls` are in the window, then as soon
/// as the failure rate reaches the threshold.
#[test]
fn a_closed_breaker_opens_when_the_failure_rate_reaches_the_threshold() {
    simulate(async {
        let mut breaker = breaker();
        calls(&mut breaker, &[false; 4]).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "{LESSON}: 4 failures are fewer than the 5 minimum calls: no verdict yet"
        );
        calls(&mut breaker, &[false]).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Open { until: secs(10) },
            "{LESSON}: 5 of 5 failed at 5 s; open until 5 s + open_for"
        );
        assert_eq!(
            breaker.transitions().len(),
            1,
            "{LESSON}: one move so far, closed to open: {:?}",
            breaker.transitions()
        );
    });
}

/// A failure rate exactly at the threshold opens the breaker: the threshold
/// is the first rate that opens it, not the last one that is tolerated.
#[test]
fn a_failure_rate_exactly_at_the_threshold_opens_it() {
    simulate(async {
        let mut breaker = breaker();
        calls(&mut breaker, &[true, false, true, false, true, false]).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Open { until: secs(11) },
            "{LESSON}: 3 of the last 6 calls failed: a failure rate of 50%, exactly the \
             failure_rate_threshold of 0.5. Reaching the threshold opens the breaker: compare \
             with `>=`, not `>`."
        );
    });
}

/// A failure rate below the threshold keeps the breaker closed, over a
/// window that slides.
#[test]
fn a_rate_below_the_threshold_keeps_it_closed() {
    simulate(async {
        let mut breaker = breaker();
        let pattern: Vec<bool> = (0..60).map(|n| n % 3 != 0).collect();
        calls(&mut breaker, &pattern).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "{LESSON}: one failure in three is below the 50% threshold"
        );
        let rate = breaker.failure_rate().expect("the window is full");
        assert!(
            (0.3..=0.4).contains(&rate),
            "{LESSON}: the window holds the last 10 calls; their failure rate is about a \
             third, got {rate}"
        );
    });
}

/// Open: calls fail fast, with the time left until trials may start.
#[test]
fn an_open_breaker_fails_fast_with_the_time_left() {
    simulate(async {
        let mut breaker = breaker();
        calls(&mut breaker, &[false; 5]).await;
        tokio::time::sleep(secs(2)).await;
        assert_eq!(
            breaker.try_call(clock::elapsed()),
            Err(BreakerError::Open {
                retry_after: secs(3)
            }),
            "{LESSON}: opened at 5 s for 5 s, asked at 7 s: 3 s to go"
        );
    });
}

/// Open → HalfOpen → Closed: after the wait, `half_open_trials` calls go
/// through, more fail fast, and when every trial succeeds the breaker closes.
#[test]
fn after_the_wait_trials_go_through_and_successes_close_it() {
    simulate(async {
        let mut breaker = breaker();
        calls(&mut breaker, &[false; 5]).await;
        tokio::time::sleep(secs(5)).await;
        let now = clock::elapsed();
        assert_eq!(
            breaker.try_call(now),
            Ok(()),
            "{LESSON}: the wait is over: a trial"
        );
        assert!(
            matches!(breaker.state(), BreakerState::HalfOpen { .. }),
            "{LESSON}: one of the two trials succeeded: still half-open until both have, got {}",
            breaker.state()
        );
        assert_eq!(breaker.try_call(now), Ok(()), "{LESSON}: a second trial");
        assert_eq!(
            breaker.try_call(now),
            Err(BreakerError::TrialsInFlight),
            "{LESSON}: only 2 trials at once"
        );
        breaker.record(now, true);
        assert!(
            matches!(breaker.state(), BreakerState::HalfOpen { .. }),
            "{LESSON}: the wait is over, so the breaker is half-open, got {}",
            breaker.state()
        );
        breaker.record(now, true);
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "{LESSON}: both trials succeeded"
        );
        let path: Vec<String> = breaker
            .transitions()
            .iter()
            .map(|transition| format!("{}@{}s", transition.to, transition.at.as_secs()))
            .collect();
        assert_eq!(
            path,
            ["open@5s", "half-open@10s", "closed@10s"],
            "{LESSON}: every transition, in order, at its time"
        );
        assert_eq!(
            breaker.failure_rate(),
            None,
            "{LESSON}: a closed breaker starts over with an empty window"
        );
    });
}

/// HalfOpen → Open: one failed trial reopens the breaker for another full
/// wait.
#[test]
fn a_failed_trial_reopens_it_for_another_wait() {
    simulate(async {
        let mut breaker = breaker();
        calls(&mut breaker, &[false; 5]).await;
        tokio::time::sleep(secs(6)).await;
        let now = clock::elapsed();
        breaker.try_call(now).expect("the wait is over");
        breaker.record(now, false);
        assert_eq!(
            breaker.state(),
            BreakerState::Open {
                until: now + secs(5)
            },
            "{LESSON}: a failed trial opens the breaker again for open_for"
        );
    });
}

/// In front of a downstream that is down from 10 s to 40 s, a breaker lets
/// only a few calls reach it during the outage and closes again after.
#[test]
fn a_breaker_spares_a_failing_downstream_and_closes_after() {
    simulate(async {
        let mut breaker = breaker();
        let mut reached_during_outage = 0;
        let mut refused = 0;
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = clock::elapsed();
            if breaker.try_call(now).is_err() {
                refused += 1;
                continue;
            }
            let down = (secs(10)..secs(40)).contains(&now);
            reached_during_outage += usize::from(down);
            breaker.record(now, !down);
        }
        assert!(
            reached_during_outage <= 30,
            "{LESSON}: {reached_during_outage} calls reached the downstream during its 30 s \
             outage (300 without a breaker); an open breaker must fail fast"
        );
        assert!(refused > 200, "{LESSON}: only {refused} calls failed fast");
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "{LESSON}: the downstream is back from 40 s; the breaker should have closed"
        );
    });
}

/// A machine that fails its health checks leaves the rotation, gets no new
/// jobs while out, and comes back when its checks pass again; no job is lost.
#[test]
fn a_machine_that_fails_its_checks_leaves_the_rotation_and_comes_back() {
    simulate(async {
        let sick = WorkerId::new(2);
        let scenario = Scenario::new(
            Workload::Uniform,
            800,
            &[1.0; 4],
            0.7,
            coordination::Seed::new(3),
        );
        let fleet = scenario.fleet.clone().with_outage(sick, secs(2)..secs(5));
        let probe_fleet = fleet.clone();
        let checks = HealthChecks::new(
            Duration::from_millis(250),
            BreakerSettings {
                failure_rate_threshold: 1.0,
                window: 2,
                minimum_calls: 2,
                open_for: Duration::from_millis(500),
                half_open_trials: 2,
            },
            move |worker, at| probe_fleet.is_up(worker, at),
        )
        .expect("valid checks");
        let cluster =
            workshop2::Cluster::new(fleet.workers(), scenario.seed).with_health_checks(checks);
        let run = QueueDistributor::new(cluster, RoundRobin::new())
            .run(scenario.arrivals.clone())
            .await
            .expect("ids are unique");
        run.report.assert_nothing_lost();
        let changes: Vec<(bool, Duration)> = run
            .rotation
            .iter()
            .filter(|change| change.worker == sick)
            .map(|change| (change.in_rotation, change.at))
            .collect();
        let [(false, left), (true, back)] = changes[..] else {
            panic!(
                "{LESSON}: {sick} should leave the rotation once and come back once, got \
                 {changes:?}"
            );
        };
        assert!(
            (secs(2)..=Duration::from_millis(2_750)).contains(&left),
            "{LESSON}: {sick} went down at 2 s and should leave after two failed checks, \
             left at {left:?}"
        );
        assert!(
            (secs(5)..=secs(7)).contains(&back),
            "{LESSON}: {sick} was up again at 5 s and should be back within a wait and two \
             trials, came back at {back:?}"
        );
        let settle = left + Duration::from_millis(100);
        let started_while_out: Vec<Duration> = starts_on(&run.report, sick)
            .into_iter()
            .filter(|at| (settle..back).contains(at))
            .collect();
        assert!(
            started_while_out.is_empty(),
            "{LESSON}: {sick} started jobs while out of the rotation at {started_while_out:?}"
        );
        assert!(
            !starts_on(&run.report, sick).iter().all(|at| *at < left),
            "{LESSON}: {sick} should get jobs again after it came back"
        );
    });
}
