//! Exercise 4.1: elections. Terms, votes and randomized timeouts.
//!
//! A Raft cluster needs exactly one leader per term, and a new one soon after
//! the old one fails. Every node starts as a follower; one whose election
//! timeout passes without hearing from a leader becomes a candidate: it moves
//! to the next term, votes for itself and asks every peer for its vote. A
//! majority of votes makes it leader. Three rules keep this safe and live
//! (section 5.2 and Figure 2 of the paper):
//!
//! - **terms**: a message from a later term makes a node a follower in that
//!   term; a message from an earlier term is stale;
//! - **one vote per term**, and only for a candidate whose log is at least
//!   as up to date as the voter's (section 5.4.1), so that a leader always
//!   holds every committed entry;
//! - **randomized timeouts**: each node draws its election timeout anew, so
//!   that one usually times out first and wins before the others wake; with
//!   equal timeouts, candidates split the vote for ever.
//!
//! The shell in `node.rs` calls these functions: `check_term` for every
//! message, `start_election` when the timer runs out, the two handlers for
//! vote messages. Given helpers: `become_follower`, `become_leader`,
//! `reset_election_timer`, `send`, `quorum`.
//!
//! - Read: `workshop4/README.md`, "Implement", 4.1.
//! - Check: `cargo workshop check 4.1`, or all of its output with
//!   `cargo test -p workshop4 --test workshop ex4_1_election`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::collections::BTreeSet;

use coordination::NodeId;
use rand::RngExt;

use crate::node::{RoleState, TermCheck};
use crate::{Command, RaftMessage, RaftNode, Term, VoteRequest, VoteResponse};

impl<C: Command> RaftNode<C> {
    /// Draws the next election timeout, in ticks, uniformly from the
    /// configured range.
    pub(crate) fn randomized_election_timeout(&mut self) -> u32 {
        // TODO(4.1): draw uniformly from `self.config.election_timeout_ticks()`
        // with `self.rng` (`RngExt::random_range` takes the range as it is).
        todo!(
            "exercise 4.1: draw a randomized election timeout (see workshop4/README.md, Implement 4.1)"
        )
    }

    /// The term rules, applied to every message before it is handled.
    pub(crate) fn check_term(&mut self, term: Term) -> TermCheck {
        // TODO(4.1): a later term than `self.term` makes this node a follower
        // of that term, leader unknown (`become_follower`); then a term below
        // `self.term` is `TermCheck::Stale`, anything else `Current`.
        todo!("exercise 4.1: apply the term rules (see workshop4/README.md, Implement 4.1)")
    }

    /// The election timer ran out: stand for the next term.
    pub(crate) fn start_election(&mut self) {
        // TODO(4.1): move to the next term, vote for yourself, forget the old
        // leader, become `RoleState::Candidate` with your own vote counted,
        // and reset the election timer (a fresh random draw). A quorum of
        // one is already won: `become_leader`. Otherwise send every peer a
        // `RaftMessage::RequestVote` with your term and your log's last index
        // and last term.
        todo!("exercise 4.1: start an election (see workshop4/README.md, Implement 4.1)")
    }

    /// A candidate of this node's term asks for its vote.
    pub(crate) fn handle_request_vote(
        &mut self,
        candidate: NodeId,
        request: VoteRequest,
    ) -> VoteResponse {
        // TODO(4.1): grant the vote only if this node has not voted for
        // someone else in this term AND the candidate's log is at least as up
        // to date as yours (compare last terms first, then last indexes).
        // When you grant it, record the vote and reset your election timer.
        // Answer with your term either way.
        todo!("exercise 4.1: decide on a vote (see workshop4/README.md, Implement 4.1)")
    }

    /// A peer answered this node's vote request, in this node's term.
    pub(crate) fn handle_vote(&mut self, voter: NodeId, vote: VoteResponse) {
        // TODO(4.1): only a candidate counts votes. Add a granted vote to
        // the set (a set: a duplicated vote counts once); with a quorum of
        // votes, `become_leader`.
        todo!("exercise 4.1: count votes (see workshop4/README.md, Implement 4.1)")
    }
}
