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
    Account, AccountError, AccountOperation, ClusterError, Heartbeat, LogIndex, ProposeError,
    RaftCluster, RaftConfig, RaftConfigError, RaftMessage, RaftNode, Role, StateMachine, StepError,
};

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

/// Timings that cannot work are refused, each with its own error.
#[test]
fn impossible_timings_are_refused() {
    assert_eq!(
        RaftConfig::new(Duration::ZERO, ms(150), ms(300), ms(75)),
        Err(RaftConfigError::ZeroTick)
    );
    assert!(matches!(
        RaftConfig::new(ms(10), ms(155), ms(300), ms(50)),
        Err(RaftConfigError::NotWholeTicks { .. })
    ));
    assert!(matches!(
        RaftConfig::new(ms(5), ms(300), ms(150), ms(75)),
        Err(RaftConfigError::ReversedElectionTimeout { .. })
    ));
    assert!(matches!(
        RaftConfig::new(ms(5), ms(150), ms(300), ms(150)),
        Err(RaftConfigError::HeartbeatNotShorterThanElectionTimeout { .. })
    ));
    let paper = RaftConfig::paper();
    assert_eq!(
        (
            paper.tick(),
            paper.election_timeout_min(),
            paper.election_timeout_max(),
            paper.heartbeat_interval()
        ),
        (ms(5), ms(150), ms(300), ms(75))
    );
    assert_eq!(paper.election_timeout_ticks(), 30..=60);
}

/// A node must be one of its members, and a history must be one Raft could
/// have produced.
#[test]
fn a_node_outside_its_membership_or_with_an_impossible_history_is_refused() {
    let members = [node(1), node(2), node(3)];
    let stranger = RaftNode::<u64>::new(node(9), &members, RaftConfig::paper(), Seed::new(1));
    assert_eq!(stranger.err(), Some(RaftConfigError::NotAMember(node(9))));
    let backwards = RaftNode::<u64>::new(node(1), &members, RaftConfig::paper(), Seed::new(1))
        .expect("member")
        .with_history(term(3), [(term(2), 1), (term(1), 2)]);
    assert!(matches!(
        backwards,
        Err(RaftConfigError::ImpossibleHistory { .. })
    ));
    let future = RaftNode::<u64>::new(node(1), &members, RaftConfig::paper(), Seed::new(1))
        .expect("member")
        .with_history(term(1), [(term(2), 1)]);
    assert!(matches!(
        future,
        Err(RaftConfigError::ImpossibleHistory { .. })
    ));

    let restored = node_with_log(2, 3, 4, &[1, 1, 3]);
    assert_eq!(restored.term(), term(4));
    assert_eq!(restored.log().last_index(), LogIndex::new(3));
    assert_eq!(restored.log().last_term(), term(3));
    assert_eq!(
        (restored.role(), restored.voted_for()),
        (Role::Follower, None)
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
        (term(4), Some(node(3)))
    );
    let stranger = node_with_log(2, 3, 4, &[]).with_vote(Some(node(9)));
    assert_eq!(stranger.err(), Some(RaftConfigError::NotAMember(node(9))));
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
        Err(StepError::UnknownSender { from: node(7) })
    );
    assert_eq!(raft.term(), term(1), "a stranger's term is not believed");
}

/// Only a leader takes commands; a follower says whom to ask, if it knows.
#[test]
fn a_follower_refuses_proposals() {
    let mut raft = node_with_log(1, 3, 1, &[]);
    let refused = raft.propose(42);
    assert_eq!(refused, Err(ProposeError::NotLeader { leader: None }));
    assert_eq!(refused.err().and_then(|error| error.leader_hint()), None);
    assert!(raft.take_messages().is_empty() && raft.take_committed().is_empty());
}

/// Messages name their kind for counts, and requests are told from
/// responses as the lab counts RPCs.
#[test]
fn messages_have_kinds_and_requests_are_known() {
    let heartbeat: RaftMessage<u64> = RaftMessage::Heartbeat(Heartbeat {
        term: term(2),
        commit: LogIndex::ZERO,
    });
    assert_eq!(heartbeat.kind(), "heartbeat");
    assert!(heartbeat.is_request());
    assert_eq!(heartbeat.term(), term(2));
}

/// The harness refuses nodes it does not have, and a node crashes once.
#[test]
fn the_harness_refuses_unknown_and_crashed_nodes() {
    simulate(async {
        let mut raft: RaftCluster<u64> =
            RaftCluster::new(3, Seed::new(1), NetworkConditions::reliable());
        assert_eq!(
            raft.disconnect(node(9)),
            Err(ClusterError::Network(NetworkError::UnknownNode(node(9))))
        );
        assert!(raft.crash(node(3)).is_ok());
        assert!(raft.crash(node(3)).is_err());
        assert!(raft.node(node(3)).is_none());
        assert_eq!(
            raft.propose(node(3), 1),
            Err(ProposeError::NotLeader { leader: None })
        );
        assert!(raft.check_no_leader().is_ok(), "nothing has run yet");
        assert_eq!(raft.members(), [node(1), node(2), node(3)]);
        let broken = ClusterError::SafetyViolation("disagreement".into());
        assert!(broken.is_safety_violation());
        assert!(
            !ClusterError::Network(NetworkError::UnknownNode(NodeId::new(1))).is_safety_violation()
        );
    });
}

/// The account refuses an overdraft and an overflow, and counts what it
/// applied.
#[test]
fn the_account_refuses_overdrafts_and_overflows() {
    let mut account = Account::new();
    assert_eq!(account.apply(&AccountOperation::Deposit(100)), Ok(100));
    assert_eq!(
        account.apply(&AccountOperation::Withdraw(150)),
        Err(AccountError::InsufficientFunds {
            balance: 100,
            requested: 150
        })
    );
    assert!(matches!(
        account.apply(&AccountOperation::Deposit(u64::MAX)),
        Err(AccountError::Overflow { .. })
    ));
    assert_eq!((account.balance(), account.operations_applied()), (100, 3));
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
    assert!(!queue.has_visible());
    queue.release_expired(Duration::from_secs(29));
    assert!(!queue.has_visible(), "hidden for 30 s");
    queue.release_expired(Duration::from_secs(30));
    let second = queue.receive(Duration::from_secs(30), false).expect("back");
    assert_eq!((second.job, second.attempt), (first.job, 2));
    assert!(
        !queue.acknowledge(first.receipt),
        "an old receipt is refused"
    );
    assert!(queue.acknowledge(second.receipt));
    assert!(queue.is_empty());
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
    assert!(queue.send_deduplicated(job(1), id.clone(), Duration::ZERO));
    assert!(!queue.send_deduplicated(job(1), id.clone(), Duration::from_secs(299)));
    assert!(queue.send_deduplicated(job(1), id, Duration::from_secs(300)));
    assert_eq!(queue.dropped_duplicates(), 1);
    assert_eq!(queue.accepted().get(&ImageId::new(1)), Some(&2));
}

/// A repeated idempotency key returns the first post and posts nothing.
#[test]
fn a_repeated_idempotency_key_posts_nothing() {
    let mut gallery = Gallery::new();
    let image = ImageId::new(3);
    let key = IdempotencyKey::new("publish/image-3");
    let first = gallery.publish_once(key.clone(), image, Artifact::upload(image), Duration::ZERO);
    let again = gallery.publish_once(key, image, Artifact::upload(image), Duration::from_secs(5));
    assert_eq!(first, again);
    gallery.publish(image, Artifact::upload(image), Duration::from_secs(6));
    assert_eq!(gallery.posts_per_image().get(&image), Some(&2));
}

/// Stages transform deterministically, in order; publishing transforms
/// nothing.
#[test]
fn stages_are_deterministic_and_ordered() {
    let upload = Artifact::upload(ImageId::new(1));
    assert_eq!(Stage::Resize.process(upload), Stage::Resize.process(upload));
    assert_ne!(Stage::Resize.process(upload), Stage::Decode.process(upload));
    assert_eq!(Stage::Publish.process(upload), upload);
    let order: Vec<Option<Stage>> = Stage::ALL.iter().map(|stage| stage.next()).collect();
    assert_eq!(
        order,
        [
            Some(Stage::Resize),
            Some(Stage::Thumbnail),
            Some(Stage::Publish),
            None
        ]
    );
}
