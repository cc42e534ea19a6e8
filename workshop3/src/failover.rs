//! Exercise 3.3: failover, a candidate's whole life.
//!
//! Put 3.1 and 3.2 together into what each replica runs. A candidate
//! *follows* while it hears heartbeats; when its detector suspects the
//! leader, it *campaigns*: one try for the lease, then a retry period's
//! wait, and again, as long as the suspicion lasts. When it wins it *leads*:
//! it holds the lease (3.1) and sends heartbeats (3.2) at the same time,
//! until it steps down, and then it follows again.
//!
//! When the leader crashes, its lease stops being renewed and expires; the
//! followers have suspected it since a few seconds after the crash, and the
//! first try after expiry wins. So a new leader holds the lease within
//! *lease duration + retry period*, plus the network's delays: the bound the
//! tests check over many seeds. In steady state, followers send nothing at
//! all to the lease store.
//!
//! - Read: `workshop3/README.md`, "Implement", 3.3.
//! - Check: `cargo workshop check 3.3`, or all of its output with
//!   `cargo test -p workshop3 --test workshop ex3_3_failover`.

#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unused_variables,
    reason = "the stubs below ignore their inputs until you write them; delete this when you are done"
)]

use tokio::time::Instant;

use crate::{FailureDetector, LeaseElector, NodeContext, listen_for_heartbeats, send_heartbeats};

/// Runs one candidate for the whole life of its node: follow, campaign on
/// suspicion, lead, and follow again after stepping down.
pub async fn run_candidate(context: NodeContext) {
    let NodeContext {
        node,
        inbox,
        peers,
        lease,
        leadership,
        config,
        ..
    } = context;
    // TODO(3.3): follow while the leader is heard, campaign while it is
    // suspected, lead (renew and heartbeat, both at once) when granted,
    // then follow again. The traps: a refused try means the lease is still
    // held, and trying again before a retry period has passed only loads
    // the store; a follower that does not suspect sends the store nothing;
    // leading ends, the candidate's life does not.
    todo!("exercise 3.3: follow, campaign, lead (see workshop3/README.md, Implement 3.3)")
}
