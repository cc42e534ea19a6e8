//! # The capstone: a replicated, SQS-like work queue
//!
//! Everything the four workshops built, working together: a queue with the
//! semantics of Amazon SQS (send with an optional deduplication id, receive
//! with a visibility timeout and a receipt, delete by receipt, change
//! visibility, a receive count, redrive to a dead-letter queue after a
//! maximum receive count), kept as a replicated state machine on Workshop
//! 4's Raft-lite, so it survives the loss of its leader; consumers with
//! Workshop 1's retries and backoff and Workshop 2's distribution; a sink
//! fenced with Workshop 3's tokens and published to once with Workshop 4's
//! idempotency keys.
//!
//! Read `tests/README.md` first: it walks through the scenarios and maps
//! each piece to the workshop it comes from. `cargo test -p capstone` runs
//! it on your own solutions, and is the final exam; `--features solution`
//! runs it on the reference solutions.
//!
//! ## The queue, bottom up
//!
//! - [`Queue`]: SQS's semantics as a pure, deterministic state machine;
//!   [`QueueConfig`], [`QueueOperation`], [`QueueOutput`], [`QueueError`],
//!   and the message types ([`MessageId`], [`ReceiptHandle`],
//!   [`NewMessage`], [`ReceivedMessage`], [`DeadLetteredMessage`]).
//! - [`QueueStateMachine`]: the queue behind Workshop 4's exactly-once
//!   table, with sessions; [`Command`] is what the Raft log carries.
//! - [`QueueNode`]: one replica, sans-IO: Raft, the state machine, the
//!   clients waiting, and what to make durable ([`DurableState`]).
//! - [`QueueClient`]: sessions, redirects to the leader, retries with
//!   Workshop 1's backoff, over any [`Transport`].
//!
//! ## The photo service on top
//!
//! - [`Upload`]: the message body; [`run_producer`]: sends uploads;
//!   [`run_consumer`]: a consumer host; [`FencedGallery`]: the sink.
//!
//! ## Two deployments
//!
//! - [`sim`]: the replicas on the simulated network, and whole scenarios
//!   of ten thousand messages through crashes and partitions, from a seed.
//! - [`net`]: the same replica as an operating-system process on TCP.
//!
//! ## A real engine
//!
//! - `jetstream` (with `--features jetstream`): the same producers and
//!   consumer hosts on a three-server NATS JetStream cluster.

mod client;
mod consumer;
mod durable;
mod message;
mod operation;
mod producer;
mod protocol;
mod queue;
mod queue_config;
mod queue_error;
mod queue_node;
mod queue_service;
mod sink;
mod state_machine;
mod upload;

#[cfg(feature = "jetstream")]
pub mod jetstream;
pub mod net;
pub mod sim;
pub mod testing;

pub use client::{
    ClientError, ClientSettings, ClientStats, QueueClient, Transport, TransportError,
};
pub use consumer::{
    ConsumerCounter, ConsumerHost, ConsumerSettings, ConsumerStats, Decision, run_consumer,
};
pub use durable::{DurableChange, DurableState, HardState};
pub use message::{
    DeadLetteredMessage, MessageId, NewMessage, ReceiptHandle, ReceivedMessage, SendOutcome,
};
pub use operation::{QueueAttributes, QueueOperation, QueueOutput, QueueResult, Stamped};
pub use producer::{ProducerProgress, ProgressStore, run_producer};
pub use protocol::{NodeReport, Packet, QueueRequest, QueueResponse};
pub use queue::Queue;
pub use queue_config::{
    ENTRIES_PER_APPEND, MAX_BATCH, MAX_MESSAGE_BYTES, MAX_VISIBILITY_TIMEOUT, QueueConfig,
};
pub use queue_error::QueueError;
pub use queue_node::{QueueNode, Ready};
pub use queue_service::QueueService;
pub use sink::{FencedGallery, Publication, RefusedWrite};
pub use state_machine::{Command, CommandOutput, QueueStateMachine};
pub use upload::Upload;

/// Locks a mutex that tasks share (counters, a host's deques, the gallery).
/// A poisoned lock means a panic elsewhere while it was held, which is
/// reported where it happened; every change these mutexes guard is made in
/// one step, so what they hold is still sound and the lock is taken over.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
