//! The same photo service on a real engine: a three-server NATS JetStream
//! cluster (`--features jetstream`).
//!
//! The producers and consumer hosts are the capstone's own
//! ([`run_producer`](crate::run_producer),
//! [`run_consumer`](crate::run_consumer)), with the learner's
//! backoff, dead-letter decision, placement, stealing, fencing gate and
//! idempotency keys; only the queue's verbs are JetStream's
//! ([`JetStreamQueue`]). Workshop 3's leases live in a key-value bucket
//! ([`KvLease`]), with the revision as the fencing token.
//!
//! - [`ServerBinary`]: which `nats-server` runs, and whether it is new
//!   enough;
//! - [`ServerCluster`]: three server processes, killed, paused and
//!   restarted on command, stopped on drop;
//! - [`JetStreamQueue`]: the queue verbs, and the mapping table;
//! - [`KvLease`] and [`FencedRecord`]: leases and fenced writes on a bucket;
//! - [`ConsumerProcess`]: one consumer in a process of its own, for the
//!   exam to pause (SIGSTOP) and kill (SIGKILL);
//! - [`JetStreamExam`]: the final exam on the real engine, with the same
//!   report as the simulation's.

mod consumer_process;
mod exam;
mod jetstream_queue;
mod kv_lease;
mod server_binary;
mod server_cluster;

pub use consumer_process::{CONSUMER_FLAGS, ConsumerLine, ConsumerProcess, consumer_main};
pub use exam::{
    ConsumerProcesses, JetStreamExam, JetStreamReport, connect, connect_to, stream_leader,
    wait_for_jetstream,
};
pub use jetstream_queue::{
    CONSUMER, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT, JetStreamQueue, JetStreamSettings,
    QUEUE_STREAM, QUEUE_SUBJECT, create_queue, dead_letters, redrive,
};
pub use kv_lease::{FencedRecord, KvLease, LeaseError};
pub use server_binary::{
    MINIMUM_VERSION, PINNED_VERSION, ServerBinary, ServerBinaryError, ServerVersion,
};
pub use server_cluster::{ServerCluster, ServerError};
