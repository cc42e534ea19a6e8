//! Fencing tokens: one number per leadership, and they only go up.
//!
//! A leader's belief that it leads can be wrong: it was paused, its lease ran
//! out, someone else took over. What it cannot fake is *when* it was made
//! leader. The lease store hands out a token with every lease it grants,
//! taken from its revision counter, so a later lease always carries a larger
//! token. Anyone the leader talks to can then compare: a write with token 33
//! arriving after one with token 34 comes from a leader that has been
//! replaced. This is etcd's revision, ZooKeeper's `zxid` and Chubby's lock
//! generation number under one name.

use std::fmt;

/// The number a lease was granted under; larger means granted later.
///
/// Tokens are issued by the [`LeaseStore`](crate::LeaseStore), never made up
/// by a node, and compared, never added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FencingToken(u64);

impl FencingToken {
    /// Wraps a raw number as a token: for the lease store, and for tests that
    /// replay a known story (Kleppmann's tokens 33 and 34).
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number, for tables and timelines.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token-{}", self.0)
    }
}
