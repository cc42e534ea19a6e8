//! Exercise 4.3: commit and apply. Edit `workshop4/src/commit.rs`.
//!
//! Read `workshop4/README.md`, "Implement", 4.3. Run just these tests with
//! `cargo test -p workshop4 --test workshop ex4_3_commit`. The first tests step
//! messages into one node by hand; the rest run whole clusters through the
//! scenarios of the Raft lab's agreement tests (6.5840, 3B and 3C), which
//! need exercises 4.1 to 4.3 together.

use std::time::Duration;

use coordination::sim::NetworkConditions;
use coordination::{NodeId, Probability};
use rand::RngExt;
use workshop4::testing::{
    cluster, elect, expect_ok, for_each_seed, node, node_with_log, sweep, term,
};
use workshop4::{
    AppendOutcome, AppendRequest, AppendResponse, Entry, Heartbeat, LogIndex, RaftCluster,
    RaftMessage,
};

const LESSON: &str = "exercise 4.3 (commit and apply)";

fn accepted(leader_term: u64, match_index: u64) -> RaftMessage<u64> {
    RaftMessage::AppendResponse(AppendResponse {
        term: term(leader_term),
        outcome: AppendOutcome::Accepted {
            match_index: LogIndex::new(match_index),
        },
    })
}

/// An append from the leader of `leader_term`: after index `prev` of term
/// `prev_term`, entries of the leader's term for indexes `prev + 1 ..=
/// last` (each carrying its index as its command), with `commit` as the
/// leader's commit index.
fn append(leader_term: u64, prev: u64, prev_term: u64, last: u64, commit: u64) -> RaftMessage<u64> {
    RaftMessage::AppendEntries(AppendRequest {
        term: term(leader_term),
        prev_log_index: LogIndex::new(prev),
        prev_log_term: term(prev_term),
        entries: (prev + 1..=last)
            .map(|index| Entry {
                index: LogIndex::new(index),
                term: term(leader_term),
                command: index,
            })
            .collect(),
        leader_commit: LogIndex::new(commit),
    })
}

/// The leader commits what a majority of the cluster (itself included)
/// holds, and only that.
#[test]
fn the_leader_commits_what_a_majority_holds() {
    let mut leader = node_with_log(1, 5, 0, &[]);
    elect(&mut leader);
    for command in [10, 20, 30] {
        leader.propose(command).expect("leader");
    }
    leader.step(node(2), accepted(1, 3)).expect("member");
    assert_eq!(
        leader.commit_index(),
        LogIndex::ZERO,
        "{LESSON}: 2 of 5 nodes hold index 3 (the leader and node-2): not yet a majority"
    );
    leader.step(node(3), accepted(1, 2)).expect("member");
    assert_eq!(
        leader.commit_index(),
        LogIndex::new(2),
        "{LESSON}: the leader, node-2 and node-3 hold index 2: 3 of 5, a majority; index 3 is \
         held by only 2"
    );
    assert_eq!(
        leader
            .progress(node(3))
            .map(|progress| progress.match_index),
        Some(LogIndex::new(2)),
        "{LESSON}: record the follower's match index"
    );
    let committed: Vec<u64> = leader
        .take_committed()
        .into_iter()
        .map(|e| e.command)
        .collect();
    assert_eq!(
        committed,
        [10, 20],
        "{LESSON}: committed entries come out in order"
    );
    assert!(
        leader.take_committed().is_empty(),
        "{LESSON}: each entry comes out once"
    );
}

/// A late acceptance never moves a follower's match index back.
#[test]
fn a_late_acceptance_never_moves_the_match_index_back() {
    let mut leader = node_with_log(1, 3, 0, &[]);
    elect(&mut leader);
    for command in [10, 20, 30] {
        leader.propose(command).expect("leader");
    }
    leader.step(node(2), accepted(1, 3)).expect("member");
    leader.step(node(2), accepted(1, 1)).expect("member");
    let progress = leader.progress(node(2)).expect("a leader tracks its peers");
    assert_eq!(
        (progress.match_index, progress.next_index),
        (LogIndex::new(3), LogIndex::new(4)),
        "{LESSON}: node-2 matched 3, then an older acceptance of 1 arrived late; a match index \
         only grows, and next index stays past it"
    );
    assert_eq!(
        leader.commit_index(),
        LogIndex::new(3),
        "{LESSON}: the leader and node-2 hold index 3 of term 1, 2 of 3 nodes: committed"
    );
}

/// A follower that is still behind after an acceptance is sent the rest at
/// once, without waiting for the next heartbeat; one that has caught up is
/// sent nothing more.
#[test]
fn a_follower_still_behind_is_sent_the_rest_at_once() {
    let mut leader = node_with_log(1, 3, 0, &[]);
    elect(&mut leader);
    for command in [10, 20, 30] {
        leader.propose(command).expect("leader");
    }
    leader.step(node(2), accepted(1, 1)).expect("member");
    let sent: Vec<(u64, Vec<u64>)> = leader
        .take_messages()
        .into_iter()
        .filter_map(|(to, message)| match message {
            RaftMessage::AppendEntries(request) if to == node(2) => Some((
                request.prev_log_index.get(),
                request
                    .entries
                    .iter()
                    .map(|entry| entry.index.get())
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        [(1, vec![2, 3])],
        "{LESSON}: node-2 holds index 1 of the leader's 3; the leader should send it \
         entries 2 and 3 right away (one append, after index 1), not leave it behind until \
         the next heartbeat"
    );
    leader.step(node(2), accepted(1, 3)).expect("member");
    let sent = leader.take_messages();
    assert!(
        sent.is_empty(),
        "{LESSON}: node-2 now holds everything the leader has; an acceptance from a follower \
         that has caught up needs no answer, yet the leader sent {sent:?}"
    );
}

/// Figure 8: an entry of an earlier term is not committed by counting
/// replicas, however many hold it; it is committed with the first entry of
/// the leader's own term that a majority holds.
#[test]
fn an_earlier_terms_entry_is_not_committed_by_counting_replicas() {
    // Figure 8 (c): S1 leads again, in term 4, with the term-2 entry at
    // index 2 that only it and S2 had; it has just copied it to S3.
    let mut s1 = node_with_log(1, 5, 3, &[1, 2]);
    elect(&mut s1);
    assert_eq!(s1.term(), term(4), "set-up: S1 leads term 4");
    s1.step(node(2), accepted(4, 2)).expect("member");
    s1.step(node(3), accepted(4, 2)).expect("member");
    assert_eq!(
        s1.commit_index(),
        LogIndex::ZERO,
        "{LESSON}: S1, S2 and S3 hold index 2, a majority, but its entry is of term 2 and S1 \
         leads term 4. In Figure 8 (d) S5 is elected without it and overwrites it: commit only \
         entries of your own term by counting"
    );
    s1.propose(3).expect("leader");
    s1.step(node(2), accepted(4, 3)).expect("member");
    s1.step(node(3), accepted(4, 3)).expect("member");
    assert_eq!(
        s1.commit_index(),
        LogIndex::new(3),
        "{LESSON}: the term-4 entry at index 3 is on a majority: commit it, and index 2 with it"
    );
}

/// A follower commits up to the leader's commit index, but no further than
/// the append verified: the tail of its log may still be stale.
#[test]
fn a_follower_commits_only_what_the_leader_verified() {
    let mut follower = node_with_log(2, 3, 3, &[1, 1, 2, 2, 2]);
    follower
        .step(node(1), append(3, 2, 1, 2, 5))
        .expect("member");
    assert_eq!(
        follower.commit_index(),
        LogIndex::new(2),
        "{LESSON}: the leader has committed 5, but this append only verified the follower's log \
         up to index 2; its term-2 entries at 3..=5 may be overwritten. Commit min(leader \
         commit, verified index)"
    );
    let commands: Vec<u64> = follower
        .take_committed()
        .into_iter()
        .map(|e| e.command)
        .collect();
    assert_eq!(
        commands,
        [1, 2],
        "{LESSON}: apply what is committed, in order"
    );
}

/// An append that verifies less of the log than the follower has committed
/// (the leader retried from further back) never moves the follower's
/// commit index back: what is committed stays committed.
#[test]
fn an_append_that_verifies_less_never_moves_a_followers_commit_index_back() {
    let mut follower = node_with_log(2, 3, 1, &[1, 1, 1]);
    follower
        .step(node(1), append(1, 3, 1, 3, 3))
        .expect("member");
    follower
        .step(node(1), append(1, 1, 1, 1, 5))
        .expect("member");
    assert_eq!(
        follower.commit_index(),
        LogIndex::new(3),
        "{LESSON}: the follower committed index 3; then an append verified its log only up to \
         index 1 (the leader now at commit 5). It may not commit more from this append, and a \
         commit index never goes back"
    );
}

/// A follower never commits past its own last entry, whatever a heartbeat
/// announces: after a crash that lost its log's unsynced tail it holds less
/// than the leader believes. It answers with where its log ends, and applies
/// the missing entries once they arrive.
#[test]
fn a_follower_never_commits_past_its_own_log() {
    let mut follower = node_with_log(2, 3, 1, &[1, 1]);
    follower
        .step(
            node(1),
            RaftMessage::Heartbeat(Heartbeat {
                term: term(1),
                commit: LogIndex::new(4),
            }),
        )
        .expect("member");
    assert_eq!(
        follower.commit_index(),
        LogIndex::new(2),
        "the leader believes the follower holds 4 committed entries, but its disk kept only 2: \
         a follower commits only what it holds"
    );
    let answer = follower
        .take_messages()
        .into_iter()
        .find_map(|(_, message)| match message {
            RaftMessage::AppendResponse(response) => Some(response.outcome),
            _ => None,
        });
    assert_eq!(
        answer,
        Some(AppendOutcome::Rejected {
            conflict_index: LogIndex::new(3),
            conflict_term: None
        }),
        "a follower that misses committed entries tells the leader where its log ends"
    );
    let first: Vec<u64> = follower
        .take_committed()
        .into_iter()
        .map(|entry| entry.command)
        .collect();
    assert_eq!(first, [1, 2], "{LESSON}: apply what is committed and held");
    follower
        .step(node(1), append(1, 2, 1, 4, 4))
        .expect("member");
    let then: Vec<u64> = follower
        .take_committed()
        .into_iter()
        .map(|entry| entry.command)
        .collect();
    assert_eq!(
        then,
        [3, 4],
        "{LESSON}: entries 3 and 4 arrived and are committed: they must be applied now, not \
         skipped as if applied when they were missing"
    );
}

/// A leader that hears a follower no longer holds entries it acknowledged
/// (its disk lost an unsynced tail in a crash) moves its next and match
/// indexes back to where the follower's log ends, resends from there, and
/// reports it, instead of retrying past the follower's log for ever.
#[test]
fn a_leader_moves_back_for_a_follower_that_lost_entries() {
    let mut leader = node_with_log(1, 3, 1, &[1, 1, 1, 1, 1]);
    elect(&mut leader);
    leader.propose(6).expect("leader");
    leader.step(node(2), accepted(2, 6)).expect("member");
    leader.take_messages();
    leader
        .step(
            node(2),
            RaftMessage::AppendResponse(AppendResponse {
                term: term(2),
                outcome: AppendOutcome::Rejected {
                    conflict_index: LogIndex::new(4),
                    conflict_term: None,
                },
            }),
        )
        .expect("member");
    let progress = leader.progress(node(2)).expect("a leader tracks its peers");
    assert_eq!(
        (progress.next_index, progress.match_index),
        (LogIndex::new(4), LogIndex::new(3)),
        "exercise 4.2, `handle_append_rejection`: node-2 acknowledged index 6, then answered \
         that its log ends at 3 (a disk that lost its tail). Keeping next index above the old \
         match index resends from 7 for ever; move next back to 4 and match back to 3"
    );
    let resent = leader
        .take_messages()
        .into_iter()
        .find_map(|(to, message)| match message {
            RaftMessage::AppendEntries(request) if to == node(2) => Some(request.prev_log_index),
            _ => None,
        });
    assert_eq!(
        resent,
        Some(LogIndex::new(3)),
        "exercise 4.2: resend to node-2 from just past where its log ends"
    );
    let reports = leader.take_lost_entries();
    assert_eq!(
        reports
            .iter()
            .map(|report| (report.follower, report.acknowledged, report.holds))
            .collect::<Vec<_>>(),
        [(node(2), LogIndex::new(6), LogIndex::new(3))],
        "exercise 4.2: a follower that lost acknowledged entries is reported \
         (`report_lost_entries`): Raft assumes a disk never does that, and an operator must \
         hear of one that does"
    );
}

/// Three nodes agree on commands one after the other; nothing is committed
/// before it is proposed (the lab's basic agreement).
#[test]
fn three_nodes_agree_on_each_command_in_turn() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        for index in 1..=3 {
            let (count, _) = expect_ok(raft.committed(LogIndex::new(index)), LESSON);
            assert_eq!(
                count, 0,
                "{LESSON}: index {index} committed before it was proposed"
            );
            let at = expect_ok(raft.agree_on_first_proposal(index * 100, 3).await, LESSON);
            assert_eq!(
                at,
                LogIndex::new(index),
                "{LESSON}: command {} went to {at}",
                index * 100
            );
        }
    });
}

/// Agreement goes on with one follower cut off and it catches up when it
/// returns; with every follower cut off, nothing is committed (the lab's
/// follower failure and fail-agree tests).
#[test]
fn a_cut_off_follower_catches_up_and_a_lone_leader_commits_nothing() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        expect_ok(raft.agree_on_first_proposal(101, 3).await, LESSON);
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let followers: Vec<NodeId> = raft
            .members()
            .iter()
            .copied()
            .filter(|&member| member != leader)
            .collect();

        expect_ok(raft.disconnect(followers[0]), LESSON);
        expect_ok(raft.agree_on_first_proposal(102, 2).await, LESSON);
        raft.run_for(Duration::from_millis(500)).await;
        expect_ok(raft.agree_on_first_proposal(103, 2).await, LESSON);

        expect_ok(raft.connect(followers[0]), LESSON);
        expect_ok(raft.agree(104, 3).await, LESSON);

        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        for follower in raft.members().to_vec() {
            if follower != leader {
                expect_ok(raft.disconnect(follower), LESSON);
            }
        }
        let (index, _) = raft
            .propose(leader, 105)
            .expect("the leader takes commands");
        raft.run_for(Duration::from_secs(2)).await;
        let (count, _) = expect_ok(raft.committed(index), LESSON);
        assert_eq!(
            count, 0,
            "{LESSON}: {leader} is alone; 105 is on 1 of 3 nodes and must not be committed"
        );
    });
}

/// When the leader is cut off the other two go on agreeing; when the next
/// leader is cut off too, the last node alone commits nothing, whoever it
/// is proposed to (the lab's leader failure).
#[test]
fn a_new_leader_goes_on_and_one_node_alone_commits_nothing() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        expect_ok(raft.agree_on_first_proposal(101, 3).await, LESSON);
        let leader1 = expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.disconnect(leader1), LESSON);
        expect_ok(raft.agree_on_first_proposal(102, 2).await, LESSON);
        raft.run_for(Duration::from_millis(500)).await;
        expect_ok(raft.agree_on_first_proposal(103, 2).await, LESSON);

        let leader2 = expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.disconnect(leader2), LESSON);
        for member in raft.members().to_vec() {
            let _ = raft.propose(member, 104);
        }
        raft.run_for(Duration::from_secs(2)).await;
        let (count, _) = expect_ok(raft.committed(LogIndex::new(4)), LESSON);
        assert_eq!(
            count, 0,
            "{LESSON}: every node is cut off from every other; nothing proposed now can reach a \
             majority, yet index 4 was committed on {count} node(s)"
        );
    });
}

/// With three of five nodes cut off nothing is committed; when they return,
/// the cluster agrees again and the uncommitted command may be lost (the
/// lab's fail-no-agree test).
#[test]
fn no_agreement_without_a_majority_then_agreement_again() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(5, seed);
        expect_ok(raft.agree_on_first_proposal(10, 5).await, LESSON);
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let cut: Vec<NodeId> = raft
            .members()
            .iter()
            .copied()
            .filter(|&member| member != leader)
            .take(3)
            .collect();
        for &member in &cut {
            expect_ok(raft.disconnect(member), LESSON);
        }
        let (index, _) = raft.propose(leader, 20).expect("the leader takes commands");
        assert_eq!(
            index,
            LogIndex::new(2),
            "{LESSON}: one command was committed before, so the next goes to index 2"
        );
        raft.run_for(Duration::from_secs(2)).await;
        let (count, _) = expect_ok(raft.committed(index), LESSON);
        assert_eq!(
            count, 0,
            "{LESSON}: 2 of 5 nodes are not a majority; {count} committed"
        );
        for &member in &cut {
            expect_ok(raft.connect(member), LESSON);
        }
        expect_ok(raft.agree(30, 5).await, LESSON);
    });
}

/// Commands proposed together at the leader are all committed, in some
/// order, each once (the lab's concurrent starts).
#[test]
fn commands_proposed_together_are_all_committed() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let mut indexes = Vec::new();
        for command in 1..=5 {
            let (index, _) = raft
                .propose(leader, command)
                .expect("the leader takes commands");
            indexes.push(index);
        }
        let mut committed = Vec::new();
        for index in indexes {
            let found = raft.wait_for(index, 3, term(u64::MAX - 1), Duration::from_secs(2));
            let command = expect_ok(found.await, LESSON)
                .unwrap_or_else(|| panic!("{LESSON}: {index} was not committed on all 3 nodes"));
            committed.push(command);
        }
        committed.sort_unstable();
        assert_eq!(
            committed,
            [1, 2, 3, 4, 5],
            "{LESSON}: each command committed once"
        );
    });
}

/// An old leader that was cut off with entries nobody else has rejoins, and
/// its divergent entries are overwritten by the new leader's (the lab's
/// rejoin test).
#[test]
fn a_rejoining_old_leaders_divergent_entries_are_overwritten() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        expect_ok(raft.agree(101, 3).await, LESSON);
        let leader1 = expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.disconnect(leader1), LESSON);
        for command in [102, 103, 104] {
            raft.propose(leader1, command)
                .expect("it still believes it leads");
        }
        raft.run_for(Duration::from_millis(200)).await;

        expect_ok(raft.agree(103, 2).await, LESSON);
        let leader2 = expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.disconnect(leader2), LESSON);
        expect_ok(raft.connect(leader1), LESSON);
        expect_ok(raft.agree(104, 2).await, LESSON);

        expect_ok(raft.connect(leader2), LESSON);
        expect_ok(raft.agree(105, 3).await, LESSON);
        let applied = raft.applied(leader1).to_vec();
        assert!(
            !applied.contains(&102),
            "{LESSON}: 102 was only ever in the cut-off leader's log; it must be overwritten, \
             yet {leader1} applied {applied:?}"
        );
    });
}

/// A leader brings followers that missed 50-entry batches back in line
/// quickly, across alternating partitions (the lab's backup test).
#[test]
fn followers_far_behind_catch_up_across_alternating_partitions() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(5, seed);
        let mut rng = seed.derive(7).rng();
        let mut next = || u64::from(rng.random::<u32>());
        let member = |raw: u32| node(raw % 5 + 1);
        expect_ok(raft.agree(next(), 5).await, LESSON);

        // The leader and one follower are cut off from the other three,
        // which are cut off from each other too, and the leader takes 50
        // commands that can never be committed.
        let leader1 = expect_ok(raft.check_one_leader().await, LESSON).get() - 1;
        for offset in 2..=4 {
            expect_ok(raft.disconnect(member(leader1 + offset)), LESSON);
        }
        for _ in 0..50 {
            raft.propose(member(leader1), next())
                .expect("it still believes it leads");
        }
        raft.run_for(Duration::from_millis(500)).await;

        // The other three get together and commit 50 of their own.
        expect_ok(raft.disconnect(member(leader1)), LESSON);
        expect_ok(raft.disconnect(member(leader1 + 1)), LESSON);
        for offset in 2..=4 {
            expect_ok(raft.connect(member(leader1 + offset)), LESSON);
        }
        for _ in 0..50 {
            expect_ok(raft.agree(next(), 3).await, LESSON);
        }

        // Their leader is cut off from one of them and takes 50 commands
        // that can never be committed.
        let leader2 = expect_ok(raft.check_one_leader().await, LESSON).get() - 1;
        let mut other = leader1 + 2;
        if member(other) == member(leader2) {
            other = leader2 + 1;
        }
        expect_ok(raft.disconnect(member(other)), LESSON);
        for _ in 0..50 {
            raft.propose(member(leader2), next())
                .expect("it still believes it leads");
        }
        raft.run_for(Duration::from_millis(500)).await;

        // The first leader, its follower and the one cut off form a majority:
        // they must replace the first leader's 50 stale entries.
        for raw in 0..5 {
            expect_ok(raft.disconnect(member(raw)), LESSON);
        }
        for raw in [leader1, leader1 + 1, other] {
            expect_ok(raft.connect(member(raw)), LESSON);
        }
        for _ in 0..50 {
            expect_ok(raft.agree(next(), 3).await, LESSON);
        }

        for raw in 0..5 {
            expect_ok(raft.connect(member(raw)), LESSON);
        }
        expect_ok(raft.agree(next(), 5).await, LESSON);
    });
}

/// Ten agreements on three nodes cost at most 42 messages (the lab's bound).
#[test]
fn ten_agreements_cost_at_most_42_messages() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let before = raft.counts();
        let (first, start_term) = raft.propose(leader, 1).expect("leader");
        let mut last = first;
        for command in 2..=11 {
            let (index, _) = raft.propose(leader, command).expect("leader");
            last = index;
        }
        for index in first.get()..=last.get() {
            let found = raft.wait_for(LogIndex::new(index), 3, start_term, Duration::from_secs(2));
            if expect_ok(found.await, LESSON).is_none() {
                // The leader lost its term meanwhile; the lab retries. A
                // healthy cluster on a reliable network should not.
                panic!("{LESSON}: {index} was not committed on all 3 nodes in term {start_term}");
            }
        }
        let cost = raft.counts().since(&before);
        assert!(
            cost.total().sent <= 42,
            "{LESSON}: 10 agreements took {} messages, more than 42; a burst of proposals \
             should travel as one batch, and a follower that matched should not be sent the \
             entries again\n{cost}",
            cost.total().sent
        );
    });
}

/// Agreement holds on a network that loses and delays messages (the lab's
/// unreliable agreement).
#[test]
fn agreement_holds_on_an_unreliable_network() {
    for_each_seed(|seed| async move {
        let mut raft: RaftCluster<u64> = RaftCluster::new(5, seed, NetworkConditions::unreliable());
        for iteration in 1..=10 {
            // Four commands at once at whoever leads now, then one that
            // must get through.
            for offset in 0..4 {
                for member in raft.members().to_vec() {
                    let _ = raft.propose(member, iteration * 100 + offset);
                }
            }
            expect_ok(raft.agree(iteration, 1).await, LESSON);
        }
        raft.set_unreliable(false);
        expect_ok(raft.agree(1_000, 5).await, LESSON);
    });
}

/// Agreement holds when the network delivers three messages in ten twice,
/// each copy on a delay of its own, so that an old append or vote can arrive
/// again after newer ones. The Raft paper (section 2) claims safety under
/// "packet loss, duplication, and reordering": a repeated vote must count
/// once, and a repeated append must neither truncate nor move anything
/// back.
#[test]
fn agreement_holds_when_the_network_duplicates_messages() {
    for_each_seed(|seed| async move {
        let rate = Probability::new(0.3).expect("0.3 lies between 0 and 1");
        let doubling = NetworkConditions::reliable().with_duplication(rate);
        let mut raft: RaftCluster<u64> = RaftCluster::new(5, seed, doubling);
        for iteration in 1..=10 {
            for offset in 0..4 {
                for member in raft.members().to_vec() {
                    let _ = raft.propose(member, iteration * 100 + offset);
                }
            }
            expect_ok(raft.agree(iteration, 5).await, LESSON);
            expect_ok(raft.check_safety(), LESSON);
        }
        assert!(
            raft.counts().total().duplicated > 0,
            "the network made no copies: this test checked nothing"
        );
    });
}

/// Figure 8 under fire, as the Raft lab plays it ("Figure 8 (unreliable)",
/// 6.5840 test 3C): on a network that loses one message in ten, 1,000
/// rounds of proposals at every node, leaders cut off half the time, at
/// most two nodes down at once; from round 200 on, two replies in three
/// are held back for up to 2.2 s, so that answers arrive long after newer
/// ones. Committed entries never diverge, and once everyone is back the
/// cluster agrees again, still unreliable. Each seed simulates about half a
/// minute, so four run by default; `DWC_SEEDS` sweeps more.
#[test]
fn figure_8_on_an_unreliable_network_never_diverges() {
    sweep().by_default(4).run(|seed| async move {
        let unreliable = NetworkConditions::unreliable().with_one_way_replies();
        let mut raft: RaftCluster<u64> = RaftCluster::new(5, seed, unreliable);
        let mut rng = seed.derive(8).rng();
        expect_ok(raft.agree(rng.random_range(0..10_000), 1).await, LESSON);
        let members = raft.members().to_vec();
        let mut down = Vec::new();
        for round in 0..1_000 {
            if round == 200 {
                raft.set_long_reordering(true);
            }
            let mut leader = None;
            for &member in &members {
                if raft.propose(member, rng.random_range(0..10_000)).is_ok()
                    && !down.contains(&member)
                {
                    leader = Some(member);
                }
            }
            // Mostly a few milliseconds between rounds, sometimes up to half
            // the lab's election timeout.
            let pause = if rng.random_range(0..1_000) < 100 {
                rng.random_range(0..500)
            } else {
                rng.random_range(0..13)
            };
            raft.run_for(Duration::from_millis(pause)).await;
            if let Some(leader) = leader
                && rng.random_range(0..1_000) < 500
            {
                expect_ok(raft.disconnect(leader), LESSON);
                down.push(leader);
            }
            if down.len() > 2 {
                let member = members[rng.random_range(0..members.len())];
                if let Some(position) = down.iter().position(|&cut| cut == member) {
                    expect_ok(raft.connect(member), LESSON);
                    down.remove(position);
                }
            }
            expect_ok(raft.check_safety(), LESSON);
        }
        for member in down {
            expect_ok(raft.connect(member), LESSON);
        }
        expect_ok(raft.agree(rng.random_range(0..10_000), 5).await, LESSON);
    });
}

/// A follower whose disk lost the last entries it had acknowledged comes
/// back after the writes ended: it catches up within a second, applies
/// every committed command, the leader reports it, and nobody spins.
#[test]
fn a_follower_that_lost_its_logs_tail_catches_up_and_is_reported() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        for command in 1..=5 {
            expect_ok(raft.agree(command, 3).await, LESSON);
        }
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let follower = raft
            .members()
            .iter()
            .copied()
            .find(|&member| member != leader)
            .expect("three members");
        expect_ok(raft.crash(follower), LESSON);
        raft.run_for(Duration::from_millis(100)).await;
        expect_ok(raft.restart(follower, 3), LESSON);
        let before = raft.counts();
        raft.run_for(Duration::from_secs(1)).await;
        expect_ok(raft.check_safety(), LESSON);
        assert_eq!(
            raft.applied(follower),
            [1, 2, 3, 4, 5],
            "{LESSON}: {follower} came back with 2 of its 5 entries (its disk lost 3 it had \
             acknowledged); within a second it should hold and apply all 5 again. A follower \
             commits only what it holds, and the leader resends from where its log ends \
             (`handle_append_rejection`, 4.2)"
        );
        assert!(
            raft.lost_entries()
                .iter()
                .any(|(_, report)| report.follower == follower),
            "{LESSON}: the leader should report that {follower} lost entries it had \
             acknowledged; reported: {:?}",
            raft.lost_entries()
        );
        let cost = raft.counts().since(&before);
        assert!(
            cost.total().sent <= 80,
            "{LESSON}: one second after {follower} came back took {} messages, more than 80: \
             the leader and the follower are caught in a rejection loop. A leader that keeps \
             its next index above a match index the follower no longer holds asks for the \
             same missing entry for ever\n{cost}",
            cost.total().sent
        );
        expect_ok(raft.agree(6, 3).await, LESSON);
        assert_eq!(
            raft.applied(follower),
            [1, 2, 3, 4, 5, 6],
            "{LESSON}: after catching up, {follower} goes on applying what the cluster commits"
        );
    });
}

/// A leader whose disk lost its last entries crashes while commands are
/// being committed; it comes back as a follower, and every command the
/// cluster committed is applied everywhere, the same at every index.
#[test]
fn a_leader_that_lost_its_logs_tail_comes_back_in_line() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        for command in 1..=4 {
            expect_ok(raft.agree(command, 3).await, LESSON);
        }
        let old_leader = expect_ok(raft.check_one_leader().await, LESSON);
        let (unsure, _) = raft
            .propose(old_leader, 5)
            .expect("the leader takes commands");
        raft.run_for(Duration::from_millis(3)).await;
        expect_ok(raft.crash(old_leader), LESSON);
        expect_ok(raft.agree(6, 2).await, LESSON);
        expect_ok(raft.restart(old_leader, 2), LESSON);
        let last = expect_ok(raft.agree(7, 3).await, LESSON);
        let (everyone, _) = expect_ok(raft.committed(last), LESSON);
        assert_eq!(
            everyone, 3,
            "{LESSON}: {old_leader} came back without its last 2 entries; it must catch up and \
             apply everything committed"
        );
        let applied = raft.applied(old_leader).to_vec();
        assert!(
            applied.starts_with(&[1, 2, 3, 4]) && applied.ends_with(&[6, 7]),
            "{LESSON}: {old_leader} applied {applied:?}; 5 at {unsure} may or may not have \
             been committed, but 1 to 4 were, and 6 and 7 after them"
        );
    });
}

/// The leader of the newest term, once it is one of `group` (a majority
/// that was just put together may take a few elections).
async fn leader_within(raft: &mut RaftCluster<u64>, group: &[NodeId]) -> NodeId {
    for _ in 0..10 {
        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        if group.contains(&leader) {
            return leader;
        }
    }
    panic!(
        "{LESSON}: with a majority connected that could elect one of {group:?}, none of them \
         became leader"
    );
}

/// Figure 8 played out on a cluster: an earlier term's entry that a new
/// leader copies to a majority, without any entry of its own term, is
/// overwritten later by a leader that never had it. Whoever applied it
/// applied a command that is not the cluster's.
#[test]
fn figure_8_an_earlier_terms_entry_copied_to_a_majority_is_not_committed() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(5, seed);
        expect_ok(raft.agree(100, 5).await, LESSON);
        // (a) The leader of the first term takes 200 and reaches one
        // follower only.
        let first = expect_ok(raft.check_one_leader().await, LESSON);
        let members = raft.members().to_vec();
        let partner = *members
            .iter()
            .find(|&&member| member != first)
            .expect("five members");
        raft.partition(&[&[first, partner]]).expect("members");
        raft.propose(first, 200)
            .expect("it still believes it leads");
        // (b) The other three elect a leader, which takes 300 and is cut off
        // before it sends it.
        let three: Vec<NodeId> = members
            .iter()
            .copied()
            .filter(|member| ![first, partner].contains(member))
            .collect();
        let second = leader_within(&mut raft, &three).await;
        raft.propose(second, 300).expect("it was just elected");
        raft.partition(&[&[first, partner], &[second]])
            .expect("members");
        let others: Vec<_> = members
            .iter()
            .copied()
            .filter(|member| ![first, partner, second].contains(member))
            .collect();
        // (c) The first two and one of the others elect a leader with 200 in
        // its log, which copies 200 to a majority but takes no command of
        // its own term.
        raft.partition(&[&[first, partner, others[0]]])
            .expect("members");
        leader_within(&mut raft, &[first, partner]).await;
        let mut copies = 0;
        while raft.node(others[0]).and_then(|node| {
            node.log()
                .entry(LogIndex::new(2))
                .map(|entry| entry.command)
        }) != Some(200)
        {
            copies += 1;
            assert!(
                copies < 100,
                "{LESSON}: the new leader did not copy 200 to {} within 2 s; the leader sends a \
                 follower that is behind what it lacks",
                others[0]
            );
            raft.run_for(Duration::from_millis(20)).await;
        }
        // Time for the copy's acknowledgement to reach the leader, and for
        // the leader to decide whether that commits 200.
        raft.run_for(Duration::from_millis(500)).await;
        // (d) The leader that holds 300 wins with the other two, overwrites
        // 200, and commits a command of its own term.
        raft.partition(&[&[second, others[0], others[1]]])
            .expect("members");
        let after = raft.agree(400, 3).await;
        if let Err(error) = &after
            && error.is_safety_violation()
        {
            panic!(
                "{LESSON}: {error}. This is Figure 8: 200 was an earlier term's entry on a \
                 majority, committed by counting replicas, then overwritten by a leader that \
                 never had it. Count replicas only for an entry of your own term"
            );
        }
        expect_ok(after, LESSON);
        raft.heal();
        expect_ok(raft.agree(500, 5).await, LESSON);
    });
}

/// CAP, in one test: a minority partition refuses writes (its leader cannot
/// commit) while the majority elects a leader and goes on; after healing,
/// everyone has the majority's writes.
#[test]
fn a_minority_partition_refuses_writes_while_the_majority_goes_on() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(5, seed);
        expect_ok(raft.agree(1, 5).await, LESSON);
        let old_leader = expect_ok(raft.check_one_leader().await, LESSON);
        let minority_peer = raft
            .members()
            .iter()
            .copied()
            .find(|&member| member != old_leader)
            .expect("five members");
        raft.partition(&[&[old_leader, minority_peer]])
            .expect("members");
        let (refused, _) = raft
            .propose(old_leader, 2)
            .expect("it still believes it leads");

        let majority_write = expect_ok(raft.agree(3, 3).await, LESSON);
        let (count, _) = expect_ok(raft.committed(refused), LESSON);
        let committed_there = expect_ok(raft.committed(refused), LESSON).1;
        assert!(
            count <= 3 && committed_there != Some(2),
            "{LESSON}: the minority's write (2) must never be committed, found {committed_there:?}"
        );
        raft.heal();
        expect_ok(raft.agree(4, 5).await, LESSON);
        let (everyone, command) = expect_ok(raft.committed(majority_write), LESSON);
        assert_eq!(
            (everyone, command),
            (5, Some(3)),
            "{LESSON}: after healing, every node holds the majority's write"
        );
    });
}

/// What is committed survives nodes crashing and coming back from their
/// disks (the lab's persistence tests, 6.5840 3C): the whole cluster at
/// once, the leader alone, the leader while the other two go on without it,
/// and a follower likewise. A node that comes back knows nothing committed
/// and applies every command again, in order, once the leader of its new
/// term has committed an entry of that term.
#[test]
fn what_is_committed_survives_every_node_crashing_and_restarting() {
    for_each_seed(|seed| async move {
        let mut raft = cluster(3, seed);
        let members = raft.members().to_vec();
        expect_ok(raft.agree(11, 3).await, LESSON);

        for &member in &members {
            expect_ok(raft.crash(member), LESSON);
        }
        for &member in &members {
            expect_ok(raft.restart(member, 0), LESSON);
        }
        expect_ok(raft.agree(12, 3).await, LESSON);

        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.crash(leader), LESSON);
        expect_ok(raft.restart(leader, 0), LESSON);
        expect_ok(raft.agree(13, 3).await, LESSON);

        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        expect_ok(raft.crash(leader), LESSON);
        expect_ok(raft.agree(14, 2).await, LESSON);
        expect_ok(raft.restart(leader, 0), LESSON);

        let leader = expect_ok(raft.check_one_leader().await, LESSON);
        let follower = members
            .iter()
            .copied()
            .find(|&member| member != leader)
            .expect("three members");
        expect_ok(raft.crash(follower), LESSON);
        expect_ok(raft.agree(15, 2).await, LESSON);
        expect_ok(raft.restart(follower, 0), LESSON);
        expect_ok(raft.agree(16, 3).await, LESSON);

        for &member in &members {
            assert_eq!(
                raft.applied(member),
                [11, 12, 13, 14, 15, 16],
                "{LESSON}: every node came back from its disk at least once; each must end up \
                 applying every committed command, in order. A node that restarts knows \
                 nothing committed until its leader tells it, and a new leader commits an \
                 earlier term's entries only with one of its own term"
            );
        }
    });
}

/// The cluster churns (the lab's unreliable churn test, 6.5840 3C): on a
/// network that loses and delays messages, commands keep arriving at every
/// node while nodes are cut off, reconnected, crashed and restarted at
/// random. Whatever any node applied at an index, in any of its lives, is
/// what every node applies there; once all are back, the cluster agrees
/// again and every node holds the same commands.
#[test]
fn under_churn_no_committed_command_is_lost_or_replaced() {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Up,
        Cut,
        Crashed,
    }
    /// Reconnects a cut node or restarts a crashed one from its whole disk.
    fn bring_back(raft: &mut RaftCluster<u64>, member: NodeId, state: State) {
        match state {
            State::Cut => expect_ok(raft.connect(member), LESSON),
            State::Crashed => expect_ok(raft.restart(member, 0), LESSON),
            State::Up => {}
        }
    }
    sweep().by_default(8).run(|seed| async move {
        let mut raft: RaftCluster<u64> = RaftCluster::new(5, seed, NetworkConditions::unreliable());
        let members = raft.members().to_vec();
        let mut states = vec![State::Up; members.len()];
        let mut rng = seed.derive(9).rng();
        let mut next_command = 0_u64;
        for _ in 0..20 {
            for _ in 0..4 {
                for &member in &members {
                    next_command += 1;
                    let _ = raft.propose(member, next_command);
                }
                let pause = rng.random_range(0..175);
                raft.run_for(Duration::from_millis(pause)).await;
            }
            let which = rng.random_range(0..members.len());
            let (member, state) = (members[which], states[which]);
            if rng.random_range(0..100) < 20 && state == State::Up {
                expect_ok(raft.disconnect(member), LESSON);
                states[which] = State::Cut;
            }
            let which = rng.random_range(0..members.len());
            let (member, state) = (members[which], states[which]);
            if rng.random_range(0..100) < 50 {
                bring_back(&mut raft, member, state);
                states[which] = State::Up;
            }
            let which = rng.random_range(0..members.len());
            let (member, state) = (members[which], states[which]);
            if rng.random_range(0..100) < 20 && state == State::Up {
                expect_ok(raft.crash(member), LESSON);
                states[which] = State::Crashed;
            }
            expect_ok(raft.check_safety(), LESSON);
        }
        for (&member, &state) in members.iter().zip(&states) {
            bring_back(&mut raft, member, state);
        }
        raft.set_unreliable(false);
        let last = expect_ok(raft.agree(u64::MAX, 5).await, LESSON);
        let applied = raft.applied(members[0]).to_vec();
        // Over a thousand seeds the churn committed at least 7 commands.
        assert!(
            applied.iter().any(|&command| command != u64::MAX),
            "no command was committed during the churn: this test checked nothing"
        );
        for &member in &members {
            assert_eq!(
                raft.applied(member),
                applied.as_slice(),
                "{LESSON}: after the churn every node applied up to {last}; {member} applied \
                 other commands than {}",
                members[0]
            );
        }
    });
}
