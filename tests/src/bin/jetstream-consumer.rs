//! One consumer of the photo queue on JetStream, as a process the exam can
//! pause with SIGSTOP or kill with SIGKILL.
//!
//! ```text
//! jetstream-consumer --servers nats://127.0.0.1:4222,nats://127.0.0.1:4223 --ack-wait-ms 2000
//! ```
//!
//! `capstone::jetstream::consumer_process` explains what it says and hears.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match capstone::jetstream::consumer_main(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("jetstream-consumer: {error}");
            ExitCode::from(2)
        }
    }
}
