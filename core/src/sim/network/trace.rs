//! The record of everything the network did, in the order it happened.
//!
//! A test that fails under an unreliable network is only useful if the run can
//! be read afterwards: which request was lost, which reply came back after the
//! caller gave up, when the partition started. The trace keeps one
//! [`TraceEntry`] per step of every message and per fault, stamped with
//! simulated time, structured (time, from, to, kind, outcome) so that a
//! timeline can be drawn from it, and printable one line per entry.
//!
//! A message's story in the trace is: `held` (only if its sender was paused),
//! then `sent` with its travel time, then `delivered` or `dropped` with the
//! reason. A copy the network made has an id of its own and begins with
//! `duplicated`, naming the message it copies. A message the network refuses at once (across a partition, to a
//! crashed node, lost) has the single entry `dropped`.

use std::fmt;
use std::time::Duration;

use super::TransmissionId;
use crate::NodeId;

/// Why a message never arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// The unreliable network lost a one-way message or a request: the
    /// receiver never saw it.
    Lost,
    /// The unreliable network lost a reply. The handler had already run, so
    /// the request took effect although the caller will time out.
    ReplyLost,
    /// Sender and receiver were on different sides of a partition, when it was
    /// sent or while it travelled.
    Partitioned,
    /// The sender or the receiver was disconnected from the network.
    Disconnected,
    /// The receiver was crashed when it was sent, or crashed before taking it.
    ReceiverCrashed,
    /// The sender crashed while it was paused, before the message left.
    SenderCrashed,
    /// A reply for a call that had already ended: it timed out, was
    /// abandoned, or (on a network that duplicates) took another answer. No
    /// one waits for it any more.
    CallerGaveUp,
    /// A second answer to a call that another copy of the answer, or the
    /// answer to another copy of the request, had already settled.
    AlreadyAnswered,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lost => "lost",
            Self::ReplyLost => "reply lost after the handler ran",
            Self::Partitioned => "partitioned",
            Self::Disconnected => "disconnected",
            Self::ReceiverCrashed => "receiver crashed",
            Self::SenderCrashed => "sender crashed before it left",
            Self::CallerGaveUp => "the caller had given up",
            Self::AlreadyAnswered => "the call was already answered",
        })
    }
}

/// One step in the life of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its sender is paused: it leaves when the sender resumes.
    Held,
    /// It left its sender and will arrive after `delay`, unless a fault cuts
    /// it off on the way.
    Sent {
        /// How long it travels.
        delay: Duration,
        /// Whether the network held it back for a long delay, so that later
        /// messages overtake it.
        long_delay: bool,
    },
    /// The network made it, a copy of message `of`, which had just left:
    /// it arrives after `delay` as well, unless a fault cuts it off.
    Duplicated {
        /// The message it copies.
        of: TransmissionId,
        /// How long the copy travels.
        delay: Duration,
    },
    /// Its receiver took it.
    Delivered,
    /// It will never arrive.
    Dropped(DropReason),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Held => f.write_str("held: the sender is paused"),
            Self::Sent { delay, long_delay } => {
                write!(f, "sent, arrives in {}", Millis(*delay))?;
                if *long_delay {
                    f.write_str(" (held back)")?;
                }
                Ok(())
            }
            Self::Duplicated { of, delay } => {
                write!(
                    f,
                    "a copy of {of} made by the network, arrives in {}",
                    Millis(*delay)
                )
            }
            Self::Delivered => f.write_str("delivered"),
            Self::Dropped(reason) => write!(f, "dropped: {reason}"),
        }
    }
}

/// Something the network did or had done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkEvent {
    /// A step in the life of a message.
    Message {
        /// Which message.
        id: TransmissionId,
        /// Its sender.
        from: NodeId,
        /// Its receiver.
        to: NodeId,
        /// Its [`kind`](super::Message::kind).
        kind: &'static str,
        /// What happened to it.
        outcome: Outcome,
    },
    /// The node stopped receiving and acting, like a process in a long
    /// garbage-collection pause.
    Paused(NodeId),
    /// The paused node goes on where it stopped.
    Resumed(NodeId),
    /// The node's process died: its tasks stopped and its queued messages were
    /// dropped.
    Crashed(NodeId),
    /// The crashed node came back with empty memory.
    Restarted(NodeId),
    /// The node's links were cut, both ways.
    Disconnected(NodeId),
    /// The node's links work again.
    Connected(NodeId),
    /// The network split: only nodes in the same group reach each other. Every
    /// node is listed, each group sorted.
    Partitioned(Vec<Vec<NodeId>>),
    /// The partition ended.
    Healed,
}

/// One line of the trace: what happened, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Simulated time since the run began.
    pub at: Duration,
    /// What happened.
    pub event: NetworkEvent,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same stamp as the simulation's log lines, so the two read side
        // by side.
        write!(f, "{:>8.3}s  ", self.at.as_secs_f64())?;
        match &self.event {
            NetworkEvent::Message {
                id,
                from,
                to,
                kind,
                outcome,
            } => write!(f, "{from} -> {to}  {kind} {id}  {outcome}"),
            NetworkEvent::Paused(node) => write!(f, "{node} paused"),
            NetworkEvent::Resumed(node) => write!(f, "{node} resumed"),
            NetworkEvent::Crashed(node) => write!(f, "{node} crashed"),
            NetworkEvent::Restarted(node) => write!(f, "{node} restarted"),
            NetworkEvent::Disconnected(node) => write!(f, "{node} disconnected"),
            NetworkEvent::Connected(node) => write!(f, "{node} connected"),
            NetworkEvent::Partitioned(groups) => {
                f.write_str("partitioned:")?;
                for (index, group) in groups.iter().enumerate() {
                    f.write_str(if index == 0 { " [" } else { " | [" })?;
                    for (position, node) in group.iter().enumerate() {
                        if position > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{node}")?;
                    }
                    f.write_str("]")?;
                }
                Ok(())
            }
            NetworkEvent::Healed => f.write_str("partition healed"),
        }
    }
}

/// Everything the network did in a run, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    /// The entries, in the order they happened (so also sorted by time).
    entries: Vec<TraceEntry>,
}

impl Trace {
    /// Every entry, in the order it happened.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// The outcomes of one message, in order: its story.
    pub fn story_of(&self, message: TransmissionId) -> Vec<Outcome> {
        self.entries
            .iter()
            .filter_map(|entry| match entry.event {
                NetworkEvent::Message { id, outcome, .. } if id == message => Some(outcome),
                _ => None,
            })
            .collect()
    }

    /// How many entries record a message outcome that `wanted` picks out.
    pub fn count_outcomes(&self, wanted: impl Fn(&Outcome) -> bool) -> usize {
        self.entries
            .iter()
            .filter(|entry| matches!(&entry.event, NetworkEvent::Message { outcome, .. } if wanted(outcome)))
            .count()
    }

    pub(super) fn record(&mut self, at: Duration, event: NetworkEvent) {
        self.entries.push(TraceEntry { at, event });
    }
}

impl fmt::Display for Trace {
    /// One line per entry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for entry in &self.entries {
            writeln!(f, "{entry}")?;
        }
        Ok(())
    }
}

/// A duration printed in milliseconds, the network's resolution: `4 ms`,
/// or `0.250 ms` for the rare delay set below it.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_micros();
        if micros.is_multiple_of(1000) {
            write!(f, "{} ms", micros / 1000)
        } else {
            write!(f, "{}.{:03} ms", micros / 1000, micros % 1000)
        }
    }
}
