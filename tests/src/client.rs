//! A queue client: sessions, sequence numbers, leader discovery and retries.
//!
//! ## The problem
//!
//! A client talks to a cluster whose leader changes, over a network that
//! loses requests and answers. It does not know which node leads; the node
//! it asked may not lead any more; a request that timed out may have been
//! applied. Everything that makes the queue safe to use from such a client
//! is here.
//!
//! ## The design
//!
//! - **Redirects.** The client sends to the node it believes leads. A
//!   follower answers [`QueueResponse::NotLeader`] with the leader it knows
//!   of, and the client goes there at once; with no leader known, or no
//!   answer, it tries the next member after a pause.
//! - **Retries that are safe.** Every operation carries the client's session
//!   id and a sequence number, and a retry repeats both, to whichever node
//!   leads by then: the exactly-once table (Workshop 4, exercise 4.4)
//!   answers it without applying it twice.
//! - **Backoff.** The pause between misses is Workshop 1's
//!   [`BackoffPolicy`] (exercise 1.3): exponential, capped, with full
//!   jitter, so a room full of clients does not hammer a cluster that is
//!   electing a leader.
//!
//! It does its I/O through a [`Transport`]: the simulated network in tests,
//! TCP between processes. One client has at most one request outstanding,
//! which is what the exactly-once table assumes; a consumer with four
//! workers runs five clients.
//!
//! ## What is left out
//!
//! Pipelining several requests per session, and closing sessions.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use coordination::{Attempt, ConfigError, DeadLetterReason, NodeId, Seed, SimRng, WorkError};
use rand::RngExt;
use tokio::time::Instant;
use workshop1::BackoffPolicy;
use workshop4::{ClientId, SequenceNumber};

use crate::{
    NewMessage, NodeReport, QueueError, QueueOperation, QueueOutput, QueueRequest, QueueResponse,
    ReceiptHandle, ReceivedMessage, SendOutcome,
};

/// How a client reaches queue nodes, and waits.
///
/// Implemented by the simulated network's node handle (so a crashed client
/// stops, and a paused one waits) and by the TCP client.
pub trait Transport: Clone + Send + Sync + 'static {
    /// Sends `request` to node `to` and waits up to `timeout` for its answer.
    fn call(
        &self,
        to: NodeId,
        request: QueueRequest,
        timeout: Duration,
    ) -> impl Future<Output = Result<QueueResponse, TransportError>> + Send;

    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Why a call brought no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No answer in time: the request may or may not have been applied.
    #[error("no answer from {to} within {after:?}")]
    TimedOut {
        /// The node called.
        to: NodeId,
        /// How long the client waited.
        after: Duration,
    },
    /// The node could not be reached (a refused connection, an unknown
    /// address), or the connection broke before the answer came. Like a
    /// timeout, the request may or may not have been applied if it was
    /// sent; a retry must be safe.
    #[error("cannot reach {to}: {reason}")]
    Unreachable {
        /// The node called.
        to: NodeId,
        /// What went wrong.
        reason: String,
    },
    /// The client's own process is gone (a crashed simulated node): it must
    /// stop.
    #[error("this client's node is down")]
    ClientDown,
}

impl TransportError {
    /// Whether trying again, perhaps elsewhere, can help: yes, unless the
    /// client itself is down.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::ClientDown)
    }
}

/// Why a client operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The queue refused the operation.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// No leader answered for this long: the cluster has no majority, or
    /// this client is cut off from it.
    #[error("no leader answered within {waited:?}; last: {last}")]
    Unavailable {
        /// How long the client tried.
        waited: Duration,
        /// The last thing that went wrong.
        last: String,
    },
    /// The client's own process is gone.
    #[error("this client's node is down")]
    ClientDown,
    /// A node answered with something that does not answer the request: a
    /// bug in the node or a mismatched protocol.
    #[error("unexpected answer to a {request} request: {answer}")]
    Unexpected {
        /// What was asked.
        request: &'static str,
        /// What came back, as debug text.
        answer: String,
    },
}

impl ClientError {
    /// Whether the client should stop altogether: its own node is down.
    pub fn is_client_down(&self) -> bool {
        matches!(self, Self::ClientDown)
    }
}

/// How patient a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSettings {
    /// How long one call waits for its answer.
    pub call_timeout: Duration,
    /// The pause after a miss (no answer, or no leader known), by how many
    /// misses in a row.
    pub backoff: BackoffPolicy,
    /// How long an operation keeps trying before it reports the cluster
    /// unavailable.
    pub give_up_after: Duration,
}

impl ClientSettings {
    /// Settings for a cluster on the Raft paper's timing: a call waits
    /// 150 ms (a commit takes a 5 ms tick and a round trip, a few tens of
    /// milliseconds on the simulated network), pauses after a miss start at
    /// 20 ms and grow to 1 s, and an operation gives up after 60 s. A reply
    /// held back longer than the call waits is lost to it: the retry is
    /// answered from the exactly-once table.
    ///
    /// # Errors
    /// Only if Workshop 1's backoff policy refuses a base below its cap,
    /// which it must not: the error says the exercise is wrong.
    pub fn standard() -> Result<Self, ConfigError> {
        Ok(Self {
            call_timeout: Duration::from_millis(150),
            backoff: BackoffPolicy::new(Duration::from_millis(20), Duration::from_secs(1))?,
            give_up_after: Duration::from_secs(60),
        })
    }
}

/// What a client counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Calls made, retries and redirects included.
    pub calls: u64,
    /// Calls that brought no answer in time.
    pub timeouts: u64,
    /// Answers that named another node as leader.
    pub redirects: u64,
}

impl std::ops::AddAssign for ClientStats {
    fn add_assign(&mut self, other: Self) {
        self.calls += other.calls;
        self.timeouts += other.timeouts;
        self.redirects += other.redirects;
    }
}

/// A client of the replicated queue; see the module documentation.
pub struct QueueClient<T> {
    /// How it reaches the nodes.
    transport: T,
    /// The queue's nodes.
    members: Vec<NodeId>,
    /// The node it believes leads.
    leader: Option<NodeId>,
    /// Where the rotation over members goes next when no leader is known.
    next_member: usize,
    /// Its session, once opened.
    session: Option<ClientId>,
    /// The number of its last request.
    sequence: SequenceNumber,
    /// Its patience.
    settings: ClientSettings,
    /// Draws the jitter of its pauses.
    rng: SimRng,
    /// What it counted.
    stats: ClientStats,
}

impl<T> fmt::Debug for QueueClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueClient")
            .field("leader", &self.leader)
            .field("session", &self.session)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> QueueClient<T> {
    /// A client of the queue on `members`, reached through `transport`,
    /// its jitter drawn from `seed`.
    ///
    /// # Errors
    /// [`ConfigError::NoWorkers`] when `members` is empty: there is nobody
    /// to ask.
    pub fn new(
        transport: T,
        members: &[NodeId],
        settings: ClientSettings,
        seed: Seed,
    ) -> Result<Self, ConfigError> {
        if members.is_empty() {
            return Err(ConfigError::NoWorkers);
        }
        let mut rng = seed.rng();
        Ok(Self {
            transport,
            next_member: rng.random_range(0..members.len()),
            members: members.to_vec(),
            leader: None,
            session: None,
            sequence: SequenceNumber::new(0),
            settings,
            rng,
            stats: ClientStats::default(),
        })
    }

    /// How it reaches the nodes, and waits.
    pub(crate) fn transport(&self) -> &T {
        &self.transport
    }

    /// What it counted so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Its session, once opened.
    pub fn session(&self) -> Option<ClientId> {
        self.session
    }

    /// Sends up to 10 messages in one request.
    ///
    /// # Errors
    /// [`ClientError`]; [`QueueError::EmptyBatch`] or
    /// [`QueueError::BatchTooLarge`] for a bad batch.
    pub async fn send(
        &mut self,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<SendOutcome>, ClientError> {
        match self.operate(QueueOperation::Send(messages)).await? {
            QueueOutput::Sent(outcomes) => Ok(outcomes),
            other => Err(unexpected("send", &other)),
        }
    }

    /// Receives up to `max_messages` messages, hidden from other consumers
    /// for `visibility_timeout` (the queue's default for `None`); none when
    /// none is visible.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn receive(
        &mut self,
        max_messages: usize,
        visibility_timeout: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, ClientError> {
        let operation = QueueOperation::Receive {
            max_messages,
            visibility_timeout,
        };
        match self.operate(operation).await? {
            QueueOutput::Received(messages) => Ok(messages),
            other => Err(unexpected("receive", &other)),
        }
    }

    /// Deletes a message the client is done with.
    ///
    /// # Errors
    /// [`ClientError`]; a [`QueueError`] whose
    /// [`means_receipt_outdated`](QueueError::means_receipt_outdated) when
    /// the client no longer holds the message.
    pub async fn delete(&mut self, receipt: ReceiptHandle) -> Result<(), ClientError> {
        match self.operate(QueueOperation::Delete(receipt)).await? {
            QueueOutput::Deleted => Ok(()),
            other => Err(unexpected("delete", &other)),
        }
    }

    /// Hides a message for `timeout` from now; returns when it becomes
    /// visible, in queue time.
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    pub async fn change_visibility(
        &mut self,
        receipt: ReceiptHandle,
        timeout: Duration,
    ) -> Result<Duration, ClientError> {
        let operation = QueueOperation::ChangeVisibility { receipt, timeout };
        match self.operate(operation).await? {
            QueueOutput::VisibilityChanged { visible_at } => Ok(visible_at),
            other => Err(unexpected("change visibility", &other)),
        }
    }

    /// Sets a message aside in the dead-letter queue.
    ///
    /// # Errors
    /// As [`delete`](Self::delete).
    pub async fn dead_letter(
        &mut self,
        receipt: ReceiptHandle,
        reason: DeadLetterReason,
        error: WorkError,
    ) -> Result<(), ClientError> {
        let operation = QueueOperation::DeadLetter {
            receipt,
            reason,
            error,
        };
        match self.operate(operation).await? {
            QueueOutput::DeadLettered => Ok(()),
            other => Err(unexpected("dead-letter", &other)),
        }
    }

    /// Moves every dead-lettered message back into the queue; returns how
    /// many.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn redrive(&mut self) -> Result<usize, ClientError> {
        match self.operate(QueueOperation::Redrive).await? {
            QueueOutput::Redriven(count) => Ok(count),
            other => Err(unexpected("redrive", &other)),
        }
    }

    /// Asks `node` how it is, once, without retrying.
    ///
    /// # Errors
    /// [`ClientError::Unavailable`] when it does not answer in time.
    pub async fn report(&mut self, node: NodeId) -> Result<NodeReport, ClientError> {
        self.stats.calls += 1;
        let answer = self
            .transport
            .call(node, QueueRequest::Report, self.settings.call_timeout)
            .await;
        match answer {
            Ok(QueueResponse::Report(report)) => Ok(report),
            Ok(other) => Err(ClientError::Unexpected {
                request: "report",
                answer: format!("{other:?}"),
            }),
            Err(TransportError::ClientDown) => Err(ClientError::ClientDown),
            Err(error) => Err(ClientError::Unavailable {
                waited: self.settings.call_timeout,
                last: error.to_string(),
            }),
        }
    }

    /// Applies `operation` once: opens a session first if there is none,
    /// then numbers the request and sends it until a leader answers.
    async fn operate(&mut self, operation: QueueOperation) -> Result<QueueOutput, ClientError> {
        let client = match self.session {
            Some(client) => client,
            None => {
                let client = match self.call_leader(QueueRequest::OpenSession).await? {
                    QueueResponse::SessionOpened(client) => client,
                    other => {
                        return Err(ClientError::Unexpected {
                            request: "open session",
                            answer: format!("{other:?}"),
                        });
                    }
                };
                self.session = Some(client);
                client
            }
        };
        self.sequence = self.sequence.next();
        let request = QueueRequest::Operation {
            client,
            sequence: self.sequence,
            operation,
        };
        match self.call_leader(request).await? {
            QueueResponse::Done(result) => Ok(result?),
            other => Err(ClientError::Unexpected {
                request: "queue",
                answer: format!("{other:?}"),
            }),
        }
    }

    /// Sends `request` to the leader, following redirects and retrying the
    /// same request after every miss, until a leader answers or the client
    /// gives up.
    async fn call_leader(&mut self, request: QueueRequest) -> Result<QueueResponse, ClientError> {
        let started = Instant::now();
        let mut misses = 0;
        // Two followers that each name the other (each heard of a leader
        // that has since lost) would bounce the client for ever without a
        // pause: after a round of redirects, a redirect counts as a miss.
        let mut redirects_in_a_row = 0;
        loop {
            let target = match self.leader {
                Some(leader) => leader,
                None => self.next_member(),
            };
            self.stats.calls += 1;
            let answer = self
                .transport
                .call(target, request.clone(), self.settings.call_timeout)
                .await;
            let miss = match answer {
                Ok(QueueResponse::NotLeader {
                    leader: Some(leader),
                }) if leader != target && redirects_in_a_row < self.members.len() => {
                    self.stats.redirects += 1;
                    redirects_in_a_row += 1;
                    self.leader = Some(leader);
                    continue;
                }
                Ok(QueueResponse::NotLeader { leader }) => {
                    format!("{target} does not lead (it knows of {leader:?})")
                }
                Ok(QueueResponse::Expired { last: applied }) => {
                    // Only a copy of an old request gets this, and the client
                    // has moved on from it: the newest request is numbered
                    // higher than anything applied, so this cannot happen to
                    // it. Report it rather than loop.
                    return Err(ClientError::Unexpected {
                        request: "queue",
                        answer: format!("expired, the last applied being {applied}"),
                    });
                }
                Ok(response) => {
                    self.leader = Some(target);
                    return Ok(response);
                }
                Err(TransportError::ClientDown) => return Err(ClientError::ClientDown),
                Err(error) => {
                    if matches!(error, TransportError::TimedOut { .. }) {
                        self.stats.timeouts += 1;
                    }
                    error.to_string()
                }
            };
            self.leader = None;
            redirects_in_a_row = 0;
            misses += 1;
            if started.elapsed() >= self.settings.give_up_after {
                return Err(ClientError::Unavailable {
                    waited: started.elapsed(),
                    last: miss,
                });
            }
            let attempt = Attempt::new(misses).unwrap_or(Attempt::FIRST);
            let pause = self.settings.backoff.delay(attempt, &mut self.rng);
            self.transport.sleep(pause).await;
        }
    }

    /// The next member in the rotation.
    fn next_member(&mut self) -> NodeId {
        let member = self.members[self.next_member % self.members.len()];
        self.next_member = self.next_member.wrapping_add(1);
        member
    }
}

/// The error for an answer of the wrong kind.
fn unexpected(request: &'static str, answer: &QueueOutput) -> ClientError {
    ClientError::Unexpected {
        request,
        answer: format!("{answer:?}"),
    }
}
