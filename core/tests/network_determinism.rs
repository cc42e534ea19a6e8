//! Determinism is a property with a test: the same seed gives the same run,
//! byte for byte, through losses, long delays, duplicates, pauses, partitions
//! and crashes; and the counts agree with the trace they summarise.

mod support;

use std::collections::BTreeMap;

use coordination::sim::{
    KindCounts, Network, NetworkConditions, NetworkEvent, Outcome, Trace, simulate,
};
use coordination::{Probability, Seed};
use support::{Msg, for_each_seed, ms, node, serve_counter};

/// A busy run in the task style: node-1 and node-2 heartbeat each other and
/// call the counter on node-3, under unreliable conditions, while the test
/// pauses node-1, partitions node-2 away, and crashes and restarts the
/// counter.
async fn eventful_run(seed: Seed, conditions: NetworkConditions) -> Network<Msg> {
    let network = Network::new(seed, conditions);
    let (counter, counter_inbox) = network.add_node(node(3)).expect("new node");
    serve_counter(&counter, counter_inbox);
    for (me, peer) in [(1, 2), (2, 1)] {
        let (handle, mut inbox) = network.add_node(node(me)).expect("new node");
        let heart = handle.clone();
        handle
            .spawn(async move {
                for beat in 0.. {
                    heart
                        .send(node(peer), Msg::Note(beat))
                        .expect("the peer is known");
                    heart.sleep(ms(20)).await;
                }
            })
            .expect("running");
        let listener = handle.clone();
        handle
            .spawn(async move {
                while inbox.recv().await.is_some() {}
                drop(listener);
            })
            .expect("running");
        let client = handle.clone();
        handle
            .spawn(async move {
                loop {
                    // Timeouts are part of the run; the trace records them.
                    let _answer = client.call(node(3), Msg::Increment, ms(60)).await;
                    client.sleep(ms(15)).await;
                }
            })
            .expect("running");
    }
    network.run_for(ms(1_000)).await;
    network.pause(node(1)).expect("running");
    network.run_for(ms(700)).await;
    network.resume(node(1)).expect("paused");
    network.partition(&[&[node(2)]]).expect("known node");
    network.run_for(ms(500)).await;
    network.heal();
    network.crash(node(3)).expect("running");
    network.run_for(ms(300)).await;
    let (counter, counter_inbox) = network.restart(node(3)).expect("crashed");
    serve_counter(&counter, counter_inbox);
    network.run_for(ms(1_000)).await;
    network
}

/// The unreliable preset with one message in ten also arriving twice.
fn duplicating() -> NetworkConditions {
    let rate = Probability::new(0.1).expect("0.1 lies between 0 and 1");
    NetworkConditions::unreliable().with_duplication(rate)
}

/// Two runs with one seed print the same trace, byte for byte; a different
/// seed prints a different one; and so with duplicates.
#[test]
fn the_same_seed_gives_the_same_trace_byte_for_byte() {
    for conditions in [NetworkConditions::unreliable(), duplicating()] {
        let trace = |seed| {
            simulate(async move {
                let network = eventful_run(Seed::new(seed), conditions).await;
                network.trace().to_string()
            })
        };
        let first = trace(11);
        assert!(first.lines().count() > 800, "a busy run, got:\n{first}");
        assert_eq!(first, trace(11), "seed 11 ran differently twice");
        assert_ne!(first, trace(12), "seeds 11 and 12 ran the same");
    }
}

/// Every count is what the trace shows: sent is every message's first entry,
/// delivered and dropped are its last, and whatever is left is in flight.
#[test]
fn the_counts_agree_with_the_trace() {
    for_each_seed(|seed| async move {
        for conditions in [NetworkConditions::unreliable(), duplicating()] {
            check_counts_against_trace(eventful_run(seed, conditions).await);
        }
    });
}

/// Recounts what `network` did from its trace and compares with its counts.
fn check_counts_against_trace(network: Network<Msg>) {
    let counts = network.counts();
    let trace = network.trace();
    let from_trace = counts_from(&trace);
    for (kind, expected) in counts.kinds() {
        let seen = from_trace.get(kind).copied().unwrap_or_default();
        assert_eq!(
            seen, expected,
            "{kind}: counts say {expected:?}, the trace {seen:?}"
        );
    }
    assert_eq!(from_trace.len(), counts.kinds().count());
    assert!(counts.total().sent > 500, "{counts}");
}

/// Recounts a trace: a message is sent (or duplicated) at its first entry
/// and delivered or dropped at its last.
fn counts_from(trace: &Trace) -> BTreeMap<&'static str, KindCounts> {
    let mut counts: BTreeMap<&'static str, KindCounts> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in trace.entries() {
        if let NetworkEvent::Message {
            id, kind, outcome, ..
        } = &entry.event
        {
            let kind_counts = counts.entry(kind).or_default();
            if seen.insert(*id) {
                match outcome {
                    Outcome::Duplicated { .. } => kind_counts.duplicated += 1,
                    _ => kind_counts.sent += 1,
                }
            }
            match outcome {
                Outcome::Delivered => kind_counts.delivered += 1,
                Outcome::Dropped(_) => kind_counts.dropped += 1,
                Outcome::Held | Outcome::Sent { .. } | Outcome::Duplicated { .. } => {}
            }
        }
    }
    counts
}
