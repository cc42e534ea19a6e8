//! The thing that does the work.
//!
//! A worker takes one item and either finishes it or says why it could not. It
//! knows nothing about retries, queues or other workers: deciding what happens
//! after a failure is the coordinator's job, and that separation is the subject
//! of the whole series.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{ConfigError, WorkError, WorkItem, WorkerId};

/// Processes items of type `I`, one at a time per call.
///
/// The trait uses `async-trait` because coordinators keep workers as trait
/// objects (`Arc<dyn Worker<I>>`), mixing kinds in one pool, and an `async fn`
/// in a trait is not yet usable through `dyn` without it.
#[async_trait]
pub trait Worker<I: WorkItem>: Send + Sync {
    /// This worker's id, unique within its pool.
    fn id(&self) -> WorkerId;

    /// Does the work for `item`, taking as long as it takes.
    ///
    /// # Errors
    /// A [`WorkError`] saying why this attempt failed and whether it is worth
    /// another.
    async fn process(&self, item: &I) -> Result<(), WorkError>;
}

/// A pool of workers that is never empty and never has two workers with one id.
///
/// Distributors take a `Workers` instead of a bare `Vec`, so "zero workers" is
/// refused once, here, with a typed error, and no distributor has to check it.
pub struct Workers<I: WorkItem> {
    /// In the order given; distributors that assign by position rely on it.
    workers: Vec<Arc<dyn Worker<I>>>,
}

impl<I: WorkItem> Workers<I> {
    /// Checks the pool.
    ///
    /// # Errors
    /// [`ConfigError::NoWorkers`] for an empty pool,
    /// [`ConfigError::DuplicateWorker`] when two workers share an id.
    pub fn new(workers: Vec<Arc<dyn Worker<I>>>) -> Result<Self, ConfigError> {
        if workers.is_empty() {
            return Err(ConfigError::NoWorkers);
        }
        let mut seen = BTreeSet::new();
        for worker in &workers {
            if !seen.insert(worker.id()) {
                return Err(ConfigError::DuplicateWorker(worker.id()));
            }
        }
        Ok(Self { workers })
    }

    /// How many workers there are (at least one).
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Always `false`: a pool has at least one worker. Present because a type
    /// with `len` is expected to have it.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The workers, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Worker<I>>> {
        self.workers.iter()
    }
}

impl<I: WorkItem> Clone for Workers<I> {
    fn clone(&self) -> Self {
        Self {
            workers: self.workers.clone(),
        }
    }
}
