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
    let detector = FailureDetector::new(config.heartbeats.suspect_after(), Instant::now());
    if node
        .spawn(listen_for_heartbeats(inbox, detector.clone()))
        .is_err()
    {
        return;
    }
    let elector = LeaseElector::new(lease, config.election);
    loop {
        // Follow: wake when the detector would suspect. A heartbeat heard
        // meanwhile has moved the deadline on, so look again.
        node.sleep_until(detector.deadline()).await;
        if !detector.suspects(Instant::now()) {
            continue;
        }
        // Campaign: one try. The store, not the suspicion, decides.
        match elector.try_acquire().await {
            Ok(granted) => {
                let heartbeats = config.heartbeats.interval();
                tokio::join!(
                    elector.hold(granted, &leadership),
                    send_heartbeats(&node, &peers, &leadership, heartbeats),
                );
            }
            Err(error) if error.is_retryable() => {
                node.sleep(config.election.retry_period()).await;
            }
            Err(_) => return,
        }
    }
}
