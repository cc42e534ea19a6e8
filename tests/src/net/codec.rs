//! The bytes on the wire and on disk: a small binary encoding of every
//! message, written by hand.
//!
//! ## The format
//!
//! Big-endian fixed-width integers (`u8`, `u32`, `u64`); a `bool` is one
//! byte, 0 or 1; a [`Duration`] is its whole nanoseconds as a `u64`; text is
//! a `u32` byte length and UTF-8; a list is a `u32` count and its items; an
//! `Option` is a tag byte (0 none, 1 some) and the value; an enum is a tag
//! byte, in declaration order, and its fields in declaration order. Nothing
//! is self-describing: both ends run this file.
//!
//! ## Why by hand
//!
//! The types are the workshops' own (Raft's messages, the exactly-once
//! table's requests), and the workshops depend on nothing but `core`; a
//! serialisation crate would have to reach into all of them. The encoding
//! is long (one line per field, each way) but flat, every type is checked by
//! the round-trip tests, and a reader of the capstone can see every byte.
//!
//! ## What is left out
//!
//! Versioning: a node and a client of different builds may not understand
//! each other. A real protocol carries a version in its first frame.

use std::time::Duration;

use coordination::{DeadLetterReason, NodeId, WorkError};
use workshop4::pipeline::DeduplicationId;
use workshop4::{
    AppendOutcome, AppendRequest, AppendResponse, ClientId, ClientRequest, Entry, Heartbeat,
    HeartbeatResponse, LogIndex, RaftMessage, Role, SequenceNumber, Term, VoteRequest,
    VoteResponse,
};

use crate::{
    Command, DurableChange, HardState, MessageId, NewMessage, NodeReport, QueueAttributes,
    QueueError, QueueOperation, QueueOutput, QueueRequest, QueueResponse, ReceiptHandle,
    ReceivedMessage, SendOutcome, Stamped,
};

/// The longest text or list this decoder accepts, so a corrupt length never
/// asks for gigabytes.
const MAX_LENGTH: u32 = 64 * 1024 * 1024;

/// Bytes that are not a value of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes ended in the middle of a value.
    #[error("the bytes end in the middle of a value")]
    UnexpectedEnd,
    /// An enum tag this version does not know.
    #[error("unknown tag {tag} for {what}")]
    UnknownTag {
        /// Which type was being read.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// Text that is not UTF-8.
    #[error("text is not valid UTF-8")]
    NotUtf8,
    /// A length beyond the limit.
    #[error("a length of {0} is beyond the limit")]
    TooLong(u32),
    /// A number that does not fit where it goes.
    #[error("{0} is out of range")]
    OutOfRange(u64),
    /// Bytes left over after a whole value.
    #[error("{0} bytes left over after the value")]
    TrailingBytes(usize),
}

/// A value that can be written to and read from the wire.
pub trait Wire: Sized {
    /// Appends the value's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from the front of `input`, consuming its bytes.
    ///
    /// # Errors
    /// [`DecodeError`] when the bytes are not a value of this type.
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError>;
}

/// The bytes of `value`.
pub fn to_bytes<T: Wire>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

/// The value whose bytes are exactly `bytes`.
///
/// # Errors
/// [`DecodeError`], including [`DecodeError::TrailingBytes`] when `bytes`
/// holds more than one value.
pub fn from_bytes<T: Wire>(mut bytes: &[u8]) -> Result<T, DecodeError> {
    let value = T::decode(&mut bytes)?;
    match bytes.len() {
        0 => Ok(value),
        left => Err(DecodeError::TrailingBytes(left)),
    }
}

/// Takes `count` bytes from the front of `input`.
fn take<'a>(input: &mut &'a [u8], count: usize) -> Result<&'a [u8], DecodeError> {
    if input.len() < count {
        return Err(DecodeError::UnexpectedEnd);
    }
    let (taken, rest) = input.split_at(count);
    *input = rest;
    Ok(taken)
}

/// Reads an enum tag.
fn tag(input: &mut &[u8]) -> Result<u8, DecodeError> {
    u8::decode(input)
}

/// The error for an unknown tag of `what`.
fn unknown<T>(what: &'static str, tag: u8) -> Result<T, DecodeError> {
    Err(DecodeError::UnknownTag { what, tag })
}

impl Wire for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(take(input, 1)?[0])
    }
}

impl Wire for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let bytes = take(input, 4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

impl Wire for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(take(input, 8)?);
        Ok(u64::from_be_bytes(bytes))
    }
}

impl Wire for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u64).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let value = u64::decode(input)?;
        usize::try_from(value).map_err(|_| DecodeError::OutOfRange(value))
    }
}

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        u8::from(*self).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match tag(input)? {
            0 => Ok(false),
            1 => Ok(true),
            other => unknown("bool", other),
        }
    }
}

impl Wire for Duration {
    fn encode(&self, out: &mut Vec<u8>) {
        u64::try_from(self.as_nanos())
            .unwrap_or(u64::MAX)
            .encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(Duration::from_nanos(u64::decode(input)?))
    }
}

impl Wire for String {
    fn encode(&self, out: &mut Vec<u8>) {
        let length = u32::try_from(self.len()).unwrap_or(u32::MAX);
        length.encode(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let length = length(input)?;
        let bytes = take(input, length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::NotUtf8)
    }
}

/// Reads a length, refusing one beyond the limit.
fn length(input: &mut &[u8]) -> Result<usize, DecodeError> {
    let length = u32::decode(input)?;
    if length > MAX_LENGTH {
        return Err(DecodeError::TooLong(length));
    }
    usize::try_from(length).map_err(|_| DecodeError::TooLong(length))
}

impl<T: Wire> Wire for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        u32::try_from(self.len()).unwrap_or(u32::MAX).encode(out);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let count = length(input)?;
        // Each item takes at least a byte: a count above what is left is
        // corrupt, and must not reserve memory for it.
        let mut items = Vec::with_capacity(count.min(input.len()));
        for _ in 0..count {
            items.push(T::decode(input)?);
        }
        Ok(items)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => 0u8.encode(out),
            Some(value) => {
                1u8.encode(out);
                value.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match tag(input)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(input)?)),
            other => unknown("option", other),
        }
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Ok(value) => {
                0u8.encode(out);
                value.encode(out);
            }
            Err(error) => {
                1u8.encode(out);
                error.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match tag(input)? {
            0 => Ok(Ok(T::decode(input)?)),
            1 => Ok(Err(E::decode(input)?)),
            other => unknown("result", other),
        }
    }
}

/// Implements [`Wire`] for a newtype over a number, through its `new` and
/// `get`.
macro_rules! wire_number {
    ($($type:ty: $raw:ty),* $(,)?) => {
        $(
            impl Wire for $type {
                fn encode(&self, out: &mut Vec<u8>) {
                    self.get().encode(out);
                }
                fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
                    Ok(<$type>::new(<$raw>::decode(input)?))
                }
            }
        )*
    };
}

wire_number! {
    NodeId: u32,
    Term: u64,
    LogIndex: u64,
    ClientId: u64,
    SequenceNumber: u64,
    MessageId: u64,
}

impl Wire for DeduplicationId {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().to_string().encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(DeduplicationId::new(String::decode(input)?))
    }
}

impl Wire for ReceiptHandle {
    fn encode(&self, out: &mut Vec<u8>) {
        self.message().encode(out);
        self.receive().encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(ReceiptHandle::new(
            MessageId::decode(input)?,
            u32::decode(input)?,
        ))
    }
}

impl Wire for DeadLetterReason {
    fn encode(&self, out: &mut Vec<u8>) {
        let tag: u8 = match self {
            DeadLetterReason::PermanentFailure => 0,
            DeadLetterReason::AttemptsExhausted => 1,
        };
        tag.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match tag(input)? {
            0 => Ok(DeadLetterReason::PermanentFailure),
            1 => Ok(DeadLetterReason::AttemptsExhausted),
            other => unknown("dead-letter reason", other),
        }
    }
}

impl Wire for WorkError {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            WorkError::Transient { reason } => {
                0u8.encode(out);
                reason.encode(out);
            }
            WorkError::Permanent { reason } => {
                1u8.encode(out);
                reason.encode(out);
            }
            WorkError::TimedOut { after } => {
                2u8.encode(out);
                after.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match tag(input)? {
            0 => Ok(WorkError::Transient {
                reason: String::decode(input)?,
            }),
            1 => Ok(WorkError::Permanent {
                reason: String::decode(input)?,
            }),
            2 => Ok(WorkError::TimedOut {
                after: Duration::decode(input)?,
            }),
            other => unknown("work error", other),
        }
    }
}

impl Wire for NewMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.body.encode(out);
        self.deduplication_id.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(NewMessage {
            body: String::decode(input)?,
            deduplication_id: Option::decode(input)?,
        })
    }
}

impl Wire for QueueOperation {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            QueueOperation::Send(messages) => {
                0u8.encode(out);
                messages.encode(out);
            }
            QueueOperation::Receive {
                max_messages,
                visibility_timeout,
            } => {
                1u8.encode(out);
                max_messages.encode(out);
                visibility_timeout.encode(out);
            }
            QueueOperation::Delete(receipt) => {
                2u8.encode(out);
                receipt.encode(out);
            }
            QueueOperation::ChangeVisibility { receipt, timeout } => {
                3u8.encode(out);
                receipt.encode(out);
                timeout.encode(out);
            }
            QueueOperation::DeadLetter {
                receipt,
                reason,
                error,
            } => {
                4u8.encode(out);
                receipt.encode(out);
                reason.encode(out);
                error.encode(out);
            }
            QueueOperation::Redrive => 5u8.encode(out),
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => QueueOperation::Send(Vec::decode(input)?),
            1 => QueueOperation::Receive {
                max_messages: usize::decode(input)?,
                visibility_timeout: Option::decode(input)?,
            },
            2 => QueueOperation::Delete(ReceiptHandle::decode(input)?),
            3 => QueueOperation::ChangeVisibility {
                receipt: ReceiptHandle::decode(input)?,
                timeout: Duration::decode(input)?,
            },
            4 => QueueOperation::DeadLetter {
                receipt: ReceiptHandle::decode(input)?,
                reason: DeadLetterReason::decode(input)?,
                error: WorkError::decode(input)?,
            },
            5 => QueueOperation::Redrive,
            other => return unknown("queue operation", other),
        })
    }
}

impl Wire for Command {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Command::OpenSession => 0u8.encode(out),
            Command::NewTerm => 2u8.encode(out),
            Command::Request(request) => {
                1u8.encode(out);
                request.client.encode(out);
                request.sequence.encode(out);
                request.operation.at.encode(out);
                request.operation.operation.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match tag(input)? {
            0 => Ok(Command::OpenSession),
            2 => Ok(Command::NewTerm),
            1 => Ok(Command::Request(ClientRequest {
                client: ClientId::decode(input)?,
                sequence: SequenceNumber::decode(input)?,
                operation: Stamped {
                    at: Duration::decode(input)?,
                    operation: QueueOperation::decode(input)?,
                },
            })),
            other => unknown("command", other),
        }
    }
}

impl Wire for Entry<Command> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.index.encode(out);
        self.term.encode(out);
        self.command.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(Entry {
            index: LogIndex::decode(input)?,
            term: Term::decode(input)?,
            command: Command::decode(input)?,
        })
    }
}

impl Wire for AppendOutcome {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            AppendOutcome::Accepted { match_index } => {
                0u8.encode(out);
                match_index.encode(out);
            }
            AppendOutcome::Rejected {
                conflict_index,
                conflict_term,
            } => {
                1u8.encode(out);
                conflict_index.encode(out);
                conflict_term.encode(out);
            }
            AppendOutcome::StaleTerm => 2u8.encode(out),
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => AppendOutcome::Accepted {
                match_index: LogIndex::decode(input)?,
            },
            1 => AppendOutcome::Rejected {
                conflict_index: LogIndex::decode(input)?,
                conflict_term: Option::decode(input)?,
            },
            2 => AppendOutcome::StaleTerm,
            other => return unknown("append outcome", other),
        })
    }
}

impl Wire for RaftMessage<Command> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            RaftMessage::RequestVote(request) => {
                0u8.encode(out);
                request.term.encode(out);
                request.last_log_index.encode(out);
                request.last_log_term.encode(out);
            }
            RaftMessage::Vote(vote) => {
                1u8.encode(out);
                vote.term.encode(out);
                vote.granted.encode(out);
            }
            RaftMessage::AppendEntries(request) => {
                2u8.encode(out);
                request.term.encode(out);
                request.prev_log_index.encode(out);
                request.prev_log_term.encode(out);
                request.entries.encode(out);
                request.leader_commit.encode(out);
            }
            RaftMessage::AppendResponse(response) => {
                3u8.encode(out);
                response.term.encode(out);
                response.outcome.encode(out);
            }
            RaftMessage::Heartbeat(heartbeat) => {
                4u8.encode(out);
                heartbeat.term.encode(out);
                heartbeat.commit.encode(out);
            }
            RaftMessage::HeartbeatResponse(response) => {
                5u8.encode(out);
                response.term.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => RaftMessage::RequestVote(VoteRequest {
                term: Term::decode(input)?,
                last_log_index: LogIndex::decode(input)?,
                last_log_term: Term::decode(input)?,
            }),
            1 => RaftMessage::Vote(VoteResponse {
                term: Term::decode(input)?,
                granted: bool::decode(input)?,
            }),
            2 => RaftMessage::AppendEntries(AppendRequest {
                term: Term::decode(input)?,
                prev_log_index: LogIndex::decode(input)?,
                prev_log_term: Term::decode(input)?,
                entries: Vec::decode(input)?,
                leader_commit: LogIndex::decode(input)?,
            }),
            3 => RaftMessage::AppendResponse(AppendResponse {
                term: Term::decode(input)?,
                outcome: AppendOutcome::decode(input)?,
            }),
            4 => RaftMessage::Heartbeat(Heartbeat {
                term: Term::decode(input)?,
                commit: LogIndex::decode(input)?,
            }),
            5 => RaftMessage::HeartbeatResponse(HeartbeatResponse {
                term: Term::decode(input)?,
            }),
            other => return unknown("raft message", other),
        })
    }
}

impl Wire for QueueRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            QueueRequest::OpenSession => 0u8.encode(out),
            QueueRequest::Operation {
                client,
                sequence,
                operation,
            } => {
                1u8.encode(out);
                client.encode(out);
                sequence.encode(out);
                operation.encode(out);
            }
            QueueRequest::Report => 2u8.encode(out),
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => QueueRequest::OpenSession,
            1 => QueueRequest::Operation {
                client: ClientId::decode(input)?,
                sequence: SequenceNumber::decode(input)?,
                operation: QueueOperation::decode(input)?,
            },
            2 => QueueRequest::Report,
            other => return unknown("queue request", other),
        })
    }
}

impl Wire for SendOutcome {
    fn encode(&self, out: &mut Vec<u8>) {
        let tag: u8 = match self {
            SendOutcome::Queued(_) => 0,
            SendOutcome::Duplicate(_) => 1,
        };
        tag.encode(out);
        self.message().encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => SendOutcome::Queued(MessageId::decode(input)?),
            1 => SendOutcome::Duplicate(MessageId::decode(input)?),
            other => return unknown("send outcome", other),
        })
    }
}

impl Wire for ReceivedMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.id.encode(out);
        self.body.encode(out);
        self.receipt.encode(out);
        self.receive_count.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(ReceivedMessage {
            id: MessageId::decode(input)?,
            body: String::decode(input)?,
            receipt: ReceiptHandle::decode(input)?,
            receive_count: u32::decode(input)?,
        })
    }
}

impl Wire for QueueOutput {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            QueueOutput::Sent(outcomes) => {
                0u8.encode(out);
                outcomes.encode(out);
            }
            QueueOutput::Received(messages) => {
                1u8.encode(out);
                messages.encode(out);
            }
            QueueOutput::Deleted => 2u8.encode(out),
            QueueOutput::VisibilityChanged { visible_at } => {
                3u8.encode(out);
                visible_at.encode(out);
            }
            QueueOutput::DeadLettered => 4u8.encode(out),
            QueueOutput::Redriven(count) => {
                5u8.encode(out);
                count.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => QueueOutput::Sent(Vec::decode(input)?),
            1 => QueueOutput::Received(Vec::decode(input)?),
            2 => QueueOutput::Deleted,
            3 => QueueOutput::VisibilityChanged {
                visible_at: Duration::decode(input)?,
            },
            4 => QueueOutput::DeadLettered,
            5 => QueueOutput::Redriven(usize::decode(input)?),
            other => return unknown("queue output", other),
        })
    }
}

impl Wire for QueueError {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            QueueError::EmptyBatch => 0u8.encode(out),
            QueueError::BatchTooLarge { requested, limit } => {
                1u8.encode(out);
                requested.encode(out);
                limit.encode(out);
            }
            QueueError::VisibilityTimeoutTooLong { requested, limit } => {
                2u8.encode(out);
                requested.encode(out);
                limit.encode(out);
            }
            QueueError::UnknownMessage(message) => {
                3u8.encode(out);
                message.encode(out);
            }
            QueueError::StaleReceipt { receipt, newest } => {
                4u8.encode(out);
                receipt.encode(out);
                newest.encode(out);
            }
            QueueError::NotInFlight(receipt) => {
                5u8.encode(out);
                receipt.encode(out);
            }
            QueueError::MessageTooLarge { bytes, limit } => {
                6u8.encode(out);
                bytes.encode(out);
                limit.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => QueueError::EmptyBatch,
            1 => QueueError::BatchTooLarge {
                requested: usize::decode(input)?,
                limit: usize::decode(input)?,
            },
            2 => QueueError::VisibilityTimeoutTooLong {
                requested: Duration::decode(input)?,
                limit: Duration::decode(input)?,
            },
            3 => QueueError::UnknownMessage(MessageId::decode(input)?),
            4 => QueueError::StaleReceipt {
                receipt: ReceiptHandle::decode(input)?,
                newest: u32::decode(input)?,
            },
            5 => QueueError::NotInFlight(ReceiptHandle::decode(input)?),
            6 => QueueError::MessageTooLarge {
                bytes: usize::decode(input)?,
                limit: usize::decode(input)?,
            },
            other => return unknown("queue error", other),
        })
    }
}

impl Wire for Role {
    fn encode(&self, out: &mut Vec<u8>) {
        let tag: u8 = match self {
            Role::Follower => 0,
            Role::Candidate => 1,
            Role::Leader => 2,
        };
        tag.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => Role::Follower,
            1 => Role::Candidate,
            2 => Role::Leader,
            other => return unknown("role", other),
        })
    }
}

impl Wire for QueueAttributes {
    fn encode(&self, out: &mut Vec<u8>) {
        self.visible.encode(out);
        self.in_flight.encode(out);
        self.dead_lettered.encode(out);
        self.sent.encode(out);
        self.deleted.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(QueueAttributes {
            visible: usize::decode(input)?,
            in_flight: usize::decode(input)?,
            dead_lettered: usize::decode(input)?,
            sent: u64::decode(input)?,
            deleted: u64::decode(input)?,
        })
    }
}

impl Wire for NodeReport {
    fn encode(&self, out: &mut Vec<u8>) {
        self.node.encode(out);
        self.role.encode(out);
        self.term.encode(out);
        self.leader.encode(out);
        self.commit_index.encode(out);
        self.log_length.encode(out);
        self.sessions.encode(out);
        self.attributes.encode(out);
        self.queue_time.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(NodeReport {
            node: NodeId::decode(input)?,
            role: Role::decode(input)?,
            term: Term::decode(input)?,
            leader: Option::decode(input)?,
            commit_index: LogIndex::decode(input)?,
            log_length: u64::decode(input)?,
            sessions: u64::decode(input)?,
            attributes: QueueAttributes::decode(input)?,
            queue_time: Duration::decode(input)?,
        })
    }
}

impl Wire for QueueResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            QueueResponse::SessionOpened(client) => {
                0u8.encode(out);
                client.encode(out);
            }
            QueueResponse::Done(result) => {
                1u8.encode(out);
                result.encode(out);
            }
            QueueResponse::Expired { last } => {
                2u8.encode(out);
                last.encode(out);
            }
            QueueResponse::NotLeader { leader } => {
                3u8.encode(out);
                leader.encode(out);
            }
            QueueResponse::Report(report) => {
                4u8.encode(out);
                report.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => QueueResponse::SessionOpened(ClientId::decode(input)?),
            1 => QueueResponse::Done(Result::decode(input)?),
            2 => QueueResponse::Expired {
                last: SequenceNumber::decode(input)?,
            },
            3 => QueueResponse::NotLeader {
                leader: Option::decode(input)?,
            },
            4 => QueueResponse::Report(NodeReport::decode(input)?),
            other => return unknown("queue response", other),
        })
    }
}

impl Wire for HardState {
    fn encode(&self, out: &mut Vec<u8>) {
        self.term.encode(out);
        self.voted_for.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(HardState {
            term: Term::decode(input)?,
            voted_for: Option::decode(input)?,
        })
    }
}

impl Wire for DurableChange {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            DurableChange::HardState(hard_state) => {
                0u8.encode(out);
                hard_state.encode(out);
            }
            DurableChange::TruncateFrom(index) => {
                1u8.encode(out);
                index.encode(out);
            }
            DurableChange::Append(entries) => {
                2u8.encode(out);
                entries.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match tag(input)? {
            0 => DurableChange::HardState(HardState::decode(input)?),
            1 => DurableChange::TruncateFrom(LogIndex::decode(input)?),
            2 => DurableChange::Append(Vec::decode(input)?),
            other => return unknown("durable change", other),
        })
    }
}
