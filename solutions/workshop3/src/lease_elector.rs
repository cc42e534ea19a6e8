//! Exercise 3.1: acquire a lease, renew it, and step down in time.
//!
//! A lease is leadership with an expiry date. A candidate asks the lease
//! store for it; the one that gets it leads, and must renew it before it runs
//! out. Whoever cannot renew must stop leading *before* the store could give
//! the lease to someone else. That is the whole of Kubernetes' leader
//! election (client-go's `leaderelection` package), with its three settings:
//!
//! - **lease duration** (15 s by default): how long the store keeps a lease
//!   that nobody renews;
//! - **renew deadline** (10 s): how long the leader keeps trying to renew
//!   before it gives up leading. Shorter than the lease duration, so the
//!   leader stops before anyone else can start: the difference is the
//!   safety margin;
//! - **retry period** (2 s): how often it tries, to acquire or to renew.
//!   Shorter than the renew deadline, so there is more than one try.
//!
//! You write the checks on these settings ([`ElectionConfig::new`]), the
//! candidate's loop that asks until it gets the lease
//! ([`LeaseElector::acquire`]), and the leader's loop that renews it and
//! steps down when it must ([`LeaseElector::hold`]).
//!
//! - Read: `workshop3/README.md`, "Implement", 3.1.
//! - Check: `cargo workshop check 3.1`, or all of its output with
//!   `cargo test -p workshop3 --test workshop ex3_1_lease_elector`.

use std::time::Duration;

use coordination::ConfigError;
use tokio::time::Instant;

use crate::{Leadership, Lease, LeaseCallError, LeaseClient, StepDown};

/// The three timings of a lease-based election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElectionConfig {
    /// How long the store keeps a lease nobody renews.
    lease_duration: Duration,
    /// How long a leader keeps trying to renew before it steps down.
    renew_deadline: Duration,
    /// How long a candidate or leader waits between tries.
    retry_period: Duration,
}

impl ElectionConfig {
    /// Kubernetes' defaults, used by its controller manager and scheduler:
    /// 15 s lease, 10 s renew deadline, 2 s retry period.
    pub const KUBERNETES: Self = Self {
        lease_duration: Duration::from_secs(15),
        renew_deadline: Duration::from_secs(10),
        retry_period: Duration::from_secs(2),
    };

    /// Checks and keeps the three timings.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] naming the first timing that is zero;
    /// then [`ConfigError::NotLonger`] unless lease duration > renew
    /// deadline > retry period.
    pub fn new(
        lease_duration: Duration,
        renew_deadline: Duration,
        retry_period: Duration,
    ) -> Result<Self, ConfigError> {
        ConfigError::ensure_positive("lease duration", lease_duration)?;
        ConfigError::ensure_positive("renew deadline", renew_deadline)?;
        ConfigError::ensure_positive("retry period", retry_period)?;
        ConfigError::ensure_longer(
            ("lease duration", lease_duration),
            ("renew deadline", renew_deadline),
        )?;
        ConfigError::ensure_longer(
            ("renew deadline", renew_deadline),
            ("retry period", retry_period),
        )?;
        Ok(Self {
            lease_duration,
            renew_deadline,
            retry_period,
        })
    }

    /// How long the store keeps a lease nobody renews.
    pub fn lease_duration(&self) -> Duration {
        self.lease_duration
    }

    /// How long a leader keeps trying to renew before it steps down.
    pub fn renew_deadline(&self) -> Duration {
        self.renew_deadline
    }

    /// How long a candidate or leader waits between tries.
    pub fn retry_period(&self) -> Duration {
        self.retry_period
    }
}

/// One candidate's side of a lease-based election.
#[derive(Debug, Clone)]
pub struct LeaseElector {
    /// The candidate's client for the lease store.
    client: LeaseClient,
    /// The timings.
    config: ElectionConfig,
}

impl LeaseElector {
    /// A candidate that uses `client` with the timings of `config`.
    pub fn new(client: LeaseClient, config: ElectionConfig) -> Self {
        Self { client, config }
    }

    /// The timings.
    pub fn config(&self) -> ElectionConfig {
        self.config
    }

    /// Asks the store for the lease once.
    ///
    /// # Errors
    /// As [`LeaseClient::acquire`].
    pub async fn try_acquire(&self) -> Result<Lease, LeaseCallError> {
        self.client.acquire(self.config.lease_duration).await
    }

    /// Asks for the lease until the store grants it: after each refusal or
    /// unanswered call, waits one retry period and asks again.
    ///
    /// # Errors
    /// The first error that is not retryable: the store refused this node,
    /// or the node crashed.
    pub async fn acquire(&self) -> Result<Lease, LeaseCallError> {
        loop {
            match self.try_acquire().await {
                Err(error) if error.is_retryable() => {
                    self.client.node().sleep(self.config.retry_period).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// Leads under `lease` until it must stop, and says why it stopped.
    ///
    /// While leading, it tries to renew once every retry period. Each
    /// success moves the renew deadline to renew deadline after the moment
    /// that renewal was *sent*, and tells `leadership`. It steps down when
    /// the deadline passes without a successful renewal, or at once when the
    /// store says the lease is lost.
    pub async fn hold(&self, mut lease: Lease, leadership: &Leadership) -> StepDown {
        let node = self.client.node();
        let mut next_renewal = lease.requested_at + self.config.retry_period;
        loop {
            let deadline = lease.requested_at + self.config.renew_deadline;
            leadership.lead(lease.token, deadline);
            node.sleep_until(next_renewal.min(deadline)).await;
            if Instant::now() >= deadline {
                return leadership.step_down(StepDown::RenewDeadlinePassed);
            }
            next_renewal += self.config.retry_period;
            match self.client.renew(&lease, self.config.lease_duration).await {
                // An answer that arrives after the deadline is too late: at
                // the deadline this node stopped trusting its lease, and
                // someone may already be waiting for it to expire.
                Ok(renewed) if Instant::now() < deadline => lease = renewed,
                Ok(_) => return leadership.step_down(StepDown::RenewDeadlinePassed),
                Err(error) if error.is_retryable() => {}
                Err(_) => return leadership.step_down(StepDown::LeaseLost),
            }
        }
    }

    /// Kubernetes' whole loop: acquire, hold until stepping down, and start
    /// over. Stops only when the store refuses this node or the node
    /// crashes.
    pub async fn run(&self, leadership: &Leadership) {
        while let Ok(lease) = self.acquire().await {
            self.hold(lease, leadership).await;
        }
    }
}
