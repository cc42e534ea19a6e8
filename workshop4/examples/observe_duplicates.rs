//! At-least-once delivery, seen twice: deposits credited twice, photos
//! published twice. And, once exercises 4.4 and 4.5 are done, the same runs
//! with every effect exactly once.
//!
//! The account: clients deposit money over a network that loses some
//! replies after the server applied the deposit; the clients retry, and a
//! server that applies every request it receives credits those deposits
//! twice. The pipeline: images go through four stages joined by queues;
//! workers crash before acknowledging and queues redeliver, and stages that
//! trust their queues publish some photos twice.
//!
//! ```text
//! cargo run -p workshop4 --example observe_duplicates
//! cargo run -p workshop4 --features solution --example observe_duplicates -- --seed 3
//! ```

use coordination::Seed;
use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::picture::{BarChart, Picture};
use coordination::sim::{NetworkConditions, simulate};
use workshop4::idempotent_stage::idempotent_stage;
use workshop4::pipeline::{PipelineFaults, naive_stage, run_pipeline};
use workshop4::{Deduplication, run_account_service};

const ABOUT: &str =
    "observe_duplicates: at-least-once delivery makes duplicates; exactly-once takes work";

const CLIENTS: Flag = Flag::value("clients", "5", "clients making deposits");
const DEPOSITS: Flag = Flag::value("deposits", "40", "deposits per client");
const IMAGES: Flag = Flag::value("images", "50", "images through the pipeline");
const FLAGS: [Flag; 5] = [SEED, CLIENTS, DEPOSITS, IMAGES, SVG];

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let clients = flags.count::<u64>(CLIENTS)?;
    let deposits = flags.get::<u64>(DEPOSITS)?;
    let images = flags.get::<u64>(IMAGES)?;
    let mut unfinished = Vec::new();
    let mut overcharged = BarChart::new("cents credited twice");
    let mut duplicated = BarChart::new("photos shown more than once");

    let mut accounts = Table::new([
        "server",
        "deposited",
        "balance",
        "difference",
        "retries",
        "replies lost",
        "answered from table",
    ]);
    for (name, deduplication) in [
        ("applies every request", Deduplication::None),
        ("4.4 exactly-once table", Deduplication::ByClientAndSequence),
    ] {
        let outcome = unless_unfinished(|| {
            simulate(run_account_service(
                seed,
                NetworkConditions::unreliable(),
                clients,
                deposits,
                deduplication,
            ))
        });
        match outcome {
            Ok(Ok(run)) => {
                overcharged.bar(name, run.balance.abs_diff(run.intended) as f64);
                accounts.row([
                    name.to_string(),
                    cents(run.intended),
                    cents(run.balance),
                    cents(run.balance.abs_diff(run.intended)),
                    run.retries.to_string(),
                    run.replies_lost.to_string(),
                    run.duplicates_answered.to_string(),
                ]);
            }
            Ok(Err(error)) => return Err(error.into()),
            Err(exercise) => {
                overcharged.missing(name, "not done yet");
                accounts.row([name, "-", "-", "-", "-", "-", "not done yet"]);
                unfinished.push(exercise);
            }
        }
    }
    println!(
        "{clients} clients x {deposits} deposits over an unreliable network (10% of replies lost \
         after the server applied the request), seed {seed}\n\n{accounts}"
    );

    let mut pipeline = Table::new([
        "stages",
        "images",
        "published once",
        "published twice or more",
        "never published",
        "crashes",
        "deliveries",
    ]);
    let handlers: [(&str, workshop4::pipeline::Handler); 2] = [
        ("trust the queue", naive_stage),
        ("4.5 idempotent", idempotent_stage),
    ];
    for (name, handler) in handlers {
        match unless_unfinished(|| run_pipeline(images, PipelineFaults::harsh(), seed, handler)) {
            Ok(Ok(report)) => {
                let per_image = report.posts_per_image();
                let once = per_image.values().filter(|&&posts| posts == 1).count();
                duplicated.bar(name, report.published_twice().len() as f64);
                pipeline.row([
                    name.to_string(),
                    images.to_string(),
                    once.to_string(),
                    report.published_twice().len().to_string(),
                    report.never_published().len().to_string(),
                    report.crashes.to_string(),
                    report.total_deliveries().to_string(),
                ]);
            }
            Ok(Err(error)) => return Err(error.into()),
            Err(exercise) => {
                duplicated.missing(name, "not done yet");
                pipeline.row([name, "-", "-", "-", "-", "-", "not done yet"]);
                unfinished.push(exercise);
            }
        }
    }
    println!(
        "\nDecode, resize, thumbnail, publish: 10% of effects followed by a crash, 20% of \
         deliveries never acknowledged, 10% delivered twice\n\n{pipeline}"
    );
    for exercise in unfinished {
        println!("  {exercise}");
    }
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "observe_duplicates: at-least-once delivery and its duplicates, seed {seed}"
        ));
        picture.add("deposits retried after lost replies", overcharged);
        picture.add("images through crashing, redelivering stages", duplicated);
        picture
    })?;
    Ok(())
}

/// Cents as dollars and cents.
fn cents(value: u64) -> String {
    format!("${}.{:02}", value / 100, value % 100)
}
