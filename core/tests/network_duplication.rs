//! A network that duplicates: a message that was not lost may arrive a second
//! time, as its own message. A duplicated request runs its handler twice; a
//! call still takes exactly one answer.

mod support;

use std::sync::atomic::Ordering;

use coordination::sim::{DropReason, NetworkConditions, NetworkEvent, Outcome, simulate};
use coordination::{Probability, Seed};
use support::{Msg, for_each_seed, ms, network_of, node, outcomes, rate, serve_counter};

/// Every message duplicated, nothing else going wrong.
fn always_twice() -> NetworkConditions {
    NetworkConditions::reliable().with_duplication(Probability::ALWAYS)
}

/// Neither preset duplicates: a protocol meets duplicates only when a test
/// asks for them.
#[test]
fn the_presets_never_duplicate() {
    for preset in [
        NetworkConditions::reliable(),
        NetworkConditions::unreliable(),
    ] {
        assert_eq!(preset.duplication, Probability::NEVER);
    }
}

/// A duplicated one-way note reaches its receiver twice, as two messages with
/// ids of their own; the trace names the message the copy was made from.
#[test]
fn a_duplicated_note_arrives_twice() {
    simulate(async {
        let (network, nodes, mut inboxes) = network_of(2, Seed::new(1), always_twice());
        let sent = nodes[0].send(node(2), Msg::Note(7)).expect("node-2 exists");
        let first = inboxes[1].recv().await.expect("node-2 is running");
        let second = inboxes[1].recv().await.expect("node-2 is running");
        assert_eq!(
            (first.message, second.message),
            (Msg::Note(7), Msg::Note(7))
        );
        assert_ne!(first.id, second.id, "the copy is a message of its own");
        assert!([first.id, second.id].contains(&sent));

        let counts = network.counts().of("note");
        assert_eq!(
            (counts.sent, counts.duplicated, counts.delivered),
            (1, 1, 2)
        );
        let copies: Vec<_> = network
            .trace()
            .entries()
            .iter()
            .filter_map(|entry| match entry.event {
                NetworkEvent::Message {
                    id,
                    outcome: Outcome::Duplicated { of, .. },
                    ..
                } => Some((id, of)),
                _ => None,
            })
            .collect();
        let copy = if first.id == sent {
            second.id
        } else {
            first.id
        };
        assert_eq!(copies, [(copy, sent)]);
    });
}

/// A duplicated request runs the handler twice, and each of its answers is
/// duplicated too: four answers for one call. The caller takes exactly one,
/// the others are dropped, and nothing is left in flight.
#[test]
fn a_duplicated_call_runs_the_handler_twice_and_takes_one_answer() {
    simulate(async {
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), always_twice());
        let counter = serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));

        let answer = nodes[0]
            .call(node(2), Msg::Increment, ms(100))
            .await
            .expect("nothing is lost");
        assert!(
            matches!(answer, Msg::Count(1 | 2)),
            "the answer of one of the two runs, got {answer:?}"
        );
        network.run_for(ms(100)).await;
        assert_eq!(
            counter.load(Ordering::SeqCst),
            2,
            "the handler ran once per copy of the request"
        );
        let counts = network.counts().of("count");
        assert_eq!((counts.sent, counts.duplicated), (2, 2));
        assert_eq!((counts.delivered, counts.dropped), (1, 3));
        let settled = outcomes(&network.trace(), |outcome| {
            matches!(
                outcome,
                Outcome::Dropped(DropReason::AlreadyAnswered | DropReason::CallerGaveUp)
            )
        });
        assert_eq!(settled, 3, "{}", network.trace());
        assert_eq!(network.counts().total().in_flight(), 0);
    });
}

/// Of the messages that travel, the share that arrives twice is the rate:
/// within 0.05 of it for 2,000 notes, more than five standard deviations of
/// the binomial count (0.009).
#[test]
fn duplicates_happen_at_their_rate() {
    for_each_seed(|seed| async move {
        let conditions = NetworkConditions::reliable().with_duplication(rate(0.2));
        let (network, nodes, mut inboxes) = network_of(2, seed, conditions);
        let notes = 2_000_u64;
        for number in 0..notes {
            nodes[0]
                .send(node(2), Msg::Note(number))
                .expect("node-2 exists");
        }
        let counts = network.counts().of("note");
        let share = counts.duplicated as f64 / notes as f64;
        assert!(
            (0.15..=0.25).contains(&share),
            "seed {seed}: {share:.3} of notes duplicated, expected about 0.2"
        );
        let mut received = 0;
        while received < notes + counts.duplicated {
            inboxes[1].recv().await.expect("node-2 is running");
            received += 1;
        }
        assert_eq!(network.counts().total().in_flight(), 0);
    });
}
