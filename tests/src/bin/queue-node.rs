//! One node of the replicated queue, as a process.
//!
//! ```text
//! queue-node --id 1 --listen 127.0.0.1:7001 --peers 2=127.0.0.1:7002,3=127.0.0.1:7003
//! ```
//!
//! `--help` lists the flags; `capstone::net::process` explains them.

use std::process::ExitCode;

use coordination::demo::{FlagError, usage};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match capstone::net::process::node_main(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if matches!(
                error.downcast_ref::<capstone::net::process::CommandLineError>(),
                Some(capstone::net::process::CommandLineError::Flag(
                    FlagError::Help
                ))
            ) {
                println!(
                    "{}",
                    usage(
                        "queue-node: one node of the replicated queue",
                        &capstone::net::process::NODE_FLAGS
                    )
                );
                return ExitCode::SUCCESS;
            }
            eprintln!("queue-node: {error}");
            ExitCode::from(2)
        }
    }
}
