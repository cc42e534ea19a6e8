//! Exercise 4.3: commit and apply. A majority's match index, and only
//! entries of the current term counted directly.
//!
//! An entry is committed once the leader that created it has stored it on a
//! majority: any later leader needs the votes of a majority, every majority
//! shares a member with this one, and that member votes only for a candidate
//! whose log is at least as up to date (4.1), so the entry survives every
//! election. The leader tracks each follower's `match_index`; the highest
//! index that a majority has matched is committable.
//!
//! With one exception, the subtlest rule of Raft (section 5.4.2, Figure 8):
//! a leader must not commit an entry of an **earlier term** by counting
//! replicas, even if a majority holds it, because a node that never had it can
//! still win an election and overwrite it. It commits an entry of its own term
//! that way; the earlier entries are then committed with it, by the Log
//! Matching Property.
//!
//! Followers learn the commit index from the leader's messages, but may
//! only commit what the leader has checked in their log: the tail of a
//! follower's log may still be stale. What is committed stays committed.
//!
//! The shell calls `handle_append_success` on the leader and `follow_commit`
//! on a follower whose leader is ahead. `take_committed` (given) then hands
//! out the newly committed entries in order.
//!
//! - Read: `workshop4/README.md`, "Implement", 4.3.
//! - Check: `cargo workshop check 4.3`, or all of its output with
//!   `cargo test -p workshop4 --test workshop ex4_3_commit`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use coordination::NodeId;

use crate::node::RoleState;
use crate::{Command, LogIndex, RaftNode};

impl<C: Command> RaftNode<C> {
    /// The leader hears that `follower`'s log matches its own up to
    /// `match_index`.
    pub(crate) fn handle_append_success(&mut self, follower: NodeId, match_index: LogIndex) {
        // TODO(4.3): record what the follower now holds, try to commit, and
        // keep a follower that is still behind fed. The trap: answers arrive
        // late and out of order.
        todo!("exercise 4.3: record a follower's match (see workshop4/README.md, Implement 4.3)")
    }

    /// The leader commits the highest index that a majority holds, if it is
    /// of the current term.
    pub(crate) fn advance_commit_index(&mut self) {
        // TODO(4.3): the highest index a majority of the cluster holds,
        // yourself included, is committable, with the exception of Figure 8.
        todo!("exercise 4.3: commit by majority (see workshop4/README.md, Implement 4.3)")
    }

    /// A follower adopts the leader's commit index, up to what it verified.
    pub(crate) fn follow_commit(&mut self, leader_commit: LogIndex, verified: LogIndex) {
        // TODO(4.3): the trap: the tail of your log may be stale, and
        // messages arrive out of order.
        todo!(
            "exercise 4.3: follow the leader's commit index (see workshop4/README.md, Implement 4.3)"
        )
    }
}
