//! The starting point: replicas that do not coordinate at all.
//!
//! Each replica of the service was deployed believing it is "the" instance,
//! as a cron job copied onto three machines would. Every one of them does
//! the leader's work: it prepares an entry and writes it to storage, round
//! after round, with no lease and no token. Storage, which trusts everyone,
//! ends up with every replica's entries interleaved. This is what the rest
//! of the workshop prevents.

use crate::NodeContext;

/// Writes entry after entry to storage, as if this replica were the only
/// one: prepare for `work_time`, write without a token, and again. Returns
/// only when the node has crashed.
pub async fn act_without_election(context: NodeContext) {
    let mut entry = 0;
    loop {
        context.node.sleep(context.config.work_time).await;
        entry += 1;
        if let Err(error) = context.storage.write(None, entry).await
            && error.is_node_down()
        {
            return;
        }
    }
}
