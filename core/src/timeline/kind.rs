//! What a timeline can show, and how each thing looks.
//!
//! Three words cover the series: an [`Activity`] takes time on a lane (an
//! attempt, a lease held, a term as leader) and ends with an [`Outcome`]; a
//! [`Mark`] happens at one instant (a retry scheduled, a dead letter, a
//! leader elected, a fencing token issued). Messages between lanes are the
//! third shape, in [`Message`](super::Message).
//!
//! Each kind has one [`Look`], shared by the terminal and the SVG renderings,
//! so a legend means the same in both. Colour is never the only difference:
//! every kind also has its own symbol or shape.

use std::fmt;
use std::time::Duration;

use crate::picture::palette::{BLACK, BLUE, Colour, GREEN, GREY, ORANGE, PURPLE, RED, SKY, YELLOW};

/// Something that takes time on a lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Activity {
    /// A worker works on one attempt at one item.
    Attempt,
    /// A node holds a lease.
    Lease,
    /// A node leads a term.
    Leadership,
    /// A request waits for its reply.
    Call,
    /// A node is paused or down: it neither receives nor acts.
    Paused,
}

/// How an [`Activity`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// It did what it set out to do.
    Succeeded,
    /// It failed.
    Failed,
    /// Someone stopped waiting for it.
    TimedOut,
    /// It finished after its result stopped counting (a late result).
    Late,
    /// It ended without success or failure: a lease released, a term over.
    Ended,
}

/// Something that happens at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// A failed item will be tried again after `delay`.
    RetryScheduled {
        /// How long it waits first.
        delay: Duration,
    },
    /// An item was set aside in a dead-letter queue.
    DeadLettered,
    /// A result arrived under an old receipt and was not counted.
    LateResultRejected,
    /// A node moved to a new term.
    TermStarted {
        /// The term.
        term: u64,
    },
    /// A node became leader.
    LeaderElected {
        /// Its term.
        term: u64,
    },
    /// A fencing token was issued with a lease or a leadership.
    FencingToken {
        /// The token.
        token: u64,
    },
    /// A write carrying a token older than one already seen was refused.
    StaleTokenRejected {
        /// The stale token.
        token: u64,
    },
    /// A write carrying a token older than one already seen was accepted:
    /// a replaced leader's write got through, split brain in the resource
    /// itself. What fencing exists to stop.
    StaleTokenAccepted {
        /// The stale token.
        token: u64,
    },
    /// A node crashed: it loses what it had in memory.
    Crashed,
    /// A node started again after a crash.
    Restarted,
    /// The network was cut: this node can no longer reach some others (a
    /// partition, or the node disconnected).
    Partitioned,
    /// The cut was healed: the node reaches every other again.
    Healed,
    /// Anything else worth pointing at; the label says what.
    Note,
}

/// How one kind of thing is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Its symbol in a Unicode terminal.
    pub unicode: char,
    /// Its symbol in an ASCII terminal.
    pub ascii: char,
    /// Its colour.
    pub colour: Colour,
    /// Its shape in SVG.
    pub shape: Shape,
    /// Its name in a legend.
    pub legend: &'static str,
}

/// The SVG shape of an instant or the end of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A bar along the lane, for activities.
    Bar,
    /// A small circle.
    Circle,
    /// A small square.
    Square,
    /// A small diamond.
    Diamond,
    /// A triangle pointing up.
    TriangleUp,
    /// A triangle pointing down.
    TriangleDown,
    /// An upright cross.
    Cross,
    /// A vertical line across the lane.
    Tick,
    /// A slanted line across the lane: a cut.
    Slash,
    /// A hollow circle.
    Ring,
    /// A short arrow from one lane to another.
    Arrow,
}

impl Activity {
    /// Its name, for tooltips and legends.
    pub fn name(self) -> &'static str {
        match self {
            Activity::Attempt => "attempt",
            Activity::Lease => "lease held",
            Activity::Leadership => "leader",
            Activity::Call => "call",
            Activity::Paused => "paused or down",
        }
    }

    /// The colour of an activity that ended without success or failure.
    fn colour(self) -> Colour {
        match self {
            Activity::Attempt | Activity::Call => GREY,
            Activity::Lease => BLUE,
            Activity::Leadership => YELLOW,
            Activity::Paused => BLACK,
        }
    }

    /// How a span of this activity with `outcome` looks; `None` is a span
    /// still running when the run ended.
    pub fn look(self, outcome: Option<Outcome>) -> Look {
        if self == Activity::Paused {
            // A node that is down must never read as a node that leads,
            // whose bar is solid: without colour, the symbol is all there
            // is to tell them apart.
            return Look {
                unicode: '░',
                ascii: '_',
                colour: BLACK,
                shape: Shape::Bar,
                legend: self.name(),
            };
        }
        let colour = match outcome {
            Some(Outcome::Succeeded) => GREEN,
            Some(Outcome::Failed) => RED,
            Some(Outcome::TimedOut) => ORANGE,
            Some(Outcome::Late) => GREY,
            Some(Outcome::Ended) | None => self.colour(),
        };
        let (unicode, ascii) = match outcome {
            Some(Outcome::Succeeded | Outcome::Ended) => ('━', '='),
            Some(Outcome::Failed) => ('─', '-'),
            Some(Outcome::TimedOut | Outcome::Late) | None => ('┄', '.'),
        };
        let legend = match (self, outcome) {
            (Activity::Attempt, Some(Outcome::Succeeded)) => "attempt, succeeded",
            (Activity::Attempt, Some(Outcome::Failed)) => "attempt, failed",
            (Activity::Attempt, Some(Outcome::TimedOut)) => "attempt, timed out",
            (Activity::Attempt, Some(Outcome::Late)) => "attempt, answered late",
            (Activity::Attempt, None) => "attempt, still running at the end",
            (Activity::Call, Some(Outcome::Succeeded)) => "call, answered",
            (Activity::Call, Some(Outcome::Failed)) => "call, failed",
            (Activity::Call, Some(Outcome::TimedOut)) => "call, timed out",
            (_, Some(Outcome::Failed)) => "ended in failure",
            (_, Some(Outcome::TimedOut)) => "ended by a timeout",
            (activity, _) => activity.name(),
        };
        Look {
            unicode,
            ascii,
            colour,
            shape: Shape::Bar,
            legend,
        }
    }
}

impl Outcome {
    /// Its name, for tooltips.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Late => "answered late, not counted",
            Outcome::Ended => "ended",
        }
    }

    /// The symbol drawn where an activity ends this way, if any: failures
    /// and timeouts are what a reader looks for.
    pub fn end_look(self) -> Option<Look> {
        let (unicode, ascii, colour, legend) = match self {
            Outcome::Failed => ('✗', 'x', RED, "failure"),
            Outcome::TimedOut => ('⊗', 't', ORANGE, "timeout"),
            Outcome::Succeeded | Outcome::Late | Outcome::Ended => return None,
        };
        Some(Look {
            unicode,
            ascii,
            colour,
            shape: Shape::Cross,
            legend,
        })
    }
}

impl Mark {
    /// How it is drawn.
    pub fn look(self) -> Look {
        let (unicode, ascii, colour, shape, legend) = match self {
            Mark::RetryScheduled { .. } => (
                '↻',
                'r',
                PURPLE,
                Shape::Circle,
                "retry scheduled (line: its delay)",
            ),
            Mark::DeadLettered => ('■', 'D', BLACK, Shape::Square, "dead-lettered"),
            Mark::LateResultRejected => ('◇', 'L', GREY, Shape::Diamond, "late result rejected"),
            Mark::TermStarted { .. } => ('┃', '|', YELLOW, Shape::Tick, "new term"),
            Mark::LeaderElected { .. } => ('▲', 'A', YELLOW, Shape::TriangleUp, "leader elected"),
            Mark::FencingToken { .. } => ('#', '#', BLUE, Shape::Diamond, "fencing token"),
            Mark::StaleTokenRejected { .. } => {
                ('▼', 'V', RED, Shape::TriangleDown, "stale token rejected")
            }
            Mark::StaleTokenAccepted { .. } => {
                ('!', '!', RED, Shape::Cross, "stale token accepted")
            }
            Mark::Crashed => ('☓', 'X', BLACK, Shape::Cross, "crashed"),
            Mark::Restarted => ('△', '^', GREEN, Shape::TriangleUp, "restarted"),
            Mark::Partitioned => ('⫽', '/', ORANGE, Shape::Slash, "cut off by a partition"),
            Mark::Healed => ('○', 'o', GREEN, Shape::Ring, "partition healed"),
            Mark::Note => ('•', '*', GREY, Shape::Circle, "note"),
        };
        Look {
            unicode,
            ascii,
            colour,
            shape,
            legend,
        }
    }

    /// Which marks win a terminal cell they share: the higher, the more a
    /// reader needs to see it.
    pub(crate) fn priority(self) -> u8 {
        match self {
            Mark::DeadLettered
            | Mark::StaleTokenRejected { .. }
            | Mark::StaleTokenAccepted { .. }
            | Mark::Crashed
            | Mark::Partitioned => 5,
            Mark::LeaderElected { .. } | Mark::LateResultRejected => 4,
            Mark::Restarted | Mark::Healed | Mark::FencingToken { .. } => 3,
            Mark::TermStarted { .. } | Mark::RetryScheduled { .. } => 2,
            Mark::Note => 1,
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mark::RetryScheduled { delay } => write!(f, "retry in {delay:?}"),
            Mark::DeadLettered => f.write_str("dead-lettered"),
            Mark::LateResultRejected => f.write_str("late result rejected"),
            Mark::TermStarted { term } => write!(f, "term {term} started"),
            Mark::LeaderElected { term } => write!(f, "leader of term {term}"),
            Mark::FencingToken { token } => write!(f, "fencing token {token}"),
            Mark::StaleTokenRejected { token } => write!(f, "stale token {token} rejected"),
            Mark::StaleTokenAccepted { token } => write!(f, "stale token {token} accepted"),
            Mark::Crashed => f.write_str("crashed"),
            Mark::Restarted => f.write_str("restarted"),
            Mark::Partitioned => f.write_str("partitioned"),
            Mark::Healed => f.write_str("partition healed"),
            Mark::Note => f.write_str("note"),
        }
    }
}

/// How a message looks: sent, and delivered or dropped.
pub(crate) fn message_look(delivered: bool) -> Look {
    if delivered {
        Look {
            unicode: '→',
            ascii: '>',
            colour: SKY,
            shape: Shape::Arrow,
            legend: "message",
        }
    } else {
        Look {
            unicode: '×',
            ascii: '~',
            colour: RED,
            shape: Shape::Arrow,
            legend: "message dropped",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without colour, the symbol is all a reader has: every fault, and a
    /// node that is down, has one no other kind uses.
    #[test]
    fn every_fault_has_a_symbol_of_its_own_in_ascii_and_unicode() {
        let marks = [
            Mark::RetryScheduled {
                delay: Duration::ZERO,
            },
            Mark::DeadLettered,
            Mark::LateResultRejected,
            Mark::TermStarted { term: 1 },
            Mark::LeaderElected { term: 1 },
            Mark::FencingToken { token: 1 },
            Mark::StaleTokenRejected { token: 1 },
            Mark::StaleTokenAccepted { token: 1 },
            Mark::Crashed,
            Mark::Restarted,
            Mark::Partitioned,
            Mark::Healed,
            Mark::Note,
        ];
        let mut looks: Vec<Look> = marks.iter().map(|mark| mark.look()).collect();
        looks.push(Activity::Paused.look(Some(Outcome::Ended)));
        looks.push(Activity::Leadership.look(Some(Outcome::Ended)));
        for (position, look) in looks.iter().enumerate() {
            for other in &looks[position + 1..] {
                assert_ne!(
                    look.ascii, other.ascii,
                    "{} and {}",
                    look.legend, other.legend
                );
                assert_ne!(
                    look.unicode, other.unicode,
                    "{} and {}",
                    look.legend, other.legend
                );
            }
        }
    }
}
