//! Recording a timeline during a run, from anywhere in the run.

use std::cell::{Cell, RefCell};
use std::fmt::Display;
use std::marker::PhantomData;

use super::tracker_events::TrackerLanes;
use super::{Activity, Fate, Lane, Mark, Message, Outcome, Point, Span, Timeline};
use crate::TrackerEvent;
use crate::sim::clock;

thread_local! {
    /// The recording in progress on this thread, if any.
    static ACTIVE: RefCell<Option<Recorder>> = const { RefCell::new(None) };
    /// A number for each recording started on this thread, so a span id from
    /// one recording never ends a span of another.
    static GENERATIONS: Cell<u64> = const { Cell::new(0) };
}

/// A recording in progress; [`finish`](Self::finish) it to get the
/// [`Timeline`].
///
/// It records what happens on the thread that started it, which is the
/// thread a simulation runs on. Starting a recording while another is in
/// progress pauses the other until this one finishes or is dropped.
#[must_use = "a recording records until it is finished or dropped"]
pub struct Recording {
    /// The recording this one paused, restored when this one ends.
    paused: Option<Recorder>,
    /// Whether `finish` already ran.
    finished: bool,
    /// Recordings live in a thread-local slot: one must end on the thread
    /// that started it.
    _one_thread: PhantomData<*const ()>,
}

/// What is being recorded.
struct Recorder {
    /// This recording's number on its thread.
    generation: u64,
    /// What was recorded so far.
    timeline: Timeline,
    /// How the tracker's events map to lanes and spans.
    tracker: TrackerLanes,
}

/// Names a span begun with [`begin`], to [`end`] it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "end the span with timeline::end, or it is drawn as still running"]
pub struct SpanId {
    /// The recording it belongs to; 0 when nothing was recording.
    generation: u64,
    /// Its position in that recording's spans.
    index: usize,
}

impl Recording {
    /// Starts recording on this thread.
    pub fn start() -> Self {
        let generation = GENERATIONS.with(|generations| {
            generations.set(generations.get() + 1);
            generations.get()
        });
        let recorder = Recorder {
            generation,
            timeline: Timeline::new(),
            tracker: TrackerLanes::default(),
        };
        let paused = ACTIVE.with(|active| active.borrow_mut().replace(recorder));
        Self {
            paused,
            finished: false,
            _one_thread: PhantomData,
        }
    }

    /// Stops recording and returns what was recorded.
    pub fn finish(mut self) -> Timeline {
        self.finished = true;
        let paused = self.paused.take();
        let recorder = ACTIVE.with(|active| std::mem::replace(&mut *active.borrow_mut(), paused));
        recorder
            .map(|recorder| recorder.timeline)
            .unwrap_or_default()
    }
}

impl Drop for Recording {
    /// A recording dropped without `finish` (a test that panicked) still
    /// hands the slot back to the recording it paused.
    fn drop(&mut self) {
        if !self.finished {
            let paused = self.paused.take();
            ACTIVE.with(|active| *active.borrow_mut() = paused);
        }
    }
}

/// Whether a recording is in progress on this thread.
pub fn is_recording() -> bool {
    ACTIVE.with(|active| active.borrow().is_some())
}

/// Runs `record` on the active recorder, if there is one.
fn with_recorder<T>(record: impl FnOnce(&mut Recorder) -> T) -> Option<T> {
    ACTIVE.with(|active| active.borrow_mut().as_mut().map(record))
}

/// Begins `activity` on `lane` now; `label` says which one (`item-7 #2`).
/// End it with [`end`].
pub fn begin(lane: impl Into<Lane>, activity: Activity, label: impl Display) -> SpanId {
    with_recorder(|recorder| {
        let index = recorder.timeline.spans.len();
        recorder.timeline.push_span(Span {
            lane: lane.into(),
            activity,
            label: label.to_string(),
            start: clock::elapsed(),
            ended: None,
        });
        SpanId {
            generation: recorder.generation,
            index,
        }
    })
    .unwrap_or(SpanId {
        generation: 0,
        index: 0,
    })
}

/// Ends the span `span` now, with `outcome`. Ending a span twice keeps the
/// first end.
pub fn end(span: SpanId, outcome: Outcome) {
    with_recorder(|recorder| {
        if span.generation != recorder.generation {
            return;
        }
        if let Some(recorded) = recorder.timeline.spans.get_mut(span.index) {
            recorded
                .ended
                .get_or_insert_with(|| (clock::elapsed(), outcome));
        }
    });
}

/// Marks `mark` on `lane` now; `label` says about what (`item-7`).
pub fn point(lane: impl Into<Lane>, mark: Mark, label: impl Display) {
    with_recorder(|recorder| {
        recorder.timeline.push_point(Point {
            lane: lane.into(),
            mark,
            label: label.to_string(),
            at: clock::elapsed(),
        });
    });
}

/// Records a message from `from` to `to`, sent at `sent`, now that its
/// `fate` is known; `label` says what it was (`heartbeat`).
pub fn message(
    from: impl Into<Lane>,
    to: impl Into<Lane>,
    label: impl Display,
    sent: std::time::Duration,
    fate: Fate,
) {
    with_recorder(|recorder| {
        recorder.timeline.push_message(Message {
            from: from.into(),
            to: to.into(),
            label: label.to_string(),
            sent,
            fate,
        });
    });
}

/// Records one of the tracker's events, if a recording is in progress.
pub(crate) fn record_tracker_event(event: &TrackerEvent) {
    with_recorder(|recorder| recorder.tracker.record(&mut recorder.timeline, event));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sim::simulate;

    #[test]
    fn nothing_is_recorded_without_a_recording() {
        assert!(!is_recording());
        let span = begin("worker-1", Activity::Attempt, "item-1 #1");
        end(span, Outcome::Succeeded);
        point("worker-1", Mark::Note, "ignored");
        assert!(!is_recording());
    }

    #[test]
    fn spans_points_and_messages_are_stamped_with_simulated_time() {
        let recording = Recording::start();
        simulate(async {
            let span = begin("node-1", Activity::Lease, "lease");
            tokio::time::sleep(Duration::from_secs(10)).await;
            point("node-2", Mark::LeaderElected { term: 2 }, "node-2");
            end(span, Outcome::Ended);
            message(
                "node-2",
                "node-1",
                "heartbeat",
                Duration::from_secs(10),
                Fate::Dropped(Duration::from_secs(11)),
            );
        });
        let timeline = recording.finish();
        assert_eq!(timeline.len(), 3);
        assert_eq!(
            timeline.spans()[0].ended,
            Some((Duration::from_secs(10), Outcome::Ended))
        );
        assert_eq!(timeline.points()[0].at, Duration::from_secs(10));
        assert_eq!(timeline.end(), Duration::from_secs(11));
        assert!(!is_recording());
    }

    #[test]
    fn an_inner_recording_pauses_the_outer_one() {
        let outer = Recording::start();
        point("a", Mark::Note, "outer");
        let outer_span = begin("a", Activity::Attempt, "outer span");
        let inner = Recording::start();
        point("b", Mark::Note, "inner");
        end(outer_span, Outcome::Failed);
        let inner = inner.finish();
        point("a", Mark::Note, "outer again");
        let outer = outer.finish();
        assert_eq!(inner.len(), 1);
        assert_eq!(outer.points().len(), 2);
        assert_eq!(
            outer.spans()[0].ended,
            None,
            "a span id from another recording must not end this one's span"
        );
    }
}
