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

use coordination::NodeId;

use crate::node::RoleState;
use crate::{AppendOutcome, AppendRequest, Command, LogIndex, RaftNode, Term};

impl<C: Command> RaftNode<C> {
    /// A follower checks and applies an append from the leader of its term.
    pub(crate) fn handle_append_entries(&mut self, request: AppendRequest<C>) -> AppendOutcome {
        match self.log.term_at(request.prev_log_index) {
            None => {
                return AppendOutcome::Rejected {
                    conflict_index: self.log.last_index().next(),
                    conflict_term: None,
                };
            }
            Some(term) if term != request.prev_log_term => {
                let conflict_index = self
                    .log
                    .first_index_of(term)
                    .expect("the log holds the term it just reported");
                return AppendOutcome::Rejected {
                    conflict_index,
                    conflict_term: Some(term),
                };
            }
            Some(_) => {}
        }
        let match_index = request.prev_log_index.plus(request.entries.len() as u64);
        for entry in request.entries {
            match self.log.term_at(entry.index) {
                // Already there: a duplicate or a late request.
                Some(term) if term == entry.term => {}
                Some(_) => {
                    debug_assert!(
                        entry.index > self.commit_index,
                        "{} committed {} and a leader now replaces it: some leader committed \
                         an entry that a later leader never had (see Figure 8)",
                        self.id,
                        entry.index
                    );
                    self.log.truncate_from(entry.index);
                    self.log.append(entry.term, entry.command);
                }
                None => {
                    self.log.append(entry.term, entry.command);
                }
            }
        }
        AppendOutcome::Accepted { match_index }
    }

    /// The leader hears that `follower`'s log does not hold its entry before
    /// `next_index`: move `next_index` back and try again.
    pub(crate) fn handle_append_rejection(
        &mut self,
        follower: NodeId,
        conflict_index: LogIndex,
        conflict_term: Option<Term>,
    ) {
        let skip_to = conflict_term
            .and_then(|term| self.log.last_index_of(term))
            .map_or(conflict_index, LogIndex::next);
        let last_index = self.log.last_index();
        let RoleState::Leader { progress, .. } = &mut self.role else {
            return;
        };
        let Some(progress) = progress.get_mut(&follower) else {
            return;
        };
        // Never past the end of the log, never before index 1.
        let next_index = skip_to.clamp(LogIndex::new(1), last_index.next());
        progress.next_index = next_index;
        // A retry point at or below the match index means the follower no
        // longer holds entries it acknowledged: its disk lost them in a
        // crash. Trusting the old match index would resend from past the
        // follower's log end for ever; trust the follower, and say so.
        let acknowledged = progress.match_index;
        if next_index <= acknowledged {
            progress.match_index = next_index.previous();
            self.report_lost_entries(follower, acknowledged, next_index.previous());
        }
        self.send_append(follower);
    }
}
