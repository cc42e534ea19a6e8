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

use crate::pipeline::{
    Crashed, DeduplicationId, Delivery, Effects, IdempotencyKey, ImageId, Job, Stage,
};

/// Handles one delivery so that handling it again changes nothing.
///
/// # Errors
/// [`Crashed`] when the worker crashes after an effect; the runner does not
/// acknowledge, and the delivery comes again.
pub fn idempotent_stage(delivery: &Delivery, effects: &mut Effects<'_>) -> Result<(), Crashed> {
    let job = delivery.job;
    let Some(next) = job.stage.next() else {
        return effects.publish_once(publication_key(job.image), job.image, job.input);
    };
    let output = match effects.stored(job.image, job.stage) {
        Some(output) => output,
        None => {
            let output = job.stage.process(job.input);
            effects.store(job.image, job.stage, output)?;
            output
        }
    };
    let forwarded = Job {
        image: job.image,
        stage: next,
        input: output,
    };
    effects.forward_once(forwarded, deduplication_id(job.image, next))
}

/// The id of the message that takes `image` to `stage`: the same for every
/// send of it.
pub fn deduplication_id(image: ImageId, stage: Stage) -> DeduplicationId {
    DeduplicationId::new(format!("{image}/{stage}"))
}

/// The key of `image`'s publication: one per image.
pub fn publication_key(image: ImageId) -> IdempotencyKey {
    IdempotencyKey::new(format!("publish/{image}"))
}
