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

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

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
        // TODO(3.1): the errors above, in that order. The trap: equal
        // timings are out of order too (no margin, or no second try).
        todo!("exercise 3.1: check the three timings (see workshop3/README.md, Implement 3.1)")
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
        // TODO(3.1): ask until granted. The traps: a lease held by someone
        // else is not the end (it may expire), and asking again at once
        // cannot change the answer, only load the store.
        todo!(
            "exercise 3.1: ask for the lease until it is granted (see workshop3/README.md, Implement 3.1)"
        )
    }

    /// Leads under `lease` until it must stop, and says why it stopped.
    ///
    /// While leading, it tries to renew once every retry period. Each
    /// success moves the renew deadline to renew deadline after the moment
    /// that renewal was *sent*, and tells `leadership`. It steps down when
    /// the deadline passes without a successful renewal, or at once when the
    /// store says the lease is lost.
    pub async fn hold(&self, mut lease: Lease, leadership: &Leadership) -> StepDown {
        // TODO(3.1): lead while renewals succeed, as the contract above says.
        // The traps: a deadline counted from when an answer *arrived* ends
        // after the store's lease (the answer took time to come back); and
        // the deadline can pass while this node waits for its next renewal,
        // or is paused, so it must be noticed *at* the deadline.
        todo!(
            "exercise 3.1: renew the lease and step down in time (see workshop3/README.md, Implement 3.1)"
        )
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
