//! A number between 0 and 1 that has been checked.
//!
//! Failure rates arrive from command-line flags and test parameters. A rate of
//! 1.5 or NaN is a mistake worth reporting where it is made, not a silent "always
//! fail" three calls later, so a rate is a [`Probability`] and only
//! [`Probability::new`] makes one.

use std::fmt;

use rand::RngExt;

use crate::{ConfigError, SimRng};

/// A probability in `0.0..=1.0`, never NaN.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Probability(f64);

impl Probability {
    /// Never happens.
    pub const NEVER: Probability = Probability(0.0);
    /// Always happens.
    pub const ALWAYS: Probability = Probability(1.0);

    /// Checks that `value` is a probability.
    ///
    /// # Errors
    /// [`ConfigError::ProbabilityOutOfRange`] for NaN or anything outside
    /// `0.0..=1.0`.
    pub fn new(value: f64) -> Result<Self, ConfigError> {
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ConfigError::ProbabilityOutOfRange { value })
        }
    }

    /// The probability as a number.
    pub const fn get(self) -> f64 {
        self.0
    }

    /// Draws once: `true` with this probability.
    pub fn sample(self, rng: &mut SimRng) -> bool {
        rng.random_bool(self.0)
    }
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.0}%", self.0 * 100.0)
    }
}
