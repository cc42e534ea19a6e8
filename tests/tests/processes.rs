//! The replicated queue as three operating-system processes on loopback
//! TCP: the leader's process is killed, a new leader takes over, and no
//! message the queue acknowledged is lost.

use std::path::Path;
use std::time::Duration;

use capstone::net::NodeProcessOptions;
use capstone::net::trial::{Trial, receive_every, send_numbered};
use capstone::testing::exam;
use workshop4::Term;

/// The whole test's limit: it never hangs, whatever the nodes do.
const LIMIT: Duration = Duration::from_secs(30);

/// The leader's process is killed mid-run: a new leader is elected, takes
/// new messages, and every message acknowledged before or after the kill
/// is received; the killed node comes back from its journal and catches up.
#[test]
fn killing_the_leader_process_loses_no_acknowledged_message() {
    exam(killing_the_leader_process);
}

fn killing_the_leader_process() {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("leader-killed-{}", std::process::id()));
    let mut trial = Trial::start(
        Path::new(env!("CARGO_BIN_EXE_queue-node")),
        3,
        &folder,
        NodeProcessOptions::synced(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime builds while the machine has memory");
    let scenario = async {
        let nodes = trial.cluster.nodes();
        let mut producer = trial.client(1);
        let (first_leader, first_term) = trial.leader(Term::ZERO).await;
        let mut acknowledged = send_numbered(&mut producer, "before", 200, 10).await;
        assert_eq!(
            acknowledged.len(),
            200,
            "a live majority acknowledges every send"
        );

        trial
            .cluster
            .kill(first_leader)
            .expect("the leader is one of the nodes");
        let (second_leader, _) = trial.leader(first_term).await;
        assert_ne!(
            second_leader, first_leader,
            "the killed node cannot lead: a new leader must take over"
        );
        let after = send_numbered(&mut producer, "after", 100, 10).await;
        assert_eq!(after.len(), 100, "the new leader acknowledges every send");
        acknowledged.extend(after);
        trial
            .cluster
            .restart(first_leader)
            .expect("the killed node starts again from its journal");

        let received = receive_every(&mut trial.client(2), &acknowledged).await;
        assert_eq!(
            received.len(),
            acknowledged.len(),
            "every acknowledged message is received once, and nothing else"
        );
        // The restarted node replays its journal and catches up with the
        // new leader's log.
        trial.converged(&nodes).await;
    };
    // The limit's timer needs the runtime, so it is made inside it.
    let finished = runtime.block_on(async { tokio::time::timeout(LIMIT, scenario).await });
    assert!(
        finished.is_ok(),
        "the process test did not finish within {LIMIT:?}; the node logs are in {}",
        trial.cluster.folder().display()
    );
    // Passed: the journals and logs are of no more use. (A failure keeps
    // them for reading.)
    trial.finish();
}
