//! Benchmark: what coordination costs per item.
//!
//! Workers that do no work at all expose the distributor's own cost: queue,
//! receipts, tracker, history. The same items go through the backoff
//! distributor of exercise 1.4 and through the smallest thing that could
//! possibly work, a bare tokio mpsc channel whose receiver the same number of
//! worker tasks share. A third run records the distributor's timeline while
//! it works, which is what recording costs. All run on real time, in one
//! process, alternating, and the table reports items per second and their
//! ratio. `--svg FILE` draws the table as a chart.
//!
//! Run it optimised, with the reference solutions or your own:
//!
//! ```text
//! cargo run --release -p workshop1 --features solution --example bench_overhead
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordination::demo::{self, Flag, Flags, SVG, Table, save_picture};
use coordination::picture::{BarChart, Picture};
use coordination::timeline::Recording;
use coordination::{
    MaxAttempts, Seed, WorkDistributor, WorkError, WorkItem, WorkItemId, Worker, WorkerId, Workers,
    async_trait,
};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use workshop1::{BackoffDistributor, BackoffPolicy, RetryPolicy};

const ABOUT: &str =
    "bench_overhead: items per second through the backoff distributor vs a bare mpsc channel";

const ITEMS: Flag = Flag::value("items", "200000", "items per measurement");
const WORKERS: Flag = Flag::value("workers", "4", "worker tasks");
const ROUNDS: Flag = Flag::value(
    "rounds",
    "5",
    "measurements of each; the median is reported",
);
const FLAGS: [Flag; 4] = [ITEMS, WORKERS, ROUNDS, SVG];

/// The smallest possible item: an id.
#[derive(Debug, Clone)]
struct Token(WorkItemId);

impl WorkItem for Token {
    fn id(&self) -> WorkItemId {
        self.0
    }
}

/// A worker that finishes every item at once.
struct Instantly(WorkerId);

#[async_trait]
impl Worker<Token> for Instantly {
    fn id(&self) -> WorkerId {
        self.0
    }

    async fn process(&self, _item: &Token) -> Result<(), WorkError> {
        Ok(())
    }
}

fn workers(count: u32) -> Vec<Arc<dyn Worker<Token>>> {
    (1..=count)
        .map(|id| Arc::new(Instantly(WorkerId::new(id))) as Arc<dyn Worker<Token>>)
        .collect()
}

fn tokens(count: u64) -> Vec<Token> {
    (1..=count).map(|id| Token(WorkItemId::new(id))).collect()
}

/// Items through the backoff distributor, timed.
async fn through_distributor(count: u64, pool: u32) -> Duration {
    let retry = RetryPolicy {
        max_attempts: MaxAttempts::new(3).expect("3 is not zero"),
        backoff: BackoffPolicy::new(Duration::from_millis(10), Duration::from_secs(1))
            .expect("base below cap"),
    };
    let pool = Workers::new(workers(pool)).expect("at least one worker, unique ids");
    let distributor = BackoffDistributor::new(pool, retry, Seed::new(1));
    let items = tokens(count);
    let started = Instant::now();
    let report = distributor
        .distribute(items)
        .await
        .expect("token ids are unique");
    let took = started.elapsed();
    assert_eq!(report.succeeded() as u64, count, "every token must succeed");
    took
}

/// Items through a bare channel whose receiver the workers share, timed.
async fn through_channel(count: u64, pool: u32) -> Duration {
    let items = tokens(count);
    let started = Instant::now();
    let (sender, receiver) = mpsc::unbounded_channel::<Token>();
    let receiver = Arc::new(Mutex::new(receiver));
    let mut tasks = JoinSet::new();
    for worker in workers(pool) {
        let receiver = Arc::clone(&receiver);
        tasks.spawn(async move {
            let mut done = 0_u64;
            loop {
                let next = receiver.lock().await.recv().await;
                let Some(item) = next else { break };
                if worker.process(&item).await.is_ok() {
                    done += 1;
                }
            }
            done
        });
    }
    for item in items {
        sender
            .send(item)
            .expect("the receiver lives until every item is sent");
    }
    drop(sender);
    let mut done = 0;
    while let Some(finished) = tasks.join_next().await {
        done += finished.expect("workers do not panic");
    }
    let took = started.elapsed();
    assert_eq!(done, count, "every token must be processed");
    took
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    demo::launch(ABOUT, &FLAGS, run);
}

fn run(flags: &Flags) -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = flags.count(ITEMS)?;
    let pool: u32 = flags.count(WORKERS)?;
    let rounds: usize = flags.count(ROUNDS)?;
    if count == 0 || pool == 0 || rounds == 0 {
        return Err("items, workers and rounds must all be at least 1".into());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime can be built");

    let mut distributor = Vec::new();
    let mut channel = Vec::new();
    let mut recorded = Vec::new();
    for _ in 0..rounds {
        distributor.push(runtime.block_on(through_distributor(count, pool)));
        channel.push(runtime.block_on(through_channel(count, pool)));
        // The runtime runs on this thread, so the recording sees every event.
        let recording = Recording::start();
        recorded.push(runtime.block_on(through_distributor(count, pool)));
        let timeline = recording.finish();
        assert_eq!(
            timeline.spans().len() as u64,
            count,
            "one attempt recorded per token"
        );
    }
    let distributor = median(distributor);
    let channel = median(channel);
    let recorded = median(recorded);
    let per_second = |took: Duration| count as f64 / took.as_secs_f64();
    let nanos_per_item = |took: Duration| took.as_nanos() as f64 / count as f64;

    let mut table = Table::new(["path", "items/s", "ns per item", "vs channel"]);
    let mut chart = BarChart::new("items/s");
    for (name, took) in [
        ("bare mpsc channel", channel),
        ("backoff distributor (1.4)", distributor),
        ("backoff distributor, timeline recorded", recorded),
    ] {
        table.row([
            name.to_string(),
            format!("{:.0}", per_second(took)),
            format!("{:.0}", nanos_per_item(took)),
            format!("{:.2}", per_second(took) / per_second(channel)),
        ]);
        chart.bar(name, per_second(took).round());
    }
    println!(
        "{count} items, {pool} workers, median of {rounds} rounds, {} build\n\n{table}",
        if cfg!(debug_assertions) {
            "debug (use --release for real numbers)"
        } else {
            "release"
        }
    );
    // The last row's ratio is the distributor's and the recording's cost
    // together; recording's own share is printed apart so that it is not
    // taken for the distributor's. A difference of medians: on a busy
    // machine it can come out negative.
    println!(
        "recording the timeline adds {:.0} ns per item to the distributor's {:.0}",
        nanos_per_item(recorded) - nanos_per_item(distributor),
        nanos_per_item(distributor),
    );
    save_picture(flags, || {
        let mut picture = Picture::new(format!(
            "bench_overhead: {count} items, {pool} workers, median of {rounds} rounds"
        ));
        picture.add("items per second (longer is faster)", chart);
        picture
    })?;
    Ok(())
}
