//! The journal: what every node believed about leading, and when.
//!
//! The lease store knows who *held* the lease; storage knows who *wrote*.
//! Neither knows who *believed* it led, and split brain lives in beliefs: a
//! paused leader goes on believing. Every node's [`Leadership`] writes its
//! changes of mind here, so a test can compare beliefs with the store and
//! with storage, and a demo can draw them on a timeline.
//!
//! [`Leadership`]: crate::Leadership

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::{FencingToken, NodeId};

/// Why a leader stopped leading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepDown {
    /// No renewal succeeded within the renew deadline: the leader can no
    /// longer be sure its lease is in force, so it stops acting first.
    RenewDeadlinePassed,
    /// The lease store said the lease is gone (expired, revoked).
    LeaseLost,
    /// Storage refused a write as stale: a newer leader has written.
    Superseded,
}

impl fmt::Display for StepDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RenewDeadlinePassed => "no renewal within the renew deadline",
            Self::LeaseLost => "the lease store says the lease is lost",
            Self::Superseded => "storage refused a write: a newer leader has written",
        })
    }
}

/// A change of mind of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeEvent {
    /// It started leading under `token`.
    BecameLeader {
        /// The token of its lease.
        token: FencingToken,
    },
    /// It stopped leading under `token`.
    SteppedDown {
        /// The token it led under.
        token: FencingToken,
        /// Why.
        reason: StepDown,
    },
}

/// One line of the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalEntry {
    /// When, in simulated time since the run began.
    pub at: Duration,
    /// Whose mind changed.
    pub node: NodeId,
    /// How.
    pub event: NodeEvent,
}

impl fmt::Display for JournalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>8.3}s  {}  ", self.at.as_secs_f64(), self.node)?;
        match self.event {
            NodeEvent::BecameLeader { token } => write!(f, "became leader with {token}"),
            NodeEvent::SteppedDown { token, reason } => {
                write!(f, "stepped down from {token}: {reason}")
            }
        }
    }
}

/// One node's belief that it leads, from the moment it began to the moment
/// it ended: its own step-down, its crash, or the end of the time its last
/// renewal allowed, whichever came first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Belief {
    /// The node.
    pub node: NodeId,
    /// The token it led under.
    pub token: FencingToken,
    /// When it began to believe.
    pub from: Duration,
    /// When the belief ended (or will end, for a belief still held).
    pub until: Duration,
}

/// The shared journal of a cluster. Cloning it is cheap; every clone writes
/// to the same journal.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    /// Entries and beliefs; a std mutex, held only to push or copy, never
    /// across an `.await`.
    inner: Arc<Mutex<Pages>>,
}

/// What the journal holds.
#[derive(Debug, Default)]
struct Pages {
    /// Every change of mind, in order.
    entries: Vec<JournalEntry>,
    /// Every belief, in the order they began.
    beliefs: Vec<Belief>,
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry so far, in order.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.pages().entries.clone()
    }

    /// Every belief so far, in the order they began.
    pub fn beliefs(&self) -> Vec<Belief> {
        self.pages().beliefs.clone()
    }

    /// How many times any node became leader.
    pub fn leaders_elected(&self) -> usize {
        self.pages()
            .entries
            .iter()
            .filter(|entry| matches!(entry.event, NodeEvent::BecameLeader { .. }))
            .count()
    }

    /// When `node` first stepped down, and why.
    pub fn first_step_down(&self, node: NodeId) -> Option<(Duration, StepDown)> {
        self.pages()
            .entries
            .iter()
            .find_map(|entry| match entry.event {
                NodeEvent::SteppedDown { reason, .. } if entry.node == node => {
                    Some((entry.at, reason))
                }
                _ => None,
            })
    }

    /// Records that `node` began leading under `token` at `at`, believing
    /// until `until`.
    pub(crate) fn begin_belief(
        &self,
        node: NodeId,
        token: FencingToken,
        at: Duration,
        until: Duration,
    ) {
        let mut pages = self.pages();
        pages.entries.push(JournalEntry {
            at,
            node,
            event: NodeEvent::BecameLeader { token },
        });
        pages.beliefs.push(Belief {
            node,
            token,
            from: at,
            until,
        });
    }

    /// Moves the end of `node`'s current belief under `token` to `until`.
    pub(crate) fn extend_belief(&self, node: NodeId, token: FencingToken, until: Duration) {
        if let Some(belief) = self.pages().current_belief(node, token) {
            belief.until = belief.until.max(until);
        }
    }

    /// Records that `node` stepped down from `token` at `at`.
    pub(crate) fn end_belief(
        &self,
        node: NodeId,
        token: FencingToken,
        reason: StepDown,
        at: Duration,
    ) {
        let mut pages = self.pages();
        if let Some(belief) = pages.current_belief(node, token) {
            belief.until = belief.until.min(at);
        }
        pages.entries.push(JournalEntry {
            at,
            node,
            event: NodeEvent::SteppedDown { token, reason },
        });
    }

    /// Ends `node`'s current belief under `token` at `at` without a
    /// step-down: its process crashed.
    pub(crate) fn cut_belief(&self, node: NodeId, token: FencingToken, at: Duration) {
        if let Some(belief) = self.pages().current_belief(node, token) {
            belief.until = belief.until.min(at);
        }
    }

    fn pages(&self) -> MutexGuard<'_, Pages> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pages {
    /// The latest belief of `node` under `token`.
    fn current_belief(&mut self, node: NodeId, token: FencingToken) -> Option<&mut Belief> {
        self.beliefs
            .iter_mut()
            .rev()
            .find(|belief| belief.node == node && belief.token == token)
    }
}
