//! A node's timing: the tick, the election timeout range and the heartbeat
//! interval.
//!
//! A sans-IO node reads no clock; it counts the ticks its driver gives it.
//! The settings are written in milliseconds, as people and papers state them,
//! and turned into whole ticks once, here.
//!
//! The defaults are the paper's. Section 5.6 asks for
//! `broadcastTime ≪ electionTimeout ≪ MTBF` and suggests an election timeout
//! drawn from 150 to 300 ms; section 9.3 runs its election experiments with a
//! heartbeat interval of half the minimum election timeout, which gives
//! 75 ms. A tick of 5 ms resolves both exactly and leaves 31 different
//! timeouts to draw from.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::RaftConfigError;

/// The timing of every node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftConfig {
    /// The time one tick stands for.
    tick: Duration,
    /// The shortest election timeout, in ticks.
    election_timeout_min_ticks: u32,
    /// The longest election timeout, in ticks.
    election_timeout_max_ticks: u32,
    /// How often a leader sends heartbeats, in ticks.
    heartbeat_interval_ticks: u32,
    /// The most entries one append carries; `None`: all a follower lacks.
    max_entries_per_append: Option<u64>,
}

impl RaftConfig {
    /// Timing from durations: election timeouts are drawn uniformly from
    /// `election_timeout_min..=election_timeout_max`, and a leader sends
    /// heartbeats every `heartbeat_interval`; all three are whole multiples
    /// of `tick`.
    ///
    /// # Errors
    /// [`RaftConfigError`] for a zero tick, a duration that is not a whole
    /// number of ticks, a reversed range, or a heartbeat interval not shorter
    /// than the shortest election timeout (followers would start elections
    /// between two heartbeats of a healthy leader).
    pub fn new(
        tick: Duration,
        election_timeout_min: Duration,
        election_timeout_max: Duration,
        heartbeat_interval: Duration,
    ) -> Result<Self, RaftConfigError> {
        if tick.is_zero() {
            return Err(RaftConfigError::ZeroTick);
        }
        let in_ticks = |setting: &'static str, duration: Duration| {
            let ticks = duration.as_nanos() / tick.as_nanos();
            if duration.is_zero() || ticks * tick.as_nanos() != duration.as_nanos() {
                return Err(RaftConfigError::NotWholeTicks {
                    setting,
                    duration,
                    tick,
                });
            }
            u32::try_from(ticks).map_err(|_| RaftConfigError::NotWholeTicks {
                setting,
                duration,
                tick,
            })
        };
        let election_timeout_min_ticks =
            in_ticks("election timeout minimum", election_timeout_min)?;
        let election_timeout_max_ticks =
            in_ticks("election timeout maximum", election_timeout_max)?;
        let heartbeat_interval_ticks = in_ticks("heartbeat interval", heartbeat_interval)?;
        if election_timeout_min > election_timeout_max {
            return Err(RaftConfigError::ReversedElectionTimeout {
                shortest: election_timeout_min,
                longest: election_timeout_max,
            });
        }
        if heartbeat_interval >= election_timeout_min {
            return Err(RaftConfigError::HeartbeatNotShorterThanElectionTimeout {
                heartbeat_interval,
                election_timeout_min,
            });
        }
        Ok(Self {
            tick,
            election_timeout_min_ticks,
            election_timeout_max_ticks,
            heartbeat_interval_ticks,
            max_entries_per_append: None,
        })
    }

    /// The same timing, with appends of at most `entries` entries (at least
    /// one). A follower far behind is then caught up in several appends, the
    /// next sent when the last is acknowledged, so no message grows with the
    /// log: a driver on real sockets, whose frames are bounded, needs it.
    /// etcd bounds its appends the same way, by bytes (`MaxSizePerMsg`);
    /// Raft-lite does not know its commands' sizes, so it counts entries.
    /// Without it (the workshop's simulations) an append carries everything
    /// the follower lacks.
    pub fn with_max_entries_per_append(mut self, entries: u64) -> Self {
        self.max_entries_per_append = Some(entries.max(1));
        self
    }

    /// The most entries one append carries, if bounded.
    pub fn max_entries_per_append(&self) -> Option<u64> {
        self.max_entries_per_append
    }

    /// The paper's timing: a 5 ms tick, election timeouts from 150 to 300 ms,
    /// heartbeats every 75 ms.
    pub fn paper() -> Self {
        Self::new(
            Duration::from_millis(5),
            Duration::from_millis(150),
            Duration::from_millis(300),
            Duration::from_millis(75),
        )
        .expect("the paper's timing is whole 5 ms ticks, in order, heartbeat below the timeout")
    }

    /// The time one tick stands for: the driver ticks every node this often.
    pub fn tick(&self) -> Duration {
        self.tick
    }

    /// The shortest election timeout.
    pub fn election_timeout_min(&self) -> Duration {
        self.tick * self.election_timeout_min_ticks
    }

    /// The longest election timeout.
    pub fn election_timeout_max(&self) -> Duration {
        self.tick * self.election_timeout_max_ticks
    }

    /// How often a leader sends heartbeats.
    pub fn heartbeat_interval(&self) -> Duration {
        self.tick * self.heartbeat_interval_ticks
    }

    /// The range election timeouts are drawn from, in ticks.
    pub fn election_timeout_ticks(&self) -> RangeInclusive<u32> {
        self.election_timeout_min_ticks..=self.election_timeout_max_ticks
    }

    /// The heartbeat interval, in ticks.
    pub fn heartbeat_interval_ticks(&self) -> u32 {
        self.heartbeat_interval_ticks
    }
}

impl Default for RaftConfig {
    fn default() -> Self {
        Self::paper()
    }
}
