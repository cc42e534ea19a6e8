//! How fast does Raft replace a crashed leader, and how much does the
//! randomness of the election timeout matter? The experiment of section 9.3
//! of the Raft paper (Figure 16), on Raft-lite and the simulated network.
//!
//! Five nodes, a broadcast time of about 15 ms (every message travels 5 to
//! 10 ms, so a request and its answer take 15 ms on average), heartbeats
//! every 75 ms (half the shortest timeout, as in the paper). In each trial a
//! leader is elected, then crashed at a moment drawn uniformly within its
//! heartbeat interval, and the time until a new leader exists is measured.
//! One row per election timeout range, with 1,000 trials each by default.
//!
//! ```text
//! cargo run --release -p workshop4 --features solution --example election_timing
//! cargo run -p workshop4 --features solution --example election_timing -- --trials 50
//! ```

use std::time::Duration;

use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::metrics::Percentiles;
use coordination::picture::{BarChart, Picture};
use coordination::sim::{NetworkConditions, simulate};
use coordination::{NodeId, Seed};
use rand::RngExt;
use workshop4::{ClusterEvent, RaftCluster, RaftConfig, Role};

const ABOUT: &str = "election_timing: time to elect a new leader, per election timeout range (Raft paper, Figure 16)";

const TRIALS: Flag = Flag::value("trials", "1000", "crashes per timeout range");
const GIVE_UP: Flag = Flag::value(
    "give-up",
    "10",
    "seconds after which a trial counts as never electing",
);
const LATENCY_MIN: Flag = Flag::value("latency-min", "5", "shortest one-way message time, ms");
const LATENCY_MAX: Flag = Flag::value("latency-max", "10", "longest one-way message time, ms");
const FLAGS: [Flag; 6] = [SVG, SEED, TRIALS, GIVE_UP, LATENCY_MIN, LATENCY_MAX];

/// The ranges of Figure 16's top graph, in milliseconds.
const RANGES: [(u64, u64); 6] = [
    (150, 150),
    (150, 151),
    (150, 155),
    (150, 175),
    (150, 200),
    (150, 300),
];

/// What the paper reports for a range, where it says so in the text.
fn published(range: (u64, u64)) -> &'static str {
    match range {
        (150, 150) => "more than 10 s",
        (150, 155) => "median 287 ms",
        (150, 200) => "worst of 1,000: 513 ms",
        _ => "(read off the graph only)",
    }
}

/// The shortest election timeout, shared by every range: the heartbeat
/// interval is half of it.
const HEARTBEAT: Duration = Duration::from_millis(75);

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let trials = flags.count::<u64>(TRIALS)?;
    let give_up = Duration::from_secs(flags.get(GIVE_UP)?);
    let latency = (
        Duration::from_millis(flags.get(LATENCY_MIN)?),
        Duration::from_millis(flags.get(LATENCY_MAX)?),
    );
    let conditions = NetworkConditions::reliable().with_latency(latency.0, latency.1)?;
    let mut table = Table::new([
        "election timeout",
        "median",
        "p99",
        "max",
        "never (of trials)",
        "paper",
    ]);
    let mut medians = BarChart::new("ms, median");
    let mut tails = BarChart::new("ms, 99th percentile");
    for (row, range) in (0..).zip(RANGES) {
        let config = RaftConfig::new(
            Duration::from_millis(1),
            Duration::from_millis(range.0),
            Duration::from_millis(range.1),
            HEARTBEAT,
        )
        .expect("whole milliseconds, in order, heartbeat below the timeout");
        let outcome = unless_unfinished(|| {
            let mut times = Vec::new();
            let mut never = 0;
            for trial in 0..trials {
                let trial_seed = seed.derive(row * 1_000_000 + trial);
                let trial = time_to_elect(trial_seed, config.clone(), give_up, conditions);
                // A trial that gave up counts as longer than the limit, so
                // that percentiles are not taken over the lucky trials only.
                times.push(simulate(trial).unwrap_or_else(|| {
                    never += 1;
                    give_up + Duration::from_millis(1)
                }));
            }
            (times, never)
        });
        let name = format!("{}-{} ms", range.0, range.1);
        match outcome {
            Ok((times, never)) => {
                let summary = Percentiles::of(times);
                // A trial that never elected is drawn at the limit.
                let drawn = |value: Duration| value.min(give_up).as_secs_f64() * 1000.0;
                medians.bar(name.clone(), drawn(summary.p50));
                tails.bar(name.clone(), drawn(summary.p99));
                let shown = |value: Duration| {
                    if value > give_up {
                        format!("> {} s", give_up.as_secs())
                    } else {
                        format!("{} ms", value.as_millis())
                    }
                };
                table.row([
                    name,
                    shown(summary.p50),
                    shown(summary.p99),
                    shown(summary.max),
                    format!("{never} of {trials}"),
                    published(range).to_string(),
                ]);
            }
            Err(exercise) => {
                table.row([
                    name,
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    exercise.to_string(),
                    String::new(),
                ]);
            }
        }
    }
    println!(
        "5 nodes, messages {}-{} ms one way, heartbeat every {} ms, {trials} trials per range, \
         seed {seed}\n\n{table}",
        latency.0.as_millis(),
        latency.1.as_millis(),
        HEARTBEAT.as_millis()
    );
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "election_timing: time to elect a new leader after a crash, {trials} trials per \
             range, seed {seed} (a range that never elected is drawn at the {} s limit)",
            give_up.as_secs()
        ));
        picture.add("median", medians);
        picture.add("99th percentile", tails);
        picture
    })?;
    Ok(())
}

/// One trial: elect a first leader, crash it somewhere in its heartbeat
/// interval, and measure until another node leads. `None` if none does
/// within `give_up`.
async fn time_to_elect(
    seed: Seed,
    config: RaftConfig,
    give_up: Duration,
    conditions: NetworkConditions,
) -> Option<Duration> {
    let mut raft: RaftCluster<u64> = RaftCluster::with_config(5, seed, conditions, config);
    // The first leader: node-1 starts alone, the others boot 50 ms later,
    // so even equal timeouts elect someone once. The experiment is about
    // replacing a leader, not about a cluster's first boot.
    let others: Vec<NodeId> = raft.members()[1..].to_vec();
    for &node in &others {
        raft.network().pause(node).expect("a running member");
    }
    raft.run_for(Duration::from_millis(200)).await;
    for &node in &others {
        raft.network().resume(node).expect("a paused member");
    }
    let mut leader = None;
    for _ in 0..100 {
        raft.run_for(Duration::from_millis(20)).await;
        if let Some((_, nodes)) = raft.leaders().last_key_value() {
            leader = Some(nodes[0]);
            break;
        }
    }
    let leader = leader?;
    // Settle into steady heartbeats, then crash at a random moment within
    // one heartbeat interval.
    raft.run_for(Duration::from_millis(300)).await;
    let mut rng = seed.derive(1).rng();
    let offset = rng.random_range(0..u64::try_from(HEARTBEAT.as_millis()).unwrap_or(75));
    raft.run_for(Duration::from_millis(offset)).await;
    raft.crash(leader).expect("the leader is running");
    let crashed_at = coordination::sim::clock::elapsed();
    let seen = raft.timeline().len();
    let deadline = tokio::time::Instant::now() + give_up;
    while tokio::time::Instant::now() < deadline {
        raft.run_for(Duration::from_millis(50)).await;
        let elected = raft.timeline()[seen..].iter().find(|record| {
            matches!(
                record.event,
                ClusterEvent::Role {
                    role: Role::Leader,
                    ..
                }
            )
        });
        if let Some(record) = elected {
            return Some(record.at.saturating_sub(crashed_at));
        }
    }
    None
}
