//! Exercise 3.4: the leader's work, and split brain.
//!
//! Leading is for doing something only one node may do. Here the leader
//! writes entries to storage: each round it checks that it still leads,
//! prepares the next entry (which takes `work_time` of its own time), and
//! writes it with its lease's token. That is what a controller, a scheduler
//! or a cron leader does, and it is what you write.
//!
//! Then the tests break it. A leader paused by a long garbage collection
//! *in the middle of preparing an entry* checked its leadership before the
//! pause and writes after it, long after its lease expired and another node
//! took over: two writers, one of them stale, and storage accepts both. A
//! partitioned leader keeps believing it leads until its renew deadline.
//! No check on the leader's side can close the gap between "I checked" and
//! "my write arrived". Exercise 3.5 closes it on the storage side.
//!
//! - Read: `workshop3/README.md`, "Implement", 3.4.
//! - Check: `cargo workshop check 3.4`, or all of its output with
//!   `cargo test -p workshop3 --test workshop ex3_4_leader_work`.

use std::time::Duration;

use coordination::sim::Node;

use crate::{ClusterMessage, Leadership, NodeContext, StepDown, StorageClient, run_candidate};

/// While this node believes it leads, writes entry after entry to storage:
/// check the belief, prepare the entry for `work_time`, write it under the
/// lease's token. While it does not lead, it looks again every `work_time`.
/// Returns only when the node has crashed.
pub async fn do_leader_work(
    node: Node<ClusterMessage>,
    leadership: Leadership,
    storage: StorageClient,
    work_time: Duration,
) {
    let mut entry = 0;
    loop {
        let Some(token) = leadership.token() else {
            node.sleep(work_time).await;
            continue;
        };
        // Preparing the entry takes time. A pause here goes unnoticed: the
        // check above is already done.
        node.sleep(work_time).await;
        entry += 1;
        match storage.write(Some(token), entry).await {
            Ok(_) => {}
            Err(error) if error.is_node_down() => return,
            Err(error) if error.means_superseded() => {
                leadership.step_down(StepDown::Superseded);
            }
            // No answer: the entry may or may not be stored. The next round
            // writes the next one.
            Err(_) => {}
        }
    }
}

/// A candidate (3.3) that also does the leader's work while it leads: what
/// every replica of the service runs.
pub async fn run_candidate_and_work(context: NodeContext) {
    let work = do_leader_work(
        context.node.clone(),
        context.leadership.clone(),
        context.storage.clone(),
        context.config.work_time,
    );
    if context.node.spawn(work).is_ok() {
        run_candidate(context).await;
    }
}
