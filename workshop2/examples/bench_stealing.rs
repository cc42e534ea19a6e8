//! The workshop's work stealing against rayon, on real CPU work.
//!
//! ```text
//! cargo run --release -p workshop2 --features solution --example bench_stealing
//! ```
//!
//! The same batch of images, of heavy-tailed sizes, is blurred three ways on
//! the same threads, in one run, rounds interleaved so that neither side gets
//! a warmer machine:
//!
//! - **per-worker queues** ([`FifoQueues`]): images dealt round-robin, no
//!   stealing; a thread that finishes early idles;
//! - **work stealing** ([`StealingDeques`], exercise 2.3): the same deal, and
//!   idle threads steal half of another's queue;
//! - **rayon** (`par_iter`): the well-known work-stealing scheduler.
//!
//! It prints the median time of each and the throughput as a ratio to rayon.
//! Build with `--release`: a debug build measures the compiler, not the
//! scheduler.

use std::time::{Duration, Instant};

use coordination::demo::{self, Flag, Flags, SEED, SVG, Table, save_picture, unless_unfinished};
use coordination::picture::{BarChart, Picture};
use coordination::{Seed, SimRng};
use rand::RngExt;
use rayon::prelude::*;
use workshop2::{FifoQueues, StealingDeques, WorkerQueues, run_on_threads};

const ABOUT: &str = "Work stealing against rayon on real CPU work: blurring images of \
heavy-tailed sizes.";

const IMAGES: Flag = Flag::value("images", "600", "how many images");
const SIZE: Flag = Flag::value(
    "size",
    "96",
    "side of the smallest image in pixels; the largest is 4.5 times it",
);
const PASSES: Flag = Flag::value("passes", "3", "blur passes per image");
const ROUNDS: Flag = Flag::value(
    "rounds",
    "7",
    "rounds of the three runs; the median is reported",
);
const THREADS: Flag = Flag::value("threads", "0", "threads per run; 0 for one per core");
const FLAGS: [Flag; 7] = [SEED, IMAGES, SIZE, PASSES, ROUNDS, THREADS, SVG];

/// A grayscale image.
#[derive(Clone)]
struct Image {
    /// Width and height.
    side: usize,
    /// Row by row.
    pixels: Vec<f32>,
}

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let read = |flag: Flag| flags.count::<usize>(flag);
    let (images, size, passes, rounds) = (read(IMAGES)?, read(SIZE)?, read(PASSES)?, read(ROUNDS)?);
    if size < 8 {
        return Err("--size must be at least 8".into());
    }
    let seed = Seed::new(flags.get::<u64>(SEED)?);
    let threads = match flags.get::<usize>(THREADS)? {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        threads => threads,
    };
    let batch = generate(images, size, seed);
    let megapixels =
        batch.iter().map(|image| image.pixels.len()).sum::<usize>() as f64 * passes as f64 / 1e6;
    if cfg!(debug_assertions) {
        println!("note: a debug build; add --release for numbers worth reading\n");
    }
    println!(
        "{images} images ({:.1} megapixels per pass), {passes} blur passes, {threads} threads, \
         {rounds} rounds, seed {seed}\n",
        megapixels / passes as f64
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool of this size can be built");

    let blur = move |image: Image| blur(image, passes);
    let expected: f64 = batch.iter().cloned().map(blur).sum();
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut not_done = None;
    for round in 0..rounds {
        // Rotate the order every round so that no strategy always runs first.
        for offset in 0..3 {
            let strategy = (round + offset) % 3;
            let images = batch.clone();
            let started = Instant::now();
            let checksum = match strategy {
                0 => threaded::<FifoQueues<Image>>(images, threads, seed, blur),
                1 => match unless_unfinished(|| {
                    threaded::<StealingDeques<Image>>(images, threads, seed, blur)
                }) {
                    Ok(checksum) => checksum,
                    Err(exercise) => {
                        not_done = Some(exercise);
                        expected
                    }
                },
                _ => pool.install(|| images.into_par_iter().map(blur).sum()),
            };
            times[strategy].push(started.elapsed());
            assert!(
                (checksum - expected).abs() <= expected.abs() * 1e-9,
                "every strategy must blur every image exactly once"
            );
        }
    }

    let [fifo, stealing, rayon] = times.map(median);
    let mut table = Table::new(["strategy", "median time", "megapixels/s", "vs rayon"]);
    let mut chart = BarChart::new("megapixels/s");
    let names = ["per-worker queues", "work stealing (2.3)", "rayon"];
    for (name, time) in names.into_iter().zip([fifo, stealing, rayon]) {
        if name.starts_with("work stealing") && not_done.is_some() {
            table.row([name, "-", "-", "-"]);
            chart.missing(name, "not done yet");
            continue;
        }
        chart.bar(name, (megapixels / time.as_secs_f64()).round());
        table.row([
            name.to_string(),
            format!("{:.1} ms", time.as_secs_f64() * 1e3),
            format!("{:.0}", megapixels / time.as_secs_f64()),
            format!("{:.2}", rayon.as_secs_f64() / time.as_secs_f64()),
        ]);
    }
    print!("{table}");
    if let Some(exercise) = not_done {
        println!("  work stealing: {exercise}");
    }
    println!(
        "\nvs rayon: throughput as a share of rayon's, measured side by side (1.00 = as fast)."
    );
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "bench_stealing: {images} images, {passes} blur passes, {threads} threads, median of \
             {rounds} rounds"
        ));
        picture.add("throughput (longer is faster)", chart);
        picture
    })?;
    Ok(())
}

/// Runs the batch on `threads` threads over queues of kind `Q`; returns the
/// sum of the blurred images' checksums.
fn threaded<Q: WorkerQueues<Image>>(
    images: Vec<Image>,
    threads: usize,
    seed: Seed,
    blur: impl Fn(Image) -> f64 + Sync,
) -> f64 {
    run_on_threads::<Image, f64, Q>(images, threads, seed, blur)
        .expect("at least one thread")
        .into_iter()
        .sum()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// `count` images with random pixels; sides from `size` to 4.5 × `size`,
/// drawn so that a few large images carry much of the work.
fn generate(count: usize, size: usize, seed: Seed) -> Vec<Image> {
    let mut rng: SimRng = seed.rng();
    (0..count)
        .map(|_| {
            // A bounded Pareto area (shape 1.5, up to 20 times the smallest),
            // as in the simulated heavy-tailed workload.
            let uniform: f64 = rng.random();
            let area = 1.0 / (1.0 - uniform * (1.0 - 20f64.powf(-1.5))).powf(1.0 / 1.5);
            let side = (size as f64 * area.sqrt()) as usize;
            let pixels = (0..side * side).map(|_| rng.random::<f32>()).collect();
            Image { side, pixels }
        })
        .collect()
}

/// A separable 5 × 5 box blur, `passes` times; returns a checksum.
fn blur(mut image: Image, passes: usize) -> f64 {
    let side = image.side;
    let mut scratch = vec![0.0_f32; image.pixels.len()];
    for _ in 0..passes {
        // Along the rows into the scratch buffer, then down the columns back.
        blur_lines(&image.pixels, &mut scratch, side, 1, side);
        blur_lines(&scratch, &mut image.pixels, side, side, 1);
    }
    image.pixels.iter().map(|&pixel| f64::from(pixel)).sum()
}

/// Averages each pixel with up to two neighbours on each side along one
/// direction: pixel `position` of line `line` is at
/// `line * stride + position * step`.
fn blur_lines(source: &[f32], target: &mut [f32], side: usize, step: usize, stride: usize) {
    for line in 0..side {
        for position in 0..side {
            let window = position.saturating_sub(2)..(position + 3).min(side);
            let count = window.len() as f32;
            let sum: f32 = window
                .map(|offset| source[line * stride + offset * step])
                .sum();
            target[line * stride + position * step] = sum / count;
        }
    }
}
