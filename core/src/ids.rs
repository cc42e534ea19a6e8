//! Names for the things a coordinator talks about.
//!
//! A bare `u64` could be an item, a worker or a receipt, and the compiler could
//! not tell them apart. Each id here is its own type, so passing a worker where
//! an item belongs is a compile error, and each prints in a form that reads well
//! in logs and assertion messages (`item-7`, `worker-2`, `receipt-12`,
//! `node-3`).

use std::fmt;

/// Identifies one unit of work for its whole life, across every retry.
///
/// Ids are chosen by whoever creates the work, the way an SQS producer picks a
/// message body and gets a `MessageId` back; here the caller picks them so tests
/// can name item 7 and mean it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkItemId(u64);

impl WorkItemId {
    /// Wraps a raw number as an item id.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number, for seeding per-item randomness and for sorting.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for WorkItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item-{}", self.0)
    }
}

/// Identifies one worker (a consumer process, a pod, a thread) in a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId(u32);

impl WorkerId {
    /// Wraps a raw number as a worker id.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw number, for seeding per-worker randomness and for sorting.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "worker-{}", self.0)
    }
}

/// Proof that a worker holds one particular delivery of an item.
///
/// Every time an item is handed out it gets a fresh receipt, like the
/// `ReceiptHandle` that SQS returns from `ReceiveMessage` or the lock token of an
/// Azure Service Bus peek-lock. Only the holder of the newest receipt may report
/// the outcome; a result that arrives with an older receipt is late and is
/// rejected, which is what keeps a slow worker from counting an item twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Receipt(u64);

impl Receipt {
    /// Wraps a raw number as a receipt. Receipts are normally issued by a
    /// [`WorkTracker`](crate::WorkTracker), never made up by a worker.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "receipt-{}", self.0)
    }
}

/// Identifies one node (a machine, a process with its own address) on a
/// network: a lease holder, a storage server, a Raft peer.
///
/// A node keeps its id across a crash and a restart, the way a Kubernetes pod
/// of a StatefulSet or an etcd member keeps its name: what a restart loses is
/// the node's memory, not its identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u32);

impl NodeId {
    /// Wraps a raw number as a node id.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw number, for seeding per-node randomness and for sorting.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node-{}", self.0)
    }
}
