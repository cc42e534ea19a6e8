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

use std::panic::{self, AssertUnwindSafe};

use coordination::demo::{Flag, Flags, SEED, Table, VERBOSE};
use coordination::metrics::makespan_lower_bound;
use coordination::sim::{logging, simulate};
use coordination::{Probability, Seed};
use workshop2::{
    ById, Cluster, ClusterRun, Fleet, LeastLoaded, PowerOfChoices, QueueDistributor, RoundRobin,
    WorkStealingDistributor, Workload, timed_work,
};

const ABOUT: &str = "One workload through every placement strategy: makespan against its lower bound, \
fairness, queue latency and steals.";

const FLAGS: [Flag; 6] = [
    SEED,
    Flag::value(
        "workload",
        "heavy-tailed",
        "uniform, heavy-tailed or one-giant",
    ),
    Flag::value("jobs", "1000", "how many jobs"),
    Flag::value(
        "speeds",
        "0.25,1,1,1",
        "speed factor of each machine, 0 < speed <= 1",
    ),
    Flag::value(
        "utilisation",
        "0.8",
        "offered load as a share of the fleet's capacity",
    ),
    VERBOSE,
];

fn main() {
    let flags = Flags::parse(ABOUT, &FLAGS);
    let settings = read(&flags).unwrap_or_else(|error| {
        eprintln!("error: {error}");
        std::process::exit(2);
    });
    logging::init_for_demo(flags.switch("verbose"));
    let Settings {
        seed,
        workload,
        jobs,
        fleet,
        utilisation,
    } = settings;
    let arrivals = workload.arrivals(jobs, fleet.pace(utilisation), seed);
    let bound = makespan_lower_bound(&timed_work(&arrivals), &fleet.speeds());
    println!(
        "{jobs} {workload} jobs at {utilisation} of capacity on machines of speed {:?}, seed \
         {seed}",
        fleet.speeds()
    );
    println!(
        "lower bound on the makespan: {:.2} s (no scheduler can finish sooner)\n",
        bound.as_secs_f64()
    );

    // Every run keeps its full report: per-worker start and finish events are
    // what a timeline of this demo would draw.
    type Strategy = (&'static str, &'static str, Box<dyn Fn() -> ClusterRun>);
    let cluster = {
        let fleet = fleet.clone();
        move || Cluster::new(fleet.workers(), seed)
    };
    let strategies: Vec<Strategy> = vec![
        ("by id", "given", {
            let (cluster, arrivals) = (cluster.clone(), arrivals.clone());
            Box::new(move || run(QueueDistributor::new(cluster(), ById).run(arrivals.clone())))
        }),
        ("round-robin", "2.1", {
            let (cluster, arrivals) = (cluster.clone(), arrivals.clone());
            Box::new(move || {
                run(QueueDistributor::new(cluster(), RoundRobin::new()).run(arrivals.clone()))
            })
        }),
        ("least-loaded", "2.2", {
            let (cluster, arrivals) = (cluster.clone(), arrivals.clone());
            Box::new(move || {
                run(QueueDistributor::new(cluster(), LeastLoaded).run(arrivals.clone()))
            })
        }),
        ("power of two choices", "2.2", {
            let (cluster, arrivals) = (cluster.clone(), arrivals.clone());
            Box::new(move || {
                run(QueueDistributor::new(cluster(), PowerOfChoices::two()).run(arrivals.clone()))
            })
        }),
        ("work stealing", "2.3", {
            let (cluster, arrivals) = (cluster.clone(), arrivals.clone());
            Box::new(move || run(WorkStealingDistributor::new(cluster()).run(arrivals.clone())))
        }),
    ];

    let mut table = Table::new([
        "strategy",
        "makespan",
        "/ bound",
        "fairness",
        "queue p50",
        "queue p99",
        "steals",
    ]);
    // A strategy whose exercise is still a `todo!()` panics; the demo shows
    // that as a row instead of a backtrace.
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut not_done = Vec::new();
    for (name, exercise, strategy) in &strategies {
        match panic::catch_unwind(AssertUnwindSafe(strategy)) {
            Ok(outcome) => {
                let balance = &outcome.balance;
                table.row([
                    name.to_string(),
                    format!("{:.2} s", balance.makespan.as_secs_f64()),
                    format!("{:.2}x", balance.ratio_to(bound)),
                    format!("{:.2}", balance.fairness()),
                    format!("{:.0} ms", balance.queue_latency.p50.as_secs_f64() * 1e3),
                    format!("{:.0} ms", balance.queue_latency.p99.as_secs_f64() * 1e3),
                    balance.steals.to_string(),
                ]);
            }
            Err(_) => {
                table.row([*name, "-", "-", "-", "-", "-", "-"]);
                not_done.push(format!("{name}: exercise {exercise} is not done yet"));
            }
        }
    }
    panic::set_hook(quiet);
    print!("{table}");
    for note in not_done {
        println!("  {note}");
    }
    println!(
        "\n/ bound: makespan over the lower bound (1.00x is perfect). fairness: Jain's index \
         over busy time (1 = equal)."
    );
}

/// Runs one strategy in its own simulation.
fn run(
    future: impl std::future::Future<Output = Result<ClusterRun, coordination::DistributeError>>,
) -> ClusterRun {
    simulate(future).expect("workload ids are unique")
}

struct Settings {
    seed: Seed,
    workload: Workload,
    jobs: usize,
    fleet: Fleet,
    utilisation: Probability,
}

fn read(flags: &Flags) -> Result<Settings, String> {
    let seed = Seed::new(flags.get("seed").map_err(|error| error.to_string())?);
    let workload = flags
        .get::<String>("workload")
        .map_err(|error| error.to_string())?
        .parse()
        .map_err(|error: workshop2::UnknownWorkload| error.to_string())?;
    let jobs = flags.get("jobs").map_err(|error| error.to_string())?;
    let speeds = flags
        .get::<String>("speeds")
        .map_err(|error| error.to_string())?
        .split(',')
        .map(|speed| {
            speed
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("--speeds expects numbers such as 0.25,1,1,1, got {speed:?}"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let fleet = Fleet::new(&speeds, seed).map_err(|error| error.to_string())?;
    let utilisation = Probability::new(
        flags
            .get("utilisation")
            .map_err(|error| error.to_string())?,
    )
    .map_err(|error| format!("--utilisation: {error}"))?;
    Ok(Settings {
        seed,
        workload,
        jobs,
        fleet,
        utilisation,
    })
}
