//! How many messages of each kind were sent, duplicated, delivered and
//! dropped.
//!
//! Message counts are how a protocol's cost is bounded in tests: an election
//! should take a handful of messages, not hundreds; one agreement a few per
//! follower. Counts are kept per [`kind`](super::Message::kind) in a
//! `BTreeMap`, so they print in the same order every run.

use std::collections::BTreeMap;
use std::fmt;

/// The counts of one kind of message (or of all kinds, from
/// [`MessageCounts::total`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindCounts {
    /// Handed to the network by a sender, including messages held by a paused
    /// sender and messages dropped at once.
    pub sent: u64,
    /// Copies the network made of sent messages, each delivered or dropped
    /// on its own.
    pub duplicated: u64,
    /// Taken from an inbox, or by a waiting call, at their receiver.
    pub delivered: u64,
    /// Lost, cut off by a partition, or discarded with a crashed node.
    pub dropped: u64,
}

impl KindCounts {
    /// Sent or duplicated but neither delivered nor dropped yet: on the
    /// wire, queued at a paused receiver, or held by a paused sender.
    pub fn in_flight(&self) -> u64 {
        (self.sent + self.duplicated)
            .saturating_sub(self.delivered)
            .saturating_sub(self.dropped)
    }

    /// These counts minus `earlier`'s, for the messages of one stretch of a
    /// run.
    fn since(self, earlier: Self) -> Self {
        Self {
            sent: self.sent.saturating_sub(earlier.sent),
            duplicated: self.duplicated.saturating_sub(earlier.duplicated),
            delivered: self.delivered.saturating_sub(earlier.delivered),
            dropped: self.dropped.saturating_sub(earlier.dropped),
        }
    }

    fn add(self, other: Self) -> Self {
        Self {
            sent: self.sent + other.sent,
            duplicated: self.duplicated + other.duplicated,
            delivered: self.delivered + other.delivered,
            dropped: self.dropped + other.dropped,
        }
    }
}

/// Message counts per kind, for a whole run or, with
/// [`since`](MessageCounts::since), for part of one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageCounts {
    /// Counts per kind, sorted by kind.
    kinds: BTreeMap<&'static str, KindCounts>,
}

impl MessageCounts {
    /// The counts of one kind; all zero for a kind never sent.
    pub fn of(&self, kind: &str) -> KindCounts {
        self.kinds.get(kind).copied().unwrap_or_default()
    }

    /// The counts of all kinds together.
    pub fn total(&self) -> KindCounts {
        self.kinds
            .values()
            .fold(KindCounts::default(), |sum, counts| sum.add(*counts))
    }

    /// Every kind with its counts, sorted by kind.
    pub fn kinds(&self) -> impl Iterator<Item = (&'static str, KindCounts)> + '_ {
        self.kinds.iter().map(|(kind, counts)| (*kind, *counts))
    }

    /// What happened after `earlier` was taken: take counts before an
    /// election and after it, and the difference is the election's cost.
    pub fn since(&self, earlier: &MessageCounts) -> MessageCounts {
        let kinds = self
            .kinds
            .iter()
            .map(|(kind, counts)| (*kind, counts.since(earlier.of(kind))))
            .filter(|(_, counts)| *counts != KindCounts::default())
            .collect();
        MessageCounts { kinds }
    }

    pub(super) fn record_sent(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().sent += 1;
    }

    pub(super) fn record_duplicated(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().duplicated += 1;
    }

    pub(super) fn record_delivered(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().delivered += 1;
    }

    pub(super) fn record_dropped(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().dropped += 1;
    }
}

impl fmt::Display for MessageCounts {
    /// One line per kind and a total, in aligned columns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.kinds.keys().map(|kind| kind.len()).max().unwrap_or(0);
        let width = width.max("total".len());
        writeln!(
            f,
            "{:<width$}  {:>9}  {:>10}  {:>9}  {:>9}",
            "kind", "sent", "duplicated", "delivered", "dropped"
        )?;
        let total = self.total();
        for (kind, counts) in self.kinds().chain([("total", total)]) {
            writeln!(
                f,
                "{kind:<width$}  {:>9}  {:>10}  {:>9}  {:>9}",
                counts.sent, counts.duplicated, counts.delivered, counts.dropped
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `since` subtracts kind by kind and leaves out kinds with nothing new.
    #[test]
    fn since_keeps_only_what_happened_after_the_snapshot() {
        let mut counts = MessageCounts::default();
        counts.record_sent("vote");
        counts.record_delivered("vote");
        let before = counts.clone();
        counts.record_sent("append");
        counts.record_dropped("append");
        let after = counts.since(&before);
        assert_eq!(after.of("vote"), KindCounts::default());
        assert_eq!(after.kinds().count(), 1);
        assert_eq!(
            after.of("append"),
            KindCounts {
                sent: 1,
                duplicated: 0,
                delivered: 0,
                dropped: 1
            }
        );
        assert_eq!(counts.total().sent, 2);
        assert_eq!(counts.total().in_flight(), 0);
    }
}
