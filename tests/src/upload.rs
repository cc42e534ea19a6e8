//! The photo service's messages: one upload to process, as a message body.
//!
//! The queue never looks inside a body; the producers and consumers of the
//! photo service agree on this one. A body names the image and its size,
//! and a corrupt upload says so, which is how a test plants poison messages
//! it can recognise afterwards: `image-42 512kb`, `image-43 300kb corrupt`.
//! A body that does not read as an upload at all is poison too, of the
//! malformed kind.

use std::fmt;

use coordination::{Probability, Seed, WorkError};
use rand::RngExt;
use workshop1::ImageWorkItem;
use workshop4::pipeline::{Artifact, DeduplicationId, ImageId, Stage};

/// One uploaded image waiting to be processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Upload {
    /// Which image.
    pub image: ImageId,
    /// Its size in kilobytes, which sets how long processing takes.
    pub size_kb: u32,
    /// Whether the file is corrupt: every attempt fails permanently.
    pub corrupt: bool,
}

impl Upload {
    /// `count` uploads, images 1..=count, of 50 to 500 KB, each corrupt
    /// with probability `corrupt_rate`, drawn from `seed`.
    pub fn batch(count: u64, corrupt_rate: Probability, seed: Seed) -> Vec<Self> {
        let mut rng = seed.derive(UPLOAD_STREAM).rng();
        (1..=count)
            .map(|image| Self {
                image: ImageId::new(image),
                size_kb: rng.random_range(50..=500),
                corrupt: corrupt_rate.sample(&mut rng),
            })
            .collect()
    }

    /// Reads a message body.
    ///
    /// # Errors
    /// A permanent [`WorkError`] naming what is wrong: a malformed body
    /// will never read differently.
    pub fn parse(body: &str) -> Result<Self, WorkError> {
        let malformed = || WorkError::permanent(format!("malformed upload message {body:?}"));
        let mut words = body.split_whitespace();
        let image = words
            .next()
            .and_then(|word| word.strip_prefix("image-"))
            .and_then(|number| number.parse().ok())
            .map(ImageId::new)
            .ok_or_else(malformed)?;
        let size_kb = words
            .next()
            .and_then(|word| word.strip_suffix("kb"))
            .and_then(|number| number.parse().ok())
            .ok_or_else(malformed)?;
        let corrupt = match words.next() {
            None => false,
            Some("corrupt") => true,
            Some(_) => return Err(malformed()),
        };
        if words.next().is_some() {
            return Err(malformed());
        }
        Ok(Self {
            image,
            size_kb,
            corrupt,
        })
    }

    /// The message body.
    pub fn body(&self) -> String {
        self.to_string()
    }

    /// The deduplication id a producer sends it with: the same on every
    /// send of this upload, so a producer that crashed after sending and
    /// sends again does not queue it twice.
    pub fn deduplication_id(&self) -> DeduplicationId {
        DeduplicationId::new(format!("upload/{}", self.image))
    }

    /// The work for Workshop 1's image workers.
    pub fn work_item(&self) -> ImageWorkItem {
        let item = ImageWorkItem::new(self.image.get(), self.size_kb);
        if self.corrupt { item.corrupt() } else { item }
    }

    /// What processing it produces: the upload through Workshop 4's decode,
    /// resize and thumbnail stages. Deterministic, so every consumer that
    /// processes it produces the same thumbnail.
    pub fn thumbnail(&self) -> Artifact {
        [Stage::Decode, Stage::Resize, Stage::Thumbnail]
            .into_iter()
            .fold(Artifact::upload(self.image), |artifact, stage| {
                stage.process(artifact)
            })
    }
}

impl fmt::Display for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}kb", self.image, self.size_kb)?;
        if self.corrupt {
            f.write_str(" corrupt")?;
        }
        Ok(())
    }
}

/// Names the stream of a run's seed that draws the uploads.
const UPLOAD_STREAM: u64 = 0x0C0F_FEE5;
