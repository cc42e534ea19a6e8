//! Exercise 3.5: fencing tokens.
//!
//! The stale write of 3.4 cannot be stopped by its sender: when it checked,
//! it did lead. It can be stopped by its receiver. Every lease comes with a
//! token that rises with every grant, every write carries its writer's
//! token, and storage remembers the highest token it has accepted. A write
//! with a lower one comes from a leader that has been replaced: refuse it.
//! Martin Kleppmann's example ("How to do distributed locking", 2016):
//! client 1 gets token 33, pauses, its lease expires; client 2 gets token 34
//! and writes; client 1 wakes and writes with 33, and storage refuses it.
//!
//! The check belongs in storage and must be atomic with the write: storage
//! handles one request at a time, so checking and recording the token in
//! the same step is enough. You write the gate storage runs every write
//! through when fencing is on.
//!
//! - Read: `workshop3/README.md`, "Implement", 3.5.
//! - Check: `cargo workshop check 3.5`, or all of its output with
//!   `cargo test -p workshop3 --test workshop ex3_5_fencing`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use coordination::FencingToken;

use crate::WriteRefused;

/// Storage's memory of the highest token it has accepted, and the rule that
/// goes with it.
#[derive(Debug, Clone, Default)]
pub struct FencingGate {
    /// The highest token of any accepted write, once there is one.
    highest: Option<FencingToken>,
}

impl FencingGate {
    /// A gate that has accepted nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The highest token accepted so far.
    pub fn highest(&self) -> Option<FencingToken> {
        self.highest
    }

    /// Admits a write carrying `token`, or refuses it.
    ///
    /// A token equal to the highest is admitted (the current leader writes
    /// many entries); a higher one is admitted and becomes the highest.
    ///
    /// # Errors
    /// [`WriteRefused::MissingToken`] for a write without a token;
    /// [`WriteRefused::StaleToken`] for a token lower than the highest.
    pub fn admit(&mut self, token: Option<FencingToken>) -> Result<(), WriteRefused> {
        // TODO(3.5): the rule above. The trap: a refused write must leave
        // the bar where it was.
        todo!(
            "exercise 3.5: admit or refuse a write by its token (see workshop3/README.md, Implement 3.5)"
        )
    }
}
