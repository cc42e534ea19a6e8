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
    FencedRecord, JetStreamExam, KvLease, LeaseError, ServerBinary, ServerCluster, connect,
    wait_for_jetstream,
};
use capstone::testing::{assert_every_rule_held, exam};
use coordination::Seed;

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
