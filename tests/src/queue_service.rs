//! The queue's verbs as the photo service uses them, whatever engine keeps
//! the queue.
//!
//! ## The problem
//!
//! The producers and consumer hosts hold the lessons of the series: the
//! learner's backoff and dead-letter decision, placement and stealing, the
//! fencing gate, the idempotency keys. None of that depends on how the queue
//! is kept. Written against [`QueueClient`] alone, it could only ever run on
//! the series' own Raft-lite, and the claim that the same logic survives on
//! a real engine could not be tested.
//!
//! ## The design
//!
//! [`QueueService`] is the five verbs the service calls (send, receive,
//! delete, change visibility, dead-letter) and the pause a consumer takes
//! when it finds nothing, each answering with the client's own errors, so a
//! consumer's reading of an outcome ("my receipt is outdated", "the cluster
//! is unavailable", "my node is down") is the same on every engine.
//! [`QueueClient`] implements it over any [`Transport`]; with the
//! `jetstream` feature, `JetStreamQueue` implements it on NATS JetStream.
//!
//! ## What is left out
//!
//! Redrive and reports: operators' verbs, which each engine's own type
//! offers.

use std::future::Future;
use std::time::Duration;

use coordination::{DeadLetterReason, WorkError};

use crate::{
    ClientError, NewMessage, QueueClient, ReceiptHandle, ReceivedMessage, SendOutcome, Transport,
};

/// The queue as a producer and a consumer host use it; see the module
/// documentation. One value has one operation outstanding at a time, as a
/// [`QueueClient`] does; a host makes one per worker.
pub trait QueueService: Send + 'static {
    /// Queues up to ten messages, each with its deduplication id.
    fn send(
        &mut self,
        messages: Vec<NewMessage>,
    ) -> impl Future<Output = Result<Vec<SendOutcome>, ClientError>> + Send;

    /// Receives up to `max_messages` messages, hidden from other consumers
    /// for the queue's visibility timeout; none when none is visible.
    fn receive(
        &mut self,
        max_messages: usize,
    ) -> impl Future<Output = Result<Vec<ReceivedMessage>, ClientError>> + Send;

    /// Deletes a message its consumer is done with.
    fn delete(
        &mut self,
        receipt: ReceiptHandle,
    ) -> impl Future<Output = Result<(), ClientError>> + Send;

    /// Hides a message for `timeout` from now, then lets any consumer try
    /// it again: a backoff.
    fn change_visibility(
        &mut self,
        receipt: ReceiptHandle,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), ClientError>> + Send;

    /// Sets a message aside in the dead-letter queue, with why.
    fn dead_letter(
        &mut self,
        receipt: ReceiptHandle,
        reason: DeadLetterReason,
        error: WorkError,
    ) -> impl Future<Output = Result<(), ClientError>> + Send;

    /// Waits `duration` on the clock this service runs on (simulated or
    /// real).
    fn pause(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

impl<T: Transport> QueueService for QueueClient<T> {
    async fn send(&mut self, messages: Vec<NewMessage>) -> Result<Vec<SendOutcome>, ClientError> {
        QueueClient::send(self, messages).await
    }

    async fn receive(&mut self, max_messages: usize) -> Result<Vec<ReceivedMessage>, ClientError> {
        QueueClient::receive(self, max_messages, None).await
    }

    async fn delete(&mut self, receipt: ReceiptHandle) -> Result<(), ClientError> {
        QueueClient::delete(self, receipt).await
    }

    async fn change_visibility(
        &mut self,
        receipt: ReceiptHandle,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        QueueClient::change_visibility(self, receipt, timeout)
            .await
            .map(|_| ())
    }

    async fn dead_letter(
        &mut self,
        receipt: ReceiptHandle,
        reason: DeadLetterReason,
        error: WorkError,
    ) -> Result<(), ClientError> {
        QueueClient::dead_letter(self, receipt, reason, error).await
    }

    async fn pause(&self, duration: Duration) {
        self.transport().sleep(duration).await;
    }
}
