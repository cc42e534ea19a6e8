//! The queue's semantics, on the pure state machine alone: no Raft, no
//! network, no clock but the times each test passes in. These hold on any
//! tree, finished or not: the queue is the capstone's own code.

use std::time::Duration;

use capstone::{
    MAX_MESSAGE_BYTES, MAX_VISIBILITY_TIMEOUT, MessageId, NewMessage, Queue, QueueConfig,
    QueueError, QueueNode, QueueOperation, QueueOutput, QueueRequest, QueueResponse, ReceiptHandle,
    ReceivedMessage, SendOutcome, Stamped,
};
use coordination::{ConfigError, DeadLetterReason, MaxAttempts, WorkError};
use coordination::{NodeId, Seed};
use workshop4::StateMachine;
use workshop4::pipeline::DeduplicationId;
use workshop4::{ClientId, RaftConfig, Role, SequenceNumber};

fn seconds(value: u64) -> Duration {
    Duration::from_secs(value)
}

/// A queue with a 30-second visibility timeout and a maximum receive count
/// of 3.
fn queue() -> Queue {
    let config = QueueConfig::new(seconds(30), MaxAttempts::new(3).expect("3 is not zero"))
        .expect("30 s is a valid visibility timeout");
    Queue::new(config)
}

fn message(body: &str) -> NewMessage {
    NewMessage {
        body: body.to_string(),
        deduplication_id: None,
    }
}

fn deduplicated(body: &str, id: &str) -> NewMessage {
    NewMessage {
        body: body.to_string(),
        deduplication_id: Some(DeduplicationId::new(id)),
    }
}

fn send(queue: &mut Queue, at: Duration, messages: Vec<NewMessage>) -> Vec<SendOutcome> {
    match queue.send(at, &messages) {
        Ok(QueueOutput::Sent(outcomes)) => outcomes,
        other => panic!("a valid send is accepted, got {other:?}"),
    }
}

fn receive(queue: &mut Queue, at: Duration, max: usize) -> Vec<ReceivedMessage> {
    match queue.receive(at, max, None) {
        Ok(QueueOutput::Received(messages)) => messages,
        other => panic!("a valid receive is answered, got {other:?}"),
    }
}

fn bodies(messages: &[ReceivedMessage]) -> Vec<&str> {
    messages
        .iter()
        .map(|message| message.body.as_str())
        .collect()
}

/// Messages come out oldest first, each with a receipt of its first receive
/// and a receive count of 1.
#[test]
fn sent_messages_are_received_oldest_first_with_a_first_receipt() {
    let mut queue = queue();
    let sent = send(&mut queue, seconds(0), vec![message("a"), message("b")]);
    assert_eq!(
        sent,
        [
            SendOutcome::Queued(MessageId::new(1)),
            SendOutcome::Queued(MessageId::new(2))
        ]
    );
    let received = receive(&mut queue, seconds(1), 10);
    assert_eq!(bodies(&received), ["a", "b"]);
    assert_eq!(
        received[0].receipt,
        ReceiptHandle::new(MessageId::new(1), 1)
    );
    assert_eq!(received[0].receive_count, 1);
}

/// A received message is hidden from everyone until its visibility timeout
/// passes, then handed out again with a new receipt and a higher count.
#[test]
fn a_message_not_deleted_comes_back_after_its_visibility_timeout() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("a")]);
    let first = receive(&mut queue, seconds(0), 1);
    assert!(
        receive(&mut queue, seconds(29), 1).is_empty(),
        "hidden for 30 s"
    );
    let again = receive(&mut queue, seconds(30), 1);
    assert_eq!(bodies(&again), ["a"]);
    assert_eq!(again[0].receive_count, 2);
    assert_ne!(again[0].receipt, first[0].receipt);
    assert!(again[0].receipt.fencing_token() > first[0].receipt.fencing_token());
}

/// Only the newest receipt deletes: a consumer whose timeout ran out and
/// whose message went to someone else is refused, and told why.
#[test]
fn only_the_newest_receipt_deletes_a_message() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("a")]);
    let first = receive(&mut queue, seconds(0), 1)[0].receipt;
    let second = receive(&mut queue, seconds(30), 1)[0].receipt;
    let refused = queue.delete(seconds(31), first);
    assert_eq!(
        refused,
        Err(QueueError::StaleReceipt {
            receipt: first,
            newest: 2
        })
    );
    assert!(refused.is_err_and(|error| error.means_receipt_outdated()));
    assert_eq!(queue.delete(seconds(31), second), Ok(QueueOutput::Deleted));
    assert_eq!(
        queue.delete(seconds(32), second),
        Err(QueueError::UnknownMessage(MessageId::new(1)))
    );
    assert_eq!(queue.attributes().depth(), 0);
}

/// As in SQS, a receipt whose timeout ran out still deletes while nobody has
/// received the message since.
#[test]
fn an_expired_receipt_deletes_until_the_message_is_received_again() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("a")]);
    let receipt = receive(&mut queue, seconds(0), 1)[0].receipt;
    assert_eq!(queue.delete(seconds(45), receipt), Ok(QueueOutput::Deleted));
}

/// Changing visibility hides the message for the new timeout counted from
/// the change; zero shows it at once.
#[test]
fn changing_visibility_counts_the_new_timeout_from_now() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("a"), message("b")]);
    let received = receive(&mut queue, seconds(0), 2);
    assert_eq!(
        queue.change_visibility(seconds(10), received[0].receipt, seconds(5)),
        Ok(QueueOutput::VisibilityChanged {
            visible_at: seconds(15)
        })
    );
    queue
        .change_visibility(seconds(10), received[1].receipt, Duration::ZERO)
        .expect("b is in flight");
    assert_eq!(bodies(&receive(&mut queue, seconds(10), 10)), ["b"]);
    assert_eq!(bodies(&receive(&mut queue, seconds(15), 10)), ["a"]);
}

/// A visibility change for a message whose timeout already ran out is
/// refused, as SQS's MessageNotInflight.
#[test]
fn a_visibility_change_after_the_timeout_ran_out_is_refused() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("a")]);
    let receipt = receive(&mut queue, seconds(0), 1)[0].receipt;
    assert_eq!(
        queue.change_visibility(seconds(30), receipt, seconds(5)),
        Err(QueueError::NotInFlight(receipt))
    );
}

/// The redrive policy: a message received the maximum number of times and
/// never deleted goes to the dead-letter queue at its next receive, with its
/// receive count and no error (nobody reported one).
#[test]
fn a_message_received_the_maximum_number_of_times_is_dead_lettered() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("poison")]);
    for round in 0..3 {
        let received = receive(&mut queue, seconds(30 * round), 1);
        assert_eq!(bodies(&received), ["poison"]);
    }
    send(&mut queue, seconds(90), vec![message("b")]);
    let next = receive(&mut queue, seconds(90), 1);
    assert_eq!(bodies(&next), ["b"], "the poison message is skipped");
    let letters: Vec<_> = queue.dead_letters().collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (
            letters[0].receive_count,
            letters[0].reason,
            &letters[0].last_error
        ),
        (3, DeadLetterReason::AttemptsExhausted, &None)
    );
    assert_eq!(queue.attributes().dead_lettered, 1);
}

/// A consumer that knows a message can never succeed dead-letters it at
/// once, with the reason and the error; a redrive brings it back with its
/// receive count reset.
#[test]
fn a_consumer_dead_letters_a_message_and_a_redrive_brings_it_back() {
    let mut queue = queue();
    send(&mut queue, seconds(0), vec![message("corrupt")]);
    let receipt = receive(&mut queue, seconds(0), 1)[0].receipt;
    let error = WorkError::permanent("invalid JPEG header");
    assert_eq!(
        queue.dead_letter(
            seconds(1),
            receipt,
            DeadLetterReason::PermanentFailure,
            error.clone()
        ),
        Ok(QueueOutput::DeadLettered)
    );
    let letter = queue.dead_letters().next().expect("one letter").clone();
    assert_eq!(
        (letter.receive_count, letter.reason, letter.last_error),
        (1, DeadLetterReason::PermanentFailure, Some(error))
    );
    assert_eq!(queue.redrive(seconds(2)), Ok(QueueOutput::Redriven(1)));
    let again = receive(&mut queue, seconds(2), 1);
    assert_eq!(
        (again[0].id, again[0].receive_count),
        (MessageId::new(1), 1)
    );
}

/// A deduplication id seen within five minutes queues nothing and answers
/// with the first message's id; after the window it is forgotten.
#[test]
fn a_repeated_deduplication_id_is_dropped_within_the_window_only() {
    let mut queue = queue();
    let first = send(&mut queue, seconds(0), vec![deduplicated("a", "upload/1")]);
    let repeat = send(
        &mut queue,
        seconds(299),
        vec![deduplicated("a", "upload/1")],
    );
    assert_eq!(repeat, [SendOutcome::Duplicate(first[0].message())]);
    assert_eq!(queue.attributes().sent, 1);
    let later = send(
        &mut queue,
        seconds(300),
        vec![deduplicated("a", "upload/1")],
    );
    assert_eq!(later, [SendOutcome::Queued(MessageId::new(2))]);
}

/// The queue's time never goes back: an operation stamped by a leader whose
/// clock is behind cannot make a hidden message visible early.
#[test]
fn an_operation_stamped_in_the_past_happens_at_the_queue_time() {
    let mut queue = queue();
    send(&mut queue, seconds(100), vec![message("a")]);
    receive(&mut queue, seconds(100), 1);
    assert!(
        receive(&mut queue, seconds(20), 1).is_empty(),
        "stamped at 20 s, applied at the queue's 100 s: the message stays hidden until 130 s"
    );
    assert_eq!(queue.now(), seconds(100));
    assert_eq!(bodies(&receive(&mut queue, seconds(130), 1)), ["a"]);
}

/// Bad requests get typed errors and change nothing.
#[test]
fn bad_batches_and_timeouts_are_refused_with_typed_errors() {
    let mut queue = queue();
    assert_eq!(queue.send(seconds(0), &[]), Err(QueueError::EmptyBatch));
    let eleven: Vec<NewMessage> = (0..11).map(|n| message(&n.to_string())).collect();
    assert_eq!(
        queue.send(seconds(0), &eleven),
        Err(QueueError::BatchTooLarge {
            requested: 11,
            limit: 10
        })
    );
    assert!(matches!(
        queue.receive(seconds(0), 11, None),
        Err(QueueError::BatchTooLarge { .. })
    ));
    assert!(matches!(
        queue.receive(seconds(0), 1, Some(MAX_VISIBILITY_TIMEOUT + seconds(1))),
        Err(QueueError::VisibilityTimeoutTooLong { .. })
    ));
    assert_eq!(queue.attributes().sent, 0);
    assert!(matches!(
        QueueConfig::new(Duration::ZERO, MaxAttempts::new(1).expect("1")),
        Err(ConfigError::ZeroDuration { .. })
    ));
}

/// The attributes count what is visible, what is hidden and what is
/// dead-lettered, at the queue's own time.
#[test]
fn attributes_count_visible_hidden_and_dead_lettered_messages() {
    let mut queue = queue();
    send(
        &mut queue,
        seconds(0),
        vec![message("a"), message("b"), message("c")],
    );
    let received = receive(&mut queue, seconds(0), 2);
    queue
        .dead_letter(
            seconds(0),
            received[1].receipt,
            DeadLetterReason::PermanentFailure,
            WorkError::permanent("corrupt"),
        )
        .expect("b is held by its newest receipt");
    let attributes = queue.attributes();
    assert_eq!(
        (
            attributes.visible,
            attributes.in_flight,
            attributes.dead_lettered
        ),
        (1, 1, 1)
    );
    assert_eq!(attributes.depth(), 2);
}

/// Determinism, the property replication rests on: the same operations in
/// the same order give the same queue and the same answers.
#[test]
fn the_same_operations_give_the_same_queue_and_answers() {
    let operations = [
        (0, QueueOperation::Send(vec![message("a"), message("b")])),
        (
            1,
            QueueOperation::Receive {
                max_messages: 1,
                visibility_timeout: Some(seconds(2)),
            },
        ),
        (
            5,
            QueueOperation::Receive {
                max_messages: 10,
                visibility_timeout: None,
            },
        ),
        (
            6,
            QueueOperation::Delete(ReceiptHandle::new(MessageId::new(1), 2)),
        ),
    ];
    let replay = || {
        let mut queue = queue();
        let answers: Vec<_> = operations
            .iter()
            .map(|(at, operation)| {
                queue.apply(&Stamped {
                    at: seconds(*at),
                    operation: operation.clone(),
                })
            })
            .collect();
        (queue, answers)
    };
    let (first, first_answers) = replay();
    let (second, second_answers) = replay();
    assert_eq!(first, second);
    assert_eq!(first_answers, second_answers);
    assert_eq!(first_answers[3], Ok(QueueOutput::Deleted));
}

/// A body above the size limit is refused with a typed error, and the whole
/// batch with it: nothing is queued.
#[test]
fn a_message_above_the_size_limit_is_refused_and_nothing_queued() {
    let mut queue = queue();
    let large = message(&"x".repeat(MAX_MESSAGE_BYTES + 1));
    assert_eq!(
        queue.send(seconds(0), &[message("fine"), large]),
        Err(QueueError::MessageTooLarge {
            bytes: MAX_MESSAGE_BYTES + 1,
            limit: MAX_MESSAGE_BYTES
        }),
        "a body one byte above the limit must be refused"
    );
    assert_eq!(queue.attributes().sent, 0, "a refused batch queues nothing");
    let largest = message(&"x".repeat(MAX_MESSAGE_BYTES));
    assert_eq!(
        send(&mut queue, seconds(0), vec![largest]).len(),
        1,
        "a body of exactly the limit is taken"
    );
}

/// A node refuses an oversized send before it proposes it: the entry never
/// enters the log, so no replica stores it and no append carries it.
#[test]
fn a_node_refuses_an_oversized_send_before_it_enters_the_log() {
    capstone::testing::exam(|| {
        let mut node: QueueNode<u8> = QueueNode::new(
            NodeId::new(1),
            &[NodeId::new(1)],
            RaftConfig::paper(),
            QueueConfig::standard(),
            Seed::new(1),
            &capstone::DurableState::new(),
        )
        .expect("a cluster of one");
        // A cluster of one elects itself once its election timeout runs out.
        for _ in 0..1000 {
            node.tick();
        }
        assert_eq!(
            node.raft().role(),
            Role::Leader,
            "exercise 4.1: a cluster of one elects itself"
        );
        // The new leader's blank entry goes into the log with this first ready.
        let _ = node.ready();
        let before = node.raft().log().last_index();
        node.request(
            QueueRequest::Operation {
                client: ClientId::new(1),
                sequence: SequenceNumber::new(1),
                operation: QueueOperation::Send(vec![message(&"x".repeat(MAX_MESSAGE_BYTES + 1))]),
            },
            7,
            Duration::ZERO,
        );
        let ready = node.ready();
        assert_eq!(
            node.raft().log().last_index(),
            before,
            "the oversized send must not be proposed"
        );
        assert!(
            matches!(
                ready.replies.as_slice(),
                [(
                    7,
                    QueueResponse::Done(Err(QueueError::MessageTooLarge { .. }))
                )]
            ),
            "the client must be told why at once, got {:?}",
            ready.replies
        );
    });
}
