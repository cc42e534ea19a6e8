//! One queue per worker, and what a worker takes next.
//!
//! The runtime ([`Cluster`](crate::Cluster)) pushes each placed item into its
//! worker's queue and asks each worker's queue for the next item when the
//! worker is free. [`WorkerQueues`] is that interface; two disciplines
//! implement it:
//!
//! - [`FifoQueues`] (given): a worker runs what was placed on it, oldest
//!   first, and nothing else. An idle worker next to a long queue stays idle.
//! - [`StealingDeques`](crate::StealingDeques) (exercise 2.3): a worker that
//!   runs dry steals half of another worker's queue.
//!
//! The interface is synchronous and works on positions (0 for the first
//! worker), not on tasks or threads, so one implementation serves both the
//! simulation and the real-CPU benchmark on operating-system threads.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use coordination::SimRng;

/// Per-worker queues, addressed by worker position (0 for the first worker).
pub trait WorkerQueues<T>: Send + Sync + 'static {
    /// Empty queues for `workers` workers (at least one).
    fn for_workers(workers: usize) -> Self
    where
        Self: Sized;

    /// Queues `item` for the worker at `owner`.
    fn push(&self, owner: usize, item: T);

    /// The next item for the worker at `worker` to run, if it has (or can
    /// find) one. `rng` decides any random choice, such as a victim to steal
    /// from.
    fn next(&self, worker: usize, rng: &mut SimRng) -> Option<T>;

    /// How many items wait in the queue of the worker at `owner`.
    fn queued(&self, owner: usize) -> usize;

    /// How many times a worker took items from another's queue.
    fn steals(&self) -> u64 {
        0
    }
}

/// Plain first-in, first-out queues: a worker runs only what was placed on
/// it.
pub struct FifoQueues<T> {
    /// One queue per worker. A std mutex each: held only to push or pop,
    /// never across an `.await`.
    queues: Vec<Mutex<VecDeque<T>>>,
}

impl<T: Send + 'static> WorkerQueues<T> for FifoQueues<T> {
    fn for_workers(workers: usize) -> Self {
        Self {
            queues: (0..workers).map(|_| Mutex::new(VecDeque::new())).collect(),
        }
    }

    fn push(&self, owner: usize, item: T) {
        lock(&self.queues[owner]).push_back(item);
    }

    fn next(&self, worker: usize, _rng: &mut SimRng) -> Option<T> {
        lock(&self.queues[worker]).pop_front()
    }

    fn queued(&self, owner: usize) -> usize {
        lock(&self.queues[owner]).len()
    }
}

/// Locks one queue. A poisoned lock means a panic elsewhere while it was
/// held; a push or a pop cannot leave a queue half changed, so the queue is
/// still sound and the panic that matters is reported where it happened.
fn lock<T>(queue: &Mutex<VecDeque<T>>) -> std::sync::MutexGuard<'_, VecDeque<T>> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}
