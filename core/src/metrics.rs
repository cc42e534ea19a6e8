//! Numbers that summarise a run.
//!
//! Averages hide the thing that hurts: the one request that waited ten times
//! longer than the rest. Latencies are reported as percentiles, computed by the
//! nearest-rank method on the sorted samples, so every reported value is a
//! value that really occurred.

use std::time::Duration;

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
}
