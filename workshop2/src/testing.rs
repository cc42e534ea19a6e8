//! Helpers for this workshop's tests and demos.
//!
//! A fleet with a slow machine, a seeded workload, its lower bound, a run and
//! a verdict take the same few lines in every test; they live here so each
//! test shows only what it checks.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use coordination::metrics::makespan_lower_bound;
use coordination::sim::clock;
use coordination::{
    Happened, Probability, RunReport, Seed, WorkItem, WorkItemId, WorkStatus, WorkerId,
};
use tokio::task::{JoinError, JoinSet};

use crate::{
    Arrival, Autoscaler, Cluster, ClusterRun, Fleet, Intake, IntakeError, Job, Observation,
    Placement, QueueDistributor, ScaleEvent, WorkStealingDistributor, Workload, timed_work,
};

// This workshop's `sweep()` and `for_each_seed()`, which name it in the
// commands that replay a failing seed.
coordination::seed_sweep!();

/// Four machines, the first at a quarter of normal speed: the fleet of the
/// workshop's bars. The slow machine comes first so that no strategy is
/// helped by ties going to the first candidate.
pub const ONE_SLOW: [f64; 4] = [0.25, 1.0, 1.0, 1.0];

/// How many jobs the bars are measured on.
pub const BAR_JOBS: usize = 1_000;

/// The utilisation the bars are measured at: jobs arrive with 80% of the
/// fleet's capacity in work.
pub const BAR_UTILISATION: f64 = 0.8;

/// A fleet written in a test.
///
/// # Panics
/// When a speed is invalid: test set-up is wrong.
pub fn fleet(speeds: &[f64], seed: Seed) -> Fleet {
    Fleet::new(speeds, seed).expect("a fleet written in a test is valid")
}

/// A probability or utilisation written in a test.
///
/// # Panics
/// When `value` is not in `0.0..=1.0`: test set-up is wrong.
pub fn rate(value: f64) -> Probability {
    Probability::new(value).expect("a rate written in a test is between 0 and 1")
}

/// A fleet, the jobs it will get, and the best makespan any scheduler could
/// reach with them.
#[derive(Clone)]
pub struct Scenario {
    /// The machines.
    pub fleet: Fleet,
    /// The jobs and their arrival times.
    pub arrivals: Vec<Arrival<Job>>,
    /// [`makespan_lower_bound`] of the arrivals on the fleet.
    pub lower_bound: Duration,
    /// The seed everything was drawn from.
    pub seed: Seed,
}

impl Scenario {
    /// `jobs` jobs of `workload` arriving at `utilisation` of a fleet of
    /// `speeds`, all drawn from `seed`.
    pub fn new(
        workload: Workload,
        jobs: usize,
        speeds: &[f64],
        utilisation: f64,
        seed: Seed,
    ) -> Self {
        let fleet = fleet(speeds, seed);
        let arrivals = workload.arrivals(jobs, fleet.pace(rate(utilisation)), seed);
        let lower_bound = makespan_lower_bound(&timed_work(&arrivals), &fleet.speeds());
        Self {
            fleet,
            arrivals,
            lower_bound,
            seed,
        }
    }

    /// The scenario of the workshop's bars: [`BAR_JOBS`] heavy-tailed jobs at
    /// [`BAR_UTILISATION`] on the [`ONE_SLOW`] fleet.
    pub fn bars(seed: Seed) -> Self {
        Self::new(
            Workload::HeavyTailed,
            BAR_JOBS,
            &ONE_SLOW,
            BAR_UTILISATION,
            seed,
        )
    }

    /// A cluster of fresh machines of this fleet.
    pub fn cluster(&self) -> Cluster<Job> {
        Cluster::new(self.fleet.workers(), self.seed)
    }

    /// Runs the jobs with per-worker FIFO queues and `placement`.
    ///
    /// # Panics
    /// When the run is refused: scenario ids are unique, so that is a bug.
    pub async fn run<P: Placement + Clone + Sync>(&self, placement: P) -> ClusterRun {
        QueueDistributor::new(self.cluster(), placement)
            .run(self.arrivals.clone())
            .await
            .expect("scenario ids are unique")
    }

    /// Runs the jobs with work stealing.
    ///
    /// # Panics
    /// When the run is refused: scenario ids are unique, so that is a bug.
    pub async fn run_stealing(&self) -> ClusterRun {
        WorkStealingDistributor::new(self.cluster())
            .run(self.arrivals.clone())
            .await
            .expect("scenario ids are unique")
    }
}

/// A run in a few lines: makespan against the bound, and per worker its speed,
/// items placed, busy time.
pub fn describe(run: &ClusterRun, scenario: &Scenario) -> String {
    let mut text = format!(
        "{}: makespan {:.2}s, lower bound {:.2}s ({:.2}x), fairness {:.2}, steals {}\n",
        run.strategy,
        run.balance.makespan.as_secs_f64(),
        scenario.lower_bound.as_secs_f64(),
        run.balance.ratio_to(scenario.lower_bound),
        run.balance.fairness(),
        run.balance.steals
    );
    for ((worker, share), speed) in run.balance.per_worker.iter().zip(scenario.fleet.speeds()) {
        let _ = writeln!(
            text,
            "    {worker} (speed {speed}): placed {}, ran {}, busy {:.2}s",
            run.placed.get(worker).copied().unwrap_or(0),
            share.attempts,
            share.busy.as_secs_f64()
        );
    }
    text
}

/// Checks that every item succeeded and had exactly one attempt: nothing
/// lost, nothing run twice.
///
/// # Panics
/// Naming the first item that was lost or ran more than once, with `lesson`.
#[track_caller]
pub fn assert_each_ran_once(report: &RunReport, lesson: &str) {
    report.assert_nothing_lost();
    for item in report.items() {
        assert!(
            item.status == WorkStatus::Succeeded && item.attempts == 1,
            "{lesson}: {} ran {} times and ended {}; every job must run exactly once.\n{}",
            item.id,
            item.attempts,
            item.status,
            history(report, item.id)
        );
    }
}

/// Checks that `run`'s makespan is at most `factor` times the scenario's
/// lower bound.
///
/// # Panics
/// With the run described, in the words of `lesson`.
#[track_caller]
pub fn assert_makespan_within(run: &ClusterRun, scenario: &Scenario, factor: f64, lesson: &str) {
    let ratio = run.balance.ratio_to(scenario.lower_bound);
    assert!(
        ratio <= factor,
        "{lesson}: {} finished at {ratio:.2}x the lower bound; the bar is {factor:.2}x. Look at \
         which worker was busy longest.\n{}",
        run.strategy,
        describe(run, scenario)
    );
}

/// One item's history, one event per line, for failure messages.
pub fn history(report: &RunReport, item: WorkItemId) -> String {
    report
        .events_of(item)
        .map(|event| format!("    {event}\n"))
        .collect()
}

/// When each attempt started on `worker`.
pub fn starts_on(report: &RunReport, worker: WorkerId) -> Vec<Duration> {
    report
        .events()
        .iter()
        .filter(|event| matches!(event.what, Happened::Started { worker: on, .. } if on == worker))
        .map(|event| event.at)
        .collect()
}

/// What happened to each submission to an intake.
#[derive(Debug, Clone, Default)]
pub struct IntakeRun {
    /// The items processed to the end, in the order they finished.
    pub finished: Vec<WorkItemId>,
    /// Each refused submission: the item and the error.
    pub refused: Vec<(WorkItemId, IntakeError)>,
    /// When each submission returned, per item.
    pub submitted_at: BTreeMap<WorkItemId, Duration>,
    /// The most items the intake ever held at once, sampled at every step.
    pub most_in_system: usize,
}

/// Submits each arrival to `intake` at its time (one producer, in order) while
/// `consumers` tasks take items and spend each job's work on it; closes the
/// intake after the last submission and returns when everything drained.
pub async fn drive_intake(
    intake: Arc<Intake<Job>>,
    arrivals: Vec<Arrival<Job>>,
    consumers: usize,
) -> IntakeRun {
    let mut tasks = JoinSet::new();
    for _ in 0..consumers {
        let intake = Arc::clone(&intake);
        tasks.spawn(async move {
            let mut finished = Vec::new();
            let mut most = 0;
            while let Some(job) = intake.take().await {
                most = most.max(intake.in_system());
                tokio::time::sleep(job.work()).await;
                intake.finish();
                finished.push((clock::elapsed(), job.id()));
            }
            (finished, most)
        });
    }
    let producer = async {
        let mut run = IntakeRun::default();
        let start = tokio::time::Instant::now();
        for arrival in arrivals {
            tokio::time::sleep_until(start + arrival.at).await;
            let id = arrival.item.id();
            if let Err(error) = intake.submit(arrival.item).await {
                run.refused.push((id, error));
            }
            run.submitted_at.insert(id, clock::elapsed());
            run.most_in_system = run.most_in_system.max(intake.in_system());
        }
        intake.close();
        run
    };
    tokio::pin!(producer);
    // A consumer that panics (a lock refused, a `todo!()`) fails the run at
    // once with its own message, instead of leaving the producer waiting
    // for room that never comes.
    let mut finished = Vec::new();
    let mut most_seen = 0;
    let mut absorb = |joined: Result<(Vec<(Duration, WorkItemId)>, usize), JoinError>| match joined
    {
        Ok((done, most)) => {
            finished.extend(done);
            most_seen = most_seen.max(most);
        }
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    };
    let mut run = loop {
        tokio::select! {
            biased;
            Some(joined) = tasks.join_next() => absorb(joined),
            run = &mut producer => break run,
        }
    };
    while let Some(joined) = tasks.join_next().await {
        absorb(joined);
    }
    run.most_in_system = run.most_in_system.max(most_seen);
    finished.sort();
    run.finished = finished.into_iter().map(|(_, id)| id).collect();
    run
}

/// A simple model of a queue served by an autoscaled pool, and what the
/// autoscaler did to it.
#[derive(Debug, Clone, Default)]
pub struct ScalingRun {
    /// Every change of the worker count.
    pub events: Vec<ScaleEvent>,
    /// The worker count decided at each tick.
    pub workers: Vec<(Duration, usize)>,
    /// The deepest the queue got.
    pub peak_depth: usize,
}

/// Drives `autoscaler` for `duration`, one decision per `tick`, starting with
/// `workers` workers. Each tick, `arrivals_per_second(now)` items per second
/// join the queue; the autoscaler sees the depth and decides; then each
/// worker serves `per_worker_per_second` items per second for the tick. The
/// model is fluid (fractions of items), which is all an autoscaler sees of a
/// queue, and new workers serve at once.
pub async fn drive_autoscaler(
    autoscaler: &mut Autoscaler,
    arrivals_per_second: impl Fn(Duration) -> f64,
    per_worker_per_second: f64,
    mut workers: usize,
    tick: Duration,
    duration: Duration,
) -> ScalingRun {
    let mut depth = 0.0_f64;
    let mut run = ScalingRun::default();
    let start = clock::elapsed();
    let seconds = tick.as_secs_f64();
    while clock::elapsed() - start < duration {
        tokio::time::sleep(tick).await;
        let now = clock::elapsed();
        depth += arrivals_per_second(now) * seconds;
        let queue_depth = depth.round() as usize;
        run.peak_depth = run.peak_depth.max(queue_depth);
        workers = autoscaler.decide(
            now,
            Observation {
                workers,
                queue_depth,
            },
        );
        run.workers.push((now, workers));
        depth = (depth - workers as f64 * per_worker_per_second * seconds).max(0.0);
    }
    run.events = autoscaler.events().to_vec();
    run
}

/// The items of `arrivals`, by id.
pub fn ids(arrivals: &[Arrival<Job>]) -> Vec<WorkItemId> {
    arrivals.iter().map(|arrival| arrival.item.id()).collect()
}

/// Runs `work(position)` on `threads` operating-system threads and returns
/// what each returned, in position order.
///
/// Real threads have no simulated clock to stop a hang, so this waits at
/// most `limit` of real time. A thread's panic fails the calling test with
/// that panic's own message.
///
/// # Panics
/// When a thread panics, or when the threads have not all finished within
/// `limit`: then with a message that names the calling test and the faults
/// that stop threads for good.
pub fn on_threads_within<R, F>(limit: Duration, threads: usize, work: F) -> Vec<R>
where
    R: Send + 'static,
    F: Fn(usize) -> R + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let (report, reports) = mpsc::channel();
    for position in 0..threads {
        let work = Arc::clone(&work);
        let report = report.clone();
        // Not joined: a thread that hangs must not hang the test with it.
        // The test process ends when its tests have, threads or not.
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(position)));
            let _ = report.send((position, outcome));
        });
    }
    drop(report);
    let deadline = std::time::Instant::now() + limit;
    let mut results: BTreeMap<usize, R> = BTreeMap::new();
    while results.len() < threads {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match reports.recv_timeout(left) {
            Ok((position, Ok(result))) => {
                results.insert(position, result);
            }
            Ok((_, Err(panic))) => std::panic::resume_unwind(panic),
            Err(_) => {
                let test = std::thread::current()
                    .name()
                    .unwrap_or("this test")
                    .to_string();
                panic!(
                    "probable deadlock or livelock in {test}: {} of {threads} threads had not \
                     finished after {limit:?} of real time. Threads stop for good on a lock \
                     held across a wait, on two locks taken in different orders, on a wake-up \
                     that never comes, or in a loop that never sees its exit condition.",
                    threads - results.len()
                );
            }
        }
    }
    results.into_values().collect()
}
