//! The given code keeps its promises: bad input is refused with typed
//! errors, and the log, the queues and the gallery behave as documented.
//! These tests pass in every state of the workshop; none of them reaches
//! an exercise.

use std::time::Duration;

use coordination::sim::{Message, NetworkConditions, NetworkError, simulate};
use coordination::{NodeId, Seed};
use workshop4::pipeline::{
    Artifact, DeduplicationId, Gallery, IdempotencyKey, ImageId, Job, Stage, StageQueue,
};
use workshop4::testing::{node, node_with_log, term};
use workshop4::{
    Account, AccountError, AccountOperation, ClusterError, Heartbeat, HeartbeatResponse, LogIndex,
    ProposeError, RaftCluster, RaftConfig, RaftConfigError, RaftMessage, RaftNode, Reply, Role,
    SafetyOracle, SafetyViolation, SequenceNumber, StateMachine, StepError,
};

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

/// Timings that cannot work are refused, each with its own error.
#[test]
fn impossible_timings_are_refused() {
    assert_eq!(
        RaftConfig::new(Duration::ZERO, ms(150), ms(300), ms(75)),
        Err(RaftConfigError::ZeroTick),
        "a tick of zero would never let time pass"
    );
    assert!(
        matches!(
            RaftConfig::new(ms(10), ms(155), ms(300), ms(50)),
            Err(RaftConfigError::NotWholeTicks { .. })
        ),
        "155 ms is not a whole number of 10 ms ticks"
    );
    assert!(
        matches!(
            RaftConfig::new(ms(5), ms(300), ms(150), ms(75)),
            Err(RaftConfigError::ReversedElectionTimeout { .. })
        ),
        "an election timeout range from 300 ms down to 150 ms is reversed"
    );
    assert!(
        matches!(
            RaftConfig::new(ms(5), ms(150), ms(300), ms(150)),
            Err(RaftConfigError::HeartbeatNotShorterThanElectionTimeout { .. })
        ),
        "heartbeats as slow as the shortest election timeout let followers stand"
    );
    let paper = RaftConfig::paper();
    assert_eq!(
        (
            paper.tick(),
            paper.election_timeout_min(),
            paper.election_timeout_max(),
            paper.heartbeat_interval()
        ),
        (ms(5), ms(150), ms(300), ms(75)),
        "the paper's timing: 150-300 ms election timeouts, heartbeats well inside"
    );
    assert_eq!(
        paper.election_timeout_ticks(),
        30..=60,
        "150-300 ms in ticks of 5 ms"
    );
}

/// A node must be one of its members, and a history must be one Raft could
/// have produced.
#[test]
fn a_node_outside_its_membership_or_with_an_impossible_history_is_refused() {
    let members = [node(1), node(2), node(3)];
    let stranger = RaftNode::<u64>::new(node(9), &members, RaftConfig::paper(), Seed::new(1));
    assert_eq!(
        stranger.err(),
        Some(RaftConfigError::NotAMember(node(9))),
        "node-9 is not one of the members it was given"
    );
    let backwards = RaftNode::<u64>::new(node(1), &members, RaftConfig::paper(), Seed::new(1))
        .expect("member")
        .with_history(term(3), [(term(2), 1), (term(1), 2)]);
    assert!(
        matches!(backwards, Err(RaftConfigError::ImpossibleHistory { .. })),
        "entry terms never go down along a log"
    );
    let future = RaftNode::<u64>::new(node(1), &members, RaftConfig::paper(), Seed::new(1))
        .expect("member")
        .with_history(term(1), [(term(2), 1)]);
    assert!(
        matches!(future, Err(RaftConfigError::ImpossibleHistory { .. })),
        "no entry can come from a term after the node's own"
    );

    let restored = node_with_log(2, 3, 4, &[1, 1, 3]);
    assert_eq!(
        (
            restored.term(),
            restored.log().last_index(),
            restored.log().last_term()
        ),
        (term(4), LogIndex::new(3), term(3)),
        "a restored node has the term and the log it was given"
    );
    assert_eq!(
        (restored.role(), restored.voted_for()),
        (Role::Follower, None),
        "a restored node starts as a follower that has not voted"
    );
}

/// A node rebuilt after a restart gets its vote back with its history, and
/// only a member can have had it.
#[test]
fn a_restored_vote_must_belong_to_a_member() {
    let restored = node_with_log(2, 3, 4, &[1, 1, 3])
        .with_vote(Some(node(3)))
        .expect("node-3 is a member");
    assert_eq!(
        (restored.term(), restored.voted_for()),
        (term(4), Some(node(3))),
        "the vote of term 4 comes back with the node"
    );
    let stranger = node_with_log(2, 3, 4, &[]).with_vote(Some(node(9)));
    assert_eq!(
        stranger.err(),
        Some(RaftConfigError::NotAMember(node(9))),
        "nobody can have voted for node-9, which is not a member"
    );
}

/// A message from a stranger is refused before anything reads it.
#[test]
fn a_message_from_a_stranger_is_refused() {
    let mut raft = node_with_log(1, 3, 1, &[]);
    let heartbeat = RaftMessage::Heartbeat(Heartbeat {
        term: term(9),
        commit: LogIndex::ZERO,
    });
    assert_eq!(
        raft.step(node(7), heartbeat),
        Err(StepError::UnknownSender { from: node(7) }),
        "node-7 is not a member: its message is refused"
    );
    assert_eq!(raft.term(), term(1), "a stranger's term is not believed");
}

/// Only a leader takes commands; a follower says whom to ask, if it knows.
#[test]
fn a_follower_refuses_proposals() {
    let mut raft = node_with_log(1, 3, 1, &[]);
    let refused = raft.propose(42);
    assert_eq!(
        refused,
        Err(ProposeError::NotLeader { leader: None }),
        "a follower that knows no leader refuses, and says so"
    );
    assert_eq!(
        refused.err().and_then(|error| error.leader_hint()),
        None,
        "no leader is known, so there is nobody to suggest"
    );
    assert!(
        raft.take_messages().is_empty() && raft.take_committed().is_empty(),
        "a refused proposal sends nothing and commits nothing"
    );
}

/// Messages name their kind for counts, and requests are told from
/// responses as the lab counts RPCs.
#[test]
fn messages_have_kinds_and_requests_are_known() {
    let heartbeat: RaftMessage<u64> = RaftMessage::Heartbeat(Heartbeat {
        term: term(2),
        commit: LogIndex::ZERO,
    });
    assert_eq!(heartbeat.kind(), "heartbeat", "counts group by this name");
    assert!(
        heartbeat.is_request() && !heartbeat.is_reply(),
        "a heartbeat asks for an answer"
    );
    let answer: RaftMessage<u64> =
        RaftMessage::HeartbeatResponse(HeartbeatResponse { term: term(2) });
    assert!(
        answer.is_reply() && !answer.is_request(),
        "a heartbeat response answers one, so a network may treat it as a reply"
    );
    assert_eq!(heartbeat.term(), term(2), "every message carries its term");
}

/// The harness refuses nodes it does not have, and a node crashes once.
#[test]
fn the_harness_refuses_unknown_and_crashed_nodes() {
    simulate(async {
        let mut raft: RaftCluster<u64> =
            RaftCluster::new(3, Seed::new(1), NetworkConditions::reliable());
        assert_eq!(
            raft.disconnect(node(9)),
            Err(ClusterError::Network(NetworkError::UnknownNode(node(9)))),
            "node-9 is not in a cluster of three"
        );
        assert!(
            matches!(
                raft.restart(node(3), 0),
                Err(ClusterError::Network(
                    NetworkError::IllegalTransition { .. }
                ))
            ),
            "a running node cannot be restarted"
        );
        assert!(raft.crash(node(3)).is_ok(), "a running node can crash");
        assert!(
            raft.crash(node(3)).is_err(),
            "a crashed node cannot crash again"
        );
        assert!(raft.node(node(3)).is_none(), "a crashed node is not driven");
        assert_eq!(
            raft.propose(node(3), 1),
            Err(ProposeError::NotLeader { leader: None }),
            "a crashed node takes no command"
        );
        assert!(
            raft.restart(node(3), 5).is_ok(),
            "a crashed node comes back from its disk, even one that lost more than it held"
        );
        assert_eq!(
            raft.node(node(3)).map(|state| state.log().last_index()),
            Some(LogIndex::ZERO),
            "node-3 held nothing and lost its whole tail: it comes back empty"
        );
        assert!(raft.check_no_leader().is_ok(), "nothing has run yet");
        assert_eq!(
            raft.members(),
            [node(1), node(2), node(3)],
            "the members are node-1 to node-3"
        );
        let broken = ClusterError::SafetyViolation(SafetyViolation::TwoLeaders {
            term: term(2),
            first: node(1),
            second: node(2),
        });
        assert!(
            broken.is_safety_violation(),
            "two leaders in a term break safety"
        );
        assert!(
            !ClusterError::Network(NetworkError::UnknownNode(NodeId::new(1))).is_safety_violation(),
            "a refused network operation is a mistake of the test, not of Raft"
        );
    });
}

/// The safety oracle names each broken promise with what shows it, and
/// keeps the first.
#[test]
fn the_safety_oracle_names_each_broken_promise() {
    let mut oracle: SafetyOracle<u64> = SafetyOracle::new();
    oracle.observed(node(1), Role::Leader, term(2), LogIndex::ZERO);
    oracle.applied(node(1), LogIndex::new(1), 10);
    oracle.applied(node(2), LogIndex::new(1), 10);
    oracle.observed(node(1), Role::Leader, term(2), LogIndex::new(1));
    oracle.observed(node(3), Role::Leader, term(3), LogIndex::ZERO);
    assert_eq!(
        oracle.check(),
        Ok(()),
        "one leader per term and the same command at index 1 keep every promise"
    );
    assert_eq!(
        oracle.applied_at(LogIndex::new(1)),
        (2, Some(&10)),
        "two nodes applied command 10 at index 1, and the oracle should count both"
    );

    let mut two_leaders = oracle.clone();
    two_leaders.observed(node(2), Role::Leader, term(2), LogIndex::new(1));
    assert_eq!(
        two_leaders.check(),
        Err(SafetyViolation::TwoLeaders {
            term: term(2),
            first: node(1),
            second: node(2),
        }),
        "node-2 leading term 2 after node-1 breaks election safety"
    );

    let mut different = oracle.clone();
    different.applied(node(3), LogIndex::new(1), 11);
    assert!(
        matches!(
            different.check(),
            Err(SafetyViolation::DifferentCommands { index, node: applier, .. })
                if index == LogIndex::new(1) && applier == node(3)
        ),
        "11 at index 1 where others applied 10 breaks state machine safety"
    );

    let mut out_of_order = oracle.clone();
    out_of_order.applied(node(1), LogIndex::new(3), 30);
    assert_eq!(
        out_of_order.check(),
        Err(SafetyViolation::AppliedOutOfOrder {
            node: node(1),
            index: LogIndex::new(3),
            expected: LogIndex::new(2),
        }),
        "index 3 right after index 1 skips one"
    );
    out_of_order.observed(node(1), Role::Follower, term(2), LogIndex::ZERO);
    assert!(
        matches!(
            out_of_order.check(),
            Err(SafetyViolation::AppliedOutOfOrder { .. })
        ),
        "the first violation is kept: what follows it is no longer evidence"
    );

    let mut went_back = oracle.clone();
    went_back.observed(node(1), Role::Follower, term(4), LogIndex::ZERO);
    assert_eq!(
        went_back.check(),
        Err(SafetyViolation::CommitIndexWentBack {
            node: node(1),
            from: LogIndex::new(1),
            to: LogIndex::ZERO,
            term: term(4),
        }),
        "a commit index that moves back uncommits an entry"
    );

    let mut restarted = oracle;
    restarted.restarted(node(1));
    restarted.observed(node(1), Role::Follower, term(2), LogIndex::ZERO);
    restarted.applied(node(1), LogIndex::new(1), 10);
    assert_eq!(
        restarted.check(),
        Ok(()),
        "a restarted node knows nothing committed and applies again from index 1"
    );

    let mut forgotten = restarted;
    forgotten.restarted(node(1));
    forgotten.restarted(node(2));
    forgotten.applied(node(3), LogIndex::new(1), 12);
    assert_eq!(
        forgotten.check(),
        Err(SafetyViolation::DifferentCommands {
            index: LogIndex::new(1),
            node: node(3),
            command: "12".to_owned(),
            other: node(1),
            other_command: "10".to_owned(),
        }),
        "10 was applied at index 1 before every node that applied it restarted: 12 there \
         replaces a committed command, even though no node alive remembers 10"
    );
}

/// The account refuses an overdraft and an overflow, and counts what it
/// applied.
#[test]
fn the_account_refuses_overdrafts_and_overflows() {
    let mut account = Account::new();
    assert_eq!(
        account.apply(&AccountOperation::Deposit(100)),
        Ok(100),
        "a deposit returns the new balance"
    );
    assert_eq!(
        account.apply(&AccountOperation::Withdraw(150)),
        Err(AccountError::InsufficientFunds {
            balance: 100,
            requested: 150
        }),
        "150 cannot be withdrawn from 100"
    );
    assert!(
        matches!(
            account.apply(&AccountOperation::Deposit(u64::MAX)),
            Err(AccountError::Overflow { .. })
        ),
        "a deposit that would overflow the balance is refused"
    );
    assert_eq!(
        (account.balance(), account.operations_applied()),
        (100, 3),
        "refused operations leave the balance alone, and are still counted as applied"
    );
}

/// The output a client is shown: the one its request produced, whether it
/// was applied now or earlier; none for a request the table no longer
/// remembers.
#[test]
fn a_reply_shows_the_output_unless_the_request_expired() {
    let applied: Reply<u64> = Reply::Applied(7);
    let duplicate: Reply<u64> = Reply::Duplicate(7);
    let expired: Reply<u64> = Reply::Expired {
        last: SequenceNumber::new(3),
    };
    assert_eq!(
        (applied.output(), duplicate.output(), expired.output()),
        (Some(&7), Some(&7), None),
        "a retry shows the output of the time it was applied; an expired request shows none"
    );
}

fn job(image: u64) -> Job {
    Job {
        image: ImageId::new(image),
        stage: Stage::Resize,
        input: Artifact::upload(ImageId::new(image)),
    }
}

/// A message not acknowledged within the visibility timeout is delivered
/// again, with a new receipt; an old receipt no longer acknowledges.
#[test]
fn an_unacknowledged_message_comes_back_after_the_visibility_timeout() {
    let mut queue = StageQueue::new(
        Stage::Resize,
        Duration::from_secs(30),
        Duration::from_secs(300),
    );
    queue.send(job(1));
    let first = queue.receive(Duration::ZERO, false).expect("one message");
    assert!(
        !queue.has_visible(),
        "a received message is hidden from other receivers"
    );
    queue.release_expired(Duration::from_secs(29));
    assert!(!queue.has_visible(), "hidden for 30 s");
    queue.release_expired(Duration::from_secs(30));
    let second = queue.receive(Duration::from_secs(30), false).expect("back");
    assert_eq!(
        (second.job, second.attempt),
        (first.job, 2),
        "the same job comes back as its second attempt"
    );
    assert!(
        !queue.acknowledge(first.receipt),
        "an old receipt is refused"
    );
    assert!(
        queue.acknowledge(second.receipt),
        "the current receipt acknowledges"
    );
    assert!(queue.is_empty(), "an acknowledged message is gone");
}

/// A deduplication id drops a second send within the window, and only
/// within it.
#[test]
fn a_deduplication_id_drops_repeats_within_its_window() {
    let mut queue = StageQueue::new(
        Stage::Resize,
        Duration::from_secs(30),
        Duration::from_secs(300),
    );
    let id = DeduplicationId::new("image-1/resize");
    assert!(
        queue.send_deduplicated(job(1), id.clone(), Duration::ZERO),
        "the first send of an id is accepted"
    );
    assert!(
        !queue.send_deduplicated(job(1), id.clone(), Duration::from_secs(299)),
        "a repeat within the 300 s window is dropped"
    );
    assert!(
        queue.send_deduplicated(job(1), id, Duration::from_secs(300)),
        "once the window has passed the id is forgotten"
    );
    assert_eq!(queue.dropped_duplicates(), 1, "one repeat was dropped");
    assert_eq!(
        queue.accepted().get(&ImageId::new(1)),
        Some(&2),
        "image-1 was accepted twice, once per window"
    );
}

/// A repeated idempotency key returns the first post and posts nothing.
#[test]
fn a_repeated_idempotency_key_posts_nothing() {
    let mut gallery = Gallery::new();
    let image = ImageId::new(3);
    let key = IdempotencyKey::new("publish/image-3");
    let first = gallery.publish_once(key.clone(), image, Artifact::upload(image), Duration::ZERO);
    let again = gallery.publish_once(key, image, Artifact::upload(image), Duration::from_secs(5));
    assert_eq!(
        first, again,
        "a repeated key returns the first post instead of posting again"
    );
    gallery.publish(image, Artifact::upload(image), Duration::from_secs(6));
    assert_eq!(
        gallery.posts_per_image().get(&image),
        Some(&2),
        "a publication without a key posts again"
    );
}

/// Stages transform deterministically, in order; publishing transforms
/// nothing.
#[test]
fn stages_are_deterministic_and_ordered() {
    let upload = Artifact::upload(ImageId::new(1));
    assert_eq!(
        Stage::Resize.process(upload),
        Stage::Resize.process(upload),
        "a stage gives the same output for the same input"
    );
    assert_ne!(
        Stage::Resize.process(upload),
        Stage::Decode.process(upload),
        "different stages transform differently"
    );
    assert_eq!(
        Stage::Publish.process(upload),
        upload,
        "publishing transforms nothing"
    );
    let order: Vec<Option<Stage>> = Stage::ALL.iter().map(|stage| stage.next()).collect();
    assert_eq!(
        order,
        [
            Some(Stage::Resize),
            Some(Stage::Thumbnail),
            Some(Stage::Publish),
            None
        ],
        "decode, resize, thumbnail, publish, then nothing"
    );
}
