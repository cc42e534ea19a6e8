//! What a check of the cluster can find wrong.

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::NodeId;
use coordination::sim::NetworkError;

use super::SafetyViolation;
use crate::{Role, Term};

/// What a check of the cluster found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// A promise of Raft's was broken: two leaders in a term, two commands
    /// at one index, entries applied out of order, a commit index that went
    /// back.
    #[error("safety violation: {0}")]
    SafetyViolation(#[from] SafetyViolation),
    /// No node among those that could elect one became leader in time.
    #[error(
        "no leader among {candidates:?} after {waited:?}; they ended as {}. {}",
        describe_states(states),
        no_leader_advice(states)
    )]
    NoLeader {
        /// The nodes that were up and connected.
        candidates: Vec<NodeId>,
        /// How long the check waited.
        waited: Duration,
        /// Each of them at the end: its role and term.
        states: Vec<(NodeId, Role, Term)>,
    },
    /// A leader exists where none should (without a quorum).
    #[error("{node} leads {term}, but no leader was expected")]
    UnexpectedLeader {
        /// The leader.
        node: NodeId,
        /// Its term.
        term: Term,
    },
    /// Connected nodes disagree on the term once things settled.
    #[error("connected nodes disagree on the term: {terms:?}")]
    TermsDisagree {
        /// Each connected node's term.
        terms: BTreeMap<NodeId, Term>,
    },
    /// A command was not committed by enough nodes in time.
    #[error("{command} was not committed by {expected} nodes within {waited:?} (best: {best})")]
    NoAgreement {
        /// The command, as debug text.
        command: String,
        /// How many nodes had to commit it.
        expected: usize,
        /// The most nodes seen committing it at one index.
        best: usize,
        /// How long it was tried.
        waited: Duration,
    },
    /// The network refused an operation: an unknown node, a node already
    /// crashed.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

impl ClusterError {
    /// Whether this is a broken safety promise rather than slowness or an
    /// unavailable cluster. A safety violation is never acceptable; the
    /// others can be correct behaviour, for example without a quorum.
    pub fn is_safety_violation(&self) -> bool {
        matches!(self, Self::SafetyViolation(_))
    }
}

/// `node-1 candidate in term 7, node-2 follower in term 7`.
fn describe_states(states: &[(NodeId, Role, Term)]) -> String {
    let described: Vec<String> = states
        .iter()
        .map(|(node, role, term)| format!("{node} {role} in {term}"))
        .collect();
    described.join(", ")
}

/// What to look at when no leader was elected, from where the nodes ended.
fn no_leader_advice(states: &[(NodeId, Role, Term)]) -> &'static str {
    // Ten looks of about half a second each leave room for a few elections;
    // many more terms than that mean candidates keep standing against each
    // other.
    let highest = states.iter().map(|(_, _, term)| term.get()).max();
    if highest.unwrap_or(0) > 20 {
        "Elections keep colliding: does a node draw a fresh random timeout (restart its \
         election timer) when it stands and when it grants a vote, so that one candidate \
         usually wins before the others wake?"
    } else {
        "Elections are not won: is a vote granted when it is free and the candidate's log is \
         up to date, is each granted vote counted (the candidate's own included) until a \
         majority, and does the winner become leader and send heartbeats at once?"
    }
}
