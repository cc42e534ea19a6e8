//! One-way replies: a protocol that answers with one-way messages (Raft's
//! votes and append responses) can ask the network to treat those answers as
//! replies, for reply loss and for long delays that hold back replies only,
//! as `labrpc`'s long reordering does. Both settings are off in the presets,
//! and off they change nothing, down to the random draws.

use coordination::sim::{
    DropReason, Inbox, Message, Network, NetworkConditions, NetworkEvent, Node, Outcome, Trace,
    simulate,
};
use coordination::{NodeId, Probability, Seed};

/// A ping and its one-way answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Talk {
    /// Asks for a pong.
    Ping(u64),
    /// Answers a ping, one way.
    Pong(u64),
}

impl Message for Talk {
    fn kind(&self) -> &'static str {
        match self {
            Talk::Ping(_) => "ping",
            Talk::Pong(_) => "pong",
        }
    }

    fn is_reply(&self) -> bool {
        matches!(self, Talk::Pong(_))
    }
}

/// The same talk, from a protocol that does not say which messages answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unmarked(Talk);

impl Message for Unmarked {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
}

fn node(raw: u32) -> NodeId {
    NodeId::new(raw)
}

/// A node's handle and its inbox.
type Member<M> = (Node<M>, Inbox<M>);

fn pair<M: Message>(seed: Seed, conditions: NetworkConditions) -> (Network<M>, [Member<M>; 2]) {
    let network = Network::new(seed, conditions);
    let first = network.add_node(node(1)).expect("a new id");
    let second = network.add_node(node(2)).expect("a new id");
    (network, [first, second])
}

/// Node 1 pings node 2 and node 2 pongs back, `count` times each, one
/// millisecond apart; then the network runs until everything has arrived.
async fn ping_pong<M: Message>(
    seed: Seed,
    conditions: NetworkConditions,
    wrap: impl Fn(Talk) -> M,
    count: u64,
) -> Trace {
    let (network, [(one, _inbox_one), (two, _inbox_two)]) = pair::<M>(seed, conditions);
    for round in 0..count {
        one.send(node(2), wrap(Talk::Ping(round)))
            .expect("node-2 exists");
        two.send(node(1), wrap(Talk::Pong(round)))
            .expect("node-1 exists");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    network.run_for(std::time::Duration::from_secs(3)).await;
    network.trace()
}

/// Each message's kind and outcome as it left, in order.
fn departures(trace: &Trace) -> Vec<(&'static str, Outcome)> {
    trace
        .entries()
        .iter()
        .filter_map(|entry| match entry.event {
            NetworkEvent::Message { kind, outcome, .. } if outcome != Outcome::Delivered => {
                Some((kind, outcome))
            }
            _ => None,
        })
        .collect()
}

/// Neither preset treats one-way messages as replies or holds back replies
/// only.
#[test]
fn the_presets_leave_both_settings_off() {
    for preset in [
        NetworkConditions::reliable(),
        NetworkConditions::unreliable(),
    ] {
        assert!(
            !preset.one_way_replies && !preset.long_delay_replies_only,
            "a preset turned a reply setting on: old seeds would replay differently"
        );
    }
}

/// With both settings off, a protocol that marks its answers runs exactly as
/// one that does not: same fates, same delays, same draws.
#[test]
fn with_the_settings_off_marking_replies_changes_nothing() {
    let marked = simulate(ping_pong(
        Seed::new(5),
        NetworkConditions::unreliable(),
        |talk| talk,
        200,
    ));
    let unmarked = simulate(ping_pong(
        Seed::new(5),
        NetworkConditions::unreliable(),
        Unmarked,
        200,
    ));
    assert_eq!(
        marked.to_string(),
        unmarked.to_string(),
        "marking one-way replies must not change a run unless a setting asks for it"
    );
}

/// With one-way replies on, a one-way answer is lost at the reply rate, and
/// the trace says it was a reply that was lost.
#[test]
fn one_way_replies_are_lost_at_the_reply_rate() {
    let conditions = NetworkConditions::reliable()
        .with_reply_loss(Probability::ALWAYS)
        .with_one_way_replies();
    let trace = simulate(ping_pong(Seed::new(1), conditions, |talk| talk, 20));
    let departed = departures(&trace);
    assert!(
        departed
            .iter()
            .filter(|(kind, _)| *kind == "pong")
            .all(|(_, outcome)| *outcome == Outcome::Dropped(DropReason::ReplyLost)),
        "every pong is a reply and replies are always lost: {departed:?}"
    );
    assert!(
        departed
            .iter()
            .filter(|(kind, _)| *kind == "ping")
            .all(|(_, outcome)| matches!(outcome, Outcome::Sent { .. })),
        "pings are not replies and nothing else is lost: {departed:?}"
    );

    let off = NetworkConditions::reliable().with_reply_loss(Probability::ALWAYS);
    let trace = simulate(ping_pong(Seed::new(1), off, |talk| talk, 20));
    assert!(
        departures(&trace)
            .iter()
            .all(|(_, outcome)| matches!(outcome, Outcome::Sent { .. })),
        "without the setting a one-way pong is an ordinary message, not lost as a reply"
    );
}

/// With long delays for replies only, every reply may be held back and
/// nothing else ever is.
#[test]
fn long_delays_for_replies_only_hold_back_replies_only() {
    let conditions = NetworkConditions::reliable()
        .with_long_delay(
            Probability::ALWAYS,
            std::time::Duration::from_millis(200),
            std::time::Duration::from_millis(2_200),
        )
        .expect("200 ms comes before 2.2 s")
        .with_one_way_replies()
        .with_long_delay_for_replies_only();
    let trace = simulate(ping_pong(Seed::new(2), conditions, |talk| talk, 50));
    for (kind, outcome) in departures(&trace) {
        let Outcome::Sent { long_delay, .. } = outcome else {
            panic!("nothing is lost here, yet a {kind} was: {outcome:?}");
        };
        assert_eq!(
            long_delay,
            kind == "pong",
            "a {kind} was {} held back; only replies may be",
            if long_delay { "" } else { "not" }
        );
    }
}
