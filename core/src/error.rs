//! What can go wrong, one enum per boundary.
//!
//! Two boundaries are shared by every workshop:
//!
//! - [`WorkError`] is what a worker reports when an attempt fails. Its
//!   [`is_retryable`](WorkError::is_retryable) is the single place that decides
//!   between "try again" and "give up", the way an AWS SDK sorts throttling and
//!   5xx responses (retry) from validation errors (do not).
//! - [`ConfigError`] is what a constructor reports for a setting that cannot
//!   work: zero workers, zero attempts, a rate above 1. Bad settings are refused
//!   where they are made, with a message that names the setting, instead of
//!   surfacing later as a hang or a panic.
//!
//! The tracker and the distributors have errors of their own, next to them.

use std::time::Duration;

/// Why one attempt at an item failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkError {
    /// Something outside the item went wrong and may pass: a dropped
    /// connection, a throttled downstream, a worker restart. Trying again later
    /// can succeed.
    #[error("transient failure: {reason}")]
    Transient {
        /// What happened, for logs and dead-letter records.
        reason: String,
    },
    /// The item itself cannot be processed (a corrupt image, a malformed
    /// message). Every attempt will fail the same way, so retrying only burns
    /// capacity: this is the classic poison message.
    #[error("permanent failure: {reason}")]
    Permanent {
        /// What is wrong with the item.
        reason: String,
    },
    /// No answer arrived in time. The work may or may not have happened, which
    /// is exactly why a late answer must not be counted as well.
    #[error("no answer within {after:?}")]
    TimedOut {
        /// How long the coordinator waited.
        after: Duration,
    },
}

impl WorkError {
    /// A transient failure with this reason.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
        }
    }

    /// A permanent failure with this reason.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
        }
    }

    /// Whether another attempt could succeed. Transient failures and timeouts
    /// are worth retrying; permanent failures are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transient { .. } | Self::TimedOut { .. } => true,
            Self::Permanent { .. } => false,
        }
    }
}

/// A setting that cannot work, refused when it is made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A pool, distributor or cluster was given no workers: nothing could ever
    /// run, and every item would wait forever.
    #[error("at least one worker is required, got none")]
    NoWorkers,
    /// Two workers share an id, so their results could not be told apart.
    #[error("worker id {0} is used twice; every worker needs its own id")]
    DuplicateWorker(crate::WorkerId),
    /// Max attempts was 0: an item that may never be tried can only be lost.
    #[error("max attempts must be at least 1; 0 would never try an item at all")]
    ZeroMaxAttempts,
    /// A rate or probability outside `0.0..=1.0`, or NaN.
    #[error("a probability must be between 0 and 1, got {value}")]
    ProbabilityOutOfRange {
        /// The value that was given.
        value: f64,
    },
    /// A duration that must be positive was zero.
    #[error("{setting} must be longer than zero")]
    ZeroDuration {
        /// Which setting, in the words of its constructor.
        setting: &'static str,
    },
    /// A factor that must be at least 1 (a slowdown, a multiplier) was not.
    #[error("{setting} must be a number of at least 1, got {value}")]
    FactorBelowOne {
        /// Which setting.
        setting: &'static str,
        /// The value that was given.
        value: f64,
    },
    /// A capacity, window or count that must hold at least one thing was
    /// zero: a queue that holds nothing refuses everything, a window of no
    /// calls measures nothing.
    #[error("{setting} must be at least 1, got 0")]
    ZeroCapacity {
        /// Which setting, in the words of its constructor.
        setting: &'static str,
    },
    /// A lower limit above its upper limit (minimum workers above maximum,
    /// minimum calls above the window), so no value could satisfy both.
    #[error("{setting}: the minimum {min} is above the maximum {max}")]
    MinAboveMax {
        /// Which pair of settings.
        setting: &'static str,
        /// The lower limit given.
        min: usize,
        /// The upper limit given.
        max: usize,
    },
    /// An exponential backoff whose first delay is already above its ceiling.
    #[error("backoff base {base:?} is larger than its cap {cap:?}")]
    BaseAboveCap {
        /// The first delay.
        base: Duration,
        /// The largest delay allowed.
        cap: Duration,
    },
    /// Two durations that only work in one order were given in the other,
    /// such as a lease that lasts no longer than the deadline for renewing
    /// it, or an election timeout no longer than the heartbeat interval: the
    /// protocol's safety margin would be gone.
    #[error("{longer} ({longer_value:?}) must be longer than {shorter} ({shorter_value:?})")]
    NotLonger {
        /// The setting that must be the longer one.
        longer: &'static str,
        /// The value it was given.
        longer_value: Duration,
        /// The setting that must be the shorter one.
        shorter: &'static str,
        /// The value it was given.
        shorter_value: Duration,
    },
    /// A range whose shortest value is longer than its longest, such as a
    /// message delay of "at least 10 ms and at most 2 ms".
    #[error("{setting}: the shortest value {shortest:?} is longer than the longest {longest:?}")]
    ReversedRange {
        /// Which setting.
        setting: &'static str,
        /// The lower end that was given.
        shortest: Duration,
        /// The upper end that was given.
        longest: Duration,
    },
}

impl ConfigError {
    /// Refuses a zero `duration` for `setting`, the check behind every
    /// timeout, period and lease: `ConfigError::ensure_positive("retry
    /// period", retry_period)?`.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] naming `setting`.
    pub fn ensure_positive(setting: &'static str, duration: Duration) -> Result<(), Self> {
        if duration.is_zero() {
            Err(Self::ZeroDuration { setting })
        } else {
            Ok(())
        }
    }

    /// Refuses two durations unless the first is strictly longer than the
    /// second, each given with the name of its setting:
    /// `ConfigError::ensure_longer(("lease duration", lease), ("renew
    /// deadline", deadline))?`. Equal is refused too: a margin of zero is no
    /// margin.
    ///
    /// # Errors
    /// [`ConfigError::NotLonger`] naming both settings and their values.
    pub fn ensure_longer(
        (longer, longer_value): (&'static str, Duration),
        (shorter, shorter_value): (&'static str, Duration),
    ) -> Result<(), Self> {
        if longer_value > shorter_value {
            Ok(())
        } else {
            Err(Self::NotLonger {
                longer,
                longer_value,
                shorter,
                shorter_value,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks name the settings a person wrote, so the message points at
    /// the line to fix.
    #[test]
    fn duration_checks_name_the_settings() {
        let second = Duration::from_secs(1);
        assert_eq!(ConfigError::ensure_positive("retry period", second), Ok(()));
        assert_eq!(
            ConfigError::ensure_positive("retry period", Duration::ZERO),
            Err(ConfigError::ZeroDuration {
                setting: "retry period"
            })
        );
        assert_eq!(
            ConfigError::ensure_longer(("lease", 2 * second), ("deadline", second)),
            Ok(())
        );
        let equal = ConfigError::ensure_longer(("lease", second), ("deadline", second));
        assert_eq!(
            equal.map_err(|error| error.to_string()),
            Err("lease (1s) must be longer than deadline (1s)".to_string())
        );
    }
}
