//! The safety oracle: Raft's promises, checked against everything the nodes
//! do.
//!
//! ## The problem
//!
//! A test that only looks at the end of a run misses the moment things went
//! wrong: two leaders that led the same term a second apart, a command a node
//! applied and another node overwrote, a commit index that slipped back and
//! forward again. Raft's promises are about every moment, so the check has
//! to see every moment.
//!
//! ## The design
//!
//! [`SafetyOracle`] is told what each node did after each of its steps: the
//! entries it applied, and its role, term and commit index. It knows nothing
//! about networks or time, so a test can feed it a broken history by hand and
//! see which promise it names. It keeps the first [`SafetyViolation`] it sees:
//! whatever follows a broken promise is no longer evidence.
//!
//! It checks, as Raft's paper states them (Figure 3):
//!
//! - election safety: at most one leader per term, over the whole run, not
//!   only among the nodes a check can reach;
//! - state machine safety: no two nodes apply different commands at one index,
//!   over the whole run: a node that restarted and a node that applied an
//!   index in an earlier life still count, so a committed command that every
//!   node forgot and the cluster replaced is caught too;
//! - that each node applies indexes in order, once each, within one life;
//! - that a node's commit index never moves back within one life: what is
//!   committed stays committed.
//!
//! ## Left out
//!
//! Log matching and leader completeness are not checked entry by entry: the
//! cluster restarts nodes from disks that lost their log's tail on purpose,
//! which breaks leader completeness by design (the leader hears of it, see
//! [`LostEntries`](crate::LostEntries)), and a violation of either shows as
//! soon as the diverging entry is applied, as two different commands at one
//! index.

use std::collections::BTreeMap;

use coordination::NodeId;

use crate::{Command, LogIndex, Role, Term};

/// A promise of Raft's that a run broke, with what shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafetyViolation {
    /// Election safety: two nodes led the same term.
    #[error("{term} has two leaders: {first} and {second}")]
    TwoLeaders {
        /// The term.
        term: Term,
        /// The node seen leading it first.
        first: NodeId,
        /// The node seen leading it next.
        second: NodeId,
    },
    /// State machine safety: two nodes applied different commands at one
    /// index.
    #[error("{node} applied {command} at {index}, but {other} had applied {other_command} there")]
    DifferentCommands {
        /// The index.
        index: LogIndex,
        /// The node that applied last.
        node: NodeId,
        /// What it applied, as debug text.
        command: String,
        /// The first node that applied something there, in this life or an
        /// earlier one (it may be `node` itself, before a restart).
        other: NodeId,
        /// What that node applied, as debug text.
        other_command: String,
    },
    /// A node applied an index other than the next one: it skipped one,
    /// applied one twice, or went back.
    #[error("{node} applied {index} when {expected} was next: out of order")]
    AppliedOutOfOrder {
        /// The node.
        node: NodeId,
        /// The index it applied.
        index: LogIndex,
        /// The index it should have applied.
        expected: LogIndex,
    },
    /// A node's commit index moved back within one life of the node.
    #[error(
        "{node}'s commit index went back from {from} to {to} in {term}: what is committed \
         stays committed"
    )]
    CommitIndexWentBack {
        /// The node.
        node: NodeId,
        /// Its commit index before.
        from: LogIndex,
        /// Its commit index after.
        to: LogIndex,
        /// Its term when it moved back.
        term: Term,
    },
}

/// Checks Raft's safety promises against what every node reports; see the
/// module documentation.
#[derive(Debug, Clone)]
pub struct SafetyOracle<C> {
    /// What each node has applied in its current life, in order: index
    /// `i + 1` at position `i`.
    applied: BTreeMap<NodeId, Vec<C>>,
    /// The first command applied at each index in the whole run, and the
    /// node that applied it, whatever its life: index `i + 1` at position
    /// `i`.
    settled: Vec<(NodeId, C)>,
    /// Each node's commit index when it last reported, in its current life.
    commit_indexes: BTreeMap<NodeId, LogIndex>,
    /// The first node seen leading each term.
    leaders: BTreeMap<Term, NodeId>,
    /// The first violation seen, if any.
    violation: Option<SafetyViolation>,
}

impl<C: Command> Default for SafetyOracle<C> {
    fn default() -> Self {
        Self {
            applied: BTreeMap::new(),
            settled: Vec::new(),
            commit_indexes: BTreeMap::new(),
            leaders: BTreeMap::new(),
            violation: None,
        }
    }
}

impl<C: Command> SafetyOracle<C> {
    /// An oracle that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that `node` applied `command` at `index`, and checks it against
    /// what `node` applied before in this life and what was first applied
    /// there in the whole run.
    pub fn applied(&mut self, node: NodeId, index: LogIndex, command: C) {
        let applied = self.applied.entry(node).or_default();
        let expected = LogIndex::new(applied.len() as u64 + 1);
        let position = applied.len();
        applied.push(command);
        if index != expected {
            self.break_promise(SafetyViolation::AppliedOutOfOrder {
                node,
                index,
                expected,
            });
        }
        if self.violation.is_some() {
            return;
        }
        let mine = &self.applied[&node][position];
        match self.settled.get(position) {
            None => self.settled.push((node, mine.clone())),
            Some((other, theirs)) if theirs != mine => {
                let violation = SafetyViolation::DifferentCommands {
                    index,
                    node,
                    command: format!("{mine:?}"),
                    other: *other,
                    other_command: format!("{theirs:?}"),
                };
                self.break_promise(violation);
            }
            Some(_) => {}
        }
    }

    /// Notes `node`'s role, term and commit index after one of its steps,
    /// and checks that no other node led that term and that the commit
    /// index did not move back.
    pub fn observed(&mut self, node: NodeId, role: Role, term: Term, commit_index: LogIndex) {
        if role == Role::Leader {
            let first = *self.leaders.entry(term).or_insert(node);
            if first != node {
                self.break_promise(SafetyViolation::TwoLeaders {
                    term,
                    first,
                    second: node,
                });
            }
        }
        let before = self
            .commit_indexes
            .insert(node, commit_index)
            .unwrap_or(LogIndex::ZERO);
        if commit_index < before {
            self.break_promise(SafetyViolation::CommitIndexWentBack {
                node,
                from: before,
                to: commit_index,
                term,
            });
        }
    }

    /// Notes that `node` starts a new life: its state machine is memory, so
    /// it starts empty and applies again from index 1, and it knows nothing
    /// committed. Its term and vote survive, so what it led still counts.
    pub fn restarted(&mut self, node: NodeId) {
        self.applied.remove(&node);
        self.commit_indexes.remove(&node);
    }

    /// The commands `node` has applied in its current life, in log order
    /// (index 1 first).
    pub fn applied_by(&self, node: NodeId) -> &[C] {
        self.applied.get(&node).map_or(&[], Vec::as_slice)
    }

    /// How many nodes have applied `index` in their current life, and the
    /// command one of them applied there.
    pub fn applied_at(&self, index: LogIndex) -> (usize, Option<&C>) {
        let position = usize::try_from(index.get()).unwrap_or(usize::MAX);
        let mut count = 0;
        let mut command = None;
        for applied in self.applied.values() {
            if let Some(entry) = position.checked_sub(1).and_then(|p| applied.get(p)) {
                count += 1;
                command = Some(entry);
            }
        }
        (count, command)
    }

    /// The first violation seen, if any.
    ///
    /// # Errors
    /// That violation.
    pub fn check(&self) -> Result<(), SafetyViolation> {
        match &self.violation {
            Some(violation) => Err(violation.clone()),
            None => Ok(()),
        }
    }

    /// Keeps `violation` unless an earlier one was seen.
    fn break_promise(&mut self, violation: SafetyViolation) {
        self.violation.get_or_insert(violation);
    }
}
