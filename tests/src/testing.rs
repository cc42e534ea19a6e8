//! Helpers for the capstone's tests: seeds, the exam's coaching, and the
//! assertions the tests share.
//!
//! The capstone runs on the learner's own workshop code, so on an
//! unfinished tree its tests stop at the first `todo!()` they reach. The
//! helpers here turn that panic into a message that names the exercise and
//! says what to do, instead of a backtrace into another crate.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};

use coordination::Seed;
use coordination::unfinished::UnfinishedExercise;

use crate::sim::{ScenarioReport, Violation};

/// How many seeds a scenario of ten thousand messages runs by default: each
/// takes one to three seconds of real time, and the whole capstone's test
/// run should stay within about fifteen. `DWC_SEEDS` asks for more.
pub const SCENARIO_SEEDS: usize = 2;

// This crate's `sweep()` and `for_each_seed()`, which name it in the
// commands that replay a failing seed.
coordination::seed_sweep!();

/// Runs a scenario test once per seed of a sweep sized for scenarios
/// ([`SCENARIO_SEEDS`] by default); on failure, prints the seed and the
/// command that replays it, and names an unfinished exercise if that is
/// what stopped it.
pub fn for_each_scenario_seed<F, Fut>(test: F)
where
    F: Fn(Seed) -> Fut,
    Fut: Future<Output = ()>,
{
    exam(|| sweep().by_default(SCENARIO_SEEDS).run(test));
}

/// Runs `test`; if it stops at an exercise that is not done (a `todo!()`
/// panic, here or in a node process's log), fails with a message that names
/// the exercise and says what to do. Any other panic goes on as it was.
///
/// # Panics
/// When `test` panics.
pub fn exam<T>(test: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(test)) {
        Ok(value) => value,
        Err(payload) => match UnfinishedExercise::from_panic(payload.as_ref()) {
            Some(exercise) => panic!("{}", coaching(&exercise)),
            None => panic::resume_unwind(payload),
        },
    }
}

/// What to tell a learner whose tree stops at `exercise`.
fn coaching(exercise: &UnfinishedExercise) -> String {
    let id = &exercise.id;
    format!(
        "the capstone runs on your own workshop code, and {exercise} is not done yet.\n\
         Finish it first (`cargo workshop check {id}`); `cargo test -p capstone --test \
         exercises` lists every exercise the capstone needs. To see the capstone run on the \
         reference solutions instead: cargo test -p capstone --features solution"
    )
}

/// Fails with every broken rule of `report`, each naming its message, and
/// the run's summary.
///
/// # Panics
/// When the run broke a rule.
#[track_caller]
pub fn assert_every_rule_held(report: &ScenarioReport) {
    let broken = report.violations();
    if broken.is_empty() {
        return;
    }
    let shown: Vec<&Violation> = broken.iter().take(12).collect();
    let more = broken.len().saturating_sub(shown.len());
    let mut message = format!("{} rule(s) broken in {}:\n", broken.len(), report.name);
    for line in shown {
        message.push_str(&format!("  - {line}\n"));
    }
    if more > 0 {
        message.push_str(&format!("  ... and {more} more\n"));
    }
    message.push_str(&format!("{report}"));
    panic!("{message}");
}
