//! How good or bad the network is: delays, losses and long delays, as dials.
//!
//! Two presets cover what the workshops need, and every dial can be turned on
//! its own. The unreliable preset takes its loss rates from the network
//! simulator of MIT's distributed-systems course (6.5840, `labrpc`), whose Raft
//! tests made these numbers a common yardstick: with them, a protocol that
//! only works when nothing is lost fails within seconds.

use std::time::Duration;

use rand::RngExt;

use crate::{ConfigError, Probability, SimRng};

/// A range of durations, shortest and longest included, that a delay is drawn
/// from uniformly, in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange {
    /// The shortest delay that can be drawn.
    shortest: Duration,
    /// The longest delay that can be drawn; never below `shortest`.
    longest: Duration,
}

impl DelayRange {
    /// Delays between `shortest` and `longest`, both included.
    ///
    /// # Errors
    /// [`ConfigError::ReversedRange`] when `shortest` is longer than `longest`.
    pub fn new(shortest: Duration, longest: Duration) -> Result<Self, ConfigError> {
        if shortest <= longest {
            Ok(Self { shortest, longest })
        } else {
            Err(ConfigError::ReversedRange {
                setting: "delay range",
                shortest,
                longest,
            })
        }
    }

    /// Always exactly `delay`.
    pub const fn exactly(delay: Duration) -> Self {
        Self {
            shortest: delay,
            longest: delay,
        }
    }

    /// Whole milliseconds from `shortest` to `longest`, for the presets.
    const fn millis(shortest: u64, longest: u64) -> Self {
        assert!(shortest <= longest, "a preset range is written in order");
        Self {
            shortest: Duration::from_millis(shortest),
            longest: Duration::from_millis(longest),
        }
    }

    /// The shortest delay.
    pub const fn shortest(self) -> Duration {
        self.shortest
    }

    /// The longest delay.
    pub const fn longest(self) -> Duration {
        self.longest
    }

    /// Draws one delay, uniformly among the whole milliseconds of the range.
    ///
    /// Whole milliseconds because that is the resolution of tokio's timer: a
    /// delay of 5.8 ms would fire at 6 ms anyway, and the trace should say
    /// what really happened. A range that holds no whole millisecond (0.2 to
    /// 0.7 ms) draws its shortest end rounded up.
    pub(super) fn draw(self, rng: &mut SimRng) -> Duration {
        let shortest = whole_millis_up(self.shortest);
        let longest = whole_millis_down(self.longest).max(shortest);
        Duration::from_millis(rng.random_range(shortest..=longest))
    }
}

/// A duration in whole milliseconds, rounded up.
fn whole_millis_up(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// A duration in whole milliseconds, rounded down.
fn whole_millis_down(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The behaviour of every link of a [`Network`](super::Network).
///
/// Each message is decided on its own when it leaves its sender: first
/// whether it is lost, then whether it is held back for a long delay, then how
/// long it travels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkConditions {
    /// How long an ordinary message travels, one way.
    pub latency: DelayRange,
    /// Chance that a one-way message or a request is lost on the way. A lost
    /// request never reaches the handler: the caller times out and nothing
    /// happened.
    pub message_loss: Probability,
    /// Chance that a reply is lost on the way back, after the handler ran. The
    /// caller times out although the request took effect: this is where
    /// duplicates come from when the caller retries.
    pub reply_loss: Probability,
    /// Chance that a message is held back for a long delay instead of its
    /// latency, so that messages sent after it overtake it.
    pub long_delay: Probability,
    /// How long a held-back message travels.
    pub long_delay_range: DelayRange,
    /// Chance that a message that was not lost also arrives a second time,
    /// on a delay of its own. A duplicated request runs its handler twice; a
    /// duplicated reply finds its call already answered. Neither preset
    /// duplicates.
    pub duplication: Probability,
    /// Whether a one-way message that answers another
    /// ([`Message::is_reply`](super::Message::is_reply)) counts as a reply:
    /// lost at `reply_loss` rather than `message_loss`, and held back when
    /// `long_delay_replies_only` is on. A protocol that answers with one-way
    /// messages (Raft-lite) then meets the faults `labrpc` gives a reply.
    /// Off in both presets.
    pub one_way_replies: bool,
    /// Whether only replies are held back for a long delay, as `labrpc`'s
    /// long reordering does; requests and other one-way messages then always
    /// travel for their `latency`, and draw nothing for the long delay. Off
    /// in both presets: every message may be held back.
    pub long_delay_replies_only: bool,
}

impl NetworkConditions {
    /// Nothing is lost and nothing is held back; every message travels 1 to
    /// 10 ms, a little more than a round trip inside one data centre so that
    /// timelines show the travel.
    pub fn reliable() -> Self {
        Self {
            latency: DelayRange::millis(1, 10),
            message_loss: Probability::NEVER,
            reply_loss: Probability::NEVER,
            long_delay: Probability::NEVER,
            long_delay_range: DelayRange::millis(200, 2200),
            duplication: Probability::NEVER,
            one_way_replies: false,
            long_delay_replies_only: false,
        }
    }

    /// 10% of messages and requests lost, 10% of replies lost after their
    /// handler ran, 10% of messages held back for 200 ms to 2.2 s; the rest
    /// travel 1 to 10 ms.
    ///
    /// The two loss rates and the long-delay range are those of `labrpc`'s
    /// unreliable and long-reordering modes (MIT 6.5840, `src/labrpc/labrpc.go`:
    /// `rand.Int()%1000 < 100` for requests and for replies, and
    /// `200 + rand.Intn(1+rand.Intn(2000))` ms for a reordered reply). `labrpc`
    /// holds back two thirds of replies when long reordering is on; 10% of
    /// all messages is gentler and still reorders a busy run many times.
    pub fn unreliable() -> Self {
        let ten_percent = Probability::new(0.1).expect("0.1 lies between 0 and 1");
        Self {
            message_loss: ten_percent,
            reply_loss: ten_percent,
            long_delay: ten_percent,
            ..Self::reliable()
        }
    }

    /// These conditions with every message travelling between `shortest` and
    /// `longest`.
    ///
    /// # Errors
    /// [`ConfigError::ReversedRange`] when `shortest` is longer than `longest`.
    pub fn with_latency(self, shortest: Duration, longest: Duration) -> Result<Self, ConfigError> {
        Ok(Self {
            latency: DelayRange::new(shortest, longest)?,
            ..self
        })
    }

    /// These conditions with one-way messages and requests lost at `rate`.
    pub fn with_message_loss(self, rate: Probability) -> Self {
        Self {
            message_loss: rate,
            ..self
        }
    }

    /// These conditions with replies lost at `rate`, after their handler ran.
    pub fn with_reply_loss(self, rate: Probability) -> Self {
        Self {
            reply_loss: rate,
            ..self
        }
    }

    /// These conditions with every message that is not lost arriving a
    /// second time at `rate`.
    pub fn with_duplication(self, rate: Probability) -> Self {
        Self {
            duplication: rate,
            ..self
        }
    }

    /// These conditions with one-way messages that answer another treated as
    /// replies ([`one_way_replies`](Self::one_way_replies)).
    pub fn with_one_way_replies(self) -> Self {
        Self {
            one_way_replies: true,
            ..self
        }
    }

    /// These conditions with long delays for replies only
    /// ([`long_delay_replies_only`](Self::long_delay_replies_only)).
    pub fn with_long_delay_for_replies_only(self) -> Self {
        Self {
            long_delay_replies_only: true,
            ..self
        }
    }

    /// These conditions with messages held back at `rate`, each for between
    /// `shortest` and `longest`.
    ///
    /// # Errors
    /// [`ConfigError::ReversedRange`] when `shortest` is longer than `longest`.
    pub fn with_long_delay(
        self,
        rate: Probability,
        shortest: Duration,
        longest: Duration,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            long_delay: rate,
            long_delay_range: DelayRange::new(shortest, longest)?,
            ..self
        })
    }
}

impl Default for NetworkConditions {
    fn default() -> Self {
        Self::reliable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed;

    /// A reversed range is refused where it is written, not when a delay is
    /// drawn from it.
    #[test]
    fn a_reversed_delay_range_is_refused() {
        let refused = DelayRange::new(Duration::from_millis(10), Duration::from_millis(2));
        assert!(matches!(refused, Err(ConfigError::ReversedRange { .. })));
        let refused = NetworkConditions::reliable()
            .with_latency(Duration::from_millis(10), Duration::from_millis(2));
        assert!(matches!(refused, Err(ConfigError::ReversedRange { .. })));
    }

    /// Draws stay inside the range, both ends included, and an exact range
    /// always draws its one value.
    #[test]
    fn delays_are_drawn_inside_their_range() {
        let range = DelayRange::new(Duration::from_millis(1), Duration::from_millis(3))
            .expect("1 ms comes before 3 ms");
        let mut rng = Seed::new(3).rng();
        for _ in 0..1000 {
            let delay = range.draw(&mut rng);
            assert!(
                range.shortest() <= delay && delay <= range.longest(),
                "{delay:?}"
            );
        }
        let exact = DelayRange::exactly(Duration::from_millis(5));
        assert_eq!(exact.draw(&mut rng), Duration::from_millis(5));
    }
}
