//! The capstone's queue verbs on a JetStream stream with a pull consumer.
//!
//! ## The design
//!
//! | the capstone's queue | JetStream |
//! |---|---|
//! | the queue, replicated three times | a stream with `num_replicas: 3`, `Limits` retention |
//! | send with a deduplication id | publish with a `Nats-Msg-Id` header, inside the stream's `duplicate_window` |
//! | receive, visibility timeout | fetch from a durable pull consumer; its `ack_wait` |
//! | receipt, receive count | the delivery's stream sequence and its `delivered` count |
//! | delete | acknowledge, waiting for the server's confirmation (double ack) |
//! | change visibility (a backoff) | negative acknowledgement with a delay |
//! | extend visibility | in-progress acknowledgement |
//! | dead-letter | publish to a dead-letter stream (deduplicated by the message's sequence), then terminate |
//! | redrive policy (maximum receives) | `max_deliver` one above it: the extra delivery is dead-lettered, never processed |
//! | redrive | republish every dead letter into the queue's stream, then purge the dead-letter stream |
//!
//! A receipt is `(stream sequence, delivery count)`, the same shape as the
//! capstone's, so the receive count is the fencing token the gallery
//! checks, on this engine too. The delivered message (which carries the
//! subject its acknowledgement goes to) waits in a table the host's fetcher
//! and workers share, until a worker settles it.
//!
//! ## What is left out
//!
//! The max-deliveries advisory (the extra delivery does its work), and
//! consumer-side `backoff` lists: the learner's backoff policy picks each
//! delay, as it does on the series' own queue.

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::stream::{self, Stream};
use async_nats::jetstream::{self, Context};
use coordination::{DeadLetterReason, WorkError};
use futures_util::StreamExt;

use crate::{
    ClientError, DeadLetteredMessage, MessageId, NewMessage, QueueError, QueueService,
    ReceiptHandle, ReceivedMessage, SendOutcome, lock,
};

/// The subject messages are published on.
pub const QUEUE_SUBJECT: &str = "photos.uploads";
/// The subject dead letters are published on.
pub const DEAD_LETTER_SUBJECT: &str = "photos.dead";
/// The queue's stream.
pub const QUEUE_STREAM: &str = "PHOTOS";
/// The dead-letter stream.
pub const DEAD_LETTER_STREAM: &str = "PHOTOS_DEAD";
/// The consumer every host shares.
pub const CONSUMER: &str = "thumbnailers";

/// Headers a dead letter carries.
const REASON_HEADER: &str = "Dead-Letter-Reason";
/// How many times it had been received.
const RECEIVES_HEADER: &str = "Dead-Letter-Receive-Count";
/// Its last error.
const ERROR_HEADER: &str = "Dead-Letter-Error";
/// The queue sequence it had.
const SEQUENCE_HEADER: &str = "Dead-Letter-Sequence";

/// How long one operation waits for the cluster before it counts as
/// unavailable and the service's own retry takes over.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// The queue's settings on JetStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JetStreamSettings {
    /// The visibility timeout: the consumer's `ack_wait`.
    pub ack_wait: Duration,
    /// Receives before the redrive policy dead-letters a message.
    pub max_receives: u32,
    /// Replicas of each stream.
    pub replicas: usize,
    /// How long a deduplication id is remembered.
    pub duplicate_window: Duration,
}

/// Deliveries received and not yet settled, by receipt, shared by a
/// host's fetcher and workers.
type Pending = Arc<Mutex<BTreeMap<ReceiptHandle, jetstream::Message>>>;

/// A handle on the queue on JetStream; see the module documentation. Clone
/// it for each worker of a host: the clones share the deliveries in hand.
#[derive(Clone)]
pub struct JetStreamQueue {
    context: Context,
    consumer: PullConsumer,
    settings: JetStreamSettings,
    /// Deliveries in hand.
    pending: Pending,
}

impl std::fmt::Debug for JetStreamQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamQueue")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How long one request to make the queue waits for an answer. A cluster
/// that has just started has no meta leader for its first second or so,
/// and a request asked then is never answered: with the client's default
/// of 5 s per request, making the queue took 10 s longer than the cluster
/// needed.
const CREATE_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// Creates (or finds) the queue's stream, its dead-letter stream and the
/// shared consumer, retrying while the cluster is not ready (no meta
/// leader yet, or too few servers known for three replicas).
///
/// Each request that makes them waits at most a second for its answer;
/// the handles returned are then looked up through `context`, so they keep
/// its own timeout.
///
/// # Errors
/// [`ClientError::Unavailable`] when they cannot be made within `limit`.
pub async fn create_queue(
    context: &Context,
    settings: JetStreamSettings,
    limit: Duration,
) -> Result<(Stream, Stream, PullConsumer), ClientError> {
    let mut eager = context.clone();
    eager.set_timeout(CREATE_REQUEST_TIMEOUT);
    let started = tokio::time::Instant::now();
    loop {
        let made = match try_create(&eager, settings).await {
            Ok(_) => try_create(context, settings).await,
            Err(last) => Err(last),
        };
        match made {
            Ok(made) => return Ok(made),
            Err(last) if started.elapsed() < limit => {
                let _ = last;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(last) => {
                return Err(ClientError::Unavailable {
                    waited: started.elapsed(),
                    last,
                });
            }
        }
    }
}

/// One try of [`create_queue`].
async fn try_create(
    context: &Context,
    settings: JetStreamSettings,
) -> Result<(Stream, Stream, PullConsumer), String> {
    let queue = context
        .get_or_create_stream(stream::Config {
            name: QUEUE_STREAM.into(),
            subjects: vec![QUEUE_SUBJECT.into()],
            num_replicas: settings.replicas,
            duplicate_window: settings.duplicate_window,
            ..Default::default()
        })
        .await
        .map_err(|error| error.to_string())?;
    let dead = context
        .get_or_create_stream(stream::Config {
            name: DEAD_LETTER_STREAM.into(),
            subjects: vec![DEAD_LETTER_SUBJECT.into()],
            num_replicas: settings.replicas,
            duplicate_window: settings.duplicate_window,
            ..Default::default()
        })
        .await
        .map_err(|error| error.to_string())?;
    let consumer = queue
        .get_or_create_consumer(
            CONSUMER,
            pull::Config {
                durable_name: Some(CONSUMER.into()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: settings.ack_wait,
                // One delivery beyond the maximum: the redrive policy
                // dead-letters it instead of handing it to a worker, so a
                // message whose last holder crashed is not stranded.
                max_deliver: i64::from(settings.max_receives) + 1,
                max_ack_pending: 10_000,
                num_replicas: settings.replicas,
                ..Default::default()
            },
        )
        .await
        .map_err(|error| error.to_string())?;
    Ok((queue, dead, consumer))
}

impl JetStreamQueue {
    /// A handle on the queue through `context`, receiving from `consumer`.
    pub fn new(context: Context, consumer: PullConsumer, settings: JetStreamSettings) -> Self {
        Self {
            context,
            consumer,
            settings,
            pending: Arc::default(),
        }
    }

    /// Tells the queue the message of `receipt` is still being worked on:
    /// its visibility timeout starts again (an in-progress acknowledgement,
    /// SQS's `ChangeMessageVisibility` heartbeat). The message stays in
    /// hand.
    ///
    /// # Errors
    /// As [`QueueService::delete`].
    pub async fn extend_visibility(&mut self, receipt: ReceiptHandle) -> Result<(), ClientError> {
        let message = lock(&self.pending)
            .get(&receipt)
            .cloned()
            .ok_or(unknown(receipt))?;
        within(message.ack_with(AckKind::Progress)).await
    }

    /// The delivery of `receipt`, taken out of the table: every caller
    /// settles it, one way or another.
    fn in_hand(&self, receipt: ReceiptHandle) -> Result<jetstream::Message, ClientError> {
        lock(&self.pending).remove(&receipt).ok_or(unknown(receipt))
    }

    /// Publishes a dead letter for the delivery `message` (once, whoever
    /// sends it: its id is the queue sequence), then terminates it.
    async fn bury(
        &self,
        message: &jetstream::Message,
        receipt: ReceiptHandle,
        reason: DeadLetterReason,
        error: Option<&WorkError>,
    ) -> Result<(), ClientError> {
        let mut headers = HeaderMap::new();
        let sequence = receipt.message().get().to_string();
        headers.insert("Nats-Msg-Id", format!("dead/{sequence}").as_str());
        headers.insert(SEQUENCE_HEADER, sequence.as_str());
        headers.insert(REASON_HEADER, reason_name(reason));
        headers.insert(
            RECEIVES_HEADER,
            receipt.fencing_token().get().to_string().as_str(),
        );
        if let Some(error) = error {
            headers.insert(ERROR_HEADER, error.to_string().replace(['\r', '\n'], " "));
        }
        let published = self
            .context
            .publish_with_headers(DEAD_LETTER_SUBJECT, headers, message.payload.clone())
            .await
            .map_err(unavailable)?;
        within(async { published.await.map(|_| ()) }).await?;
        within(message.ack_with(AckKind::Term)).await
    }
}

impl QueueService for JetStreamQueue {
    async fn send(&mut self, messages: Vec<NewMessage>) -> Result<Vec<SendOutcome>, ClientError> {
        let mut acks = Vec::with_capacity(messages.len());
        for message in messages {
            let mut headers = HeaderMap::new();
            if let Some(id) = &message.deduplication_id {
                headers.insert("Nats-Msg-Id", id.to_string().as_str());
            }
            let ack = self
                .context
                .publish_with_headers(QUEUE_SUBJECT, headers, message.body.into_bytes().into())
                .await
                .map_err(unavailable)?;
            acks.push(ack);
        }
        let mut outcomes = Vec::with_capacity(acks.len());
        for ack in acks {
            let ack = within(ack).await?;
            let id = MessageId::new(ack.sequence);
            outcomes.push(if ack.duplicate {
                SendOutcome::Duplicate(id)
            } else {
                SendOutcome::Queued(id)
            });
        }
        Ok(outcomes)
    }

    async fn receive(&mut self, max_messages: usize) -> Result<Vec<ReceivedMessage>, ClientError> {
        let batch = self
            .consumer
            .fetch()
            .max_messages(max_messages.max(1))
            .messages();
        let mut batch = within(batch).await?;
        let mut received = Vec::new();
        while let Some(message) = within_option(batch.next()).await? {
            let message = message.map_err(unavailable)?;
            let (sequence, delivered) = {
                let info = message.info().map_err(unavailable)?;
                (info.stream_sequence, info.delivered)
            };
            let receives = u32::try_from(delivered).unwrap_or(u32::MAX);
            let receipt = ReceiptHandle::new(MessageId::new(sequence), receives);
            if receives > self.settings.max_receives {
                // The redrive policy: received the maximum number of times
                // and never deleted.
                self.bury(&message, receipt, DeadLetterReason::AttemptsExhausted, None)
                    .await?;
                continue;
            }
            let body = String::from_utf8_lossy(&message.payload).into_owned();
            lock(&self.pending).insert(receipt, message);
            received.push(ReceivedMessage {
                id: receipt.message(),
                body,
                receipt,
                receive_count: receives,
            });
        }
        Ok(received)
    }

    async fn delete(&mut self, receipt: ReceiptHandle) -> Result<(), ClientError> {
        let message = self.in_hand(receipt)?;
        within(message.double_ack()).await
    }

    async fn change_visibility(
        &mut self,
        receipt: ReceiptHandle,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        let message = self.in_hand(receipt)?;
        within(message.ack_with(AckKind::Nak(Some(timeout)))).await
    }

    async fn dead_letter(
        &mut self,
        receipt: ReceiptHandle,
        reason: DeadLetterReason,
        error: WorkError,
    ) -> Result<(), ClientError> {
        let message = self.in_hand(receipt)?;
        self.bury(&message, receipt, reason, Some(&error)).await
    }

    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Every dead letter in `dead`, by the queue sequence of its message.
///
/// # Errors
/// [`ClientError::Unavailable`] when the stream cannot be read.
pub async fn dead_letters(
    dead: &mut Stream,
) -> Result<BTreeMap<MessageId, DeadLetteredMessage>, ClientError> {
    let last = within(dead.info()).await?.state.last_sequence;
    let mut letters = BTreeMap::new();
    for sequence in 1..=last {
        let Ok(message) = within(dead.get_raw_message(sequence)).await else {
            // Purged by a redrive.
            continue;
        };
        let header = |name: &str| {
            message
                .headers
                .get(name)
                .map(|value| value.as_str().to_string())
        };
        let id = MessageId::new(
            header(SEQUENCE_HEADER)
                .and_then(|text| text.parse().ok())
                .unwrap_or(0),
        );
        let reason = match header(REASON_HEADER).as_deref() {
            Some("permanent") => DeadLetterReason::PermanentFailure,
            _ => DeadLetterReason::AttemptsExhausted,
        };
        letters.insert(
            id,
            DeadLetteredMessage {
                id,
                body: String::from_utf8_lossy(&message.payload).into_owned(),
                receive_count: header(RECEIVES_HEADER)
                    .and_then(|text| text.parse().ok())
                    .unwrap_or(0),
                reason,
                last_error: header(ERROR_HEADER).map(WorkError::permanent),
                dead_lettered_at: Duration::ZERO,
            },
        );
    }
    Ok(letters)
}

/// Moves every dead letter back into the queue under a new deduplication
/// id, then empties the dead-letter stream; returns how many.
///
/// # Errors
/// [`ClientError::Unavailable`].
pub async fn redrive(context: &Context, dead: &mut Stream) -> Result<usize, ClientError> {
    let letters = dead_letters(dead).await?;
    for (id, letter) in &letters {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("redriven/{id}").as_str());
        let ack = context
            .publish_with_headers(
                QUEUE_SUBJECT,
                headers,
                letter.body.clone().into_bytes().into(),
            )
            .await
            .map_err(unavailable)?;
        within(ack).await?;
    }
    within(dead.purge()).await?;
    Ok(letters.len())
}

/// The name a reason travels under.
fn reason_name(reason: DeadLetterReason) -> &'static str {
    match reason {
        DeadLetterReason::PermanentFailure => "permanent",
        DeadLetterReason::AttemptsExhausted => "exhausted",
    }
}

/// `operation`, given [`OPERATION_TIMEOUT`]; a timeout or an error from
/// the client reads as the cluster being unavailable, which the service's
/// callers already handle (retry, or let the visibility timeout run out).
async fn within<T, E: std::fmt::Display>(
    operation: impl IntoFuture<Output = Result<T, E>>,
) -> Result<T, ClientError> {
    match tokio::time::timeout(OPERATION_TIMEOUT, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(unavailable(error)),
        Err(_) => Err(ClientError::Unavailable {
            waited: OPERATION_TIMEOUT,
            last: "no answer from the cluster".into(),
        }),
    }
}

/// As [`within`], for the next item of a stream.
async fn within_option<T>(next: impl Future<Output = Option<T>>) -> Result<Option<T>, ClientError> {
    within(async { Ok::<_, std::convert::Infallible>(next.await) }).await
}

/// A client error as unavailability.
fn unavailable(error: impl std::fmt::Display) -> ClientError {
    ClientError::Unavailable {
        waited: Duration::ZERO,
        last: error.to_string(),
    }
}

/// The error for a receipt the queue does not hold: already settled, or
/// never received here.
fn unknown(receipt: ReceiptHandle) -> ClientError {
    ClientError::Queue(QueueError::UnknownMessage(receipt.message()))
}
