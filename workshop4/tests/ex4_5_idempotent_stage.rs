//! Exercise 4.5: an idempotent pipeline stage. Edit
//! `workshop4/src/idempotent_stage.rs`.
//!
//! Read `workshop4/README.md`, "Implement", 4.5. Run just these tests with
//! `cargo test -p workshop4 --test workshop ex4_5_idempotent_stage`.

use coordination::Probability;
use workshop4::idempotent_stage::{deduplication_id, idempotent_stage, publication_key};
use workshop4::pipeline::{ImageId, PipelineFaults, PipelineReport, Stage, run_pipeline};
use workshop4::testing::for_each_seed;

const LESSON: &str = "exercise 4.5 (idempotent stages)";

fn run(faults: PipelineFaults, seed: coordination::Seed) -> PipelineReport {
    run_pipeline(30, faults, seed, idempotent_stage)
        .unwrap_or_else(|error| panic!("{LESSON}: {error}"))
}

/// Without faults every image goes through every stage once and is
/// published once.
#[test]
fn without_faults_every_image_is_published_once() {
    let report = run(PipelineFaults::NONE, coordination::Seed::new(1));
    assert_eq!(
        report.published_twice(),
        [],
        "{LESSON}: duplicates without any fault"
    );
    assert_eq!(report.never_published(), [], "{LESSON}: images were lost");
}

/// Through crashes between processing and acknowledging, crashes after any
/// effect and duplicate deliveries, every image is published exactly once.
#[test]
fn through_crashes_and_redeliveries_every_image_is_published_exactly_once() {
    for_each_seed(|seed| async move {
        let report = run(PipelineFaults::harsh(), seed);
        assert!(
            report.crashes > 0 && report.total_deliveries() > 30 * 4,
            "set-up: the run should have crashed and redelivered"
        );
        assert_eq!(
            report.never_published(),
            [],
            "{LESSON}: these images never reached the gallery; return `Ok` only when the \
             effects are done, and propagate `Crashed` with `?`"
        );
        assert_eq!(
            report.published_twice(),
            [],
            "{LESSON}: these images (and their post counts) appear more than once in the \
             gallery; publish with `publish_once` under a key that is the same on every retry"
        );
    });
}

/// Every stage's queue accepts each image once: a redelivered message is
/// forwarded again, and the next queue drops the copy.
#[test]
fn each_stage_queue_accepts_each_image_once() {
    for_each_seed(|seed| async move {
        let report = run(PipelineFaults::harsh(), seed);
        for (stage, accepted) in &report.accepted {
            let twice: Vec<(ImageId, u32)> = accepted
                .iter()
                .filter(|(_, count)| **count > 1)
                .map(|(image, count)| (*image, *count))
                .collect();
            assert_eq!(
                twice,
                [],
                "{LESSON}: the {stage} queue took these images more than once; forward with \
                 `forward_once` and an id made of the image and the stage it goes to"
            );
        }
        assert!(
            report.dropped_duplicates > 0,
            "set-up: some sends should have been duplicates"
        );
    });
}

/// Keys name the message, not the delivery: the same for the same image
/// and stage, different otherwise.
#[test]
fn keys_are_the_same_for_the_same_work_and_differ_otherwise() {
    let image = ImageId::new(7);
    assert_eq!(
        deduplication_id(image, Stage::Resize),
        deduplication_id(image, Stage::Resize),
        "{LESSON}: the id must be the same every time the same message is sent"
    );
    assert_ne!(
        deduplication_id(image, Stage::Resize),
        deduplication_id(image, Stage::Thumbnail),
        "{LESSON}: image-7's resize and thumbnail messages are different messages"
    );
    assert_ne!(
        deduplication_id(image, Stage::Resize),
        deduplication_id(ImageId::new(8), Stage::Resize),
        "{LESSON}: image-7's and image-8's messages are different messages"
    );
    assert_eq!(
        publication_key(image),
        publication_key(image),
        "{LESSON}: every delivery of image-7's last message must publish under one key"
    );
    assert_ne!(
        publication_key(image),
        publication_key(ImageId::new(8)),
        "{LESSON}: image-7 and image-8 are two publications"
    );
}

/// A stage that crashed after storing its output does not process the
/// image again when the message comes back: it reuses what it stored.
#[test]
fn a_redelivered_image_reuses_the_stored_output() {
    for_each_seed(|seed| async move {
        let faults = PipelineFaults {
            crash_before_acknowledge: Probability::new(0.5).expect("a probability"),
            ..PipelineFaults::NONE
        };
        let report = run(faults, seed);
        let redelivered: u64 = report
            .deliveries
            .iter()
            .filter(|(stage, _)| **stage != Stage::Publish)
            .flat_map(|(_, per_image)| per_image.values())
            .map(|&count| u64::from(count) - 1)
            .sum();
        assert!(
            redelivered > 0,
            "set-up: some deliveries should have come back"
        );
        assert_eq!(
            report.store_writes,
            30 * 3,
            "{LESSON}: 30 images through 3 processing stages need 90 writes; {} were made \
             although {redelivered} deliveries were repeats. Look in `effects.stored` first",
            report.store_writes
        );
    });
}
