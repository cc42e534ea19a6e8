//! Machines of different speeds, and the fleet they form.
//!
//! A real fleet is never uniform: an older instance type, a noisy neighbour
//! stealing CPU, a node throttled for heat. Each [`Machine`] has a speed
//! factor: 1.0 is a normal machine, 0.25 one that takes four times as long for
//! the same job. A machine can also be scheduled to go down for a while (an
//! outage): during it every job fails at once with "connection refused", and
//! its health checks fail, until it comes back.
//!
//! The slowdown is core's [`FaultInjector`] (a speed of 0.25 is a slowdown of
//! 4), so a machine fails and slows the way every simulated worker in the
//! series does.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use coordination::sim::{FaultInjector, FaultPlan, clock};
use coordination::{
    ConfigError, Probability, Seed, WorkError, WorkItem, Worker, WorkerId, Workers, async_trait,
};

use crate::{Job, Pace};

/// How long a machine that is down takes to refuse a job.
const REFUSAL: Duration = Duration::from_millis(1);

/// A simulated machine that renders jobs at its speed.
pub struct Machine {
    /// Unique in its fleet.
    id: WorkerId,
    /// 1.0 normal, 0.25 a quarter of normal.
    speed: f64,
    /// Applies the slowdown `1 / speed` to every job.
    faults: FaultInjector,
    /// When the machine is down, since the run began.
    outages: Vec<Range<Duration>>,
}

impl Machine {
    /// The machine's speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Whether the machine is up at `at` (since the run began).
    pub fn is_up_at(&self, at: Duration) -> bool {
        !self.outages.iter().any(|outage| outage.contains(&at))
    }
}

#[async_trait]
impl Worker<Job> for Machine {
    fn id(&self) -> WorkerId {
        self.id
    }

    async fn process(&self, job: &Job) -> Result<(), WorkError> {
        if !self.is_up_at(clock::elapsed()) {
            tokio::time::sleep(REFUSAL).await;
            return Err(WorkError::transient(format!(
                "{} refused the connection",
                self.id
            )));
        }
        self.faults.perform(job.id(), job.work()).await
    }
}

/// The description of a set of machines with ids 1, 2, 3, … in the order of
/// their speeds. Each call to [`workers`](Self::workers) builds fresh
/// machines from it, so two runs of one fleet behave the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Per machine, in id order: its speed and its outages.
    machines: Vec<(f64, Vec<Range<Duration>>)>,
    /// Where the machines' randomness comes from.
    seed: Seed,
}

impl Fleet {
    /// One machine per speed factor, ids from 1, all drawing any randomness
    /// from `seed`.
    ///
    /// # Errors
    /// [`ConfigError::NoWorkers`] for no speeds;
    /// [`ConfigError::FactorBelowOne`] for a speed that is not above 0 and at
    /// most 1 (its slowdown, `1 / speed`, would be below 1 or infinite).
    pub fn new(speeds: &[f64], seed: Seed) -> Result<Self, ConfigError> {
        if speeds.is_empty() {
            return Err(ConfigError::NoWorkers);
        }
        for &speed in speeds {
            FaultPlan::NONE.with_slowdown(1.0 / speed)?;
        }
        Ok(Self {
            machines: speeds.iter().map(|&speed| (speed, Vec::new())).collect(),
            seed,
        })
    }

    /// The same fleet, with machine `worker` down from `outage.start` until
    /// `outage.end`. An id that is not in the fleet changes nothing.
    pub fn with_outage(mut self, worker: WorkerId, outage: Range<Duration>) -> Self {
        if let Some((_, outages)) = (worker.get() as usize)
            .checked_sub(1)
            .and_then(|index| self.machines.get_mut(index))
        {
            outages.push(outage);
        }
        self
    }

    /// Fresh machines, as a pool for a distributor.
    pub fn workers(&self) -> Workers<Job> {
        Workers::new(
            self.machines()
                .into_iter()
                .map(|machine| Arc::new(machine) as Arc<dyn Worker<Job>>)
                .collect(),
        )
        .expect("a fleet has at least one machine and numbers them uniquely")
    }

    /// Fresh machines, in id order.
    pub fn machines(&self) -> Vec<Machine> {
        (1..)
            .zip(&self.machines)
            .map(|(raw, (speed, outages))| {
                let id = WorkerId::new(raw);
                let plan = FaultPlan::NONE
                    .with_slowdown(1.0 / speed)
                    .expect("Fleet::new checked every speed");
                Machine {
                    id,
                    speed: *speed,
                    faults: FaultInjector::new(plan, self.seed, id),
                    outages: outages.clone(),
                }
            })
            .collect()
    }

    /// The speed factors, in id order.
    pub fn speeds(&self) -> Vec<f64> {
        self.machines.iter().map(|(speed, _)| *speed).collect()
    }

    /// The summed speed factors: how many normal machines the fleet is worth.
    pub fn capacity(&self) -> f64 {
        self.speeds().iter().sum()
    }

    /// The machine ids, in order.
    pub fn ids(&self) -> Vec<WorkerId> {
        (1..=self.machines.len() as u32)
            .map(WorkerId::new)
            .collect()
    }

    /// Whether machine `worker` is up at `at`; an unknown id is down.
    pub fn is_up(&self, worker: WorkerId, at: Duration) -> bool {
        (worker.get() as usize)
            .checked_sub(1)
            .and_then(|index| self.machines.get(index))
            .is_some_and(|(_, outages)| !outages.iter().any(|outage| outage.contains(&at)))
    }

    /// The pace of a steady stream offering `utilisation` of this fleet's
    /// capacity.
    pub fn pace(&self, utilisation: Probability) -> Pace {
        Pace::Steady {
            utilisation,
            capacity: self.capacity(),
        }
    }
}
