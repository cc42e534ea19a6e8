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
        // TODO(4.1): uniform over the configured range, from `self.rng`: a
        // seeded draw, so that a run repeats.
        todo!(
            "exercise 4.1: draw a randomized election timeout (see workshop4/README.md, Implement 4.1)"
        )
    }

    /// The term rules, applied to every message before it is handled.
    pub(crate) fn check_term(&mut self, term: Term) -> TermCheck {
        // TODO(4.1): Figure 2's rule for terms. The trap: it holds whatever
        // this node's role; a leader that hears of a later term leads
        // nothing any more.
        todo!("exercise 4.1: apply the term rules (see workshop4/README.md, Implement 4.1)")
    }

    /// The election timer ran out: stand for the next term.
    pub(crate) fn start_election(&mut self) {
        // TODO(4.1): stand for the next term with your own vote, and ask
        // every peer for theirs, telling them what they need to judge your
        // log. The traps: a candidate that keeps its old timer stands again
        // at every tick; and a cluster of one has already won.
        todo!("exercise 4.1: start an election (see workshop4/README.md, Implement 4.1)")
    }

    /// A candidate of this node's term asks for its vote.
    pub(crate) fn handle_request_vote(
        &mut self,
        candidate: NodeId,
        request: VoteRequest,
    ) -> VoteResponse {
        // TODO(4.1): one vote per term, and only for a log at least as up to
        // date as yours (section 5.4.1). The trap: a voter whose timer runs
        // on may stand against the candidate it just voted for, and when it
        // was already in the candidate's term no term change restarted it.
        todo!("exercise 4.1: decide on a vote (see workshop4/README.md, Implement 4.1)")
    }

    /// A peer answered this node's vote request, in this node's term.
    pub(crate) fn handle_vote(&mut self, voter: NodeId, vote: VoteResponse) {
        // TODO(4.1): a majority of the cluster, the candidate's own vote
        // included, makes a leader. The traps: votes arrive late, after the
        // election is decided, and a network may deliver one twice.
        todo!("exercise 4.1: count votes (see workshop4/README.md, Implement 4.1)")
    }
}
