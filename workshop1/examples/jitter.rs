//! The experiment of "Exponential Backoff and Jitter" (AWS Architecture Blog,
//! 2015), on simulated time.
//!
//! Many clients start at once and each wants to make one write to the same
//! record, with optimistic concurrency: read the version, write "if the
//! version is still v". Every round, one writer wins and the others conflict
//! and retry. How they wait before retrying decides how much work the
//! database does (calls) and how long it takes until everyone is done.
//!
//! Each call is a read and a conditional write, each crossing the network
//! once each way; every crossing takes 10 ms ± 2 ms (normally distributed, as
//! in the blog's simulator). Backoff starts at 5 ms and is capped at 2 s. The
//! strategies, with `ceiling = min(cap, base × 2^attempt)`:
//!
//! - none: retry at once;
//! - exponential: wait `ceiling`;
//! - full jitter: wait `random(0, ceiling)`;
//! - equal jitter: wait `ceiling / 2 + random(0, ceiling / 2)`;
//! - decorrelated jitter: wait `min(cap, random(base, previous × 3))`.
//!
//! The table is followed by two bar charts (calls, completion time);
//! `--timeline` draws the first clients' calls for each strategy, where the
//! herd is plain to see: without jitter, every retry lands in the same
//! instant. `--svg FILE` draws the charts and the timelines into one picture.
//!
//! ```text
//! cargo run -p workshop1 --example jitter
//! cargo run -p workshop1 --example jitter -- --clients 50 --seed 3
//! cargo run -p workshop1 --example jitter -- --svg jitter.svg
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use coordination::demo::{self, Flag, Flags, SEED, SVG, TIMELINE, Table, save_picture};
use coordination::picture::{BarChart, Picture, Terminal};
use coordination::sim::{clock, simulate};
use coordination::timeline::{self, Activity, Outcome as Ending, Recording, Timeline};
use coordination::{Seed, SimRng};
use rand::RngExt;

const ABOUT: &str =
    "jitter: contending clients with no backoff, exponential backoff, and three kinds of jitter";

const CLIENTS: Flag = Flag::value("clients", "100", "how many clients start at once");
const BASE_MS: Flag = Flag::value("base-ms", "5", "first backoff ceiling, in milliseconds");
const CAP_MS: Flag = Flag::value("cap-ms", "2000", "largest backoff, in milliseconds");
const FLAGS: [Flag; 6] = [SEED, CLIENTS, BASE_MS, CAP_MS, TIMELINE, SVG];

/// How many clients the timelines show: enough to see the herd, few enough
/// for one lane each.
const DRAWN_CLIENTS: u64 = 20;

/// One crossing of the network: 10 ms on average.
const NETWORK_MEAN: Duration = Duration::from_millis(10);
/// Its standard deviation: 2 ms (the blog's "variance of 4 ms").
const NETWORK_SPREAD: Duration = Duration::from_millis(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    None,
    Exponential,
    FullJitter,
    EqualJitter,
    Decorrelated,
}

impl Strategy {
    const ALL: [Strategy; 5] = [
        Strategy::None,
        Strategy::Exponential,
        Strategy::FullJitter,
        Strategy::EqualJitter,
        Strategy::Decorrelated,
    ];

    fn name(self) -> &'static str {
        match self {
            Strategy::None => "no backoff",
            Strategy::Exponential => "exponential, no jitter",
            Strategy::FullJitter => "full jitter",
            Strategy::EqualJitter => "equal jitter",
            Strategy::Decorrelated => "decorrelated jitter",
        }
    }
}

/// The backoff settings shared by every client.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// `min(cap, base × 2^attempt)`, saturating.
    fn ceiling(self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// How long to wait after conflict number `attempt`, given the previous
    /// wait (for decorrelated jitter).
    fn wait(
        self,
        strategy: Strategy,
        attempt: u32,
        previous: Duration,
        rng: &mut SimRng,
    ) -> Duration {
        let ceiling = self.ceiling(attempt);
        match strategy {
            Strategy::None => Duration::ZERO,
            Strategy::Exponential => ceiling,
            Strategy::FullJitter => uniform(rng, Duration::ZERO, ceiling),
            Strategy::EqualJitter => ceiling / 2 + uniform(rng, Duration::ZERO, ceiling / 2),
            Strategy::Decorrelated => {
                uniform(rng, self.base, previous.saturating_mul(3).max(self.base)).min(self.cap)
            }
        }
    }
}

fn uniform(rng: &mut SimRng, low: Duration, high: Duration) -> Duration {
    let low = low.as_nanos() as u64;
    let high = (high.as_nanos() as u64).max(low);
    Duration::from_nanos(rng.random_range(low..=high))
}

/// One network crossing: normally distributed around 10 ms, never negative.
fn crossing(rng: &mut SimRng) -> Duration {
    // Box-Muller: two uniform draws make one standard normal draw.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let millis = NETWORK_MEAN.as_secs_f64() * 1e3 + normal * NETWORK_SPREAD.as_secs_f64() * 1e3;
    Duration::from_secs_f64(millis.max(0.0) / 1e3)
}

/// What one strategy cost, and the calls of the first clients.
struct Outcome {
    calls: u64,
    completion: Duration,
    timeline: Timeline,
}

/// Runs `clients` contending clients with `strategy` until each has written.
fn contend(strategy: Strategy, clients: u64, backoff: Backoff, seed: Seed) -> Outcome {
    let recording = Recording::start();
    let (calls, completion) = simulate(async move {
        // One thread runs the whole simulation, so plain `Rc<Cell>` is enough
        // for the shared record and the call counter.
        let version = Rc::new(Cell::new(0_u64));
        let calls = Rc::new(Cell::new(0_u64));
        let local = tokio::task::LocalSet::new();
        for client in 0..clients {
            let version = Rc::clone(&version);
            let calls = Rc::clone(&calls);
            let mut rng = seed.derive(client).rng();
            local.spawn_local(async move {
                let mut attempt = 0;
                let mut previous = backoff.base;
                let lane = format!("client-{}", client + 1);
                loop {
                    calls.set(calls.get() + 1);
                    let call = (client < DRAWN_CLIENTS).then(|| {
                        timeline::begin(
                            lane.as_str(),
                            Activity::Call,
                            format!("call {}", attempt + 1),
                        )
                    });
                    tokio::time::sleep(crossing(&mut rng)).await;
                    let read = version.get();
                    tokio::time::sleep(crossing(&mut rng) + crossing(&mut rng)).await;
                    let won = version.get() == read;
                    if won {
                        version.set(read + 1);
                    }
                    tokio::time::sleep(crossing(&mut rng)).await;
                    if let Some(call) = call {
                        timeline::end(
                            call,
                            if won {
                                Ending::Succeeded
                            } else {
                                Ending::Failed
                            },
                        );
                    }
                    if won {
                        return;
                    }
                    previous = backoff.wait(strategy, attempt, previous, &mut rng);
                    attempt += 1;
                    tokio::time::sleep(previous).await;
                }
            });
        }
        local.await;
        (calls.get(), clock::elapsed())
    });
    Outcome {
        calls,
        completion,
        timeline: recording.finish(),
    }
}

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let clients: u64 = flags.count(CLIENTS)?;
    let backoff = Backoff {
        base: Duration::from_millis(flags.get(BASE_MS)?),
        cap: Duration::from_millis(flags.get(CAP_MS)?),
    };

    let mut table = Table::new([
        "strategy",
        "calls",
        "calls per client",
        "completion time",
        "calls vs none",
    ]);
    let outcomes: Vec<(Strategy, Outcome)> = Strategy::ALL
        .into_iter()
        .map(|strategy| (strategy, contend(strategy, clients, backoff, seed)))
        .collect();
    let baseline = outcomes[0].1.calls;
    let mut calls = BarChart::new("calls");
    let mut completion = BarChart::new("s");
    for (strategy, outcome) in &outcomes {
        table.row([
            strategy.name().to_string(),
            outcome.calls.to_string(),
            format!("{:.1}", outcome.calls as f64 / clients as f64),
            format!("{:.2} s", outcome.completion.as_secs_f64()),
            format!("{:.2}x", outcome.calls as f64 / baseline as f64),
        ]);
        calls.bar(strategy.name(), outcome.calls as f64);
        completion.bar(strategy.name(), outcome.completion.as_secs_f64());
    }
    let terminal = Terminal::detect();
    let setting = format!(
        "{clients} clients, one conditional write each, base {:?}, cap {:?}, seed {seed}",
        backoff.base, backoff.cap
    );
    println!(
        "{setting}\n\n{table}\ncalls\n{}\ncompletion time\n{}",
        calls.to_terminal(terminal),
        completion.to_terminal(terminal)
    );
    let drawn = clients.min(DRAWN_CLIENTS);
    if flags.switch(TIMELINE) {
        for (strategy, outcome) in &outcomes {
            println!(
                "\n{}: the calls of the first {drawn} clients\n{}",
                strategy.name(),
                outcome.timeline.swimlane(terminal)
            );
        }
    }
    save_picture(flags, || {
        let mut picture = Picture::new(format!("jitter: {setting}"));
        picture
            .add("calls: how much work the database did", calls)
            .add("completion time: until the last client wrote", completion);
        for (strategy, outcome) in outcomes {
            picture.add(
                format!(
                    "{}: the calls of the first {drawn} clients (red: conflict, green: written)",
                    strategy.name()
                ),
                outcome.timeline,
            );
        }
        picture
    })?;
    Ok(())
}
