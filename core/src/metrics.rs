//! Numbers that summarise a run.
//!
//! Averages hide the thing that hurts: the one request that waited ten times
//! longer than the rest. Latencies are reported as percentiles, computed by the
//! nearest-rank method on the sorted samples, so every reported value is a
//! value that really occurred.
//!
//! Where work went is judged against the physics of the pool rather than
//! against another strategy:
//!
//! - the **makespan** (when the last item finished) against its **lower
//!   bound** ([`makespan_lower_bound`]), the best any scheduler could do, so
//!   "1.07x" means "7% above perfect", whatever the workload;
//! - **Jain's fairness index** ([`jain_index`]) over per-worker busy time: 1
//!   when every worker was busy equally long, `1/n` when one did everything;
//! - **queue latency** (from arrival to the start of the first attempt) as
//!   percentiles, and **steals** (how often an idle worker took work from
//!   another), gathered in a [`LoadBalance`].
//!
//! Left out: confidence intervals. A seed sweep shows the spread instead.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{Happened, RunReport, WorkItemId, WorkerId};

/// The 50th, 99th and 100th percentile of a set of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    /// Half the samples are at or below this.
    pub p50: Duration,
    /// 99% of the samples are at or below this.
    pub p99: Duration,
    /// The largest sample.
    pub max: Duration,
    /// How many samples there were.
    pub count: usize,
}

impl Percentiles {
    /// Summarises `samples`; all zero when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self {
            p50: nearest_rank(&samples, 50),
            p99: nearest_rank(&samples, 99),
            max: samples.last().copied().unwrap_or_default(),
            count: samples.len(),
        }
    }
}

/// The smallest sample with at least `percent`% of the samples at or below it.
fn nearest_rank(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Jain's fairness index of `values`: `(Σx)² / (n · Σx²)`.
///
/// 1.0 when all values are equal, `1/n` when one value holds everything (R.
/// Jain, D. Chiu, W. Hawe, "A Quantitative Measure of Fairness and
/// Discrimination for Resource Allocation in Shared Computer Systems", DEC
/// TR-301, 1984). No values, or only zeros, count as perfectly fair: nobody
/// got less than anyone else.
pub fn jain_index(values: &[f64]) -> f64 {
    let sum: f64 = values.iter().sum();
    let sum_of_squares: f64 = values.iter().map(|value| value * value).sum();
    if values.is_empty() || sum_of_squares == 0.0 {
        return 1.0;
    }
    sum * sum / (values.len() as f64 * sum_of_squares)
}

/// One item as the lower bound sees it: when it arrives and how long it takes
/// a worker of speed 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedWork {
    /// When the item arrives, since the run began.
    pub arrives_at: Duration,
    /// How long it takes on a worker of speed 1.
    pub work: Duration,
}

/// The shortest makespan any scheduler could reach for `items` on workers of
/// the given `speeds` (1.0 is normal, 0.25 a quarter of it), even one that knew
/// the future and could split items across workers.
///
/// For a batch that arrives at once this is the classic
/// `max(total work / capacity, longest item / fastest speed)`: the pool
/// cannot chew faster than its total speed, and no item runs faster than on
/// the fastest worker. With equal workers of speed 1 that is
/// `max(total work / workers, longest item)`. When items arrive over time,
/// two more facts hold: whatever arrives at or after `t` cannot finish before
/// `t + (that work / capacity)`, and an item cannot finish before it arrives
/// plus its time on the fastest worker. The bound is the largest of all these.
///
/// Speeds that are not positive and finite add no capacity; with no usable
/// speed at all nothing can ever finish, and the bound is `Duration::MAX`.
pub fn makespan_lower_bound(items: &[TimedWork], speeds: &[f64]) -> Duration {
    let usable: Vec<f64> = speeds
        .iter()
        .copied()
        .filter(|speed| speed.is_finite() && *speed > 0.0)
        .collect();
    let capacity: f64 = usable.iter().sum();
    let fastest = usable.iter().copied().fold(0.0, f64::max);
    if capacity == 0.0 {
        return Duration::MAX;
    }
    let mut by_arrival = items.to_vec();
    by_arrival.sort_by_key(|item| item.arrives_at);
    let mut remaining: f64 = by_arrival.iter().map(|item| item.work.as_secs_f64()).sum();
    let mut bound: f64 = 0.0;
    for item in &by_arrival {
        let arrives = item.arrives_at.as_secs_f64();
        bound = bound
            .max(arrives + remaining / capacity)
            .max(arrives + item.work.as_secs_f64() / fastest);
        remaining -= item.work.as_secs_f64();
    }
    Duration::try_from_secs_f64(bound).unwrap_or(Duration::MAX)
}

/// What one worker did in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkerShare {
    /// Attempts it ran to an end, successful or not.
    pub attempts: usize,
    /// Time it spent running them.
    pub busy: Duration,
}

/// How evenly a run spread its work, and how close it came to the best
/// possible.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadBalance {
    /// When the last item reached a final state, since the run began.
    pub makespan: Duration,
    /// Per worker, sorted by id; a worker that ran nothing is listed with
    /// zeros, because its idleness is part of the story.
    pub per_worker: BTreeMap<WorkerId, WorkerShare>,
    /// From arrival to the start of the first attempt, over every item that
    /// started.
    pub queue_latency: Percentiles,
    /// How many times an idle worker took work from another's queue.
    pub steals: u64,
}

impl LoadBalance {
    /// Reads the balance off a run's history. `workers` lists the whole pool,
    /// so that a worker that never ran anything still counts in the fairness
    /// index. Steals are not tracker events; add them with
    /// [`with_steals`](Self::with_steals).
    pub fn of(report: &RunReport, workers: impl IntoIterator<Item = WorkerId>) -> Self {
        let mut per_worker: BTreeMap<WorkerId, WorkerShare> = workers
            .into_iter()
            .map(|worker| (worker, WorkerShare::default()))
            .collect();
        let mut running: BTreeMap<WorkItemId, (WorkerId, Duration)> = BTreeMap::new();
        let mut first_start: BTreeMap<WorkItemId, Duration> = BTreeMap::new();
        for event in report.events() {
            match &event.what {
                Happened::Started { worker, .. } => {
                    running.insert(event.item, (*worker, event.at));
                    first_start.entry(event.item).or_insert(event.at);
                }
                Happened::Succeeded { .. } | Happened::Failed { .. } => {
                    if let Some((worker, started)) = running.remove(&event.item) {
                        let share = per_worker.entry(worker).or_default();
                        share.attempts += 1;
                        share.busy += event.at.saturating_sub(started);
                    }
                }
                _ => {}
            }
        }
        let queue_latency = Percentiles::of(
            report
                .items()
                .filter_map(|item| {
                    let started = first_start.get(&item.id)?;
                    Some(started.saturating_sub(item.submitted_at))
                })
                .collect(),
        );
        let makespan = report
            .items()
            .filter_map(|item| item.finished_at)
            .max()
            .unwrap_or_default();
        Self {
            makespan,
            per_worker,
            queue_latency,
            steals: 0,
        }
    }

    /// The same balance with `steals` recorded.
    pub fn with_steals(self, steals: u64) -> Self {
        Self { steals, ..self }
    }

    /// Jain's fairness index over per-worker busy time.
    pub fn fairness(&self) -> f64 {
        let busy: Vec<f64> = self
            .per_worker
            .values()
            .map(|share| share.busy.as_secs_f64())
            .collect();
        jain_index(&busy)
    }

    /// The makespan as a multiple of `lower_bound`: 1.0 is perfect. A zero
    /// bound (nothing to do) gives 1.0.
    pub fn ratio_to(&self, lower_bound: Duration) -> f64 {
        if lower_bound.is_zero() {
            return 1.0;
        }
        self.makespan.as_secs_f64() / lower_bound.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    /// Nearest rank picks real samples: p50 of 1..=100 ms is 50 ms, p99 is 99 ms.
    #[test]
    fn percentiles_of_one_to_a_hundred_are_real_samples() {
        let summary = Percentiles::of(millis(&(1..=100).collect::<Vec<_>>()));
        assert_eq!(summary.p50, Duration::from_millis(50));
        assert_eq!(summary.p99, Duration::from_millis(99));
        assert_eq!(summary.max, Duration::from_millis(100));
        assert_eq!(summary.count, 100);
    }

    /// A single slow sample shows up in p99 and max but not in p50.
    #[test]
    fn one_outlier_moves_the_tail_not_the_median() {
        let mut samples = millis(&[10; 99]);
        samples.push(Duration::from_secs(5));
        let summary = Percentiles::of(samples);
        assert_eq!(summary.p50, Duration::from_millis(10));
        assert_eq!(summary.max, Duration::from_secs(5));
    }

    /// No samples is not an error: everything is zero.
    #[test]
    fn no_samples_summarise_to_zero() {
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }

    /// Jain's index: equal shares are perfectly fair, one worker doing
    /// everything scores 1/n, and nothing at all counts as fair.
    #[test]
    fn jain_index_runs_from_one_over_n_to_one() {
        assert!((jain_index(&[3.0, 3.0, 3.0, 3.0]) - 1.0).abs() < 1e-12);
        assert!((jain_index(&[5.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
        assert!((jain_index(&[1.0, 2.0]) - 0.9).abs() < 1e-12);
        assert_eq!(jain_index(&[]), 1.0);
        assert_eq!(jain_index(&[0.0, 0.0]), 1.0);
    }

    fn at_once(works: &[u64]) -> Vec<TimedWork> {
        works
            .iter()
            .map(|&work| TimedWork {
                arrives_at: Duration::ZERO,
                work: Duration::from_millis(work),
            })
            .collect()
    }

    /// A batch on equal workers: `max(total / workers, longest)`.
    #[test]
    fn batch_bound_is_total_over_workers_or_the_longest_item() {
        let spread = at_once(&[100; 8]);
        assert_eq!(
            makespan_lower_bound(&spread, &[1.0; 4]),
            Duration::from_millis(200)
        );
        let giant = at_once(&[100, 100, 100, 1_000]);
        assert_eq!(
            makespan_lower_bound(&giant, &[1.0; 4]),
            Duration::from_millis(1_000)
        );
    }

    /// Speeds add up to capacity, and the longest item runs at best on the
    /// fastest worker.
    #[test]
    fn a_quarter_speed_worker_adds_a_quarter_of_capacity() {
        let batch = at_once(&[130; 10]);
        assert_eq!(
            makespan_lower_bound(&batch, &[1.0, 1.0, 1.0, 0.25]),
            Duration::from_millis(400)
        );
        let one = at_once(&[100]);
        assert_eq!(
            makespan_lower_bound(&one, &[0.5, 0.25]),
            Duration::from_millis(200)
        );
    }

    /// Work that arrives late cannot finish before it arrives.
    #[test]
    fn late_arrivals_push_the_bound_out() {
        let items = [
            TimedWork {
                arrives_at: Duration::ZERO,
                work: Duration::from_millis(100),
            },
            TimedWork {
                arrives_at: Duration::from_secs(10),
                work: Duration::from_millis(200),
            },
        ];
        assert_eq!(
            makespan_lower_bound(&items, &[1.0, 1.0]),
            Duration::from_millis(10_200)
        );
    }

    /// No usable worker: the bound says "never", it does not divide by zero.
    #[test]
    fn no_usable_speed_gives_an_unbounded_makespan() {
        let batch = at_once(&[100]);
        assert_eq!(makespan_lower_bound(&batch, &[]), Duration::MAX);
        assert_eq!(
            makespan_lower_bound(&batch, &[0.0, f64::NAN, -1.0]),
            Duration::MAX
        );
        assert_eq!(makespan_lower_bound(&[], &[1.0]), Duration::ZERO);
    }
}
