//! What a node process says about itself, on standard error.
//!
//! A node that refuses input says so, with the address it came from, so an
//! operator can tell an attack or a misconfigured client from a bug. A node
//! under a flood of bad input must not drown its own log (or its disk) in
//! the same line, so rejections are rate-limited: at most
//! [`REJECTIONS_PER_WINDOW`] lines per [`WINDOW`], and the next line after a
//! quiet spell says how many were left out.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use coordination::NodeId;

/// How many rejections are written per window.
pub const REJECTIONS_PER_WINDOW: u32 = 20;

/// The window of the rate limit.
pub const WINDOW: Duration = Duration::from_secs(1);

/// One node's log; see the module documentation.
#[derive(Debug)]
pub struct NodeLog {
    /// The node, named at the start of every line.
    node: NodeId,
    /// The rejections' rate limit.
    rejections: Mutex<RateLimit>,
}

/// How many rejections the current window has written, and how many were
/// left out.
#[derive(Debug)]
struct RateLimit {
    /// When the current window started.
    window_start: Instant,
    /// Lines written in it.
    written: u32,
    /// Lines left out since the last one written.
    left_out: u64,
}

impl NodeLog {
    /// The log of `node`.
    pub fn new(node: NodeId) -> Self {
        Self {
            node,
            rejections: Mutex::new(RateLimit {
                window_start: Instant::now(),
                written: 0,
                left_out: 0,
            }),
        }
    }

    /// Writes `message`, always.
    pub fn say(&self, message: impl std::fmt::Display) {
        eprintln!("{}: {message}", self.node);
    }

    /// Writes that input from `from` was refused and why, unless too many
    /// rejections were written in the last second.
    pub fn rejected(&self, from: SocketAddr, why: impl std::fmt::Display) {
        let left_out = {
            // A panic while holding this lock cannot leave the counts
            // inconsistent in a way that matters: they only limit a log.
            let mut limit = self
                .rejections
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if now.duration_since(limit.window_start) >= WINDOW {
                limit.window_start = now;
                limit.written = 0;
            }
            if limit.written >= REJECTIONS_PER_WINDOW {
                limit.left_out += 1;
                return;
            }
            limit.written += 1;
            std::mem::take(&mut limit.left_out)
        };
        if left_out > 0 {
            self.say(format_args!(
                "refused input from {from}: {why} ({left_out} earlier refusals not shown)"
            ));
        } else {
            self.say(format_args!("refused input from {from}: {why}"));
        }
    }
}
