//! One replica and a small cluster, on the simulated network: sessions and
//! retries, redirects to the leader, and a replica that comes back from its
//! disk. These run on the workshops' Raft and exactly-once table, so they
//! need exercises 1.3 and 4.1 to 4.4.

use std::time::Duration;

use capstone::sim::{QueueCluster, SimTransport};
use capstone::testing::{exam, for_each_seed};
use capstone::{
    ClientSettings, Command, CommandOutput, NewMessage, QueueClient, QueueConfig, QueueOperation,
    QueueOutput, QueueRequest, QueueResponse, QueueStateMachine, SendOutcome, Stamped,
};
use coordination::sim::NetworkConditions;
use coordination::{NodeId, Seed};
use workshop4::{ClientId, ClientRequest, RaftConfig, Reply, SequenceNumber};

fn send(body: &str, sequence: u64) -> Command {
    Command::Request(ClientRequest {
        client: ClientId::new(1),
        sequence: SequenceNumber::new(sequence),
        operation: Stamped {
            at: Duration::ZERO,
            operation: QueueOperation::Send(vec![NewMessage {
                body: body.to_string(),
                deduplication_id: None,
            }]),
        },
    })
}

/// Three replicas on a reliable network, and a client node's transport.
fn three_replicas_and_a_client(seed: Seed) -> (QueueCluster, SimTransport) {
    let cluster = QueueCluster::new(
        3,
        seed,
        NetworkConditions::reliable(),
        RaftConfig::paper(),
        QueueConfig::standard(),
    )
    .expect("a fresh network takes three replicas");
    let (node, _inbox) = cluster
        .network()
        .add_node(NodeId::new(100))
        .expect("node-100 is not a replica");
    (cluster, SimTransport::new(node))
}

/// A client task that sends `batches` batches of `per_batch` messages, each
/// acknowledged before the next, through a cluster that keeps a majority.
fn send_in_batches(
    cluster: &QueueCluster,
    transport: SimTransport,
    seed: Seed,
    batches: usize,
    per_batch: usize,
) -> tokio::task::JoinHandle<()> {
    let settings = ClientSettings::standard().expect("exercise 1.3's policy");
    let mut client =
        QueueClient::new(transport, cluster.members(), settings, seed).expect("three members");
    tokio::spawn(async move {
        for batch in 0..batches {
            let messages = (0..per_batch)
                .map(|n| NewMessage {
                    body: format!("{batch}-{n}"),
                    deduplication_id: None,
                })
                .collect();
            client
                .send(messages)
                .await
                .expect("a cluster with a live majority answers");
        }
    })
}

/// A retried request (same client, same sequence number) is answered from
/// the exactly-once table with the first answer, and queues nothing more.
#[test]
fn a_retried_request_is_answered_from_the_table_not_applied_again() {
    exam(|| {
        let mut state = QueueStateMachine::new(QueueConfig::standard());
        let first = state.apply(&send("a", 1));
        let retry = state.apply(&send("a", 1));
        let queued = Ok(QueueOutput::Sent(vec![SendOutcome::Queued(
            capstone::MessageId::new(1),
        )]));
        assert_eq!(first, CommandOutput::Reply(Reply::Applied(queued.clone())));
        assert_eq!(
            retry,
            CommandOutput::Reply(Reply::Duplicate(queued)),
            "exercise 4.4 (exactly-once): a retry must be answered from the table"
        );
        assert_eq!(state.attributes().sent, 1, "the retry queued a second copy");
    });
}

/// Every session gets a new id, so a restarted client's first request is
/// never mistaken for a retry of its old life's.
#[test]
fn every_session_gets_a_new_client_id() {
    let mut state = QueueStateMachine::new(QueueConfig::standard());
    let ids: Vec<CommandOutput> = (0..3).map(|_| state.apply(&Command::OpenSession)).collect();
    assert_eq!(
        ids,
        (1..=3)
            .map(|id| CommandOutput::SessionOpened(ClientId::new(id)))
            .collect::<Vec<_>>()
    );
}

/// A follower answers a client with the leader it knows of, and the client
/// follows the redirect to an answer.
#[test]
fn a_follower_redirects_a_client_to_the_leader() {
    exam(|| {
        for_each_seed(|seed| async move {
            let (mut cluster, transport) = three_replicas_and_a_client(seed);
            cluster.run_for(Duration::from_secs(2)).await;
            let leader = cluster
                .leader()
                .expect("exercise 4.1: three replicas elect a leader");
            let follower = *cluster
                .members()
                .iter()
                .find(|member| **member != leader)
                .expect("three members");
            let call = tokio::spawn(async move {
                use capstone::Transport;
                transport
                    .call(
                        follower,
                        QueueRequest::OpenSession,
                        Duration::from_millis(200),
                    )
                    .await
            });
            cluster.run_for(Duration::from_millis(300)).await;
            let answer = call.await.expect("the call task ends");
            assert_eq!(
                answer,
                Ok(QueueResponse::NotLeader {
                    leader: Some(leader)
                }),
                "a follower points the client at the leader it knows of"
            );
        })
    });
}

/// A replica crashed and restarted comes back with the term, vote and log
/// it wrote down, applies the log again, and catches up with the leader.
#[test]
fn a_replica_restarted_from_its_disk_catches_up() {
    exam(|| {
        for_each_seed(|seed| async move {
            let (mut cluster, transport) = three_replicas_and_a_client(seed);
            let sends = send_in_batches(&cluster, transport, seed, 5, 10);
            cluster.run_for(Duration::from_secs(3)).await;
            sends.await.expect("the sends finish");
            let leader = cluster.leader().expect("a leader");
            let follower = *cluster
                .members()
                .iter()
                .find(|member| **member != leader)
                .expect("three members");
            let before = cluster.disk(follower).expect("a disk").clone();
            cluster.crash(follower).expect("the follower is up");
            cluster.restart(follower).expect("the follower is down");
            let restored = cluster.replica(follower).expect("restarted").raft();
            assert_eq!(
                (
                    restored.term(),
                    restored.voted_for(),
                    restored.log().entries()
                ),
                (
                    before.hard_state.term,
                    before.hard_state.voted_for,
                    before.entries.as_slice()
                ),
                "the restarted replica must start from what it wrote down"
            );
            cluster.run_for(Duration::from_secs(1)).await;
            let caught_up = cluster.replica(follower).expect("up").state().attributes();
            assert_eq!(
                caught_up.sent, 50,
                "the restarted replica applies the log again"
            );
            assert_eq!(cluster.check_logs_agree(), Ok(()));
            assert_eq!(cluster.check_safety(), Ok(()));
        })
    });
}

/// A follower's power is cut before its disk synced the last entries it
/// acknowledged (a node run with `--no-sync`): it comes back with a shorter
/// log. It must not commit or apply past what it holds, and the leader must
/// send it what it lost rather than insist it has it, so the replicas end
/// up agreeing, with every message, and no time spent in a loop of
/// rejections.
#[test]
fn a_follower_that_lost_its_unsynced_tail_catches_up_without_diverging() {
    exam(|| {
        for_each_seed(|seed| async move {
            let (mut cluster, transport) = three_replicas_and_a_client(seed);
            let sends = send_in_batches(&cluster, transport, seed, 8, 5);
            cluster.run_for(Duration::from_secs(2)).await;
            let leader = cluster.leader().expect("exercise 4.1: a leader");
            let follower = *cluster
                .members()
                .iter()
                .find(|member| **member != leader)
                .expect("three members");
            let held = cluster.disk(follower).expect("a disk").entries.len();
            cluster.power_cut(follower, 3).expect("the follower is up");
            cluster.restart(follower).expect("the follower is down");
            let restarted = cluster.replica(follower).expect("restarted").raft();
            assert_eq!(
                restarted.log().last_index().get() as usize,
                held - 3,
                "the restarted follower holds only what its disk kept"
            );
            cluster.run_for(Duration::from_secs(2)).await;
            sends.await.expect("the sends finish");
            let replica = cluster.replica(follower).expect("up");
            assert!(
                replica.raft().commit_index() <= replica.raft().log().last_index(),
                "{follower} committed up to {} but its log ends at {}: a follower \
                 never commits past its own log",
                replica.raft().commit_index(),
                replica.raft().log().last_index()
            );
            let sent: Vec<u64> = cluster
                .members()
                .iter()
                .map(|&member| {
                    cluster
                        .replica(member)
                        .expect("up")
                        .state()
                        .attributes()
                        .sent
                })
                .collect();
            assert_eq!(
                sent,
                vec![40; 3],
                "every replica must hold all 40 messages: one that lost its tail \
                 must get it back from the leader"
            );
            assert_eq!(cluster.check_logs_agree(), Ok(()));
            assert_eq!(cluster.check_safety(), Ok(()));
        })
    });
}
