//! Seeded streams of jobs: uniform, heavy-tailed, and one giant.
//!
//! How well a placement strategy does depends on the work more than on
//! anything else. Three shapes cover the cases that matter:
//!
//! | workload       | job sizes                                     | what it shows |
//! |----------------|-----------------------------------------------|---------------|
//! | `Uniform`      | 10 to 30 ms, evenly                           | counting items is a fair proxy for work |
//! | `HeavyTailed`  | bounded Pareto, α = 1.5, 10 to 200 ms         | a few jobs carry much of the work; counts lie |
//! | `OneGiant`     | uniform, plus one job a quarter of the total  | no strategy beats the longest job |
//!
//! Heavy tails are the normal case in real systems: file sizes, request
//! costs and job run times are all observed to follow them (M. Crovella and
//! A. Bestavros, "Self-Similarity in World Wide Web Traffic", 1997; M.
//! Harchol-Balter, "Performance Modeling and Design of Computer Systems",
//! 2013, which uses the bounded Pareto as its model of job sizes).
//!
//! Jobs arrive as a Poisson stream whose rate is a chosen fraction of the
//! fleet's capacity (its summed speeds): at 80% utilisation a perfect
//! scheduler keeps up with a little room to spare, and a bad one falls
//! behind. Or they arrive all at once, as a batch.
//!
//! Left out: bursts and diurnal patterns. The auto-scaling exercise drives
//! its own load.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use coordination::metrics::TimedWork;
use coordination::{Probability, Seed};
use rand::RngExt;

use crate::{Arrival, Job};

/// The shape of a stream of jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Sizes evenly between 10 and 30 ms.
    Uniform,
    /// Sizes from a bounded Pareto distribution, shape 1.5, 10 to 200 ms.
    HeavyTailed,
    /// Uniform sizes, plus one job (at a random position) as long as a
    /// quarter of all the others together.
    OneGiant,
}

/// How jobs arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// All at the start of the run, as one batch.
    AllAtOnce,
    /// A Poisson stream offering `utilisation` of the fleet's `capacity`
    /// (the sum of its machines' speeds).
    Steady {
        /// The fraction of capacity offered.
        utilisation: Probability,
        /// The fleet's summed speed factors.
        capacity: f64,
    },
}

/// Smallest heavy-tailed job.
const PARETO_MIN: Duration = Duration::from_millis(10);
/// Largest heavy-tailed job: twenty times the smallest.
const PARETO_MAX: Duration = Duration::from_millis(200);
/// The Pareto shape: below 2 the variance is infinite, the classic heavy tail.
const PARETO_SHAPE: f64 = 1.5;
/// Uniform job sizes.
const UNIFORM_MILLIS: std::ops::RangeInclusive<u64> = 10..=30;

impl Workload {
    /// Every workload, in the order demos list them.
    pub const ALL: [Workload; 3] = [Self::Uniform, Self::HeavyTailed, Self::OneGiant];

    /// `count` jobs, ids `1..=count`, arriving at `pace`, all drawn from
    /// `seed`: the same seed gives the same jobs at the same moments.
    pub fn arrivals(self, count: usize, pace: Pace, seed: Seed) -> Vec<Arrival<Job>> {
        let mut sizes = seed.derive(SIZE_STREAM).rng();
        let mut works: Vec<Duration> = (0..count).map(|_| self.draw(&mut sizes)).collect();
        if self == Self::OneGiant && !works.is_empty() {
            let giant = sizes.random_range(0..works.len());
            works[giant] = works.iter().sum::<Duration>() / 4;
        }
        let mut gaps = seed.derive(ARRIVAL_STREAM).rng();
        let mut at = Duration::ZERO;
        (1..)
            .zip(works)
            .map(|(id, work)| {
                let arrival = Arrival {
                    at,
                    item: Job::new(id, work),
                };
                if let Pace::Steady {
                    utilisation,
                    capacity,
                } = pace
                {
                    at += self.gap(utilisation.get() * capacity, &mut gaps);
                }
                arrival
            })
            .collect()
    }

    /// The expected size of one job (for the giant workload, of the ordinary
    /// ones).
    pub fn mean_work(self) -> Duration {
        match self {
            Self::Uniform | Self::OneGiant => {
                Duration::from_millis((UNIFORM_MILLIS.start() + UNIFORM_MILLIS.end()) / 2)
            }
            Self::HeavyTailed => {
                let (low, high) = (PARETO_MIN.as_secs_f64(), PARETO_MAX.as_secs_f64());
                let alpha = PARETO_SHAPE;
                let mean = low.powf(alpha) / (1.0 - (low / high).powf(alpha))
                    * (alpha / (alpha - 1.0))
                    * (low.powf(1.0 - alpha) - high.powf(1.0 - alpha));
                Duration::from_secs_f64(mean)
            }
        }
    }

    fn draw(self, rng: &mut coordination::SimRng) -> Duration {
        match self {
            Self::Uniform | Self::OneGiant => {
                Duration::from_millis(rng.random_range(UNIFORM_MILLIS))
            }
            Self::HeavyTailed => {
                // Inverse of the bounded Pareto's distribution function.
                let (low, high) = (PARETO_MIN.as_secs_f64(), PARETO_MAX.as_secs_f64());
                let uniform: f64 = rng.random();
                let tail = 1.0 - uniform * (1.0 - (low / high).powf(PARETO_SHAPE));
                Duration::from_secs_f64((low / tail.powf(1.0 / PARETO_SHAPE)).min(high))
            }
        }
    }

    /// The time to the next arrival of a Poisson stream that brings
    /// `work_per_second` seconds of speed-1 work per second.
    fn gap(self, work_per_second: f64, rng: &mut coordination::SimRng) -> Duration {
        let jobs_per_second = work_per_second / self.mean_work().as_secs_f64();
        if !(jobs_per_second.is_finite() && jobs_per_second > 0.0) {
            return Duration::ZERO;
        }
        let uniform: f64 = rng.random();
        Duration::try_from_secs_f64(-(1.0 - uniform).ln() / jobs_per_second)
            .unwrap_or(Duration::ZERO)
    }
}

/// The arrivals as the makespan lower bound wants them.
pub fn timed_work(arrivals: &[Arrival<Job>]) -> Vec<TimedWork> {
    arrivals
        .iter()
        .map(|arrival| TimedWork {
            arrives_at: arrival.at,
            work: arrival.item.work(),
        })
        .collect()
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Uniform => "uniform",
            Self::HeavyTailed => "heavy-tailed",
            Self::OneGiant => "one-giant",
        })
    }
}

/// A workload name that is not one of `uniform`, `heavy-tailed`, `one-giant`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown workload {0:?}; choose uniform, heavy-tailed or one-giant")]
pub struct UnknownWorkload(pub String);

impl FromStr for Workload {
    type Err = UnknownWorkload;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|workload| workload.to_string() == text)
            .ok_or_else(|| UnknownWorkload(text.to_string()))
    }
}

/// Names the stream of a run's seed that draws job sizes.
const SIZE_STREAM: u64 = 0x5123;
/// Names the stream of a run's seed that draws arrival gaps.
const ARRIVAL_STREAM: u64 = 0xA441;
