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

use std::collections::BTreeSet;

use coordination::NodeId;
use rand::RngExt;

use crate::node::{RoleState, TermCheck};
use crate::{Command, RaftMessage, RaftNode, Term, VoteRequest, VoteResponse};

impl<C: Command> RaftNode<C> {
    /// Draws the next election timeout, in ticks, uniformly from the
    /// configured range.
    pub(crate) fn randomized_election_timeout(&mut self) -> u32 {
        self.rng.random_range(self.config.election_timeout_ticks())
    }

    /// The term rules, applied to every message before it is handled.
    pub(crate) fn check_term(&mut self, term: Term) -> TermCheck {
        if term > self.term {
            // Whatever this node was, someone has moved on: follow, leader
            // unknown until it speaks.
            self.become_follower(term, None);
        }
        if term < self.term {
            TermCheck::Stale
        } else {
            TermCheck::Current
        }
    }

    /// The election timer ran out: stand for the next term.
    pub(crate) fn start_election(&mut self) {
        self.term = self.term.next();
        self.voted_for = Some(self.id);
        self.leader = None;
        self.role = RoleState::Candidate {
            votes: BTreeSet::from([self.id]),
        };
        // A fresh draw: if this election splits the vote, the candidates
        // time out at different moments next time.
        self.reset_election_timer();
        if self.quorum() == 1 {
            self.become_leader();
            return;
        }
        let request = VoteRequest {
            term: self.term,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for peer in self.peers.clone() {
            self.send(peer, RaftMessage::RequestVote(request));
        }
    }

    /// A candidate of this node's term asks for its vote.
    pub(crate) fn handle_request_vote(
        &mut self,
        candidate: NodeId,
        request: VoteRequest,
    ) -> VoteResponse {
        let vote_is_free = self.voted_for.is_none_or(|voted| voted == candidate);
        // Section 5.4.1: the later last term wins; with equal last terms, the
        // longer log.
        let candidate_is_up_to_date = (request.last_log_term, request.last_log_index)
            >= (self.log.last_term(), self.log.last_index());
        let granted = vote_is_free && candidate_is_up_to_date;
        if granted {
            self.voted_for = Some(candidate);
            // Having just helped elect someone, give them time to lead.
            self.reset_election_timer();
        }
        VoteResponse {
            term: self.term,
            granted,
        }
    }

    /// A peer answered this node's vote request, in this node's term.
    pub(crate) fn handle_vote(&mut self, voter: NodeId, vote: VoteResponse) {
        let RoleState::Candidate { votes } = &mut self.role else {
            // Already leader, or back to follower: the vote is late.
            return;
        };
        if vote.granted {
            votes.insert(voter);
        }
        if votes.len() >= self.quorum() {
            self.become_leader();
        }
    }
}
