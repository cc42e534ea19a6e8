//! Failover time, measured over many seeds, and what an election costs in
//! steady state.
//!
//! Each seed starts a cluster (3.3), lets the first leader settle, counts a
//! minute of steady-state messages, then crashes the leader at a moment of
//! its renewal cycle that the seed picks, and measures how long until
//! another node holds the lease. The percentiles are set against the bound
//! the tests check: lease duration + retry period + the network's delays.
//!
//! The steady-state minute is also run with 3.1's loop alone, where every
//! candidate asks the lease store every retry period, as Kubernetes'
//! client-go does, to show what the heartbeats of 3.2 and 3.3 save the
//! store.
//!
//! `--svg FILE` draws the percentiles and the lease store's load as bars,
//! and the first seed's failover as a timeline.
//!
//! ```text
//! cargo run --release -p workshop3 --features solution --example failover
//! cargo run -p workshop3 --features solution --example failover -- --seeds 50 --candidates 5
//! cargo run --release -p workshop3 --features solution --example failover -- --svg failover.svg
//! ```

use std::time::Duration;

use coordination::Seed;
use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::metrics::Percentiles;
use coordination::picture::{BarChart, Picture};
use coordination::sim::{MessageCounts, simulate};
use workshop3::testing::{crash_and_time_failover, elect_by_polling, failover_bound, first_leader};
use workshop3::{Cluster, ClusterConfig, NodeContext, Story, run_candidate};

const ABOUT: &str = "failover: failover time p50/p99/max over many seeds against its bound, and steady-state messages";

const SEEDS: Flag = Flag::value("seeds", "1000", "how many seeds to measure failover over");
const CANDIDATES: Flag = Flag::value("candidates", "3", "how many replicas compete to lead");
const FLAGS: [Flag; 4] = [SEED, SEEDS, CANDIDATES, SVG];

/// How long the steady state is measured for.
const STEADY: Duration = Duration::from_secs(60);

/// What one seed's run measured.
struct Run {
    /// Messages during the steady-state minute.
    steady: MessageCounts,
    /// Leaders elected during the steady-state minute (there should be none).
    changes: usize,
    /// From the crash to the next lease granted to another node.
    failover: Option<Duration>,
    /// The story from a few seconds before the crash on.
    story: Story,
}

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let first: u64 = flags.get(SEED)?;
    let seeds: u64 = flags.count(SEEDS)?;
    let candidates: u32 = flags.count(CANDIDATES)?;
    let config = ClusterConfig::new(candidates);
    let bound = failover_bound(&config);

    let runs = match unless_unfinished(|| {
        (first..first + seeds)
            .map(|seed| measure(Seed::new(seed), config))
            .collect::<Vec<_>>()
    }) {
        Ok(runs) => runs,
        Err(exercise) => {
            println!("failover needs exercises 3.1 to 3.3: {exercise}");
            return Ok(());
        }
    };

    let times: Vec<Duration> = runs.iter().filter_map(|run| run.failover).collect();
    let within = times.iter().filter(|time| **time <= bound).count();
    let summary = Percentiles::of(times.clone());
    println!(
        "{candidates} candidates; lease {:?}, renew deadline {:?}, retry period {:?}; heartbeat \
         every {:?}, suspicion after {:?}; seeds {first} to {}\n",
        config.election.lease_duration(),
        config.election.renew_deadline(),
        config.election.retry_period(),
        config.heartbeats.interval(),
        config.heartbeats.suspect_after(),
        first + seeds - 1
    );
    let mut table = Table::new([
        "failover after a crash",
        "p50",
        "p99",
        "max",
        "bound",
        "within",
    ]);
    table.row([
        format!("{} seeds", summary.count),
        seconds(summary.p50),
        seconds(summary.p99),
        seconds(summary.max),
        seconds(bound),
        format!("{within} of {}", runs.len()),
    ]);
    println!("{table}");

    let changes: usize = runs.iter().map(|run| run.changes).sum();
    println!(
        "Leader changes during {} steady-state minutes: {changes}\n",
        runs.len()
    );

    let mut steady = Table::new([
        "steady state, messages per second",
        "to the lease store",
        "heartbeats",
        "all messages",
    ]);
    let mut load = BarChart::new("requests/s");
    let heartbeating = Rates::of(runs.iter().map(|run| &run.steady));
    steady.row(heartbeating.row("3.3 followers watch heartbeats"));
    load.bar("3.3 followers watch heartbeats", heartbeating.store);
    match unless_unfinished(|| {
        (first..first + seeds.min(20))
            .map(|seed| steady_state(Seed::new(seed), config, elect_by_polling))
            .collect::<Vec<_>>()
    }) {
        Ok(polled) => {
            let polling = Rates::of(polled.iter());
            steady.row(polling.row("3.1 every candidate polls the store"));
            load.bar("3.1 every candidate polls the store", polling.store);
        }
        Err(exercise) => {
            steady.row([
                "3.1 every candidate polls the store",
                "-",
                "-",
                "not done yet",
            ]);
            load.missing("3.1 every candidate polls the store", "not done yet");
            println!("  {exercise}");
        }
    }
    println!("{steady}");

    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "failover: {candidates} candidates, seeds {first} to {}",
            first + seeds - 1
        ));
        let mut percentiles = BarChart::new("s");
        percentiles
            .bar("p50", summary.p50.as_secs_f64())
            .bar("p99", summary.p99.as_secs_f64())
            .bar("max", summary.max.as_secs_f64())
            .bar("bound: lease + retry + 4 trips", bound.as_secs_f64());
        picture.add(
            format!("failover after a crash, {} seeds", summary.count),
            percentiles,
        );
        picture.add("steady state: requests to the lease store per second", load);
        if let Some(run) = runs.first() {
            picture.add(
                format!(
                    "seed {first}: the leader crashes, the lease runs out, a follower takes it"
                ),
                run.story.timeline(),
            );
        }
        picture
    })?;

    if within < runs.len() || times.len() < runs.len() || changes > 0 {
        eprintln!("some seeds broke the bound or changed leader in steady state");
        std::process::exit(1);
    }
    Ok(())
}

/// One seed: settle, a steady minute, then crash the leader and time the
/// failover.
fn measure(seed: Seed, config: ClusterConfig) -> Run {
    simulate(async move {
        let cluster = started(seed, config, run_candidate);
        let (steady, changes) = steady_minute(&cluster).await;
        let leader = first_leader(&cluster, "failover").await;
        let failover = crash_and_time_failover(&cluster, leader, seed).await;
        let before = failover.crashed_at.saturating_sub(Duration::from_secs(3));
        Run {
            steady,
            changes,
            failover: failover.took,
            story: Story::of(&cluster).since(before),
        }
    })
}

/// One seed's steady-state minute under `program`.
fn steady_state<R, F>(seed: Seed, config: ClusterConfig, program: R) -> MessageCounts
where
    R: Fn(NodeContext) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    simulate(async move {
        let cluster = started(seed, config, program);
        steady_minute(&cluster).await.0
    })
}

fn started<R, F>(seed: Seed, config: ClusterConfig, program: R) -> Cluster
where
    R: Fn(NodeContext) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    Cluster::start(seed, config, program).expect("the demo starts at least one candidate")
}

/// Waits for a leader, lets it settle, and counts one minute of messages
/// and of new leaders.
async fn steady_minute(cluster: &Cluster) -> (MessageCounts, usize) {
    first_leader(cluster, "failover").await;
    cluster.run_for(Duration::from_secs(5)).await;
    let before = cluster.network().counts();
    let elected = cluster.journal().leaders_elected();
    cluster.run_for(STEADY).await;
    let counts = cluster.network().counts().since(&before);
    (counts, cluster.journal().leaders_elected() - elected)
}

/// Steady-state messages per second, averaged over runs.
#[derive(Debug, Clone, Copy, Default)]
struct Rates {
    /// Requests to the lease store: acquire, renew, release.
    store: f64,
    heartbeats: f64,
    /// Every message, answers included.
    all: f64,
}

impl Rates {
    /// The average rates of `runs`, each a steady-state minute's counts.
    fn of<'a>(runs: impl Iterator<Item = &'a MessageCounts>) -> Self {
        let mut sums = Self::default();
        let mut minutes = 0.0;
        for counts in runs {
            let store: u64 = ["acquire", "renew", "release"]
                .iter()
                .map(|kind| counts.of(kind).sent)
                .sum();
            sums.store += store as f64;
            sums.heartbeats += counts.of("heartbeat").sent as f64;
            sums.all += counts.total().sent as f64;
            minutes += 1.0;
        }
        let seconds = minutes * STEADY.as_secs_f64();
        Self {
            store: sums.store / seconds,
            heartbeats: sums.heartbeats / seconds,
            all: sums.all / seconds,
        }
    }

    /// A table row named `name`.
    fn row(self, name: &str) -> [String; 4] {
        [
            name.to_string(),
            format!("{:.2}", self.store),
            format!("{:.2}", self.heartbeats),
            format!("{:.2}", self.all),
        ]
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}
