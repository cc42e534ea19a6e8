//! Exercise 3.4: the leader's work, and split brain. Edit
//! `workshop3/src/leader_work.rs`.
//!
//! Two of these tests *show a problem*: with your worker in place, a paused
//! leader's stale write reaches storage, and a partitioned leader goes on
//! believing it leads. They pass when the problem shows; exercise 3.5 is the
//! fix.
//!
//! Read `workshop3/README.md`, "Implement", 3.4. Run just these tests with
//! `cargo test -p workshop3 --test workshop ex3_4_leader_work`.

use coordination::sim::{NetworkConditions, clock};
use workshop3::testing::{
    assert_one_believer_at_a_time, first_leader, longest_trip, pause_mid_entry, rate, secs, start,
    story, sweep, writes_by,
};
use workshop3::{ClusterConfig, LEASE_STORE, NodeEvent, STORAGE, StepDown, run_candidate_and_work};

const LESSON: &str = "exercise 3.4 (split brain)";

/// What usually keeps a test of this exercise from finishing, for the
/// message of the guard that stops it.
const WHEN_STUCK: &str = "the worker going round without waiting while this node does not lead: sleep one \
     `work_time` before looking again";

/// The leader writes entry after entry under its own token; followers write
/// nothing.
#[test]
fn the_leader_writes_under_its_token_and_followers_write_nothing() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(3), run_candidate_and_work);
        cluster.run_for(secs(30)).await;
        let story = story(&cluster);
        let leaders = cluster.journal().beliefs();
        let [belief] = leaders.as_slice() else {
            panic!("{LESSON}: one leader for the whole run was expected.\n{story}")
        };
        let storage = cluster.storage();
        let strangers: Vec<_> = storage
            .accepted()
            .iter()
            .filter(|write| write.writer != belief.node || write.token != Some(belief.token))
            .collect();
        assert!(
            strangers.is_empty(),
            "{LESSON}: only {} leads, under {}; these writes came from elsewhere or without its \
             token: {strangers:?}. Write only while `leadership.token()` is Some, with that \
             token.\n{story}",
            belief.node,
            belief.token
        );
        let written = storage.accepted().len();
        assert!(
            (40..=55).contains(&written),
            "{LESSON}: leading from about 3 s to 30 s and taking 0.5 s per entry, the leader \
             should write about 50 entries; it wrote {written}.\n{story}"
        );
        let entries: Vec<u64> = storage.accepted().iter().map(|write| write.entry).collect();
        let counted: Vec<u64> = (1..).take(entries.len()).collect();
        assert_eq!(
            entries, counted,
            "{LESSON}: the leader's entries should be numbered 1, 2, 3, ... in the order it \
             wrote them, one number per entry.\n{story}"
        );
    });
}

/// Split brain, shown: a leader paused while preparing an entry wakes up
/// after another node took over and writes with its old token; storage,
/// which does not check tokens, accepts it after the new leader's writes.
#[test]
fn a_leader_paused_mid_entry_writes_after_its_successor_and_storage_accepts_it() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let cluster = start(seed, ClusterConfig::new(3), run_candidate_and_work);
        let leader = first_leader(&cluster, LESSON).await;
        let resumed_at = pause_mid_entry(&cluster, leader, secs(30), LESSON).await;
        cluster.run_for(secs(5)).await;

        let story = story(&cluster).since(resumed_at.saturating_sub(secs(35)));
        let storage = cluster.storage();
        let stale = storage
            .accepted()
            .iter()
            .find(|write| write.writer == leader && write.at >= resumed_at);
        let Some(stale) = stale else {
            panic!(
                "{LESSON}: {leader} was paused for 30 s while preparing an entry, after checking \
                 that it leads. When it woke it should have written that entry, as the code \
                 was told to: check once, prepare, write. (If your worker checks again after \
                 preparing: that narrows the gap but cannot close it, and this test shows the \
                 gap. Check once, before preparing.)\n{story}"
            )
        };
        let newer = storage.accepted().iter().find(|write| {
            write.writer != leader && write.position < stale.position && write.token > stale.token
        });
        assert!(
            newer.is_some(),
            "{LESSON}: while {leader} was paused another node should have taken over and \
             written with a newer token, before {leader}'s stale entry.\n{story}"
        );
    });
}

/// A leader cut off from the lease store (but not from storage) goes on
/// believing it leads, and writing, until its renew deadline. The lease
/// outlasts the deadline, so the new leader starts only after it stopped.
#[test]
fn a_partitioned_leader_keeps_believing_and_writing_until_its_renew_deadline() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(3);
        let cluster = start(seed, config, run_candidate_and_work);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(5)).await;
        let cut_at = clock::elapsed();
        let others: Vec<_> = cluster
            .candidates()
            .into_iter()
            .filter(|node| *node != leader)
            .chain([LEASE_STORE])
            .collect();
        cluster
            .network()
            .partition(&[&[leader, STORAGE], &others])
            .expect("every node is known and named once");
        cluster.run_for(secs(30)).await;
        cluster.network().heal();
        cluster.run_for(secs(10)).await;

        let story = story(&cluster);
        let stepped_down = cluster.journal().first_step_down(leader);
        let Some((stepped_down_at, StepDown::RenewDeadlinePassed)) = stepped_down else {
            panic!(
                "{LESSON}: cut off from the lease store, {leader} should step down at its renew deadline.\n{story}"
            )
        };
        let late_writes = writes_by(&cluster, leader)
            .into_iter()
            .filter(|write| write.at > cut_at)
            .count();
        assert!(
            late_writes >= 10,
            "{LESSON}: cut off from the lease store and from the other candidates, {leader} \
             still believed it led until {:.3}s, and could reach storage: it should have kept \
             writing (it wrote {late_writes} entries after the cut at {:.3}s).\n{story}",
            stepped_down_at.as_secs_f64(),
            cut_at.as_secs_f64()
        );
        let successor_from = cluster
            .journal()
            .beliefs()
            .into_iter()
            .find(|belief| belief.node != leader)
            .map(|belief| belief.from);
        assert!(
            successor_from.is_some_and(|from| from
                >= stepped_down_at + config.election.lease_duration()
                    - config.election.renew_deadline()),
            "{LESSON}: a new leader may start only after the old lease expired, which is at \
             least lease duration - renew deadline after the old leader's deadline.\n{story}"
        );
        assert_one_believer_at_a_time(&cluster, LESSON);
    });
}

/// A leader that steps down stops writing under its old token: at most the
/// entry it was already preparing gets out, because the worker asks
/// `leadership` again before every entry.
#[test]
fn a_leader_that_stepped_down_writes_nothing_more_under_its_old_token() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        let config = ClusterConfig::new(3);
        let cluster = start(seed, config, run_candidate_and_work);
        let leader = first_leader(&cluster, LESSON).await;
        let old = cluster
            .journal()
            .beliefs()
            .into_iter()
            .find(|belief| belief.node == leader)
            .expect("the leader's belief is in the journal");
        cluster.run_for(secs(4)).await;
        cluster.revoke_lease();
        cluster.run_for(secs(30)).await;

        let story = story(&cluster);
        let Some((stepped_down_at, _)) = cluster.journal().first_step_down(leader) else {
            panic!(
                "{LESSON}: the lease store revoked {leader}'s lease; its next renewal should \
                 have told it to step down.\n{story}"
            )
        };
        // The entry being prepared when it stepped down may still be
        // written: it was checked before, and the write takes one trip.
        let last_allowed = stepped_down_at + config.work_time + 2 * longest_trip(&config);
        let late: Vec<_> = writes_by(&cluster, leader)
            .into_iter()
            .filter(|write| write.token == Some(old.token) && write.at > last_allowed)
            .collect();
        assert!(
            late.is_empty(),
            "{LESSON}: {leader} stepped down from {} at {:.3}s but went on writing under it: \
             {late:?}. A token is good only while `leadership.token()` says so; ask for it \
             again before every entry, do not keep the one you got first.\n{story}",
            old.token,
            stepped_down_at.as_secs_f64()
        );
    });
}

/// A write that gets no answer is not the end of the leader's work: the
/// entry may or may not be stored, and the next round writes the next one.
#[test]
fn a_write_that_gets_no_answer_does_not_stop_the_leaders_work() {
    sweep().when_stuck(WHEN_STUCK).run(|seed| async move {
        // One message in five is lost: over two minutes, several writes or
        // their acknowledgements go missing.
        let config = ClusterConfig {
            conditions: NetworkConditions::reliable().with_message_loss(rate(0.2)),
            ..ClusterConfig::new(1)
        };
        let cluster = start(seed, config, run_candidate_and_work);
        let leader = first_leader(&cluster, LESSON).await;
        cluster.run_for(secs(110)).await;
        let from = clock::elapsed();
        cluster.run_for(secs(10)).await;

        let story = story(&cluster).since(from);
        let recent = writes_by(&cluster, leader)
            .into_iter()
            .filter(|write| write.at >= from)
            .count();
        assert!(
            recent > 0 || !cluster.leaders().contains(&leader),
            "{LESSON}: {leader} still leads after two minutes on a network that loses one \
             message in five, but wrote nothing in the last 10 s. A write that times out may \
             or may not have been stored; go on with the next entry instead of \
             stopping.\n{story}"
        );
        let superseded = cluster
            .journal()
            .entries()
            .into_iter()
            .find(|entry| {
                matches!(
                    entry.event,
                    NodeEvent::SteppedDown {
                        reason: StepDown::Superseded,
                        ..
                    }
                )
            })
            .map(|entry| format!("{} at {:.3}s", entry.node, entry.at.as_secs_f64()));
        assert!(
            superseded.is_none(),
            "{LESSON}: storage here has no fencing and never says a newer leader wrote, yet {} \
             stepped down as superseded. A write that gets no answer says nothing about who \
             leads; step down only when `means_superseded()` is true.\n{story}",
            superseded.unwrap_or_default()
        );
    });
}
