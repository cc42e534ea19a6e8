//! How the tracker's events become a timeline.
//!
//! Every attempt is a span on its worker's lane, from `Started` to the
//! `Succeeded` or `Failed` that settles it. A timed-out attempt is two spans:
//! the attempt, ended at the timeout, and the worker still busy with it
//! afterwards, ended when its late answer is rejected (or still going when
//! the run ended, for a worker that hangs for good). Retries, dead letters
//! and late results are marks on the lane of the item's last attempt.
//! Submissions are not drawn: a batch arrives at one instant, and a column
//! of a hundred marks at zero says nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Activity, Lane, Mark, Outcome, Point, Span, Timeline};
use crate::{Attempt, Happened, Receipt, TrackerEvent, WorkError, WorkItemId, WorkerId};

/// What the mapping remembers between events.
#[derive(Debug, Default)]
pub(crate) struct TrackerLanes {
    /// Per receipt, the span of that attempt still open, by position.
    /// Receipts are numbered from 1 in sequence, so a vector indexed by
    /// number is cheaper than a map (recording runs on every event).
    open: Vec<Option<usize>>,
    /// One lane per worker, made once and shared by all its spans.
    lanes: BTreeMap<WorkerId, Lane>,
    /// Per item, the receipt of its latest attempt and the position of that
    /// attempt's first span.
    latest: BTreeMap<WorkItemId, (Receipt, usize)>,
}

impl TrackerLanes {
    /// Adds `event` to `timeline`.
    pub(crate) fn record(&mut self, timeline: &mut Timeline, event: &TrackerEvent) {
        let item = event.item;
        match &event.what {
            Happened::Submitted => {}
            Happened::Started {
                worker,
                attempt,
                receipt,
            } => {
                self.set_open(*receipt, Some(timeline.spans.len()));
                self.latest.insert(item, (*receipt, timeline.spans.len()));
                let lane = self
                    .lanes
                    .entry(*worker)
                    .or_insert_with(|| Lane::from(*worker))
                    .clone();
                timeline.push_span(Span {
                    lane,
                    activity: Activity::Attempt,
                    label: attempt_label(item, *attempt),
                    start: event.at,
                    ended: None,
                });
            }
            Happened::Succeeded { .. } => {
                self.end_latest(timeline, item, event, Outcome::Succeeded, None);
            }
            Happened::Failed { error, attempt, .. } => {
                let timed_out = matches!(error, WorkError::TimedOut { .. });
                let outcome = if timed_out {
                    Outcome::TimedOut
                } else {
                    Outcome::Failed
                };
                let ended = self.end_latest(timeline, item, event, outcome, Some(error));
                if let Some(span) = ended.filter(|_| timed_out) {
                    // The worker does not know it was given up on: it is
                    // still busy with the item.
                    let (receipt, _) = self.latest[&item];
                    let lane = timeline.spans[span].lane.clone();
                    let label = format!("{item}, {attempt}");
                    self.set_open(receipt, Some(timeline.spans.len()));
                    timeline.push_span(Span {
                        lane,
                        activity: Activity::Attempt,
                        label: format!("{label}, still running after its timeout"),
                        start: event.at,
                        ended: None,
                    });
                }
            }
            Happened::RetryScheduled { delay } => {
                let lane = self.lane_of(timeline, item);
                timeline.push_point(Point {
                    lane,
                    mark: Mark::RetryScheduled { delay: *delay },
                    label: item.to_string(),
                    at: event.at,
                });
            }
            Happened::DeadLettered { reason } => {
                let lane = self.lane_of(timeline, item);
                timeline.push_point(Point {
                    lane,
                    mark: Mark::DeadLettered,
                    label: format!("{item}: {reason}"),
                    at: event.at,
                });
            }
            Happened::LateResultRejected { receipt } => {
                let lane = match self.take_open(*receipt) {
                    Some(span) => {
                        let span = &mut timeline.spans[span];
                        span.ended = Some((event.at, Outcome::Late));
                        span.lane.clone()
                    }
                    None => self.lane_of(timeline, item),
                };
                timeline.push_point(Point {
                    lane,
                    mark: Mark::LateResultRejected,
                    label: format!("{item} ({receipt})"),
                    at: event.at,
                });
            }
        }
    }

    /// Ends the open span of `item`'s latest attempt and returns its position.
    fn end_latest(
        &mut self,
        timeline: &mut Timeline,
        item: WorkItemId,
        event: &TrackerEvent,
        outcome: Outcome,
        error: Option<&WorkError>,
    ) -> Option<usize> {
        let (receipt, _) = self.latest.get(&item)?;
        let position = self.take_open(*receipt)?;
        let span = &mut timeline.spans[position];
        span.ended = Some((event.at, outcome));
        if let Some(error) = error {
            span.label = format!("{}: {error}", span.label);
        }
        Some(position)
    }

    fn set_open(&mut self, receipt: Receipt, span: Option<usize>) {
        let Some(slot) = receipt_slot(receipt) else {
            return;
        };
        if self.open.len() <= slot {
            self.open.resize(slot + 1, None);
        }
        self.open[slot] = span;
    }

    fn take_open(&mut self, receipt: Receipt) -> Option<usize> {
        self.open.get_mut(receipt_slot(receipt)?)?.take()
    }

    /// The lane of `item`'s latest attempt, or a lane for the queue if it
    /// never started.
    fn lane_of(&self, timeline: &Timeline, item: WorkItemId) -> Lane {
        match self.latest.get(&item) {
            Some(&(_, span)) => timeline.spans[span].lane.clone(),
            None => Lane::new("queue"),
        }
    }
}

/// Where receipt `n` is kept: at `n - 1`, if that fits in memory at all.
fn receipt_slot(receipt: Receipt) -> Option<usize> {
    usize::try_from(receipt.get()).ok()?.checked_sub(1)
}

/// `item-7, attempt 2`, written into one allocation of the right size:
/// recording formats one label per attempt, on the run's hot path.
fn attempt_label(item: WorkItemId, attempt: Attempt) -> String {
    let mut label = String::with_capacity(32);
    let _ = write!(label, "{item}, {attempt}");
    label
}
