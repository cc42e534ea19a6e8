//! The faults a test injects behave like their production counterparts:
//! partitions and disconnections cut both ways and heal, a paused node freezes
//! and goes on where it stopped, a crash loses the node's memory and its
//! messages, and a restart brings it back empty.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use coordination::Seed;
use coordination::sim::{
    CallError, DropReason, LifecycleStep, NetworkConditions, NetworkError, NetworkEvent,
    NodeStatus, Outcome, clock, simulate,
};
use support::{Msg, ms, network_of, node, outcomes, serve_counter};

/// A partition stops messages both ways between the groups, lets them through
/// within a group, and healing it restores every link.
#[test]
fn a_partition_blocks_both_ways_and_heals() {
    simulate(async {
        let (network, nodes, mut inboxes) =
            network_of(3, Seed::new(1), NetworkConditions::reliable());
        network
            .partition(&[&[node(1)], &[node(2), node(3)]])
            .expect("every node is known and named once");

        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        nodes[1].send(node(1), Msg::Note(2)).expect("known node");
        nodes[1].send(node(3), Msg::Note(3)).expect("known node");
        network.run_for(ms(100)).await;
        let within = inboxes[2].recv().await.expect("running");
        assert_eq!(
            within.message,
            Msg::Note(3),
            "node-2 and node-3 are on one side"
        );
        let trace = network.trace();
        assert_eq!(
            outcomes(&trace, |o| *o == Outcome::Dropped(DropReason::Partitioned)),
            2,
            "both directions across the cut are blocked:\n{trace}"
        );

        network.heal();
        nodes[0].send(node(2), Msg::Note(4)).expect("known node");
        nodes[1].send(node(1), Msg::Note(5)).expect("known node");
        assert_eq!(
            inboxes[1].recv().await.map(|e| e.message),
            Some(Msg::Note(4))
        );
        assert_eq!(
            inboxes[0].recv().await.map(|e| e.message),
            Some(Msg::Note(5))
        );
    });
}

/// Nodes a partition does not name stay together on one side.
#[test]
fn nodes_a_partition_does_not_name_form_one_group() {
    simulate(async {
        let (network, nodes, mut inboxes) =
            network_of(3, Seed::new(1), NetworkConditions::reliable());
        network.partition(&[&[node(1)]]).expect("node-1 is known");
        nodes[1].send(node(3), Msg::Note(1)).expect("known node");
        nodes[1].send(node(1), Msg::Note(2)).expect("known node");
        assert_eq!(
            inboxes[2].recv().await.map(|e| e.message),
            Some(Msg::Note(1))
        );
        let trace = network.trace();
        let listed = trace.entries().iter().find_map(|entry| match &entry.event {
            NetworkEvent::Partitioned(groups) => Some(groups.clone()),
            _ => None,
        });
        assert_eq!(listed, Some(vec![vec![node(1)], vec![node(2), node(3)]]));
        assert_eq!(
            outcomes(&trace, |o| *o == Outcome::Dropped(DropReason::Partitioned)),
            1
        );
    });
}

/// A partition also loses what was already on the wire across the cut: the
/// message does not arrive after the partition heals.
#[test]
fn a_partition_loses_messages_already_on_the_wire() {
    simulate(async {
        let slow = NetworkConditions::reliable()
            .with_latency(ms(100), ms(100))
            .expect("100 ms is a range");
        let (network, nodes, mut inboxes) = network_of(2, Seed::new(1), slow);
        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        network.run_for(ms(50)).await;
        network
            .partition(&[&[node(1)], &[node(2)]])
            .expect("known nodes");
        network.run_for(ms(10)).await;
        network.heal();
        nodes[0].send(node(2), Msg::Note(2)).expect("known node");
        let first = inboxes[1].recv().await.map(|e| e.message);
        assert_eq!(
            first,
            Some(Msg::Note(2)),
            "note 1 was on the wire when the cable was cut"
        );
        assert_eq!(network.counts().of("note").dropped, 1);
    });
}

/// A message that has already arrived waits in its receiver's inbox: a
/// partition that starts afterwards does not take it back.
#[test]
fn a_partition_keeps_messages_that_have_already_arrived() {
    simulate(async {
        let (network, nodes, mut inboxes) =
            network_of(2, Seed::new(1), NetworkConditions::reliable());
        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        network.run_for(ms(100)).await;
        network
            .partition(&[&[node(1)], &[node(2)]])
            .expect("known nodes");
        assert_eq!(
            inboxes[1].recv().await.map(|e| e.message),
            Some(Msg::Note(1))
        );
        assert_eq!(network.counts().of("note").dropped, 0);
    });
}

/// Disconnecting a node cuts its links both ways while it keeps running;
/// connecting it again restores them.
#[test]
fn a_disconnected_node_neither_sends_nor_receives_until_connected() {
    simulate(async {
        let (network, nodes, mut inboxes) =
            network_of(2, Seed::new(1), NetworkConditions::reliable());
        network.disconnect(node(2)).expect("known node");
        assert_eq!(
            network.status(node(2)),
            Ok(NodeStatus::Running),
            "it runs, alone"
        );
        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        nodes[1]
            .send(node(1), Msg::Note(2))
            .expect("sending is allowed, arriving is not");
        network.run_for(ms(100)).await;
        assert_eq!(
            outcomes(&network.trace(), |o| *o
                == Outcome::Dropped(DropReason::Disconnected)),
            2
        );

        network.connect(node(2)).expect("known node");
        nodes[0].send(node(2), Msg::Note(3)).expect("known node");
        nodes[1].send(node(1), Msg::Note(4)).expect("known node");
        assert_eq!(
            inboxes[1].recv().await.map(|e| e.message),
            Some(Msg::Note(3))
        );
        assert_eq!(
            inboxes[0].recv().await.map(|e| e.message),
            Some(Msg::Note(4))
        );
    });
}

/// A paused node receives nothing; what arrived meanwhile is queued and
/// delivered, in the order it arrived, when it resumes, and what it sent while
/// paused leaves only then.
#[test]
fn a_paused_node_gets_its_queued_messages_when_it_resumes() {
    simulate(async {
        let steady = NetworkConditions::reliable()
            .with_latency(ms(5), ms(5))
            .expect("5 ms is a range");
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), steady);
        let mut inboxes = inboxes.into_iter();
        let mut first = inboxes.next().expect("two nodes");
        let mut second = inboxes.next().expect("two nodes");
        network.pause(node(2)).expect("node-2 is running");

        for note in 1..=3 {
            nodes[0].send(node(2), Msg::Note(note)).expect("known node");
        }
        let held = nodes[1]
            .send(node(1), Msg::Note(9))
            .expect("a paused node's send is held");
        let resumer = network.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ms(5_000)).await;
            resumer.resume(node(2)).expect("node-2 is paused");
        });

        let mut received = Vec::new();
        while received.len() < 3 {
            let envelope = second.recv().await.expect("paused, not crashed");
            received.push(envelope.message);
        }
        assert_eq!(
            clock::elapsed(),
            ms(5_000),
            "nothing is delivered during the pause"
        );
        assert_eq!(received, [1, 2, 3].map(Msg::Note));
        assert_eq!(network.trace().story_of(held)[0], Outcome::Held);
        assert_eq!(first.recv().await.map(|e| e.message), Some(Msg::Note(9)));
        assert!(
            clock::elapsed() > ms(5_000),
            "the held note left when node-2 resumed"
        );
    });
}

/// A paused node's timers stop: a sleep that should end during the pause ends
/// when the node resumes, and the node does not notice it overslept.
#[test]
fn a_pause_stretches_a_nodes_sleep() {
    simulate(async {
        let (network, nodes, _inboxes) = network_of(1, Seed::new(1), NetworkConditions::reliable());
        let sleeper = nodes[0].clone();
        let woke = tokio::spawn(async move {
            sleeper.sleep(ms(1_000)).await;
            clock::elapsed()
        });
        network.run_for(ms(500)).await;
        network.pause(node(1)).expect("running");
        network.run_for(ms(9_500)).await;
        network.resume(node(1)).expect("paused");
        assert_eq!(woke.await.expect("the sleeper does not panic"), ms(10_000));
    });
}

/// A caller paused while its answer arrives gets the answer when it resumes,
/// even though its deadline passed during the pause.
#[test]
fn a_paused_caller_gets_an_answer_that_arrived_during_its_pause() {
    simulate(async {
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), NetworkConditions::reliable());
        serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));
        let caller = nodes[0].clone();
        let call = tokio::spawn(async move { caller.call(node(2), Msg::Increment, ms(100)).await });
        network.run_for(ms(1)).await;
        network.pause(node(1)).expect("running");
        network.run_for(ms(1_000)).await;
        network.resume(node(1)).expect("paused");
        assert_eq!(call.await.expect("no panic"), Ok(Msg::Count(1)));
    });
}

/// A paused node cannot start a call: the request leaves, and the timeout
/// starts, only when the node resumes.
#[test]
fn a_paused_node_starts_its_call_when_it_resumes() {
    simulate(async {
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), NetworkConditions::reliable());
        serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));
        network.pause(node(1)).expect("running");
        let caller = nodes[0].clone();
        let call = tokio::spawn(async move { caller.call(node(2), Msg::Increment, ms(100)).await });
        network.run_for(ms(1_000)).await;
        assert_eq!(
            network.counts().of("increment").sent,
            0,
            "nothing left the paused node"
        );
        network.resume(node(1)).expect("paused");
        assert_eq!(call.await.expect("no panic"), Ok(Msg::Count(1)));
        assert!(clock::elapsed() > ms(1_000));
    });
}

/// A crash stops the node's tasks and drops the messages queued for it; the
/// restarted node starts with an empty inbox and new handles, and the old
/// handles refuse to act.
#[test]
fn a_crash_drops_in_flight_messages_and_a_restart_starts_empty() {
    simulate(async {
        let slow = NetworkConditions::reliable()
            .with_latency(ms(100), ms(100))
            .expect("100 ms is a range");
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), slow);
        let mut old_inbox = inboxes.into_iter().nth(1).expect("two nodes");
        let ticks = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&ticks);
        let worker = nodes[1].clone();
        nodes[1]
            .spawn(async move {
                loop {
                    worker.sleep(ms(10)).await;
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            })
            .expect("node-2 is running");

        nodes[0].send(node(2), Msg::Note(1)).expect("known node");
        network.run_for(ms(50)).await;
        network.crash(node(2)).expect("node-2 is running");
        let ticks_at_crash = ticks.load(Ordering::SeqCst);
        network.run_for(ms(500)).await;
        assert_eq!(
            ticks.load(Ordering::SeqCst),
            ticks_at_crash,
            "the crash stopped the task"
        );
        assert_eq!(
            old_inbox.recv().await.map(|e| e.message),
            None,
            "the old life's inbox is closed"
        );
        assert_eq!(
            nodes[1].send(node(1), Msg::Note(2)),
            Err(NetworkError::NodeCrashed(node(2)))
        );
        nodes[0]
            .send(node(2), Msg::Note(3))
            .expect("sending to a crashed node is allowed");

        let (restarted, mut inbox) = network.restart(node(2)).expect("node-2 crashed");
        assert_eq!(restarted.status(), NodeStatus::Running);
        assert_eq!(
            nodes[1].status(),
            NodeStatus::Crashed,
            "old handles stay dead"
        );
        nodes[0].send(node(2), Msg::Note(4)).expect("known node");
        let first = inbox.recv().await.map(|e| e.message);
        assert_eq!(
            first,
            Some(Msg::Note(4)),
            "notes 1 and 3 died with the old life"
        );
        let trace = network.trace();
        assert_eq!(
            outcomes(&trace, |o| *o
                == Outcome::Dropped(DropReason::ReceiverCrashed)),
            2,
            "{trace}"
        );
    });
}

/// A call to a node that crashes before answering times out; after the
/// restart, a new service answers.
#[test]
fn a_call_to_a_crashed_service_times_out_and_its_restart_serves_again() {
    simulate(async {
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), NetworkConditions::reliable());
        serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));
        network.crash(node(2)).expect("running");
        let outcome = nodes[0].call(node(2), Msg::Increment, ms(100)).await;
        assert!(
            matches!(outcome, Err(CallError::TimedOut { .. })),
            "{outcome:?}"
        );

        let (service, inbox) = network.restart(node(2)).expect("crashed");
        let counter = serve_counter(&service, inbox);
        let answer = nodes[0].call(node(2), Msg::Increment, ms(100)).await;
        assert_eq!(
            answer,
            Ok(Msg::Count(1)),
            "the restarted counter starts from zero"
        );
        assert_eq!(counter.load(Ordering::SeqCst), 1);
    });
}

/// A crashed caller's open call ends at once with a typed error, and the
/// answer that comes later is dropped.
#[test]
fn a_caller_that_crashes_mid_call_gets_a_typed_error() {
    simulate(async {
        let (network, nodes, inboxes) = network_of(2, Seed::new(1), NetworkConditions::reliable());
        serve_counter(&nodes[1], inboxes.into_iter().nth(1).expect("two nodes"));
        let crasher = network.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ms(1)).await;
            crasher.crash(node(1)).expect("running");
        });
        let outcome = nodes[0].call(node(2), Msg::Increment, ms(100)).await;
        assert_eq!(
            outcome,
            Err(CallError::Network(NetworkError::NodeCrashed(node(1))))
        );
        network.run_for(ms(100)).await;
        assert_eq!(
            network.counts().total().in_flight(),
            0,
            "{}",
            network.counts()
        );
    });
}

/// Lifecycle steps that do not apply are refused with the node's status.
#[test]
fn lifecycle_steps_that_do_not_apply_are_refused() {
    simulate(async {
        let (network, _nodes, _inboxes) =
            network_of(1, Seed::new(1), NetworkConditions::reliable());
        let refused = |action, status| NetworkError::IllegalTransition {
            node: node(1),
            action,
            status,
        };
        assert_eq!(
            network.resume(node(1)),
            Err(refused(LifecycleStep::Resume, NodeStatus::Running))
        );
        assert_eq!(
            network.restart(node(1)).err(),
            Some(refused(LifecycleStep::Restart, NodeStatus::Running))
        );
        network.pause(node(1)).expect("running");
        assert_eq!(
            network.pause(node(1)),
            Err(refused(LifecycleStep::Pause, NodeStatus::Paused))
        );
        network.crash(node(1)).expect("a paused node can crash");
        assert_eq!(
            network.crash(node(1)),
            Err(refused(LifecycleStep::Crash, NodeStatus::Crashed))
        );
        assert_eq!(
            network.pause(node(1)),
            Err(refused(LifecycleStep::Pause, NodeStatus::Crashed))
        );
    });
}
