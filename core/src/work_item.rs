//! The unit of work.
//!
//! A coordinator needs very little from the work it moves around: a stable id to
//! track it by, a way to copy it (a retry or a dead-letter record keeps the item),
//! and the ability to cross into a worker task. What the work *is* (an image to
//! resize, a payment to settle) stays with the item type and its workers.

use std::fmt;

use crate::WorkItemId;

/// Something a [`Worker`](crate::Worker) can process.
///
/// `Clone` because a coordinator that retries or dead-letters an item keeps its
/// own copy; `Send + Sync + 'static` so the item can travel to a worker task.
pub trait WorkItem: Clone + fmt::Debug + Send + Sync + 'static {
    /// The id this item keeps through every attempt.
    fn id(&self) -> WorkItemId;
}
