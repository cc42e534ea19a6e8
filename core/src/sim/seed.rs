//! Seeded randomness.
//!
//! Every random choice in a simulation (which attempt fails, how long a
//! message takes, which victim a thief picks) comes from a generator built from
//! one [`Seed`]. Same seed, same choices, same run. The generator is
//! [`SimRng`], xoshiro256++, whose output stream is fixed by its published
//! definition rather than by whatever a library calls "standard" this year.

use std::fmt;

use rand::SeedableRng;

/// The random number generator of every simulation.
pub type SimRng = rand::rngs::Xoshiro256PlusPlus;

/// The environment variable that replays one seed.
pub const SEED_VARIABLE: &str = "DWC_SEED";

/// The number a simulation's randomness is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seed(u64);

impl Seed {
    /// A seed with this value.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The value, as printed in replay commands.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// A fresh generator for this seed.
    pub fn rng(self) -> SimRng {
        SimRng::seed_from_u64(self.0)
    }

    /// An independent seed for one part of a run (a worker, an item, a node),
    /// so that each part's randomness does not depend on how often the others
    /// drew. `stream` names the part.
    pub const fn derive(self, stream: u64) -> Self {
        Self(splitmix64(self.0 ^ splitmix64(stream)))
    }

    /// The seed named by the `DWC_SEED` environment variable, if it is set.
    ///
    /// # Errors
    /// [`SeedError`] when the variable is set but is not a whole number.
    pub fn from_env() -> Result<Option<Self>, SeedError> {
        match std::env::var(SEED_VARIABLE) {
            Ok(text) => text
                .trim()
                .parse()
                .map(|value| Some(Self(value)))
                .map_err(|_| SeedError { text }),
            Err(_) => Ok(None),
        }
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `DWC_SEED` was set to something that is not a seed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{SEED_VARIABLE} must be a whole number such as 42, got {text:?}")]
pub struct SeedError {
    /// What the variable held.
    pub text: String,
}

/// The splitmix64 finaliser: spreads nearby inputs (seed 1, seed 2) to
/// unrelated outputs, so derived seeds do not overlap.
const fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use rand::RngExt;

    use super::*;

    /// The whole point of a seed: the same seed draws the same numbers.
    #[test]
    fn same_seed_draws_same_numbers() {
        let draw = |seed: Seed| -> Vec<u64> {
            let mut rng = seed.rng();
            (0..8).map(|_| rng.random()).collect()
        };
        assert_eq!(draw(Seed::new(42)), draw(Seed::new(42)));
        assert_ne!(draw(Seed::new(42)), draw(Seed::new(43)));
    }

    /// Derived seeds differ from each other and from their parent.
    #[test]
    fn derived_seeds_are_distinct() {
        let parent = Seed::new(7);
        let children: Vec<Seed> = (0..100).map(|stream| parent.derive(stream)).collect();
        let mut unique = children.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), children.len());
        assert!(!children.contains(&parent));
    }
}
