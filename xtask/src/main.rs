//! `cargo xtask`: the maintainers' check and the solutions-branch generator.
//!
//! ```text
//! cargo xtask verify [--skip STEP]... [--seeds N] [--capstone-seeds N]
//! cargo xtask solutions-branch [--from REV]
//! cargo xtask mutants [--survivors] [WORKSHOP]...
//! ```

use std::process::ExitCode;

use xtask::error::{Error, Result};
use xtask::ui::Style;
use xtask::verify::{self, Options, Step};
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
        Steps: catalogues, assertions, minutes, format, lints, lints-solution,
        hint-code, docs, tests, progressive, sweep, capstone, jetstream, demos,
        solutions-branch.

    cargo xtask solutions-branch [--from REV]
        Creates or updates the local `solutions` branch from REV (default
        HEAD): every exercise file replaced by its reference solution.

    cargo xtask figures
        Reruns the commands behind the figures the READMEs quote
        (xtask/figures.toml) and lists every figure that drifted by more
        than 20%. Minutes long; run it on idle cores. Not part of verify.
    cargo xtask bench-loop [--runs N] [--fresh]
        Measures what a learner waits for, on a scratch copy: the first
        screen of a fresh clone, a warm `cargo workshop`, and the time
        from a one-line edit to `cargo workshop check`'s verdict, with its
        breakdown (median of N runs, default 5; --fresh: from an empty
        target folder).

    cargo xtask mutants [--survivors] [WORKSHOP]...
        Runs cargo-mutants over the reference solutions of the workshops named
        by number (default: all), on the solutions branch of HEAD; writes
        workshopN/mutants.toml and fails while a survivor has no reason. Slow:
        tens of minutes per workshop. Needs `cargo install cargo-mutants --locked`.
        --survivors: only the survivors in mutants.toml, keeping the counts of
        the mutants that run caught.
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
        Some("figures") => {
            if args.len() > 1 {
                return Err(Error::Usage("figures takes no options".into()));
            }
            let figures = xtask::figures::load(&workspace)?;
            let comparisons = xtask::figures::measure(&workspace, &figures)?;
            println!("\n{}", xtask::figures::report(&comparisons));
            if comparisons.iter().any(xtask::figures::Comparison::drifted) {
                return Err(Error::Check(
                    "figures drifted: rerun on idle cores, then mend the code or the quote".into(),
                ));
            }
            Ok(())
        }
        Some("bench-loop") => {
            let mut options = xtask::bench_loop::Options::default();
            let mut args = args[1..].iter();
            while let Some(flag) = args.next() {
                match flag.as_str() {
                    "--fresh" => options.fresh = true,
                    "--runs" => {
                        options.runs = args
                            .next()
                            .and_then(|value| value.parse().ok())
                            .filter(|runs| *runs > 0)
                            .ok_or_else(|| {
                                Error::Usage("--runs takes a number above 0, such as 5".into())
                            })?;
                    }
                    _ => return Err(Error::Usage(format!("unknown option {flag:?}"))),
                }
            }
            xtask::bench_loop::run(&workspace, &options, style)
        }
        Some("mutants") => {
            let survivors = args[1..].iter().any(|arg| arg == "--survivors");
            let workshops = args[1..]
                .iter()
                .filter(|arg| *arg != "--survivors")
                .map(|number| {
                    number.parse().map_err(|_| {
                        Error::Usage(format!("mutants takes workshop numbers, got {number:?}"))
                    })
                })
                .collect::<Result<Vec<u32>>>()?;
            let scope = if survivors {
                xtask::mutants::Scope::Survivors
            } else {
                xtask::mutants::Scope::Every
            };
            xtask::mutants::run(&workspace, &workshops, scope, style)
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
            "--skip" => options.skip.push(Step::named(value)?),
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
