//! Exercise 2.2: least-loaded and the power of two choices.
//!
//! Round-robin ignores what it could see: the slow worker's queue grows
//! while the others run dry. *Least-loaded* looks at every candidate and
//! picks the one with the fewest items outstanding (queued plus running):
//! HAProxy's `leastconn`, nginx's `least_conn`. A slow worker drains slowly,
//! so its count stays high and it gets fewer items: the load balancer learns
//! the worker's speed without being told.
//!
//! Looking at every candidate costs a scan per item and, across many
//! dispatchers, sends everyone to the same "least" worker at once (herding).
//! The *power of d choices* samples `d` candidates at random and takes the
//! least loaded of those. With `d = 2` the heaviest load drops from about
//! `ln n / ln ln n` (one random choice) to about `ln ln n / ln 2` (Azar,
//! Broder, Karlin and Upfal, "Balanced Allocations", 1994; Mitzenmacher, "The
//! Power of Two Choices in Randomized Load Balancing", 2001): an exponential
//! improvement for one extra look. Envoy's `LEAST_REQUEST` balancer does
//! exactly this, with `choice_count` defaulting to 2.
//!
//! - Read: `workshop2/README.md`, "Implement", 2.2.
//! - Check: `cargo workshop check 2.2`, or all of its output with
//!   `cargo test -p workshop2 --test workshop ex2_2_least_loaded`.

use coordination::{ConfigError, SimRng, WorkItemId, WorkerId};
use rand::RngExt;

use crate::{Candidate, Placement};

/// Picks the candidate with the fewest items outstanding; on a tie, the first
/// in pool order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeastLoaded;

impl Placement for LeastLoaded {
    fn name(&self) -> &'static str {
        "least-loaded"
    }

    fn place(
        &mut self,
        _item: WorkItemId,
        candidates: &[Candidate],
        _rng: &mut SimRng,
    ) -> WorkerId {
        // `min_by_key` keeps the first of equal minimums: ties go to the
        // earliest candidate, which keeps runs reproducible.
        candidates
            .iter()
            .min_by_key(|candidate| candidate.outstanding)
            .expect("the cluster never asks with an empty list of candidates")
            .worker
    }
}

/// Samples `choices` candidates at random (with replacement) and picks the
/// least loaded of them; on a tie, the one sampled first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerOfChoices {
    /// How many candidates to sample per item: at least 1.
    choices: usize,
}

impl PowerOfChoices {
    /// Two choices: the setting that gets almost all of the benefit.
    pub const fn two() -> Self {
        Self { choices: 2 }
    }

    /// `choices` random choices per item.
    ///
    /// # Errors
    /// [`ConfigError::ZeroCapacity`] for 0: with no choice there is no
    /// worker.
    pub fn new(choices: usize) -> Result<Self, ConfigError> {
        if choices == 0 {
            return Err(ConfigError::ZeroCapacity {
                setting: "random choices per item",
            });
        }
        Ok(Self { choices })
    }

    /// How many candidates it samples per item.
    pub fn choices(&self) -> usize {
        self.choices
    }
}

impl Placement for PowerOfChoices {
    fn name(&self) -> &'static str {
        match self.choices {
            1 => "one random choice",
            2 => "power of two choices",
            _ => "power of d choices",
        }
    }

    fn place(&mut self, _item: WorkItemId, candidates: &[Candidate], rng: &mut SimRng) -> WorkerId {
        let mut best = candidates[rng.random_range(0..candidates.len())];
        for _ in 1..self.choices {
            let sampled = candidates[rng.random_range(0..candidates.len())];
            if sampled.outstanding < best.outstanding {
                best = sampled;
            }
        }
        best.worker
    }
}
