//! Observe: at-least-once delivery makes duplicates, and duplicates cost
//! money.
//!
//! These tests describe the starting point, not an exercise: they pass
//! before you change anything and keep passing after. Read them with
//! `workshop4/README.md`, section "Observe".

use coordination::Seed;
use coordination::sim::{NetworkConditions, simulate};
use workshop4::pipeline::{PipelineFaults, naive_stage, run_pipeline};
use workshop4::testing::for_each_seed;
use workshop4::{Deduplication, run_account_service};

/// Clients that retry after a lost reply deposit some of their money twice
/// when the server applies every request it receives.
#[test]
fn retries_after_lost_replies_credit_deposits_twice() {
    for_each_seed(|seed| async move {
        let run = run_account_service(
            seed,
            NetworkConditions::unreliable(),
            4,
            25,
            Deduplication::None,
        )
        .await
        .expect("the service sets up");
        assert!(
            run.replies_lost > 0,
            "the unreliable network loses replies: {run:?}"
        );
        assert!(
            run.balance > run.intended,
            "lost replies were retried, so some deposits should count twice: {run:?}"
        );
        assert!(
            run.operations_applied > run.deposits,
            "retries over an unreliable network should apply some deposits twice: {run:?}"
        );
    });
}

/// On a reliable network nothing is lost, nothing is retried, and the naive
/// server is right: duplicates come from failures, not from the code.
#[test]
fn on_a_reliable_network_every_deposit_counts_once() {
    simulate(async {
        let run = run_account_service(
            Seed::new(1),
            NetworkConditions::reliable(),
            4,
            25,
            Deduplication::None,
        )
        .await
        .expect("the service sets up");
        assert_eq!(
            run.retries, 0,
            "nothing is lost on a reliable network, so no client should retry"
        );
        assert_eq!(
            run.balance, run.intended,
            "without retries every deposit is applied once, even by the naive server"
        );
    });
}

/// A pipeline whose stages trust their queues publishes some images twice
/// when workers crash before acknowledging and queues redeliver.
#[test]
fn a_naive_pipeline_publishes_some_images_twice() {
    for_each_seed(|seed| async move {
        let report =
            run_pipeline(30, PipelineFaults::harsh(), seed, naive_stage).expect("it finishes");
        assert_eq!(report.never_published(), [], "at-least-once loses nothing");
        assert!(
            !report.published_twice().is_empty(),
            "with crashes before acknowledging, some image should be published twice"
        );
    });
}
