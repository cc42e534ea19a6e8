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

/// Kills the leader of the cluster `runs` times while `client` sends, and
/// returns each time from the kill to the first send committed after it:
/// the failover time a client sees. Each killed node is restarted and given
/// half a second to catch up before the next kill.
///
/// # Errors
/// When no node leads within ten seconds, a send fails, or a node cannot be
/// killed or restarted.
pub async fn time_failovers(
    cluster: &mut super::LocalCluster,
    client: &mut crate::QueueClient<super::TcpTransport>,
    runs: usize,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let transport = super::TcpTransport::new(cluster.addresses());
    let nodes = cluster.nodes();
    let probe = || {
        vec![crate::NewMessage {
            body: "probe".to_string(),
            deduplication_id: None,
        }]
    };
    let mut times = Vec::new();
    let mut term = Term::ZERO;
    for _ in 0..runs {
        let (leader, current) = wait_for_leader(&transport, &nodes, term, Duration::from_secs(10))
            .await
            .ok_or("no leader within 10 s")?;
        term = current;
        // The client has found the leader and is sending when it dies.
        client.send(probe()).await?;
        cluster.kill(leader)?;
        let killed_at = Instant::now();
        client.send(probe()).await?;
        times.push(killed_at.elapsed());
        cluster.restart(leader)?;
        // Let the restarted node catch up before the next kill.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(times)
}
