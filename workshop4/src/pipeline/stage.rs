//! The stages, and what flows between them.

use std::fmt;

/// Identifies one uploaded image through every stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(u64);

impl ImageId {
    /// Wraps a raw number as an image id.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "image-{}", self.0)
    }
}

/// What a stage produced: a stand-in for the bytes of a decoded bitmap, a
/// resized one, a thumbnail. Its value is a fingerprint of the content, so
/// equal artifacts are equal content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Artifact(u64);

impl Artifact {
    /// The upload itself, as it enters the pipeline.
    pub fn upload(image: ImageId) -> Self {
        Self(mix(image.0, 0))
    }

    /// The fingerprint.
    pub const fn fingerprint(self) -> u64 {
        self.0
    }
}

/// The four stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Reads the uploaded file into a bitmap.
    Decode,
    /// Scales the bitmap to the gallery's size.
    Resize,
    /// Cuts the small preview.
    Thumbnail,
    /// Puts the result in the gallery, where users see it.
    Publish,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 4] = [
        Stage::Decode,
        Stage::Resize,
        Stage::Thumbnail,
        Stage::Publish,
    ];

    /// The stage after this one; `None` after publishing.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Decode => Some(Stage::Resize),
            Stage::Resize => Some(Stage::Thumbnail),
            Stage::Thumbnail => Some(Stage::Publish),
            Stage::Publish => None,
        }
    }

    /// What this stage makes of `input`. Deterministic: the same input gives
    /// the same output, every time, on every worker. That is what makes
    /// doing it twice harmless; its *effects* (storing, forwarding,
    /// publishing) are what need care. Publishing transforms nothing: its
    /// output is its input.
    pub fn process(self, input: Artifact) -> Artifact {
        match self {
            Stage::Publish => input,
            stage => Artifact(mix(input.0, stage as u64 + 1)),
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Decode => "decode",
            Stage::Resize => "resize",
            Stage::Thumbnail => "thumbnail",
            Stage::Publish => "publish",
        })
    }
}

/// One image's work at one stage: the message in a stage's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Which image.
    pub image: ImageId,
    /// The stage that is to handle it.
    pub stage: Stage,
    /// What the previous stage produced (the upload, for decode).
    pub input: Artifact,
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.image, self.stage)
    }
}

/// A fingerprint of `value` and `salt`: the splitmix64 finaliser.
fn mix(value: u64, salt: u64) -> u64 {
    let mut z = value ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
