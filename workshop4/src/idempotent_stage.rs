//! Exercise 4.5: an idempotent stage, so that every image is published
//! exactly once.
//!
//! The queues between stages deliver at least once: a worker that crashes
//! between doing its work and acknowledging the message gets it again, and a
//! queue sometimes hands out a copy on its own. `naive_stage` (given) trusts
//! the queue, and the gallery ends up showing some photos twice.
//!
//! An idempotent stage gives the same result however many times it handles
//! the same message. Three effects, three techniques:
//!
//! - **store** under a key derived from the input (image and stage): writing
//!   it again overwrites the same bytes. Idempotent by construction. Reading
//!   it first also spares the work of recomputing after a crash.
//! - **forward** with a deduplication id derived from the message (image and
//!   next stage), so the next queue drops a second send within its window,
//!   as an SQS FIFO queue does with `MessageDeduplicationId`.
//! - **publish** with an idempotency key derived from the image, so the
//!   gallery posts once and answers a repeat with the first post, as
//!   Stripe's API does with the `Idempotency-Key` header.
//!
//! Every key must be the same on every retry of the same message and
//! different for different messages. The receipt and the attempt number
//! change on every delivery: a key made from them deduplicates nothing.
//!
//! - Read: `workshop4/README.md`, "Implement", 4.5.
//! - Check: `cargo workshop check 4.5`, or all of its output with
//!   `cargo test -p workshop4 --test workshop ex4_5_idempotent_stage`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use crate::pipeline::{
    Crashed, DeduplicationId, Delivery, Effects, IdempotencyKey, ImageId, Job, Stage,
};

/// Handles one delivery so that handling it again changes nothing.
///
/// # Errors
/// [`Crashed`] when the worker crashes after an effect; the runner does not
/// acknowledge, and the delivery comes again.
pub fn idempotent_stage(delivery: &Delivery, effects: &mut Effects<'_>) -> Result<(), Crashed> {
    // TODO(4.5): start from `naive_stage` in `src/pipeline/runner.rs`. At the
    // last stage (`job.stage.next()` is `None`), publish with
    // `effects.publish_once` under `publication_key`. Otherwise reuse the
    // stored output if there is one (`effects.stored`), else process and
    // store it; then `effects.forward_once` the job for the next stage under
    // `deduplication_id`. Propagate every `Crashed` with `?`.
    todo!("exercise 4.5: handle a delivery idempotently (see workshop4/README.md, Implement 4.5)")
}

/// The id of the message that takes `image` to `stage`: the same for every
/// send of it.
pub fn deduplication_id(image: ImageId, stage: Stage) -> DeduplicationId {
    // TODO(4.5): a text made of what identifies the message (the image and
    // the stage it goes to), and nothing that changes between deliveries.
    todo!(
        "exercise 4.5: name the message for deduplication (see workshop4/README.md, Implement 4.5)"
    )
}

/// The key of `image`'s publication: one per image.
pub fn publication_key(image: ImageId) -> IdempotencyKey {
    // TODO(4.5): a text that names this image's publication, the same on
    // every retry.
    todo!("exercise 4.5: name the publication (see workshop4/README.md, Implement 4.5)")
}
