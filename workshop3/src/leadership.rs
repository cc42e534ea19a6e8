//! A node's belief that it leads: the one thing its work consults.
//!
//! Leading is a belief with an expiry date. The election code (exercise 3.1)
//! starts and extends it with [`lead`](Leadership::lead), each time a renewal
//! succeeds, and ends it with [`step_down`](Leadership::step_down). The
//! leader's work (exercise 3.4) asks [`token`](Leadership::token) before each
//! job: `Some(token)` while the belief lasts, `None` otherwise.
//!
//! The belief ends by itself when its time runs out, even if the election
//! code has not stepped down yet, because checking the clock is cheap and a
//! late step-down is exactly the bug this workshop is about. What no clock
//! check can catch is a pause *between* the check and the act: that is
//! exercise 3.4, and fencing (3.5) is the answer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::sim::clock;
use coordination::{FencingToken, NodeId};
use tokio::time::Instant;

use crate::{Journal, StepDown};

/// What a node believes about leading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Belief {
    /// It does not lead.
    Following,
    /// It leads under `token`, as far as it knows until `valid_until`.
    Leading {
        /// The token of its lease.
        token: FencingToken,
        /// The end of the time its last successful renewal allows.
        valid_until: Instant,
    },
}

/// One node's belief that it leads, shared by its tasks. Cloning it is
/// cheap; every clone is the same belief.
#[derive(Debug, Clone)]
pub struct Leadership {
    /// Whose belief.
    node: NodeId,
    /// The belief; a std mutex, never held across an `.await`.
    belief: Arc<Mutex<Belief>>,
    /// Where changes of mind are written.
    journal: Journal,
}

impl Leadership {
    /// A follower's belief, recording its changes in `journal`.
    pub fn new(node: NodeId, journal: Journal) -> Self {
        Self {
            node,
            belief: Arc::new(Mutex::new(Belief::Following)),
            journal,
        }
    }

    /// Whose belief this is.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Leads under `token` until `valid_until`: begins a belief, or extends the
    /// current one when `token` is the one it already leads under.
    pub fn lead(&self, token: FencingToken, valid_until: Instant) {
        let until = since_start(valid_until);
        let mut belief = self.belief();
        match *belief {
            Belief::Leading {
                token: current,
                valid_until: previous,
            } if current == token => {
                *belief = Belief::Leading {
                    token,
                    valid_until: previous.max(valid_until),
                };
                self.journal.extend_belief(self.node, token, until);
            }
            _ => {
                *belief = Belief::Leading { token, valid_until };
                tracing::debug!("{} became leader with {token}", self.node);
                self.journal
                    .begin_belief(self.node, token, clock::elapsed(), until);
            }
        }
    }

    /// Stops leading, for `reason`, and returns the reason (so that a loop
    /// can `return leadership.step_down(reason)`). A node that does not lead
    /// has nothing to step down from: nothing is recorded.
    pub fn step_down(&self, reason: StepDown) -> StepDown {
        let mut belief = self.belief();
        if let Belief::Leading { token, .. } = *belief {
            *belief = Belief::Following;
            tracing::debug!("{} stepped down from {token}: {reason}", self.node);
            self.journal
                .end_belief(self.node, token, reason, clock::elapsed());
        }
        reason
    }

    /// Forgets the belief, as a crash does: the belief ends now, and nothing
    /// is recorded as a step-down, because a crashed process decides
    /// nothing. The cluster calls this when it crashes the node.
    pub(crate) fn forget(&self) {
        let mut belief = self.belief();
        if let Belief::Leading { token, .. } = *belief {
            *belief = Belief::Following;
            tracing::debug!("{} crashed while leading with {token}", self.node);
            self.journal.cut_belief(self.node, token, clock::elapsed());
        }
    }

    /// The token to act under, while this node believes it leads and the
    /// belief has not run out; `None` otherwise.
    pub fn token(&self) -> Option<FencingToken> {
        match *self.belief() {
            Belief::Leading { token, valid_until } if Instant::now() < valid_until => Some(token),
            _ => None,
        }
    }

    /// Whether this node believes it leads right now.
    pub fn is_leading(&self) -> bool {
        self.token().is_some()
    }

    /// When the current belief runs out, if there is one.
    pub fn valid_until(&self) -> Option<Instant> {
        match *self.belief() {
            Belief::Leading { valid_until, .. } => Some(valid_until),
            Belief::Following => None,
        }
    }

    fn belief(&self) -> MutexGuard<'_, Belief> {
        self.belief.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An instant of the paused clock as simulated time since the run began.
fn since_start(instant: Instant) -> Duration {
    let now = Instant::now();
    let elapsed = clock::elapsed();
    if instant >= now {
        elapsed + (instant - now)
    } else {
        elapsed.saturating_sub(now - instant)
    }
}
