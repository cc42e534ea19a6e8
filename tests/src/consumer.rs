//! A consumer host: workers that receive, process, publish and delete, with
//! every workshop's answer to what goes wrong on the way.
//!
//! ## The problem
//!
//! A consumer has one job (process the upload, publish the thumbnail,
//! delete the message) and many ways to fail at it: the image service
//! fails for a moment, an upload is corrupt, the consumer crashes between
//! publishing and deleting, it stalls past its visibility timeout, the
//! cluster changes leader under it. And one host runs several workers,
//! which must share what the host receives without one of them sitting
//! on a backlog while another idles.
//!
//! ## The design
//!
//! One host is a fetcher and `workers` workers, as one future (its tasks
//! live in a `JoinSet`, so a crash of the host stops them all):
//!
//! - The **fetcher** receives batches of up to ten messages (SQS's
//!   `MaxNumberOfMessages`) while the host has room, so messages do not sit
//!   in a local buffer while their visibility timeout runs. It places each
//!   one on a worker with Workshop 2's power of two choices (exercise 2.2),
//!   into Workshop 2's stealing deques (exercise 2.3): a worker that runs
//!   dry takes half of another's backlog.
//! - Each **worker** processes with Workshop 1's [`ImageWorker`], which
//!   fails transiently at a seeded rate and can stall. On success it
//!   publishes to the [`FencedGallery`] under its receipt's fencing token
//!   (Workshop 3) and idempotency key (Workshop 4), then deletes the
//!   message. On failure it decides as Workshop 1's dead-letter policy
//!   does (exercise 1.5): a permanent error goes to the dead-letter queue
//!   at once; a retryable one backs off by changing the message's
//!   visibility for [`BackoffPolicy`](workshop1::BackoffPolicy)'s jittered delay (exercise 1.3), the
//!   `retry_after` of exercise 1.4; a retryable one on its last allowed
//!   attempt goes to the dead-letter queue too.
//!
//! Workshop 1's `FailurePolicy` makes that decision over Workshop 1's
//! in-process `WorkQueue`; this queue is reached over a network and
//! answers with receipts of its own, so the same three-way decision is
//! written here against the replicated queue's verbs, in
//! [`Decision::for_failure`], with Workshop 1's [`RetryPolicy`].
//!
//! Every worker has a client of its own: a client has one request
//! outstanding at a time, which is what the exactly-once table assumes.
//!
//! A host returns what it counted when it ends, but a host whose node
//! crashes is stopped mid-run and returns nothing. So it counts as it goes,
//! into a [`ConsumerCounter`] that whoever started it keeps a clone of:
//! the live views read it while the host runs, and the scenario keeps one
//! counter per life of each host and adds them up, killed lives included.
//!
//! ## What is left out
//!
//! Extending the visibility of a message that takes long (a heartbeat of
//! `ChangeMessageVisibility`), and backpressure beyond "receive only while
//! there is room".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coordination::sim::FaultPlan;
use coordination::sim::clock;
use coordination::wait;
use coordination::{
    Attempt, DeadLetterReason, Seed, SimRng, WorkError, WorkItemId, Worker, WorkerId,
};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use workshop1::{ImageWorker, RetryPolicy};
use workshop2::{Candidate, Placement, PowerOfChoices, StealingDeques};

use crate::{ClientError, FencedGallery, Publication, QueueService, ReceivedMessage, Upload, lock};

/// How a consumer host works.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsumerSettings {
    /// Workers on the host, each processing one message at a time.
    pub workers: usize,
    /// The most messages one receive asks for, 1 to 10.
    pub max_messages: usize,
    /// The pause after a receive that found nothing (SQS short polling).
    pub poll_interval: Duration,
    /// Attempts per message (the queue's maximum receive count) and the
    /// backoff between them: Workshop 1's policy.
    pub retry: RetryPolicy,
    /// How the host's image workers misbehave.
    pub faults: FaultPlan,
}

/// What consumers counted: one life of a host, or several added up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages received.
    pub received: u64,
    /// Thumbnails published.
    pub published: u64,
    /// Publications that found the image already published (a redelivery
    /// after a crash between publishing and deleting).
    pub already_published: u64,
    /// Writes refused by the fencing gate (a consumer that stalled past its
    /// visibility timeout).
    pub stale_writes_refused: u64,
    /// Messages deleted.
    pub deleted: u64,
    /// Failures backed off by changing visibility.
    pub backed_off: u64,
    /// Messages the consumers dead-lettered.
    pub dead_lettered: u64,
    /// Deletes, visibility changes and dead-letterings refused because the
    /// consumer no longer held the message.
    pub receipts_outdated: u64,
    /// Messages a worker took from another worker's deque (Workshop 2's
    /// steals).
    pub steals: u64,
    /// Operations that failed otherwise (the cluster unavailable for too
    /// long).
    pub errors: u64,
}

impl std::ops::Add for ConsumerStats {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            received: self.received + other.received,
            published: self.published + other.published,
            already_published: self.already_published + other.already_published,
            stale_writes_refused: self.stale_writes_refused + other.stale_writes_refused,
            deleted: self.deleted + other.deleted,
            backed_off: self.backed_off + other.backed_off,
            dead_lettered: self.dead_lettered + other.dead_lettered,
            receipts_outdated: self.receipts_outdated + other.receipts_outdated,
            steals: self.steals + other.steals,
            errors: self.errors + other.errors,
        }
    }
}

impl std::iter::Sum for ConsumerStats {
    fn sum<I: Iterator<Item = Self>>(lives: I) -> Self {
        lives.fold(Self::default(), |total, life| total + life)
    }
}

/// Where a host counts, as it goes: a clone reads the counts while the
/// host runs, and after its node crashed, when the host returns nothing.
#[derive(Debug, Clone, Default)]
pub struct ConsumerCounter {
    /// The counts so far, shared by the host's fetcher and workers and by
    /// whoever reads them.
    counts: Arc<Mutex<ConsumerStats>>,
}

impl ConsumerCounter {
    /// The counts so far.
    #[must_use]
    pub fn read(&self) -> ConsumerStats {
        *lock(&self.counts)
    }

    /// Counts one stale write the gallery refused from a consumer outside
    /// the hosts, such as a consumer process the JetStream exam paused:
    /// its writes are judged by the same gate, so they count together.
    pub fn count_refused_stale_write(&self) {
        self.add(|stats| stats.stale_writes_refused += 1);
    }

    /// Adds what `count` adds to the counts.
    fn add(&self, count: impl FnOnce(&mut ConsumerStats)) {
        count(&mut lock(&self.counts));
    }
}

/// One consumer host: everything it needs besides its handles on the
/// queue.
#[derive(Debug, Clone)]
pub struct ConsumerHost {
    /// How the host works.
    pub settings: ConsumerSettings,
    /// The gallery the host publishes thumbnails to.
    pub sink: Arc<Mutex<FencedGallery>>,
    /// Where the host counts what it does. Give each life of a host a
    /// counter of its own to read what that life did; hosts that share one
    /// count together.
    pub counter: ConsumerCounter,
    /// Draws every random choice of this life of the host.
    pub seed: Seed,
}

/// What a worker does after a failed attempt: Workshop 1's three-way
/// decision, in the replicated queue's verbs.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Set the message aside now, for this reason.
    DeadLetter(DeadLetterReason),
    /// Hide the message for this long, then let any consumer try again.
    BackOff(Duration),
}

impl Decision {
    /// The decision for a message whose attempt number `attempt` failed
    /// with `error`: a permanent error dead-letters at once; a retryable
    /// one backs off for the policy's jittered delay, unless the attempt was
    /// the last one allowed.
    pub fn for_failure(
        error: &WorkError,
        attempt: Attempt,
        retry: &RetryPolicy,
        jitter: &mut SimRng,
    ) -> Self {
        if !error.is_retryable() {
            Self::DeadLetter(DeadLetterReason::PermanentFailure)
        } else if retry.max_attempts.is_reached_by(attempt) {
            Self::DeadLetter(DeadLetterReason::AttemptsExhausted)
        } else {
            Self::BackOff(retry.backoff.delay(attempt, jitter))
        }
    }
}

/// What a host shares between its fetcher and its workers.
struct Host {
    /// Received messages waiting for a worker: one deque per worker.
    deques: StealingDeques<ReceivedMessage>,
    /// Whether each worker is processing a message now.
    busy: Mutex<Vec<bool>>,
    /// Woken when a message is placed or a worker frees up.
    changed: Notify,
    /// Where the next message goes, and the randomness it uses.
    placement: Mutex<(PowerOfChoices, SimRng)>,
}

impl Host {
    /// Messages placed or in progress, per worker.
    fn outstanding(&self) -> Vec<usize> {
        let busy = lock(&self.busy);
        busy.iter()
            .enumerate()
            .map(|(worker, &busy)| self.deques.len(worker) + usize::from(busy))
            .collect()
    }

    /// Places `message` on a worker's deque.
    fn place(&self, message: ReceivedMessage) {
        let candidates: Vec<Candidate> = self
            .outstanding()
            .into_iter()
            .zip(1..)
            .map(|(outstanding, id)| Candidate {
                worker: WorkerId::new(id),
                outstanding,
            })
            .collect();
        let chosen = {
            let mut placement = lock(&self.placement);
            let (strategy, rng) = &mut *placement;
            strategy.place(WorkItemId::new(message.id.get()), &candidates, rng)
        };
        let position = usize::try_from(chosen.get().saturating_sub(1)).unwrap_or(0);
        self.deques
            .push(position.min(candidates.len() - 1), message);
    }

    /// Waits until `ready` holds, checking again on every change.
    async fn wait_until(&self, ready: impl FnMut() -> bool) {
        wait::wait_until(&self.changed, ready).await;
    }
}

/// Everything a worker needs, besides its client.
struct Work {
    /// The host's shared state.
    host: Arc<Host>,
    /// The gallery.
    sink: Arc<Mutex<FencedGallery>>,
    /// Where the host counts.
    counter: ConsumerCounter,
    /// Attempts and backoff.
    retry: RetryPolicy,
}

/// Runs one consumer host until its node goes down: a fetcher and
/// `host.settings.workers` workers, each with a handle on the queue made by
/// `connect`, publishing to `host.sink` and counting into `host.counter`.
/// `connect` is called with a seed derived from `host.seed` for each
/// handle: the fetcher's first, then each worker's, so every client of the
/// replicated queue draws its own retries.
///
/// Returns what `host.counter` holds when the host ends: every handle
/// reported its node down.
///
/// # Errors
/// [`ConfigError`](coordination::ConfigError) for no workers, or whatever
/// `connect` refuses (a client with no members).
///
/// # Panics
/// When a worker or the fetcher panics (an unfinished exercise): the panic
/// is raised again here, so the test that runs the host sees it.
pub async fn run_consumer<Q: QueueService>(
    host: ConsumerHost,
    mut connect: impl FnMut(Seed) -> Result<Q, coordination::ConfigError>,
) -> Result<ConsumerStats, coordination::ConfigError> {
    let ConsumerHost {
        settings,
        sink,
        counter,
        seed,
    } = host;
    let shared = Arc::new(Host {
        deques: StealingDeques::new(settings.workers)?,
        busy: Mutex::new(vec![false; settings.workers]),
        changed: Notify::new(),
        placement: Mutex::new((PowerOfChoices::new(2)?, seed.derive(PLACEMENT_STREAM).rng())),
    });
    let mut tasks = JoinSet::new();
    let fetcher = connect(seed.derive(0))?;
    tasks.spawn(fetch(
        Arc::clone(&shared),
        fetcher,
        settings,
        counter.clone(),
    ));
    for index in 0..settings.workers {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let client = connect(seed.derive(u64::from(number)))?;
        let work = Work {
            host: Arc::clone(&shared),
            sink: Arc::clone(&sink),
            counter: counter.clone(),
            retry: settings.retry,
        };
        let image_worker = ImageWorker::new(number, settings.faults, seed);
        let rng = seed.derive(JITTER_STREAM + u64::from(number)).rng();
        tasks.spawn(work.run(index, client, image_worker, rng));
    }
    while let Some(finished) = tasks.join_next().await {
        if let Err(error) = finished
            && error.is_panic()
        {
            std::panic::resume_unwind(error.into_panic());
        }
    }
    Ok(counter.read())
}

/// The fetcher: receives while the host has room, and places what it gets.
async fn fetch<Q: QueueService>(
    host: Arc<Host>,
    mut client: Q,
    settings: ConsumerSettings,
    counter: ConsumerCounter,
) {
    let workers = settings.workers;
    loop {
        host.wait_until(|| host.outstanding().iter().sum::<usize>() < workers)
            .await;
        let outstanding: usize = host.outstanding().iter().sum();
        // Up to one message per worker beyond the ones running: enough that a
        // worker that finishes finds its next message waiting.
        let wanted = (2 * workers - outstanding).clamp(1, settings.max_messages);
        match client.receive(wanted).await {
            Ok(messages) if messages.is_empty() => client.pause(settings.poll_interval).await,
            Ok(messages) => {
                counter.add(|stats| stats.received += messages.len() as u64);
                for message in messages {
                    host.place(message);
                }
                host.changed.notify_waiters();
            }
            Err(error) if error.is_client_down() => return,
            Err(_) => {
                counter.add(|stats| stats.errors += 1);
                client.pause(settings.poll_interval).await;
            }
        }
    }
}

impl Work {
    /// Worker number `index + 1`: takes its next message (or steals one),
    /// and handles it, until its node goes down.
    async fn run<Q: QueueService>(
        self,
        index: usize,
        mut client: Q,
        worker: ImageWorker,
        mut rng: SimRng,
    ) {
        loop {
            let mut taken = None;
            let steals_before = self.host.deques.steal_count();
            self.host
                .wait_until(|| {
                    taken = self.host.deques.next(index, &mut rng);
                    if taken.is_some() {
                        lock(&self.host.busy)[index] = true;
                    }
                    taken.is_some()
                })
                .await;
            let steals = self.host.deques.steal_count() - steals_before;
            let Some(message) = taken else {
                continue;
            };
            if steals > 0 {
                self.counter.add(|stats| stats.steals += steals);
            }
            let outcome = self.handle(&message, &mut client, &worker, &mut rng).await;
            lock(&self.host.busy)[index] = false;
            self.host.changed.notify_waiters();
            if let Err(error) = outcome
                && error.is_client_down()
            {
                return;
            }
        }
    }

    /// Processes one message, publishes its thumbnail and deletes it, or
    /// decides what happens after a failure.
    async fn handle<Q: QueueService>(
        &self,
        message: &ReceivedMessage,
        client: &mut Q,
        worker: &ImageWorker,
        rng: &mut SimRng,
    ) -> Result<(), ClientError> {
        let attempt = match Upload::parse(&message.body) {
            Ok(upload) => worker.process(&upload.work_item()).await.map(|()| upload),
            Err(malformed) => Err(malformed),
        };
        let settled = match attempt {
            Ok(upload) => {
                let published = lock(&self.sink).publish(
                    upload.image,
                    message.receipt.fencing_token(),
                    upload.thumbnail(),
                    clock::elapsed(),
                );
                match published {
                    Ok(Publication::Published) => self.counter.add(|stats| stats.published += 1),
                    Ok(Publication::AlreadyPublished) => {
                        self.counter.add(|stats| stats.already_published += 1);
                    }
                    Err(_) => {
                        // Someone received the message after this worker's
                        // visibility timeout ran out: it is theirs to settle.
                        self.counter.add(|stats| stats.stale_writes_refused += 1);
                        return Ok(());
                    }
                }
                let deleted = client.delete(message.receipt).await;
                if deleted.is_ok() {
                    self.counter.add(|stats| stats.deleted += 1);
                }
                deleted
            }
            Err(error) => {
                let attempt = Attempt::new(message.receive_count).unwrap_or(Attempt::FIRST);
                match Decision::for_failure(&error, attempt, &self.retry, rng) {
                    Decision::DeadLetter(reason) => {
                        let done = client.dead_letter(message.receipt, reason, error).await;
                        if done.is_ok() {
                            self.counter.add(|stats| stats.dead_lettered += 1);
                        }
                        done
                    }
                    Decision::BackOff(delay) => {
                        let done = client.change_visibility(message.receipt, delay).await;
                        if done.is_ok() {
                            self.counter.add(|stats| stats.backed_off += 1);
                        }
                        done
                    }
                }
            }
        };
        match settled {
            Err(ClientError::Queue(error)) if error.means_receipt_outdated() => {
                self.counter.add(|stats| stats.receipts_outdated += 1);
                Ok(())
            }
            Err(error) if !error.is_client_down() => {
                self.counter.add(|stats| stats.errors += 1);
                Ok(())
            }
            other => other,
        }
    }
}

/// Names the placement's stream among a host's derived seeds.
const PLACEMENT_STREAM: u64 = 0x91AC;

/// Names the workers' jitter streams among a host's derived seeds.
const JITTER_STREAM: u64 = 0x0B0F_0000;
