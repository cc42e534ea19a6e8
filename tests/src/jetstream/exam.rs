//! The final exam on the real engine: ten thousand uploads through the
//! photo service on a three-server JetStream cluster, with consumer hosts
//! killed, workers stalled past their acknowledgement wait, and the server
//! that leads the stream killed with SIGKILL and restarted; judged by the
//! simulation's own [`ScenarioReport`].
//!
//! Two consumers are processes of their own ([`ConsumerProcess`]): one is
//! killed with SIGKILL while it holds a message, the other is stopped with
//! SIGSTOP while it holds one, kept stopped until its message was
//! delivered again and published by another consumer, then resumed; its
//! late write must be refused by the gallery's fencing gate
//! ([`ConsumerProcesses`] counts what happened to both).
//!
//! It runs in real time, on one current-thread runtime, like the capstone's
//! process test. Randomness (uploads, faults, placement, jitter) still comes
//! from one seed, but the servers' timing does not, so a seed names the
//! work, not the interleaving.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::ServerAddr;
use async_nats::jetstream::{self, Context};
use coordination::sim::{FaultPlan, Hang, MessageCounts, clock};
use coordination::{MaxAttempts, NodeId, Probability, Seed};
use rand::RngExt;
use tokio::task::JoinHandle;
use workshop1::{BackoffPolicy, RetryPolicy};
use workshop4::Term;
use workshop4::pipeline::ImageId;

use super::{
    CONSUMER, ConsumerLine, ConsumerProcess, JetStreamQueue, JetStreamSettings, ServerBinary,
    ServerCluster, create_queue, dead_letters,
};
use crate::sim::ScenarioReport;
use crate::{
    ConsumerCounter, ConsumerHost, ConsumerSettings, FencedGallery, MessageId, ProgressStore,
    QueueAttributes, Upload, lock, run_consumer, run_producer,
};

/// The exercises the exam runs on, checked before anything starts: the
/// backoff, placement, stealing, fencing and publication keys. (The queue
/// is JetStream's, so Workshop 4's Raft and exactly-once table are not
/// needed.)
const EXERCISES_NEEDED: [&str; 5] = ["1.3", "2.2", "2.3", "3.5", "4.5"];

/// What the exam reports: the simulation's report, and what happened to
/// the consumers that ran as processes.
#[derive(Debug, Clone)]
pub struct JetStreamReport {
    /// The same report as the simulated exam's.
    pub scenario: ScenarioReport,
    /// The consumer processes paused and killed.
    pub processes: ConsumerProcesses,
}

impl fmt::Display for JetStreamReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.scenario)?;
        write!(f, "  {}", self.processes)
    }
}

/// What happened to the consumers that ran as processes of their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerProcesses {
    /// The image whose message the paused process held.
    pub paused_image: Option<ImageId>,
    /// The receive it held the message by: its fencing token.
    pub paused_receive: u32,
    /// How long it stayed stopped.
    pub paused_for: Duration,
    /// Its late writes the fencing gate refused.
    pub late_writes_fenced: u64,
    /// Its late writes the gate let through: each one a broken fence.
    pub late_writes_admitted: u64,
    /// Processes killed with SIGKILL while they held a message.
    pub killed_holding_a_message: u64,
}

impl fmt::Display for ConsumerProcesses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let image = self
            .paused_image
            .map_or_else(|| "no message".to_string(), |image| image.to_string());
        write!(
            f,
            "consumer processes: one paused {:.1} s holding {image} (receive {}), late writes \
             fenced {}, admitted {}; {} killed holding a message",
            self.paused_for.as_secs_f64(),
            self.paused_receive,
            self.late_writes_fenced,
            self.late_writes_admitted,
            self.killed_holding_a_message
        )
    }
}

/// The exam's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JetStreamExam {
    /// Uploads sent.
    pub messages: u64,
    /// The share of them that is corrupt.
    pub poison: Probability,
    /// Producers, each sending its share.
    pub producers: u32,
    /// Consumer hosts.
    pub consumer_hosts: u32,
    /// Workers per host.
    pub workers_per_host: usize,
    /// The share of attempts that fail for a moment.
    pub transient_failures: Probability,
    /// The share of attempts that stall past the acknowledgement wait.
    pub stalls: Probability,
    /// A consumer host is killed this often, on average.
    pub consumer_kills_every: Duration,
    /// When the stream's leading server is killed, after the first send;
    /// `None` kills nothing.
    pub kill_stream_leader_at: Option<Duration>,
    /// How long it stays down.
    pub server_down_for: Duration,
    /// The queue's settings.
    pub queue: JetStreamSettings,
    /// The whole run's limit in real time.
    pub time_limit: Duration,
}

impl JetStreamExam {
    /// Ten thousand uploads, 1% corrupt; two producers; three hosts of
    /// sixteen workers (sleeping tasks: a worker's processing time is
    /// Workshop 1's 25 to 70 ms); 10% transient failures, 0.2% stalls of
    /// the acknowledgement wait plus a second; a host killed every two
    /// seconds on average; the stream's leader killed two seconds in, back
    /// two seconds later; a two-second acknowledgement wait and ten
    /// receives.
    ///
    /// # Panics
    /// Never: the settings are constants.
    pub fn standard() -> Self {
        let rate = |value| Probability::new(value).expect("a constant rate between 0 and 1");
        Self {
            messages: 10_000,
            poison: rate(0.01),
            producers: 2,
            consumer_hosts: 3,
            workers_per_host: 16,
            transient_failures: rate(0.1),
            stalls: rate(0.002),
            consumer_kills_every: Duration::from_secs(2),
            kill_stream_leader_at: Some(Duration::from_secs(2)),
            server_down_for: Duration::from_secs(2),
            queue: JetStreamSettings {
                ack_wait: Duration::from_secs(2),
                max_receives: 10,
                replicas: 3,
                duplicate_window: Duration::from_secs(120),
            },
            time_limit: Duration::from_secs(50),
        }
    }

    /// Plays the exam from `seed` on a fresh cluster of `binary` in
    /// `folder`, on the current-thread runtime it is called on.
    ///
    /// # Errors
    /// A description of what could not be set up (a server that does not
    /// start, a cluster without a leader).
    ///
    /// # Panics
    /// At the first exercise it needs that is not written, naming it,
    /// before any server starts; when a producer or consumer panics.
    pub async fn run(
        &self,
        binary: ServerBinary,
        consumer_program: &Path,
        folder: &Path,
        seed: Seed,
    ) -> Result<JetStreamReport, String> {
        crate::testing::stop_at_first_unfinished(&EXERCISES_NEEDED, "jetstream");
        let started = Instant::now();
        let mut cluster = ServerCluster::start(binary, 3, folder).map_err(|e| e.to_string())?;
        let admin = connect(&cluster).await?;
        let context = jetstream::new(admin.clone());
        let (mut queue_stream, mut dead_stream, consumer) =
            create_queue(&context, self.queue, Duration::from_secs(20))
                .await
                .map_err(|e| e.to_string())?;
        let uploads = Upload::batch(self.messages, self.poison, seed);
        let sink = Arc::new(Mutex::new(FencedGallery::new()));
        let stats = ConsumerCounter::default();
        let share = uploads.len().div_ceil(self.producers.max(1) as usize);
        let mut producers = Vec::new();
        for part in uploads.chunks(share.max(1)) {
            let progress = ProgressStore::default();
            let queue = JetStreamQueue::new(
                jetstream::new(connect(&cluster).await?),
                consumer.clone(),
                self.queue,
            );
            let task = tokio::spawn(run_producer(queue, part.into(), progress.clone()));
            producers.push((Some(task), progress));
        }
        let consumer_settings = ConsumerSettings {
            workers: self.workers_per_host,
            max_messages: 10,
            poll_interval: Duration::from_millis(20),
            retry: RetryPolicy {
                max_attempts: MaxAttempts::new(self.queue.max_receives)
                    .map_err(|e| e.to_string())?,
                backoff: BackoffPolicy::new(Duration::from_millis(50), Duration::from_millis(500))
                    .map_err(|e| e.to_string())?,
            },
            faults: FaultPlan::NONE
                .with_transient(self.transient_failures)
                .with_hang(
                    Hang::For(self.queue.ack_wait + Duration::from_secs(1)),
                    self.stalls,
                ),
        };
        let mut hosts: Vec<Option<JoinHandle<()>>> = Vec::new();
        let mut lives = 0_u64;
        let start_host = |context: Context, lives: &mut u64| {
            *lives += 1;
            let queue = JetStreamQueue::new(context, consumer.clone(), self.queue);
            let host_seed = seed.derive(HOST_STREAM).derive(*lives);
            let host = ConsumerHost {
                settings: consumer_settings,
                sink: Arc::clone(&sink),
                counter: stats.clone(),
                seed: host_seed,
            };
            let host = run_consumer(host, move |_| Ok(queue.clone()));
            tokio::spawn(async move {
                let _ = host.await;
            })
        };
        let mut host_contexts = Vec::new();
        for _ in 0..self.consumer_hosts {
            let context = jetstream::new(connect(&cluster).await?);
            hosts.push(Some(start_host(context.clone(), &mut lives)));
            host_contexts.push(context);
        }

        let start_process = |name: &str| {
            ConsumerProcess::start(
                consumer_program,
                &cluster.client_urls(),
                self.queue,
                &folder.join(format!("{name}.log")),
            )
            .map_err(|error| format!("{}: {error}", consumer_program.display()))
        };
        let mut paused = PausedConsumer::Working(start_process("paused-consumer")?, Instant::now());
        let mut doomed = Some(start_process("killed-consumer")?);
        let mut processes = ConsumerProcesses::default();

        let mut rng = seed.derive(FAULT_STREAM).rng();
        let mean_kill = self.consumer_kills_every.as_secs_f64();
        let mut next_host_kill = rng.random_range(0.0..2.0 * mean_kill);
        let mut host_back: Vec<Option<f64>> = vec![None; hosts.len()];
        let mut leaders: BTreeMap<Term, NodeId> = BTreeMap::new();
        let mut leader_killed: Option<(usize, f64)> = None;
        let mut client_crashes = 0;
        let begun = Instant::now();
        let mut finished = false;
        while begun.elapsed() < self.time_limit {
            tokio::time::sleep(TICK).await;
            let now = begun.elapsed().as_secs_f64();
            if let Some(process) = &mut doomed
                && let Some(ConsumerLine::Took { .. }) = process.next_line()
            {
                process.kill();
                doomed = None;
                processes.killed_holding_a_message += 1;
                client_crashes += 1;
            }
            paused = paused.step(self.queue.ack_wait, &sink, &stats, &mut processes)?;
            for (producer, _) in &mut producers {
                if let Some(task) = producer.take_if(|task| task.is_finished())
                    && let Err(error) = task.await
                    && error.is_panic()
                {
                    std::panic::resume_unwind(error.into_panic());
                }
            }
            for (index, host) in hosts.iter_mut().enumerate() {
                if let Some(task) = host
                    && task.is_finished()
                {
                    let task = host.take().expect("checked above");
                    if let Err(error) = task.await
                        && error.is_panic()
                    {
                        std::panic::resume_unwind(error.into_panic());
                    }
                    host_back[index] = Some(now);
                }
            }
            if let Some(leader) = stream_leader(&mut queue_stream).await
                && let Some(index) = cluster.index_of(&leader)
            {
                let node = NodeId::new(u32::try_from(index + 1).unwrap_or(0));
                if leaders.values().next_back() != Some(&node) {
                    leaders.insert(Term::new(leaders.len() as u64 + 1), node);
                }
            }
            if let Some(at) = self.kill_stream_leader_at
                && leader_killed.is_none()
                && begun.elapsed() >= at
                && let Some((_, &leader)) = leaders.iter().next_back()
            {
                let index = leader.get() as usize - 1;
                cluster.kill(index).map_err(|e| e.to_string())?;
                leader_killed = Some((index, now));
            }
            if let Some((index, at)) = leader_killed
                && now >= at + self.server_down_for.as_secs_f64()
                && !cluster.is_running(index)
            {
                cluster.restart(index).map_err(|e| e.to_string())?;
            }
            if now >= next_host_kill {
                let index = rng.random_range(0..hosts.len());
                if let Some(task) = hosts[index].take() {
                    task.abort();
                    let _ = task.await;
                    client_crashes += 1;
                    host_back[index] = Some(now + HOST_DOWN.as_secs_f64());
                }
                next_host_kill = now + rng.random_range(0.0..2.0 * mean_kill);
            }
            for index in 0..hosts.len() {
                if hosts[index].is_none() && host_back[index].is_some_and(|back| now >= back) {
                    host_back[index] = None;
                    hosts[index] = Some(start_host(host_contexts[index].clone(), &mut lives));
                }
            }
            let producers_done = producers
                .iter()
                .all(|(_, progress)| progress.read().finished);
            if producers_done
                && paused.is_done()
                && leader_killed.is_none_or(|(index, _)| cluster.is_running(index))
                && is_drained(&context).await
            {
                finished = true;
                break;
            }
        }
        let work_done = begun.elapsed();
        drop(paused);
        drop(doomed);
        for (task, _) in &producers {
            if let Some(task) = task {
                task.abort();
            }
        }
        for task in hosts.iter().flatten() {
            task.abort();
        }
        for (task, _) in producers {
            if let Some(task) = task {
                let _ = task.await;
            }
        }
        for task in hosts.into_iter().flatten() {
            let _ = task.await;
        }

        let info = queue_stream
            .info()
            .await
            .map_err(|e| e.to_string())?
            .clone();
        let mut queued: BTreeMap<ImageId, Vec<MessageId>> = BTreeMap::new();
        for sequence in 1..=info.state.last_sequence {
            let message = queue_stream
                .get_raw_message(sequence)
                .await
                .map_err(|e| format!("reading back message {sequence}: {e}"))?;
            if let Ok(upload) = Upload::parse(&String::from_utf8_lossy(&message.payload)) {
                queued
                    .entry(upload.image)
                    .or_default()
                    .push(MessageId::new(sequence));
            }
        }
        let dead_letters = dead_letters(&mut dead_stream)
            .await
            .map_err(|e| e.to_string())?;
        let pending = pending(&context).await.unwrap_or((0, 0));
        let sink = lock(&sink);
        let scenario = ScenarioReport {
            name: "jetstream: stream leader killed, hosts killed, workers stalled",
            seed,
            finished,
            uploads,
            queued,
            posts: sink.posts_per_image(),
            attributes: QueueAttributes {
                visible: usize::try_from(pending.0).unwrap_or(usize::MAX),
                in_flight: usize::try_from(pending.1).unwrap_or(usize::MAX),
                dead_lettered: dead_letters.len(),
                sent: info.state.last_sequence,
                deleted: 0,
            },
            dead_letters,
            left_in_queue: BTreeMap::new(),
            safety: Ok(()),
            logs_agree: Ok(()),
            commit_index: info.state.last_sequence,
            leaders,
            consumers: stats.read(),
            duplicate_sends: 0,
            retries_answered: 0,
            client_crashes,
            network: MessageCounts::default(),
            simulated: work_done,
            wall: started.elapsed(),
        };
        Ok(JetStreamReport {
            scenario,
            processes,
        })
    }
}

/// The consumer process the exam pauses, through its life.
enum PausedConsumer {
    /// Started at the instant given; it has not taken its message yet.
    Working(ConsumerProcess, Instant),
    /// Stopped with SIGSTOP since `since`, holding `upload`'s message.
    Paused {
        /// The process.
        process: ConsumerProcess,
        /// When it was stopped.
        since: Instant,
        /// What it holds.
        upload: Upload,
    },
    /// Resumed and told its work is done; its write is awaited.
    Resumed(ConsumerProcess),
    /// Its late write was judged.
    Done,
}

impl PausedConsumer {
    /// Moves the process on by what it said and how long it was stopped:
    /// stopped as soon as it holds a message, resumed once the message's
    /// acknowledgement wait has passed and another consumer published it,
    /// its late write judged by the fencing gate of `sink`.
    ///
    /// # Errors
    /// When the process cannot be signalled, or its message is not
    /// delivered again within [`REDELIVERY_LIMIT`].
    fn step(
        self,
        ack_wait: Duration,
        sink: &Mutex<FencedGallery>,
        stats: &ConsumerCounter,
        outcome: &mut ConsumerProcesses,
    ) -> Result<Self, String> {
        let signal_error = |error: std::io::Error| format!("the paused consumer: {error}");
        match self {
            Self::Working(mut process, started) => match process.next_line() {
                Some(ConsumerLine::Took { receipt, body }) => {
                    process.pause().map_err(signal_error)?;
                    let upload = Upload::parse(&body)
                        .map_err(|error| format!("the paused consumer took {body:?}: {error}"))?;
                    outcome.paused_image = Some(upload.image);
                    outcome.paused_receive = receipt.receive();
                    Ok(Self::Paused {
                        process,
                        since: Instant::now(),
                        upload,
                    })
                }
                _ if process.has_ended() || started.elapsed() > REDELIVERY_LIMIT => Err(format!(
                    "the paused consumer took no message within {:?} (its log is in the \
                     cluster's folder)",
                    started.elapsed()
                )),
                _ => Ok(Self::Working(process, started)),
            },
            Self::Paused {
                mut process,
                since,
                upload,
            } => {
                let published = lock(sink)
                    .posts_per_image()
                    .get(&upload.image)
                    .is_some_and(|&posts| posts > 0);
                if since.elapsed() >= ack_wait && published {
                    process.resume().map_err(signal_error)?;
                    outcome.paused_for = since.elapsed();
                    process
                        .tell("finish")
                        .map_err(|error| format!("the paused consumer: {error}"))?;
                    Ok(Self::Resumed(process))
                } else if since.elapsed() > REDELIVERY_LIMIT {
                    Err(format!(
                        "{} was not published by another consumer within {REDELIVERY_LIMIT:?} of \
                         its holder's pause: its message was never delivered again",
                        upload.image
                    ))
                } else {
                    Ok(Self::Paused {
                        process,
                        since,
                        upload,
                    })
                }
            }
            Self::Resumed(mut process) => match process.next_line() {
                Some(ConsumerLine::Write { receipt, body }) => {
                    let upload = Upload::parse(&body)
                        .map_err(|error| format!("the paused consumer wrote {body:?}: {error}"))?;
                    let verdict = lock(sink).publish(
                        upload.image,
                        receipt.fencing_token(),
                        upload.thumbnail(),
                        clock::elapsed(),
                    );
                    let answer = if verdict.is_ok() {
                        outcome.late_writes_admitted += 1;
                        "admitted"
                    } else {
                        outcome.late_writes_fenced += 1;
                        stats.count_refused_stale_write();
                        "refused"
                    };
                    // It may be gone by now; the verdict is recorded here.
                    let _ = process.tell(answer);
                    Ok(Self::Done)
                }
                _ if process.has_ended() => Err(
                    "the paused consumer ended after it was resumed, without writing".to_string(),
                ),
                _ => Ok(Self::Resumed(process)),
            },
            Self::Done => Ok(Self::Done),
        }
    }

    /// Whether its late write was judged.
    fn is_done(&self) -> bool {
        matches!(self, Self::Done)
    }
}

/// How long the paused consumer's message may take to be delivered to
/// another consumer and published: its acknowledgement wait, plus a
/// failover of the stream's leader, plus backoffs.
const REDELIVERY_LIMIT: Duration = Duration::from_secs(25);

/// A client connected to every server of `cluster`, reconnecting forever.
///
/// # Errors
/// A description, when no server takes the connection.
pub async fn connect(cluster: &ServerCluster) -> Result<async_nats::Client, String> {
    connect_to(&cluster.client_urls()).await
}

/// A client connected to every server at `urls`, reconnecting forever.
///
/// # Errors
/// A description, when no server takes the connection.
pub async fn connect_to(urls: &[String]) -> Result<async_nats::Client, String> {
    let addresses: Vec<ServerAddr> = urls.iter().filter_map(|url| url.parse().ok()).collect();
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connect(addresses)
        .await
        .map_err(|e| e.to_string())
}

/// Waits until JetStream answers (it has a meta leader), for up to
/// `limit`.
///
/// # Errors
/// A description, when it does not.
pub async fn wait_for_jetstream(context: &Context, limit: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        match context.query_account().await {
            Ok(_) => return Ok(()),
            Err(error) if started.elapsed() > limit => {
                return Err(format!("JetStream has no leader after {limit:?}: {error}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The name of the server that leads `stream`'s replicas now, if one does.
pub async fn stream_leader(stream: &mut jetstream::stream::Stream) -> Option<String> {
    let info = tokio::time::timeout(Duration::from_millis(500), stream.info())
        .await
        .ok()?
        .ok()?;
    info.cluster.as_ref()?.leader.clone()
}

/// Messages the shared consumer has not delivered yet, and delivered
/// without an acknowledgement (negatively acknowledged ones waiting out
/// their delay included).
async fn pending(context: &Context) -> Option<(u64, u64)> {
    let asked = async {
        let stream = context.get_stream(super::QUEUE_STREAM).await.ok()?;
        let mut consumer: jetstream::consumer::PullConsumer =
            stream.get_consumer(CONSUMER).await.ok()?;
        let info = consumer.info().await.ok()?;
        Some((info.num_pending, info.num_ack_pending as u64))
    };
    tokio::time::timeout(Duration::from_millis(500), asked)
        .await
        .ok()?
}

/// Whether every message was settled: nothing left to deliver, nothing
/// delivered and unacknowledged.
async fn is_drained(context: &Context) -> bool {
    pending(context).await == Some((0, 0))
}

/// How often the exam's loop looks at the run.
const TICK: Duration = Duration::from_millis(100);

/// How long a killed consumer host stays down.
const HOST_DOWN: Duration = Duration::from_millis(200);

/// Names the consumer hosts' seeds.
const HOST_STREAM: u64 = 0x4057;

/// Names the fault schedule's seed.
const FAULT_STREAM: u64 = 0xFA17;
