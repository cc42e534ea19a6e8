//! What a failing test says to the learner, read from its output.
//!
//! A workshop's tests coach in their assertion messages ("exercise 1.5
//! (dead letters): item-7 was lost …") and, when a seed sweep fails, print
//! the seed and the command that replays it. libtest buries both in a
//! section per failed test; this module digs out the first failure's message
//! and replay command, so `cargo workshop check` can show three lines
//! instead of a screenful.

use serde::{Deserialize, Serialize};

use crate::cargo::{Outcome, TestRun};
use crate::unfinished::UnfinishedExercise;

/// The first failure of a test run, as a learner needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The failing test's name.
    pub test: String,
    /// What it said: the panic or assertion message, a few lines at most.
    pub message: String,
    /// The seed that failed and the command that replays it, when the test
    /// swept seeds.
    pub replay: Option<Replay>,
}

/// A failed seed and how to run it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// The seed.
    pub seed: u64,
    /// The command that runs only this test with only this seed.
    pub command: String,
}

/// How many lines of a message are shown; the full output is one
/// `cargo test` away.
const MESSAGE_LINES: usize = 12;

impl Failure {
    /// Whether the failure is an exercise's `todo!()`: the learner has not
    /// started it.
    pub fn is_unstarted_stub(&self) -> bool {
        UnfinishedExercise::find_in(&self.message).is_some()
    }
}

/// The first failed test of `run` (in name order) and what it said.
pub fn first_failure(run: &TestRun) -> Option<Failure> {
    first_failure_in_order(run, "", &[])
}

/// The first failed test of `run` in `order` (names after `prefix`, the
/// module path), then in name order, and what it said. An exercise lists
/// its simplest rule first, so the learner sees the cause before its
/// consequences.
pub fn first_failure_in_order(run: &TestRun, prefix: &str, order: &[String]) -> Option<Failure> {
    let failed = |name: &str| run.outcomes.get(name) == Some(&Outcome::Failed);
    let test = order
        .iter()
        .map(|name| format!("{prefix}{name}"))
        .find(|name| failed(name))
        .or_else(|| {
            run.outcomes
                .iter()
                .find(|(_, outcome)| **outcome == Outcome::Failed)
                .map(|(name, _)| name.clone())
        })?;
    let section = section_of(&run.output, &test).unwrap_or_default();
    Some(Failure {
        message: panic_message(section),
        replay: replay_in(section),
        test,
    })
}

/// The captured output of test `name`: libtest prints it under
/// `---- NAME stdout ----` after all tests ran.
fn section_of<'a>(output: &'a str, name: &str) -> Option<&'a str> {
    let header = format!("---- {name} stdout ----");
    let (_, rest) = output.split_once(&header)?;
    let end = ["\n---- ", "\nfailures:\n"]
        .iter()
        .filter_map(|marker| rest.find(marker))
        .min()
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The panic message: the lines after `thread '…' panicked at FILE:LINE:COL:`
/// up to libtest's notes.
fn panic_message(section: &str) -> String {
    let mut lines = section.lines();
    let found = lines.any(|line| line.starts_with("thread '") && line.contains("panicked at"));
    let message: Vec<&str> = if found {
        lines
            .take_while(|line| !line.starts_with("note: ") && !line.starts_with("stack backtrace"))
            .collect()
    } else {
        section.lines().collect()
    };
    let mut message: Vec<&str> = message
        .into_iter()
        .skip_while(|line| line.trim().is_empty())
        .collect();
    while message.last().is_some_and(|line| line.trim().is_empty()) {
        message.pop();
    }
    if message.len() > MESSAGE_LINES {
        message.truncate(MESSAGE_LINES);
        message.push("…");
    }
    message.join("\n")
}

/// The `seed N failed. Replay just this seed with:` line and the command
/// under it, as `coordination::sim::Sweep` prints them.
fn replay_in(section: &str) -> Option<Replay> {
    let mut lines = section.lines();
    let seed = lines.find_map(|line| {
        let rest = line.trim().strip_prefix("seed ")?;
        let (number, tail) = rest.split_once(' ')?;
        tail.starts_with("failed").then(|| number.parse().ok())?
    })?;
    let command = lines
        .find(|line| !line.trim().is_empty())?
        .trim()
        .to_string();
    Some(Replay { seed, command })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run(output: &str, failed: &[&str]) -> TestRun {
        TestRun {
            outcomes: failed
                .iter()
                .map(|name| (name.to_string(), Outcome::Failed))
                .collect::<BTreeMap<_, _>>(),
            output: output.to_string(),
            stopped_after: None,
        }
    }

    const SWEPT: &str = "\
running 2 tests
test b ... FAILED
test a ... FAILED

failures:

---- a stdout ----

seed 4 failed. Replay just this seed with:
    DWC_SEED=4 cargo test -p workshop1 --test ex1_5 -- a --exact


thread 'a' (123) panicked at workshop1/tests/ex1_5.rs:10:5:
exercise 1.5 (dead letters): item-7 was lost
accounting: submitted 20
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- b stdout ----

thread 'b' (124) panicked at workshop1/src/dead_letter_queue.rs:40:5:
not yet implemented: exercise 1.5: set aside what will not succeed

failures:
    a
    b
";

    #[test]
    fn the_first_failure_brings_its_message_and_replay_command() {
        let failure = first_failure(&run(SWEPT, &["a", "b"])).expect("a failed");
        assert_eq!(failure.test, "a");
        assert_eq!(
            failure.message,
            "exercise 1.5 (dead letters): item-7 was lost\naccounting: submitted 20"
        );
        assert_eq!(
            failure.replay,
            Some(Replay {
                seed: 4,
                command: "DWC_SEED=4 cargo test -p workshop1 --test ex1_5 -- a --exact".into()
            })
        );
        assert!(!failure.is_unstarted_stub());
    }

    #[test]
    fn the_declared_order_picks_the_simplest_failing_rule() {
        let failure =
            first_failure_in_order(&run(SWEPT, &["a", "b"]), "", &["b".into()]).expect("b failed");
        assert_eq!(failure.test, "b");
        let unlisted =
            first_failure_in_order(&run(SWEPT, &["a", "b"]), "", &["c".into()]).expect("a failed");
        assert_eq!(
            unlisted.test, "a",
            "tests not listed come after, in name order"
        );
    }

    #[test]
    fn a_todo_is_recognised_as_a_stub_not_started() {
        let failure = first_failure(&run(SWEPT, &["b"])).expect("b failed");
        assert!(failure.is_unstarted_stub(), "{failure:?}");
        assert_eq!(failure.replay, None);
    }
}
