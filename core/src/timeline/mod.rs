//! # Timelines: what ran where, and when
//!
//! A report says that 12 items were lost; a timeline shows the failures on
//! worker-2 that nobody retried. Every workshop records one during a run and
//! draws it two ways: a swimlane for the terminal ([`Swimlane`], 100 columns)
//! and a standalone SVG file (a [`Figure`](crate::picture::Figure) in a
//! [`Picture`](crate::picture::Picture)), each with one lane per worker or
//! node, a time axis and a legend.
//!
//! ## Recording
//!
//! Start a [`Recording`] on the thread that runs the simulation; while it
//! lasts, any code in the run can record with four calls, stamped with
//! simulated time:
//!
//! - [`begin`] and [`end`]: an [`Activity`] on a lane (an attempt, a lease
//!   held, a term as leader) and its [`Outcome`];
//! - [`point`]: a [`Mark`] at one instant (a retry scheduled, a dead letter,
//!   a leader elected, a fencing token);
//! - [`message`]: a message from one lane to another, delivered or dropped.
//!
//! ```
//! use std::time::Duration;
//! use coordination::sim::simulate;
//! use coordination::timeline::{self, Activity, Mark, Outcome, Recording};
//!
//! let recording = Recording::start();
//! simulate(async {
//!     let lease = timeline::begin("node-1", Activity::Lease, "lease, revision 34");
//!     timeline::point("node-1", Mark::FencingToken { token: 34 }, "granted with the lease");
//!     tokio::time::sleep(Duration::from_secs(15)).await;
//!     timeline::end(lease, Outcome::Ended);
//! });
//! let timeline = recording.finish();
//! assert_eq!(timeline.len(), 2);
//! println!("{}", timeline.swimlane(coordination::picture::Terminal::detect()));
//! ```
//!
//! The [`InMemoryWorkTracker`](crate::InMemoryWorkTracker) records its events
//! by itself: every attempt becomes a span on its worker's lane, ending
//! succeeded, failed or timed out, with retries (and their delay), dead
//! letters and late results as marks. So any distributor built on the tracker
//! is drawn without a line of extra code, and [`Timeline::from_report`] draws
//! a finished [`RunReport`] the same way. Likewise, the
//! simulated network records everything it does, and
//! [`Timeline::add_network_trace`] draws its messages, pauses, crashes and
//! partitions next to what the nodes recorded.
//!
//! ## Design
//!
//! The recording lives in a thread-local slot, like the simulated clock: a
//! simulation runs on one current-thread runtime, so every task of the run
//! sees it, and two tests on two threads never share one. When nothing is
//! recording, each call costs one thread-local read; labels are formatted
//! only when something is.
//!
//! A `tracing` layer was the other way, and it was not taken: a thread has one
//! default subscriber, which logging already uses (`DWC_LOG` in tests, the
//! demos' log lines), so a recording would have to be composed with every
//! logging set-up, and it would depend on log levels. A timeline needs every
//! event whatever is logged.
//!
//! ## Left out
//!
//! Runs on several threads (a multi-threaded runtime records only what
//! happens on the recording's thread), zooming, and timelines longer than a
//! screen: a long run is drawn to the same width, each column covering more
//! time.

mod axis;
mod kind;
mod lane;
mod network_trace;
mod recording;
mod svg;
mod swimlane;
mod tracker_events;

use std::time::Duration;

pub use kind::{Activity, Look, Mark, Outcome, Shape};
pub use lane::Lane;
pub use recording::{Recording, SpanId, begin, end, is_recording, message, point};
pub use swimlane::Swimlane;

pub(crate) use recording::record_tracker_event;

use crate::RunReport;
use crate::picture::Terminal;

/// An activity on a lane, from its start to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Where.
    pub lane: Lane,
    /// What.
    pub activity: Activity,
    /// Which one: `item-7 #2`, `term 4`.
    pub label: String,
    /// When it began, in simulated time since the run began.
    pub start: Duration,
    /// When and how it ended; `None` if it was still going when the
    /// recording finished (a hung worker, a leader until the end).
    pub ended: Option<(Duration, Outcome)>,
}

/// A mark at one instant on a lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Where.
    pub lane: Lane,
    /// What.
    pub mark: Mark,
    /// About what: `item-7`, `write of token 33`.
    pub label: String,
    /// When, in simulated time since the run began.
    pub at: Duration,
}

/// A message from one lane to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The sender.
    pub from: Lane,
    /// The addressee.
    pub to: Lane,
    /// What it says: `AppendEntries term 3`, `heartbeat`.
    pub label: String,
    /// When it was sent, in simulated time since the run began.
    pub sent: Duration,
    /// What became of it.
    pub fate: Fate,
}

/// What became of a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// It arrived at this time.
    Delivered(Duration),
    /// It was lost at this time (a drop, a partition, a crash).
    Dropped(Duration),
}

impl Fate {
    /// When it arrived or was lost.
    pub fn at(self) -> Duration {
        match self {
            Fate::Delivered(at) | Fate::Dropped(at) => at,
        }
    }
}

/// Everything recorded during a run, ready to draw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Activities, in the order they began.
    spans: Vec<Span>,
    /// Instants, in the order they happened.
    points: Vec<Point>,
    /// Messages, in the order their fate was recorded.
    messages: Vec<Message>,
}

impl Timeline {
    /// An empty timeline, to fill by hand with [`push_span`](Self::push_span)
    /// and friends (for a trace kept elsewhere, such as a network's).
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeline of a finished run, from its tracker events: the same
    /// drawing a [`Recording`] of the run would give.
    pub fn from_report(report: &RunReport) -> Self {
        let mut timeline = Self::new();
        let mut lanes = tracker_events::TrackerLanes::default();
        for event in report.events() {
            lanes.record(&mut timeline, event);
        }
        timeline
    }

    /// Adds an activity.
    pub fn push_span(&mut self, span: Span) -> &mut Self {
        self.spans.push(span);
        self
    }

    /// Adds an instant.
    pub fn push_point(&mut self, point: Point) -> &mut Self {
        self.points.push(point);
        self
    }

    /// Adds a message.
    pub fn push_message(&mut self, message: Message) -> &mut Self {
        self.messages.push(message);
        self
    }

    /// The activities, in the order they began.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The instants, in the order they happened.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The messages.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// How many things were recorded: spans, points and messages.
    pub fn len(&self) -> usize {
        self.spans.len() + self.points.len() + self.messages.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every lane that has something on it, sorted.
    pub fn lanes(&self) -> Vec<&Lane> {
        let mut lanes: Vec<&Lane> = self
            .spans
            .iter()
            .map(|span| &span.lane)
            .chain(self.points.iter().map(|point| &point.lane))
            .chain(
                self.messages
                    .iter()
                    .flat_map(|message| [&message.from, &message.to]),
            )
            .collect();
        lanes.sort();
        lanes.dedup();
        lanes
    }

    /// The latest time anything was recorded at: where the drawing ends.
    /// Activities still going are drawn up to here.
    pub fn end(&self) -> Duration {
        let spans = self
            .spans
            .iter()
            .map(|span| span.ended.map_or(span.start, |(at, _)| at));
        let points = self.points.iter().map(|point| match point.mark {
            Mark::RetryScheduled { delay } => point.at + delay,
            _ => point.at,
        });
        let messages = self.messages.iter().map(|message| message.fate.at());
        spans
            .chain(points)
            .chain(messages)
            .max()
            .unwrap_or_default()
    }

    /// The terminal drawing, fitting `terminal.columns` (100 by default).
    pub fn swimlane(&self, terminal: Terminal) -> Swimlane<'_> {
        Swimlane::new(self, terminal)
    }
}
