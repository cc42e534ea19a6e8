//! `cargo workshop`: status, checks, hints, watch, demos, reset, checkpoint
//! and doctor, for learners and instructors. See [`xtask::learner`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    xtask::learner::main(&args)
}
