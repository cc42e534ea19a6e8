//! The message of an exercise that is not done yet.
//!
//! Every stub stops at `todo!("exercise 4.1: count votes (...)")`, so a run
//! that reaches it panics with `not yet implemented: exercise 4.1: count
//! votes (...)`. Demos turn that panic into a row that says which exercise
//! unlocks it, the capstone's tests into coaching, its process harness into
//! a node's reason for stopping, and `cargo workshop` into "not started".
//! They all read the message here, so its format has one definition.
//!
//! The file stands alone, with nothing from the rest of this crate and no
//! dependency: `xtask` compiles it in by path, so the learner's tool reads
//! the same format without building the simulation's dependencies first.

use std::any::Any;
use std::fmt;

/// What the standard `todo!()` puts before its message.
const TODO_PREFIX: &str = "not yet implemented: ";

/// What every stub's message starts with, before the exercise's id.
const EXERCISE_PREFIX: &str = "exercise ";

/// An exercise a run stopped at: its id and what its stub says is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedExercise {
    /// The exercise's id, such as `4.1`.
    pub id: String,
    /// The stub's whole message, `exercise 4.1: count votes (...)`, as the
    /// learner should see it.
    pub message: String,
}

impl UnfinishedExercise {
    /// The exercise a stub's own message names (`exercise 4.1: ...`, the
    /// text given to `todo!`), if it names one.
    #[must_use]
    pub fn from_stub_message(message: &str) -> Option<Self> {
        let message = message.lines().next().unwrap_or(message).trim();
        let rest = message.strip_prefix(EXERCISE_PREFIX)?;
        let id = rest.split(':').next().unwrap_or(rest).trim();
        let is_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_digit() || c == '.');
        is_id.then(|| Self {
            id: id.to_string(),
            message: message.to_string(),
        })
    }

    /// The first unfinished exercise `text` reports: a panic message, a
    /// process's log or a test's output, where `todo!()` wrote `not yet
    /// implemented: exercise ...` on a line of its own or after a prefix.
    #[must_use]
    pub fn find_in(text: &str) -> Option<Self> {
        text.lines().find_map(|line| {
            let (_, message) = line.split_once(TODO_PREFIX)?;
            Self::from_stub_message(message)
        })
    }

    /// The unfinished exercise a caught panic names, if it is one.
    #[must_use]
    pub fn from_panic(payload: &(dyn Any + Send)) -> Option<Self> {
        Self::find_in(panic_message(payload)?)
    }
}

impl fmt::Display for UnfinishedExercise {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

/// The text of a caught panic: `panic!` and `todo!` with arguments carry a
/// `String`, a literal message a `&'static str`.
#[must_use]
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stub's panic names its exercise, with the message kept whole.
    #[test]
    fn a_stub_panic_names_its_exercise() {
        let payload =
            std::panic::catch_unwind(|| -> u32 { todo!("exercise 4.1: count votes (see 4.1)") })
                .expect_err("todo! panics");
        let exercise = UnfinishedExercise::from_panic(payload.as_ref()).expect("a stub's panic");
        assert_eq!(exercise.id, "4.1", "{exercise:?}");
        assert_eq!(exercise.to_string(), "exercise 4.1: count votes (see 4.1)");
    }

    /// A log or test output is searched line by line, after any prefix.
    #[test]
    fn an_exercise_is_found_inside_other_text() {
        let log = "starting node 2\nthread 'main' panicked at src/raft.rs:9:5:\n\
                   not yet implemented: exercise 4.2: check and append\nnote: ...";
        let exercise = UnfinishedExercise::find_in(log).expect("the log names 4.2");
        assert_eq!(exercise.id, "4.2", "{exercise:?}");
        assert_eq!(exercise.message, "exercise 4.2: check and append");
    }

    /// Other panics, and `todo!()`s that name no exercise, are not stubs.
    #[test]
    fn other_panics_name_no_exercise() {
        for text in [
            "index out of bounds",
            "not yet implemented",
            "not yet implemented: later",
            "not yet implemented: exercise soon",
        ] {
            assert_eq!(UnfinishedExercise::find_in(text), None, "{text:?}");
        }
    }
}
