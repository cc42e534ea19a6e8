//! One workload through every placement strategy, side by side.
//!
//! ```text
//! cargo run -p workshop2 --example distribute
//! cargo run -p workshop2 --example distribute -- --workload one-giant --seed 7
//! ```
//!
//! Each strategy gets the same jobs at the same moments on the same fleet
//! (by default four machines, the first at a quarter speed), and the table
//! compares each makespan with the best any scheduler could do. Strategies
//! whose exercise is not done yet are listed as such.
//!
//! `--svg FILE` draws each strategy's run as a timeline, one lane per
//! machine, under a chart of the makespans (one seed only).
//!
//! With `--seeds N` it runs N seeds (from `--seed` on) and reports the median
//! and the worst ratio to the bound per strategy: the figures of the table in
//! `workshop2/README.md` come from
//! `cargo run --release -p workshop2 --features solution --example distribute -- --seeds 200`.

use std::time::Duration;

use coordination::demo::{
    self, Flag, Flags, SEED, SVG, Table, VERBOSE, save_picture, unless_unfinished,
};
use coordination::metrics::makespan_lower_bound;
use coordination::picture::{BarChart, Picture};
use coordination::sim::{logging, simulate};
use coordination::timeline::Timeline;
use coordination::unfinished::UnfinishedExercise;
use coordination::{Probability, Seed};
use workshop2::{
    Arrival, ById, Cluster, ClusterRun, Fleet, Job, LeastLoaded, PowerOfChoices, QueueDistributor,
    RoundRobin, WorkStealingDistributor, Workload, timed_work,
};

const ABOUT: &str = "One workload through every placement strategy: makespan against its lower \
bound, fairness, queue latency and steals.";

const WORKLOAD: Flag = Flag::value(
    "workload",
    "heavy-tailed",
    "uniform, heavy-tailed or one-giant",
);
const JOBS: Flag = Flag::value("jobs", "1000", "how many jobs");
const SPEEDS: Flag = Flag::value(
    "speeds",
    "0.25,1,1,1",
    "speed factor of each machine, 0 < speed <= 1",
);
const UTILISATION: Flag = Flag::value(
    "utilisation",
    "0.8",
    "offered load as a share of the fleet's capacity",
);
const SEEDS: Flag = Flag::value(
    "seeds",
    "1",
    "run this many seeds and summarise each strategy's ratio to the bound",
);
const FLAGS: [Flag; 8] = [
    SEED,
    WORKLOAD,
    JOBS,
    SPEEDS,
    UTILISATION,
    SEEDS,
    VERBOSE,
    SVG,
];

/// A strategy: its name and how to run it.
struct Strategy {
    /// For the table.
    name: &'static str,
    /// Runs the arrivals on the cluster, in a simulation of its own.
    run: fn(Cluster<Job>, Vec<Arrival<Job>>) -> ClusterRun,
}

const STRATEGIES: [Strategy; 5] = [
    Strategy {
        name: "by id",
        run: |cluster, arrivals| simulated(QueueDistributor::new(cluster, ById).run(arrivals)),
    },
    Strategy {
        name: "round-robin",
        run: |cluster, arrivals| {
            simulated(QueueDistributor::new(cluster, RoundRobin::new()).run(arrivals))
        },
    },
    Strategy {
        name: "least-loaded",
        run: |cluster, arrivals| {
            simulated(QueueDistributor::new(cluster, LeastLoaded).run(arrivals))
        },
    },
    Strategy {
        name: "power of two choices",
        run: |cluster, arrivals| {
            simulated(QueueDistributor::new(cluster, PowerOfChoices::two()).run(arrivals))
        },
    },
    Strategy {
        name: "work stealing",
        run: |cluster, arrivals| simulated(WorkStealingDistributor::new(cluster).run(arrivals)),
    },
];

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let settings = read(flags)?;
    logging::init_for_demo(flags.switch(VERBOSE));
    println!(
        "{} {} jobs at {} of capacity on machines of speed {:?}",
        settings.jobs,
        settings.workload,
        settings.utilisation,
        settings.fleet.speeds()
    );
    // A strategy whose exercise is still a `todo!()` shows as a row of dashes
    // and a note naming the exercise, instead of a backtrace.
    let not_done = if settings.seeds > 1 {
        summarise_seeds(&settings)
    } else {
        let (not_done, picture) = one_seed(&settings);
        save_picture(flags, || picture)?;
        not_done
    };
    for (name, exercise) in not_done {
        println!("  {name}: {exercise}");
    }
    println!(
        "\n/ bound: makespan over the lower bound (1.00x is perfect). fairness: Jain's index \
         over busy time (1 = equal)."
    );
    Ok(())
}

/// The jobs of `seed` and their lower bound.
fn scenario(settings: &Settings, seed: Seed) -> (Vec<Arrival<Job>>, Duration) {
    let fleet = &settings.fleet;
    let arrivals =
        settings
            .workload
            .arrivals(settings.jobs, fleet.pace(settings.utilisation), seed);
    let bound = makespan_lower_bound(&timed_work(&arrivals), &fleet.speeds());
    (arrivals, bound)
}

/// Every strategy on one seed, in detail. Returns the strategies whose
/// exercise is not done yet, with the exercise's message, and a picture of
/// the runs.
fn one_seed(settings: &Settings) -> (Vec<(&'static str, UnfinishedExercise)>, Picture) {
    let (arrivals, bound) = scenario(settings, settings.seed);
    println!(
        "seed {}; lower bound on the makespan: {:.2} s (no scheduler can finish sooner)\n",
        settings.seed,
        bound.as_secs_f64()
    );
    let mut table = Table::new([
        "strategy",
        "makespan",
        "/ bound",
        "fairness",
        "queue p50",
        "queue p99",
        "steals",
    ]);
    let mut not_done = Vec::new();
    let mut makespans = BarChart::new("s");
    let mut timelines = Vec::new();
    for strategy in &STRATEGIES {
        // Every run keeps its full report: its per-worker start and finish
        // events are what the timeline draws.
        let cluster = Cluster::new(settings.fleet.workers(), settings.seed);
        match unless_unfinished(|| (strategy.run)(cluster, arrivals.clone())) {
            Ok(outcome) => {
                let balance = &outcome.balance;
                makespans.bar(strategy.name, balance.makespan.as_secs_f64());
                timelines.push((
                    format!(
                        "{}: makespan {:.2} s, {:.2}x the bound",
                        strategy.name,
                        balance.makespan.as_secs_f64(),
                        balance.ratio_to(bound)
                    ),
                    Timeline::from_report(&outcome.report),
                ));
                table.row([
                    strategy.name.to_string(),
                    format!("{:.2} s", balance.makespan.as_secs_f64()),
                    format!("{:.2}x", balance.ratio_to(bound)),
                    format!("{:.2}", balance.fairness()),
                    format!("{:.0} ms", balance.queue_latency.p50.as_secs_f64() * 1e3),
                    format!("{:.0} ms", balance.queue_latency.p99.as_secs_f64() * 1e3),
                    balance.steals.to_string(),
                ]);
            }
            Err(exercise) => {
                table.row([strategy.name, "-", "-", "-", "-", "-", "-"]);
                makespans.missing(strategy.name, "not done yet");
                not_done.push((strategy.name, exercise));
            }
        }
    }
    print!("{table}");
    let mut picture = Picture::new(format!(
        "distribute: {} {} jobs, seed {}, lower bound {:.2} s",
        settings.jobs,
        settings.workload,
        settings.seed,
        bound.as_secs_f64()
    ));
    picture.add("makespan (shorter is better)", makespans);
    for (heading, timeline) in timelines {
        picture.add(heading, timeline);
    }
    (not_done, picture)
}

/// Every strategy over many seeds: the best, median and worst ratio. Returns
/// the strategies whose exercise is not done yet, with the exercise's message.
fn summarise_seeds(settings: &Settings) -> Vec<(&'static str, UnfinishedExercise)> {
    let first = settings.seed.value();
    let seeds: Vec<Seed> = (first..first + settings.seeds).map(Seed::new).collect();
    println!(
        "seeds {first} to {}; ratio of the makespan to its lower bound\n",
        first + settings.seeds - 1
    );
    let scenarios: Vec<_> = seeds
        .iter()
        .map(|&seed| (seed, scenario(settings, seed)))
        .collect();
    let mut table = Table::new([
        "strategy",
        "best / bound",
        "median / bound",
        "worst / bound",
        "median fairness",
    ]);
    let mut not_done = Vec::new();
    for strategy in &STRATEGIES {
        let outcome = unless_unfinished(|| {
            scenarios
                .iter()
                .map(|(seed, (arrivals, bound))| {
                    let cluster = Cluster::new(settings.fleet.workers(), *seed);
                    let run = (strategy.run)(cluster, arrivals.clone());
                    (run.balance.ratio_to(*bound), run.balance.fairness())
                })
                .collect::<Vec<(f64, f64)>>()
        });
        let results = match outcome {
            Ok(results) => results,
            Err(exercise) => {
                table.row([strategy.name, "-", "-", "-", "-"]);
                not_done.push((strategy.name, exercise));
                continue;
            }
        };
        let mut ratios: Vec<f64> = results.iter().map(|&(ratio, _)| ratio).collect();
        let mut fairness: Vec<f64> = results.iter().map(|&(_, fairness)| fairness).collect();
        ratios.sort_by(f64::total_cmp);
        fairness.sort_by(f64::total_cmp);
        table.row([
            strategy.name.to_string(),
            format!("{:.2}x", ratios[0]),
            format!("{:.2}x", ratios[ratios.len() / 2]),
            format!("{:.2}x", ratios[ratios.len() - 1]),
            format!("{:.2}", fairness[fairness.len() / 2]),
        ]);
    }
    print!("{table}");
    not_done
}

/// Runs one strategy in a simulation of its own.
fn simulated(
    future: impl std::future::Future<Output = Result<ClusterRun, coordination::DistributeError>>,
) -> ClusterRun {
    simulate(future).expect("workload ids are unique")
}

struct Settings {
    seed: Seed,
    seeds: u64,
    workload: Workload,
    jobs: usize,
    fleet: Fleet,
    utilisation: Probability,
}

fn read(flags: &Flags) -> Result<Settings, String> {
    let number = |flag: Flag| flags.count::<u64>(flag).map_err(|error| error.to_string());
    let seed = Seed::new(flags.get(SEED).map_err(|error| error.to_string())?);
    let seeds = number(SEEDS)?;
    let workload = flags
        .get::<String>(WORKLOAD)
        .map_err(|error| error.to_string())?
        .parse()
        .map_err(|error: workshop2::UnknownWorkload| error.to_string())?;
    let jobs = flags.get(JOBS).map_err(|error| error.to_string())?;
    let speeds = flags
        .get::<String>(SPEEDS)
        .map_err(|error| error.to_string())?
        .split(',')
        .map(|speed| {
            speed
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("--speeds expects numbers such as 0.25,1,1,1, got {speed:?}"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let fleet = Fleet::new(&speeds, seed).map_err(|error| format!("--speeds: {error}"))?;
    let utilisation = Probability::new(flags.get(UTILISATION).map_err(|error| error.to_string())?)
        .map_err(|error| format!("--utilisation: {error}"))?;
    Ok(Settings {
        seed,
        seeds,
        workload,
        jobs,
        fleet,
        utilisation,
    })
}
