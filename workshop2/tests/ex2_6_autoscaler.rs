//! Exercise 2.6: auto-scaling on queue depth. Edit
//! `workshop2/src/autoscaler.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.6. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_6_autoscaler`.

use std::time::Duration;

use coordination::sim::simulate;
use rand::RngExt;
use workshop2::testing::{ScalingRun, drive_autoscaler, for_each_seed};
use workshop2::{Autoscaler, Observation, ScalingSettings};

const LESSON: &str = "exercise 2.6 (auto-scaling)";

/// 2 to 10 workers, 5 queued jobs per worker (five seconds of work each), a
/// 5-minute cooldown.
const SETTINGS: ScalingSettings = ScalingSettings {
    min_workers: 2,
    max_workers: 10,
    target_depth_per_worker: 5,
    cooldown: Duration::from_secs(300),
};

/// One job per second per worker.
const PER_WORKER_PER_SECOND: f64 = 1.0;
/// A decision every 5 s (the Kubernetes HPA looks every 15 s by default).
const TICK: Duration = Duration::from_secs(5);

fn minutes(value: u64) -> Duration {
    Duration::from_secs(60 * value)
}

fn autoscaler() -> Autoscaler {
    Autoscaler::new(SETTINGS).expect("the test settings are valid")
}

async fn drive(
    autoscaler: &mut Autoscaler,
    load: impl Fn(Duration) -> f64,
    duration: Duration,
) -> ScalingRun {
    drive_autoscaler(autoscaler, load, PER_WORKER_PER_SECOND, 2, TICK, duration).await
}

/// `desired` is the Kubernetes HPA formula on queue depth, kept within
/// `[min, max]`.
#[test]
fn desired_is_the_queue_depth_over_the_target_within_min_and_max() {
    let autoscaler = autoscaler();
    for (depth, expected) in [(0, 2), (10, 2), (11, 3), (23, 5), (50, 10), (5_000, 10)] {
        assert_eq!(
            autoscaler.desired(depth),
            expected,
            "{LESSON}: ceil({depth} / 5) within [2, 10] is {expected}"
        );
    }
}

/// Under a steady 8 jobs a second, the pool grows at once to carry the load
/// and stays within the maximum.
#[test]
fn it_scales_up_at_once_under_load() {
    simulate(async {
        let mut autoscaler = autoscaler();
        let run = drive(&mut autoscaler, |_| 8.0, minutes(10)).await;
        let first_up = run.events.first().copied();
        let Some(first_up) = first_up else {
            panic!("{LESSON}: 8 jobs a second on 2 workers and the pool never grew");
        };
        assert!(
            first_up.at <= Duration::from_secs(30) && first_up.to > first_up.from,
            "{LESSON}: the queue grew from the first tick; scale up at once, not after a \
             cooldown (first event {first_up:?})"
        );
        let last = run.workers.last().map(|&(_, workers)| workers).unwrap_or(0);
        assert!(
            (8..=10).contains(&last),
            "{LESSON}: 8 jobs a second need 8 workers at one a second each; ended with {last}"
        );
    });
}

/// The pool never leaves `[min, max]`, however heavy or light the load.
#[test]
fn it_never_leaves_min_and_max() {
    for_each_seed(|seed| async move {
        let mut rng = seed.rng();
        let rates: Vec<f64> = (0..60).map(|_| rng.random_range(0.0..40.0)).collect();
        let mut autoscaler = autoscaler();
        let run = drive(
            &mut autoscaler,
            move |at| rates[(at.as_secs() / 60) as usize % 60],
            minutes(60),
        )
        .await;
        for &(at, workers) in &run.workers {
            assert!(
                (2..=10).contains(&workers),
                "{LESSON}: {workers} workers at {at:?}; keep within [2, 10] (seed {seed})"
            );
        }
    });
}

/// When the load stops, the pool shrinks back to the minimum, but not before
/// a full cooldown has passed since the queue emptied.
#[test]
fn it_scales_down_to_min_when_idle_after_the_cooldown() {
    simulate(async {
        let mut autoscaler = autoscaler();
        let busy_until = minutes(10);
        let run = drive(
            &mut autoscaler,
            move |at| if at < busy_until { 8.0 } else { 0.0 },
            minutes(30),
        )
        .await;
        let last = run.workers.last().map(|&(_, workers)| workers);
        assert_eq!(
            last,
            Some(2),
            "{LESSON}: idle for 20 minutes, back to the minimum"
        );
        let first_down = run
            .events
            .iter()
            .find(|event| event.to < event.from)
            .copied()
            .expect("it scaled down");
        assert!(
            first_down.at >= busy_until + Duration::from_secs(300) - TICK,
            "{LESSON}: scaled down at {:?}, less than the 5-minute cooldown after the load \
             stopped at 10 min. Scale down only to the highest count desired during the last \
             cooldown.",
            first_down.at
        );
    });
}

/// Load that swings every minute, faster than the 5-minute cooldown, does not
/// make the pool flap: at most 3 scale events in an hour (about 60 without
/// the cooldown).
#[test]
fn oscillating_load_does_not_make_it_flap() {
    simulate(async {
        let mut autoscaler = autoscaler();
        let run = drive(
            &mut autoscaler,
            |at| {
                if (at.as_secs() / 60) % 2 == 0 {
                    8.0
                } else {
                    0.0
                }
            },
            minutes(60),
        )
        .await;
        assert!(
            run.events.len() <= 3,
            "{LESSON}: {} scale events in an hour of load swinging every minute; the pool \
             flaps. Events: {:?}",
            run.events.len(),
            run.events
        );
        assert!(
            run.workers.iter().any(|&(_, workers)| workers >= 4),
            "{LESSON}: the peaks still need more than the minimum"
        );
    });
}

/// On a slow ramp down the pool shrinks in steps at least one cooldown
/// apart: each scale-down waits a full cooldown after the last change, so a
/// dip is not mistaken for the end of the load.
#[test]
fn it_scales_down_at_most_once_per_cooldown() {
    simulate(async {
        let mut autoscaler = autoscaler();
        // 10 jobs a second, falling steadily to nothing over 40 minutes.
        let ramp = |at: Duration| (10.0 * (1.0 - at.as_secs_f64() / 2_400.0)).max(0.0);
        let run = drive(&mut autoscaler, ramp, minutes(60)).await;
        let downs = run
            .events
            .iter()
            .filter(|event| event.to < event.from)
            .count();
        assert!(
            downs >= 2,
            "{LESSON}: the load fell from 10 jobs a second to none, yet the pool shrank {downs} \
             time(s). Events: {:?}",
            run.events
        );
        for pair in run.events.windows(2) {
            let (before, down) = (pair[0], pair[1]);
            if down.to < down.from {
                assert!(
                    down.at - before.at >= SETTINGS.cooldown,
                    "{LESSON}: scaled down at {:?}, only {:?} after the change before it at \
                     {:?}; the cooldown is {:?}. Scale down only once a full cooldown has \
                     passed since the last change (`last_scaled`). Events: {:?}",
                    down.at,
                    down.at - before.at,
                    before.at,
                    SETTINGS.cooldown,
                    run.events
                );
            }
        }
    });
}

/// A pool above the maximum (resized by hand, or the maximum lowered) comes
/// down to it at the next decision, cooldown or not; a pool at the maximum
/// under a deep queue has nothing to change, so nothing is recorded.
#[test]
fn a_pool_above_the_maximum_comes_down_to_it_at_once() {
    let mut autoscaler = autoscaler();
    let deep = |workers| Observation {
        workers,
        queue_depth: 500,
    };
    assert_eq!(
        autoscaler.decide(Duration::ZERO, deep(2)),
        10,
        "{LESSON}: 500 queued jobs on 2 workers: up to the maximum of 10 at once"
    );
    assert_eq!(
        autoscaler.decide(Duration::from_secs(10), deep(10)),
        10,
        "{LESSON}: 10 workers at the maximum of 10 stay 10"
    );
    assert_eq!(
        autoscaler.events().len(),
        1,
        "{LESSON}: at the maximum nothing changes, so nothing is recorded; events {:?}. \
         Only a pool strictly above the maximum is brought down to it.",
        autoscaler.events()
    );
    assert_eq!(
        autoscaler.decide(Duration::from_secs(20), deep(14)),
        10,
        "{LESSON}: 14 workers is above the maximum of 10, 20 s after the last change: come \
         down to the maximum at once; the cooldown only slows scaling down to what the queue \
         asks for"
    );
}

/// The demand remembered is that of the last cooldown only: once a peak is
/// more than a cooldown old it no longer holds the pool up, whenever the
/// decisions happen to fall.
#[test]
fn a_peak_older_than_the_cooldown_no_longer_holds_the_pool_up() {
    let mut autoscaler = autoscaler();
    let observed = |queue_depth| Observation {
        workers: 10,
        queue_depth,
    };
    assert_eq!(
        autoscaler.decide(Duration::ZERO, observed(50)),
        10,
        "{LESSON}: 50 queued jobs at 5 a worker keep all 10 workers"
    );
    let later = SETTINGS.cooldown + Duration::from_millis(1_500);
    assert_eq!(
        autoscaler.decide(later, observed(0)),
        2,
        "{LESSON}: the peak of 10 was desired {later:?} ago, more than the {:?} cooldown, and \
         nothing has changed since: with an empty queue, down to the minimum of 2. Forget \
         every remembered count older than the cooldown, not only one exactly that old.",
        SETTINGS.cooldown
    );
}
