//! The replicated log: terms, indexes, entries.
//!
//! Raft replicates one thing, a log of commands, and every rule of the
//! protocol is a statement about two coordinates in it: the **term** in which
//! a leader created an entry, and the entry's **index** (its position,
//! counted from 1). Two logs that hold an entry with the same index and term
//! hold the same command there and agree on everything before it (the Log
//! Matching Property, section 5.3 of the Raft paper); the whole replication
//! protocol exists to keep that true.
//!
//! [`Term`] and [`LogIndex`] are their own types so that an index is never
//! passed where a term belongs. Index 0 is "before the first entry": it exists
//! in every log, with term 0, which is what lets the very first append pass
//! the consistency check.
//!
//! Left out: compaction. A real log is trimmed by snapshots (section 7 of the
//! paper); this one grows for the life of the node.

use std::fmt;

/// A leader's term of office: a number that only grows. Each term begins with
/// an election, and has at most one leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Term(u64);

impl Term {
    /// The term before any election: every node starts in it.
    pub const ZERO: Term = Term(0);

    /// Wraps a raw number as a term.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The term after this one, the one a candidate stands for.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "term {}", self.0)
    }
}

/// A position in the log, counted from 1. Index 0 names the empty place
/// before the first entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogIndex(u64);

impl LogIndex {
    /// The place before the first entry.
    pub const ZERO: LogIndex = LogIndex(0);

    /// Wraps a raw number as an index.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The index after this one.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The index before this one; index 0 stays 0.
    pub const fn previous(self) -> Self {
        Self(self.0.saturating_sub(1))
    }

    /// The index `count` entries after this one.
    pub const fn plus(self, count: u64) -> Self {
        Self(self.0 + count)
    }
}

impl fmt::Display for LogIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "index {}", self.0)
    }
}

/// One entry of the log: a command, where it sits, and the term of the
/// leader that created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<C> {
    /// Its position.
    pub index: LogIndex,
    /// The term of the leader that appended it first. It never changes: an
    /// entry that another leader overwrites is removed, not edited.
    pub term: Term,
    /// What the state machine will apply once the entry is committed.
    pub command: C,
}

/// A node's log: entries at indexes 1, 2, 3, … with no gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log<C> {
    /// `entries[i]` holds index `i + 1`.
    entries: Vec<Entry<C>>,
}

impl<C> Default for Log<C> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<C: Clone> Log<C> {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of the last entry; 0 for an empty log.
    pub fn last_index(&self) -> LogIndex {
        LogIndex(self.entries.len() as u64)
    }

    /// The term of the last entry; term 0 for an empty log.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(Term::ZERO, |entry| entry.term)
    }

    /// The term of the entry at `index`: term 0 at index 0, `None` past the
    /// end of the log.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        match index.0 {
            0 => Some(Term::ZERO),
            _ => self.entry(index).map(|entry| entry.term),
        }
    }

    /// The entry at `index`, if there is one.
    pub fn entry(&self, index: LogIndex) -> Option<&Entry<C>> {
        let position = usize::try_from(index.0).ok()?.checked_sub(1)?;
        self.entries.get(position)
    }

    /// The entries from `first` to the end (none when `first` is past the
    /// end), cloned to be sent.
    pub fn entries_from(&self, first: LogIndex) -> Vec<Entry<C>> {
        let start = usize::try_from(first.0.max(1) - 1).unwrap_or(usize::MAX);
        self.entries.get(start..).unwrap_or_default().to_vec()
    }

    /// The entries from `first` to `last`, both included, in order.
    pub fn range(&self, first: LogIndex, last: LogIndex) -> &[Entry<C>] {
        let start = usize::try_from(first.0.max(1) - 1).unwrap_or(usize::MAX);
        let end = usize::try_from(last.0)
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        self.entries.get(start..end).unwrap_or_default()
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[Entry<C>] {
        &self.entries
    }

    /// Appends `command` at the end, created in `term`, and returns its index.
    pub fn append(&mut self, term: Term, command: C) -> LogIndex {
        let index = self.last_index().next();
        self.entries.push(Entry {
            index,
            term,
            command,
        });
        index
    }

    /// Removes the entry at `index` and every entry after it: what a follower
    /// does when its entry there conflicts with the leader's. Index 0 empties
    /// the log.
    pub fn truncate_from(&mut self, index: LogIndex) {
        let keep = usize::try_from(index.0.max(1) - 1).unwrap_or(usize::MAX);
        self.entries.truncate(keep);
    }

    /// The index of the first entry of `term`, if the log holds any.
    pub fn first_index_of(&self, term: Term) -> Option<LogIndex> {
        // Terms never decrease along a log, so a binary search finds the start
        // of a term's run of entries.
        let position = self.entries.partition_point(|entry| entry.term < term);
        (self.entries.get(position)?.term == term).then_some(LogIndex(position as u64 + 1))
    }

    /// The index of the last entry of `term`, if the log holds any.
    pub fn last_index_of(&self, term: Term) -> Option<LogIndex> {
        let end = self.entries.partition_point(|entry| entry.term <= term);
        (end > 0 && self.entries[end - 1].term == term).then_some(LogIndex(end as u64))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(terms: &[u64]) -> Log<u64> {
        let mut log = Log::new();
        for (command, &term) in (1..).zip(terms) {
            log.append(Term::new(term), command);
        }
        log
    }

    /// Index 0 exists in every log with term 0; past the end there is nothing.
    #[test]
    fn index_zero_has_term_zero_and_the_end_has_nothing() {
        let log = log_of(&[1, 1, 2]);
        assert_eq!(log.term_at(LogIndex::ZERO), Some(Term::ZERO));
        assert_eq!(log.term_at(LogIndex::new(3)), Some(Term::new(2)));
        assert_eq!(log.term_at(LogIndex::new(4)), None);
        assert_eq!(log.last_index(), LogIndex::new(3));
        assert_eq!(log.last_term(), Term::new(2));
    }

    /// A term's first and last index are found; a missing term is `None`.
    #[test]
    fn first_and_last_index_of_a_term() {
        let log = log_of(&[1, 1, 4, 4, 4, 6]);
        assert_eq!(log.first_index_of(Term::new(4)), Some(LogIndex::new(3)));
        assert_eq!(log.last_index_of(Term::new(4)), Some(LogIndex::new(5)));
        assert_eq!(log.first_index_of(Term::new(5)), None);
        assert_eq!(log.last_index_of(Term::new(5)), None);
        assert_eq!(log.last_index_of(Term::new(6)), Some(LogIndex::new(6)));
    }

    /// Truncation keeps everything before the index; ranges clamp to the log.
    #[test]
    fn truncate_and_ranges_stay_inside_the_log() {
        let mut log = log_of(&[1, 2, 3, 4]);
        assert_eq!(log.entries_from(LogIndex::new(3)).len(), 2);
        assert_eq!(log.entries_from(LogIndex::new(9)).len(), 0);
        assert_eq!(log.range(LogIndex::new(2), LogIndex::new(9)).len(), 3);
        log.truncate_from(LogIndex::new(3));
        assert_eq!(log.last_index(), LogIndex::new(2));
        log.truncate_from(LogIndex::ZERO);
        assert!(log.is_empty());
    }
}
