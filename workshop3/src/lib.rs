//! # Workshop 3: leader election
//!
//! Three replicas of a service; only one may write to storage at a time.
//! This crate starts with replicas that all write, and, exercise by
//! exercise, builds what Kubernetes controllers, etcd elections and Chubby
//! locks do: a lease with a renew deadline, heartbeats and a failure
//! detector, failover within a bound, and, after watching a paused leader
//! corrupt storage anyway, fencing tokens.
//!
//! Read `workshop3/README.md` first. Run `cargo test -p workshop3` to see what
//! is left to do.
//!
//! ## Given code
//!
//! - [`LeaseStore`]: one lease record with compare-and-set, revisions and a
//!   time-to-live, like an etcd lease or a Kubernetes `Lease` object.
//! - [`Storage`]: the shared resource the leader writes to; it records every
//!   write it accepts and every one it refuses.
//! - [`LeaseClient`], [`StorageClient`]: typed calls over the network.
//! - [`Leadership`]: a node's belief that it leads, with an expiry, and the
//!   [`Journal`] of every change of mind.
//! - [`Cluster`]: candidates, lease store and storage on one simulated
//!   network, each candidate running a program you choose.
//! - [`act_without_election`]: the starting point, replicas that do not
//!   coordinate.
//! - [`Story`]: everything that mattered in a run, on one time line.
//! - [`testing`]: seeds, scenarios and the checks the tests share.
//!
//! ## Exercises, in order
//!
//! Each lives in its own file in `src/`; with `--features solution` the
//! reference solution from `solutions/workshop3/src/` is compiled in its place.
//!
//! 1. [`lease_elector`]: acquire and renew a lease; step down in time.
//! 2. [`failure_detector`]: heartbeats and a timeout failure detector.
//! 3. [`failover`]: follow, suspect, campaign, lead: a candidate's life.
//! 4. [`leader_work`]: the leader's writes, and split brain.
//! 5. [`fencing`]: fencing tokens, checked by storage.

mod cluster;
mod journal;
mod leadership;
mod lease_client;
mod lease_store;
mod message;
mod storage;
mod storage_client;
mod story;
pub mod testing;
mod uncoordinated;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop3/src/lease_elector.rs"
)]
pub mod lease_elector;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop3/src/failure_detector.rs"
)]
pub mod failure_detector;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop3/src/failover.rs"
)]
pub mod failover;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop3/src/leader_work.rs"
)]
pub mod leader_work;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop3/src/fencing.rs"
)]
pub mod fencing;

pub use cluster::{Cluster, ClusterConfig, ClusterError, LEASE_STORE, NodeContext, STORAGE};
pub use failover::run_candidate;
pub use failure_detector::{
    FailureDetector, HeartbeatConfig, listen_for_heartbeats, send_heartbeats,
};
pub use fencing::FencingGate;
pub use journal::{Belief, Journal, JournalEntry, NodeEvent, StepDown};
pub use leader_work::{do_leader_work, run_candidate_and_work};
pub use leadership::Leadership;
pub use lease_client::{Lease, LeaseCallError, LeaseClient};
pub use lease_elector::{ElectionConfig, LeaseElector};
pub use lease_store::{LeaseChange, LeaseError, LeaseEvent, LeaseRecord, LeaseStore, Tenure};
pub use message::{ClusterMessage, Heartbeat, LeaseAnswer, LeaseRequest, Write, WriteAck};
pub use storage::{Fencing, RefusedWrite, Storage, StoredWrite, WriteRefused};
pub use storage_client::{StorageClient, WriteError};
pub use story::{Chapter, Event, Story};
pub use uncoordinated::act_without_election;
