//! Mistakes get typed errors, never a panic: an unknown node, a duplicate id,
//! a node on both sides of a partition, an inbox given to the wrong node. And
//! a node's task that panics fails the test with its own message instead of
//! leaving it to wait.

mod support;

use std::panic::{self, AssertUnwindSafe};

use coordination::Seed;
use coordination::sim::{CallError, Inboxes, Network, NetworkConditions, NetworkError, simulate};
use support::{Msg, ms, network_of, node};

/// Every operation that names a node refuses one that is not on the network.
#[test]
fn an_unknown_node_is_a_typed_error_everywhere() {
    simulate(async {
        let (network, nodes, _inboxes) = network_of(1, Seed::new(1), NetworkConditions::reliable());
        let stranger = node(9);
        let unknown = NetworkError::UnknownNode(stranger);
        assert_eq!(nodes[0].send(stranger, Msg::Note(1)), Err(unknown.clone()));
        let call = nodes[0].call(stranger, Msg::Increment, ms(10)).await;
        assert_eq!(call, Err(CallError::Network(unknown.clone())));
        assert!(call.is_err_and(|error| !error.is_retryable() && !error.may_have_been_applied()));
        assert_eq!(network.status(stranger), Err(unknown.clone()));
        assert_eq!(network.pause(stranger), Err(unknown.clone()));
        assert_eq!(network.resume(stranger), Err(unknown.clone()));
        assert_eq!(network.crash(stranger), Err(unknown.clone()));
        assert_eq!(network.restart(stranger).err(), Some(unknown.clone()));
        assert_eq!(network.disconnect(stranger), Err(unknown.clone()));
        assert_eq!(network.connect(stranger), Err(unknown.clone()));
        assert_eq!(network.partition(&[&[node(1)], &[stranger]]), Err(unknown));
        assert_eq!(
            network.counts().total().sent,
            0,
            "nothing was sent to a stranger"
        );
    });
}

/// Two nodes with one id are refused: messages could not be told apart.
#[test]
fn a_duplicate_node_is_refused() {
    let network: Network<Msg> = Network::new(Seed::new(1), NetworkConditions::reliable());
    network.add_node(node(1)).expect("first node-1");
    assert_eq!(
        network.add_node(node(1)).err(),
        Some(NetworkError::DuplicateNode(node(1)))
    );
    assert_eq!(network.nodes(), [node(1)]);
}

/// A node named in two groups of a partition is refused, and the network
/// stays whole.
#[test]
fn a_node_in_two_groups_is_refused() {
    simulate(async {
        let (network, nodes, mut inboxes) =
            network_of(2, Seed::new(1), NetworkConditions::reliable());
        let refused = network.partition(&[&[node(1), node(2)], &[node(2)]]);
        assert_eq!(refused, Err(NetworkError::NodeInTwoGroups(node(2))));
        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        assert!(inboxes[1].recv().await.is_some(), "no partition was made");
    });
}

/// An inbox serves only its own node, and a set of inboxes only one network.
#[test]
fn an_inbox_given_to_the_wrong_node_is_refused() {
    simulate(async {
        let (_network, nodes, inboxes) = network_of(2, Seed::new(1), NetworkConditions::reliable());
        let mut inboxes = inboxes.into_iter();
        let first = inboxes.next().expect("two nodes");
        let served = nodes[1].serve(first, |_, request| request);
        assert!(matches!(served, Err(NetworkError::WrongInbox { inbox, .. }) if inbox == node(1)));

        let (_other, _other_nodes, other_inboxes) =
            network_of(1, Seed::new(2), NetworkConditions::reliable());
        let mut set = Inboxes::new();
        set.insert(inboxes.next().expect("two nodes"))
            .expect("the first sets the network");
        let foreign = set.insert(other_inboxes.into_iter().next().expect("one node"));
        assert!(
            matches!(foreign, Err(NetworkError::WrongInbox { .. })),
            "{foreign:?}"
        );
    });
}

/// A node's task that panics fails the test at the next `run_for`, with the
/// task's own message, instead of leaving the test waiting for it.
#[test]
fn a_panicking_node_task_fails_the_test_with_its_message() {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        simulate(async {
            let (network, nodes, _inboxes) =
                network_of(1, Seed::new(1), NetworkConditions::reliable());
            let worker = nodes[0].clone();
            nodes[0]
                .spawn(async move {
                    worker.sleep(ms(10)).await;
                    panic!("exercise 3.1: the lease was never renewed");
                })
                .expect("running");
            network.run_for(ms(3_600_000)).await;
            coordination::sim::clock::elapsed()
        })
    }));
    let payload = outcome.expect_err("the task's panic reaches the test");
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or_default();
    assert_eq!(message, "exercise 3.1: the lease was never renewed");
}
