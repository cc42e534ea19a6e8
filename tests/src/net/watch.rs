//! Looking at a running cluster from outside: every node's report, and who
//! leads.

use std::collections::BTreeMap;
use std::time::Duration;

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
