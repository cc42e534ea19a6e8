//! Counting tries.
//!
//! "Retry three times" is ambiguous: three attempts, or one attempt and three
//! retries? This module settles it once. An [`Attempt`] is numbered from 1 (the
//! first try is attempt 1), and [`MaxAttempts`] counts attempts, not retries, the
//! way Azure Service Bus counts `MaxDeliveryCount` and SQS counts
//! `maxReceiveCount`. Neither can be zero, so "attempt 0" and "never try" are not
//! values a coordinator has to handle.

use std::fmt;
use std::num::NonZeroU32;

use crate::ConfigError;

/// Which try of an item this is: 1 for the first, 2 for the first retry, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Attempt(NonZeroU32);

impl Attempt {
    /// The first try of an item.
    pub const FIRST: Attempt = Attempt(NonZeroU32::MIN);

    /// The attempt with this number, or `None` for 0 (there is no attempt 0).
    pub const fn new(number: u32) -> Option<Self> {
        match NonZeroU32::new(number) {
            Some(number) => Some(Self(number)),
            None => None,
        }
    }

    /// The attempt number, starting at 1.
    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The attempt after this one. It stops at `u32::MAX` rather than wrapping
    /// back to an attempt that already happened.
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attempt {}", self.0)
    }
}

/// How many attempts an item gets before the coordinator stops trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxAttempts(NonZeroU32);

impl MaxAttempts {
    /// At most `attempts` tries per item.
    ///
    /// # Errors
    /// [`ConfigError::ZeroMaxAttempts`] for 0: an item that may never be tried
    /// could only be lost.
    pub const fn new(attempts: u32) -> Result<Self, ConfigError> {
        match NonZeroU32::new(attempts) {
            Some(attempts) => Ok(Self(attempts)),
            None => Err(ConfigError::ZeroMaxAttempts),
        }
    }

    /// The limit as a number.
    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// Whether `attempt` used up the budget, so no further attempt may follow it.
    pub const fn is_reached_by(self, attempt: Attempt) -> bool {
        attempt.get() >= self.0.get()
    }
}

impl fmt::Display for MaxAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} attempts", self.0)
    }
}
