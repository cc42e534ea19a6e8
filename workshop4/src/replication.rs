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
//! The paper assumes a disk that never loses what it acknowledged. A real
//! one can: after a power cut, a follower may come back without the last
//! entries it acknowledged, and answer below what the leader believes it
//! holds. The leader must then believe the follower, not its own records,
//! and say so: Raft's guarantees rest on that disk.
//!
//! The shell in `node.rs` calls `handle_append_entries` on a follower after
//! recognising the leader, and `handle_append_rejection` on the leader. Given
//! helpers: `send_append`, `report_lost_entries` and the [`Log`](crate::Log)
//! methods.
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
        // TODO(4.2): accept only if your log holds the entry just before the
        // new ones; otherwise reject, and point the leader to where it
        // should look next. The traps: a late or repeated append must not
        // cut off entries a newer one added, and the end of your log is not
        // what this request verified.
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
        // TODO(4.2): move the follower's next index to where its answer
        // points, a whole term at a time when you can, and try again. The
        // traps: never past the end of your log; and disks lie. An answer
        // below the follower's match index means it lost entries it had
        // acknowledged: believe it (match index back too), tell the operator
        // (`report_lost_entries`), or you will retry past its log for ever.
        todo!("exercise 4.2: back off the next index (see workshop4/README.md, Implement 4.2)")
    }
}
