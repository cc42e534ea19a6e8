//! What the cluster did, in order, and its drawing on a run's timeline.
//!
//! The driver tells the [`History`] what each node looked like after each of
//! its steps and what the test did to it; the history keeps only the
//! changes (a new role or term, a commit index that moved, a fault, a report
//! of lost entries) as [`ClusterRecord`]s, and draws each one on the node's
//! lane when a demo records a timeline: terms started, leaderships as bars,
//! commit indexes and faults as marks.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use coordination::NodeId;
use coordination::sim::clock;
use coordination::timeline::{self, Activity, Mark, Outcome, SpanId};

use crate::{LogIndex, LostEntries, Role, Term};

/// Something a node did, for a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterEvent {
    /// The node changed role or term.
    Role {
        /// Its new role.
        role: Role,
        /// Its term.
        term: Term,
    },
    /// The node's commit index moved.
    Committed(LogIndex),
    /// The test did something to the node.
    Fault(Fault),
    /// The node, leading, heard that a follower lost entries it had
    /// acknowledged.
    LostEntries(LostEntries),
}

/// What a test did to a node through the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Cut off from every other node.
    Disconnected,
    /// Reconnected.
    Connected,
    /// Put in a group of a partition.
    Partitioned,
    /// The partition it was in ended.
    Healed,
    /// Killed; what it had on disk is kept.
    Crashed,
    /// Brought back from what it had on disk, less `lost` entries at the end
    /// of its log that never reached it.
    Restarted {
        /// How many entries of the log's tail the disk lost.
        lost: u64,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disconnected => "disconnected",
            Self::Connected => "connected",
            Self::Partitioned => "partitioned",
            Self::Healed => "healed",
            Self::Crashed => "crashed",
            Self::Restarted { lost: 0 } => "restarted",
            Self::Restarted { .. } => "restarted with its log's tail lost",
        })
    }
}

/// One line of the cluster's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecord {
    /// Simulated time since the run began.
    pub at: Duration,
    /// Which node.
    pub node: NodeId,
    /// What it did.
    pub event: ClusterEvent,
}

/// A node as the timeline last showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown {
    role: Role,
    term: Term,
    commit_index: LogIndex,
}

/// The cluster's records, and the drawing made of them.
pub(super) struct History {
    /// Role, term and commit changes, faults and reports, in order.
    records: Vec<ClusterRecord>,
    /// Every report of a follower that lost acknowledged entries, by the
    /// leader that heard it.
    lost_entries: Vec<(NodeId, LostEntries)>,
    /// Each node as of its last record, to tell a change from a repeat.
    shown: BTreeMap<NodeId, Shown>,
    /// The run's timeline, if one is being recorded.
    drawing: Drawing,
}

impl History {
    /// A history of `members`, each a follower in the first term with
    /// nothing committed.
    pub(super) fn new(members: &[NodeId]) -> Self {
        let start = Shown {
            role: Role::Follower,
            term: Term::ZERO,
            commit_index: LogIndex::ZERO,
        };
        Self {
            records: Vec::new(),
            lost_entries: Vec::new(),
            shown: members.iter().map(|&node| (node, start)).collect(),
            drawing: Drawing::default(),
        }
    }

    /// Every record so far, in order.
    pub(super) fn records(&self) -> &[ClusterRecord] {
        &self.records
    }

    /// Every report of lost entries so far, with the leader that heard it.
    pub(super) fn lost_entries(&self) -> &[(NodeId, LostEntries)] {
        &self.lost_entries
    }

    /// Records that the test did `fault` to `node`.
    pub(super) fn fault(&mut self, node: NodeId, fault: Fault) {
        self.record(node, ClusterEvent::Fault(fault));
    }

    /// Records that `leader` heard `report` of a follower's lost entries.
    pub(super) fn heard_lost_entries(&mut self, leader: NodeId, report: LostEntries) {
        self.lost_entries.push((leader, report));
        self.record(leader, ClusterEvent::LostEntries(report));
    }

    /// Records what changed in `node` since it was last shown: its role or
    /// term, then its commit index. Returns whether anything did.
    pub(super) fn observed(
        &mut self,
        node: NodeId,
        role: Role,
        term: Term,
        commit_index: LogIndex,
    ) -> bool {
        let now = Shown {
            role,
            term,
            commit_index,
        };
        let Some(before) = self.shown.insert(node, now) else {
            return true;
        };
        if (before.role, before.term) != (role, term) {
            self.record(node, ClusterEvent::Role { role, term });
        }
        if before.commit_index != commit_index {
            self.record(node, ClusterEvent::Committed(commit_index));
        }
        before != now
    }

    /// Records that `node` came back from its disk, a follower in `term`
    /// that knows nothing committed, less `lost` entries of its log.
    pub(super) fn restarted(&mut self, node: NodeId, term: Term, lost: u64) {
        let shown = Shown {
            role: Role::Follower,
            term,
            commit_index: LogIndex::ZERO,
        };
        self.shown.insert(node, shown);
        self.fault(node, Fault::Restarted { lost });
    }

    fn record(&mut self, node: NodeId, event: ClusterEvent) {
        self.drawing.draw(node, &event);
        self.records.push(ClusterRecord {
            at: clock::elapsed(),
            node,
            event,
        });
    }
}

/// The cluster's lanes on a run's timeline (a demo's `--svg`).
#[derive(Default)]
struct Drawing {
    /// The leadership bar each leader has open.
    leaderships: BTreeMap<NodeId, SpanId>,
    /// The last term drawn on each node's lane.
    terms: BTreeMap<NodeId, Term>,
}

impl Drawing {
    /// Draws `event` on `node`'s lane, if a timeline is being recorded:
    /// terms started, leaderships as bars, commit indexes and faults as
    /// marks.
    fn draw(&mut self, node: NodeId, event: &ClusterEvent) {
        if !timeline::is_recording() {
            return;
        }
        // A change of role or term ends a leadership, and so does a crash.
        if matches!(
            event,
            ClusterEvent::Role { .. } | ClusterEvent::Fault(Fault::Crashed)
        ) && let Some(leadership) = self.leaderships.remove(&node)
        {
            timeline::end(leadership, Outcome::Ended);
        }
        match event {
            ClusterEvent::Role { role, term } => {
                let previous = self.terms.insert(node, *term);
                if previous != Some(*term) {
                    timeline::point(node, Mark::TermStarted { term: term.get() }, term);
                }
                if *role == Role::Leader {
                    timeline::point(node, Mark::LeaderElected { term: term.get() }, term);
                    let leadership = timeline::begin(node, Activity::Leadership, term);
                    self.leaderships.insert(node, leadership);
                }
            }
            ClusterEvent::Committed(index) => {
                timeline::point(node, Mark::Note, format_args!("commit {}", index.get()));
            }
            ClusterEvent::Fault(Fault::Crashed) => timeline::point(node, Mark::Crashed, "crashed"),
            ClusterEvent::Fault(fault @ (Fault::Partitioned | Fault::Disconnected)) => {
                timeline::point(node, Mark::Partitioned, fault);
            }
            ClusterEvent::Fault(fault @ (Fault::Healed | Fault::Connected)) => {
                timeline::point(node, Mark::Healed, fault);
            }
            ClusterEvent::LostEntries(report) => timeline::point(node, Mark::Note, report),
            ClusterEvent::Fault(fault) => timeline::point(node, Mark::Note, fault),
        }
    }
}
