//! # xtask: the maintainers' tools
//!
//! `cargo xtask verify` is the integrity check that CI runs and that the
//! top-level README promises: formatting, lints in both modes, every test in
//! solution mode, the progressive check that proves each exercise's tests fail
//! on its stub and pass on its solution in order, a seed sweep, the demos, and
//! a build of the generated solutions branch. `cargo xtask solutions-branch`
//! writes that branch.
//!
//! Written in Rust rather than shell so it runs the same on every machine that
//! can build the workshops, and so its parsing is tested like everything else.

pub mod cargo;
pub mod catalogue;
pub mod error;
pub mod progressive;
pub mod solutions;
pub mod ui;
pub mod verify;
pub mod workspace;

pub use error::{Error, Result};
