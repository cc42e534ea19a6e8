//! The bytes on the wire and on disk: every message survives the trip, and
//! bytes that are not a message are refused with a typed error, never a
//! panic. These hold on any tree: the encoding is the capstone's own code.

use std::time::Duration;

use capstone::net::codec::{DecodeError, from_bytes, to_bytes};
use capstone::net::frame::Frame;
use capstone::{
    Command, MessageId, NewMessage, NodeReport, QueueAttributes, QueueError, QueueOperation,
    QueueOutput, QueueRequest, QueueResponse, ReceiptHandle, ReceivedMessage, SendOutcome, Stamped,
};
use coordination::{DeadLetterReason, NodeId, WorkError};
use workshop4::pipeline::DeduplicationId;
use workshop4::{
    AppendOutcome, AppendRequest, AppendResponse, ClientId, ClientRequest, Entry, Heartbeat,
    HeartbeatResponse, LogIndex, RaftMessage, Role, SequenceNumber, Term, VoteRequest,
    VoteResponse,
};

fn receipt() -> ReceiptHandle {
    ReceiptHandle::new(MessageId::new(7), 3)
}

fn operations() -> Vec<QueueOperation> {
    vec![
        QueueOperation::Send(vec![
            NewMessage {
                body: "image-1 120kb".to_string(),
                deduplication_id: Some(DeduplicationId::new("upload/image-1")),
            },
            NewMessage {
                body: "ünïcode ✓".to_string(),
                deduplication_id: None,
            },
        ]),
        QueueOperation::Receive {
            max_messages: 10,
            visibility_timeout: Some(Duration::from_millis(1500)),
        },
        QueueOperation::Receive {
            max_messages: 1,
            visibility_timeout: None,
        },
        QueueOperation::Delete(receipt()),
        QueueOperation::ChangeVisibility {
            receipt: receipt(),
            timeout: Duration::ZERO,
        },
        QueueOperation::DeadLetter {
            receipt: receipt(),
            reason: DeadLetterReason::PermanentFailure,
            error: WorkError::permanent("invalid JPEG header"),
        },
        QueueOperation::DeadLetter {
            receipt: receipt(),
            reason: DeadLetterReason::AttemptsExhausted,
            error: WorkError::TimedOut {
                after: Duration::from_secs(30),
            },
        },
        QueueOperation::Redrive,
    ]
}

fn entry(index: u64, command: Command) -> Entry<Command> {
    Entry {
        index: LogIndex::new(index),
        term: Term::new(2),
        command,
    }
}

fn commands() -> Vec<Command> {
    let mut commands = vec![Command::OpenSession, Command::NewTerm];
    for (sequence, operation) in (1..).zip(operations()) {
        commands.push(Command::Request(ClientRequest {
            client: ClientId::new(4),
            sequence: SequenceNumber::new(sequence),
            operation: Stamped {
                at: Duration::from_nanos(1_700_000_000_123_456_789),
                operation,
            },
        }));
    }
    commands
}

fn frames() -> Vec<Frame> {
    let term = Term::new(5);
    let index = LogIndex::new(9);
    let entries: Vec<Entry<Command>> = (1..)
        .zip(commands())
        .map(|(position, command)| entry(position, command))
        .collect();
    let raft = [
        RaftMessage::RequestVote(VoteRequest {
            term,
            last_log_index: index,
            last_log_term: Term::new(4),
        }),
        RaftMessage::Vote(VoteResponse {
            term,
            granted: true,
        }),
        RaftMessage::AppendEntries(AppendRequest {
            term,
            prev_log_index: index,
            prev_log_term: term,
            entries,
            leader_commit: LogIndex::new(3),
        }),
        RaftMessage::AppendResponse(AppendResponse {
            term,
            outcome: AppendOutcome::Accepted { match_index: index },
        }),
        RaftMessage::AppendResponse(AppendResponse {
            term,
            outcome: AppendOutcome::Rejected {
                conflict_index: index,
                conflict_term: None,
            },
        }),
        RaftMessage::AppendResponse(AppendResponse {
            term,
            outcome: AppendOutcome::StaleTerm,
        }),
        RaftMessage::Heartbeat(Heartbeat {
            term,
            commit: index,
        }),
        RaftMessage::HeartbeatResponse(HeartbeatResponse { term }),
    ];
    let outputs = vec![
        Ok(QueueOutput::Sent(vec![
            SendOutcome::Queued(MessageId::new(1)),
            SendOutcome::Duplicate(MessageId::new(1)),
        ])),
        Ok(QueueOutput::Received(vec![ReceivedMessage {
            id: MessageId::new(7),
            body: "image-7 300kb corrupt".to_string(),
            receipt: receipt(),
            receive_count: 3,
        }])),
        Ok(QueueOutput::Deleted),
        Ok(QueueOutput::VisibilityChanged {
            visible_at: Duration::from_secs(90),
        }),
        Ok(QueueOutput::DeadLettered),
        Ok(QueueOutput::Redriven(4)),
        Err(QueueError::EmptyBatch),
        Err(QueueError::BatchTooLarge {
            requested: 11,
            limit: 10,
        }),
        Err(QueueError::VisibilityTimeoutTooLong {
            requested: Duration::from_secs(50_000),
            limit: Duration::from_secs(43_200),
        }),
        Err(QueueError::UnknownMessage(MessageId::new(7))),
        Err(QueueError::StaleReceipt {
            receipt: receipt(),
            newest: 4,
        }),
        Err(QueueError::NotInFlight(receipt())),
        Err(QueueError::MessageTooLarge {
            bytes: 300_000,
            limit: 262_144,
        }),
    ];
    let mut responses: Vec<QueueResponse> = outputs.into_iter().map(QueueResponse::Done).collect();
    responses.extend([
        QueueResponse::SessionOpened(ClientId::new(12)),
        QueueResponse::Expired {
            last: SequenceNumber::new(8),
        },
        QueueResponse::NotLeader { leader: None },
        QueueResponse::NotLeader {
            leader: Some(NodeId::new(2)),
        },
        QueueResponse::Report(NodeReport {
            node: NodeId::new(1),
            role: Role::Candidate,
            term,
            leader: None,
            commit_index: index,
            log_length: 12,
            sessions: 3,
            attributes: QueueAttributes {
                visible: 1,
                in_flight: 2,
                dead_lettered: 3,
                sent: 40,
                deleted: 34,
            },
            queue_time: Duration::from_millis(1234),
        }),
    ]);
    let mut requests = vec![QueueRequest::OpenSession, QueueRequest::Report];
    requests.extend(
        operations()
            .into_iter()
            .map(|operation| QueueRequest::Operation {
                client: ClientId::new(1),
                sequence: SequenceNumber::new(2),
                operation,
            }),
    );
    let mut frames = vec![Frame::Peer(NodeId::new(3))];
    frames.extend(raft.into_iter().map(Frame::Raft));
    frames.extend(
        (1..)
            .zip(requests)
            .map(|(call, request)| Frame::Request { call, request }),
    );
    frames.extend(
        (1..)
            .zip(responses)
            .map(|(call, response)| Frame::Response { call, response }),
    );
    frames
}

/// Every kind of frame, and everything inside one, decodes to what was
/// encoded.
#[test]
fn every_frame_survives_the_round_trip() {
    for frame in frames() {
        let bytes = to_bytes(&frame);
        assert_eq!(
            from_bytes::<Frame>(&bytes),
            Ok(frame.clone()),
            "{frame:?} did not survive encoding"
        );
    }
}

/// Cut short anywhere, a frame is refused as incomplete, not misread.
#[test]
fn a_frame_cut_short_is_refused_as_incomplete() {
    for frame in frames() {
        let bytes = to_bytes(&frame);
        for length in 0..bytes.len() {
            assert!(
                from_bytes::<Frame>(&bytes[..length]).is_err(),
                "{frame:?} cut to {length} of {} bytes was accepted",
                bytes.len()
            );
        }
    }
}

/// Unknown tags, invalid text, absurd lengths and leftover bytes are typed
/// errors.
#[test]
fn bytes_that_are_not_a_frame_are_refused_with_typed_errors() {
    assert_eq!(
        from_bytes::<Frame>(&[9]),
        Err(DecodeError::UnknownTag {
            what: "frame",
            tag: 9
        })
    );
    let mut invalid_text = vec![0, 0, 0, 2];
    invalid_text.extend([0xff, 0xfe]);
    assert_eq!(
        from_bytes::<String>(&invalid_text),
        Err(DecodeError::NotUtf8)
    );
    assert_eq!(
        from_bytes::<String>(&[0xff, 0xff, 0xff, 0xff]),
        Err(DecodeError::TooLong(u32::MAX))
    );
    let mut extra = to_bytes(&Frame::Peer(NodeId::new(1)));
    extra.push(0);
    assert_eq!(
        from_bytes::<Frame>(&extra),
        Err(DecodeError::TrailingBytes(1))
    );
}

/// Numbers survive at their extremes.
#[test]
fn numbers_survive_at_their_extremes() {
    for value in [0, 1, u64::MAX] {
        assert_eq!(from_bytes::<u64>(&to_bytes(&value)), Ok(value));
    }
    let long = Duration::from_secs(500 * 365 * 24 * 60 * 60);
    assert_eq!(from_bytes::<Duration>(&to_bytes(&long)), Ok(long));
}
