//! What the network's tests share: a small protocol to carry, a sweep over
//! seeds, and helpers that keep each test to what it checks.

#![allow(dead_code, reason = "each test file uses its own share of the helpers")]

use std::future::Future;
use std::time::Duration;

use coordination::sim::{Inbox, Message, Network, NetworkConditions, Node, Outcome, Sweep, Trace};
use coordination::{NodeId, Probability, Seed};

/// The messages of the tests: a one-way note, and a request/reply pair for a
/// counter service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A one-way message carrying a number, so tests can tell messages apart.
    Note(u64),
    /// Asks a counter to add one.
    Increment,
    /// The counter's value after the increment.
    Count(u64),
}

impl Message for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Note(_) => "note",
            Msg::Increment => "increment",
            Msg::Count(_) => "count",
        }
    }
}

/// The node with id `raw`.
pub const fn node(raw: u32) -> NodeId {
    NodeId::new(raw)
}

/// Milliseconds, for short test lines.
pub const fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A probability written in a test.
///
/// # Panics
/// When `value` is not in `0.0..=1.0`: test set-up is wrong.
pub fn rate(value: f64) -> Probability {
    Probability::new(value).expect("a rate written in a test is between 0 and 1")
}

/// Runs `test` once per seed of the default sweep; on failure, prints the seed
/// and the command that replays it.
pub fn for_each_seed<F, Fut>(test: F)
where
    F: Fn(Seed) -> Fut,
    Fut: Future<Output = ()>,
{
    Sweep::new(env!("CARGO_PKG_NAME"), false).run(test);
}

/// A network with nodes 1..=count added, their handles and inboxes in id
/// order.
pub fn network_of(
    count: u32,
    seed: Seed,
    conditions: NetworkConditions,
) -> (Network<Msg>, Vec<Node<Msg>>, Vec<Inbox<Msg>>) {
    let network = Network::new(seed, conditions);
    let (nodes, inboxes) = (1..=count)
        .map(|id| {
            network
                .add_node(node(id))
                .expect("test node ids are distinct")
        })
        .unzip();
    (network, nodes, inboxes)
}

/// Serves a counter on `node`: every `Increment` adds one and answers with
/// the new count. Returns the counter, so a test can see what took effect.
pub fn serve_counter(
    node: &Node<Msg>,
    inbox: Inbox<Msg>,
) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let counter = Arc::new(AtomicU64::new(0));
    let applied = Arc::clone(&counter);
    node.serve(inbox, move |_caller, request| match request {
        Msg::Increment => Msg::Count(applied.fetch_add(1, Ordering::SeqCst) + 1),
        other => other,
    })
    .expect("the inbox is the node's own and the node is running");
    counter
}

/// How many trace entries are message outcomes that `wanted` picks.
pub fn outcomes(trace: &Trace, wanted: impl Fn(&Outcome) -> bool) -> usize {
    trace.count_outcomes(wanted)
}
