//! Exercise 1.3: the backoff policy. Edit `workshop1/src/backoff.rs`.
//!
//! Read `workshop1/README.md`, "Implement", 1.3. Run just these tests with
//! `cargo test -p workshop1 --test workshop ex1_3_backoff`.

use std::time::Duration;

use coordination::{Attempt, ConfigError, Seed};
use workshop1::BackoffPolicy;
use workshop1::testing::for_each_seed;

const LESSON: &str = "exercise 1.3 (backoff policy)";

fn millis(value: u64) -> Duration {
    Duration::from_millis(value)
}

fn attempt(number: u32) -> Attempt {
    Attempt::new(number).expect("tests number attempts from 1")
}

fn policy(base: Duration, cap: Duration) -> BackoffPolicy {
    BackoffPolicy::new(base, cap).expect("the test policy is valid")
}

/// A base above the cap, or a zero base, is refused with a typed error.
#[test]
fn a_base_above_the_cap_or_a_zero_base_is_refused() {
    assert_eq!(
        BackoffPolicy::new(millis(500), millis(100)),
        Err(ConfigError::BaseAboveCap {
            base: millis(500),
            cap: millis(100)
        }),
        "{LESSON}: a first delay above the cap can never be honoured"
    );
    assert!(
        matches!(
            BackoffPolicy::new(Duration::ZERO, millis(100)),
            Err(ConfigError::ZeroDuration { .. })
        ),
        "{LESSON}: a zero base never grows: 0 × 2 is still 0"
    );
    assert!(
        BackoffPolicy::new(millis(100), millis(100)).is_ok(),
        "{LESSON}: base = cap is fine"
    );
}

/// The ceiling starts at the base and doubles after each attempt, until the cap.
#[test]
fn the_ceiling_doubles_from_the_base_until_the_cap() {
    let backoff = policy(millis(100), millis(10_000));
    let expected = [100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000];
    for (number, want) in (1..).zip(expected) {
        assert_eq!(
            backoff.ceiling(attempt(number)),
            millis(want),
            "{LESSON}: after attempt {number} the ceiling is base × 2^{} = {want} ms, capped at \
             10 s",
            number - 1
        );
    }
}

/// Huge attempt numbers give the cap, without overflow or panic.
#[test]
fn huge_attempt_numbers_give_the_cap_without_overflow() {
    let backoff = policy(millis(100), Duration::from_secs(30));
    for number in [31, 32, 33, 64, 65, 1_000, u32::MAX] {
        assert_eq!(
            backoff.ceiling(attempt(number)),
            Duration::from_secs(30),
            "{LESSON}: 2^{} overflows every integer type; once the doubling passes the cap, \
             the answer is the cap",
            number - 1
        );
    }
    let tiny = policy(Duration::from_nanos(1), Duration::MAX);
    assert_eq!(
        tiny.ceiling(attempt(40)),
        Duration::from_nanos(1 << 39),
        "{LESSON}: 1 ns doubled 39 times is 2^39 ns; a 32-bit factor would overflow here \
         although the cap is far away"
    );
    assert_eq!(
        tiny.ceiling(attempt(u32::MAX)),
        Duration::MAX,
        "{LESSON}: an effectively uncapped policy must saturate, not overflow"
    );
}

/// Every delay lies between zero and its ceiling.
#[test]
fn every_delay_lies_between_zero_and_its_ceiling() {
    for_each_seed(|seed| async move {
        let backoff = policy(millis(50), Duration::from_secs(20));
        let mut rng = seed.rng();
        for number in (1..=70).chain([1_000, u32::MAX]) {
            let ceiling = backoff.ceiling(attempt(number));
            let delay = backoff.delay(attempt(number), &mut rng);
            assert!(
                delay <= ceiling,
                "{LESSON}: attempt {number} drew {delay:?}, above its ceiling {ceiling:?}"
            );
        }
    });
}

/// Full jitter uses the whole range: about half the ceiling on average, with
/// draws near zero and near the ceiling.
#[test]
fn full_jitter_spreads_delays_over_the_whole_range() {
    for_each_seed(|seed| async move {
        let backoff = policy(millis(100), Duration::from_secs(60));
        let ceiling = backoff.ceiling(attempt(5)).as_secs_f64();
        let mut rng = seed.rng();
        let draws: Vec<f64> = (0..2_000)
            .map(|_| backoff.delay(attempt(5), &mut rng).as_secs_f64() / ceiling)
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!(
            (0.45..0.55).contains(&mean),
            "{LESSON}: full jitter draws uniformly from zero to the ceiling, so the mean is \
             about half the ceiling; got {mean:.2} of it"
        );
        assert!(
            draws.iter().any(|&share| share < 0.05),
            "{LESSON}: no draw came near zero"
        );
        assert!(
            draws.iter().any(|&share| share > 0.95),
            "{LESSON}: no draw came near the ceiling"
        );
    });
}

/// The policy is a pure function of its inputs: the same seed, the same delays.
#[test]
fn the_same_seed_gives_the_same_delays() {
    let backoff = policy(millis(10), Duration::from_secs(5));
    let draw = |seed: u64| -> Vec<Duration> {
        let mut rng = Seed::new(seed).rng();
        (1..=20)
            .map(|number| backoff.delay(attempt(number), &mut rng))
            .collect()
    };
    assert_eq!(
        draw(3),
        draw(3),
        "{LESSON}: delays must come from the given generator only"
    );
    assert_ne!(
        draw(3),
        draw(4),
        "{LESSON}: a different seed should give different delays"
    );
}

/// Full jitter includes both ends: zero and the ceiling itself can be drawn.
/// With a ceiling of 2 ns there are only three delays, and each comes up.
#[test]
fn the_ceiling_itself_can_be_drawn() {
    for_each_seed(|seed| async move {
        let backoff = policy(Duration::from_nanos(1), Duration::from_nanos(2));
        let mut rng = seed.rng();
        let mut drawn = [0_u32; 3];
        for _ in 0..300 {
            let delay = backoff.delay(attempt(2), &mut rng);
            let nanos = usize::try_from(delay.as_nanos()).unwrap_or(usize::MAX);
            assert!(
                nanos <= 2,
                "{LESSON}: the ceiling is 2 ns and {delay:?} was drawn"
            );
            drawn[nanos] += 1;
        }
        assert!(
            drawn.iter().all(|&count| count > 0),
            "{LESSON}: with a ceiling of 2 ns, 300 draws gave 0, 1 and 2 ns {drawn:?} times. \
             Full jitter draws from zero to the ceiling inclusive (`0..=ceiling`); an \
             exclusive range never waits the full ceiling."
        );
    });
}
