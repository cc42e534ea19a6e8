//! Exercise 2.1: round-robin over per-worker queues.
//!
//! Placing by id (`id mod workers`) is round-robin only while ids are
//! consecutive. Ids rarely are: a database that hands out every second id (two
//! primaries with `auto_increment_increment = 2`), a batch of retries, a
//! filtered stream. With four workers and only even ids, two workers get
//! everything and two get nothing. Round-robin keeps its own cursor instead:
//! the first item goes to the first candidate, the next to the next, and so
//! on, whatever the ids. Counts per worker never differ by more than one.
//!
//! That is the promise of round-robin, and its limit: it balances *counts*.
//! A worker at a quarter speed still gets a quarter of the items, and
//! finishes its share four times later than the others.
//!
//! - Read: `workshop2/README.md`, "Implement", 2.1.
//! - Check: `cargo workshop check 2.1`, or all of its output with
//!   `cargo test -p workshop2 --test workshop ex2_1_round_robin`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use coordination::{SimRng, WorkItemId, WorkerId};

use crate::{Candidate, Placement};

/// Hands items to the candidates in turn, whatever their ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundRobin {
    /// How many items this strategy has placed: the position of the next
    /// turn.
    turn: usize,
}

impl RoundRobin {
    /// A rotation that starts at the first candidate.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Placement for RoundRobin {
    fn name(&self) -> &'static str {
        "round-robin"
    }

    fn place(
        &mut self,
        _item: WorkItemId,
        candidates: &[Candidate],
        _rng: &mut SimRng,
    ) -> WorkerId {
        // TODO(2.1): hand out the candidates in turn: the first item to the
        // first candidate, the next to the next, starting over after the
        // last. Keep the turn in `self.turn` and ignore the item id. The list
        // of candidates can change between calls, so stay within its length.
        todo!(
            "exercise 2.1: place items in turn, whatever their ids \
             (see workshop2/README.md, Implement 2.1)"
        )
    }
}
