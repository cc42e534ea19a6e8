//! The work of this workshop: images to process.
//!
//! A photo-sharing service resizes every upload into thumbnails. Uploads
//! arrive in bursts, a few are corrupt, and the resizing service is shared and
//! sometimes overloaded. An [`ImageWorkItem`] is one upload: its size sets how
//! long it takes to process, and a corrupt one can never succeed.

use std::time::Duration;

use coordination::{Probability, Seed, WorkItem, WorkItemId};
use rand::RngExt;

/// One uploaded image waiting to be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageWorkItem {
    /// Stable through every retry.
    id: WorkItemId,
    /// The file name, for logs.
    name: String,
    /// Size in kilobytes; processing time grows with it.
    size_kb: u32,
    /// A corrupt image fails every attempt with a permanent error.
    corrupt: bool,
}

/// Fixed cost of any image: open the file, write the thumbnail.
const OVERHEAD: Duration = Duration::from_millis(20);
/// Variable cost: decoding and resizing, per kilobyte.
const PER_KB: Duration = Duration::from_micros(100);

impl ImageWorkItem {
    /// A healthy image with this id and size.
    pub fn new(id: u64, size_kb: u32) -> Self {
        Self {
            id: WorkItemId::new(id),
            name: format!("photo-{id:04}.jpg"),
            size_kb,
            corrupt: false,
        }
    }

    /// The same image, but corrupt: every attempt will fail permanently.
    pub fn corrupt(self) -> Self {
        Self {
            corrupt: true,
            ..self
        }
    }

    /// A seeded batch of `count` images, ids `1..=count`, sizes between 100 KB
    /// and 4 MB, each corrupt with probability `corrupt_rate`.
    pub fn batch(count: u64, corrupt_rate: Probability, seed: Seed) -> Vec<Self> {
        let mut rng = seed.derive(BATCH_STREAM).rng();
        (1..=count)
            .map(|id| {
                let image = Self::new(id, rng.random_range(100..=4_000));
                if corrupt_rate.sample(&mut rng) {
                    image.corrupt()
                } else {
                    image
                }
            })
            .collect()
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size in kilobytes.
    pub fn size_kb(&self) -> u32 {
        self.size_kb
    }

    /// Whether the image is corrupt.
    pub fn is_corrupt(&self) -> bool {
        self.corrupt
    }

    /// How long a healthy worker takes to process this image: 20 ms plus
    /// 0.1 ms per kilobyte (a 1 MB photo takes about 120 ms).
    pub fn processing_time(&self) -> Duration {
        OVERHEAD + PER_KB * self.size_kb
    }
}

impl WorkItem for ImageWorkItem {
    fn id(&self) -> WorkItemId {
        self.id
    }
}

/// Names the stream of a run's seed that generates batches.
const BATCH_STREAM: u64 = 0xBA7C;
