//! Timelines record what ran where, and draw it for a terminal and as SVG:
//! well-formed, deterministic for a seed, and showing everything recorded.

use std::cell::RefCell;
use std::time::Duration;

use coordination::picture::{BarChart, Picture, Terminal};
use coordination::sim::simulate;
use coordination::timeline::{self, Activity, Fate, Mark, Outcome, Recording, Timeline};
use coordination::{
    DeadLetterReason, InMemoryWorkTracker, RunReport, Seed, WorkError, WorkItemId, WorkTracker,
    WorkerId,
};
use rand::RngExt;

/// A small run with every kind of thing a timeline shows: attempts that
/// succeed, fail and time out, retries with their delay, a dead letter, a
/// late result, and, on two nodes, a lease, a leader, a fencing token and
/// messages delivered and dropped. Everything random comes from `seed`.
fn scripted_run(seed: Seed) -> (RunReport, Timeline) {
    let recording = Recording::start();
    let report = simulate(async move {
        let mut tracker = InMemoryWorkTracker::new();
        let items: Vec<WorkItemId> = (1..=12).map(WorkItemId::new).collect();
        tracker.submit_all(&items).expect("fresh ids");
        // Three workers share the tracker on one task; each borrow lasts one
        // call, never across an `.await`.
        let tracker = RefCell::new(tracker);
        let worker = |number: u32| {
            let tracker = &tracker;
            async move {
                let mut rng = seed.derive(u64::from(number)).rng();
                let me = WorkerId::new(number);
                for item in (1..=12).filter(|id| id % 3 == u64::from(number) - 1) {
                    let item = WorkItemId::new(item);
                    work_on(tracker, item, me, &mut rng).await;
                }
            }
        };
        let nodes = async {
            let lease = timeline::begin("node-1", Activity::Lease, "lease, revision 34");
            timeline::point("node-1", Mark::LeaderElected { term: 3 }, "node-1");
            timeline::point("node-1", Mark::FencingToken { token: 34 }, "node-1");
            tokio::time::sleep(Duration::from_millis(400)).await;
            let sent = Duration::from_millis(400);
            tokio::time::sleep(Duration::from_millis(20)).await;
            timeline::message(
                "node-1",
                "node-2",
                "heartbeat",
                sent,
                Fate::Delivered(Duration::from_millis(420)),
            );
            timeline::message(
                "node-1",
                "node-3",
                "heartbeat",
                sent,
                Fate::Dropped(Duration::from_millis(420)),
            );
            timeline::end(lease, Outcome::Ended);
            let _still_held = timeline::begin("node-2", Activity::Lease, "lease, revision 35");
            timeline::point("node-2", Mark::StaleTokenRejected { token: 33 }, "write");
        };
        tokio::join!(worker(1), worker(2), worker(3), nodes);
        tracker.into_inner().into_report()
    });
    (report, recording.finish())
}

/// One item's attempts on one worker: random work time, some transient
/// failures with backoff, item 5 poison, item 7's first attempt timing out
/// and answering late.
async fn work_on(
    tracker: &RefCell<InMemoryWorkTracker>,
    item: WorkItemId,
    worker: WorkerId,
    rng: &mut coordination::SimRng,
) {
    for attempt in 1..=3_u32 {
        let claim = tracker
            .borrow_mut()
            .start(item, worker)
            .expect("a pending item starts");
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..300))).await;
        if item.get() == 7 && attempt == 1 {
            let after = Duration::from_secs(1);
            tokio::time::sleep(after).await;
            tracker
                .borrow_mut()
                .fail(item, claim.receipt, WorkError::TimedOut { after })
                .expect("current");
            tracker
                .borrow_mut()
                .retry(item, Duration::ZERO)
                .expect("failed");
            let other = WorkerId::new(worker.get() % 3 + 1);
            let retry = tracker
                .borrow_mut()
                .start(item, other)
                .expect("pending again");
            tracker
                .borrow_mut()
                .succeed(item, retry.receipt)
                .expect("current");
            tokio::time::sleep(Duration::from_millis(500)).await;
            let late = tracker.borrow_mut().succeed(item, claim.receipt);
            assert!(late.is_err_and(|error| error.is_late_result()));
            return;
        }
        let error = if item.get() == 5 {
            WorkError::permanent("corrupt image")
        } else if rng.random_bool(0.3) {
            WorkError::transient("503 from the resizer")
        } else {
            tracker
                .borrow_mut()
                .succeed(item, claim.receipt)
                .expect("current");
            return;
        };
        let permanent = !error.is_retryable();
        tracker
            .borrow_mut()
            .fail(item, claim.receipt, error)
            .expect("current");
        if permanent || attempt == 3 {
            let reason = if permanent {
                DeadLetterReason::PermanentFailure
            } else {
                DeadLetterReason::AttemptsExhausted
            };
            tracker
                .borrow_mut()
                .dead_letter(item, reason)
                .expect("failed");
            return;
        }
        let delay = Duration::from_millis(100 * 2_u64.pow(attempt));
        tracker.borrow_mut().retry(item, delay).expect("failed");
        tokio::time::sleep(delay).await;
    }
}

fn svg_of(timeline: &Timeline) -> String {
    let mut picture = Picture::new("scripted run");
    picture.add("timeline", timeline.clone());
    picture.to_svg()
}

/// The SVG file parses as XML, and every span, point and message recorded is
/// one element of its own with a tooltip.
#[test]
fn the_svg_is_well_formed_and_shows_every_recorded_event() {
    let (_, timeline) = scripted_run(Seed::new(1));
    let svg = svg_of(&timeline);
    let document = roxmltree::Document::parse(&svg)
        .unwrap_or_else(|error| panic!("the SVG is not well-formed XML: {error}\n{svg}"));
    let drawn = |class: &str| {
        document
            .descendants()
            .filter(|node| node.attribute("class") == Some(class))
            .filter(|node| node.children().any(|child| child.has_tag_name("title")))
            .count()
    };
    assert_eq!(drawn("span"), timeline.spans().len(), "every span is drawn");
    assert_eq!(
        drawn("point"),
        timeline.points().len(),
        "every point is drawn"
    );
    assert_eq!(
        drawn("message"),
        timeline.messages().len(),
        "every message is drawn"
    );
    for lane in timeline.lanes() {
        assert!(
            document
                .descendants()
                .any(|node| node.text() == Some(lane.name())),
            "lane {lane} has its name on the drawing"
        );
    }
    assert!(svg.contains("simulated time"), "the time axis is labelled");
    assert!(svg.contains("dead-lettered"), "the legend names the marks");
    assert!(!svg.contains("<script"), "the file needs no script");
    assert_eq!(
        svg.matches("http").count(),
        1,
        "the file links nothing but the SVG namespace"
    );
}

/// Every kind the run produced is recorded: the scenario is what the other
/// tests rely on.
#[test]
fn the_scripted_run_records_every_kind_of_thing() {
    let (_, timeline) = scripted_run(Seed::new(1));
    let outcomes: Vec<Option<Outcome>> = timeline
        .spans()
        .iter()
        .map(|span| span.ended.map(|(_, outcome)| outcome))
        .collect();
    for wanted in [
        Some(Outcome::Succeeded),
        Some(Outcome::Failed),
        Some(Outcome::TimedOut),
        Some(Outcome::Late),
        Some(Outcome::Ended),
        None,
    ] {
        assert!(outcomes.contains(&wanted), "no span ended {wanted:?}");
    }
    let marks: Vec<&Mark> = timeline.points().iter().map(|point| &point.mark).collect();
    assert!(
        marks
            .iter()
            .any(|mark| matches!(mark, Mark::RetryScheduled { .. }))
    );
    assert!(marks.contains(&&Mark::DeadLettered));
    assert!(marks.contains(&&Mark::LateResultRejected));
    assert_eq!(timeline.messages().len(), 2);
}

/// Same seed, same drawings, byte for byte; another seed, another drawing.
#[test]
fn the_same_seed_draws_the_same_pictures() {
    let (_, first) = scripted_run(Seed::new(7));
    let (_, again) = scripted_run(Seed::new(7));
    let (_, other) = scripted_run(Seed::new(8));
    assert_eq!(svg_of(&first), svg_of(&again));
    assert_eq!(
        first.swimlane(Terminal::PLAIN).to_string(),
        again.swimlane(Terminal::PLAIN).to_string()
    );
    assert_ne!(svg_of(&first), svg_of(&other));
}

/// The terminal drawing fits 100 columns, with Unicode or ASCII, and names
/// every lane.
#[test]
fn the_swimlane_fits_a_hundred_columns() {
    let (_, timeline) = scripted_run(Seed::new(3));
    for unicode in [false, true] {
        let terminal = Terminal {
            unicode,
            ..Terminal::PLAIN
        };
        let text = timeline.swimlane(terminal).to_string();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{} columns: {line:?}\n{text}",
                line.chars().count()
            );
        }
        for lane in timeline.lanes() {
            assert!(text.contains(lane.name()), "lane {lane} missing:\n{text}");
        }
        if !unicode {
            assert!(text.is_ascii(), "ASCII was asked for:\n{text}");
        }
    }
}

/// Colour is only used when asked for.
#[test]
fn the_swimlane_uses_colour_only_when_asked() {
    let (_, timeline) = scripted_run(Seed::new(3));
    let plain = timeline.swimlane(Terminal::PLAIN).to_string();
    assert!(!plain.contains('\x1b'));
    let coloured = Terminal {
        colour: true,
        ..Terminal::PLAIN
    };
    assert!(timeline.swimlane(coloured).to_string().contains("\x1b["));
}

/// A finished report draws the same attempts and marks as a recording made
/// while it ran.
#[test]
fn a_report_draws_what_a_recording_of_its_run_draws() {
    let (report, recorded) = scripted_run(Seed::new(5));
    let from_report = Timeline::from_report(&report);
    let on_workers = |timeline: &Timeline| {
        (
            timeline
                .spans()
                .iter()
                .filter(|span| span.lane.name().starts_with("worker"))
                .cloned()
                .collect::<Vec<_>>(),
            timeline
                .points()
                .iter()
                .filter(|point| point.lane.name().starts_with("worker"))
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(on_workers(&from_report), on_workers(&recorded));
    assert!(!from_report.is_empty());
}

/// A picture stacks a chart and a timeline into one file that parses.
#[test]
fn a_picture_of_a_chart_and_a_timeline_is_one_valid_file() {
    let (_, timeline) = scripted_run(Seed::new(2));
    let mut calls = BarChart::new("calls");
    calls
        .bar("no backoff", 5050.0)
        .bar("full <jitter> & co", 1210.0);
    let mut picture = Picture::new("two figures");
    picture.add("calls", calls).add("run", timeline);
    let svg = picture.to_svg();
    let document = roxmltree::Document::parse(&svg).expect("well-formed");
    assert_eq!(
        document
            .descendants()
            .filter(|node| node.attribute("class") == Some("bar"))
            .count(),
        2
    );
}

/// A simulated network's trace draws as messages between node lanes, with
/// pauses and crashes as spans: every message that reached its fate is one
/// arrow, and the picture parses.
#[test]
fn a_network_trace_draws_every_message_and_fault() {
    use coordination::NodeId;
    use coordination::sim::{Message, Network, NetworkConditions, NetworkError, NetworkEvent};

    #[derive(Clone)]
    struct Ping;
    impl Message for Ping {
        fn kind(&self) -> &'static str {
            "ping"
        }
    }

    let trace = simulate(async {
        let network = Network::new(Seed::new(4), NetworkConditions::unreliable());
        let ids: Vec<NodeId> = (1..=3).map(NodeId::new).collect();
        let mut nodes = Vec::new();
        for id in &ids {
            let (node, mut inbox) = network.add_node(*id)?;
            node.spawn(async move { while inbox.recv().await.is_some() {} })?;
            nodes.push(node);
        }
        for round in 0..20_u64 {
            for (position, node) in nodes.iter().enumerate() {
                let _ = node.send(ids[(position + 1) % ids.len()], Ping);
            }
            match round {
                5 => network.pause(ids[0])?,
                8 => network.resume(ids[0])?,
                10 => network.crash(ids[1])?,
                12 => {
                    let (node, mut inbox) = network.restart(ids[1])?;
                    node.spawn(async move { while inbox.recv().await.is_some() {} })?;
                    nodes[1] = node;
                }
                14 => network.partition(&[&ids[..1], &ids[1..]])?,
                16 => network.heal(),
                _ => {}
            }
            network.run_for(Duration::from_millis(50)).await;
        }
        network.run_for(Duration::from_secs(3)).await;
        Ok::<_, NetworkError>(network.trace())
    })
    .expect("the nodes are distinct and running");

    let mut timeline = Timeline::new();
    timeline.add_network_trace(&trace);
    let settled = trace
        .entries()
        .iter()
        .filter(|entry| {
            matches!(
                entry.event,
                NetworkEvent::Message {
                    outcome: coordination::sim::Outcome::Delivered
                        | coordination::sim::Outcome::Dropped(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        timeline.messages().len(),
        settled,
        "one arrow per settled message"
    );
    assert!(
        timeline
            .messages()
            .iter()
            .any(|message| matches!(message.fate, Fate::Dropped(_))),
        "the unreliable network dropped some"
    );
    let marks: Vec<Mark> = timeline.points().iter().map(|point| point.mark).collect();
    assert!(marks.contains(&Mark::Crashed) && marks.contains(&Mark::Restarted));
    assert_eq!(
        timeline
            .spans()
            .iter()
            .filter(|span| span.activity == Activity::Paused && span.ended.is_some())
            .count(),
        2,
        "one pause and one outage, each ended"
    );
    let svg = svg_of(&timeline);
    roxmltree::Document::parse(&svg).expect("well-formed");
}
