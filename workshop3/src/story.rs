//! The story of a run: everything that mattered, on one time line.
//!
//! When a test about leaders fails, the question is always "who believed
//! what, who held the lease, and what reached storage, in which order". The
//! answers live in four places (the lease store's history, the journal of
//! beliefs, storage's log and the network's trace of injected faults);
//! [`Story::of`] merges them by time, one [`Chapter`] per event, each on the
//! lane of the node it happened to. Tests print it in their failure
//! messages; demos print it, or the part of it a reader needs.
//!
//! Renewals are left out: a healthy leader renews every retry period, and
//! three hundred identical lines would bury the ten that matter.
//!
//! [`Story::timeline`] draws the same story for a terminal or an SVG file
//! (`coordination::timeline`): a lane per node, the lease store's leases and
//! every node's belief as bars, each write as an arrow from its writer to
//! storage, a stale write that got in as a red `!`, one that was refused as
//! a red triangle, pauses and crashes as the network recorded them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use coordination::sim::{NetworkEvent, TraceEntry};
use coordination::timeline::{Activity, Fate, Lane, Mark, Message, Outcome, Point, Span, Timeline};
use coordination::{FencingToken, NodeId};

use crate::{
    Belief, Cluster, LEASE_STORE, LeaseChange, NodeEvent, STORAGE, StepDown, Tenure, WriteRefused,
};

/// Something that happened, worth a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The lease store granted a new lease.
    LeaseGranted {
        /// To whom.
        holder: NodeId,
        /// Under which token.
        token: FencingToken,
    },
    /// The holder gave its lease up.
    LeaseReleased {
        /// Whose lease.
        holder: NodeId,
        /// Its token.
        token: FencingToken,
    },
    /// An operator took the lease away.
    LeaseRevoked {
        /// Whose lease.
        holder: NodeId,
        /// Its token.
        token: FencingToken,
    },
    /// A node began to believe it leads.
    BecameLeader {
        /// Its token.
        token: FencingToken,
    },
    /// A node stopped believing it leads.
    SteppedDown {
        /// Its token.
        token: FencingToken,
        /// Why.
        reason: StepDown,
    },
    /// Storage accepted a write.
    WriteAccepted {
        /// Who wrote it.
        writer: NodeId,
        /// The writer's entry number.
        entry: u64,
        /// The token it carried.
        token: Option<FencingToken>,
    },
    /// Storage refused a write.
    WriteRefused {
        /// Who sent it.
        writer: NodeId,
        /// The writer's entry number.
        entry: u64,
        /// The token it carried.
        token: Option<FencingToken>,
        /// Why.
        reason: WriteRefused,
    },
    /// A fault the run injected: a pause, a crash, a partition.
    Fault(NetworkEvent),
}

/// One line of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// When, in simulated time since the run began.
    pub at: Duration,
    /// The node it happened to (the lease store and storage are nodes too).
    pub lane: NodeId,
    /// What happened.
    pub event: Event,
}

/// Everything that mattered in a run, in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Story {
    /// The chapters, sorted by time; events at the same instant keep the
    /// order of their sources: faults first (they cause the rest), then the
    /// lease store, beliefs, storage.
    chapters: Vec<Chapter>,
    /// Every lease the store granted, from grant to expiry or release.
    tenures: Vec<Tenure>,
    /// Every node's beliefs that it led, from start to end.
    beliefs: Vec<Belief>,
}

impl Story {
    /// The story of `cluster` so far.
    pub fn of(cluster: &Cluster) -> Self {
        let mut chapters: Vec<Chapter> = cluster
            .network()
            .trace()
            .entries()
            .iter()
            .filter_map(fault)
            .collect();
        for change in cluster.lease_store().history() {
            let event = match change.change {
                LeaseChange::Acquired { .. } => Event::LeaseGranted {
                    holder: change.holder,
                    token: change.token,
                },
                LeaseChange::Renewed { .. } => continue,
                LeaseChange::Released => Event::LeaseReleased {
                    holder: change.holder,
                    token: change.token,
                },
                LeaseChange::Revoked => Event::LeaseRevoked {
                    holder: change.holder,
                    token: change.token,
                },
            };
            chapters.push(Chapter {
                at: change.at,
                lane: LEASE_STORE,
                event,
            });
        }
        for entry in cluster.journal().entries() {
            let event = match entry.event {
                NodeEvent::BecameLeader { token } => Event::BecameLeader { token },
                NodeEvent::SteppedDown { token, reason } => Event::SteppedDown { token, reason },
            };
            chapters.push(Chapter {
                at: entry.at,
                lane: entry.node,
                event,
            });
        }
        let storage = cluster.storage();
        for write in storage.accepted() {
            chapters.push(Chapter {
                at: write.at,
                lane: STORAGE,
                event: Event::WriteAccepted {
                    writer: write.writer,
                    entry: write.entry,
                    token: write.token,
                },
            });
        }
        for write in storage.refused() {
            chapters.push(Chapter {
                at: write.at,
                lane: STORAGE,
                event: Event::WriteRefused {
                    writer: write.writer,
                    entry: write.entry,
                    token: write.token,
                    reason: write.reason,
                },
            });
        }
        // A stable sort keeps same-instant events in the order pushed.
        chapters.sort_by_key(|chapter| chapter.at);
        Self {
            chapters,
            tenures: cluster.lease_store().tenures(),
            beliefs: cluster.journal().beliefs(),
        }
    }

    /// Every chapter, in time order.
    pub fn chapters(&self) -> &[Chapter] {
        &self.chapters
    }

    /// The chapters from `from` on, for a failure message about the end of
    /// a run; leases and beliefs that were still running at `from` stay.
    pub fn since(&self, from: Duration) -> Self {
        Self {
            chapters: self
                .chapters
                .iter()
                .filter(|chapter| chapter.at >= from)
                .cloned()
                .collect(),
            tenures: self
                .tenures
                .iter()
                .filter(|tenure| tenure.until >= from)
                .copied()
                .collect(),
            beliefs: self
                .beliefs
                .iter()
                .filter(|belief| belief.until >= from)
                .copied()
                .collect(),
        }
    }

    /// The story drawn: the lease store's leases and each node's beliefs as
    /// bars, writes as arrows from their writer to storage, stale writes and
    /// refusals as marks on storage's lane, pauses and crashes on the lane
    /// of the node they stopped.
    pub fn timeline(&self) -> Timeline {
        let mut timeline = Timeline::new();
        for tenure in &self.tenures {
            timeline.push_span(Span {
                lane: lane(LEASE_STORE),
                activity: Activity::Lease,
                label: format!("{} holds the lease under {}", tenure.holder, tenure.token),
                start: tenure.from,
                ended: Some((tenure.until, Outcome::Ended)),
            });
        }
        for belief in &self.beliefs {
            timeline.push_span(Span {
                lane: lane(belief.node),
                activity: Activity::Leadership,
                label: format!("believes it leads, with {}", belief.token),
                start: belief.from,
                ended: Some((belief.until, Outcome::Ended)),
            });
        }
        // The highest token storage has accepted so far, to spot stale
        // writes; and each stopped node's open pause or outage.
        let mut highest = None;
        let mut stopped: BTreeMap<NodeId, (Duration, &'static str)> = BTreeMap::new();
        for chapter in &self.chapters {
            let label = chapter.to_string();
            let mark = |mark| Point {
                lane: lane(chapter.lane),
                mark,
                label: label.clone(),
                at: chapter.at,
            };
            match &chapter.event {
                Event::LeaseGranted { token, .. } => {
                    timeline.push_point(mark(Mark::FencingToken { token: token.get() }));
                }
                // Leadership here is a lease's fencing token, not a Raft
                // term: the mark names the token the node leads under.
                Event::BecameLeader { token } => {
                    timeline.push_point(mark(Mark::FencingToken { token: token.get() }));
                }
                Event::LeaseReleased { .. }
                | Event::LeaseRevoked { .. }
                | Event::SteppedDown { .. } => {
                    timeline.push_point(mark(Mark::Note));
                }
                Event::WriteAccepted { writer, token, .. } => {
                    timeline.push_message(Message {
                        from: lane(*writer),
                        to: lane(STORAGE),
                        label: label.clone(),
                        sent: chapter.at,
                        fate: Fate::Delivered(chapter.at),
                    });
                    if *token < highest
                        && let Some(token) = token
                    {
                        timeline.push_point(mark(Mark::StaleTokenAccepted { token: token.get() }));
                    }
                    highest = highest.max(*token);
                }
                Event::WriteRefused { token, .. } => {
                    let token = token.map_or(0, FencingToken::get);
                    timeline.push_point(mark(Mark::StaleTokenRejected { token }));
                }
                Event::Fault(NetworkEvent::Paused(node)) => {
                    stopped.insert(*node, (chapter.at, "paused (a stop-the-world pause)"));
                }
                Event::Fault(NetworkEvent::Crashed(node)) => {
                    timeline.push_point(mark(Mark::Crashed));
                    stopped.insert(*node, (chapter.at, "crashed: down"));
                }
                Event::Fault(NetworkEvent::Resumed(node) | NetworkEvent::Restarted(node)) => {
                    if let Some((start, what)) = stopped.remove(node) {
                        timeline.push_span(stop(*node, start, what, Some(chapter.at)));
                    }
                    if matches!(chapter.event, Event::Fault(NetworkEvent::Restarted(_))) {
                        timeline.push_point(mark(Mark::Restarted));
                    }
                }
                Event::Fault(NetworkEvent::Partitioned(_) | NetworkEvent::Disconnected(_)) => {
                    timeline.push_point(mark(Mark::Partitioned));
                }
                Event::Fault(NetworkEvent::Healed | NetworkEvent::Connected(_)) => {
                    timeline.push_point(mark(Mark::Healed));
                }
                Event::Fault(_) => {
                    timeline.push_point(mark(Mark::Note));
                }
            }
        }
        for (node, (start, what)) in stopped {
            timeline.push_span(stop(node, start, what, None));
        }
        timeline
    }
}

/// A node's pause or outage, as a span; `None` for one still going.
fn stop(node: NodeId, start: Duration, what: &str, until: Option<Duration>) -> Span {
    Span {
        lane: lane(node),
        activity: Activity::Paused,
        label: what.to_string(),
        start,
        ended: until.map(|at| (at, Outcome::Ended)),
    }
}

/// The timeline lane of a node: the services by what they are.
fn lane(node: NodeId) -> Lane {
    Lane::new(lane_name(node))
}

/// The fault a trace entry records, as a chapter; `None` for messages.
fn fault(entry: &TraceEntry) -> Option<Chapter> {
    let lane = match &entry.event {
        NetworkEvent::Message { .. } => return None,
        NetworkEvent::Paused(node)
        | NetworkEvent::Resumed(node)
        | NetworkEvent::Crashed(node)
        | NetworkEvent::Restarted(node)
        | NetworkEvent::Disconnected(node)
        | NetworkEvent::Connected(node) => *node,
        // A partition happens to everyone; it is told on the lease store's
        // lane, the first of the services.
        NetworkEvent::Partitioned(_) | NetworkEvent::Healed => LEASE_STORE,
    };
    Some(Chapter {
        at: entry.at,
        lane,
        event: Event::Fault(entry.event.clone()),
    })
}

impl fmt::Display for Chapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>8.3}s  ", self.at.as_secs_f64())?;
        write!(f, "{:<11}  ", lane_name(self.lane))?;
        match &self.event {
            Event::LeaseGranted { holder, token } => write!(f, "granted {token} to {holder}"),
            Event::LeaseReleased { holder, token } => write!(f, "{holder} released {token}"),
            Event::LeaseRevoked { holder, token } => {
                write!(f, "revoked {holder}'s lease {token}")
            }
            Event::BecameLeader { token } => write!(f, "believes it leads, with {token}"),
            Event::SteppedDown { token, reason } => {
                write!(f, "stepped down from {token}: {reason}")
            }
            Event::WriteAccepted {
                writer,
                entry,
                token,
            } => write!(
                f,
                "accepted entry {entry} from {writer} ({})",
                Token(*token)
            ),
            Event::WriteRefused {
                writer,
                entry,
                token,
                reason,
            } => write!(
                f,
                "REFUSED entry {entry} from {writer} ({}): {reason}",
                Token(*token)
            ),
            Event::Fault(event) => match event {
                NetworkEvent::Paused(_) => f.write_str("paused"),
                NetworkEvent::Resumed(_) => f.write_str("resumed"),
                NetworkEvent::Crashed(_) => f.write_str("crashed"),
                NetworkEvent::Restarted(_) => f.write_str("restarted"),
                NetworkEvent::Disconnected(_) => f.write_str("disconnected"),
                NetworkEvent::Connected(_) => f.write_str("connected"),
                NetworkEvent::Partitioned(groups) => {
                    let sides: Vec<String> = groups
                        .iter()
                        .map(|group| {
                            let names: Vec<String> =
                                group.iter().map(|node| lane_name(*node)).collect();
                            format!("[{}]", names.join(", "))
                        })
                        .collect();
                    write!(f, "network partitioned: {}", sides.join(" | "))
                }
                NetworkEvent::Healed => f.write_str("partition healed"),
                NetworkEvent::Message { .. } => f.write_str("message"),
            },
        }
    }
}

impl fmt::Display for Story {
    /// One chapter per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chapter in &self.chapters {
            writeln!(f, "{chapter}")?;
        }
        Ok(())
    }
}

/// How a lane is named on a line: the services by what they are.
fn lane_name(node: NodeId) -> String {
    match node {
        LEASE_STORE => "lease store".to_string(),
        STORAGE => "storage".to_string(),
        node => node.to_string(),
    }
}

/// A write's token, or "no token".
struct Token(Option<FencingToken>);

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(token) => write!(f, "{token}"),
            None => f.write_str("no token"),
        }
    }
}
