//! How a simulated network's trace becomes a timeline.
//!
//! The network already records everything it does ([`Trace`]): each
//! message's steps and each fault. Drawn, every message is an arrow from its
//! sender's lane to its receiver's, or a dashed one that stops halfway when
//! it was dropped (the tooltip says why); a pause or a crash is a span on
//! the node's lane until it resumes or restarts, with a mark for the crash
//! and the restart; disconnections and partitions are notes.
//!
//! Messages still travelling when the trace was taken have no fate yet and
//! are left out; so are messages held while their sender was paused until
//! they leave.

use std::collections::BTreeMap;

use super::{Activity, Fate, Lane, Mark, Message, Outcome, Point, Span, Timeline};
use crate::NodeId;
use crate::sim::{NetworkEvent, Outcome as Step, Trace, TransmissionId};

impl Timeline {
    /// Adds what the network did in `trace`: its messages, pauses, crashes
    /// and partitions, on one lane per node. Add it to the timeline recorded
    /// during the same run to see the protocol's own marks (terms, leaders,
    /// fencing tokens) next to the messages that caused them.
    pub fn add_network_trace(&mut self, trace: &Trace) -> &mut Self {
        // When each message in flight left its sender, and whether it is a
        // copy the network made.
        let mut sent: BTreeMap<TransmissionId, (std::time::Duration, bool)> = BTreeMap::new();
        // The open pause or outage of each node, by span position.
        let mut down: BTreeMap<NodeId, usize> = BTreeMap::new();
        for entry in trace.entries() {
            let at = entry.at;
            match &entry.event {
                NetworkEvent::Message {
                    id,
                    from,
                    to,
                    kind,
                    outcome,
                } => match outcome {
                    Step::Held => {}
                    Step::Sent { .. } => {
                        sent.insert(*id, (at, false));
                    }
                    Step::Duplicated { .. } => {
                        sent.insert(*id, (at, true));
                    }
                    Step::Delivered | Step::Dropped(_) => {
                        let (left, copy) = sent.remove(id).unwrap_or((at, false));
                        let name = if copy {
                            format!("{kind} (network copy)")
                        } else {
                            (*kind).to_string()
                        };
                        let (fate, label) = match outcome {
                            Step::Dropped(reason) => {
                                (Fate::Dropped(at), format!("{name}: {reason}"))
                            }
                            _ => (Fate::Delivered(at), name),
                        };
                        self.push_message(Message {
                            from: Lane::from(*from),
                            to: Lane::from(*to),
                            label,
                            sent: left,
                            fate,
                        });
                    }
                },
                NetworkEvent::Paused(node) => {
                    down.insert(*node, self.spans.len());
                    self.push_span(Span {
                        lane: Lane::from(*node),
                        activity: Activity::Paused,
                        label: "paused (a stop-the-world pause)".into(),
                        start: at,
                        ended: None,
                    });
                }
                NetworkEvent::Crashed(node) => {
                    self.end_down(&mut down, *node, at);
                    self.push_point(Point {
                        lane: Lane::from(*node),
                        mark: Mark::Crashed,
                        label: node.to_string(),
                        at,
                    });
                    down.insert(*node, self.spans.len());
                    self.push_span(Span {
                        lane: Lane::from(*node),
                        activity: Activity::Paused,
                        label: "down after a crash".into(),
                        start: at,
                        ended: None,
                    });
                }
                NetworkEvent::Resumed(node) => self.end_down(&mut down, *node, at),
                NetworkEvent::Restarted(node) => {
                    self.end_down(&mut down, *node, at);
                    self.push_point(Point {
                        lane: Lane::from(*node),
                        mark: Mark::Restarted,
                        label: format!("{node}, with empty memory"),
                        at,
                    });
                }
                NetworkEvent::Disconnected(node) | NetworkEvent::Connected(node) => {
                    let (what, mark) = if matches!(entry.event, NetworkEvent::Disconnected(_)) {
                        ("disconnected", Mark::Partitioned)
                    } else {
                        ("connected again", Mark::Healed)
                    };
                    self.push_point(Point {
                        lane: Lane::from(*node),
                        mark,
                        label: format!("{node} {what}"),
                        at,
                    });
                }
                NetworkEvent::Partitioned(groups) => {
                    let sides: Vec<String> = groups
                        .iter()
                        .map(|group| {
                            let names: Vec<String> = group.iter().map(NodeId::to_string).collect();
                            format!("[{}]", names.join(", "))
                        })
                        .collect();
                    for node in groups.iter().flatten() {
                        self.push_point(Point {
                            lane: Lane::from(*node),
                            mark: Mark::Partitioned,
                            label: format!("partitioned: {}", sides.join(" | ")),
                            at,
                        });
                    }
                }
                NetworkEvent::Healed => {
                    self.push_point(Point {
                        lane: Lane::new("network"),
                        mark: Mark::Healed,
                        label: "partition healed".into(),
                        at,
                    });
                }
            }
        }
        self
    }

    /// Ends `node`'s open pause or outage at `at`, if it has one.
    fn end_down(
        &mut self,
        down: &mut BTreeMap<NodeId, usize>,
        node: NodeId,
        at: std::time::Duration,
    ) {
        if let Some(position) = down.remove(&node) {
            self.spans[position].ended = Some((at, Outcome::Ended));
        }
    }
}
