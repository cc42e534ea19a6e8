//! Exercise 2.3: work stealing.
//!
//! Least-loaded decides once, when an item arrives, on what it could see
//! then. A heavy item that lands after a lucky guess still waits behind it.
//! Work stealing lets the decision be corrected later, by the workers
//! themselves: a worker whose queue runs dry picks another worker at random
//! (the *victim*) and takes half of its queue. Idle workers do the balancing,
//! so it costs nothing while everyone is busy (Blumofe and Leiserson,
//! "Scheduling Multithreaded Computations by Work Stealing", 1999).
//!
//! Each worker owns a double-ended queue. The owner takes from the front,
//! oldest first, so items are served in arrival order; thieves take from the
//! back, so owner and thief work at opposite ends. A thief takes the back half
//! (rounded up), runs the oldest of what it took at once and keeps the rest in
//! its own queue: one steal brings enough work to be worth its cost.
//!
//! The structure is synchronous: one std mutex per deque, never two held at
//! once, so no lock order can deadlock. The deques hold the rule themselves:
//! a thread that asks for a second deque while it holds one is stopped with
//! a message, on every run, rather than deadlocking on the unlucky ones. The same code runs on the simulated
//! cluster and on operating-system threads in the benchmark
//! (`cargo run --release -p workshop2 --example bench_stealing`).
//!
//! Left out: lock-free deques (Chase and Lev, "Dynamic Circular Work-Stealing
//! Deque", 2005), which is what rayon and tokio use. They make each operation
//! cheaper, not the schedule better.
//!
//! - Read: `workshop2/README.md`, "Implement", 2.3.
//! - Check: `cargo workshop check 2.3`, or all of its output with
//!   `cargo test -p workshop2 --test workshop ex2_3_work_stealing`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use coordination::{
    ConfigError, DistributeError, RunReport, SimRng, WorkDistributor, WorkItem, async_trait,
};
use rand::RngExt;

use crate::tracked_mutex::{LockKind, TrackedMutex};
use crate::{Arrival, Cluster, ClusterRun, RoundRobin, WorkerQueues};

/// A worker's deque, and the rule that keeps two thieves from deadlocking.
static DEQUE: LockKind = LockKind {
    what: "a worker's deque",
    rule: "Never hold two deque locks at once: a thief that keeps its own deque locked while \
           it takes the victim's deadlocks as soon as two workers rob each other at the same \
           moment (two locks taken in different orders). Take the loot out of the victim's \
           deque, let that lock go (end the block), then lock your own.",
};

/// One deque per worker; idle workers steal half of a random victim's.
pub struct StealingDeques<T> {
    /// One deque per worker: the owner's end is the front, thieves take from
    /// the back. Tracked: a thread that asks for a second deque while it
    /// holds one is stopped with [`DEQUE`]'s rule.
    deques: Vec<TrackedMutex<VecDeque<T>>>,
    /// Successful steals so far.
    steals: AtomicU64,
}

impl<T> StealingDeques<T> {
    /// Empty deques for `workers` workers.
    ///
    /// # Errors
    /// [`ConfigError::NoWorkers`] for 0.
    pub fn new(workers: usize) -> Result<Self, ConfigError> {
        if workers == 0 {
            return Err(ConfigError::NoWorkers);
        }
        Ok(Self {
            deques: (0..workers)
                .map(|_| TrackedMutex::new(VecDeque::new(), &DEQUE))
                .collect(),
            steals: AtomicU64::new(0),
        })
    }

    /// How many workers there are.
    pub fn workers(&self) -> usize {
        self.deques.len()
    }

    /// Adds `item` at the back of the deque of the worker at `owner`.
    pub fn push(&self, owner: usize, item: T) {
        self.deques[owner].lock().push_back(item);
    }

    /// How many items wait in the deque of the worker at `owner`.
    pub fn len(&self, owner: usize) -> usize {
        self.deques[owner].lock().len()
    }

    /// Whether every deque is empty.
    pub fn is_empty(&self) -> bool {
        (0..self.deques.len()).all(|owner| self.len(owner) == 0)
    }

    /// Successful steals so far.
    pub fn steal_count(&self) -> u64 {
        self.steals.load(Ordering::Relaxed)
    }

    /// The owner takes its oldest item, from the front of its deque.
    pub fn pop(&self, owner: usize) -> Option<T> {
        self.deques[owner].lock().pop_front()
    }

    /// The worker at `thief` takes the back half (rounded up) of `victim`'s
    /// deque: it gets the oldest of those to run now, and the rest join the
    /// back of its own deque in their order. `None`, and no steal counted,
    /// when the victim has nothing or is the thief itself.
    pub fn steal(&self, thief: usize, victim: usize) -> Option<T> {
        if thief == victim {
            return None;
        }
        let mut taken = {
            let mut deque = self.deques[victim].lock();
            let keep = deque.len() / 2;
            deque.split_off(keep)
        };
        // The victim's lock is released before the thief's is taken: never
        // two at once, so two thieves robbing each other cannot deadlock.
        let first = taken.pop_front()?;
        self.steals.fetch_add(1, Ordering::Relaxed);
        self.deques[thief].lock().append(&mut taken);
        Some(first)
    }

    /// The next item for the worker at `worker`: its own oldest, or else one
    /// stolen from the first victim with work, trying every other worker once,
    /// starting at a random one.
    pub fn next(&self, worker: usize, rng: &mut SimRng) -> Option<T> {
        if let Some(item) = self.pop(worker) {
            return Some(item);
        }
        let workers = self.deques.len();
        let start = rng.random_range(0..workers);
        (0..workers)
            .map(|offset| (start + offset) % workers)
            .find_map(|victim| self.steal(worker, victim))
    }
}

impl<T: Send + 'static> WorkerQueues<T> for StealingDeques<T> {
    fn for_workers(workers: usize) -> Self {
        Self::new(workers).expect("a cluster has at least one worker")
    }

    fn push(&self, owner: usize, item: T) {
        StealingDeques::push(self, owner, item);
    }

    fn next(&self, worker: usize, rng: &mut SimRng) -> Option<T> {
        StealingDeques::next(self, worker, rng)
    }

    fn queued(&self, owner: usize) -> usize {
        self.len(owner)
    }

    fn steals(&self) -> u64 {
        self.steal_count()
    }
}

/// Round-robin placement over stealing deques: where an item first lands
/// matters little, because idle workers fix it.
pub struct WorkStealingDistributor<I: WorkItem> {
    /// Where the items run.
    cluster: Cluster<I>,
}

impl<I: WorkItem> WorkStealingDistributor<I> {
    /// A work-stealing distributor over `cluster`.
    pub fn new(cluster: Cluster<I>) -> Self {
        Self { cluster }
    }

    /// Runs `arrivals`, each at its time.
    ///
    /// # Errors
    /// As [`Cluster::run`].
    pub async fn run(&self, arrivals: Vec<Arrival<I>>) -> Result<ClusterRun, DistributeError> {
        let mut run = self
            .cluster
            .run::<RoundRobin, StealingDeques<I>>(RoundRobin::new(), arrivals)
            .await?;
        run.strategy = "work stealing";
        Ok(run)
    }
}

#[async_trait]
impl<I: WorkItem> WorkDistributor<I> for WorkStealingDistributor<I> {
    async fn distribute(&self, items: Vec<I>) -> Result<RunReport, DistributeError> {
        Ok(self.run(Arrival::all_at_once(items)).await?.report)
    }
}
