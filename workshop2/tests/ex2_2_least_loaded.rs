//! Exercise 2.2: least-loaded and the power of two choices. Edit
//! `workshop2/src/least_loaded.rs`.
//!
//! Read `workshop2/README.md`, "Implement", 2.2. Run just these tests with
//! `cargo test -p workshop2 --test workshop ex2_2_least_loaded`.

use coordination::{Seed, WorkItemId, WorkerId};
use workshop2::testing::{
    Scenario, assert_each_ran_once, assert_makespan_within, describe, for_each_seed,
};
use workshop2::{Candidate, LeastLoaded, Placement, PowerOfChoices};

const LESSON: &str = "exercise 2.2 (least-loaded and power of two choices)";

fn loads(outstanding: &[usize]) -> Vec<Candidate> {
    (1..)
        .zip(outstanding)
        .map(|(raw, &outstanding)| Candidate {
            worker: WorkerId::new(raw),
            outstanding,
        })
        .collect()
}

/// Least-loaded picks the candidate with the fewest items outstanding, and
/// the first of them on a tie.
#[test]
fn least_loaded_picks_the_fewest_outstanding_and_the_first_on_a_tie() {
    let mut rng = Seed::new(1).rng();
    let item = WorkItemId::new(1);
    for (outstanding, expected) in [
        (vec![3, 1, 2], 2),
        (vec![0, 5, 0], 1),
        (vec![4, 4, 4, 2], 4),
        (vec![7], 1),
    ] {
        let chosen = LeastLoaded.place(item, &loads(&outstanding), &mut rng);
        assert_eq!(
            chosen,
            WorkerId::new(expected),
            "{LESSON}: with outstanding {outstanding:?}, least-loaded picks worker-{expected}"
        );
    }
}

/// Two choices take the less loaded of two random samples: between an idle
/// and a busy worker, the idle one wins about three times in four (it loses
/// only when both samples hit the busy one). One choice is a coin toss.
#[test]
fn two_choices_prefer_the_less_loaded_of_their_samples() {
    let candidates = loads(&[9, 0]);
    let share_to_idle = |choices: usize| {
        let mut rng = Seed::new(5).rng();
        let mut placement = PowerOfChoices::new(choices).expect("at least one choice");
        let idle = (0..4_000)
            .filter(|&n| {
                placement.place(WorkItemId::new(n), &candidates, &mut rng) == WorkerId::new(2)
            })
            .count();
        idle as f64 / 4_000.0
    };
    let two = share_to_idle(2);
    assert!(
        (0.70..0.80).contains(&two),
        "{LESSON}: two choices sent {two:.2} of the items to the idle worker; expected about \
         0.75. Sample two candidates at random and keep the one with fewer outstanding."
    );
    let one = share_to_idle(1);
    assert!(
        (0.45..0.55).contains(&one),
        "{LESSON}: one choice sent {one:.2} to the idle worker; expected about 0.5. Sample \
         with `rng`, uniformly over the candidates."
    );
}

/// On heavy-tailed jobs with a quarter-speed machine, least-loaded comes
/// within 1.25x of the lower bound: the slow machine's queue stays long, so
/// it gets fewer jobs.
#[test]
fn least_loaded_is_within_1_25x_of_the_lower_bound_with_a_slow_machine() {
    for_each_seed(|seed| async move {
        let scenario = Scenario::bars(seed);
        let run = scenario.run(LeastLoaded).await;
        assert_each_ran_once(&run.report, LESSON);
        assert_makespan_within(&run, &scenario, 1.25, LESSON);
        let slow = run.placed[&WorkerId::new(1)];
        let fast = run.placed[&WorkerId::new(2)];
        assert!(
            slow * 2 < fast,
            "{LESSON}: the quarter-speed machine should get far fewer jobs\n{}",
            describe(&run, &scenario)
        );
    });
}

/// Two random choices come close to least-loaded at a fraction of the cost:
/// within 1.35x of the lower bound on the same scenario.
#[test]
fn two_choices_are_within_1_35x_of_the_lower_bound_with_a_slow_machine() {
    for_each_seed(|seed| async move {
        let scenario = Scenario::bars(seed);
        let run = scenario.run(PowerOfChoices::two()).await;
        assert_each_ran_once(&run.report, LESSON);
        assert_makespan_within(&run, &scenario, 1.35, LESSON);
    });
}

/// On a tie the candidate sampled first wins: with every load equal, d
/// choices pick exactly what one choice would have picked from the same
/// generator.
#[test]
fn on_a_tie_the_candidate_sampled_first_wins() {
    let equal = loads(&[3; 8]);
    for choices in [2, 3] {
        for seed in 1..=64 {
            let pick = |choices: usize| {
                PowerOfChoices::new(choices)
                    .expect("at least one choice")
                    .place(WorkItemId::new(1), &equal, &mut Seed::new(seed).rng())
            };
            let first_sample = pick(1);
            let chosen = pick(choices);
            assert_eq!(
                chosen, first_sample,
                "{LESSON}: all eight candidates have 3 outstanding and {choices} choices chose \
                 {chosen}, but the first sample was {first_sample} (seed {seed}). On a tie keep \
                 the sample drawn first: replace it only when a later one is strictly less \
                 loaded (`<`, not `<=`)."
            );
        }
    }
}
