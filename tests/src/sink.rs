//! Where processed uploads go: the gallery, behind two guards.
//!
//! ## The problem
//!
//! The queue delivers at least once. A consumer that crashes after
//! publishing a photo and before deleting its message leaves the message to
//! come back, and the next consumer publishes it again. A consumer that
//! stalls past its visibility timeout is still working when the message is
//! handed to someone else; when it wakes, it writes a result that is no
//! longer its to write. Both are the queue keeping its promise; neither may
//! show on the gallery.
//!
//! ## The design
//!
//! Two guards, one per failure, both from the workshops:
//!
//! - **Fencing** (Workshop 3, exercise 3.5): every write carries the
//!   fencing token of the receipt it was made under (the message's receive
//!   count), and the sink keeps one [`FencingGate`] per image. A write with
//!   a token below one the gate has admitted comes from a consumer that lost
//!   the message to a later receive, and is refused.
//! - **Idempotency** (Workshop 4, exercise 4.5): the gallery publishes under
//!   the image's [`publication_key`]; a repeat of the key, from a redelivery
//!   after a crash, is answered with the first post and publishes nothing.
//!
//! Fencing alone would admit the redelivery (its token is newer);
//! idempotency alone would let a stale writer publish first, which matters
//! as soon as two attempts can produce different results. Together, each
//! image is published once, by a consumer that held the message when it
//! wrote.
//!
//! ## What is left out
//!
//! Durability and a network between consumers and the sink: it stands for
//! a database the consumers write to, and is shared in memory.

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::FencingToken;
use workshop3::{FencingGate, WriteRefused};
use workshop4::idempotent_stage::publication_key;
use workshop4::pipeline::{Artifact, Gallery, ImageId};

/// What a publication did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// The image is in the gallery now.
    Published,
    /// It was there already, from an earlier delivery: nothing changed.
    AlreadyPublished,
}

/// A write the fencing gate refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedWrite {
    /// Which image.
    pub image: ImageId,
    /// The token it carried.
    pub token: FencingToken,
    /// Why.
    pub reason: WriteRefused,
}

/// The gallery, fenced per image and published to once per image; see the
/// module documentation.
#[derive(Debug, Clone, Default)]
pub struct FencedGallery {
    /// What users see.
    gallery: Gallery,
    /// One gate per image written to.
    gates: BTreeMap<ImageId, FencingGate>,
    /// Writes the gates refused, in order.
    refused: Vec<RefusedWrite>,
    /// Publications that found the image already published.
    repeats: u64,
}

impl FencedGallery {
    /// An empty gallery.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes `thumbnail` for `image`, written under `token`, at `now`.
    ///
    /// # Errors
    /// [`WriteRefused::StaleToken`] when a write with a newer token for the
    /// same image was admitted before: the writer no longer holds the
    /// message.
    pub fn publish(
        &mut self,
        image: ImageId,
        token: FencingToken,
        thumbnail: Artifact,
        now: Duration,
    ) -> Result<Publication, WriteRefused> {
        if let Err(reason) = self.gates.entry(image).or_default().admit(Some(token)) {
            self.refused.push(RefusedWrite {
                image,
                token,
                reason,
            });
            return Err(reason);
        }
        let before = self.gallery.posts().len();
        self.gallery
            .publish_once(publication_key(image), image, thumbnail, now);
        if self.gallery.posts().len() == before {
            self.repeats += 1;
            Ok(Publication::AlreadyPublished)
        } else {
            Ok(Publication::Published)
        }
    }

    /// What users see.
    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    /// How many posts each image has, sorted by image.
    pub fn posts_per_image(&self) -> BTreeMap<ImageId, usize> {
        self.gallery.posts_per_image()
    }

    /// Writes refused as stale, in order.
    pub fn refused(&self) -> &[RefusedWrite] {
        &self.refused
    }

    /// Publications that found their image already published.
    pub fn repeats(&self) -> u64 {
        self.repeats
    }
}
