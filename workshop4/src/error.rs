//! What a Raft-lite node refuses, one enum per boundary.
//!
//! - [`RaftConfigError`]: settings and memberships that cannot work, refused
//!   when the node is built.
//! - [`StepError`]: a message that cannot be stepped into this node.
//! - [`ProposeError`]: a command this node cannot take, with the way to the
//!   node that can.

use std::time::Duration;

use coordination::NodeId;

use crate::{LogIndex, Term};

/// A timing or a membership that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaftConfigError {
    /// A tick of zero: no time would ever pass.
    #[error("the tick must be longer than zero")]
    ZeroTick,
    /// A setting that is not a whole, non-zero number of ticks.
    #[error("{setting} of {duration:?} is not a whole number of {tick:?} ticks")]
    NotWholeTicks {
        /// Which setting.
        setting: &'static str,
        /// Its value.
        duration: Duration,
        /// The tick it must be a multiple of.
        tick: Duration,
    },
    /// The shortest election timeout is longer than the longest.
    #[error("election timeout range reversed: {shortest:?} is longer than {longest:?}")]
    ReversedElectionTimeout {
        /// The lower end that was given.
        shortest: Duration,
        /// The upper end that was given.
        longest: Duration,
    },
    /// Heartbeats at least as far apart as the shortest election timeout: a
    /// follower would start an election while the leader is healthy.
    #[error(
        "heartbeat interval {heartbeat_interval:?} must be shorter than the shortest election \
         timeout {election_timeout_min:?}"
    )]
    HeartbeatNotShorterThanElectionTimeout {
        /// The heartbeat interval that was given.
        heartbeat_interval: Duration,
        /// The shortest election timeout.
        election_timeout_min: Duration,
    },
    /// The node is not in the membership it was given.
    #[error("{0} is not one of the cluster's members")]
    NotAMember(NodeId),
    /// A history whose entry terms go down, or go past the node's term: no
    /// run of Raft produces such a log.
    #[error("entry at {index} has {entry_term}, after {previous_term} or beyond the node's {term}")]
    ImpossibleHistory {
        /// The offending entry's index.
        index: LogIndex,
        /// Its term.
        entry_term: Term,
        /// The term of the entry before it.
        previous_term: Term,
        /// The node's current term.
        term: Term,
    },
}

/// A message that cannot be stepped into this node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The sender is not a member of this node's cluster. Raft counts votes and
    /// matches by member; a stranger's vote must not count.
    #[error("{from} is not a member of this cluster; its message was ignored")]
    UnknownSender {
        /// Who sent it.
        from: NodeId,
    },
}

/// A command this node cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// Only the leader appends commands. `leader` is the node this one last
    /// heard from as leader, if any: where a client should try next.
    #[error("not the leader; try {}", leader.map_or("again after the election".to_string(), |leader| leader.to_string()))]
    NotLeader {
        /// The leader this node knows of.
        leader: Option<NodeId>,
    },
}

impl ProposeError {
    /// Where to send the command instead, if this node knows.
    pub fn leader_hint(&self) -> Option<NodeId> {
        match self {
            Self::NotLeader { leader } => *leader,
        }
    }
}
