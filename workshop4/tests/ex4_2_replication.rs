//! Exercise 4.2: log replication. Edit `workshop4/src/replication.rs`.
//!
//! Read `workshop4/README.md`, "Implement", 4.2. Run just these tests with
//! `cargo test -p workshop4 --test workshop ex4_2_replication`. They step messages
//! into nodes by hand: a follower's answers to appends, and a leader's
//! backoff, up to the moment a follower accepts (what the leader does with
//! an acceptance is exercise 4.3). The leaders are elected with your 4.1.

use workshop4::testing::{elect, node, node_with_log, term};
use workshop4::{
    AppendOutcome, AppendRequest, AppendResponse, Entry, LogIndex, RaftMessage, RaftNode,
};

const LESSON: &str = "exercise 4.2 (log replication)";

/// An append from the leader of term `leader_term`: after index `prev` of
/// term `prev_term`, entries of the given terms (commands 100, 101, …).
fn append(leader_term: u64, prev: u64, prev_term: u64, terms: &[u64]) -> RaftMessage<u64> {
    let entries = (1..)
        .zip(terms)
        .map(|(offset, &entry_term)| Entry {
            index: LogIndex::new(prev + offset),
            term: term(entry_term),
            command: 99 + prev + offset,
        })
        .collect();
    RaftMessage::AppendEntries(AppendRequest {
        term: term(leader_term),
        prev_log_index: LogIndex::new(prev),
        prev_log_term: term(prev_term),
        entries,
        leader_commit: LogIndex::ZERO,
    })
}

/// The answer `follower` sent to the last append.
fn answer(follower: &mut RaftNode<u64>) -> AppendOutcome {
    follower
        .take_messages()
        .into_iter()
        .find_map(|(_, message)| match message {
            RaftMessage::AppendResponse(response) => Some(response.outcome),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{LESSON}: the follower sent no answer to the append"))
}

fn terms_of(raft: &RaftNode<u64>) -> Vec<u64> {
    raft.log()
        .entries()
        .iter()
        .map(|entry| entry.term.get())
        .collect()
}

/// A follower whose log is too short for the append's previous entry
/// refuses it and says where its log ends.
#[test]
fn an_append_past_the_end_of_the_log_is_refused_with_the_log_end() {
    let mut follower = node_with_log(2, 3, 3, &[1, 1, 2]);
    follower
        .step(node(1), append(3, 5, 3, &[3]))
        .expect("member");
    assert_eq!(
        answer(&mut follower),
        AppendOutcome::Rejected {
            conflict_index: LogIndex::new(4),
            conflict_term: None
        },
        "{LESSON}: the follower has 3 entries, so it cannot check index 5; it refuses and \
         points the leader at index 4, just past its log"
    );
    assert_eq!(
        terms_of(&follower),
        [1, 1, 2],
        "{LESSON}: a refused append changes nothing"
    );
}

/// A follower whose entry before the append has another term refuses it
/// and names that term and where the term starts in its log.
#[test]
fn an_append_after_a_conflicting_entry_is_refused_with_the_conflicting_term() {
    let mut follower = node_with_log(2, 3, 4, &[1, 2, 2, 2, 3]);
    follower
        .step(node(1), append(4, 4, 4, &[4]))
        .expect("member");
    assert_eq!(
        answer(&mut follower),
        AppendOutcome::Rejected {
            conflict_index: LogIndex::new(2),
            conflict_term: Some(term(2))
        },
        "{LESSON}: at index 4 the follower has term 2, the leader term 4; term 2 starts at index \
         2 in the follower's log, so the leader can skip all of it at once"
    );
    assert_eq!(
        terms_of(&follower),
        [1, 2, 2, 2, 3],
        "{LESSON}: a refused append changes nothing"
    );
}

/// Entries that conflict with the leader's are deleted, with everything
/// after them, and the leader's take their place.
#[test]
fn conflicting_entries_are_truncated_and_replaced() {
    let mut follower = node_with_log(2, 3, 3, &[1, 1, 2, 2, 2]);
    follower
        .step(node(1), append(3, 2, 1, &[3, 3]))
        .expect("member");
    assert_eq!(
        answer(&mut follower),
        AppendOutcome::Accepted {
            match_index: LogIndex::new(4)
        },
        "{LESSON}: index 2 matches, so the append is accepted up to index 2 + 2 entries"
    );
    assert_eq!(
        terms_of(&follower),
        [1, 1, 3, 3],
        "{LESSON}: the term-2 entries at 3..=5 conflict with the leader's term-3 entries: \
         truncate from index 3, then append; index 5 goes too, it came after a conflict"
    );
}

/// An append the follower already holds (a duplicate, or one overtaken by a
/// newer append) changes nothing: it must not cut off the newer entries.
#[test]
fn a_late_duplicate_append_does_not_cut_off_newer_entries() {
    let mut follower = node_with_log(2, 3, 1, &[]);
    follower
        .step(node(1), append(1, 0, 0, &[1, 1, 1]))
        .expect("member");
    answer(&mut follower);
    follower
        .step(node(1), append(1, 0, 0, &[1]))
        .expect("member");
    assert_eq!(
        answer(&mut follower),
        AppendOutcome::Accepted {
            match_index: LogIndex::new(1)
        },
        "{LESSON}: the late append verified index 1 only: report match 1, not the log's end"
    );
    assert_eq!(
        terms_of(&follower),
        [1, 1, 1],
        "{LESSON}: a late append of entry 1 arrived after one of entries 1-3; entry 1 already \
         matches, so nothing is truncated. Truncate only on a conflict (same index, other term)"
    );
}

/// An empty append (a probe) that passes the check is accepted at its
/// previous index and leaves a longer log alone.
#[test]
fn a_probe_that_matches_is_accepted_without_touching_the_log() {
    let mut follower = node_with_log(2, 3, 2, &[1, 1, 2, 2]);
    follower
        .step(node(1), append(2, 2, 1, &[]))
        .expect("member");
    assert_eq!(
        answer(&mut follower),
        AppendOutcome::Accepted {
            match_index: LogIndex::new(2)
        },
        "{LESSON}: a probe at index 2 of term 1 matches; it verifies index 2, nothing beyond"
    );
    assert_eq!(
        terms_of(&follower),
        [1, 1, 2, 2],
        "{LESSON}: a probe carries no entries: nothing to truncate, nothing to append"
    );
}

/// The previous index of the append the leader sent to `follower` last.
fn resent_from(leader: &mut RaftNode<u64>, follower: u32) -> LogIndex {
    leader
        .take_messages()
        .into_iter()
        .find_map(|(to, message)| match message {
            RaftMessage::AppendEntries(request) if to == node(follower) => {
                Some(request.prev_log_index)
            }
            _ => None,
        })
        .unwrap_or_else(|| {
            panic!(
                "{LESSON}: after a rejection the leader must send node-{follower} another append"
            )
        })
}

fn rejection(
    leader_term: u64,
    conflict_index: u64,
    conflict_term: Option<u64>,
) -> RaftMessage<u64> {
    RaftMessage::AppendResponse(AppendResponse {
        term: term(leader_term),
        outcome: AppendOutcome::Rejected {
            conflict_index: LogIndex::new(conflict_index),
            conflict_term: conflict_term.map(term),
        },
    })
}

/// After a rejection the leader skips back a whole term at a time: past
/// its own last entry of the conflicting term if it has one, else to where
/// that term starts in the follower's log; never below index 1.
#[test]
fn a_rejected_leader_skips_back_a_term_at_a_time() {
    let mut leader = node_with_log(1, 3, 6, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
    elect(&mut leader);
    let leader_term = leader.term().get();
    let cases = [
        (
            (11, Some(4)),
            6,
            "the leader's last term-4 entry is index 5: try from 6",
        ),
        (
            (7, Some(2)),
            7,
            "the leader has no term 2: go to where it starts at the follower, 7",
        ),
        ((4, None), 4, "the follower's log ends at 3: try from 4"),
        ((0, None), 1, "nothing comes before index 1"),
    ];
    for ((conflict_index, conflict_term), next, why) in cases {
        leader
            .step(
                node(2),
                rejection(leader_term, conflict_index, conflict_term),
            )
            .expect("member");
        let next_index = leader.progress(node(2)).map(|progress| progress.next_index);
        assert_eq!(
            next_index,
            Some(LogIndex::new(next)),
            "{LESSON}: leader log terms [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], rejection with conflict \
             index {conflict_index} and term {conflict_term:?}: {why}"
        );
        assert_eq!(
            resent_from(&mut leader, 2),
            LogIndex::new(next - 1),
            "{LESSON}: the next append starts at the new next index"
        );
    }
}

/// Every follower of the paper's Figure 7 ends up with the leader's log in
/// at most three round trips: missing entries are filled in, extra and
/// conflicting ones replaced.
#[test]
fn every_follower_of_figure_7_ends_with_the_leaders_log() {
    // Figure 7: the leader's log, and followers (a) to (f).
    let leader_log = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let followers: [(&str, &[u64]); 6] = [
        ("a", &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
        ("b", &[1, 1, 1, 4]),
        ("c", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        ("d", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        ("e", &[1, 1, 1, 4, 4, 4, 4]),
        ("f", &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ];
    let mut leader = node_with_log(1, 7, 7, &leader_log);
    elect(&mut leader);
    assert_eq!(
        leader.term(),
        term(8),
        "set-up: Figure 7's leader leads term 8"
    );
    leader.propose(11).expect("the leader takes commands");
    let mut expected = leader_log.to_vec();
    expected.push(8);

    for (position, (name, log)) in (2..).zip(followers) {
        let mut follower = node_with_log(position, 7, 7, log);
        let mut accepted = false;
        let mut to_follower: Vec<RaftMessage<u64>> =
            vec![RaftMessage::Heartbeat(workshop4::Heartbeat {
                term: term(8),
                commit: LogIndex::ZERO,
            })];
        let mut round_trips = 0;
        while !accepted && round_trips < 10 {
            for message in std::mem::take(&mut to_follower) {
                follower.step(node(1), message).expect("member");
            }
            for (_, reply) in follower.take_messages() {
                if let RaftMessage::AppendResponse(AppendResponse {
                    outcome: AppendOutcome::Accepted { .. },
                    ..
                }) = reply
                {
                    accepted = true;
                } else {
                    leader.step(node(position), reply).expect("member");
                }
            }
            to_follower.extend(
                leader
                    .take_messages()
                    .into_iter()
                    .filter(|(to, _)| *to == node(position))
                    .map(|(_, message)| message),
            );
            round_trips += 1;
        }
        assert_eq!(
            terms_of(&follower),
            expected,
            "{LESSON}: Figure 7 follower ({name}) should end with the leader's log"
        );
        // One round trip is the heartbeat that tells the leader the follower
        // is there; then at most three appends.
        assert!(
            round_trips <= 4,
            "{LESSON}: follower ({name}) needed {} appends; skipping back a term per rejection \
             needs at most 3",
            round_trips - 1
        );
    }
}

/// With appends bounded (as a driver on real sockets bounds them), a
/// follower far behind is sent the log in pieces: after its rejection, one
/// append of at most the bound, whatever the gap.
#[test]
fn a_follower_far_behind_gets_the_log_in_bounded_appends() {
    let ids: Vec<_> = (1..=3).map(node).collect();
    let config = workshop4::RaftConfig::paper().with_max_entries_per_append(64);
    let mut leader = RaftNode::new(node(1), &ids, config, coordination::Seed::new(1))
        .expect("a member")
        .with_history(term(1), (1..=200).map(|command| (term(1), command)))
        .expect("a possible history");
    elect(&mut leader);
    let leader_term = leader.term().get();
    leader.take_messages();
    leader
        .step(node(2), rejection(leader_term, 1, None))
        .expect("member");
    let sizes: Vec<usize> = leader
        .take_messages()
        .into_iter()
        .filter_map(|(to, message)| match message {
            RaftMessage::AppendEntries(request) if to == node(2) => Some(request.entries.len()),
            _ => None,
        })
        .collect();
    assert_eq!(
        sizes,
        vec![64],
        "{LESSON}: a follower with an empty log must be sent one append of the first 64 of \
         the leader's 200 entries (the given `send_append` bounds it); were several appends \
         sent, or none?"
    );
}
