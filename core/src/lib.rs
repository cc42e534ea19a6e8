//! # coordination: the shared core of the Distributed Workload Coordination workshops
//!
//! Every workshop builds on the same small vocabulary, so that what you learn
//! about a retry in Workshop 1 still reads the same in the Raft log of
//! Workshop 4. This crate is that vocabulary, the pieces every workshop is
//! given rather than asked to write, and the simulation support that makes
//! every run repeatable.
//!
//! ## The vocabulary (the five traits of the series)
//!
//! - [`WorkItem`]: a unit of work with a stable [`WorkItemId`].
//! - [`Worker`]: processes one item, or says why not with a [`WorkError`].
//! - [`WorkDistributor`]: hands a batch to a pool of [`Workers`] and returns a
//!   [`RunReport`].
//! - [`WorkTracker`]: the lifecycle of every item ([`WorkStatus`]), with
//!   receipts that reject late results. [`InMemoryWorkTracker`] is provided,
//!   a plain value that its owner keeps under the owner's own lock.
//! - [`DeadLetterQueue`]: where items go when they will not succeed.
//!
//! ## Small types that carry rules
//!
//! [`Attempt`] and [`MaxAttempts`] (counted from 1, never zero),
//! [`Probability`] (checked to lie in 0..=1), [`Receipt`], and the errors:
//! [`WorkError`] decides retry or give up through
//! [`is_retryable`](WorkError::is_retryable); [`ConfigError`] refuses settings
//! that cannot work.
//!
//! ## Simulation support
//!
//! [`sim`] runs code on tokio's paused clock with seeded randomness, injected
//! faults and hang guards, and carries messages between [`NodeId`]s over a
//! simulated network ([`sim::Network`]) that loses, delays, partitions,
//! pauses and crashes on command; [`metrics`] summarises runs; [`timeline`]
//! records what ran where and when, and [`picture`] draws it, with charts,
//! for the terminal and as SVG files.
//!
//! ## Rules this crate keeps
//!
//! It never depends on a workshop; nothing in it reads the wall clock or an
//! unseeded random source; every listing it produces is sorted.

pub mod attempt;
pub mod dead_letter;
pub mod demo;
pub mod distributor;
pub mod error;
pub mod ids;
pub mod metrics;
pub mod picture;
pub mod probability;
pub mod report;
pub mod sim;
pub mod status;
pub mod timeline;
pub mod tracker;
pub mod unfinished;
pub mod wait;
pub mod work_item;
pub mod worker;

pub use async_trait::async_trait;

pub use attempt::{Attempt, MaxAttempts};
pub use dead_letter::{DeadLetter, DeadLetterQueue, DeadLetterReason};
pub use distributor::{DistributeError, WorkDistributor};
pub use error::{ConfigError, WorkError};
pub use ids::{FencingToken, NodeId, Receipt, WorkItemId, WorkerId};
pub use probability::Probability;
pub use report::{ItemSummary, RunReport};
pub use sim::{Seed, SimRng};
pub use status::WorkStatus;
pub use tracker::{Claim, Happened, InMemoryWorkTracker, TrackerError, TrackerEvent, WorkTracker};
pub use work_item::WorkItem;
pub use worker::{Worker, Workers};
