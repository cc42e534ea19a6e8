//! # Workshop 4: Raft-lite, exactly-once processing and a multi-pass pipeline
//!
//! A photo service has outgrown one machine. Its job queue must survive the
//! loss of any server, so it is replicated with Raft; its clients retry, so
//! every request may arrive twice; and its images go through several stages,
//! any of which may crash halfway. This crate builds the three mechanisms
//! that make that safe: consensus, deduplication, and idempotent stages.
//!
//! Read `workshop4/README.md` first. Run `cargo test -p workshop4` to see what
//! is left to do.
//!
//! ## Given code
//!
//! - [`RaftNode`]: a sans-IO Raft-lite node, the shell around the rules you
//!   write: roles, term and vote, the [`Log`], ticking, stepping, proposing.
//!   [`RaftMessage`] is its wire format, [`RaftConfig`] its timing.
//! - [`RaftCluster`]: the test harness over the simulated network, with the
//!   checks of the Raft lab.
//! - [`Account`], [`ClientRequest`]: a state machine where a duplicate
//!   costs money, and requests that carry a client id and a sequence number.
//! - [`pipeline`]: queues with at-least-once delivery, the image stages, the
//!   gallery they publish to, and a runner that crashes workers on purpose.
//! - [`testing`]: seeds, clusters and coaching assertions for tests and
//!   demos.
//!
//! ## Exercises, in order
//!
//! Each lives in its own file in `src/`; with `--features solution` the
//! reference solution from `solutions/workshop4/src/` is compiled in its place.
//!
//! 1. `election.rs`: terms, votes, randomized timeouts.
//! 2. `replication.rs`: the consistency check, truncation, next-index backoff.
//! 3. `commit.rs`: commit by majority, the current-term rule.
//! 4. [`exactly_once`]: deduplicate by client id and sequence number.
//! 5. [`idempotent_stage`]: pipeline stages that survive redelivery.

mod account;
mod account_service;
mod cluster;
mod config;
mod error;
mod log;
mod message;
mod node;
pub mod pipeline;
pub mod testing;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop4/src/election.rs"
)]
mod election;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop4/src/replication.rs"
)]
mod replication;

#[cfg_attr(feature = "solution", path = "../../solutions/workshop4/src/commit.rs")]
mod commit;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop4/src/exactly_once.rs"
)]
pub mod exactly_once;

#[cfg_attr(
    feature = "solution",
    path = "../../solutions/workshop4/src/idempotent_stage.rs"
)]
pub mod idempotent_stage;

use std::fmt;

pub use account::{
    Account, AccountError, AccountOperation, ClientId, ClientRequest, SequenceNumber, StateMachine,
};
pub use account_service::{AccountMessage, Deduplication, ServiceRun, run_account_service};
pub use cluster::{
    ClusterError, ClusterEvent, ClusterRecord, Fault, RaftCluster, SafetyOracle, SafetyViolation,
};
pub use config::RaftConfig;
pub use error::{ProposeError, RaftConfigError, StepError};
pub use exactly_once::{ExactlyOnce, LastReply, Reply};
pub use log::{Entry, Log, LogIndex, Term};
pub use message::{
    AppendOutcome, AppendRequest, AppendResponse, Heartbeat, HeartbeatResponse, RaftMessage,
    VoteRequest, VoteResponse,
};
pub use node::{LostEntries, Progress, RaftNode, Role};

/// What a Raft log can carry: any value that can be cloned to followers,
/// compared by the harness's agreement checks, printed in their messages and
/// sent between tasks. Every such type is a command; nothing to implement.
pub trait Command: Clone + fmt::Debug + PartialEq + Send + 'static {}

impl<T: Clone + fmt::Debug + PartialEq + Send + 'static> Command for T {}
