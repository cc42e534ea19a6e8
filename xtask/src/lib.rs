//! # xtask: the maintainers' tools and `cargo workshop`
//!
//! `cargo xtask verify` is the integrity check that CI runs and that the
//! top-level README promises: formatting, lints in both modes, every test in
//! solution mode, the progressive check that proves each exercise's tests fail
//! on its stub and pass on its solution in order, a seed sweep, the demos, and
//! a build of the generated solutions branch. `cargo xtask solutions-branch`
//! writes that branch, and `cargo xtask bench-loop` ([`bench_loop`])
//! measures what a learner waits for.
//!
//! `cargo workshop` ([`learner`]) is the learners' and instructors' tool:
//! status derived from the code and its tests ([`progress`], with
//! [`stubs`] and [`verdicts`] sparing builds that cannot change the
//! answer), checks that coach
//! ([`coaching`]), hints one level at a time ([`hints`]), a watch mode with a
//! time limit ([`watch`]), reset and checkpoint ([`exercise_files`]), and a
//! readiness check ([`doctor`]). Both tools share the catalogue, cargo and
//! libtest parsing, git, the solutions branch and the terminal style.
//!
//! Written in Rust rather than shell so it runs the same on every machine that
//! can build the workshops, and so its parsing is tested like everything else.

pub mod assertions;
pub mod bench_loop;
pub mod cargo;
pub mod catalogue;
pub mod coaching;
pub mod doctor;
pub mod error;
pub mod exercise_files;
pub mod exercise_id;
pub mod figures;
pub mod git;
pub mod given_code;
pub mod hint_code;
pub mod hints;
pub mod instructor;
pub mod learner;
pub mod mutants;
pub mod nats_server;
pub mod progress;
pub mod progressive;
pub mod rust_tokens;
pub mod solutions;
pub mod stubs;
pub mod test_counts;
pub mod ui;
// The one reader of an unfinished exercise's `todo!()` message, compiled in
// from the core crate by path: depending on `coordination` would make a
// learner's first `cargo workshop` build tokio before it shows anything.
#[path = "../../core/src/unfinished.rs"]
pub mod unfinished;
pub mod verdicts;
pub mod verify;
pub mod watch;
pub mod workspace;

pub use error::{Error, Result};
