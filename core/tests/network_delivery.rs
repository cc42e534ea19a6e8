//! The network delivers: one-way messages arrive after their latency, calls
//! get their answers, and a reliable network loses nothing however busy.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::sim::{NetworkConditions, Outcome, clock, simulate};
use coordination::{NodeId, Seed};
use rand::RngExt;
use support::{Msg, for_each_seed, ms, network_of, node, serve_counter};

/// A message arrives once, after a delay inside the latency range, and its
/// story in the trace is sent, then delivered.
#[test]
fn a_message_arrives_once_after_its_latency() {
    simulate(async {
        let conditions = NetworkConditions::reliable();
        let (network, nodes, mut inboxes) = network_of(2, Seed::new(1), conditions);
        let id = nodes[0]
            .send(node(2), Msg::Note(7))
            .expect("node-2 is on the network");

        let envelope = inboxes[1].recv().await.expect("node-2 is running");
        let travelled = clock::elapsed();
        assert_eq!(
            (envelope.from, envelope.to, envelope.message),
            (node(1), node(2), Msg::Note(7))
        );
        assert!(
            envelope.reply_to.is_none(),
            "a one-way message has no reply"
        );
        assert!(
            conditions.latency.shortest() <= travelled && travelled <= conditions.latency.longest(),
            "a reliable message travels 1 to 10 ms, this one {travelled:?}"
        );
        let story = network.trace().story_of(id);
        assert_eq!(
            story,
            [
                Outcome::Sent {
                    delay: travelled,
                    long_delay: false
                },
                Outcome::Delivered
            ],
            "{}",
            network.trace()
        );
    });
}

/// A message waits in the inbox until its receiver asks for it; nothing is
/// delivered before its time.
#[test]
fn a_message_is_not_delivered_before_it_is_due() {
    simulate(async {
        let conditions = NetworkConditions::reliable()
            .with_latency(ms(50), ms(50))
            .expect("50 ms is a range");
        let (network, nodes, mut inboxes) = network_of(2, Seed::new(1), conditions);
        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        network.run_for(ms(49)).await;
        assert_eq!(network.counts().of("note").delivered, 0);
        assert_eq!(network.counts().of("note").in_flight(), 1);
        network.run_for(ms(200)).await;
        // Due at 50 ms, taken at 249 ms: the receiver was busy elsewhere.
        let envelope = inboxes[1].recv().await.expect("running");
        assert_eq!(envelope.message, Msg::Note(1));
        assert_eq!(clock::elapsed(), ms(249));
    });
}

/// A call reaches the service, the handler runs once, and the answer comes
/// back to the caller within a round trip.
#[test]
fn a_call_gets_the_answer_of_the_handler() {
    simulate(async {
        let (network, nodes, inboxes) = network_of(2, Seed::new(3), NetworkConditions::reliable());
        let mut inboxes = inboxes.into_iter();
        let _client_inbox = inboxes.next();
        let counter = serve_counter(&nodes[1], inboxes.next().expect("two inboxes"));

        let answer = nodes[0]
            .call(node(2), Msg::Increment, ms(100))
            .await
            .expect("a reliable network answers within two latencies");
        assert_eq!(answer, Msg::Count(1));
        assert!(
            clock::elapsed() <= ms(20),
            "one round trip, got {:?}",
            clock::elapsed()
        );
        assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 1);
        let counts = network.counts();
        assert_eq!(
            (
                counts.of("increment").delivered,
                counts.of("count").delivered
            ),
            (1, 1)
        );
    });
}

/// Under reliable conditions thousands of messages between five busy nodes
/// all arrive, each exactly once, and the counts agree.
#[test]
fn a_reliable_network_loses_nothing() {
    for_each_seed(|seed| async move {
        let (network, nodes, inboxes) = network_of(5, seed, NetworkConditions::reliable());
        let per_node = 400_u64;
        let mut readers = Vec::new();
        for mut inbox in inboxes {
            readers.push(tokio::spawn(async move {
                let mut received = Vec::new();
                while received.len() < per_node as usize {
                    let envelope = inbox.recv().await.expect("nobody crashes here");
                    received.push(envelope.message);
                }
                received
            }));
        }
        // In round r every node sends one note to the node 1 + r % 4 places
        // after it: never itself, and every node receives one note a round.
        let mut rng = seed.rng();
        let mut sent_to: BTreeMap<NodeId, Vec<u64>> = BTreeMap::new();
        for round in 0..per_node {
            let offset = 1 + round % 4;
            for (index, sender) in (0_u64..).zip(&nodes) {
                let receiver = nodes[usize::try_from((index + offset) % 5).expect("below 5")].id();
                let note = round * 10 + index;
                sender.send(receiver, Msg::Note(note)).expect("known node");
                sent_to.entry(receiver).or_default().push(note);
            }
            tokio::time::sleep(Duration::from_micros(rng.random_range(0..3000))).await;
        }
        let mut received: BTreeMap<NodeId, Vec<u64>> = BTreeMap::new();
        for (receiver, reader) in nodes.iter().zip(readers) {
            let notes = reader.await.expect("readers do not panic");
            let notes = notes
                .into_iter()
                .map(|message| match message {
                    Msg::Note(note) => note,
                    other => panic!("only notes were sent, got {other:?}"),
                })
                .collect();
            received.insert(receiver.id(), notes);
        }
        for (receiver, mut expected) in sent_to {
            let mut got = received.remove(&receiver).unwrap_or_default();
            expected.sort_unstable();
            got.sort_unstable();
            assert_eq!(
                got, expected,
                "{receiver} did not receive exactly what was sent to it"
            );
        }
        let total = network.counts().total();
        assert_eq!(total.sent, 5 * per_node);
        assert_eq!(
            (total.delivered, total.dropped),
            (total.sent, 0),
            "{}",
            network.counts()
        );
    });
}
