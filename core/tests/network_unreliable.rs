//! The unreliable network loses requests and replies and holds messages back
//! at the documented rates, and each loss looks to the caller the way it would
//! in production: a timeout that cannot tell "never happened" from "happened,
//! answer lost".

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use coordination::sim::{CallError, DropReason, NetworkConditions, Outcome, Trace, simulate};
use coordination::{Probability, Seed};
use support::{Msg, for_each_seed, ms, network_of, node, outcomes, rate, serve_counter};

/// How often each fault struck in one run, out of how many chances.
#[derive(Debug, Default, Clone, Copy)]
struct Rates {
    /// Notes and requests that left their sender.
    requests: usize,
    /// Of those, lost.
    lost: usize,
    /// Replies that left their sender (their handler ran).
    replies: usize,
    /// Of those, lost.
    replies_lost: usize,
    /// Messages that travelled (not lost).
    travelled: usize,
    /// Of those, held back.
    held_back: usize,
}

impl Rates {
    fn of(trace: &Trace) -> Self {
        let is_reply = |kind: &str| kind == "count";
        let mut rates = Rates::default();
        for entry in trace.entries() {
            if let coordination::sim::NetworkEvent::Message { kind, outcome, .. } = &entry.event {
                match outcome {
                    Outcome::Sent { long_delay, .. } => {
                        rates.travelled += 1;
                        rates.held_back += usize::from(*long_delay);
                        if is_reply(kind) {
                            rates.replies += 1;
                        } else {
                            rates.requests += 1;
                        }
                    }
                    Outcome::Dropped(DropReason::Lost) => {
                        rates.requests += 1;
                        rates.lost += 1;
                    }
                    Outcome::Dropped(DropReason::ReplyLost) => {
                        rates.replies += 1;
                        rates.replies_lost += 1;
                    }
                    _ => {}
                }
            }
        }
        rates
    }

    fn add(self, other: Self) -> Self {
        Self {
            requests: self.requests + other.requests,
            lost: self.lost + other.lost,
            replies: self.replies + other.replies,
            replies_lost: self.replies_lost + other.replies_lost,
            travelled: self.travelled + other.travelled,
            held_back: self.held_back + other.held_back,
        }
    }

    /// Checks each rate against `expected`, allowing five standard deviations
    /// of a binomial count with this many chances: wide for one seed's few
    /// hundred replies, a point or so for thousands pooled over many seeds.
    /// Five is far enough that no seed fails by bad luck.
    #[track_caller]
    fn assert_near(&self, expected: f64) {
        for (what, hits, chances) in [
            ("lost requests", self.lost, self.requests),
            ("lost replies", self.replies_lost, self.replies),
            ("held-back messages", self.held_back, self.travelled),
        ] {
            let observed = hits as f64 / chances as f64;
            let tolerance = 5.0 * (expected * (1.0 - expected) / chances as f64).sqrt();
            assert!(
                (observed - expected).abs() <= tolerance,
                "{what}: {hits} of {chances} is {:.1}%, expected {:.0}% ± {:.1}%",
                observed * 100.0,
                expected * 100.0,
                tolerance * 100.0
            );
        }
    }
}

/// One busy unreliable run: 500 notes and 500 calls from node-1 to node-2,
/// which serves a counter; returns the run's trace.
async fn busy_unreliable_run(seed: Seed) -> Trace {
    let (network, nodes, inboxes) = network_of(2, seed, NetworkConditions::unreliable());
    let mut inboxes = inboxes.into_iter();
    let _client_inbox = inboxes.next();
    serve_counter(&nodes[1], inboxes.next().expect("two nodes"));
    for note in 0..500 {
        nodes[0].send(node(2), Msg::Note(note)).expect("known node");
    }
    for _ in 0..500 {
        // Timeouts are expected; only the trace matters here.
        let _answer = nodes[0].call(node(2), Msg::Increment, ms(50)).await;
    }
    network.trace()
}

/// For every seed, each unreliable rate lands near the documented 10%.
#[test]
fn unreliable_rates_stay_near_ten_percent_for_every_seed() {
    for_each_seed(|seed| async move {
        Rates::of(&busy_unreliable_run(seed).await).assert_near(0.10);
    });
}

/// Pooled over 20 seeds, the unreliable rates are the documented 10%, within
/// about a point and a half.
#[test]
fn unreliable_rates_average_to_the_documented_ten_percent() {
    let pooled = (1..=20).fold(Rates::default(), |pooled, seed| {
        pooled.add(Rates::of(&simulate(busy_unreliable_run(Seed::new(seed)))))
    });
    pooled.assert_near(0.10);
}

/// A lost request never reaches the handler: the caller times out and nothing
/// took effect.
#[test]
fn a_lost_request_times_out_and_takes_no_effect() {
    simulate(async {
        let conditions = NetworkConditions::reliable().with_message_loss(Probability::ALWAYS);
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), conditions);
        let counter = serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));

        let outcome = nodes[0].call(node(2), Msg::Increment, ms(100)).await;
        assert!(
            matches!(outcome, Err(CallError::TimedOut { .. })),
            "{outcome:?}"
        );
        assert_eq!(
            counter.load(Ordering::SeqCst),
            0,
            "the request was lost on the way"
        );
        assert_eq!(
            outcomes(&network.trace(), |o| *o
                == Outcome::Dropped(DropReason::Lost)),
            1
        );
    });
}

/// A reply lost after the handler ran: the caller sees the same timeout, but
/// the increment happened, which is why a timeout says "may have been
/// applied".
#[test]
fn a_reply_lost_after_the_handler_ran_times_out_but_took_effect() {
    simulate(async {
        let conditions = NetworkConditions::reliable().with_reply_loss(Probability::ALWAYS);
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), conditions);
        let counter = serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));

        let error = nodes[0]
            .call(node(2), Msg::Increment, ms(100))
            .await
            .expect_err("every reply is lost");
        assert!(
            error.may_have_been_applied() && error.is_retryable(),
            "{error}"
        );
        assert_eq!(
            counter.load(Ordering::SeqCst),
            1,
            "the handler ran before the reply was lost"
        );
        let trace = network.trace();
        assert_eq!(
            outcomes(&trace, |o| *o == Outcome::Dropped(DropReason::ReplyLost)),
            1,
            "{trace}"
        );
    });
}

/// Retrying after a lost reply applies the request twice: the duplicate that
/// exactly-once processing has to remove.
#[test]
fn retrying_after_a_lost_reply_applies_the_request_twice() {
    simulate(async {
        let lossy = NetworkConditions::reliable().with_reply_loss(Probability::ALWAYS);
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), lossy);
        let counter = serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));

        let first = nodes[0].call(node(2), Msg::Increment, ms(100)).await;
        assert!(first.is_err());
        network.set_conditions(NetworkConditions::reliable());
        let retry = nodes[0].call(node(2), Msg::Increment, ms(100)).await;
        assert_eq!(
            retry,
            Ok(Msg::Count(2)),
            "the retry sees the first increment too"
        );
        assert_eq!(counter.load(Ordering::SeqCst), 2);
    });
}

/// An answer slower than the caller's patience is dropped when the caller
/// gives up, and the handler had run: a late answer is no answer.
#[test]
fn an_answer_after_the_timeout_is_dropped_and_the_handler_ran() {
    simulate(async {
        let slow = NetworkConditions::reliable()
            .with_latency(ms(100), ms(100))
            .expect("100 ms is a range");
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), slow);
        let counter = serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));

        let outcome = nodes[0].call(node(2), Msg::Increment, ms(150)).await;
        assert_eq!(
            outcome,
            Err(CallError::TimedOut {
                to: node(2),
                after: ms(150)
            })
        );
        assert_eq!(coordination::sim::clock::elapsed(), ms(150));
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        let trace = network.trace();
        assert_eq!(
            outcomes(&trace, |o| *o == Outcome::Dropped(DropReason::CallerGaveUp)),
            1,
            "{trace}"
        );
        assert_eq!(
            network.counts().total().in_flight(),
            0,
            "{}",
            network.counts()
        );
    });
}

/// Held-back messages are overtaken: notes sent one after another arrive out
/// of order.
#[test]
fn long_delays_let_later_messages_overtake_earlier_ones() {
    for_each_seed(|seed| async move {
        let conditions = NetworkConditions::reliable()
            .with_long_delay(rate(0.3), ms(200), ms(2200))
            .expect("200 ms comes before 2.2 s");
        let (_network, nodes, mut inboxes) = network_of(2, seed, conditions);
        for note in 0..100 {
            nodes[0].send(node(2), Msg::Note(note)).expect("known node");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mut order = Vec::new();
        while order.len() < 100 {
            match inboxes[1].recv().await.map(|envelope| envelope.message) {
                Some(Msg::Note(note)) => order.push(note),
                other => panic!("only notes were sent, got {other:?}"),
            }
        }
        let overtaken = order.windows(2).filter(|pair| pair[0] > pair[1]).count();
        assert!(overtaken > 0, "no note arrived out of order: {order:?}");
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..100).collect::<Vec<_>>(),
            "every note arrives exactly once"
        );
    });
}
