//! Running one consumer per worker, and stopping them cleanly.
//!
//! Each distributor starts one consumer task per worker, all pulling from one
//! [`WorkQueue`]. Starting them is easy; stopping them well is the part that
//! production code gets wrong:
//!
//! 1. Run until every consumer has returned (the queue drained and told them
//!    so) or the queue is drained while some are still busy.
//! 2. A consumer still busy at that point holds an attempt whose item was
//!    already settled elsewhere (it was reclaimed). Give it a grace period to
//!    answer; its answer will be rejected as late, which is worth seeing.
//! 3. Stop whatever is left: those consumers are hung.
//!
//! No consumer is fire-and-forget: every task is joined or stopped before the
//! run returns, and a panic in a consumer (a `todo!()` in an exercise, say) is
//! re-raised here so the test that started the run fails with it. Kubernetes
//! does the same dance with `terminationGracePeriodSeconds` (default 30 s):
//! stop sending work, wait, then kill.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use coordination::{DistributeError, RunReport, WorkItem, Worker, Workers};
use tokio::task::{JoinError, JoinSet};

use crate::WorkQueue;

/// Queues `items`, runs `consume(worker, queue)` for every worker until the
/// queue is drained, and reports. The whole body of most distributors'
/// `distribute`: what differs between them is `consume`.
///
/// # Errors
/// [`DistributeError`] when the batch is refused (two items share an id).
pub async fn distribute_with<I, F, Fut>(
    items: Vec<I>,
    workers: &Workers<I>,
    consume: F,
) -> Result<RunReport, DistributeError>
where
    I: WorkItem,
    F: Fn(Arc<dyn Worker<I>>, WorkQueue<I>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let queue = WorkQueue::new(items)?;
    run_consumers(workers, &queue, Duration::ZERO, |worker| {
        consume(worker, queue.clone())
    })
    .await;
    Ok(queue.into_report())
}

/// Runs `consume(worker)` for every worker until the queue is drained and the
/// consumers have stopped, waiting at most `grace` for busy ones after that.
pub async fn run_consumers<I, F, Fut>(
    workers: &Workers<I>,
    queue: &WorkQueue<I>,
    grace: Duration,
    consume: F,
) where
    I: WorkItem,
    F: Fn(Arc<dyn Worker<I>>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut consumers = JoinSet::new();
    for worker in workers.iter() {
        consumers.spawn(consume(Arc::clone(worker)));
    }
    if join_until(&mut consumers, queue.drained()).await {
        return;
    }
    // Let every consumer that was woken by the drain see it and return before
    // counting who is still busy.
    tokio::task::yield_now().await;
    if join_until(&mut consumers, tokio::time::sleep(grace)).await {
        return;
    }
    tracing::warn!(
        "stopping {} consumer(s) that never answered",
        consumers.len()
    );
    consumers.shutdown().await;
}

/// Joins consumers as they finish until all have (`true`) or `stop` happens
/// first (`false`).
async fn join_until(consumers: &mut JoinSet<()>, stop: impl Future<Output = ()>) -> bool {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            joined = consumers.join_next() => match joined {
                Some(result) => reraise_panic(result),
                None => return true,
            },
            () = &mut stop => return false,
        }
    }
}

/// A consumer that panicked takes the run down with it: the panic is the
/// message a learner needs to see (often a `todo!()` naming the exercise).
fn reraise_panic(result: Result<(), JoinError>) {
    if let Err(error) = result
        && error.is_panic()
    {
        std::panic::resume_unwind(error.into_panic());
    }
}
