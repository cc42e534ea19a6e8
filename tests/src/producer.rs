//! A producer: sends the photo service's uploads, ten at a time.
//!
//! A producer works through a list of uploads and remembers, outside its
//! own memory, how far it got (an offset in its input, as a Kafka consumer
//! commits offsets or a batch job checkpoints). It moves the offset only
//! after the queue answered a batch. If it crashes after the queue applied a
//! batch and before the answer came back, the next life of the producer,
//! with a new session, sends the same batch again: the exactly-once table
//! cannot recognise it (another session), but the deduplication ids can, and
//! the queue answers [`SendOutcome::Duplicate`] without queueing anything.

use std::sync::{Arc, Mutex};

use crate::queue_config::MAX_BATCH;
use crate::{ClientError, NewMessage, QueueService, SendOutcome, Upload, lock};

/// How far a producer got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProducerProgress {
    /// How many uploads of its list the queue has acknowledged.
    pub acknowledged: usize,
    /// Messages the queue recognised as sent before, by deduplication id.
    pub duplicates: u64,
    /// Whether the whole list is acknowledged.
    pub finished: bool,
}

/// Where a producer keeps its [`ProducerProgress`], outside its own memory,
/// so that it survives a crash: the next life of the producer goes on from
/// it, and a clone reads it while the producer runs.
#[derive(Debug, Clone, Default)]
pub struct ProgressStore {
    /// The progress, shared by every life of one producer and whoever
    /// reads it.
    progress: Arc<Mutex<ProducerProgress>>,
}

impl ProgressStore {
    /// The progress so far.
    #[must_use]
    pub fn read(&self) -> ProducerProgress {
        *lock(&self.progress)
    }

    /// Records that the queue answered a batch that ends at upload
    /// `acknowledged`, with `duplicates` of its messages sent before.
    fn acknowledge(&self, acknowledged: usize, duplicates: u64) {
        let mut progress = lock(&self.progress);
        progress.acknowledged = acknowledged;
        progress.duplicates += duplicates;
    }

    /// Records that every upload is acknowledged.
    fn finish(&self) {
        lock(&self.progress).finished = true;
    }
}

/// Sends `uploads` from where `store` says, in batches of up to ten,
/// each upload with its deduplication id, until all are acknowledged or the
/// producer's node goes down. A cluster unavailable for long only pauses it:
/// it tries the same batch again.
///
/// # Errors
/// [`ClientError::ClientDown`] when its node went down; the next life goes
/// on from `store`. Any other [`ClientError`] but unavailability is a
/// refused batch, which a well-formed list never gets.
pub async fn run_producer(
    mut client: impl QueueService,
    uploads: Arc<[Upload]>,
    store: ProgressStore,
) -> Result<(), ClientError> {
    loop {
        let start = store.read().acknowledged;
        if start >= uploads.len() {
            store.finish();
            return Ok(());
        }
        let batch = &uploads[start..uploads.len().min(start + MAX_BATCH)];
        let messages = batch
            .iter()
            .map(|upload| NewMessage {
                body: upload.body(),
                deduplication_id: Some(upload.deduplication_id()),
            })
            .collect();
        match client.send(messages).await {
            Ok(outcomes) => {
                let duplicates = outcomes
                    .iter()
                    .filter(|outcome| matches!(outcome, SendOutcome::Duplicate(_)))
                    .count() as u64;
                store.acknowledge(start + batch.len(), duplicates);
            }
            // Unavailable for a minute: the client has already waited with
            // backoff; the batch is tried again, and deduplication makes
            // that safe whatever became of the first try.
            Err(ClientError::Unavailable { .. }) => {}
            // The node is down, or the queue refused a batch it should
            // not have: either way this life of the producer is over.
            Err(error) => return Err(error),
        }
    }
}
