//! `cargo xtask`: the maintainers' check and the solutions-branch generator.
//!
//! ```text
//! cargo xtask verify [--skip STEP]... [--seeds N] [--capstone-seeds N]
//! cargo xtask solutions-branch [--from REV]
//! ```

use std::process::ExitCode;

use xtask::error::{Error, Result};
use xtask::ui::Style;
use xtask::verify::{self, Options};
use xtask::workspace::Workspace;

const USAGE: &str = "\
cargo xtask: the maintainers' tools

USAGE:
    cargo xtask verify [--skip STEP]... [--seeds N] [--capstone-seeds N]
        The integrity check that CI runs: formatting, lints in both modes, all
        tests in solution mode, the progressive check, a seed sweep (N seeds,
        default 200), the capstone's scenarios (N seeds each, default 20),
        the capstone on a JetStream cluster (installing nats-server under
        target/ when it is missing), the demos, and the generated solutions
        branch.
        Steps: catalogues, format, lints, lints-solution, docs, tests,
        progressive, sweep, capstone, jetstream, demos, solutions-branch.

    cargo xtask solutions-branch [--from REV]
        Creates or updates the local `solutions` branch from REV (default
        HEAD): every exercise file replaced by its reference solution.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nerror: {error}");
            if matches!(error, Error::Usage(_)) {
                eprintln!("\n{USAGE}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let style = Style::detect();
    let workspace = Workspace::locate()?;
    match args.first().map(String::as_str) {
        Some("verify") => verify::run(&workspace, &verify_options(&args[1..])?, style),
        Some("solutions-branch") => {
            let from = match &args[1..] {
                [] => "HEAD".to_string(),
                [flag, rev] if flag == "--from" => rev.clone(),
                _ => {
                    return Err(Error::Usage(
                        "solutions-branch takes only --from REV".into(),
                    ));
                }
            };
            println!("{}", xtask::solutions::create_or_update(&workspace, &from)?);
            Ok(())
        }
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Error::Usage(format!("unknown command {other:?}"))),
    }
}

fn verify_options(args: &[String]) -> Result<Options> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--skip" => options.skip.push(value.clone()),
            "--seeds" => {
                options.sweep_seeds = value
                    .parse()
                    .map_err(|_| Error::Usage(format!("--seeds takes a number, got {value:?}")))?;
            }
            "--capstone-seeds" => {
                options.capstone_seeds = value.parse().map_err(|_| {
                    Error::Usage(format!("--capstone-seeds takes a number, got {value:?}"))
                })?;
            }
            _ => return Err(Error::Usage(format!("unknown option {flag:?}"))),
        }
    }
    Ok(options)
}
