//! The work of this workshop: render jobs of very different sizes.
//!
//! A render farm turns uploaded scenes into frames. Most jobs are a thumbnail
//! or a short clip; a few are a full-resolution film scene that takes twenty
//! times as long. A [`Job`] knows only how long it takes on a machine of speed
//! 1: how long it really takes depends on the machine it lands on, and which
//! machine that is, is the whole subject of this workshop.

use std::time::Duration;

use coordination::{WorkItem, WorkItemId};

/// One render job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Stable through every attempt.
    id: WorkItemId,
    /// How long it takes on a machine of speed 1.
    work: Duration,
}

impl Job {
    /// Job `id` taking `work` on a machine of speed 1.
    pub const fn new(id: u64, work: Duration) -> Self {
        Self {
            id: WorkItemId::new(id),
            work,
        }
    }

    /// How long it takes on a machine of speed 1; a machine of speed 0.25
    /// takes four times as long.
    pub const fn work(&self) -> Duration {
        self.work
    }
}

impl WorkItem for Job {
    fn id(&self) -> WorkItemId {
        self.id
    }
}

/// An item and the moment it reaches the distributor, since the run began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival<I> {
    /// When it arrives.
    pub at: Duration,
    /// What arrives.
    pub item: I,
}

impl<I> Arrival<I> {
    /// Every item arriving at once, at the start of the run: a batch.
    pub fn all_at_once(items: impl IntoIterator<Item = I>) -> Vec<Self> {
        items
            .into_iter()
            .map(|item| Self {
                at: Duration::ZERO,
                item,
            })
            .collect()
    }
}
