//! Looking at a running cluster from outside: every node's report, and who
//! leads.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use coordination::NodeId;
use workshop4::{Role, Term};

use crate::{NodeReport, QueueRequest, QueueResponse, Transport};

/// The report of every node in `nodes` that answers within `timeout`.
pub async fn reports<T: Transport>(
    transport: &T,
    nodes: &[NodeId],
    timeout: Duration,
) -> BTreeMap<NodeId, NodeReport> {
    let mut reports = BTreeMap::new();
    for &node in nodes {
        if let Ok(QueueResponse::Report(report)) =
            transport.call(node, QueueRequest::Report, timeout).await
        {
            reports.insert(node, report);
        }
    }
    reports
}

/// The node that leads the newest term among `reports`, with its term: on
/// the minority side of a partition an old leader may still believe it
/// leads.
pub fn leader_of(reports: &BTreeMap<NodeId, NodeReport>) -> Option<(NodeId, Term)> {
    reports
        .values()
        .filter(|report| report.role == Role::Leader)
        .max_by_key(|report| report.term)
        .map(|report| (report.node, report.term))
}

/// Waits up to `limit` until a node leads a term newer than `after`, asking
/// every node for its report every few milliseconds; `None` when none does
/// in time.
pub async fn wait_for_leader<T: Transport>(
    transport: &T,
    nodes: &[NodeId],
    after: Term,
    limit: Duration,
) -> Option<(NodeId, Term)> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some((leader, term)) =
            leader_of(&reports(transport, nodes, Duration::from_millis(100)).await)
            && term > after
        {
            return Some((leader, term));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}
