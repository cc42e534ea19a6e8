//! A multi-pass pipeline: image stages joined by queues that deliver at
//! least once.
//!
//! ## The problem
//!
//! An upload goes through four stages: **decode** the file, **resize** it,
//! cut a **thumbnail**, **publish** it to the gallery. Each stage is a pool of
//! workers reading from a queue and writing to the next one, as with SQS
//! queues between Lambda functions or Service Bus queues between services.
//! Such queues promise *at-least-once* delivery: a worker that crashes after
//! doing its work but before acknowledging the message gets it again after
//! the visibility timeout, and a standard queue sometimes hands out a copy
//! on its own. Every stage therefore sees some images twice, and a stage that
//! is not idempotent passes the duplicate on: the gallery shows the same
//! photo twice, or the user gets two notifications.
//!
//! ## The design
//!
//! - [`Stage`], [`Job`], [`Artifact`]: the four stages and what flows between
//!   them. The first three transform their input deterministically; the last
//!   publishes.
//! - [`StageQueue`]: one per stage, SQS-like: receipts, a visibility timeout,
//!   occasional duplicate deliveries, and optional deduplication by a
//!   [`DeduplicationId`] within a window (SQS FIFO's `MessageDeduplicationId`,
//!   5 minutes).
//! - [`Gallery`]: the outside world the last stage publishes to, with
//!   optional [`IdempotencyKey`]s (Stripe-style: a repeated key returns the
//!   first result and does nothing).
//! - [`Effects`]: what a stage handler may do (read and write the stage
//!   store, forward a job, publish), each of which may crash the worker right
//!   after it took effect, at a seeded rate.
//! - [`run_pipeline`]: takes images through the stages with a handler,
//!   crashing workers between process and acknowledge, and reports what the
//!   gallery shows ([`PipelineReport`]). [`naive_stage`] is the handler that
//!   trusts the queue; exercise 4.5 writes the one that does not.
//!
//! ## What is left out
//!
//! Concurrency inside a stage: the runner handles one delivery at a time,
//! in an order drawn from the seed, so two workers never race on the same
//! image. Races are what conditional writes and transactions solve in
//! production; here the lesson is the duplicates themselves. Time is a
//! simulated number advanced by the runner, not a clock.

mod effects;
mod gallery;
mod queue;
mod runner;
mod stage;

pub use effects::{Crashed, Effects, StageStore};
pub use gallery::{Gallery, IdempotencyKey, Post};
pub use queue::{DeduplicationId, Delivery, StageQueue};
pub use runner::{
    Handler, PipelineError, PipelineFaults, PipelineReport, naive_stage, run_pipeline,
};
pub use stage::{Artifact, ImageId, Job, Stage};
