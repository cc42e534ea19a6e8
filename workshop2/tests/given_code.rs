//! The given code keeps its promises: bad input is refused with typed errors,
//! workloads are what they say, machines run at their speed, and the cluster
//! accounts for every job. These tests pass in every state of the workshop.

use std::sync::Arc;
use std::time::Duration;

use coordination::metrics::makespan_lower_bound;
use coordination::sim::{clock, simulate};
use coordination::{
    ConfigError, DistributeError, Seed, WorkDistributor, WorkItem, Worker, WorkerId, Workers,
};
use workshop2::testing::{ONE_SLOW, Scenario, fleet, rate};
use workshop2::{
    Arrival, Autoscaler, BreakerError, BreakerSettings, ById, CircuitBreaker, Cluster, Fleet,
    HealthChecks, Intake, Job, LeastLoaded, Overflow, Placement, PowerOfChoices, QueueDistributor,
    RoundRobin, ScalingSettings, StealingDeques, WorkerQueues, Workload, timed_work,
};

fn breaker(threshold: f64, window: usize, minimum_calls: usize) -> BreakerSettings {
    BreakerSettings {
        failure_rate_threshold: threshold,
        window,
        minimum_calls,
        open_for: Duration::from_secs(5),
        half_open_trials: 2,
    }
}

fn scaling(min_workers: usize, max_workers: usize, target: usize) -> ScalingSettings {
    ScalingSettings {
        min_workers,
        max_workers,
        target_depth_per_worker: target,
        cooldown: Duration::from_secs(300),
    }
}

/// Zero workers are refused wherever workers are counted.
#[test]
fn zero_workers_are_refused() {
    assert_eq!(
        Fleet::new(&[], Seed::new(1)),
        Err(ConfigError::NoWorkers),
        "a fleet without machines is refused"
    );
    let empty: Vec<Arc<dyn Worker<Job>>> = Vec::new();
    assert!(
        matches!(Workers::new(empty), Err(ConfigError::NoWorkers)),
        "a pool without workers is refused"
    );
    assert!(
        matches!(StealingDeques::<Job>::new(0), Err(ConfigError::NoWorkers)),
        "stealing deques for no worker are refused"
    );
    assert!(
        matches!(
            Autoscaler::new(scaling(0, 0, 5)),
            Err(ConfigError::NoWorkers)
        ),
        "an autoscaler with a maximum of 0 workers is refused"
    );
}

/// A speed must be above 0 and at most 1: a quarter-speed machine is 0.25.
#[test]
fn speeds_outside_zero_to_one_are_refused() {
    for bad in [0.0, -1.0, 1.5, f64::NAN] {
        assert!(
            matches!(
                Fleet::new(&[1.0, bad], Seed::new(1)),
                Err(ConfigError::FactorBelowOne { .. })
            ),
            "speed {bad} must be refused"
        );
    }
    assert!(
        Fleet::new(&[1.0, 0.25], Seed::new(1)).is_ok(),
        "a quarter-speed machine is valid"
    );
}

/// Zero capacity is refused: an intake that holds nothing, a breaker window
/// of no calls, no random choice at all.
#[test]
fn zero_capacity_is_refused() {
    assert!(
        matches!(
            Intake::<Job>::new(0, Overflow::Wait),
            Err(ConfigError::ZeroCapacity { .. })
        ),
        "an intake of capacity 0 is refused"
    );
    assert!(
        matches!(
            CircuitBreaker::new(breaker(0.5, 0, 0)),
            Err(ConfigError::ZeroCapacity { .. })
        ),
        "a breaker window of 0 calls is refused"
    );
    assert!(
        matches!(
            Autoscaler::new(scaling(1, 4, 0)),
            Err(ConfigError::ZeroCapacity { .. })
        ),
        "a target depth of 0 per worker is refused"
    );
    assert!(
        matches!(
            PowerOfChoices::new(0),
            Err(ConfigError::ZeroCapacity { .. })
        ),
        "zero random choices are refused"
    );
    assert!(
        Intake::<Job>::new(1, Overflow::ShedOldest).is_ok(),
        "an intake of capacity 1 is valid"
    );
}

/// A failure-rate threshold outside 0..=1 is refused, NaN included.
#[test]
fn thresholds_outside_zero_to_one_are_refused() {
    for bad in [-0.1, 1.01, f64::NAN] {
        assert!(
            matches!(
                CircuitBreaker::new(breaker(bad, 10, 5)),
                Err(ConfigError::ProbabilityOutOfRange { .. })
            ),
            "threshold {bad} must be refused"
        );
    }
    assert!(
        CircuitBreaker::new(breaker(0.0, 10, 5)).is_ok(),
        "a threshold of 0 is valid"
    );
    assert!(
        CircuitBreaker::new(breaker(1.0, 10, 5)).is_ok(),
        "a threshold of 1 is valid"
    );
}

/// A minimum above its maximum is refused: no value could satisfy both.
#[test]
fn min_above_max_is_refused() {
    assert_eq!(
        Autoscaler::new(scaling(5, 2, 10)).err(),
        Some(ConfigError::MinAboveMax {
            setting: "autoscaler workers",
            min: 5,
            max: 2
        }),
        "a minimum of 5 workers above a maximum of 2 is refused with both"
    );
    assert!(
        matches!(
            CircuitBreaker::new(breaker(0.5, 10, 11)),
            Err(ConfigError::MinAboveMax { .. })
        ),
        "a minimum of 11 calls in a window of 10 is refused"
    );
    assert!(
        Autoscaler::new(scaling(2, 2, 10)).is_ok(),
        "a minimum equal to the maximum is valid"
    );
}

/// Durations that must be positive are: a breaker that never stays open, a
/// health check that probes without pause.
#[test]
fn zero_durations_are_refused() {
    let settings = BreakerSettings {
        open_for: Duration::ZERO,
        ..breaker(0.5, 10, 5)
    };
    assert!(
        matches!(
            CircuitBreaker::new(settings),
            Err(ConfigError::ZeroDuration { .. })
        ),
        "a breaker that stays open for 0 s is refused"
    );
    assert!(
        matches!(
            HealthChecks::new(Duration::ZERO, breaker(0.5, 10, 5), |_, _| true),
            Err(ConfigError::ZeroDuration { .. })
        ),
        "health checks every 0 s are refused"
    );
}

/// A batch with two jobs of one id is refused before anything runs.
#[test]
fn duplicate_job_ids_are_refused_before_anything_runs() {
    simulate(async {
        let fleet = fleet(&[1.0], Seed::new(1));
        let jobs = vec![
            Job::new(7, Duration::from_millis(10)),
            Job::new(7, Duration::from_millis(20)),
        ];
        let refused = QueueDistributor::new(Cluster::new(fleet.workers(), Seed::new(1)), ById)
            .distribute(jobs)
            .await;
        assert_eq!(
            refused,
            Err(DistributeError::DuplicateItem(
                coordination::WorkItemId::new(7)
            )),
            "the batch with job 7 twice is refused, naming job 7"
        );
    });
}

/// A workload is a function of its seed: same seed, same jobs at the same
/// moments.
#[test]
fn workloads_are_reproducible_from_their_seed() {
    let pace = fleet(&ONE_SLOW, Seed::new(1)).pace(rate(0.8));
    for workload in Workload::ALL {
        let first = workload.arrivals(100, pace, Seed::new(3));
        assert_eq!(
            first,
            workload.arrivals(100, pace, Seed::new(3)),
            "{workload}: the same seed must give the same jobs"
        );
        assert_ne!(
            first,
            workload.arrivals(100, pace, Seed::new(4)),
            "{workload}: another seed should give other jobs"
        );
        assert_eq!(
            workload.to_string().parse(),
            Ok(workload),
            "{workload}: its name reads back as itself"
        );
    }
    assert!(
        "lumpy".parse::<Workload>().is_err(),
        "an unknown workload name is refused"
    );
}

/// Heavy-tailed sizes stay between 10 and 200 ms, average near their stated
/// mean, and a few large jobs carry a large share of the work.
#[test]
fn heavy_tailed_jobs_are_bounded_and_skewed() {
    let arrivals = Workload::HeavyTailed.arrivals(5_000, workshop2::Pace::AllAtOnce, Seed::new(2));
    let mut sizes: Vec<Duration> = arrivals.iter().map(|arrival| arrival.item.work()).collect();
    assert!(
        sizes.iter().all(|size| {
            (Duration::from_millis(10)..=Duration::from_millis(200)).contains(size)
        }),
        "every heavy-tailed job takes between 10 and 200 ms"
    );
    let total: Duration = sizes.iter().sum();
    let mean = total / sizes.len() as u32;
    let expected = Workload::HeavyTailed.mean_work();
    assert!(
        mean.abs_diff(expected) < expected / 10,
        "mean {mean:?}, expected about {expected:?}"
    );
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let top_tenth: Duration = sizes[..sizes.len() / 10].iter().sum();
    assert!(
        top_tenth > total / 4,
        "the largest tenth of the jobs should carry over a quarter of the work"
    );
}

/// The giant job is a quarter of all the others together, and it is the
/// lower bound's longest item.
#[test]
fn one_giant_job_dominates_the_lower_bound() {
    let arrivals = Workload::OneGiant.arrivals(200, workshop2::Pace::AllAtOnce, Seed::new(5));
    let mut sizes: Vec<Duration> = arrivals.iter().map(|arrival| arrival.item.work()).collect();
    sizes.sort_unstable();
    let giant = sizes.pop().expect("200 jobs");
    let rest: Duration = sizes.iter().sum();
    assert!(
        giant.abs_diff(rest / 4) < Duration::from_millis(100),
        "the giant job is a quarter of all the others together"
    );
    let bound = makespan_lower_bound(&timed_work(&arrivals), &[1.0; 8]);
    assert_eq!(
        bound, giant,
        "the giant job alone sets the lower bound on eight machines"
    );
}

/// A steady stream arrives at the stated share of the fleet's capacity.
#[test]
fn steady_arrivals_offer_the_stated_utilisation() {
    let fleet = fleet(&ONE_SLOW, Seed::new(1));
    let arrivals = Workload::Uniform.arrivals(4_000, fleet.pace(rate(0.8)), Seed::new(9));
    let span = arrivals.last().expect("jobs").at.as_secs_f64();
    let work: f64 = arrivals
        .iter()
        .map(|arrival| arrival.item.work().as_secs_f64())
        .sum();
    let offered = work / span / fleet.capacity();
    assert!(
        (0.75..0.85).contains(&offered),
        "offered {offered:.2} of capacity"
    );
}

/// A quarter-speed machine takes four times as long; a machine in an outage
/// refuses at once and is up again afterwards.
#[test]
fn machines_run_at_their_speed_and_refuse_during_outages() {
    simulate(async {
        let fleet = fleet(&[1.0, 0.25], Seed::new(1)).with_outage(
            WorkerId::new(1),
            Duration::from_secs(1)..Duration::from_secs(2),
        );
        let machines = fleet.machines();
        let job = Job::new(1, Duration::from_millis(100));
        machines[1].process(&job).await.expect("up");
        assert_eq!(
            clock::elapsed(),
            Duration::from_millis(400),
            "a 100 ms job takes 400 ms on a quarter-speed machine"
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        let refused = machines[0].process(&job).await;
        assert!(
            refused.is_err_and(|error| error.is_retryable()),
            "a machine in an outage refuses with a retryable error"
        );
        assert!(
            !fleet.is_up(WorkerId::new(1), Duration::from_millis(1_500)),
            "worker-1 is down between 1 s and 2 s"
        );
        assert!(
            fleet.is_up(WorkerId::new(1), Duration::from_secs(2)),
            "worker-1 is up again at 2 s"
        );
        assert!(
            !fleet.is_up(WorkerId::new(9), Duration::ZERO),
            "a worker not in the fleet is never up"
        );
        assert_eq!(
            machines[0].id(),
            WorkerId::new(1),
            "machines are numbered from worker-1"
        );
        assert!(
            (fleet.capacity() - 1.25).abs() < 1e-12,
            "a fleet of speeds 1.0 and 0.25 has a capacity of 1.25"
        );
    });
}

/// The cluster places, runs and accounts for every job, and a run's clock
/// starts at zero however many runs came before.
#[test]
fn the_cluster_runs_every_job_once_and_reads_time_from_zero() {
    simulate(async {
        let scenario = Scenario::new(Workload::Uniform, 100, &[1.0, 1.0], 0.5, Seed::new(4));
        let first = scenario.run(ById).await;
        let second = scenario.run(ById).await;
        for run in [&first, &second] {
            workshop2::testing::assert_each_ran_once(&run.report, "given code");
            assert_eq!(
                run.placed.values().sum::<usize>(),
                100,
                "all 100 jobs were placed"
            );
            assert!(
                run.balance.makespan >= scenario.lower_bound,
                "no run beats the lower bound"
            );
        }
        assert_eq!(
            first.balance.makespan, second.balance.makespan,
            "two runs of one scenario take exactly as long: each reads time from zero"
        );
        let job = Job::new(1, Duration::from_millis(10));
        assert_eq!(
            job.id(),
            coordination::WorkItemId::new(1),
            "a job keeps its id"
        );
        assert_eq!(
            Arrival::all_at_once([job])[0].at,
            Duration::ZERO,
            "a batch all at once arrives at time zero"
        );
    });
}

/// Per-worker queues on real threads run every item exactly once, and zero
/// threads are refused.
#[test]
fn queues_on_threads_run_every_item_once() {
    let mut results = workshop2::run_on_threads::<u32, u32, workshop2::FifoQueues<u32>>(
        (0..1_000).collect(),
        3,
        Seed::new(1),
        |item| item * 2,
    )
    .expect("three threads");
    results.sort_unstable();
    assert!(
        results.iter().copied().eq((0..1_000).map(|item| item * 2)),
        "every item ran exactly once, doubled"
    );
    assert_eq!(
        workshop2::run_on_threads::<u32, u32, workshop2::FifoQueues<u32>>(
            vec![1],
            0,
            Seed::new(1),
            |item| item
        ),
        Err(ConfigError::NoWorkers),
        "given code: running on zero threads is a typed error, not a panic"
    );
}

/// The strategies' names label every report and timeline, so each says
/// which rule placed the work.
#[test]
fn each_strategy_names_its_rule() {
    assert_eq!(
        RoundRobin::new().name(),
        "round-robin",
        "round-robin's name in the reports"
    );
    assert_eq!(
        LeastLoaded.name(),
        "least-loaded",
        "least-loaded's name in the reports"
    );
    for (choices, name) in [
        (1, "one random choice"),
        (2, "power of two choices"),
        (3, "power of d choices"),
    ] {
        let strategy = PowerOfChoices::new(choices).expect("a positive number of choices");
        assert_eq!(
            strategy.choices(),
            choices,
            "power of choices samples the {choices} candidates it was given"
        );
        assert_eq!(
            strategy.name(),
            name,
            "{choices} random choice(s) per item are named {name:?} in the reports"
        );
    }
}

/// The counts the given code reports are the ones it holds: the cluster
/// reads the deques' lengths and steals, and the intake's capacity bounds
/// everything admitted.
#[test]
fn the_given_counts_report_what_is_held() {
    let deques = StealingDeques::<u32>::new(3).expect("three workers");
    assert_eq!(deques.workers(), 3, "three workers' deques");
    assert!(deques.is_empty(), "new deques hold nothing");
    deques.push(1, 10);
    deques.push(1, 11);
    assert!(
        !deques.is_empty(),
        "two items pushed to worker 1: the deques are not empty"
    );
    assert_eq!(deques.len(1), 2, "worker 1's deque holds the two items");
    assert_eq!(deques.len(0), 0, "worker 0's deque holds nothing");
    assert_eq!(
        WorkerQueues::queued(&deques, 1),
        2,
        "the cluster sees worker 1's two queued items"
    );
    assert_eq!(
        WorkerQueues::steals(&deques),
        0,
        "nothing has been stolen yet"
    );

    let intake = Intake::<Job>::new(3, Overflow::Wait).expect("a capacity of 3");
    assert_eq!(intake.capacity(), 3, "the intake's bound is the one given");
    assert_eq!(intake.in_system(), 0, "a new intake holds nothing");

    for refusal in [
        BreakerError::Open {
            retry_after: Duration::from_secs(1),
        },
        BreakerError::TrialsInFlight,
    ] {
        assert!(
            refusal.is_retryable(),
            "{refusal}: a refused call never reached the downstream, so it may be retried"
        );
    }
}
