//! Per-worker queues on operating-system threads, for real CPU work.
//!
//! The simulation proves that a placement or stealing strategy is *right*;
//! only real threads show whether it is *fast*. [`run_on_threads`] runs a
//! batch through any [`WorkerQueues`], one thread per worker: each thread asks
//! its queue for the next item (its own, or, for
//! [`StealingDeques`](crate::StealingDeques), a stolen one) until every item
//! is done. It is the same `next` the simulated cluster calls, so the logic
//! measured here is the logic tested there.
//!
//! Design: items are dealt round-robin to the workers' queues up front, as a
//! dispatcher would; a shared counter of items not yet done tells a thread
//! with nothing to take whether to look again or stop, so an item a thief is
//! carrying between two deques is never mistaken for "all done". An idle
//! thread yields its time slice instead of sleeping: waking from a sleep
//! costs more than the wait.
//!
//! Left out: parking idle threads (rayon sleeps them after a while), and
//! adding work from inside a running item.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use coordination::{ConfigError, Seed};

use crate::WorkerQueues;

/// Runs `work` on every item with `threads` operating-system threads, each
/// taking from its own queue of kind `Q` (victims for stealing are drawn from
/// `seed`), and returns the results in no particular order.
///
/// # Errors
/// [`ConfigError::NoWorkers`] for zero threads.
pub fn run_on_threads<T, R, Q>(
    items: Vec<T>,
    threads: usize,
    seed: Seed,
    work: impl Fn(T) -> R + Sync,
) -> Result<Vec<R>, ConfigError>
where
    T: Send,
    R: Send,
    Q: WorkerQueues<T>,
{
    if threads == 0 {
        return Err(ConfigError::NoWorkers);
    }
    let queues = Q::for_workers(threads);
    let remaining = AtomicUsize::new(items.len());
    for (position, item) in items.into_iter().enumerate() {
        queues.push(position % threads, item);
    }
    // Set when a thread panics, so the others stop instead of waiting for
    // items that thread will never finish.
    let failed = AtomicBool::new(false);
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|worker| {
                let (queues, remaining, failed, work) = (&queues, &remaining, &failed, &work);
                scope.spawn(move || {
                    let mut rng = seed.derive(worker as u64).rng();
                    let mut done = Vec::new();
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                        while remaining.load(Ordering::Acquire) > 0
                            && !failed.load(Ordering::Acquire)
                        {
                            match queues.next(worker, &mut rng) {
                                Some(item) => {
                                    done.push(work(item));
                                    remaining.fetch_sub(1, Ordering::AcqRel);
                                }
                                None => std::thread::yield_now(),
                            }
                        }
                    }));
                    if let Err(panic) = outcome {
                        failed.store(true, Ordering::Release);
                        panic::resume_unwind(panic);
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(done) => done,
                Err(panic) => panic::resume_unwind(panic),
            })
            .collect()
    });
    Ok(results)
}
