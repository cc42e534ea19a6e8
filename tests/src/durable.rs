//! What a queue node keeps across a restart: Raft's persistent state.
//!
//! Figure 2 of the Raft paper names three things every server must keep on
//! stable storage before it answers anyone: its current term, whom it voted
//! for in that term, and its log. Workshop 4's Raft-lite keeps them in
//! memory only, so its nodes never come back; the queue's nodes do, so they
//! write each change down first. The queue itself is not saved: it is
//! rebuilt by applying the log again, from the first entry.
//!
//! A node's [`QueueNode::ready`](crate::QueueNode::ready) lists the
//! [`DurableChange`]s since the last call; the driver makes them durable
//! before it sends anything the same call produced. [`DurableState`] is what
//! they add up to: an in-memory disk that outlives a simulated crash, and
//! what the process deployment's log file is read back into.

use coordination::NodeId;
use workshop4::{Entry, LogIndex, Term};

use crate::Command;

/// The term and the vote, written together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HardState {
    /// The latest term the node has seen.
    pub term: Term,
    /// Whom it voted for in that term.
    pub voted_for: Option<NodeId>,
}

/// One change to make durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurableChange {
    /// The term or the vote changed.
    HardState(HardState),
    /// The log lost every entry from this index on (a follower's conflict
    /// with its leader).
    TruncateFrom(LogIndex),
    /// These entries were added at the end of the log, in order.
    Append(Vec<Entry<Command>>),
}

/// Everything durable about one node: its hard state and its log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DurableState {
    /// The term and the vote.
    pub hard_state: HardState,
    /// The log, index 1 first.
    pub entries: Vec<Entry<Command>>,
}

impl DurableState {
    /// Nothing written yet: a node's first start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one change.
    pub fn apply(&mut self, change: DurableChange) {
        match change {
            DurableChange::HardState(hard_state) => self.hard_state = hard_state,
            DurableChange::TruncateFrom(index) => {
                let keep = usize::try_from(index.get().saturating_sub(1)).unwrap_or(usize::MAX);
                self.entries.truncate(keep);
            }
            DurableChange::Append(entries) => self.entries.extend(entries),
        }
    }

    /// Whether nothing was ever written.
    pub fn is_empty(&self) -> bool {
        self.hard_state == HardState::default() && self.entries.is_empty()
    }
}

/// What the durable store holds, as far as the node knows: enough to work
/// out what changed since (the terms of the log's entries stand for the
/// entries, by the Log Matching Property).
#[derive(Debug, Clone, Default)]
pub(crate) struct Persisted {
    /// The hard state last written.
    hard_state: HardState,
    /// The term of each entry written, index 1 first.
    terms: Vec<Term>,
}

impl Persisted {
    /// What `durable` holds.
    pub(crate) fn of(durable: &DurableState) -> Self {
        Self {
            hard_state: durable.hard_state,
            terms: durable.entries.iter().map(|entry| entry.term).collect(),
        }
    }

    /// The changes that bring the store from what it holds to `hard_state`
    /// and `log`, and notes them as written.
    ///
    /// Two entries with the same index and term are the same entry (the Log
    /// Matching Property), so the logs agree up to the last index where the
    /// terms agree; looking back from the end finds it after a few steps,
    /// because only the tail of a log ever changes.
    pub(crate) fn catch_up(
        &mut self,
        hard_state: HardState,
        log: &workshop4::Log<Command>,
    ) -> Vec<DurableChange> {
        let mut changes = Vec::new();
        if hard_state != self.hard_state {
            self.hard_state = hard_state;
            changes.push(DurableChange::HardState(hard_state));
        }
        let last = log.last_index().get();
        let mut common = (self.terms.len() as u64).min(last);
        while common > 0 {
            let position = usize::try_from(common - 1).expect("the log fits in memory");
            if log.term_at(LogIndex::new(common)) == Some(self.terms[position]) {
                break;
            }
            common -= 1;
        }
        let kept = usize::try_from(common).expect("the log fits in memory");
        if kept < self.terms.len() {
            self.terms.truncate(kept);
            changes.push(DurableChange::TruncateFrom(LogIndex::new(common + 1)));
        }
        if last > common {
            let appended = log.entries_from(LogIndex::new(common + 1));
            self.terms.extend(appended.iter().map(|entry| entry.term));
            // One change per append's worth of entries, so that a journal
            // record stays as bounded as a message between nodes, however
            // many requests one batch proposed.
            let per_change = usize::try_from(crate::ENTRIES_PER_APPEND).unwrap_or(usize::MAX);
            changes.extend(
                appended
                    .chunks(per_change)
                    .map(|chunk| DurableChange::Append(chunk.to_vec())),
            );
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use workshop4::{Log, Term};

    use crate::ENTRIES_PER_APPEND as MAX_ENTRIES_PER_APPEND;

    use super::{DurableChange, DurableState, HardState, Persisted};
    use crate::Command;

    /// Many entries proposed at once are written as several changes of at
    /// most one append's worth each, so no journal record outgrows the
    /// frames between nodes; together they rebuild the same log.
    #[test]
    fn a_long_tail_is_written_in_bounded_changes() {
        let mut log = Log::new();
        for _ in 0..150 {
            log.append(Term::new(1), Command::OpenSession);
        }
        let mut persisted = Persisted::default();
        let changes = persisted.catch_up(HardState::default(), &log);
        let sizes: Vec<usize> = changes
            .iter()
            .map(|change| match change {
                DurableChange::Append(entries) => entries.len(),
                other => panic!("only appends were expected, got {other:?}"),
            })
            .collect();
        let most = usize::try_from(MAX_ENTRIES_PER_APPEND).expect("a small number");
        assert_eq!(
            sizes,
            vec![most, most, 150 - 2 * most],
            "150 new entries must be written in changes of at most {most}"
        );
        let mut state = DurableState::new();
        for change in changes {
            state.apply(change);
        }
        assert_eq!(
            state.entries,
            log.entries(),
            "the changes together hold the whole log"
        );
    }
}
