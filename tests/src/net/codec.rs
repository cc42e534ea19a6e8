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

/// The longest text or list this codec writes or reads, so a corrupt length
/// never asks for gigabytes.
pub const MAX_LENGTH: u32 = 64 * 1024 * 1024;

/// A value that cannot be written in this format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A text or list longer than [`MAX_LENGTH`]: the other end would refuse
    /// it, and a length cut down to fit would misframe every byte after it.
    #[error("a length of {length} is beyond the limit of {MAX_LENGTH}")]
    TooLong {
        /// The text's bytes or the list's items.
        length: usize,
    },
}

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
    ///
    /// # Errors
    /// [`EncodeError`] when the value has no bytes in this format; `out`
    /// may then hold part of it.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;

    /// Reads one value from the front of `input`, consuming its bytes.
    ///
    /// # Errors
    /// [`DecodeError`] when the bytes are not a value of this type.
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError>;
}

/// The bytes of `value`.
///
/// # Errors
/// [`EncodeError`] when the value has no bytes in this format.
pub fn to_bytes<T: Wire>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    value.encode(&mut out)?;
    Ok(out)
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

/// Declares the tags of an enum's variants, each number once: encoding
/// writes a variant's number and decoding matches it, so the two cannot
/// disagree, and a decoder's `match` on the tag must name every variant.
/// The numbers are the format: changing one changes the bytes of every
/// journal already written.
macro_rules! tags {
    ($(
        $(#[$doc:meta])*
        $name:ident for $what:literal { $($variant:ident = $value:literal),+ $(,)? }
    )+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name {
            $($variant),+
        }

        impl $name {
            /// Writes the tag's byte.
            pub(crate) fn encode(
                self,
                out: &mut Vec<u8>,
            ) -> Result<(), $crate::net::codec::EncodeError> {
                let tag: u8 = match self {
                    $(Self::$variant => $value),+
                };
                $crate::net::codec::Wire::encode(&tag, out)
            }

            /// Reads a tag's byte, refusing one no variant has.
            pub(crate) fn decode(
                input: &mut &[u8],
            ) -> Result<Self, $crate::net::codec::DecodeError> {
                match <u8 as $crate::net::codec::Wire>::decode(input)? {
                    $($value => Ok(Self::$variant),)+
                    tag => Err($crate::net::codec::DecodeError::UnknownTag { what: $what, tag }),
                }
            }
        }
    )+};
}
pub(crate) use tags;

tags! {
    /// Whether an `Option` holds a value.
    OptionTag for "option" { None = 0, Some = 1 }
    /// Which side of a `Result`.
    ResultTag for "result" { Ok = 0, Err = 1 }
    /// [`DeadLetterReason`]'s variants.
    DeadLetterReasonTag for "dead-letter reason" { PermanentFailure = 0, AttemptsExhausted = 1 }
    /// [`WorkError`]'s variants.
    WorkErrorTag for "work error" { Transient = 0, Permanent = 1, TimedOut = 2 }
    /// [`QueueOperation`]'s variants.
    QueueOperationTag for "queue operation" {
        Send = 0, Receive = 1, Delete = 2, ChangeVisibility = 3, DeadLetter = 4, Redrive = 5,
    }
    /// [`Command`]'s variants; `NewTerm` came after `Request`.
    CommandTag for "command" { OpenSession = 0, Request = 1, NewTerm = 2 }
    /// [`AppendOutcome`]'s variants.
    AppendOutcomeTag for "append outcome" { Accepted = 0, Rejected = 1, StaleTerm = 2 }
    /// [`RaftMessage`]'s variants.
    RaftMessageTag for "raft message" {
        RequestVote = 0, Vote = 1, AppendEntries = 2, AppendResponse = 3, Heartbeat = 4,
        HeartbeatResponse = 5,
    }
    /// [`QueueRequest`]'s variants.
    QueueRequestTag for "queue request" { OpenSession = 0, Operation = 1, Report = 2 }
    /// [`SendOutcome`]'s variants.
    SendOutcomeTag for "send outcome" { Queued = 0, Duplicate = 1 }
    /// [`QueueOutput`]'s variants.
    QueueOutputTag for "queue output" {
        Sent = 0, Received = 1, Deleted = 2, VisibilityChanged = 3, DeadLettered = 4,
        Redriven = 5,
    }
    /// [`QueueError`]'s variants.
    QueueErrorTag for "queue error" {
        EmptyBatch = 0, BatchTooLarge = 1, VisibilityTimeoutTooLong = 2, UnknownMessage = 3,
        StaleReceipt = 4, NotInFlight = 5, MessageTooLarge = 6,
    }
    /// [`Role`]'s variants.
    RoleTag for "role" { Follower = 0, Candidate = 1, Leader = 2 }
    /// [`QueueResponse`]'s variants.
    QueueResponseTag for "queue response" {
        SessionOpened = 0, Done = 1, Expired = 2, NotLeader = 3, Report = 4,
    }
    /// [`DurableChange`]'s variants.
    DurableChangeTag for "durable change" { HardState = 0, TruncateFrom = 1, Append = 2 }
}

/// Writes a text's or list's length, refusing one beyond the limit.
fn write_length(length: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match u32::try_from(length) {
        Ok(fits) if fits <= MAX_LENGTH => fits.encode(out),
        _ => Err(EncodeError::TooLong { length }),
    }
}

impl Wire for u8 {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(*self);
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(take(input, 1)?[0])
    }
}

impl Wire for u32 {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.to_be_bytes());
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let bytes = take(input, 4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

impl Wire for u64 {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.to_be_bytes());
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(take(input, 8)?);
        Ok(u64::from_be_bytes(bytes))
    }
}

impl Wire for usize {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        (*self as u64).encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let value = u64::decode(input)?;
        usize::try_from(value).map_err(|_| DecodeError::OutOfRange(value))
    }
}

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        u8::from(*self).encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match u8::decode(input)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::UnknownTag { what: "bool", tag }),
        }
    }
}

impl Wire for Duration {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        u64::try_from(self.as_nanos())
            .unwrap_or(u64::MAX)
            .encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(Duration::from_nanos(u64::decode(input)?))
    }
}

impl Wire for String {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        write_length(self.len(), out)?;
        out.extend_from_slice(self.as_bytes());
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        write_length(self.len(), out)?;
        for item in self {
            item.encode(out)?;
        }
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            None => OptionTag::None.encode(out)?,
            Some(value) => {
                OptionTag::Some.encode(out)?;
                value.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match OptionTag::decode(input)? {
            OptionTag::None => Ok(None),
            OptionTag::Some => Ok(Some(T::decode(input)?)),
        }
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Ok(value) => {
                ResultTag::Ok.encode(out)?;
                value.encode(out)?;
            }
            Err(error) => {
                ResultTag::Err.encode(out)?;
                error.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match ResultTag::decode(input)? {
            ResultTag::Ok => Ok(Ok(T::decode(input)?)),
            ResultTag::Err => Ok(Err(E::decode(input)?)),
        }
    }
}

/// Implements [`Wire`] for a newtype over a number, through its `new` and
/// `get`.
macro_rules! wire_number {
    ($($type:ty: $raw:ty),* $(,)?) => {
        $(
            impl Wire for $type {
                fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                    self.get().encode(out)?;
                    Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.as_str().to_string().encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(DeduplicationId::new(String::decode(input)?))
    }
}

impl Wire for ReceiptHandle {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.message().encode(out)?;
        self.receive().encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(ReceiptHandle::new(
            MessageId::decode(input)?,
            u32::decode(input)?,
        ))
    }
}

impl Wire for DeadLetterReason {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let tag = match self {
            DeadLetterReason::PermanentFailure => DeadLetterReasonTag::PermanentFailure,
            DeadLetterReason::AttemptsExhausted => DeadLetterReasonTag::AttemptsExhausted,
        };
        tag.encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match DeadLetterReasonTag::decode(input)? {
            DeadLetterReasonTag::PermanentFailure => Ok(DeadLetterReason::PermanentFailure),
            DeadLetterReasonTag::AttemptsExhausted => Ok(DeadLetterReason::AttemptsExhausted),
        }
    }
}

impl Wire for WorkError {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            WorkError::Transient { reason } => {
                WorkErrorTag::Transient.encode(out)?;
                reason.encode(out)?;
            }
            WorkError::Permanent { reason } => {
                WorkErrorTag::Permanent.encode(out)?;
                reason.encode(out)?;
            }
            WorkError::TimedOut { after } => {
                WorkErrorTag::TimedOut.encode(out)?;
                after.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match WorkErrorTag::decode(input)? {
            WorkErrorTag::Transient => Ok(WorkError::Transient {
                reason: String::decode(input)?,
            }),
            WorkErrorTag::Permanent => Ok(WorkError::Permanent {
                reason: String::decode(input)?,
            }),
            WorkErrorTag::TimedOut => Ok(WorkError::TimedOut {
                after: Duration::decode(input)?,
            }),
        }
    }
}

impl Wire for NewMessage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.body.encode(out)?;
        self.deduplication_id.encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(NewMessage {
            body: String::decode(input)?,
            deduplication_id: Option::decode(input)?,
        })
    }
}

impl Wire for QueueOperation {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            QueueOperation::Send(messages) => {
                QueueOperationTag::Send.encode(out)?;
                messages.encode(out)?;
            }
            QueueOperation::Receive {
                max_messages,
                visibility_timeout,
            } => {
                QueueOperationTag::Receive.encode(out)?;
                max_messages.encode(out)?;
                visibility_timeout.encode(out)?;
            }
            QueueOperation::Delete(receipt) => {
                QueueOperationTag::Delete.encode(out)?;
                receipt.encode(out)?;
            }
            QueueOperation::ChangeVisibility { receipt, timeout } => {
                QueueOperationTag::ChangeVisibility.encode(out)?;
                receipt.encode(out)?;
                timeout.encode(out)?;
            }
            QueueOperation::DeadLetter {
                receipt,
                reason,
                error,
            } => {
                QueueOperationTag::DeadLetter.encode(out)?;
                receipt.encode(out)?;
                reason.encode(out)?;
                error.encode(out)?;
            }
            QueueOperation::Redrive => QueueOperationTag::Redrive.encode(out)?,
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match QueueOperationTag::decode(input)? {
            QueueOperationTag::Send => QueueOperation::Send(Vec::decode(input)?),
            QueueOperationTag::Receive => QueueOperation::Receive {
                max_messages: usize::decode(input)?,
                visibility_timeout: Option::decode(input)?,
            },
            QueueOperationTag::Delete => QueueOperation::Delete(ReceiptHandle::decode(input)?),
            QueueOperationTag::ChangeVisibility => QueueOperation::ChangeVisibility {
                receipt: ReceiptHandle::decode(input)?,
                timeout: Duration::decode(input)?,
            },
            QueueOperationTag::DeadLetter => QueueOperation::DeadLetter {
                receipt: ReceiptHandle::decode(input)?,
                reason: DeadLetterReason::decode(input)?,
                error: WorkError::decode(input)?,
            },
            QueueOperationTag::Redrive => QueueOperation::Redrive,
        })
    }
}

impl Wire for Command {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Command::OpenSession => CommandTag::OpenSession.encode(out)?,
            Command::NewTerm => CommandTag::NewTerm.encode(out)?,
            Command::Request(request) => {
                CommandTag::Request.encode(out)?;
                request.client.encode(out)?;
                request.sequence.encode(out)?;
                request.operation.at.encode(out)?;
                request.operation.operation.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match CommandTag::decode(input)? {
            CommandTag::OpenSession => Ok(Command::OpenSession),
            CommandTag::NewTerm => Ok(Command::NewTerm),
            CommandTag::Request => Ok(Command::Request(ClientRequest {
                client: ClientId::decode(input)?,
                sequence: SequenceNumber::decode(input)?,
                operation: Stamped {
                    at: Duration::decode(input)?,
                    operation: QueueOperation::decode(input)?,
                },
            })),
        }
    }
}

impl Wire for Entry<Command> {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.index.encode(out)?;
        self.term.encode(out)?;
        self.command.encode(out)?;
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            AppendOutcome::Accepted { match_index } => {
                AppendOutcomeTag::Accepted.encode(out)?;
                match_index.encode(out)?;
            }
            AppendOutcome::Rejected {
                conflict_index,
                conflict_term,
            } => {
                AppendOutcomeTag::Rejected.encode(out)?;
                conflict_index.encode(out)?;
                conflict_term.encode(out)?;
            }
            AppendOutcome::StaleTerm => AppendOutcomeTag::StaleTerm.encode(out)?,
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match AppendOutcomeTag::decode(input)? {
            AppendOutcomeTag::Accepted => AppendOutcome::Accepted {
                match_index: LogIndex::decode(input)?,
            },
            AppendOutcomeTag::Rejected => AppendOutcome::Rejected {
                conflict_index: LogIndex::decode(input)?,
                conflict_term: Option::decode(input)?,
            },
            AppendOutcomeTag::StaleTerm => AppendOutcome::StaleTerm,
        })
    }
}

impl Wire for RaftMessage<Command> {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            RaftMessage::RequestVote(request) => {
                RaftMessageTag::RequestVote.encode(out)?;
                request.term.encode(out)?;
                request.last_log_index.encode(out)?;
                request.last_log_term.encode(out)?;
            }
            RaftMessage::Vote(vote) => {
                RaftMessageTag::Vote.encode(out)?;
                vote.term.encode(out)?;
                vote.granted.encode(out)?;
            }
            RaftMessage::AppendEntries(request) => {
                RaftMessageTag::AppendEntries.encode(out)?;
                request.term.encode(out)?;
                request.prev_log_index.encode(out)?;
                request.prev_log_term.encode(out)?;
                request.entries.encode(out)?;
                request.leader_commit.encode(out)?;
            }
            RaftMessage::AppendResponse(response) => {
                RaftMessageTag::AppendResponse.encode(out)?;
                response.term.encode(out)?;
                response.outcome.encode(out)?;
            }
            RaftMessage::Heartbeat(heartbeat) => {
                RaftMessageTag::Heartbeat.encode(out)?;
                heartbeat.term.encode(out)?;
                heartbeat.commit.encode(out)?;
            }
            RaftMessage::HeartbeatResponse(response) => {
                RaftMessageTag::HeartbeatResponse.encode(out)?;
                response.term.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match RaftMessageTag::decode(input)? {
            RaftMessageTag::RequestVote => RaftMessage::RequestVote(VoteRequest {
                term: Term::decode(input)?,
                last_log_index: LogIndex::decode(input)?,
                last_log_term: Term::decode(input)?,
            }),
            RaftMessageTag::Vote => RaftMessage::Vote(VoteResponse {
                term: Term::decode(input)?,
                granted: bool::decode(input)?,
            }),
            RaftMessageTag::AppendEntries => RaftMessage::AppendEntries(AppendRequest {
                term: Term::decode(input)?,
                prev_log_index: LogIndex::decode(input)?,
                prev_log_term: Term::decode(input)?,
                entries: Vec::decode(input)?,
                leader_commit: LogIndex::decode(input)?,
            }),
            RaftMessageTag::AppendResponse => RaftMessage::AppendResponse(AppendResponse {
                term: Term::decode(input)?,
                outcome: AppendOutcome::decode(input)?,
            }),
            RaftMessageTag::Heartbeat => RaftMessage::Heartbeat(Heartbeat {
                term: Term::decode(input)?,
                commit: LogIndex::decode(input)?,
            }),
            RaftMessageTag::HeartbeatResponse => {
                RaftMessage::HeartbeatResponse(HeartbeatResponse {
                    term: Term::decode(input)?,
                })
            }
        })
    }
}

impl Wire for QueueRequest {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            QueueRequest::OpenSession => QueueRequestTag::OpenSession.encode(out)?,
            QueueRequest::Operation {
                client,
                sequence,
                operation,
            } => {
                QueueRequestTag::Operation.encode(out)?;
                client.encode(out)?;
                sequence.encode(out)?;
                operation.encode(out)?;
            }
            QueueRequest::Report => QueueRequestTag::Report.encode(out)?,
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match QueueRequestTag::decode(input)? {
            QueueRequestTag::OpenSession => QueueRequest::OpenSession,
            QueueRequestTag::Operation => QueueRequest::Operation {
                client: ClientId::decode(input)?,
                sequence: SequenceNumber::decode(input)?,
                operation: QueueOperation::decode(input)?,
            },
            QueueRequestTag::Report => QueueRequest::Report,
        })
    }
}

impl Wire for SendOutcome {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let tag = match self {
            SendOutcome::Queued(_) => SendOutcomeTag::Queued,
            SendOutcome::Duplicate(_) => SendOutcomeTag::Duplicate,
        };
        tag.encode(out)?;
        self.message().encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match SendOutcomeTag::decode(input)? {
            SendOutcomeTag::Queued => SendOutcome::Queued(MessageId::decode(input)?),
            SendOutcomeTag::Duplicate => SendOutcome::Duplicate(MessageId::decode(input)?),
        })
    }
}

impl Wire for ReceivedMessage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.id.encode(out)?;
        self.body.encode(out)?;
        self.receipt.encode(out)?;
        self.receive_count.encode(out)?;
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            QueueOutput::Sent(outcomes) => {
                QueueOutputTag::Sent.encode(out)?;
                outcomes.encode(out)?;
            }
            QueueOutput::Received(messages) => {
                QueueOutputTag::Received.encode(out)?;
                messages.encode(out)?;
            }
            QueueOutput::Deleted => QueueOutputTag::Deleted.encode(out)?,
            QueueOutput::VisibilityChanged { visible_at } => {
                QueueOutputTag::VisibilityChanged.encode(out)?;
                visible_at.encode(out)?;
            }
            QueueOutput::DeadLettered => QueueOutputTag::DeadLettered.encode(out)?,
            QueueOutput::Redriven(count) => {
                QueueOutputTag::Redriven.encode(out)?;
                count.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match QueueOutputTag::decode(input)? {
            QueueOutputTag::Sent => QueueOutput::Sent(Vec::decode(input)?),
            QueueOutputTag::Received => QueueOutput::Received(Vec::decode(input)?),
            QueueOutputTag::Deleted => QueueOutput::Deleted,
            QueueOutputTag::VisibilityChanged => QueueOutput::VisibilityChanged {
                visible_at: Duration::decode(input)?,
            },
            QueueOutputTag::DeadLettered => QueueOutput::DeadLettered,
            QueueOutputTag::Redriven => QueueOutput::Redriven(usize::decode(input)?),
        })
    }
}

impl Wire for QueueError {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            QueueError::EmptyBatch => QueueErrorTag::EmptyBatch.encode(out)?,
            QueueError::BatchTooLarge { requested, limit } => {
                QueueErrorTag::BatchTooLarge.encode(out)?;
                requested.encode(out)?;
                limit.encode(out)?;
            }
            QueueError::VisibilityTimeoutTooLong { requested, limit } => {
                QueueErrorTag::VisibilityTimeoutTooLong.encode(out)?;
                requested.encode(out)?;
                limit.encode(out)?;
            }
            QueueError::UnknownMessage(message) => {
                QueueErrorTag::UnknownMessage.encode(out)?;
                message.encode(out)?;
            }
            QueueError::StaleReceipt { receipt, newest } => {
                QueueErrorTag::StaleReceipt.encode(out)?;
                receipt.encode(out)?;
                newest.encode(out)?;
            }
            QueueError::NotInFlight(receipt) => {
                QueueErrorTag::NotInFlight.encode(out)?;
                receipt.encode(out)?;
            }
            QueueError::MessageTooLarge { bytes, limit } => {
                QueueErrorTag::MessageTooLarge.encode(out)?;
                bytes.encode(out)?;
                limit.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match QueueErrorTag::decode(input)? {
            QueueErrorTag::EmptyBatch => QueueError::EmptyBatch,
            QueueErrorTag::BatchTooLarge => QueueError::BatchTooLarge {
                requested: usize::decode(input)?,
                limit: usize::decode(input)?,
            },
            QueueErrorTag::VisibilityTimeoutTooLong => QueueError::VisibilityTimeoutTooLong {
                requested: Duration::decode(input)?,
                limit: Duration::decode(input)?,
            },
            QueueErrorTag::UnknownMessage => QueueError::UnknownMessage(MessageId::decode(input)?),
            QueueErrorTag::StaleReceipt => QueueError::StaleReceipt {
                receipt: ReceiptHandle::decode(input)?,
                newest: u32::decode(input)?,
            },
            QueueErrorTag::NotInFlight => QueueError::NotInFlight(ReceiptHandle::decode(input)?),
            QueueErrorTag::MessageTooLarge => QueueError::MessageTooLarge {
                bytes: usize::decode(input)?,
                limit: usize::decode(input)?,
            },
        })
    }
}

impl Wire for Role {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let tag = match self {
            Role::Follower => RoleTag::Follower,
            Role::Candidate => RoleTag::Candidate,
            Role::Leader => RoleTag::Leader,
        };
        tag.encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match RoleTag::decode(input)? {
            RoleTag::Follower => Role::Follower,
            RoleTag::Candidate => Role::Candidate,
            RoleTag::Leader => Role::Leader,
        })
    }
}

impl Wire for QueueAttributes {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.visible.encode(out)?;
        self.in_flight.encode(out)?;
        self.dead_lettered.encode(out)?;
        self.sent.encode(out)?;
        self.deleted.encode(out)?;
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.node.encode(out)?;
        self.role.encode(out)?;
        self.term.encode(out)?;
        self.leader.encode(out)?;
        self.commit_index.encode(out)?;
        self.log_length.encode(out)?;
        self.sessions.encode(out)?;
        self.attributes.encode(out)?;
        self.queue_time.encode(out)?;
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            QueueResponse::SessionOpened(client) => {
                QueueResponseTag::SessionOpened.encode(out)?;
                client.encode(out)?;
            }
            QueueResponse::Done(result) => {
                QueueResponseTag::Done.encode(out)?;
                result.encode(out)?;
            }
            QueueResponse::Expired { last } => {
                QueueResponseTag::Expired.encode(out)?;
                last.encode(out)?;
            }
            QueueResponse::NotLeader { leader } => {
                QueueResponseTag::NotLeader.encode(out)?;
                leader.encode(out)?;
            }
            QueueResponse::Report(report) => {
                QueueResponseTag::Report.encode(out)?;
                report.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match QueueResponseTag::decode(input)? {
            QueueResponseTag::SessionOpened => {
                QueueResponse::SessionOpened(ClientId::decode(input)?)
            }
            QueueResponseTag::Done => QueueResponse::Done(Result::decode(input)?),
            QueueResponseTag::Expired => QueueResponse::Expired {
                last: SequenceNumber::decode(input)?,
            },
            QueueResponseTag::NotLeader => QueueResponse::NotLeader {
                leader: Option::decode(input)?,
            },
            QueueResponseTag::Report => QueueResponse::Report(NodeReport::decode(input)?),
        })
    }
}

impl Wire for HardState {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.term.encode(out)?;
        self.voted_for.encode(out)?;
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(HardState {
            term: Term::decode(input)?,
            voted_for: Option::decode(input)?,
        })
    }
}

impl Wire for DurableChange {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            DurableChange::HardState(hard_state) => {
                DurableChangeTag::HardState.encode(out)?;
                hard_state.encode(out)?;
            }
            DurableChange::TruncateFrom(index) => {
                DurableChangeTag::TruncateFrom.encode(out)?;
                index.encode(out)?;
            }
            DurableChange::Append(entries) => {
                DurableChangeTag::Append.encode(out)?;
                entries.encode(out)?;
            }
        }
        Ok(())
    }
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(match DurableChangeTag::decode(input)? {
            DurableChangeTag::HardState => DurableChange::HardState(HardState::decode(input)?),
            DurableChangeTag::TruncateFrom => DurableChange::TruncateFrom(LogIndex::decode(input)?),
            DurableChangeTag::Append => DurableChange::Append(Vec::decode(input)?),
        })
    }
}
