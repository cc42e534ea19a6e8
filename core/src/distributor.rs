//! The coordinator: hands items to workers and decides what happens after.
//!
//! Every strategy in the series (naive, retrying, backing off, dead-lettering,
//! round-robin, work stealing) is a [`WorkDistributor`]. One signature for all
//! of them is what lets a demo run several side by side on the same items and
//! print one table.

use async_trait::async_trait;

use crate::{RunReport, WorkItem, WorkItemId};

/// Runs a batch of items on a pool of workers and reports what became of each.
///
/// `async-trait` for the same reason as [`Worker`](crate::Worker): demos keep
/// distributors as `Box<dyn WorkDistributor<I>>` to compare them.
#[async_trait]
pub trait WorkDistributor<I: WorkItem>: Send + Sync {
    /// Processes `items` until each one has either succeeded, been set aside,
    /// or been given up on, and reports every outcome (a given-up item shows as
    /// lost; nothing disappears from the report).
    ///
    /// # Errors
    /// [`DistributeError`] when the batch cannot be accepted; it is checked
    /// before any item starts, so a refused batch leaves nothing half done.
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError>;
}

/// Why a batch was refused before any of it ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistributeError {
    /// Two items in the batch share an id, so their outcomes could not be told
    /// apart.
    #[error("{0} appears twice in the batch; every item needs its own id")]
    DuplicateItem(WorkItemId),
}
