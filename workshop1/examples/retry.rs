//! Every retry strategy of the workshop, side by side on the same images.
//!
//! The same batch, the same flaky workers, the same seed, through each
//! distributor in turn: naive, immediate retry (1.1), re-queue (1.2),
//! backoff (1.4), dead-letter queue (1.5) and visibility timeout (1.6). A
//! strategy whose exercise is not done yet shows which exercise unlocks it.
//!
//! The run starts while the image service restarts (`--outage`, 2 s by
//! default): every attempt fails at once, as a connection refused does.
//! Independent failures alone cannot tell re-queue from backoff, since a
//! retry that waits fails just as often; an outage can. Re-queue spends an
//! image's attempts as fast as the workers cycle through the queue, all of
//! them inside the outage; backoff spaces them out until the service is
//! back. `--outage 0` leaves only the independent failures.
//! `--timeline` draws each run in the terminal, `--svg FILE` draws them all
//! into one picture.
//!
//! ```text
//! cargo run -p workshop1 --example retry
//! cargo run -p workshop1 --features solution --example retry -- --failure-rate 0.5
//! cargo run -p workshop1 --features solution --example retry -- --items 40 --svg retry.svg
//! ```

use std::sync::Arc;
use std::time::Duration;

use coordination::sim::clock;

use coordination::demo::{
    self, Flag, Flags, SEED, SVG, TIMELINE, Table, save_picture, unless_unfinished,
};
use coordination::picture::{Picture, Terminal};
use coordination::sim::{FaultPlan, Hang, simulate};
use coordination::timeline::{Recording, Timeline};
use coordination::{
    ConfigError, MaxAttempts, Probability, RunReport, Seed, WorkDistributor, WorkError, Worker,
    WorkerId, Workers, async_trait,
};
use workshop1::testing::mixed_pool;
use workshop1::{
    BackoffDistributor, BackoffPolicy, DeadLetterDistributor, FailurePolicy, ImageWorkItem,
    ImageWorker, ImmediateRetryDistributor, InMemoryDeadLetterQueue, NaiveWorkDistributor,
    RequeueDistributor, RetryPolicy, VisibilityTimeout, VisibilityTimeoutDistributor,
};

const ABOUT: &str = "retry: every strategy of Workshop 1 on the same images and the same faults";

const ITEMS: Flag = Flag::value("items", "200", "how many images to process");
const WORKERS: Flag = Flag::value("workers", "4", "how many workers");
const FAILURE_RATE: Flag = Flag::value(
    "failure-rate",
    "0.3",
    "chance that an attempt fails transiently",
);
const CORRUPT_RATE: Flag = Flag::value("corrupt-rate", "0.05", "chance that an image is corrupt");
const HANG_RATE: Flag = Flag::value(
    "hang-rate",
    "0.02",
    "chance that an attempt hangs for a minute",
);
const MAX_ATTEMPTS: Flag = Flag::value(
    "max-attempts",
    "4",
    "attempts per image, the first included",
);
const VISIBILITY_TIMEOUT: Flag = Flag::value(
    "visibility-timeout",
    "10",
    "seconds before a silent delivery is taken back",
);
const OUTAGE: Flag = Flag::value(
    "outage",
    "2",
    "seconds at the start during which the image service refuses every attempt",
);
const FLAGS: [Flag; 11] = [
    SEED,
    ITEMS,
    WORKERS,
    FAILURE_RATE,
    CORRUPT_RATE,
    HANG_RATE,
    MAX_ATTEMPTS,
    VISIBILITY_TIMEOUT,
    OUTAGE,
    TIMELINE,
    SVG,
];

/// Everything a run needs, so each strategy gets the same inputs.
#[derive(Clone, Copy)]
struct Setup {
    seed: Seed,
    items: u64,
    workers: u32,
    faults: FaultPlan,
    corrupt: Probability,
    max_attempts: MaxAttempts,
    visibility_timeout: Duration,
    outage: Duration,
}

/// The backoff every retrying strategy uses: long enough, from the first
/// retry, to matter against an outage of seconds.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// How long a refused attempt takes: a refused connection is quick.
const REFUSED_AFTER: Duration = Duration::from_millis(10);

fn main() {
    demo::launch(ABOUT, &FLAGS, |flags| compare(setup(flags)?, flags));
}

fn setup(flags: &Flags) -> Result<Setup, Box<dyn std::error::Error>> {
    let faults = FaultPlan::NONE
        .with_transient(Probability::new(flags.get(FAILURE_RATE)?)?)
        .with_hang(
            Hang::For(Duration::from_secs(60)),
            Probability::new(flags.get(HANG_RATE)?)?,
        );
    Ok(Setup {
        seed: Seed::new(flags.get(SEED)?),
        items: flags.count(ITEMS)?,
        workers: flags.count(WORKERS)?,
        faults,
        corrupt: Probability::new(flags.get(CORRUPT_RATE)?)?,
        max_attempts: MaxAttempts::new(flags.get(MAX_ATTEMPTS)?)?,
        visibility_timeout: Duration::from_secs(flags.get(VISIBILITY_TIMEOUT)?),
        outage: Duration::try_from_secs_f64(flags.get(OUTAGE)?)
            .map_err(|_| "--outage takes a number of seconds, 0 or more")?,
    })
}

impl Setup {
    /// The retry policy. Built per run, inside the check for unfinished
    /// exercises, because `BackoffPolicy` is exercise 1.3.
    fn retry(&self) -> Result<RetryPolicy, ConfigError> {
        Ok(RetryPolicy {
            max_attempts: self.max_attempts,
            backoff: BackoffPolicy::new(BACKOFF_BASE, BACKOFF_CAP)?,
        })
    }
}

type Built = Result<Box<dyn WorkDistributor<ImageWorkItem>>, ConfigError>;
type Build = fn(Workers<ImageWorkItem>, &Setup) -> Built;

fn compare(setup: Setup, flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let strategies: [(&str, Build); 6] = [
        ("naive", |pool, _| {
            Ok(Box::new(NaiveWorkDistributor::new(pool)))
        }),
        ("1.1 immediate retry", |pool, setup| {
            Ok(Box::new(ImmediateRetryDistributor::new(
                pool,
                setup.max_attempts,
            )))
        }),
        ("1.2 re-queue", |pool, setup| {
            Ok(Box::new(RequeueDistributor::new(pool, setup.max_attempts)))
        }),
        ("1.4 backoff", |pool, setup| {
            Ok(Box::new(BackoffDistributor::new(
                pool,
                setup.retry()?,
                setup.seed,
            )))
        }),
        ("1.5 dead-letter queue", |pool, setup| {
            let dead_letters = Arc::new(InMemoryDeadLetterQueue::new());
            Ok(Box::new(DeadLetterDistributor::new(
                pool,
                setup.retry()?,
                dead_letters,
                setup.seed,
            )))
        }),
        ("1.6 visibility timeout", |pool, setup| {
            let policy = FailurePolicy {
                retry: setup.retry()?,
                dead_letters: Arc::new(InMemoryDeadLetterQueue::new()),
            };
            let timeout = VisibilityTimeout::new(setup.visibility_timeout)?;
            Ok(Box::new(VisibilityTimeoutDistributor::new(
                pool, policy, timeout, setup.seed,
            )))
        }),
    ];

    let mut table = Table::new([
        "strategy",
        "succeeded",
        "dead-lettered",
        "lost",
        "attempts",
        "completion time",
    ]);
    let mut unfinished = Vec::new();
    let mut timelines: Vec<(String, Timeline)> = Vec::new();
    for (name, build) in strategies {
        match unless_unfinished(|| run(build, &setup)) {
            Ok(Ok((Some(report), timeline))) => {
                timelines.push((
                    format!(
                        "{name}: {} succeeded, {} dead-lettered, {} lost",
                        report.succeeded(),
                        report.dead_lettered(),
                        report.lost().len()
                    ),
                    timeline,
                ));
                table.row([
                    name.to_string(),
                    report.succeeded().to_string(),
                    report.dead_lettered().to_string(),
                    report.lost().len().to_string(),
                    report.attempts().to_string(),
                    format!("{:.1} s", report.completion_time().as_secs_f64()),
                ]);
            }
            Ok(Ok((None, timeline))) => {
                table.row([name, "-", "-", "-", "-", "stalled: a worker hung"]);
                timelines.push((format!("{name}: stalled, a worker hung"), timeline));
            }
            Ok(Err(error)) => {
                table.row([name, "-", "-", "-", "-", "invalid setting"]);
                unfinished.push(error.to_string());
            }
            Err(exercise) => {
                table.row([name, "-", "-", "-", "-", "not done yet"]);
                unfinished.push(exercise.to_string());
            }
        }
    }
    println!(
        "{} images, {} workers, the image service down for the first {:?}, seed {}\n\n{table}",
        setup.items, setup.workers, setup.outage, setup.seed
    );
    unfinished.dedup();
    for exercise in unfinished {
        println!("  {exercise}");
    }
    if flags.switch(TIMELINE) {
        for (heading, timeline) in &timelines {
            println!("\n{heading}\n{}", timeline.swimlane(Terminal::detect()));
        }
    }
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "retry: {} images, {} workers, seed {}",
            setup.items, setup.workers, setup.seed
        ));
        for (heading, timeline) in timelines {
            picture.add(heading, timeline);
        }
        picture
    })?;
    Ok(())
}

/// Runs one strategy and records its timeline; the report is `None` when
/// the run stalls (without a visibility timeout, a worker that hangs for good
/// stalls it).
fn run(build: Build, setup: &Setup) -> Result<(Option<RunReport>, Timeline), ConfigError> {
    let setup = *setup;
    let recording = Recording::start();
    let report = simulate(async move {
        let pool = mixed_pool(
            (1..=setup.workers)
                .map(|id| {
                    Arc::new(Restarting {
                        worker: ImageWorker::new(id, setup.faults, setup.seed),
                        until: setup.outage,
                    }) as Arc<dyn Worker<ImageWorkItem>>
                })
                .collect(),
        );
        let distributor = build(pool, &setup)?;
        let images = ImageWorkItem::batch(setup.items, setup.corrupt, setup.seed);
        let stall = Duration::from_secs(24 * 60 * 60);
        Ok(tokio::time::timeout(stall, distributor.distribute(images))
            .await
            .ok()
            .map(|outcome| outcome.expect("a generated batch has unique ids")))
    })?;
    Ok((report, recording.finish()))
}

/// A worker whose downstream, the image service, is restarting until
/// `until` (simulated time since the run began): until then every attempt
/// is refused quickly with a retryable error, after that the worker is
/// itself.
struct Restarting {
    worker: ImageWorker,
    until: Duration,
}

#[async_trait]
impl Worker<ImageWorkItem> for Restarting {
    fn id(&self) -> WorkerId {
        self.worker.id()
    }

    async fn process(&self, image: &ImageWorkItem) -> Result<(), WorkError> {
        if clock::elapsed() < self.until {
            tokio::time::sleep(REFUSED_AFTER).await;
            return Err(WorkError::transient(
                "the image service is restarting: connection refused",
            ));
        }
        self.worker.process(image).await
    }
}
