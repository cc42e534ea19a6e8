//! Names for the things a coordinator talks about.
//!
//! A bare `u64` could be an item, a worker or a receipt, and the compiler could
//! not tell them apart. Each id here is its own type, so passing a worker where
//! an item belongs is a compile error, and each prints in a form that reads well
//! in logs and assertion messages (`item-7`, `worker-2`, `receipt-12`,
//! `node-3`, `token-34`).

use std::fmt;

/// Defines an id: a newtype over an integer with `new`, `get` and a
/// `Display` (and `Debug`) of the form `prefix-N`. Every id of the series has this shape;
/// one definition keeps them identical.
macro_rules! id {
    ($(#[$doc:meta])* $name:ident($raw:ty) displayed as $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($raw);

        // Debug reads like Display, so an assertion that prints a list of
        // ids (`[node-1, node-3]`) names them as every other message does,
        // never as `NodeId(1)`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl $name {
            #[doc = concat!("Wraps a raw number as a `", stringify!($name), "`.")]
            pub const fn new(raw: $raw) -> Self {
                Self(raw)
            }

            /// The raw number, for seeding per-id randomness and for sorting.
            pub const fn get(self) -> $raw {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "-{}"), self.0)
            }
        }
    };
}

id! {
    /// Identifies one unit of work for its whole life, across every retry.
    ///
    /// Ids are chosen by whoever creates the work, the way an SQS producer
    /// picks a message body and gets a `MessageId` back; here the caller picks
    /// them so tests can name item 7 and mean it.
    WorkItemId(u64) displayed as "item"
}

id! {
    /// Identifies one worker (a consumer process, a pod, a thread) in a pool.
    WorkerId(u32) displayed as "worker"
}

id! {
    /// Proof that a worker holds one particular delivery of an item.
    ///
    /// Every time an item is handed out it gets a fresh receipt, like the
    /// `ReceiptHandle` that SQS returns from `ReceiveMessage` or the lock token
    /// of an Azure Service Bus peek-lock. Only the holder of the newest receipt
    /// may report the outcome; a result that arrives with an older receipt is
    /// late and is rejected, which is what keeps a slow worker from counting an
    /// item twice. Receipts are issued by a [`WorkTracker`](crate::WorkTracker),
    /// never made up by a worker.
    Receipt(u64) displayed as "receipt"
}

id! {
    /// Identifies one node (a machine, a process with its own address) on a
    /// network: a lease holder, a storage server, a Raft peer.
    ///
    /// A node keeps its id across a crash and a restart, the way a Kubernetes
    /// pod of a StatefulSet or an etcd member keeps its name: what a restart
    /// loses is the node's memory, not its identity.
    NodeId(u32) displayed as "node"
}

id! {
    /// The number a leadership was granted under: a lease's revision in the
    /// store that granted it, a Raft term. A later leadership always has a
    /// larger one, so whoever a leader talks to can compare: a write with
    /// token 33 arriving after one with token 34 comes from a leader that has
    /// been replaced, and can be refused. This is etcd's revision and
    /// Chubby's lock generation number under one name.
    ///
    /// Tokens are issued by whoever grants leadership (a lease store, an
    /// election), never made up by a leader, and compared, never added to.
    FencingToken(u64) displayed as "token"
}
