//! Exercise 4.1: elections. Edit `workshop4/src/election.rs`.
//!
//! Read `workshop4/README.md`, "Implement", 4.1. Run just these tests with
//! `cargo test -p workshop4 --test workshop ex4_1_election`. The first tests step
//! messages into one node by hand; the last ones run whole clusters on the
//! simulated network, after the Raft lab's election tests (6.5840, 3A).

use std::collections::BTreeSet;
use std::time::Duration;

use coordination::Seed;
use coordination::sim::simulate;
use rand::RngExt;
use workshop4::testing::{cluster, expect_ok, for_each_seed, node, node_with_log, term};
use workshop4::{Heartbeat, LogIndex, RaftMessage, RaftNode, Role, VoteRequest, VoteResponse};

const LESSON: &str = "exercise 4.1 (election)";

/// Ticks `node` until it stands for election; returns how many ticks that
/// took.
fn ticks_until_candidate(raft: &mut RaftNode<u64>) -> u32 {
    for ticks in 1..=1_000 {
        raft.tick();
        if raft.role() == Role::Candidate {
            return ticks;
        }
    }
    panic!(
        "{LESSON}: {} never became a candidate in 1,000 ticks; when `elapsed_ticks` reaches the \
         election timeout, `start_election` must make it one",
        raft.id()
    );
}

fn vote_request(candidate_term: u64, last_log_index: u64, last_log_term: u64) -> RaftMessage<u64> {
    RaftMessage::RequestVote(VoteRequest {
        term: term(candidate_term),
        last_log_index: LogIndex::new(last_log_index),
        last_log_term: term(last_log_term),
    })
}

fn granted(candidate_term: u64) -> RaftMessage<u64> {
    RaftMessage::Vote(VoteResponse {
        term: term(candidate_term),
        granted: true,
    })
}

/// The vote `voter` sent in answer to the last request, if any.
fn vote_sent(voter: &mut RaftNode<u64>) -> Option<VoteResponse> {
    voter
        .take_messages()
        .into_iter()
        .find_map(|(_, message)| match message {
            RaftMessage::Vote(vote) => Some(vote),
            _ => None,
        })
}

/// A follower that hears nothing stands for the next term within its
/// election timeout, votes for itself, and asks every peer for its vote.
#[test]
fn a_silent_follower_stands_for_the_next_term_and_asks_every_peer() {
    let mut raft = node_with_log(1, 3, 2, &[1, 2]);
    let ticks = ticks_until_candidate(&mut raft);
    assert!(
        (30..=60).contains(&ticks),
        "{LESSON}: the election timeout is 150-300 ms, 30-60 ticks of 5 ms, but the node stood \
         after {ticks} ticks"
    );
    assert_eq!(
        raft.term(),
        term(3),
        "{LESSON}: a candidate stands for the term after its own"
    );
    assert_eq!(
        raft.voted_for(),
        Some(node(1)),
        "{LESSON}: a candidate votes for itself"
    );
    let requests: Vec<_> = raft.take_messages();
    let expected = VoteRequest {
        term: term(3),
        last_log_index: LogIndex::new(2),
        last_log_term: term(2),
    };
    assert_eq!(
        requests,
        vec![
            (node(2), RaftMessage::RequestVote(expected)),
            (node(3), RaftMessage::RequestVote(expected))
        ],
        "{LESSON}: every peer gets a RequestVote with the candidate's term and the index and \
         term of its last entry"
    );
}

/// Election timeouts are drawn at random across the whole range, and drawn
/// again for every election, so that candidates rarely collide twice.
#[test]
fn election_timeouts_are_random_and_drawn_again_for_every_election() {
    let mut first_timeouts = BTreeSet::new();
    for id in 1..=40 {
        let mut raft = RaftNode::<u64>::new(
            node(1),
            &[node(1), node(2), node(3)],
            workshop4::RaftConfig::paper(),
            Seed::new(id),
        )
        .expect("node-1 is a member");
        let first = ticks_until_candidate(&mut raft);
        let second = ticks_until_candidate_again(&mut raft);
        let third = ticks_until_candidate_again(&mut raft);
        first_timeouts.insert(first);
        assert!(
            !(first == second && second == third),
            "{LESSON}: seed {id} timed out after {first}, {second} and {third} ticks: draw a new \
             timeout for every election (reset the election timer when you stand)"
        );
    }
    assert!(
        first_timeouts.len() >= 15,
        "{LESSON}: 40 nodes drew only {} different timeouts ({first_timeouts:?}); draw uniformly \
         from `config.election_timeout_ticks()`",
        first_timeouts.len()
    );
    assert!(
        first_timeouts.iter().all(|ticks| (30..=60).contains(ticks)),
        "{LESSON}: every timeout must lie in 30-60 ticks, got {first_timeouts:?}"
    );
}

/// Ticks a candidate until it stands again, in the next term.
fn ticks_until_candidate_again(raft: &mut RaftNode<u64>) -> u32 {
    let standing = raft.term();
    for ticks in 1..=1_000 {
        raft.tick();
        if raft.term() > standing {
            return ticks;
        }
    }
    panic!(
        "{LESSON}: a candidate that wins no votes must stand again when its election timeout \
         passes; {} stayed in {standing} for 1,000 ticks",
        raft.id()
    );
}

/// A node votes at most once per term; asking again for the same candidate
/// is answered the same way.
#[test]
fn a_node_votes_for_one_candidate_per_term() {
    let mut voter = node_with_log(1, 3, 1, &[1]);
    voter.step(node(2), vote_request(2, 1, 1)).expect("member");
    assert_eq!(
        vote_sent(&mut voter),
        Some(VoteResponse {
            term: term(2),
            granted: true
        }),
        "{LESSON}: node-2 is the first to ask in term 2 and its log is as up to date: grant it"
    );
    voter.step(node(3), vote_request(2, 1, 1)).expect("member");
    assert_eq!(
        vote_sent(&mut voter),
        Some(VoteResponse {
            term: term(2),
            granted: false
        }),
        "{LESSON}: node-1 already voted for node-2 in term 2; a second vote in one term could \
         elect two leaders"
    );
    voter.step(node(2), vote_request(2, 1, 1)).expect("member");
    assert_eq!(
        vote_sent(&mut voter).map(|vote| vote.granted),
        Some(true),
        "{LESSON}: a repeated request from the candidate you voted for (its first answer may be \
         lost) gets the same yes"
    );
    voter.step(node(3), vote_request(3, 1, 1)).expect("member");
    assert_eq!(
        vote_sent(&mut voter),
        Some(VoteResponse {
            term: term(3),
            granted: true
        }),
        "{LESSON}: term 3 is a new term with a fresh vote"
    );
}

/// A vote goes only to a candidate whose log is at least as up to date:
/// later last term wins, and with equal last terms the longer log
/// (section 5.4.1).
#[test]
fn a_vote_goes_only_to_a_candidate_at_least_as_up_to_date() {
    // The voter's log: terms 1, 1, 2 (last index 3, last term 2).
    let cases = [
        (
            (5, 1),
            false,
            "a longer log of an older last term is less up to date",
        ),
        ((2, 2), false, "same last term, shorter log"),
        ((3, 2), true, "same last term, same length: as up to date"),
        ((4, 2), true, "same last term, longer log"),
        ((1, 3), true, "a later last term wins however short the log"),
    ];
    for ((last_index, last_term), expected, why) in cases {
        let mut voter = node_with_log(1, 3, 4, &[1, 1, 2]);
        voter
            .step(node(2), vote_request(5, last_index, last_term))
            .expect("member");
        assert_eq!(
            vote_sent(&mut voter).map(|vote| vote.granted),
            Some(expected),
            "{LESSON}: voter log terms [1, 1, 2], candidate's last entry at index {last_index} \
             of term {last_term}: {why}"
        );
    }
}

/// A message from a later term turns any node into a follower of that term;
/// a request from an earlier term is answered with the current term and
/// refused.
#[test]
fn term_rules_depose_the_old_and_refuse_the_stale() {
    let mut raft = node_with_log(1, 3, 5, &[]);
    raft.step(node(2), vote_request(3, 9, 3)).expect("member");
    assert_eq!(
        vote_sent(&mut raft),
        Some(VoteResponse {
            term: term(5),
            granted: false
        }),
        "{LESSON}: a candidate of term 3 is stale for a node in term 5: refuse, and answer with \
         term 5 so it steps down"
    );
    assert_eq!(
        raft.term(),
        term(5),
        "{LESSON}: a stale term changes nothing"
    );

    ticks_until_candidate(&mut raft);
    assert_eq!(
        raft.term(),
        term(6),
        "{LESSON}: a node of term 5 that stands does so for term 6"
    );
    raft.step(
        node(3),
        RaftMessage::Heartbeat(Heartbeat {
            term: term(8),
            commit: LogIndex::ZERO,
        }),
    )
    .expect("member");
    assert_eq!(
        (raft.role(), raft.term(), raft.leader()),
        (Role::Follower, term(8), Some(node(3))),
        "{LESSON}: a candidate of term 6 that hears a leader of term 8 moves to term 8 as its \
         follower"
    );
    assert_eq!(
        raft.voted_for(),
        None,
        "{LESSON}: moving to a new term frees the vote"
    );
}

/// A candidate becomes leader with a majority of votes, its own included,
/// counting each voter once, and claims the term with heartbeats at once.
#[test]
fn a_candidate_with_a_majority_of_votes_leads_and_sends_heartbeats() {
    let mut raft = node_with_log(1, 5, 0, &[]);
    ticks_until_candidate(&mut raft);
    raft.take_messages();
    raft.step(node(2), granted(1)).expect("member");
    raft.step(node(2), granted(1)).expect("member");
    raft.step(
        node(4),
        RaftMessage::Vote(VoteResponse {
            term: term(1),
            granted: false,
        }),
    )
    .expect("member");
    assert_eq!(
        raft.role(),
        Role::Candidate,
        "{LESSON}: of 5 nodes it has 2 votes (itself and node-2, who voted twice) and a refusal; \
         a majority is 3"
    );
    raft.step(node(3), granted(1)).expect("member");
    assert_eq!(
        raft.role(),
        Role::Leader,
        "{LESSON}: itself, node-2 and node-3 are 3 of 5: a majority; `become_leader`"
    );
    let heartbeats = raft
        .take_messages()
        .into_iter()
        .filter(|(_, message)| matches!(message, RaftMessage::Heartbeat(_)))
        .count();
    assert_eq!(
        heartbeats, 4,
        "{LESSON}: a new leader claims its term at once"
    );
}

/// Granting a vote restarts the election timer: the voter gives the
/// candidate it helped a full timeout to win.
#[test]
fn granting_a_vote_restarts_the_election_timer() {
    for_each_seed(|seed| async move {
        let members = [node(1), node(2), node(3)];
        let mut voter =
            RaftNode::<u64>::new(node(1), &members, workshop4::RaftConfig::paper(), seed)
                .expect("member");
        let before = seed.rng().random_range(5..=29);
        for _ in 0..before {
            voter.tick();
        }
        voter.step(node(2), vote_request(1, 0, 0)).expect("member");
        assert_eq!(
            vote_sent(&mut voter).map(|vote| vote.granted),
            Some(true),
            "{LESSON}: node-1 has not voted and node-2's empty log is as up to date as its own: \
             grant the vote"
        );
        for tick in 1..30 {
            voter.tick();
            assert_eq!(
                voter.role(),
                Role::Follower,
                "{LESSON}: node-1 granted a vote after {before} ticks and stood {tick} ticks \
                 later; the shortest timeout is 30 ticks: reset the election timer when you \
                 grant a vote"
            );
        }
    });
}

/// Granting a vote restarts the election timer also when the voter is
/// already in the candidate's term (no term change resets it for you): a
/// follower about to time out that grants its vote waits a full timeout
/// before standing itself.
#[test]
fn granting_a_vote_in_the_current_term_restarts_the_election_timer() {
    for_each_seed(|seed| async move {
        let members = [node(1), node(2), node(3)];
        let voter = RaftNode::<u64>::new(node(1), &members, workshop4::RaftConfig::paper(), seed)
            .expect("member")
            .with_history(term(2), [])
            .expect("an empty log fits any term");
        // A copy of the voter shows when its timer would run out.
        let mut twin = voter.clone();
        let timeout = ticks_until_candidate(&mut twin);
        let mut voter = voter;
        for _ in 1..timeout {
            voter.tick();
        }
        voter.step(node(2), vote_request(2, 0, 0)).expect("member");
        assert_eq!(
            vote_sent(&mut voter).map(|vote| vote.granted),
            Some(true),
            "{LESSON}: node-1 is in term 2 and has not voted; node-2 asks in term 2: grant it"
        );
        for tick in 1..30 {
            voter.tick();
            assert_eq!(
                voter.role(),
                Role::Follower,
                "{LESSON}: node-1 granted its vote in its own term 2, one tick before its \
                 timeout, and stood {tick} tick(s) later, against the candidate it had just \
                 voted for. No term change resets the timer here: reset it yourself when you \
                 grant a vote"
            );
        }
    });
}

/// A leader that hears of a later term, in any message, steps down: it is
/// no longer the leader of the newest term, and leading on would split the
/// cluster.
#[test]
fn a_leader_that_hears_a_later_term_steps_down() {
    let replies: [(&str, RaftMessage<u64>); 3] = [
        (
            "a refused vote",
            RaftMessage::Vote(VoteResponse {
                term: term(7),
                granted: false,
            }),
        ),
        (
            "a heartbeat answer",
            RaftMessage::HeartbeatResponse(workshop4::HeartbeatResponse { term: term(7) }),
        ),
        ("a vote request", vote_request(7, 0, 0)),
    ];
    for (what, message) in replies {
        let mut leader = node_with_log(1, 3, 0, &[]);
        ticks_until_candidate(&mut leader);
        leader.step(node(2), granted(1)).expect("member");
        assert_eq!(
            leader.role(),
            Role::Leader,
            "{LESSON}: with its own vote and node-2's, node-1 has 2 of 3: it leads term 1"
        );
        leader.step(node(3), message).expect("member");
        assert_eq!(
            (leader.role(), leader.term()),
            (Role::Follower, term(7)),
            "{LESSON}: the leader of term 1 received {what} of term 7: someone has moved on, so \
             it must become a follower in term 7, whatever its role (`check_term`)"
        );
    }
}

/// Three nodes elect one leader, whose term everyone agrees on, and keep it
/// while nothing fails (the lab's initial election).
#[test]
fn three_nodes_elect_one_leader_and_keep_it() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let first_term = expect_ok(raft.check_terms(), LESSON);
        assert!(
            first_term >= term(1),
            "{LESSON}: a leader was elected in {first_term}"
        );
        raft.run_for(Duration::from_secs(2)).await;
        let again = expect_ok(raft.check_one_leader().await, LESSON);
        let later_term = expect_ok(raft.check_terms(), LESSON);
        assert_eq!(
            (again, later_term),
            (leader, first_term),
            "{LESSON}: with no failure, {leader} should lead {first_term} for good; the \
             heartbeats keep followers from standing"
        );
    });
}

/// A new leader is elected when the leader is cut off; the old leader
/// rejoining does not disturb it; without a quorum no leader is elected; a
/// quorum back elects one (the lab's re-election).
#[test]
fn a_new_leader_is_elected_only_where_a_quorum_is() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        let first = expect_ok(raft.check_one_leader().await, LESSON);

        expect_ok(raft.disconnect(first), LESSON);
        let second = expect_ok(raft.check_one_leader().await, LESSON);
        assert_ne!(
            second, first,
            "{LESSON}: {first} is cut off; the other two elect one of them"
        );

        expect_ok(raft.connect(first), LESSON);
        let still = expect_ok(raft.check_one_leader().await, LESSON);
        assert_ne!(
            still, first,
            "{LESSON}: the old leader {first} rejoined with an old term; it must follow, not lead"
        );

        let other = raft
            .members()
            .iter()
            .copied()
            .find(|&member| member != still && member != first)
            .expect("three members");
        expect_ok(raft.disconnect(still), LESSON);
        expect_ok(raft.disconnect(other), LESSON);
        raft.run_for(Duration::from_secs(2)).await;
        expect_ok(raft.check_no_leader(), LESSON);

        expect_ok(raft.connect(other), LESSON);
        expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.connect(still), LESSON);
        expect_ok(raft.check_one_leader().await, LESSON);
    });
}

/// Seven nodes with three random ones cut off, ten times over, always elect
/// a leader among the four left (the lab's many elections).
#[test]
fn seven_nodes_elect_a_leader_whichever_three_are_cut_off() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(7, seed);
        let mut rng = seed.derive(99).rng();
        expect_ok(raft.check_one_leader().await, LESSON);
        for _ in 0..10 {
            let mut cut = BTreeSet::new();
            while cut.len() < 3 {
                cut.insert(node(rng.random_range(1..=7)));
            }
            for &member in &cut {
                expect_ok(raft.disconnect(member), LESSON);
            }
            let leader = expect_ok(raft.check_one_leader().await, LESSON);
            assert!(
                !cut.contains(&leader),
                "{LESSON}: {leader} is cut off yet leads"
            );
            for &member in &cut {
                expect_ok(raft.connect(member), LESSON);
            }
        }
        expect_ok(raft.check_one_leader().await, LESSON);
    });
}

/// An election among three nodes takes at most 30 messages, and an idle
/// second at most 60: heartbeats, nothing more (the lab's bounds).
#[test]
fn an_election_and_an_idle_second_stay_within_their_message_budgets() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        expect_ok(raft.check_one_leader().await, LESSON);
        let election = raft.counts();
        assert!(
            election.total().sent <= 30,
            "{LESSON}: electing a leader among 3 nodes took {} messages, more than 30; a \
             candidate asks each peer once per election, and a follower that hears a leader \
             should not stand\n{election}",
            election.total().sent
        );
        let term = expect_ok(raft.check_terms(), LESSON);
        raft.run_for(Duration::from_secs(1)).await;
        let idle = raft.counts().since(&election);
        assert!(
            idle.total().sent <= 60,
            "{LESSON}: one idle second took {} messages, more than 60\n{idle}",
            idle.total().sent
        );
        assert_eq!(
            expect_ok(raft.check_terms(), LESSON),
            term,
            "{LESSON}: nobody should stand for election while the leader is healthy"
        );
    });
}

/// Nothing happens without ticks: a node that is never ticked never
/// stands, so the driver, not the node, owns time.
#[test]
fn a_node_that_is_not_ticked_never_stands() {
    simulate(async {
        let mut raft = node_with_log(1, 3, 0, &[]);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            raft.role(),
            Role::Follower,
            "{LESSON}: a minute passed without a tick; a node that counts its own time stood \
             anyway"
        );
        assert!(
            raft.take_messages().is_empty(),
            "{LESSON}: a node sends only when ticked or stepped, yet this one had messages ready"
        );
        ticks_until_candidate(&mut raft);
    });
}

/// The same seed elects the same way, message for message: every run of a
/// test can be replayed.
#[test]
fn the_same_seed_elects_the_same_way() {
    let trace = |seed: u64| {
        simulate(async move {
            let mut raft = cluster(5, Seed::new(seed));
            expect_ok(raft.check_one_leader().await, LESSON);
            let leader = expect_ok(raft.check_one_leader().await, LESSON);
            expect_ok(raft.disconnect(leader), LESSON);
            expect_ok(raft.check_one_leader().await, LESSON);
            raft.network().trace().to_string()
        })
    };
    let first = trace(3);
    assert_eq!(
        first,
        trace(3),
        "{LESSON}: the same seed gave two different runs"
    );
    assert_ne!(
        first,
        trace(4),
        "{LESSON}: another seed should draw other timeouts"
    );
}
