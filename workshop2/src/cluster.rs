//! The runtime: items arrive, are placed, queue, run, and are accounted for.
//!
//! A [`Cluster`] is a pool of workers, each with its own queue. A run feeds it
//! a stream of [`Arrival`]s: at each arrival time the item is submitted to the
//! tracker, the [`Placement`] picks a worker among those in rotation, and the
//! item joins that worker's queue. One consumer task per worker takes items
//! from [`WorkerQueues::next`] and runs them. A failed attempt that may be
//! retried is placed again (maybe elsewhere); a permanent failure is
//! dead-lettered. Nothing is dropped: every run ends with every item final.
//!
//! With [`HealthChecks`], a checker probes every worker each period and feeds
//! the result to that worker's [`CircuitBreaker`] (exercise 2.5): a worker is
//! in rotation while its breaker is closed. When no worker is in rotation,
//! placement falls back to all of them, like Envoy's panic threshold: sending
//! work somewhere beats sending it nowhere.
//!
//! Design: one consumer task per worker on tokio's current-thread runtime,
//! the run's state (the tracker included) behind one std mutex never held
//! across an `.await`, the queues behind their own, and a
//! [`Notify`] that wakes idle consumers to look again (for a new item, or for
//! something to steal). Every choice that could vary
//! is seeded or ordered, so a seed replays a run event for event.
//!
//! Left out: network delay between dispatcher and workers, and queues with
//! limits (exercise 2.4 puts a bound in front of the whole cluster instead).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::metrics::LoadBalance;
use coordination::sim::clock;
use coordination::wait::{self, Check};
use coordination::{
    ConfigError, DeadLetterReason, DistributeError, InMemoryWorkTracker, RunReport, Seed, SimRng,
    WorkDistributor, WorkItem, WorkTracker, Worker, WorkerId, Workers, async_trait,
};
use tokio::sync::Notify;
use tokio::task::{JoinError, JoinSet};

use crate::{
    Arrival, BreakerSettings, Candidate, CircuitBreaker, FifoQueues, Placement, WorkerQueues,
};

/// Active health checks: probe every worker each period, keep a worker in
/// rotation while its breaker (fed by the probes) is closed.
#[derive(Clone)]
pub struct HealthChecks {
    /// Time between two probes of a worker (Kubernetes' `periodSeconds`).
    period: Duration,
    /// The breaker each worker's probes feed; checked to be valid.
    breaker: BreakerSettings,
    /// Whether a worker answers its probe at a moment (since the run began).
    probe: Arc<dyn Fn(WorkerId, Duration) -> bool + Send + Sync>,
}

impl HealthChecks {
    /// Probe every `period` with `probe`, feeding one breaker per worker.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] for a zero period (probing without
    /// pause), or whatever [`CircuitBreaker::new`] refuses in `breaker`.
    pub fn new(
        period: Duration,
        breaker: BreakerSettings,
        probe: impl Fn(WorkerId, Duration) -> bool + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        if period.is_zero() {
            return Err(ConfigError::ZeroDuration {
                setting: "health check period",
            });
        }
        CircuitBreaker::new(breaker)?;
        Ok(Self {
            period,
            breaker,
            probe: Arc::new(probe),
        })
    }
}

/// A worker left or rejoined the rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationChange {
    /// When, since the run began.
    pub at: Duration,
    /// Who.
    pub worker: WorkerId,
    /// Whether it is in rotation from now on.
    pub in_rotation: bool,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct ClusterRun {
    /// The placement strategy's name.
    pub strategy: &'static str,
    /// Every item's outcome and history.
    pub report: RunReport,
    /// Makespan, busy time per worker, queue latency and steals.
    pub balance: LoadBalance,
    /// How many items the placement put on each worker (retries included).
    pub placed: BTreeMap<WorkerId, usize>,
    /// Every change of rotation, in order.
    pub rotation: Vec<RotationChange>,
}

/// A pool of workers with one queue each.
pub struct Cluster<I: WorkItem> {
    /// The workers; their order gives the queue positions.
    workers: Workers<I>,
    /// Seeds placement and stealing.
    seed: Seed,
    /// Probing, if any.
    health: Option<HealthChecks>,
}

impl<I: WorkItem> Cluster<I> {
    /// A cluster of `workers` whose random choices come from `seed`.
    pub fn new(workers: Workers<I>, seed: Seed) -> Self {
        Self {
            workers,
            seed,
            health: None,
        }
    }

    /// The same cluster, probing its workers as `checks` says.
    pub fn with_health_checks(mut self, checks: HealthChecks) -> Self {
        self.health = Some(checks);
        self
    }

    /// How many workers there are.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Always `false`: a cluster has at least one worker.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The worker ids, in pool order.
    pub fn ids(&self) -> Vec<WorkerId> {
        self.workers.iter().map(|worker| worker.id()).collect()
    }

    /// Runs `arrivals` (each at its time, since now) with `placement` over
    /// queues of kind `Q`, until every item is final.
    ///
    /// A run is a run of its own: it restarts the simulated clock's epoch, so
    /// its report, its arrivals and any outages all read from zero, however
    /// many runs came before it in the same simulation.
    ///
    /// # Errors
    /// [`DistributeError::DuplicateItem`] when two items share an id; nothing
    /// runs then.
    pub async fn run<P: Placement, Q: WorkerQueues<I>>(
        &self,
        placement: P,
        mut arrivals: Vec<Arrival<I>>,
    ) -> Result<ClusterRun, DistributeError> {
        let mut ids = BTreeSet::new();
        for arrival in &arrivals {
            if !ids.insert(arrival.item.id()) {
                return Err(DistributeError::DuplicateItem(arrival.item.id()));
            }
        }
        // Stable: items arriving at the same moment keep the caller's order.
        arrivals.sort_by_key(|arrival| arrival.at);
        let strategy = placement.name();
        clock::restart();
        let shared = Arc::new(Shared {
            queues: Q::for_workers(self.workers.len()),
            ids: self.ids(),
            changes: Notify::new(),
            state: Mutex::new(State {
                tracker: InMemoryWorkTracker::new(),
                placement: Box::new(placement),
                rng: self.seed.derive(PLACEMENT_STREAM).rng(),
                running: vec![false; self.workers.len()],
                in_rotation: vec![true; self.workers.len()],
                placed: vec![0; self.workers.len()],
                unsettled: arrivals.len(),
                rotation: Vec::new(),
            }),
        });

        let mut consumers = JoinSet::new();
        for (position, worker) in self.workers.iter().enumerate() {
            let rng = self.seed.derive(STEAL_STREAM ^ position as u64).rng();
            consumers.spawn(consume(
                Arc::clone(&shared),
                position,
                Arc::clone(worker),
                rng,
            ));
        }
        let mut checker = JoinSet::new();
        if let Some(checks) = self.health.clone() {
            checker.spawn(check_health(Arc::clone(&shared), checks));
        }

        let start = tokio::time::Instant::now();
        for arrival in arrivals {
            tokio::time::sleep_until(start + arrival.at).await;
            shared
                .lock()
                .tracker
                .submit(arrival.item.id())
                .expect("ids were checked to be unique and the tracker is new");
            shared.place(arrival.item);
            shared.changed();
        }
        while let Some(joined) = consumers.join_next().await {
            reraise_panic(joined);
        }
        // The checker has nothing left to protect; stop it rather than let
        // it probe forever.
        checker.shutdown().await;

        let mut state = shared.lock();
        // Every consumer has returned, so the tracker's records can be taken
        // rather than copied.
        let report = std::mem::take(&mut state.tracker).into_report();
        let balance = LoadBalance::of(&report, shared.ids.iter().copied())
            .with_steals(shared.queues.steals());
        Ok(ClusterRun {
            strategy,
            balance,
            placed: shared
                .ids
                .iter()
                .copied()
                .zip(state.placed.iter().copied())
                .collect(),
            rotation: state.rotation.clone(),
            report,
        })
    }
}

/// Per-worker FIFO queues with a placement strategy: the distributor of
/// exercises 2.1 and 2.2.
pub struct QueueDistributor<I: WorkItem, P> {
    /// Where the items run.
    cluster: Cluster<I>,
    /// The strategy; each run starts from a fresh copy of it.
    placement: P,
}

impl<I: WorkItem, P: Placement + Clone> QueueDistributor<I, P> {
    /// A distributor that places items on `cluster` with `placement`.
    pub fn new(cluster: Cluster<I>, placement: P) -> Self {
        Self { cluster, placement }
    }

    /// Runs `arrivals`, each at its time.
    ///
    /// # Errors
    /// As [`Cluster::run`].
    pub async fn run(&self, arrivals: Vec<Arrival<I>>) -> Result<ClusterRun, DistributeError> {
        self.cluster
            .run::<P, FifoQueues<I>>(self.placement.clone(), arrivals)
            .await
    }
}

#[async_trait]
impl<I: WorkItem, P: Placement + Clone + Sync> WorkDistributor<I> for QueueDistributor<I, P> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        Ok(self.run(Arrival::all_at_once(items)).await?.report)
    }
}

/// Names the stream of a run's seed that placement draws from.
const PLACEMENT_STREAM: u64 = 0x91AC;
/// Names the streams of a run's seed that stealing workers draw from.
const STEAL_STREAM: u64 = 0x57EA_1000;

/// What every task of a run shares.
struct Shared<Q> {
    /// The per-worker queues.
    queues: Q,
    /// Worker ids by position.
    ids: Vec<WorkerId>,
    /// Wakes idle consumers to look again. A `Notify`, not a `watch`
    /// channel: tokio's `watch` spreads its waiters over several lists chosen
    /// at random, so the order in which simultaneous waiters wake would
    /// change from run to run; a `Notify` wakes them in a fixed order.
    changes: Notify,
    /// Everything else; locked before any queue, never the other way round.
    state: Mutex<State>,
}

struct State {
    /// Every item's lifecycle and history.
    tracker: InMemoryWorkTracker,
    /// The strategy, and the generator it draws from.
    placement: Box<dyn Placement>,
    rng: SimRng,
    /// Whether each worker is running an item now.
    running: Vec<bool>,
    /// Whether each worker is in rotation.
    in_rotation: Vec<bool>,
    /// Items placed on each worker.
    placed: Vec<usize>,
    /// Items not yet final; the run ends at zero.
    unsettled: usize,
    /// Every change of rotation.
    rotation: Vec<RotationChange>,
}

impl<Q> Shared<Q> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held is re-raised by the run; the state
        // it left is only read to report.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.notify_waiters();
    }

    fn is_done(&self) -> bool {
        self.lock().unsettled == 0
    }

    /// Asks the placement for a worker and queues `item` there.
    fn place<I: WorkItem>(&self, item: I)
    where
        Q: WorkerQueues<I>,
    {
        let mut state = self.lock();
        let State {
            placement,
            rng,
            running,
            in_rotation,
            placed,
            ..
        } = &mut *state;
        let everyone = !in_rotation.contains(&true);
        let candidates: Vec<Candidate> = (0..self.ids.len())
            .filter(|&position| everyone || in_rotation[position])
            .map(|position| Candidate {
                worker: self.ids[position],
                outstanding: self.queues.queued(position) + usize::from(running[position]),
            })
            .collect();
        let chosen = placement.place(item.id(), &candidates, rng);
        let Some(position) = self
            .ids
            .iter()
            .position(|&worker| worker == chosen)
            .filter(|_| {
                candidates
                    .iter()
                    .any(|candidate| candidate.worker == chosen)
            })
        else {
            panic!(
                "placement {:?} chose {chosen} for {}, but the candidates were {:?}: return \
                 the `worker` of one of the candidates",
                placement.name(),
                item.id(),
                candidates
                    .iter()
                    .map(|candidate| candidate.worker.to_string())
                    .collect::<Vec<_>>()
            );
        };
        placed[position] += 1;
        tracing::debug!("{} placed on {chosen}", item.id());
        self.queues.push(position, item);
    }

    /// Runs one attempt of `item` on the worker at `position`.
    async fn run_one<I: WorkItem>(&self, position: usize, worker: &dyn Worker<I>, item: I)
    where
        Q: WorkerQueues<I>,
    {
        let id = item.id();
        let claim = {
            let mut state = self.lock();
            state.running[position] = true;
            state.tracker.start(id, worker.id()).expect(
                "a queued item is pending: it was submitted or retried before it was queued",
            )
        };
        let result = worker.process(&item).await;
        let retry = {
            let mut state = self.lock();
            state.running[position] = false;
            match result {
                Ok(()) => {
                    state
                        .tracker
                        .succeed(id, claim.receipt)
                        .expect("nobody else holds this attempt");
                    state.unsettled -= 1;
                    None
                }
                Err(error) => {
                    let retryable = error.is_retryable();
                    state
                        .tracker
                        .fail(id, claim.receipt, error)
                        .expect("nobody else holds this attempt");
                    if retryable {
                        state
                            .tracker
                            .retry(id, Duration::ZERO)
                            .expect("the item failed just above");
                        Some(item)
                    } else {
                        state
                            .tracker
                            .dead_letter(id, DeadLetterReason::PermanentFailure)
                            .expect("the item failed just above");
                        state.unsettled -= 1;
                        None
                    }
                }
            }
        };
        // Placing takes the lock again, so the item is placed after it is
        // released.
        if let Some(item) = retry {
            self.place(item);
        }
        self.changed();
    }

    fn set_rotation(&self, position: usize, in_rotation: bool) {
        let mut state = self.lock();
        if state.in_rotation[position] != in_rotation {
            state.in_rotation[position] = in_rotation;
            let change = RotationChange {
                at: clock::elapsed(),
                worker: self.ids[position],
                in_rotation,
            };
            tracing::info!(
                "{} {} the rotation",
                change.worker,
                if in_rotation { "rejoins" } else { "leaves" }
            );
            state.rotation.push(change);
        }
    }
}

/// One worker's loop: run the next item, or wait for a change, until every
/// item is final.
async fn consume<I: WorkItem, Q: WorkerQueues<I>>(
    shared: Arc<Shared<Q>>,
    position: usize,
    worker: Arc<dyn Worker<I>>,
    mut rng: SimRng,
) {
    loop {
        let next = wait::wait_for(&shared.changes, || {
            if shared.is_done() {
                return Check::Ready(None);
            }
            Check::from(shared.queues.next(position, &mut rng).map(Some))
        })
        .await;
        let Some(item) = next else {
            return;
        };
        shared.run_one(position, worker.as_ref(), item).await;
    }
}

/// Probes every worker each period and keeps the rotation in step with the
/// breakers.
async fn check_health<I: WorkItem, Q: WorkerQueues<I>>(
    shared: Arc<Shared<Q>>,
    checks: HealthChecks,
) {
    let mut breakers: Vec<CircuitBreaker> = shared
        .ids
        .iter()
        .map(|_| CircuitBreaker::new(checks.breaker))
        .collect::<Result<_, _>>()
        .expect("HealthChecks::new checked that CircuitBreaker::new accepts these settings");
    loop {
        tokio::time::sleep(checks.period).await;
        let now = clock::elapsed();
        for (position, breaker) in breakers.iter_mut().enumerate() {
            // An open breaker refuses the probe until its wait is over; then
            // the probe is the trial call of the half-open state.
            if breaker.try_call(now).is_ok() {
                breaker.record(now, (checks.probe)(shared.ids[position], now));
            }
            shared.set_rotation(position, breaker.is_closed());
        }
        shared.changed();
    }
}

/// A consumer that panicked takes the run down with it: the panic is the
/// message a learner needs to see (often a `todo!()` naming the exercise).
fn reraise_panic(result: Result<(), JoinError>) {
    if let Err(error) = result
        && error.is_panic()
    {
        std::panic::resume_unwind(error.into_panic());
    }
}
