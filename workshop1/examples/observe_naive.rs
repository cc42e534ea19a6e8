//! Observe: a naive distributor loses work.
//!
//! Three workers process a batch of uploaded images. The resizing service
//! fails now and then (a dropped connection, a 503), and a few images are
//! corrupt. The naive distributor tries each image once. Watch the log, look
//! at the timeline (every `x` is a failure nobody retried), then count the
//! lost images in the table.
//!
//! ```text
//! cargo run -p workshop1 --example observe_naive
//! cargo run -p workshop1 --example observe_naive -- --seed 7 --items 40 --failure-rate 0.3
//! cargo run -p workshop1 --example observe_naive -- --svg observe.svg
//! ```

use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, VERBOSE, save_picture};
use coordination::picture::{Picture, Terminal};
use coordination::sim::{FaultPlan, logging, simulate};
use coordination::timeline::Recording;
use coordination::{Probability, Seed, WorkDistributor};
use workshop1::testing::image_workers;
use workshop1::{ImageWorkItem, NaiveWorkDistributor};

const ABOUT: &str =
    "observe_naive: the naive distributor tries each image once and loses the failures";

const ITEMS: Flag = Flag::value("items", "20", "how many images to process");
const WORKERS: Flag = Flag::value("workers", "3", "how many workers");
const FAILURE_RATE: Flag = Flag::value(
    "failure-rate",
    "0.2",
    "chance that an attempt fails transiently",
);
const CORRUPT_RATE: Flag = Flag::value("corrupt-rate", "0.05", "chance that an image is corrupt");
const FLAGS: [Flag; 7] = [
    SEED,
    ITEMS,
    WORKERS,
    FAILURE_RATE,
    CORRUPT_RATE,
    VERBOSE,
    SVG,
];

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::new(flags.get(SEED)?);
    let items: u64 = flags.count(ITEMS)?;
    let workers: u32 = flags.count(WORKERS)?;
    let failures = Probability::new(flags.get(FAILURE_RATE)?)?;
    let corrupt = Probability::new(flags.get(CORRUPT_RATE)?)?;
    logging::init_for_demo(flags.switch(VERBOSE));

    let recording = Recording::start();
    let report = simulate(async move {
        let pool = image_workers(workers, FaultPlan::NONE.with_transient(failures), seed);
        NaiveWorkDistributor::new(pool)
            .distribute(ImageWorkItem::batch(items, corrupt, seed))
            .await
    })?;
    let timeline = recording.finish();

    println!("\n{}", timeline.swimlane(Terminal::detect()));
    let lost = report.lost();
    let mut table = Table::new(["submitted", "succeeded", "failed attempts", "lost"]);
    table.row([
        report.submitted(),
        report.succeeded(),
        report.failed_attempts(),
        lost.len(),
    ]);
    println!("\n{table}");
    for item in &lost {
        println!("  lost: {item}");
    }
    println!(
        "\n{} of {} images are gone. Nobody retried them and nobody set them aside.",
        lost.len(),
        report.submitted()
    );
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "observe_naive: the naive distributor, {items} images, {workers} workers, seed {seed}"
        ));
        picture.add(
            format!("{} of {} images lost", lost.len(), report.submitted()),
            timeline,
        );
        picture
    })?;
    Ok(())
}
