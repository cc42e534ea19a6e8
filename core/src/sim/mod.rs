//! Simulation support: deterministic time, randomness, faults and guards.
//!
//! Distributed-systems bugs hide in timing: the retry that lands one
//! millisecond too early, the lease that expires during a pause. Tests that
//! sleep for real are slow and flaky, and tests that use real randomness fail
//! once and never again. Everything here exists to make a run repeatable:
//!
//! - **time** is tokio's paused clock: [`simulate`] runs a future on a
//!   current-thread runtime whose clock only moves when every task is waiting,
//!   jumping straight to the next timer. Ten minutes of backoff take
//!   microseconds, and the order of events depends only on the code.
//! - **randomness** comes from a [`Seed`]; every run prints its seed on failure
//!   with the command that replays it, and [`Sweep`] runs a test over many seeds.
//! - **faults** ([`FaultPlan`]) make workers fail, slow down or hang at seeded
//!   rates.
//! - **the network** ([`Network`]) carries messages between nodes with seeded
//!   delays and losses, and lets a test partition it, pause a node or crash
//!   one.
//! - **guards** turn a hang into a failure: a run that is still going after a
//!   bound of simulated time fails with "probable deadlock or livelock", and one
//!   that stops making progress in real time (a busy loop that never yields)
//!   is stopped by a wall-clock watchdog.
//!
//! Left out: multi-threaded runtimes. Determinism needs one thread, and a
//! workshop's coordination logic does not need more.

pub mod clock;
mod faults;
pub mod logging;
pub mod network;
mod runner;
mod seed;

pub use faults::{Fault, FaultInjector, FaultPlan, Hang};
pub use network::{
    CallError, DelayRange, DropReason, Envelope, Inbox, Inboxes, KindCounts, LifecycleStep,
    Message, MessageCounts, Network, NetworkConditions, NetworkError, NetworkEvent, Node,
    NodeStatus, Outcome, ReplyTo, Trace, TraceEntry, TransmissionId,
};
pub use runner::{Guard, Sweep, simulate, simulate_with};
pub use seed::{Seed, SeedError, SimRng};
