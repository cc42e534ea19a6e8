//! The capstone on a real engine: the photo service on a three-server NATS
//! JetStream cluster (`cargo test -p capstone --features jetstream --test
//! jetstream`), and Workshop 3's leases on a key-value bucket.
//!
//! The servers are real processes on 127.0.0.1, started by each test in a
//! folder of its own and stopped when it ends, panics included. The tests
//! need `nats-server` (`cargo xtask verify` installs the pinned version
//! under `target/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream;
use capstone::jetstream::{
    FencedRecord, JetStreamExam, JetStreamQueue, JetStreamSettings, KvLease, LeaseError,
    ServerBinary, ServerCluster, connect, create_queue, dead_letters, redrive, wait_for_jetstream,
};
use capstone::testing::{assert_every_rule_held, exam};
use capstone::{NewMessage, QueueService, ReceivedMessage};
use coordination::Seed;
use coordination::{DeadLetterReason, WorkError};

/// A folder of this run's own, so two runs never share stores.
fn folder(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("capstone-jetstream-{name}-{}", std::process::id()))
}

/// The server to run, or a failure that says how to get one.
fn server() -> ServerBinary {
    ServerBinary::find().unwrap_or_else(|error| panic!("{error}"))
}

/// A current-thread runtime with real time and sockets.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime builds while the machine has memory")
}

/// The final exam on JetStream: ten thousand uploads, 1% poison, consumer
/// hosts killed, workers stalled past their acknowledgement wait (their
/// late writes fenced), a consumer process killed with SIGKILL holding a
/// message, another stopped with SIGSTOP past its acknowledgement wait
/// (its late write fenced), the stream's leading server killed with
/// SIGKILL and restarted: every healthy upload is published exactly once,
/// every poison one is in the dead-letter stream, nothing is lost. On an
/// unfinished tree it stops, before any server starts, at the first
/// exercise it needs.
#[test]
fn photo_service_on_jetstream_keeps_every_rule_through_a_killed_stream_leader() {
    exam(|| {
        let seed = Seed::from_env()
            .unwrap_or_else(|error| panic!("{error}"))
            .unwrap_or(Seed::new(1));
        let scenario = JetStreamExam::standard();
        let consumer = Path::new(env!("CARGO_BIN_EXE_jetstream-consumer"));
        let outcome = runtime()
            .block_on(scenario.run(server(), consumer, &folder("exam"), seed))
            .unwrap_or_else(|error| panic!("the JetStream exam could not run: {error}"));
        println!("{outcome}");
        let report = &outcome.scenario;
        let processes = outcome.processes;
        assert_every_rule_held(report);
        let image = processes
            .paused_image
            .expect("the paused consumer process took a message");
        assert_eq!(
            (processes.late_writes_fenced, processes.late_writes_admitted),
            (1, 0),
            "the consumer process stopped with SIGSTOP past its acknowledgement wait wrote \
             {image} late, and its write must be refused by the fencing gate: {processes}"
        );
        assert_eq!(
            report.posts.get(&image).copied(),
            Some(1),
            "the paused process's message must take effect exactly once"
        );
        assert!(
            processes.killed_holding_a_message >= 1,
            "a consumer process must be killed while it holds a message: {processes}"
        );
        assert!(
            report.leaders.len() >= 2,
            "the stream's leader was killed, so another server must have led it: {:?}",
            report.leaders
        );
        assert!(
            report.consumers.stale_writes_refused > 0,
            "workers stalled past their acknowledgement wait, yet no late write was fenced: {}",
            report.consumers.stale_writes_refused
        );
        assert!(
            report.wall < Duration::from_secs(60),
            "the exam took {:?}, above its one-minute budget",
            report.wall
        );
    });
}

/// Workshop 3's lease on a key-value bucket: acquired only when absent,
/// renewed by compare-and-swap, expired by the bucket's maximum age; the
/// revision is the fencing token, and a record written under a newer token
/// refuses the paused holder's late write.
#[test]
fn a_lease_on_a_bucket_expires_and_fences_its_late_holder() {
    let cluster = ServerCluster::start(server(), 3, &folder("lease"))
        .expect("three servers start on free ports");
    runtime().block_on(async {
        let client = connect(&cluster)
            .await
            .expect("a server takes the connection");
        let context = jetstream::new(client);
        wait_for_jetstream(&context, Duration::from_secs(20))
            .await
            .expect("JetStream elects a leader");
        let ttl = Duration::from_secs(1);
        let store = retry(|| KvLease::bucket(&context, "leases", ttl, 3)).await;
        let records = retry(|| KvLease::bucket(&context, "records", Duration::ZERO, 3)).await;
        let first = KvLease::new(store.clone(), "gallery", "worker-1");
        let second = KvLease::new(store, "gallery", "worker-2");
        let record = FencedRecord::new(records, "gallery");

        let token = first.acquire().await.expect("nobody holds the lease yet");
        assert_eq!(
            second.acquire().await,
            Err(LeaseError::Held),
            "a held lease cannot be acquired"
        );
        let token = first.renew(token).await.expect("the holder renews in time");
        record
            .write(token, "written by worker-1")
            .await
            .expect("the holder writes");

        // worker-1 pauses past the lease's time to live.
        tokio::time::sleep(ttl + Duration::from_millis(1_500)).await;
        let newer = second
            .acquire()
            .await
            .expect("an expired lease can be acquired");
        assert!(newer > token, "a later holder gets a higher fencing token");
        assert_eq!(
            first.renew(token).await,
            Err(LeaseError::Held),
            "the paused holder cannot renew a lease that was taken"
        );
        record
            .write(newer, "written by worker-2")
            .await
            .expect("the new holder writes");
        assert_eq!(
            record.write(token, "late write by worker-1").await,
            Err(LeaseError::StaleToken {
                presented: token,
                stored: newer
            }),
            "the paused holder's late write is refused"
        );
        let (stored, value) = record.read().await.expect("readable").expect("written");
        assert_eq!((stored, value.as_str()), (newer, "written by worker-2"));
    });
}

/// Two handles on a queue of three replicas on `cluster`, with an
/// acknowledgement wait of `ack_wait`, and the context they share.
async fn queue_on_cluster(
    cluster: &ServerCluster,
    ack_wait: Duration,
) -> (JetStreamQueue, JetStreamQueue, jetstream::Context) {
    let context = jetstream::new(
        connect(cluster)
            .await
            .expect("a server takes the connection"),
    );
    let settings = JetStreamSettings {
        ack_wait,
        max_receives: 5,
        replicas: 3,
        duplicate_window: Duration::from_secs(60),
    };
    let (_, _, consumer) = create_queue(&context, settings, Duration::from_secs(20))
        .await
        .expect("the cluster makes the streams and the consumer");
    let first = JetStreamQueue::new(context.clone(), consumer.clone(), settings);
    let second = JetStreamQueue::new(context.clone(), consumer, settings);
    (first, second, context)
}

/// Receives until a message comes, for up to five seconds.
async fn receive_one(queue: &mut JetStreamQueue) -> ReceivedMessage {
    for _ in 0..50 {
        if let Some(message) = queue.receive(1).await.unwrap_or_default().pop() {
            return message;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no message was delivered within five seconds");
}

/// A dead-lettered message, redriven, is delivered again and can be
/// processed and deleted; the dead-letter stream is empty afterwards.
#[test]
fn a_redriven_dead_letter_is_delivered_again_and_processed() {
    let cluster = ServerCluster::start(server(), 3, &folder("redrive"))
        .expect("three servers start on free ports");
    runtime().block_on(async {
        let (mut queue, _, context) = queue_on_cluster(&cluster, Duration::from_secs(2)).await;
        queue
            .send(vec![NewMessage {
                body: "image-7 120kb".into(),
                deduplication_id: None,
            }])
            .await
            .expect("the queue takes the message");
        let first = receive_one(&mut queue).await;
        queue
            .dead_letter(
                first.receipt,
                DeadLetterReason::PermanentFailure,
                WorkError::permanent("the image service was misconfigured"),
            )
            .await
            .expect("the holder dead-letters its message");
        let mut dead = context
            .get_stream(capstone::jetstream::DEAD_LETTER_STREAM)
            .await
            .expect("the dead-letter stream exists");
        let letters = dead_letters(&mut dead).await.expect("readable");
        assert_eq!(
            letters
                .values()
                .map(|letter| letter.body.as_str())
                .collect::<Vec<_>>(),
            ["image-7 120kb"],
            "the message is in the dead-letter stream"
        );
        assert_eq!(
            redrive(&context, &mut dead)
                .await
                .expect("the redrive runs"),
            1,
            "one dead letter is moved back"
        );
        let again = receive_one(&mut queue).await;
        assert_eq!(
            again.body, "image-7 120kb",
            "the redriven message comes back"
        );
        queue
            .delete(again.receipt)
            .await
            .expect("the redriven message is processed and deleted");
        assert!(
            dead_letters(&mut dead).await.expect("readable").is_empty(),
            "the redrive emptied the dead-letter stream"
        );
    });
}

/// A long job that extends its visibility (in-progress acknowledgements)
/// keeps its message past several acknowledgement waits: no other
/// consumer receives it, and its holder deletes it at the end.
#[test]
fn a_long_job_that_extends_its_visibility_is_not_delivered_to_another_consumer() {
    let cluster = ServerCluster::start(server(), 3, &folder("extend"))
        .expect("three servers start on free ports");
    runtime().block_on(async {
        let ack_wait = Duration::from_secs(1);
        let (mut holder, mut other, _) = queue_on_cluster(&cluster, ack_wait).await;
        holder
            .send(vec![NewMessage {
                body: "image-9 400kb".into(),
                deduplication_id: None,
            }])
            .await
            .expect("the queue takes the message");
        let message = receive_one(&mut holder).await;
        // Three acknowledgement waits of work, extended every quarter of
        // one, while another consumer keeps asking.
        for _ in 0..12 {
            tokio::time::sleep(ack_wait / 4).await;
            holder
                .extend_visibility(message.receipt)
                .await
                .expect("the holder extends its message's visibility");
            assert!(
                other.receive(1).await.unwrap_or_default().is_empty(),
                "a message whose visibility is extended was delivered to another consumer"
            );
        }
        holder
            .delete(message.receipt)
            .await
            .expect("the holder still holds its message, and deletes it");
        tokio::time::sleep(ack_wait + Duration::from_millis(500)).await;
        assert!(
            other.receive(1).await.unwrap_or_default().is_empty(),
            "a deleted message was delivered again"
        );
    });
}

/// Creating a bucket needs three servers in the meta group; right after
/// start one may still be joining.
async fn retry<T, E: std::fmt::Debug, F: std::future::Future<Output = Result<T, E>>>(
    mut make: impl FnMut() -> F,
) -> T {
    let mut last = None;
    for _ in 0..100 {
        match make().await {
            Ok(value) => return value,
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the cluster refused for ten seconds: {last:?}");
}
