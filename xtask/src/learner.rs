//! `cargo workshop`: the learners' and instructors' tool.
//!
//! A learner types `cargo workshop` and sees where they are and what to
//! type next; `check` judges the current exercise in three lines; `hint`
//! nudges; `watch` checks on every save. An instructor recovers a room with
//! `reset` and `checkpoint`, prepares it with `doctor`, and projects with
//! `demo`. Every command works from any folder of the repository (cargo
//! finds the workspace, and this tool finds its root from there), and every
//! error says what to do next.
//!
//! The binary (`src/bin/workshop.rs`) only calls [`main`]; each command is a
//! function here, built on the modules the maintainers' check also uses.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::cargo::Cargo;
use crate::catalogue::{Catalogue, Exercise};
use crate::doctor::{self, Verdict};
use crate::error::{Error, Result};
use crate::exercise_files::{self, Confirm};
use crate::hints::Hints;
use crate::progress::{DEFAULT_TIME_LIMIT, ExerciseProgress, Progress, Scope, State};
use crate::solutions;
use crate::ui::Style;
use crate::watch::{self, POLL_INTERVAL, Trigger};
use crate::workspace::Workspace;

/// The help text.
pub const USAGE: &str = "\
cargo workshop: where you are, what to do next, and help on the way

USAGE:
    cargo workshop                      welcome, and the status of every exercise
    cargo workshop check [EXERCISE]     run one exercise's tests (default: the current one)
    cargo workshop hint [EXERCISE]      the next hint, gentle to explicit
    cargo workshop watch [--manual]     check the current exercise again on every save
                                        (--manual: when Enter is pressed)
    cargo workshop demo N [NAME] [-- FLAGS]
                                        list workshop N's demos, or run one
                                        (N = capstone: the capstone's demos)
    cargo workshop reset EXERCISE [--yes]
                                        put the exercise's stub back (asks first)
    cargo workshop checkpoint EXERCISE [--yes]
                                        put the solutions of the exercises before it in place
    cargo workshop doctor               is this machine ready (toolchain, offline crates, terminal)?
    cargo workshop solutions-branch     create or update the local `solutions` branch

OPTIONS:
    --timeout SECONDS    how long an exercise's tests may run before they count as hung
                         (check, watch and the status; default 10)

EXERCISE is an id such as 1.3. Output has colour on a terminal unless NO_COLOR
is set, and ASCII marks when DWC_ASCII is set.";

/// Runs `cargo workshop` with `args` and returns the exit code.
pub fn main(args: &[String]) -> ExitCode {
    let style = Style::detect();
    match run(args, style) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("\n{} {error}", style.red("error:"));
            if matches!(error, Error::Usage(_)) {
                eprintln!("\nSee `cargo workshop help` for every command.");
            }
            ExitCode::FAILURE
        }
    }
}

/// The parsed command line.
struct Options {
    /// Words that are not options: the command and its arguments.
    words: Vec<String>,
    /// `--yes`.
    yes: bool,
    /// `--manual`.
    manual: bool,
    /// `--timeout SECONDS`.
    time_limit: Duration,
    /// Everything after `--`, for demos.
    passed_on: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        words: Vec::new(),
        yes: false,
        manual: false,
        time_limit: DEFAULT_TIME_LIMIT,
        passed_on: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => {
                options.passed_on = args.cloned().collect();
                break;
            }
            "--yes" | "-y" => options.yes = true,
            "--manual" => options.manual = true,
            "--timeout" => {
                let value = args.next().ok_or_else(|| {
                    Error::Usage("--timeout needs a number of seconds, such as --timeout 20".into())
                })?;
                let seconds: u64 = value
                    .parse()
                    .ok()
                    .filter(|seconds| *seconds > 0)
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "--timeout takes a whole number of seconds above 0, such as 20; got \
                             {value:?}"
                        ))
                    })?;
                options.time_limit = Duration::from_secs(seconds);
            }
            "--help" | "-h" => options.words.insert(0, "help".into()),
            flag if flag.starts_with('-') => {
                return Err(Error::Usage(format!("unknown option {flag:?}")));
            }
            word => options.words.push(word.to_string()),
        }
    }
    Ok(options)
}

fn run(args: &[String], style: Style) -> Result<bool> {
    let options = parse(args)?;
    let workspace = Workspace::locate()?;
    let words: Vec<&str> = options.words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["status"] => status(&workspace, &options, style),
        ["check"] => check(&workspace, None, &options, style),
        ["check", id] => check(&workspace, Some(id), &options, style),
        ["hint"] => hint(&workspace, None, &options, style),
        ["hint", id] => hint(&workspace, Some(id), &options, style),
        ["watch"] => {
            let trigger = if options.manual {
                Trigger::Manual
            } else {
                Trigger::Poll(POLL_INTERVAL)
            };
            let catalogues = workspace.catalogues()?;
            watch::watch(&workspace, &catalogues, trigger, || {
                println!("\n{}", style.dim(&"-".repeat(60)));
                check(&workspace, None, &options, style).map(|_| ())
            })?;
            Ok(true)
        }
        ["demo", number, rest @ ..] => demo(&workspace, number, rest.first().copied(), &options),
        ["reset", id] => reset(&workspace, id, &options, style),
        ["checkpoint", id] => checkpoint(&workspace, id, &options, style),
        ["doctor"] => Ok(doctor(&workspace, style)),
        ["solutions-branch"] => {
            println!("{}", solutions::create_or_update(&workspace, "HEAD")?);
            Ok(true)
        }
        ["help"] => {
            println!("{USAGE}");
            Ok(true)
        }
        ["demo"] => Err(Error::Usage(
            "demo needs a workshop number: `cargo workshop demo 1` lists Workshop 1's demos".into(),
        )),
        [command @ ("reset" | "checkpoint")] => Err(Error::Usage(format!(
            "{command} needs an exercise, such as `cargo workshop {command} 1.3`"
        ))),
        [command, ..] => Err(Error::Usage(format!(
            "there is no command {command:?} (or it was given too many words)"
        ))),
    }
}

/// The welcome, when it is wanted, and every exercise's state.
fn status(workspace: &Workspace, options: &Options, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let progress = Progress::measure(workspace, &catalogues, Scope::All, options.time_limit)?;
    let marker = workspace.target_dir().join("workshop").join("welcomed");
    let nothing_done = progress.exercises().all(|exercise| !exercise.is_done());
    println!(
        "\n{}\nBuild what runs behind SQS, Kubernetes leases and etcd, one exercise at a time.",
        style.bold("Distributed Workload Coordination")
    );
    if nothing_done || !marker.exists() {
        welcome(&progress);
        if let Some(parent) = marker.parent() {
            let _ = std::fs::create_dir_all(parent);
            let _ = std::fs::write(&marker, "the welcome was shown\n");
        }
    }
    let current = progress
        .current()
        .map(|exercise| exercise.exercise.id.clone());
    for workshop in &progress.workshops {
        println!(
            "\n{}  {}",
            style.bold(&format!(
                "Workshop {}: {}",
                workshop.catalogue.workshop, workshop.catalogue.title
            )),
            style.dim(&format!(
                "{} of {} done",
                workshop.done(),
                workshop.exercises.len()
            ))
        );
        let width = workshop
            .exercises
            .iter()
            .map(|exercise| exercise.exercise.title.chars().count())
            .max()
            .unwrap_or(0);
        for exercise in &workshop.exercises {
            let is_current = current.as_deref() == Some(exercise.exercise.id.as_str());
            let mark = if exercise.is_done() {
                style.pass()
            } else if is_current {
                style.current()
            } else {
                style.pending()
            };
            let stretch = if exercise.exercise.stretch {
                " (stretch)"
            } else {
                ""
            };
            let title = format!("{}{stretch}", exercise.exercise.title);
            let width = width
                + 10 * usize::from(
                    workshop
                        .exercises
                        .iter()
                        .any(|exercise| exercise.exercise.stretch),
                );
            let mut line = format!(
                "  {mark} {:<4} {title:<width$}  {}",
                exercise.exercise.id,
                state_text(exercise, workshop.compiled),
            );
            if is_current {
                line.push_str(&format!("  {}", slash(&exercise.file)));
            }
            println!("{}", line.trim_end());
        }
        if !workshop.compiled {
            println!(
                "  {} {} does not compile: the compiler's messages are above. Fix the first \
                 error, then run `cargo workshop` again.",
                style.fail(),
                workshop.catalogue.package()
            );
        }
    }
    match progress.current() {
        Some(exercise) => {
            println!(
                "\n{} open {} and write exercise {}\nwhere its TODO({}) comments say, then run:\n    \
                 cargo workshop check\nStuck? `cargo workshop hint {}`. Checking on every save: \
                 `cargo workshop watch`.",
                style.yellow("Next:"),
                slash(&exercise.file),
                exercise.exercise.id,
                exercise.exercise.id,
                exercise.exercise.id
            );
        }
        None => println!(
            "\n{} Every exercise is done. Compare your code with the reference: \
             `git diff solutions -- workshop1/src` after `cargo workshop solutions-branch`.\n\
             The final exam: `cargo test -p capstone` runs a replicated queue built from all \
             four workshops on your code (tests/README.md).",
            style.green("All done!")
        ),
    }
    Ok(true)
}

/// The welcome for a newcomer: why everything is red, and how it goes.
fn welcome(progress: &Progress) {
    let exercises = progress.exercises().count();
    let tests: usize = progress.exercises().map(|exercise| exercise.tests).sum();
    let workshops = match progress.workshops.len() {
        1 => "the workshop".to_string(),
        count => format!("{count} workshops"),
    };
    println!(
        "\nWelcome! Each workshop is a crate with exercises to write, in order.\n\
         Red is expected: every exercise starts as a stub (a todo!() in its file), so its tests\n\
         fail until you write it. {tests} tests in the {exercises} exercises of {workshops} are \
         yours to turn\ngreen; the other tests (given code, observations) pass already.\n\
         The loop: open the current exercise's file, read its comments, write the code, then run\n\
         `cargo workshop check`. Each workshop's README.md tells the story."
    );
}

fn state_text(exercise: &ExerciseProgress, compiled: bool) -> String {
    match &exercise.state {
        State::Done => "done".into(),
        State::NotStarted => "not started".into(),
        State::Failing { passed, total, .. } => format!("{passed} of {total} tests pass"),
        State::Hung { .. } => "hangs: stopped at the time limit".into(),
        State::NotBuilt if compiled => String::new(),
        State::NotBuilt => "not built".into(),
    }
}

/// Runs one exercise's tests and prints a short verdict.
fn check(workspace: &Workspace, id: Option<&str>, options: &Options, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let scope = match id {
        Some(id) => {
            find(&catalogues, id)?;
            Scope::Only(id)
        }
        None => Scope::All,
    };
    let progress = Progress::measure(workspace, &catalogues, scope, options.time_limit)?;
    let exercise = match id {
        Some(id) => progress.exercise(id),
        None => progress.current(),
    };
    let Some(exercise) = exercise else {
        println!(
            "{} Every exercise is done. `cargo workshop` shows the whole list.",
            style.pass()
        );
        return Ok(true);
    };
    let id = &exercise.exercise.id;
    let title = &exercise.exercise.title;
    let file = slash(&exercise.file);
    let package = format!("workshop{}", exercise.workshop);
    let test = &exercise.exercise.test;
    match &exercise.state {
        State::Done => {
            println!(
                "{} {id} {title}: {} of {} tests pass.\n  Compare with the reference \
                 solution, {}.",
                style.pass(),
                exercise.tests,
                exercise.tests,
                slash(&exercise.solution)
            );
            match progress.exercises().find(|next| {
                !next.is_done() && next.workshop == exercise.workshop && next.exercise.id != *id
            }) {
                Some(next) if matches!(scope, Scope::All) => println!(
                    "  Next: {} {} in {}; `cargo workshop check` checks it.",
                    next.exercise.id,
                    next.exercise.title,
                    slash(&next.file)
                ),
                _ => println!("  `cargo workshop` shows what is next."),
            }
            Ok(true)
        }
        State::NotStarted => {
            println!(
                "{} {id} {title} is not started: {file} still has its todo!().\n  Open it, read \
                 the TODO({id}) comments, write the code, then `cargo workshop check` again.\n  \
                 A first hint: `cargo workshop hint {id}`.",
                style.current()
            );
            Ok(false)
        }
        State::Failing {
            passed,
            total,
            first,
        } => {
            println!(
                "{} {id} {title}: {passed} of {total} tests pass ({file}).",
                style.fail()
            );
            if let Some(first) = first {
                println!("  First failure: {}", style.bold(&first.test));
                for line in first.message.lines() {
                    println!("    {line}");
                }
                if let Some(replay) = &first.replay {
                    println!(
                        "  It failed for seed {}. Replay just that run:\n    {}",
                        replay.seed, replay.command
                    );
                }
            }
            println!(
                "  All of its output: cargo test -p {package} --test {test}\n  Stuck? `cargo \
                 workshop hint {id}`."
            );
            Ok(false)
        }
        State::Hung { after, running } => {
            println!(
                "{} {id} {title}: the tests were still running after {} s and were stopped.",
                style.fail(),
                after.as_secs()
            );
            for test in running {
                println!("    still running: {test}");
            }
            println!(
                "  Probable infinite loop or hang in {file}: look for a loop that never ends, or \
                 never reaches an .await (then simulated time cannot move).\n  Run one test \
                 alone: cargo test -p {package} --test {test} -- NAME --exact"
            );
            Ok(false)
        }
        State::NotBuilt => {
            println!(
                "{} {package} does not compile: the compiler's messages are above. Fix the \
                 first error in {file} (or the file it names), then check again.",
                style.fail()
            );
            Ok(false)
        }
    }
}

/// Shows the next hint of an exercise (default: the current one).
fn hint(workspace: &Workspace, id: Option<&str>, options: &Options, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let (catalogue, exercise) = match id {
        Some(id) => find(&catalogues, id)?,
        None => {
            let progress =
                Progress::measure(workspace, &catalogues, Scope::All, options.time_limit)?;
            let Some(current) = progress.current() else {
                println!("Every exercise is done: no hints needed.");
                return Ok(true);
            };
            find(&catalogues, &current.exercise.id)?
        }
    };
    let hint = Hints::new(workspace).next(exercise)?;
    println!(
        "{} {} {}, hint {} of {}:\n\n  {}\n",
        style.yellow("Hint"),
        exercise.id,
        exercise.title,
        hint.level,
        hint.levels,
        hint.text
    );
    if hint.level < hint.levels {
        println!(
            "Ask again for a more explicit one: `cargo workshop hint {}`.",
            exercise.id
        );
    } else {
        println!(
            "That is the last hint{}. The reference solution is {}; to go on without it,\n\
             `cargo workshop checkpoint {}` puts the solutions of the exercises before the next \
             one in place.",
            if hint.repeated { " (shown again)" } else { "" },
            slash(&catalogue.solution_path(exercise)),
            next_id(catalogue, exercise)
        );
    }
    Ok(true)
}

/// The id after `exercise` in its workshop, or its own when it is the last.
fn next_id(catalogue: &Catalogue, exercise: &Exercise) -> String {
    let position = catalogue
        .exercises
        .iter()
        .position(|candidate| candidate.id == exercise.id)
        .unwrap_or(0);
    catalogue
        .exercises
        .get(position + 1)
        .unwrap_or(exercise)
        .id
        .clone()
}

/// Lists a workshop's demos (or the capstone's), or runs one in exercise
/// mode.
fn demo(workspace: &Workspace, which: &str, name: Option<&str>, options: &Options) -> Result<bool> {
    let (title, package, demos) = if which == "capstone" {
        let capstone = workspace
            .capstone()?
            .ok_or_else(|| Error::Usage("this repository has no capstone".into()))?;
        ("The capstone".to_string(), capstone.package, capstone.demos)
    } else {
        let number: u32 = which.parse().map_err(|_| {
            Error::Usage(format!(
                "demo takes a workshop number such as 1, or `capstone`; got {which:?}"
            ))
        })?;
        let catalogue = workspace.catalogue(number)?;
        (
            format!("Workshop {number}"),
            catalogue.package(),
            catalogue.demos,
        )
    };
    let Some(name) = name else {
        println!("{title}'s demos:\n");
        for demo in &demos {
            println!("  {:<16} {}", demo.name, demo.about);
        }
        println!(
            "\nRun one with `cargo workshop demo {which} NAME`, and pass it flags after --, such \
             as\n    cargo workshop demo {which} {} -- --help",
            demos.first().map_or("NAME", |demo| demo.name.as_str())
        );
        return Ok(true);
    };
    if !demos.iter().any(|demo| demo.name == name) {
        let names: Vec<&str> = demos.iter().map(|demo| demo.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "{title} has no demo {name:?}; its demos are {}",
            names.join(", ")
        )));
    }
    let mut args = vec!["run", "--quiet", "-p", &package, "--example", name, "--"];
    args.extend(options.passed_on.iter().map(String::as_str));
    Cargo::new(&workspace.root).run(&args)?;
    Ok(true)
}

fn reset(workspace: &Workspace, id: &str, options: &Options, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let (catalogue, exercise) = find(&catalogues, id)?;
    let confirm = if options.yes {
        Confirm::Yes
    } else {
        Confirm::Ask
    };
    match exercise_files::reset(workspace, catalogue, exercise, confirm)? {
        None => println!(
            "{} {} is its stub already; nothing to do.",
            style.pass(),
            slash(&catalogue.exercise_path(exercise))
        ),
        Some((replaced, revision)) => {
            println!(
                "{} {id} is a stub again: {} (from {revision}).",
                style.pass(),
                slash(&replaced.file)
            );
            if let Some(backup) = replaced.backup {
                println!(
                    "  Your version is saved in {}.",
                    relative(workspace, &backup)
                );
            }
            Hints::new(workspace).forget(exercise);
        }
    }
    Ok(true)
}

fn checkpoint(workspace: &Workspace, id: &str, options: &Options, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let (catalogue, exercise) = find(&catalogues, id)?;
    let confirm = if options.yes {
        Confirm::Yes
    } else {
        Confirm::Ask
    };
    let replaced = exercise_files::checkpoint(workspace, catalogue, exercise, confirm)?;
    if replaced.is_empty() {
        println!(
            "{} Every exercise before {id} already holds its solution; nothing to do.",
            style.pass()
        );
    } else {
        for file in &replaced {
            let saved = file
                .backup
                .as_ref()
                .map(|backup| format!(" (yours is saved in {})", relative(workspace, backup)))
                .unwrap_or_default();
            println!(
                "  {} {}: reference solution in {}{saved}",
                style.pass(),
                file.id,
                slash(&file.file)
            );
        }
    }
    println!(
        "Exercise {id} is next: {}. Run `cargo workshop check {id}`.",
        slash(&catalogue.exercise_path(exercise))
    );
    Ok(true)
}

fn doctor(workspace: &Workspace, style: Style) -> bool {
    println!(
        "{}\n",
        style.bold("Is this machine ready for the workshop?")
    );
    let findings = doctor::examine(workspace);
    for finding in &findings {
        let mark = match finding.verdict {
            Verdict::Ready => style.pass(),
            Verdict::Note => style.yellow("!"),
            Verdict::Broken => style.fail(),
        };
        println!("  {mark} {}: {}", finding.check, finding.detail);
    }
    let ready = findings
        .iter()
        .all(|finding| finding.verdict != Verdict::Broken);
    if ready {
        println!("\n{}", style.green("Ready. `cargo workshop` starts."));
    } else {
        println!(
            "\n{}",
            style.red(
                "Not ready: fix what is marked above, then run `cargo workshop doctor` again."
            )
        );
    }
    ready
}

/// The catalogue and exercise with id `id`, or an error listing the ids.
fn find<'a>(catalogues: &'a [Catalogue], id: &str) -> Result<(&'a Catalogue, &'a Exercise)> {
    catalogues
        .iter()
        .find_map(|catalogue| Some((catalogue, catalogue.exercise(id)?)))
        .ok_or_else(|| {
            let ids: Vec<&str> = catalogues
                .iter()
                .flat_map(|catalogue| catalogue.exercises.iter())
                .map(|exercise| exercise.id.as_str())
                .collect();
            Error::Usage(format!(
                "there is no exercise {id:?}; the exercises are {} (`cargo workshop` lists them)",
                ids.join(", ")
            ))
        })
}

/// A path in the repository, with forward slashes on every platform.
fn slash(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `path` relative to the repository root if it is inside it.
fn relative(workspace: &Workspace, path: &Path) -> String {
    slash(path.strip_prefix(&workspace.root).unwrap_or(path))
}
