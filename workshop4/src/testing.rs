//! Helpers for this workshop's tests and demos.
//!
//! A sweep over seeds, a cluster, a node set up as a figure of the paper
//! draws it: the same few lines in every test live here, so each test shows
//! only what it checks, and the assertions that explain a failure in Raft's
//! words are shared.

use coordination::sim::NetworkConditions;
use coordination::{NodeId, Seed};

use crate::{
    ClusterError, RaftCluster, RaftConfig, RaftMessage, RaftNode, Role, Term, VoteResponse,
};

// This workshop's `sweep()` and `for_each_seed()`, which name it in the
// commands that replay a failing seed.
coordination::seed_sweep!();

/// `node-<raw>`.
pub fn node(raw: u32) -> NodeId {
    NodeId::new(raw)
}

/// `term <raw>`.
pub fn term(raw: u64) -> Term {
    Term::new(raw)
}

/// A cluster of `count` nodes carrying numbers, on a reliable network.
pub fn cluster(count: u32, seed: Seed) -> RaftCluster<u64> {
    RaftCluster::new(count, seed, NetworkConditions::reliable())
}

/// Node `id` of a cluster of `members` nodes (ids 1..=members), in `term`,
/// holding entries of the given terms (commands 1, 2, 3, …): a node as a
/// figure of the paper draws it.
///
/// # Panics
/// When the history is impossible: test set-up is wrong.
pub fn node_with_log(id: u32, members: u32, current_term: u64, terms: &[u64]) -> RaftNode<u64> {
    let ids: Vec<NodeId> = (1..=members).map(NodeId::new).collect();
    RaftNode::new(
        NodeId::new(id),
        &ids,
        RaftConfig::paper(),
        Seed::new(u64::from(id)),
    )
    .expect("the node is a member")
    .with_history(
        Term::new(current_term),
        (1..)
            .zip(terms)
            .map(|(command, &entry_term)| (Term::new(entry_term), command)),
    )
    .expect("a test history has terms in order, none past the current term")
}

/// The value of `outcome`, or a failure in the words of `lesson`.
///
/// # Panics
/// With the check's own explanation, prefixed by `lesson`.
#[track_caller]
pub fn expect_ok<T>(outcome: Result<T, ClusterError>, lesson: &str) -> T {
    match outcome {
        Ok(value) => value,
        Err(error) if error.is_safety_violation() => panic!(
            "{lesson}: {error}. This breaks Raft's safety: check the term rules and the vote \
             conditions (4.1), the consistency check (4.2) and the current-term rule (4.3)."
        ),
        Err(error) => panic!("{lesson}: {error}"),
    }
}

/// Makes `raft` leader of the term after its own, the way a figure of the
/// paper starts with "S1 is leader": it ticks until the node stands, then
/// every peer grants its vote (exercise 4.1 does the rest). Whatever the new
/// leader sent is discarded.
///
/// # Panics
/// When the node does not become leader: exercise 4.1 is not done.
pub fn elect(raft: &mut RaftNode<u64>) {
    for _ in 0..1_000 {
        raft.tick();
        if raft.role() == Role::Candidate {
            break;
        }
    }
    let standing = raft.term();
    for peer in raft.peers().to_vec() {
        let vote = VoteResponse {
            term: standing,
            granted: true,
        };
        raft.step(peer, RaftMessage::Vote(vote))
            .expect("the peers are members");
    }
    assert_eq!(
        raft.role(),
        Role::Leader,
        "set-up: {} should have won its election with every vote (exercise 4.1)",
        raft.id()
    );
    raft.take_messages();
}
