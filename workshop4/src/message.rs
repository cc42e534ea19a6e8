//! What Raft-lite nodes say to each other.
//!
//! Six messages, in three request/response pairs, one enum on the wire (the
//! way etcd's `raftpb.Message` and raft-rs's `eraftpb::Message` carry every
//! kind in one type). Every message carries its sender's term: the term rules
//! of Figure 2 are applied to every message before anything else.
//!
//! | pair | sent by | purpose |
//! |---|---|---|
//! | [`VoteRequest`] / [`VoteResponse`] | a candidate | win an election (section 5.2) |
//! | [`AppendRequest`] / [`AppendResponse`] | the leader | replicate entries, with the consistency check (section 5.3) |
//! | [`Heartbeat`] / [`HeartbeatResponse`] | the leader | keep its followers from starting elections, and tell them what is committed |
//!
//! Heartbeats are their own pair, as in etcd's raft (`MsgHeartbeat`), rather
//! than empty `AppendEntries` as in the paper. The paper's way makes every
//! heartbeat pass the consistency check; the split way keeps an idle cluster
//! cheap and lets the leader send entries only to followers that are behind.
//! A heartbeat carries a commit index the follower is known to hold
//! (`min(commit index, follower's match index)`), so it needs no check.
//!
//! Responses name no request: a response is understood from its contents
//! (the term, and for an append the index it reached or where it conflicts),
//! so a late or duplicated response does no harm.

use coordination::sim::Message;

use crate::{Entry, LogIndex, Term};

/// A candidate asks for a vote (the paper's `RequestVote` arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteRequest {
    /// The term the candidate stands in.
    pub term: Term,
    /// The index of the candidate's last entry.
    pub last_log_index: LogIndex,
    /// The term of the candidate's last entry.
    pub last_log_term: Term,
}

/// A node's answer to a [`VoteRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteResponse {
    /// The voter's term, for the candidate to step down if it is behind.
    pub term: Term,
    /// Whether the voter gave the candidate its vote for this term.
    pub granted: bool,
}

/// The leader sends entries after `prev_log_index` (the paper's
/// `AppendEntries` arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest<C> {
    /// The leader's term.
    pub term: Term,
    /// The index just before the first entry sent.
    pub prev_log_index: LogIndex,
    /// The term of the entry at `prev_log_index` in the leader's log. The
    /// follower accepts only if its own entry there has this term.
    pub prev_log_term: Term,
    /// The entries, in order, starting at `prev_log_index + 1`; empty for a
    /// probe that only checks where the logs agree.
    pub entries: Vec<Entry<C>>,
    /// The leader's commit index.
    pub leader_commit: LogIndex,
}

/// How a follower answered an [`AppendRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The logs agree up to `match_index`: the request's entries are in the
    /// follower's log.
    Accepted {
        /// `prev_log_index` plus the number of entries sent.
        match_index: LogIndex,
    },
    /// The consistency check failed: the follower has no entry at
    /// `prev_log_index`, or one from another term. The fields let the leader
    /// skip back a whole term at a time instead of one entry per round trip
    /// (the optimisation sketched at the end of section 5.3).
    Rejected {
        /// Where the leader should try next if it has no entry of
        /// `conflict_term`: the follower's first index of that term, or the
        /// end of its log.
        conflict_index: LogIndex,
        /// The term of the follower's entry at `prev_log_index`; `None` when
        /// its log is too short to have one.
        conflict_term: Option<Term>,
    },
    /// The request came from an earlier term; the response's term deposes the
    /// sender.
    StaleTerm,
}

/// A follower's answer to an [`AppendRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResponse {
    /// The follower's term.
    pub term: Term,
    /// Accepted, rejected, or from a stale leader.
    pub outcome: AppendOutcome,
}

/// The leader is alive, and this much is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The leader's term.
    pub term: Term,
    /// `min(leader's commit index, follower's match index)`: a prefix the
    /// follower is known to hold, so it may commit it without a check.
    pub commit: LogIndex,
}

/// A follower heard the heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// The follower's term.
    pub term: Term,
}

/// Every message of Raft-lite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaftMessage<C> {
    /// A candidate asks for a vote.
    RequestVote(VoteRequest),
    /// The answer to a vote request.
    Vote(VoteResponse),
    /// The leader sends entries.
    AppendEntries(AppendRequest<C>),
    /// The answer to an append.
    AppendResponse(AppendResponse),
    /// The leader is alive.
    Heartbeat(Heartbeat),
    /// The answer to a heartbeat.
    HeartbeatResponse(HeartbeatResponse),
}

impl<C> RaftMessage<C> {
    /// The sender's term.
    pub fn term(&self) -> Term {
        match self {
            Self::RequestVote(request) => request.term,
            Self::Vote(response) => response.term,
            Self::AppendEntries(request) => request.term,
            Self::AppendResponse(response) => response.term,
            Self::Heartbeat(heartbeat) => heartbeat.term,
            Self::HeartbeatResponse(response) => response.term,
        }
    }

    /// Whether this message asks for an answer: the requests, which the
    /// harness counts as the Raft lab counts RPCs.
    pub fn is_request(&self) -> bool {
        matches!(
            self,
            Self::RequestVote(_) | Self::AppendEntries(_) | Self::Heartbeat(_)
        )
    }
}

impl<C: Clone + Send + 'static> Message for RaftMessage<C> {
    /// The responses: the network may treat them as the replies they are
    /// ([`NetworkConditions::one_way_replies`](coordination::sim::NetworkConditions::one_way_replies)).
    fn is_reply(&self) -> bool {
        !self.is_request()
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::RequestVote(_) => "request_vote",
            Self::Vote(_) => "vote",
            Self::AppendEntries(_) => "append_entries",
            Self::AppendResponse(_) => "append_response",
            Self::Heartbeat(_) => "heartbeat",
            Self::HeartbeatResponse(_) => "heartbeat_response",
        }
    }
}
