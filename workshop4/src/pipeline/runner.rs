//! Running images through the stages, with crashes and redeliveries.

use std::collections::BTreeMap;
use std::time::Duration;

use coordination::{Probability, Seed};
use rand::RngExt;

use super::{
    Artifact, Crashed, Delivery, Effects, Gallery, ImageId, Job, Stage, StageQueue, StageStore,
};

/// How long a received message stays hidden: long enough for any handler,
/// short enough that a crashed worker's image is not late for long. SQS's
/// default is 30 s.
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a deduplication id is remembered: SQS FIFO's window.
const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(5 * 60);

/// How much pipeline time one delivery takes to handle.
const HANDLING_TIME: Duration = Duration::from_millis(50);

/// Deliveries after which a run is declared stuck: far more than any run
/// needs, even at high crash rates.
const MAX_DELIVERIES: u64 = 100_000;

/// A stage handler: does one delivery's work through `effects`, and returns
/// normally if the runner may acknowledge the delivery.
pub type Handler = fn(&Delivery, &mut Effects<'_>) -> Result<(), Crashed>;

/// The faults of a run, as rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineFaults {
    /// Chance that a worker crashes right after any one effect.
    pub crash_after_effect: Probability,
    /// Chance that a worker crashes after its handler returned, before it
    /// acknowledged: the classic "processed but not acknowledged".
    pub crash_before_acknowledge: Probability,
    /// Chance that the queue hands out a message and leaves a copy visible.
    pub duplicate_delivery: Probability,
}

impl PipelineFaults {
    /// Nothing goes wrong.
    pub const NONE: PipelineFaults = PipelineFaults {
        crash_after_effect: Probability::NEVER,
        crash_before_acknowledge: Probability::NEVER,
        duplicate_delivery: Probability::NEVER,
    };

    /// A bad day: 10% of effects are followed by a crash, 20% of handled
    /// deliveries are never acknowledged, 10% are delivered twice.
    pub fn harsh() -> Self {
        Self {
            crash_after_effect: Probability::new(0.1).expect("0.1 is a probability"),
            crash_before_acknowledge: Probability::new(0.2).expect("0.2 is a probability"),
            duplicate_delivery: Probability::new(0.1).expect("0.1 is a probability"),
        }
    }
}

/// A run that could not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The run handed out more deliveries than any healthy run needs: a
    /// handler that never lets a delivery be acknowledged, or faults at rate 1.
    #[error(
        "still running after {deliveries} deliveries; does any delivery ever get acknowledged?"
    )]
    Stalled {
        /// How many deliveries were handed out.
        deliveries: u64,
    },
}

/// What a run did, and what users see.
#[derive(Debug, Clone)]
pub struct PipelineReport {
    /// The images uploaded.
    pub images: Vec<ImageId>,
    /// What was published.
    pub gallery: Gallery,
    /// Per stage, how many messages each image got into its queue.
    pub accepted: BTreeMap<Stage, BTreeMap<ImageId, u32>>,
    /// Per stage, how many times each image was handed to a handler.
    pub deliveries: BTreeMap<Stage, BTreeMap<ImageId, u32>>,
    /// Sends dropped as duplicates, over all queues.
    pub dropped_duplicates: u64,
    /// Worker crashes, during or after a handler.
    pub crashes: u64,
    /// Writes to the stage store, repeated ones included.
    pub store_writes: u64,
    /// Pipeline time when the last queue emptied.
    pub finished_at: Duration,
}

impl PipelineReport {
    /// How many posts each image has in the gallery; images never published
    /// are listed with 0.
    pub fn posts_per_image(&self) -> BTreeMap<ImageId, usize> {
        let mut counts: BTreeMap<ImageId, usize> =
            self.images.iter().map(|&image| (image, 0)).collect();
        for (image, posts) in self.gallery.posts_per_image() {
            counts.insert(image, posts);
        }
        counts
    }

    /// Images published more than once, with their post counts.
    pub fn published_twice(&self) -> Vec<(ImageId, usize)> {
        self.posts_per_image()
            .into_iter()
            .filter(|(_, posts)| *posts > 1)
            .collect()
    }

    /// Images never published.
    pub fn never_published(&self) -> Vec<ImageId> {
        self.posts_per_image()
            .into_iter()
            .filter(|(_, posts)| *posts == 0)
            .map(|(image, _)| image)
            .collect()
    }

    /// Total deliveries, over every stage.
    pub fn total_deliveries(&self) -> u64 {
        self.deliveries
            .values()
            .flat_map(|per_image| per_image.values())
            .map(|&count| u64::from(count))
            .sum()
    }
}

/// Uploads images 1..=`images` and runs them through the stages with
/// `handler`, under `faults` drawn from `seed`, until every queue is empty.
///
/// One delivery at a time: the runner picks a stage with a visible message
/// (at random, from the seed), hands its oldest message to `handler`, and
/// acknowledges it if the handler returned normally and the worker did not
/// crash before acknowledging. When nothing is visible, time jumps to the
/// next visibility timeout.
///
/// # Errors
/// [`PipelineError::Stalled`] after far more deliveries than a run needs.
pub fn run_pipeline(
    images: u64,
    faults: PipelineFaults,
    seed: Seed,
    handler: Handler,
) -> Result<PipelineReport, PipelineError> {
    let mut rng = seed.rng();
    let mut queues: BTreeMap<Stage, StageQueue> = Stage::ALL
        .iter()
        .map(|&stage| {
            let queue = StageQueue::new(stage, VISIBILITY_TIMEOUT, DEDUPLICATION_WINDOW);
            (stage, queue)
        })
        .collect();
    let uploads: Vec<ImageId> = (1..=images).map(ImageId::new).collect();
    for &image in &uploads {
        let job = Job {
            image,
            stage: Stage::Decode,
            input: Artifact::upload(image),
        };
        queues
            .get_mut(&Stage::Decode)
            .expect("every stage has a queue")
            .send(job);
    }
    let mut store = StageStore::default();
    let mut gallery = Gallery::new();
    let mut deliveries: BTreeMap<Stage, BTreeMap<ImageId, u32>> = BTreeMap::new();
    let mut crashes = 0;
    let mut delivered = 0;
    let mut now = Duration::ZERO;
    loop {
        for queue in queues.values_mut() {
            queue.release_expired(now);
        }
        let ready: Vec<Stage> = queues
            .iter()
            .filter(|(_, queue)| queue.has_visible())
            .map(|(&stage, _)| stage)
            .collect();
        if ready.is_empty() {
            match queues
                .values()
                .filter_map(StageQueue::next_visible_at)
                .min()
            {
                Some(next) => {
                    now = now.max(next);
                    continue;
                }
                None => break,
            }
        }
        delivered += 1;
        if delivered > MAX_DELIVERIES {
            return Err(PipelineError::Stalled {
                deliveries: delivered,
            });
        }
        let stage = ready[rng.random_range(0..ready.len())];
        let leave_a_copy = faults.duplicate_delivery.sample(&mut rng);
        let delivery = queues
            .get_mut(&stage)
            .and_then(|queue| queue.receive(now, leave_a_copy))
            .expect("the stage was picked for having a visible message");
        *deliveries
            .entry(stage)
            .or_default()
            .entry(delivery.job.image)
            .or_default() += 1;
        let mut effects = Effects {
            queues: &mut queues,
            store: &mut store,
            gallery: &mut gallery,
            now,
            crash_rate: faults.crash_after_effect,
            rng: &mut rng,
            crashed: false,
        };
        let handled = handler(&delivery, &mut effects);
        let acknowledged = handled.is_ok() && !faults.crash_before_acknowledge.sample(&mut rng);
        if acknowledged {
            queues
                .get_mut(&stage)
                .expect("every stage has a queue")
                .acknowledge(delivery.receipt);
        } else {
            crashes += 1;
        }
        now += HANDLING_TIME;
    }
    Ok(PipelineReport {
        images: uploads,
        gallery,
        accepted: queues
            .iter()
            .map(|(&stage, queue)| (stage, queue.accepted().clone()))
            .collect(),
        deliveries,
        dropped_duplicates: queues.values().map(StageQueue::dropped_duplicates).sum(),
        crashes,
        store_writes: store.writes(),
        finished_at: now,
    })
}

/// The handler that trusts the queue: process, store, forward or publish,
/// as if every message came exactly once.
///
/// # Errors
/// [`Crashed`] when the worker crashes after an effect.
pub fn naive_stage(delivery: &Delivery, effects: &mut Effects<'_>) -> Result<(), Crashed> {
    let job = delivery.job;
    let output = job.stage.process(job.input);
    match job.stage.next() {
        Some(next) => {
            effects.store(job.image, job.stage, output)?;
            effects.forward(Job {
                image: job.image,
                stage: next,
                input: output,
            })
        }
        None => effects.publish(job.image, output),
    }
}
