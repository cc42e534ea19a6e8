//! What a stage handler may do, and the crashes that interrupt it.

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::{Probability, SimRng};

use super::{Artifact, DeduplicationId, Gallery, IdempotencyKey, ImageId, Job, Stage, StageQueue};

/// The worker died right after its last effect took place. Whatever it did
/// stays done; whatever it did not do, it did not do; the message it held is
/// not acknowledged and will be delivered again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the worker crashed")]
pub struct Crashed;

/// Where stages keep their outputs, under a key made of the image and the
/// stage (an object store's `resized/image-7`). Writing the same key again
/// overwrites it: idempotent by construction.
#[derive(Debug, Clone, Default)]
pub struct StageStore {
    outputs: BTreeMap<(ImageId, Stage), Artifact>,
    /// How many writes were made, repeated ones included.
    writes: u64,
}

impl StageStore {
    /// The output of `stage` for `image`, if stored.
    pub fn get(&self, image: ImageId, stage: Stage) -> Option<Artifact> {
        self.outputs.get(&(image, stage)).copied()
    }

    /// How many writes were made, repeated ones included.
    pub fn writes(&self) -> u64 {
        self.writes
    }
}

/// The effects a stage handler may have, each of which may crash the worker
/// right after it happened.
pub struct Effects<'a> {
    /// Every stage's queue, to forward to.
    pub(super) queues: &'a mut BTreeMap<Stage, StageQueue>,
    /// The stages' outputs.
    pub(super) store: &'a mut StageStore,
    /// The outside world.
    pub(super) gallery: &'a mut Gallery,
    /// Pipeline time now.
    pub(super) now: Duration,
    /// Chance of a crash right after each effect.
    pub(super) crash_rate: Probability,
    /// Draws the crashes.
    pub(super) rng: &'a mut SimRng,
    /// Whether the worker has crashed: a dead worker has no more effects.
    pub(super) crashed: bool,
}

impl Effects<'_> {
    /// The stored output of `stage` for `image`, if any. Reading has no
    /// effect, so it cannot crash.
    pub fn stored(&self, image: ImageId, stage: Stage) -> Option<Artifact> {
        self.store.get(image, stage)
    }

    /// Stores `output` as `stage`'s output for `image`.
    ///
    /// # Errors
    /// [`Crashed`], after the write took place.
    pub fn store(&mut self, image: ImageId, stage: Stage, output: Artifact) -> Result<(), Crashed> {
        self.alive()?;
        self.store.outputs.insert((image, stage), output);
        self.store.writes += 1;
        self.maybe_crash()
    }

    /// Sends `job` to its stage's queue, as a new message every time.
    ///
    /// # Errors
    /// [`Crashed`], after the send took place.
    pub fn forward(&mut self, job: Job) -> Result<(), Crashed> {
        self.alive()?;
        if let Some(queue) = self.queues.get_mut(&job.stage) {
            queue.send(job);
        }
        self.maybe_crash()
    }

    /// Sends `job` to its stage's queue unless a message with `id` was sent
    /// there within the deduplication window.
    ///
    /// # Errors
    /// [`Crashed`], after the send took place (or was dropped).
    pub fn forward_once(&mut self, job: Job, id: DeduplicationId) -> Result<(), Crashed> {
        self.alive()?;
        let now = self.now;
        if let Some(queue) = self.queues.get_mut(&job.stage) {
            queue.send_deduplicated(job, id, now);
        }
        self.maybe_crash()
    }

    /// Publishes `artifact` for `image` to the gallery, as a new post every
    /// time.
    ///
    /// # Errors
    /// [`Crashed`], after the post took place.
    pub fn publish(&mut self, image: ImageId, artifact: Artifact) -> Result<(), Crashed> {
        self.alive()?;
        self.gallery.publish(image, artifact, self.now);
        self.maybe_crash()
    }

    /// Publishes `artifact` for `image` unless `key` was used before.
    ///
    /// # Errors
    /// [`Crashed`], after the post took place (or was recognised as done).
    pub fn publish_once(
        &mut self,
        key: IdempotencyKey,
        image: ImageId,
        artifact: Artifact,
    ) -> Result<(), Crashed> {
        self.alive()?;
        self.gallery.publish_once(key, image, artifact, self.now);
        self.maybe_crash()
    }

    fn alive(&self) -> Result<(), Crashed> {
        if self.crashed { Err(Crashed) } else { Ok(()) }
    }

    fn maybe_crash(&mut self) -> Result<(), Crashed> {
        if self.crash_rate.sample(self.rng) {
            self.crashed = true;
            return Err(Crashed);
        }
        Ok(())
    }
}
