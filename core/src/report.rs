//! What became of every item in a run.
//!
//! The one number a coordinator must get right is zero: items lost. A
//! [`RunReport`] accounts for every submitted item in exactly one of three
//! buckets, so that `submitted = succeeded + dead-lettered + lost` always holds
//! and a lost item is named, not just counted. It also keeps the event history,
//! which is what tests check ordering and timing against, and what a timeline
//! draws.

use std::fmt;
use std::time::Duration;

use crate::metrics::Percentiles;
use crate::{Happened, TrackerEvent, WorkError, WorkItemId, WorkStatus, WorkerId};

/// The final word on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSummary {
    /// Which item.
    pub id: WorkItemId,
    /// Where it ended up.
    pub status: WorkStatus,
    /// How many attempts it had.
    pub attempts: u32,
    /// The worker of its last attempt, if it had one.
    pub last_worker: Option<WorkerId>,
    /// The error of its last failed attempt, if any failed.
    pub last_error: Option<WorkError>,
    /// When it was submitted, in simulated time since the run began.
    pub submitted_at: Duration,
    /// When it reached a final state, if it did.
    pub finished_at: Option<Duration>,
}

impl ItemSummary {
    /// Whether the item ended neither succeeded nor dead-lettered.
    pub fn is_lost(&self) -> bool {
        !self.status.is_final()
    }
}

impl fmt::Display for ItemSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} left {} after {} attempt(s)",
            self.id, self.status, self.attempts
        )?;
        if let Some(error) = &self.last_error {
            write!(f, " (last error: {error})")?;
        }
        Ok(())
    }
}

/// Every item's outcome and the full event history of a run.
///
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Per item, in the order submitted.
    items: Vec<ItemSummary>,
    /// Positions in `items`, sorted by item id.
    by_id: Vec<usize>,
    /// Everything that happened, in order.
    events: Vec<TrackerEvent>,
}

impl RunReport {
    pub(crate) fn from_records(items: Vec<ItemSummary>, events: Vec<TrackerEvent>) -> Self {
        let mut by_id: Vec<usize> = (0..items.len()).collect();
        // Batches are usually submitted in id order already; checking first
        // skips the sort then.
        if !items.is_sorted_by_key(|item| item.id) {
            by_id.sort_unstable_by_key(|&at| items[at].id);
        }
        Self {
            items,
            by_id,
            events,
        }
    }

    /// How many items were submitted.
    pub fn submitted(&self) -> usize {
        self.items.len()
    }

    /// How many items succeeded.
    pub fn succeeded(&self) -> usize {
        self.count_in(WorkStatus::Succeeded)
    }

    /// How many items were set aside in a dead-letter queue.
    pub fn dead_lettered(&self) -> usize {
        self.count_in(WorkStatus::DeadLettered)
    }

    /// The items that ended neither succeeded nor dead-lettered, by id.
    pub fn lost(&self) -> Vec<&ItemSummary> {
        self.items().filter(|item| item.is_lost()).collect()
    }

    /// How many attempts were started, over all items.
    pub fn attempts(&self) -> usize {
        self.count_events(|what| matches!(what, Happened::Started { .. }))
    }

    /// How many attempts failed, over all items.
    pub fn failed_attempts(&self) -> usize {
        self.count_events(|what| matches!(what, Happened::Failed { .. }))
    }

    /// How many results arrived under an old receipt and were not counted.
    pub fn late_results_rejected(&self) -> usize {
        self.count_events(|what| matches!(what, Happened::LateResultRejected { .. }))
    }

    /// Simulated time from the start of the run to its last event.
    pub fn elapsed(&self) -> Duration {
        self.events.last().map(|event| event.at).unwrap_or_default()
    }

    /// Simulated time at which the run's work was done: the last event that
    /// moved an item, not counting late results rejected afterwards.
    pub fn completion_time(&self) -> Duration {
        self.events
            .iter()
            .filter(|event| !matches!(event.what, Happened::LateResultRejected { .. }))
            .map(|event| event.at)
            .max()
            .unwrap_or_default()
    }

    /// Time from submission to a final state, over the items that reached one.
    pub fn latency(&self) -> Percentiles {
        Percentiles::of(
            self.items
                .iter()
                .filter_map(|item| Some(item.finished_at? - item.submitted_at))
                .collect(),
        )
    }

    /// The outcome of one item.
    pub fn item(&self, id: WorkItemId) -> Option<&ItemSummary> {
        let found = self
            .by_id
            .binary_search_by_key(&id, |&at| self.items[at].id)
            .ok()?;
        Some(&self.items[self.by_id[found]])
    }

    /// Every item's outcome, sorted by id.
    pub fn items(&self) -> impl Iterator<Item = &ItemSummary> {
        self.by_id.iter().map(|&at| &self.items[at])
    }

    /// Every event, in the order it happened.
    pub fn events(&self) -> &[TrackerEvent] {
        &self.events
    }

    /// The events of one item, in order.
    pub fn events_of(&self, id: WorkItemId) -> impl Iterator<Item = &TrackerEvent> {
        self.events.iter().filter(move |event| event.item == id)
    }

    /// The whole history as text, one event per line. Two runs with the same
    /// seed produce the same trace byte for byte; tests compare traces to prove
    /// it.
    pub fn trace(&self) -> String {
        self.events
            .iter()
            .map(|event| format!("{event}\n"))
            .collect()
    }

    /// Panics, naming every lost item, unless every submitted item succeeded or
    /// was dead-lettered.
    #[track_caller]
    pub fn assert_nothing_lost(&self) {
        let lost = self.lost();
        if lost.is_empty() {
            return;
        }
        let mut message = format!(
            "{} of {} items were lost (neither succeeded nor dead-lettered):\n",
            lost.len(),
            self.submitted()
        );
        for item in &lost {
            message.push_str(&format!("  {item}\n"));
        }
        message.push_str(&format!(
            "accounting: submitted {} = succeeded {} + dead-lettered {} + lost {}",
            self.submitted(),
            self.succeeded(),
            self.dead_lettered(),
            lost.len()
        ));
        panic!("{message}");
    }

    fn count_in(&self, status: WorkStatus) -> usize {
        self.items
            .iter()
            .filter(|item| item.status == status)
            .count()
    }

    fn count_events(&self, wanted: impl Fn(&Happened) -> bool) -> usize {
        self.events
            .iter()
            .filter(|event| wanted(&event.what))
            .count()
    }
}

impl fmt::Display for RunReport {
    /// A two-column summary table, for demos and failure messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let latency = self.latency();
        let rows = [
            ("submitted", self.submitted().to_string()),
            ("succeeded", self.succeeded().to_string()),
            ("dead-lettered", self.dead_lettered().to_string()),
            ("lost", self.lost().len().to_string()),
            ("attempts", self.attempts().to_string()),
            ("failed attempts", self.failed_attempts().to_string()),
            (
                "late results rejected",
                self.late_results_rejected().to_string(),
            ),
            (
                "simulated time",
                format!("{:.3}s", self.elapsed().as_secs_f64()),
            ),
            ("latency p50", format!("{:.3}s", latency.p50.as_secs_f64())),
            ("latency p99", format!("{:.3}s", latency.p99.as_secs_f64())),
        ];
        for (name, value) in rows {
            writeln!(f, "  {name:<22}{value:>10}")?;
        }
        Ok(())
    }
}
