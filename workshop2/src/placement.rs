//! Where the next item goes: the decision every strategy makes.
//!
//! In this workshop every worker has its own queue, as every server behind a
//! load balancer has its own accept queue and every Kafka partition its own
//! consumer. Once an item is in a queue, only that worker will run it (until
//! exercise 2.3 lets idle workers steal). So the one decision that matters is
//! made when the item arrives: which queue?
//!
//! A [`Placement`] makes that decision. It sees the candidates (the workers in
//! rotation) and how much each one has outstanding (queued plus running), and
//! names one. It does not see how fast a worker is or how big an item is:
//! neither does a load balancer. Everything it knows, it learns from the
//! queues.
//!
//! The starting point is [`ById`]: item `n` goes to candidate `n mod count`,
//! a fixed shard map. On consecutive ids that is round-robin.
//!
//! Left out: weights (Envoy's and nginx's weighted round-robin) and
//! affinity (consistent hashing). Both are variations on the same decision.

use coordination::{SimRng, WorkItemId, WorkerId};

/// A worker the next item may go to, and its load when the item arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Who.
    pub worker: WorkerId,
    /// Items queued for it plus the one it is running, if any.
    pub outstanding: usize,
}

/// Chooses the worker for each arriving item.
///
/// `&mut self` because a strategy may remember (a round-robin cursor);
/// `rng` is the run's seeded generator, for strategies that choose at random.
pub trait Placement: Send + 'static {
    /// The strategy's name, for tables and messages.
    fn name(&self) -> &'static str;

    /// The worker for `item`, which must be one of `candidates`. The
    /// candidates are never empty and come in pool order.
    fn place(&mut self, item: WorkItemId, candidates: &[Candidate], rng: &mut SimRng) -> WorkerId;
}

/// The starting point: item `n` goes to candidate `n mod count`, like a fixed
/// shard map that partitions by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ById;

impl Placement for ById {
    fn name(&self) -> &'static str {
        "by id"
    }

    fn place(&mut self, item: WorkItemId, candidates: &[Candidate], _rng: &mut SimRng) -> WorkerId {
        let position = item.get() % candidates.len() as u64;
        candidates[position as usize].worker
    }
}
