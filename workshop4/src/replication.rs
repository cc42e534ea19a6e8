//! Exercise 4.2: log replication. The consistency check, conflict
//! truncation and the leader's backoff.
//!
//! The leader sends each follower the entries it lacks, together with the
//! index and term of the entry just before them. The follower accepts only if
//! its own log has that entry: by induction, the two logs then agree on
//! everything up to it (the Log Matching Property, section 5.3). An entry
//! that conflicts with the leader's (same index, other term) was never
//! committed, so the follower deletes it and everything after it. An entry it
//! already has is left alone: a late, duplicated request must not cut off
//! entries a newer request added.
//!
//! When the check fails, the leader moves its guess of the follower's log end
//! (`next_index`) back and tries again. One entry per round trip is slow for a
//! follower that missed a whole term; the rejection tells the leader the term
//! of the conflicting entry and where that term starts in the follower's log,
//! so the leader skips a term per round trip (the optimisation described at
//! the end of section 5.3; the variant here is the one of the Raft course
//! guide by Jon Gjengset, "Students' Guide to Raft", 2016).
//!
//! The shell in `node.rs` calls `handle_append_entries` on a follower after
//! recognising the leader, and `handle_append_rejection` on the leader. Given
//! helpers: `send_append` and the [`Log`](crate::Log) methods.
//!
//! - Read: `workshop4/README.md`, "Implement", 4.2.
//! - Check: `cargo workshop check 4.2`, or all of its output with
//!   `cargo test -p workshop4 --test workshop ex4_2_replication`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use coordination::NodeId;

use crate::node::RoleState;
use crate::{AppendOutcome, AppendRequest, Command, LogIndex, RaftNode, Term};

impl<C: Command> RaftNode<C> {
    /// A follower checks and applies an append from the leader of its term.
    pub(crate) fn handle_append_entries(&mut self, request: AppendRequest<C>) -> AppendOutcome {
        // TODO(4.2): the consistency check. `self.log.term_at(prev_log_index)`
        // is `None` when the log is too short: reject with `conflict_index`
        // = your last index + 1 and no conflict term. A different term:
        // reject with that term and the first index of it in your log.
        // Then, for each entry: same term at its index, skip it (a
        // duplicate); another term, `truncate_from` there and append; nothing
        // there, append. Accept with `match_index = prev_log_index + number
        // of entries sent` (not your last index: entries beyond it are not
        // verified).
        todo!("exercise 4.2: check and append entries (see workshop4/README.md, Implement 4.2)")
    }

    /// The leader hears that `follower`'s log does not hold its entry before
    /// `next_index`: move `next_index` back and try again.
    pub(crate) fn handle_append_rejection(
        &mut self,
        follower: NodeId,
        conflict_index: LogIndex,
        conflict_term: Option<Term>,
    ) {
        // TODO(4.2): if the leader's log has entries of `conflict_term`, the
        // next index is just past its last entry of that term; otherwise it
        // is `conflict_index`. Keep it between the follower's match index + 1
        // and your last index + 1 (a late rejection can point anywhere), store
        // it in the follower's `Progress` (only a leader has one), and
        // `send_append` again.
        todo!("exercise 4.2: back off the next index (see workshop4/README.md, Implement 4.2)")
    }
}
