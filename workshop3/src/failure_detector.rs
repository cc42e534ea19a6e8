//! Exercise 3.2: heartbeats and a timeout failure detector.
//!
//! In 3.1 every candidate that is not leader asks the lease store for the
//! lease every retry period, for ever: with a hundred controllers that is a
//! steady load on etcd for nothing. Followers need a cheaper way to know the
//! leader is alive, so that they only compete when it is not. The leader
//! tells them: a *heartbeat* to each follower every interval. A follower that
//! hears nothing for a while *suspects* the leader.
//!
//! A timeout cannot tell a dead leader from a slow network or a paused one:
//! that is the nature of failure detection in an asynchronous system. So
//! suspicion is only a reason to *try* for the lease; the lease store still
//! decides, and a wrong suspicion costs one refused request, never a second
//! leader.
//!
//! You write the detector ([`FailureDetector`]: `heard`, `deadline`,
//! `suspects`), the leader's side ([`send_heartbeats`]) and the follower's
//! ([`listen_for_heartbeats`]).
//!
//! - Read: `workshop3/README.md`, "Implement", 3.2.
//! - Check: `cargo workshop check 3.2`, or all of its output with
//!   `cargo test -p workshop3 --test workshop ex3_2_failure_detector`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordination::sim::{Inbox, Node};
use coordination::{ConfigError, FencingToken, NodeId};
use tokio::time::Instant;

use crate::{ClusterMessage, Heartbeat, Leadership};

/// How often a leader says it is alive, and how long a follower waits before
/// suspecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// Time between two heartbeats from the leader.
    interval: Duration,
    /// Silence after which a follower suspects the leader.
    suspect_after: Duration,
}

impl HeartbeatConfig {
    /// A heartbeat every second; suspicion after three seconds, three missed
    /// heartbeats.
    pub const DEFAULT: Self = Self {
        interval: Duration::from_secs(1),
        suspect_after: Duration::from_secs(3),
    };

    /// Checks and keeps the two timings.
    ///
    /// # Errors
    /// [`ConfigError::ZeroDuration`] for a zero interval;
    /// [`ConfigError::NotLonger`] unless `suspect_after` is longer than
    /// `interval` (a follower must be able to hear at least one heartbeat
    /// before it suspects).
    pub fn new(interval: Duration, suspect_after: Duration) -> Result<Self, ConfigError> {
        ConfigError::ensure_positive("heartbeat interval", interval)?;
        ConfigError::ensure_longer(
            ("suspicion timeout", suspect_after),
            ("heartbeat interval", interval),
        )?;
        Ok(Self {
            interval,
            suspect_after,
        })
    }

    /// Time between two heartbeats.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Silence after which a follower suspects the leader.
    pub fn suspect_after(&self) -> Duration {
        self.suspect_after
    }
}

/// What a follower has heard.
#[derive(Debug)]
struct Heard {
    /// The leader it trusts and that leader's token, once it has heard one.
    leader: Option<(NodeId, FencingToken)>,
    /// When it last heard from that leader; at first, when it started
    /// listening, so a node that just started gives an existing leader time
    /// to be heard.
    last_heard: Instant,
}

/// A timeout failure detector: it suspects the leader when it has not heard
/// a heartbeat for `suspect_after`.
///
/// Cloning it is cheap, and every clone is the same detector: the task that
/// hears heartbeats and the task that acts on suspicion share one.
#[derive(Debug, Clone)]
pub struct FailureDetector {
    /// Silence after which it suspects.
    suspect_after: Duration,
    /// What it has heard; a std mutex, never held across an `.await`.
    heard: Arc<Mutex<Heard>>,
}

impl FailureDetector {
    /// A detector that has heard nothing yet, started at `now`: it suspects
    /// from `now + suspect_after` unless a heartbeat comes first.
    pub fn new(suspect_after: Duration, now: Instant) -> Self {
        Self {
            suspect_after,
            heard: Arc::new(Mutex::new(Heard {
                leader: None,
                last_heard: now,
            })),
        }
    }

    /// The leader it last heard from, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.state().leader.map(|(leader, _)| leader)
    }

    /// Takes in a heartbeat that `from` sent and that arrived at `at`. A
    /// heartbeat with a token older than one already heard is ignored: its
    /// sender has been replaced, and a replaced leader's word is no sign
    /// that anyone leads.
    pub fn heard(&self, from: NodeId, heartbeat: Heartbeat, at: Instant) {
        // TODO(3.2): the rule above. The traps: any other heartbeat, however
        // late, takes a suspicion back; and "last heard" never moves back.
        todo!("exercise 3.2: take in a heartbeat (see workshop3/README.md, Implement 3.2)")
    }

    /// When it will suspect the leader if nothing more is heard.
    pub fn deadline(&self) -> Instant {
        // TODO(3.2): one timeout after the last time heard.
        todo!("exercise 3.2: the suspicion deadline (see workshop3/README.md, Implement 3.2)")
    }

    /// Whether it suspects the leader at `now`: nothing heard for
    /// `suspect_after` or longer.
    pub fn suspects(&self, now: Instant) -> bool {
        // TODO(3.2): suspect from the deadline on, the deadline included.
        todo!("exercise 3.2: suspect or not (see workshop3/README.md, Implement 3.2)")
    }

    fn state(&self) -> MutexGuard<'_, Heard> {
        self.heard.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The leader's side: while `leadership` says this node leads, sends a
/// heartbeat carrying its token to every peer, once per `interval`. Returns
/// when the node no longer leads (or has crashed).
pub async fn send_heartbeats(
    node: &Node<ClusterMessage>,
    peers: &[NodeId],
    leadership: &Leadership,
    interval: Duration,
) {
    // TODO(3.2): the contract above. The traps: leading can end between
    // two rounds; and a loop that never waits freezes simulated time.
    todo!("exercise 3.2: send heartbeats while leading (see workshop3/README.md, Implement 3.2)")
}

/// The follower's side: for the whole life of the node, hands every
/// heartbeat that arrives in `inbox` to `detector`, stamped with its arrival.
pub async fn listen_for_heartbeats(mut inbox: Inbox<ClusterMessage>, detector: FailureDetector) {
    // TODO(3.2): the contract above: every heartbeat, for as long as the
    // inbox lives.
    todo!("exercise 3.2: listen for heartbeats (see workshop3/README.md, Implement 3.2)")
}
