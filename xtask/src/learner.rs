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

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cargo::Cargo;
use crate::catalogue::TEST_TARGET;
use crate::catalogue::{Catalogue, Exercise};
use crate::doctor::{self, Verdict};
use crate::error::{Error, Result};
use crate::exercise_files::{self, Confirm};
use crate::exercise_id::{ExerciseId, digits};
use crate::hints::Hints;
use crate::nats_server;
use crate::progress::{
    self, DEFAULT_TIME_LIMIT, ExerciseProgress, Progress, Scope, State, WorkshopProgress,
};
use crate::solutions;
use crate::ui::Style;
use crate::watch::{self, POLL_INTERVAL, Trigger};
use crate::workspace::Workspace;

/// The help text.
pub const USAGE: &str = "\
cargo workshop: where you are, what to do next, and help on the way

USAGE:
    cargo workshop                      welcome, and the status of every exercise
    cargo workshop start N              make workshop N the current one (status, check,
                                        hint and watch start from it)
    cargo workshop check [EXERCISE]     run one exercise's tests (default: the one you
                                        are working on in the current workshop)
    cargo workshop hint [EXERCISE]      the next hint, gentle to explicit
    cargo workshop watch [EXERCISE] [--manual]
                                        check again on every save
                                        (--manual: when Enter is pressed)
    cargo workshop demo N [NAME] [--yes] [-- FLAGS]
                                        list workshop N's demos, or run one on your code
                                        (N = capstone: the capstone's demos; a demo that
                                        needs nats-server offers to install it, and
                                        --yes installs it without asking)
    cargo workshop reset EXERCISE [--yes]
                                        put the exercise's stub back (asks first)
    cargo workshop checkpoint EXERCISE [--yes]
                                        put the solutions of the exercises before it in place
    cargo workshop checkpoint N [--yes] put the solutions of every exercise of workshop N
                                        in place
    cargo workshop doctor               is this machine ready (toolchain, offline crates, terminal)?
    cargo workshop solutions-branch     create or update the local `solutions` branch

OPTIONS:
    --timeout SECONDS    how long an exercise's tests may run before they count as hung
                         (status, check, hint and watch; default 10)

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

/// A command with its own arguments and flags, as a command line names it.
///
/// Each command takes only the flags it uses, and a flag no command took is
/// refused: a learner who typed `--timeout 30` for a command that has no
/// time limit would otherwise think it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    /// The welcome and the status of every exercise.
    Status {
        /// How long an exercise's tests may run before they count as hung.
        time_limit: Duration,
    },
    /// Makes a workshop the current one.
    Start {
        /// The workshop's number (`start 3.2` names workshop 3).
        workshop: u32,
    },
    /// Runs one exercise's tests.
    Check {
        /// The exercise; the current one when `None`.
        exercise: Option<ExerciseId>,
        /// How long its tests may run before they count as hung.
        time_limit: Duration,
    },
    /// Shows the next hint of an exercise.
    Hint {
        /// The exercise; the current one when `None`.
        exercise: Option<ExerciseId>,
        /// How long the tests that find the current exercise may run; only
        /// a hint for the current exercise runs them, so only it takes
        /// `--timeout`.
        time_limit: Duration,
    },
    /// Checks again on every save, or every press of Enter.
    Watch {
        /// The exercise; the current one when `None`.
        exercise: Option<ExerciseId>,
        /// When to check again.
        trigger: Trigger,
        /// How long the exercise's tests may run before they count as hung.
        time_limit: Duration,
    },
    /// Lists a workshop's demos, or runs one.
    Demo {
        /// Whose demos.
        workshop: DemoOwner,
        /// The demo to run; `None` lists them.
        name: Option<String>,
        /// The flags after `--`, passed on to the demo.
        flags: Vec<String>,
        /// Whether to ask before installing a server the demo needs.
        confirm: Confirm,
    },
    /// Puts an exercise's stub back.
    Reset {
        /// The exercise.
        exercise: ExerciseId,
        /// Whether to ask first.
        confirm: Confirm,
    },
    /// Puts reference solutions in place.
    Checkpoint {
        /// How far to go.
        target: Until,
        /// Whether to ask first.
        confirm: Confirm,
    },
    /// Whether this machine is ready.
    Doctor,
    /// Creates or updates the local `solutions` branch.
    SolutionsBranch,
    /// The help text.
    Help,
}

/// Whose demos `cargo workshop demo` lists or runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DemoOwner {
    /// A workshop, by number.
    Workshop(u32),
    /// The capstone.
    Capstone,
}

impl DemoOwner {
    fn parse(word: &str) -> Result<Self> {
        if word == "capstone" {
            return Ok(Self::Capstone);
        }
        digits(word).map(Self::Workshop).ok_or_else(|| {
            Error::Usage(format!(
                "demo takes a workshop number such as 1, or `capstone`; got {word:?}"
            ))
        })
    }
}

impl std::fmt::Display for DemoOwner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Workshop(number) => write!(formatter, "{number}"),
            Self::Capstone => formatter.write_str("capstone"),
        }
    }
}

/// How far `cargo workshop checkpoint` puts reference solutions in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// Every exercise of a workshop.
    Workshop(u32),
    /// The exercises before this one, so that it is next.
    Exercise(ExerciseId),
}

impl Until {
    /// `2` for a workshop, `2.3` for an exercise.
    fn parse(word: &str) -> Result<Self> {
        if word.contains('.') {
            exercise_id(word).map(Self::Exercise)
        } else {
            workshop_number(word).map(Self::Workshop)
        }
    }
}

impl std::fmt::Display for Until {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Workshop(number) => write!(formatter, "{number}"),
            Self::Exercise(id) => write!(formatter, "{id}"),
        }
    }
}

/// An exercise id from the command line; a malformed one is a usage error
/// that says which part is wrong.
fn exercise_id(word: &str) -> Result<ExerciseId> {
    word.parse()
        .map_err(|error: crate::exercise_id::ExerciseIdError| Error::Usage(error.to_string()))
}

/// A workshop's number from the command line: `3`, or an exercise of it
/// such as `3.2`.
fn workshop_number(word: &str) -> Result<u32> {
    digits(word.split('.').next().unwrap_or(word)).ok_or_else(|| {
        Error::Usage(format!(
            "{word:?} is not a workshop: write its number, such as `cargo workshop start 3`"
        ))
    })
}

/// A command line read once: its words, and the flags given, until a
/// command takes them.
#[derive(Debug, Default)]
struct Line {
    /// Words that are not flags: the command and its arguments.
    words: Vec<String>,
    /// `--timeout SECONDS`, when given.
    timeout: Option<Duration>,
    /// `--manual`.
    manual: bool,
    /// `--yes` or `-y`.
    yes: bool,
    /// Everything after `--`; `None` without a `--`.
    passed_on: Option<Vec<String>>,
}

impl Line {
    /// Reads `args`, refusing a flag no command knows and a `--timeout`
    /// without a number of seconds.
    fn read(args: &[String]) -> Result<Self> {
        let mut line = Line::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--" => {
                    line.passed_on = Some(args.cloned().collect());
                    break;
                }
                "--yes" | "-y" => line.yes = true,
                "--manual" => line.manual = true,
                "--timeout" => {
                    let value = args.next().ok_or_else(|| {
                        Error::Usage(
                            "--timeout needs a number of seconds, such as --timeout 20".into(),
                        )
                    })?;
                    let seconds: u64 = value
                        .parse()
                        .ok()
                        .filter(|seconds| *seconds > 0)
                        .ok_or_else(|| {
                            Error::Usage(format!(
                                "--timeout takes a whole number of seconds above 0, such as 20; \
                                 got {value:?}"
                            ))
                        })?;
                    line.timeout = Some(Duration::from_secs(seconds));
                }
                "--help" | "-h" => line.words.insert(0, "help".into()),
                flag if flag.starts_with('-') => {
                    return Err(Error::Usage(format!("unknown option {flag:?}")));
                }
                word => line.words.push(word.to_string()),
            }
        }
        Ok(line)
    }

    /// Takes `--timeout`, or the default time limit.
    fn time_limit(&mut self) -> Duration {
        self.timeout.take().unwrap_or(DEFAULT_TIME_LIMIT)
    }

    /// Takes `--manual`.
    fn trigger(&mut self) -> Trigger {
        if std::mem::take(&mut self.manual) {
            Trigger::Manual
        } else {
            Trigger::Poll(POLL_INTERVAL)
        }
    }

    /// Takes `--yes`.
    fn confirm(&mut self) -> Confirm {
        if std::mem::take(&mut self.yes) {
            Confirm::Yes
        } else {
            Confirm::Ask
        }
    }

    /// Takes the flags after `--`.
    fn passed_on(&mut self) -> Vec<String> {
        self.passed_on.take().unwrap_or_default()
    }

    /// The first flag given that no command took.
    fn left_over(&self) -> Option<&'static str> {
        [
            (self.timeout.is_some(), "--timeout"),
            (self.manual, "--manual"),
            (self.yes, "--yes"),
            (self.passed_on.is_some(), "-- FLAGS"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

impl Command {
    /// The command `args` name, with the flags it takes.
    ///
    /// # Errors
    /// A usage error that says what is wrong: an unknown command or flag,
    /// a missing or extra word, or a flag this command does not take.
    fn parse(args: &[String]) -> Result<Self> {
        let mut line = Line::read(args)?;
        let words = std::mem::take(&mut line.words);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let id = |word: Option<&&str>| word.map(|word| exercise_id(word)).transpose();
        let command = match words.as_slice() {
            [] | ["status"] => Self::Status {
                time_limit: line.time_limit(),
            },
            ["start", which] => Self::Start {
                workshop: workshop_number(which)?,
            },
            ["check", rest @ ..] if rest.len() < 2 => Self::Check {
                exercise: id(rest.first())?,
                time_limit: line.time_limit(),
            },
            ["hint", rest @ ..] if rest.len() < 2 => Self::Hint {
                exercise: id(rest.first())?,
                time_limit: if rest.is_empty() {
                    line.time_limit()
                } else {
                    DEFAULT_TIME_LIMIT
                },
            },
            ["watch", rest @ ..] if rest.len() < 2 => Self::Watch {
                exercise: id(rest.first())?,
                trigger: line.trigger(),
                time_limit: line.time_limit(),
            },
            ["demo", which, rest @ ..] if rest.len() < 2 => Self::Demo {
                workshop: DemoOwner::parse(which)?,
                name: rest.first().map(|name| name.to_string()),
                flags: if rest.is_empty() {
                    Vec::new()
                } else {
                    line.passed_on()
                },
                confirm: if rest.is_empty() {
                    Confirm::Ask
                } else {
                    line.confirm()
                },
            },
            ["reset", which] => Self::Reset {
                exercise: exercise_id(which)?,
                confirm: line.confirm(),
            },
            ["checkpoint", which] => Self::Checkpoint {
                target: Until::parse(which)?,
                confirm: line.confirm(),
            },
            ["doctor"] => Self::Doctor,
            ["solutions-branch"] => Self::SolutionsBranch,
            ["help", ..] => Self::Help,
            ["demo"] => {
                return Err(Error::Usage(
                    "demo needs a workshop number: `cargo workshop demo 1` lists Workshop 1's \
                     demos"
                        .into(),
                ));
            }
            ["start"] => {
                return Err(Error::Usage(
                    "start needs a workshop number, such as `cargo workshop start 3`".into(),
                ));
            }
            [command @ ("reset" | "checkpoint")] => {
                return Err(Error::Usage(format!(
                    "{command} needs an exercise, such as `cargo workshop {command} 1.3`"
                )));
            }
            [command, ..] => {
                let known = [
                    "status",
                    "start",
                    "check",
                    "hint",
                    "watch",
                    "demo",
                    "reset",
                    "checkpoint",
                    "doctor",
                    "solutions-branch",
                    "help",
                ];
                return Err(Error::Usage(if known.contains(command) {
                    format!("{command} was given too many words: {}", words.join(" "))
                } else {
                    format!("there is no command {command:?}")
                }));
            }
        };
        if let Some(flag) = line.left_over() {
            let name = words.first().copied().unwrap_or("status");
            return Err(Error::Usage(format!(
                "{name} does not take {flag}; `cargo workshop help` lists what each command \
                 takes"
            )));
        }
        Ok(command)
    }
}

fn run(args: &[String], style: Style) -> Result<bool> {
    let command = Command::parse(args)?;
    let workspace = Workspace::locate()?;
    match command {
        Command::Status { time_limit } => status(&workspace, time_limit, style),
        Command::Start { workshop } => start(&workspace, workshop, style),
        Command::Check {
            exercise,
            time_limit,
        } => check(&workspace, exercise, time_limit, style),
        Command::Hint {
            exercise,
            time_limit,
        } => hint(&workspace, exercise, time_limit, style),
        Command::Watch {
            exercise,
            trigger,
            time_limit,
        } => {
            let catalogues = workspace.catalogues()?;
            if let Some(id) = exercise {
                find(&catalogues, id)?;
            }
            watch::watch(&workspace, &catalogues, trigger, || {
                println!("\n{}", style.dim(&"-".repeat(60)));
                check(&workspace, exercise, time_limit, style).map(|_| ())
            })?;
            Ok(true)
        }
        Command::Demo {
            workshop,
            name,
            flags,
            confirm,
        } => demo(&workspace, workshop, name.as_deref(), &flags, confirm),
        Command::Reset { exercise, confirm } => reset(&workspace, exercise, confirm, style),
        Command::Checkpoint { target, confirm } => checkpoint(&workspace, target, confirm, style),
        Command::Doctor => Ok(doctor(&workspace, style)),
        Command::SolutionsBranch => {
            println!("{}", solutions::create_or_update(&workspace, "HEAD")?);
            Ok(true)
        }
        Command::Help => {
            println!("{USAGE}");
            Ok(true)
        }
    }
}

/// The problems of every `cargo workshop ...` command that `text` names
/// between backticks: a command that does not exist, names an exercise or
/// workshop that does not exist, or, in the hints of `exercise`, a
/// checkpoint that would not move past it (the hint is for a learner stuck
/// on it).
pub fn command_problems(
    text: &str,
    catalogues: &[Catalogue],
    exercise: Option<&Exercise>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for quoted in text.split('`').skip(1).step_by(2) {
        let Some(rest) = quoted.trim().strip_prefix("cargo workshop") else {
            continue;
        };
        let args: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
        // Placeholders (`NAME`, `N.M`, `<id>`) stand for what the reader
        // picks; options are lower case.
        let placeholder = |arg: &String| {
            arg.contains(['<', '>'])
                || !arg.starts_with('-') && arg.chars().any(|letter| letter.is_ascii_uppercase())
        };
        if args.iter().any(placeholder) {
            continue;
        }
        let command = Command::parse(&args);
        let problem = match command {
            Err(error) => Some(error.to_string()),
            Ok(
                Command::Check {
                    exercise: Some(id), ..
                }
                | Command::Hint {
                    exercise: Some(id), ..
                }
                | Command::Watch {
                    exercise: Some(id), ..
                }
                | Command::Reset { exercise: id, .. },
            ) => find(catalogues, id).err().map(|error| error.to_string()),
            Ok(Command::Start { workshop: which }) => workshop_named(catalogues, which)
                .err()
                .map(|error| error.to_string()),
            Ok(Command::Checkpoint { target: which, .. }) => {
                match checkpoint_target(catalogues, which) {
                    Err(error) => Some(error.to_string()),
                    Ok((catalogue, until)) => exercise.and_then(|stuck| {
                        // Ids order as the exercises are done.
                        let moves_past = catalogue.exercise(stuck.id).is_some()
                            && until.is_none_or(|until| until.id > stuck.id);
                        (!moves_past).then(|| {
                            format!(
                                "`cargo workshop checkpoint {which}` leaves {} unsolved",
                                stuck.id
                            )
                        })
                    }),
                }
            }
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            problems.push(format!("`{}`: {problem}", quoted.trim()));
        }
    }
    problems
}

/// Checks every `cargo workshop ...` command the learners are told to type:
/// in the hints (a checkpoint there must move past the exercise it helps
/// with), in the advice after each exercise's last hint, and in the
/// READMEs and instructor notes.
///
/// # Errors
/// [`Error::Check`] listing every command that would not do what it says.
pub fn check_named_commands(workspace: &Workspace, catalogues: &[Catalogue]) -> Result<()> {
    let mut problems = Vec::new();
    for catalogue in catalogues {
        for exercise in &catalogue.exercises {
            let texts = exercise
                .hints
                .iter()
                .cloned()
                .chain([last_hint_advice(catalogue, exercise)]);
            for text in texts {
                problems.extend(
                    command_problems(&text, catalogues, Some(exercise))
                        .into_iter()
                        .map(|problem| {
                            format!("{} hint of {}: {problem}", catalogue.package(), exercise.id)
                        }),
                );
            }
        }
    }
    let mut documents = vec![PathBuf::from("README.md"), PathBuf::from("tests/README.md")];
    for catalogue in catalogues {
        documents.push(Path::new(&catalogue.package()).join("README.md"));
        documents.push(Path::new(&catalogue.package()).join("INSTRUCTOR.md"));
    }
    for document in documents {
        let Ok(text) = std::fs::read_to_string(workspace.root.join(&document)) else {
            continue;
        };
        // A command may wrap across lines inside its backticks.
        let text = text.replace('\n', " ");
        problems.extend(
            command_problems(&text, catalogues, None)
                .into_iter()
                .map(|problem| format!("{}: {problem}", document.display())),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(format!(
            "commands named to learners that would not work:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// `cargo workshop start N`: makes workshop N (or the workshop of exercise
/// N.M) the current one.
fn start(workspace: &Workspace, which: u32, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let catalogue = workshop_named(&catalogues, which)?;
    progress::choose_workshop(workspace, catalogue.workshop)?;
    println!(
        "{} Workshop {}, {}, is the current workshop: `cargo workshop`, `check`, `hint` and \
         `watch` start from it.\n  Its story is in {}/README.md.",
        style.pass(),
        catalogue.workshop,
        catalogue.title,
        catalogue.package()
    );
    let progress = Progress::measure(
        workspace,
        &catalogues,
        Scope::Workshop(catalogue.workshop),
        DEFAULT_TIME_LIMIT,
    )?;
    match progress.current() {
        Some(exercise) if exercise.workshop == catalogue.workshop => println!(
            "{} {} {}: open {}, then `cargo workshop check`.",
            style.yellow("Next:"),
            exercise.exercise.id,
            exercise.exercise.title,
            slash(&exercise.file)
        ),
        _ => println!(
            "  Every exercise of Workshop {} is done already.",
            catalogue.workshop
        ),
    }
    Ok(true)
}

/// The workshop `which` names: a number such as `3`, or an exercise id such
/// as `3.2`.
fn workshop_named(catalogues: &[Catalogue], which: u32) -> Result<&Catalogue> {
    catalogues
        .iter()
        .find(|catalogue| catalogue.workshop == which)
        .ok_or_else(|| {
            let numbers: Vec<String> = catalogues
                .iter()
                .map(|catalogue| catalogue.workshop.to_string())
                .collect();
            Error::Usage(format!(
                "there is no workshop {which}; the workshops are {}",
                numbers.join(", ")
            ))
        })
}

/// The welcome, when it is wanted, and every exercise's state.
fn status(workspace: &Workspace, time_limit: Duration, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let progress = Progress::measure(workspace, &catalogues, Scope::All, time_limit)?;
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
    let current = progress.current().map(|exercise| exercise.exercise.id);
    for workshop in &progress.workshops {
        let here = if workshop.catalogue.workshop == progress.current_workshop {
            "  (current)"
        } else {
            ""
        };
        println!(
            "\n{}  {}{here}",
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
            .unwrap_or(0)
            + if workshop
                .exercises
                .iter()
                .any(|exercise| exercise.exercise.stretch)
            {
                STRETCH.len()
            } else {
                0
            };
        for exercise in &workshop.exercises {
            let is_current = current == Some(exercise.exercise.id);
            let mark = if exercise.is_done() {
                style.pass()
            } else if is_current {
                style.current()
            } else {
                style.pending()
            };
            let stretch = if exercise.exercise.stretch {
                STRETCH
            } else {
                ""
            };
            let title = format!("{}{stretch}", exercise.exercise.title);
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
                 cargo workshop check\nStuck? `cargo workshop hint`. Checking on every save: \
                 `cargo workshop watch`.",
                style.yellow("Next:"),
                slash(&exercise.file),
                exercise.exercise.id,
                exercise.exercise.id,
            );
            if exercise.workshop != progress.current_workshop || progress.current_workshop == 1 {
                println!(
                    "Starting another workshop? `cargo workshop start N` makes workshop N the \
                     current one."
                );
            }
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

/// The mark after a stretch exercise's title.
const STRETCH: &str = " (stretch)";

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

/// The exercise a check without an id is about: in the current workshop,
/// the exercise file saved last among those that are not stubs (what the
/// learner is working on, so finishing it reads "done"), else the first
/// exercise not done.
fn focus<'a>(
    workspace: &Workspace,
    workshop: &'a WorkshopProgress,
) -> Option<&'a ExerciseProgress> {
    let modified = |exercise: &ExerciseProgress| {
        std::fs::metadata(workspace.root.join(&exercise.file))
            .and_then(|metadata| metadata.modified())
            .ok()
    };
    workshop
        .exercises
        .iter()
        .filter(|exercise| exercise.state != State::NotStarted)
        .max_by_key(|exercise| modified(exercise))
        .or_else(|| {
            workshop
                .exercises
                .iter()
                .find(|exercise| !exercise.is_done())
        })
}

/// Runs one exercise's tests and prints a short verdict; `true` when every
/// test passes.
fn check(
    workspace: &Workspace,
    id: Option<ExerciseId>,
    time_limit: Duration,
    style: Style,
) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let id = match id {
        Some(id) => Some(find(&catalogues, id)?.1.id),
        None => None,
    };
    let number = match id {
        Some(id) => id.workshop(),
        None => {
            let stubs = crate::stubs::Stubs::find(workspace, &catalogues);
            progress::current_workshop(workspace, &catalogues, &stubs)
        }
    };
    let progress = Progress::measure(workspace, &catalogues, Scope::Workshop(number), time_limit)?;
    let Some(workshop) = progress.workshop(number) else {
        return Err(Error::Usage(format!("there is no workshop {number}")));
    };
    let exercise = match id {
        Some(id) => workshop
            .exercises
            .iter()
            .find(|exercise| exercise.exercise.id == id),
        None => focus(workspace, workshop),
    };
    let Some(exercise) = exercise else {
        println!(
            "{} Every exercise of Workshop {number} is done. `cargo workshop` shows the whole \
             list.",
            style.pass()
        );
        return Ok(true);
    };
    let id = &exercise.exercise.id;
    let title = &exercise.exercise.title;
    let file = slash(&exercise.file);
    let package = workshop.catalogue.package();
    let module = &exercise.exercise.test;
    let one_test = |name: &str| {
        format!("cargo test -p {package} --test {TEST_TARGET} -- {module}::{name} --exact")
    };
    match &exercise.state {
        State::Done => {
            println!(
                "{} {id} done: {} of {} tests pass ({title}).\n  Compare with the reference \
                 solution, {}.",
                style.pass(),
                exercise.tests,
                exercise.tests,
                slash(&exercise.solution)
            );
            let next = workshop
                .exercises
                .iter()
                .skip_while(|candidate| candidate.exercise.id != *id)
                .chain(&workshop.exercises)
                .find(|candidate| !candidate.is_done());
            match next {
                Some(next) => println!(
                    "{} {} {}: open {}, then `cargo workshop check`.",
                    style.yellow("Next:"),
                    next.exercise.id,
                    next.exercise.title,
                    slash(&next.file)
                ),
                None => workshop_complete(&catalogues, workshop, style),
            }
            Ok(true)
        }
        State::NotStarted => {
            println!(
                "{} {id} {title} is not started: {file} is still its stub.\n  Open it, read the \
                 TODO({id}) comments, write the code, then `cargo workshop check` again.\n  A \
                 first hint: `cargo workshop hint {id}`.",
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
                match &first.replay {
                    Some(replay) => println!(
                        "  It failed for seed {}. Replay just that run:\n    {}",
                        replay.seed, replay.command
                    ),
                    None => println!("  Run it alone: {}", one_test(&first.test)),
                }
            }
            println!(
                "  All of its output: cargo test -p {package} --test {TEST_TARGET} {module}\n  \
                 Stuck? `cargo workshop hint {id}`."
            );
            Ok(false)
        }
        State::Hung {
            after,
            running,
            explanation,
        } => {
            println!(
                "{} {id} {title}: the tests were still running after {} s and were stopped.",
                style.fail(),
                after.as_secs()
            );
            for test in running {
                println!("    still running: {test}");
            }
            match explanation {
                // The watchdog's words name the test and every kind of fault,
                // and end with this exercise's own likely cause.
                Some(explanation) => {
                    for line in explanation.lines() {
                        println!("  {line}");
                    }
                    if let Some(cause) = exercise
                        .exercise
                        .hang_cause
                        .as_ref()
                        .filter(|cause| !explanation.contains(cause.as_str()))
                    {
                        println!("  In {id}, a hang is usually {cause}");
                    }
                }
                None => {
                    if let Some(cause) = &exercise.exercise.hang_cause {
                        println!("  In {id}, a hang is usually {cause}");
                    }
                    println!(
                        "  Probable infinite loop or hang in {file}: look for a loop that never \
                         ends, or never reaches an .await (then simulated time cannot move)."
                    );
                }
            }
            if let Some(test) = running.first() {
                println!("  Run it alone: {}", one_test(test));
            }
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

/// What a learner who finished a workshop reads: it is complete, their own
/// code can be watched at work in its demos, and where to go next.
fn workshop_complete(catalogues: &[Catalogue], workshop: &WorkshopProgress, style: Style) {
    let number = workshop.catalogue.workshop;
    println!(
        "{} Workshop {number} is complete: all {} exercises pass.\n  Watch your own code at \
         work: `cargo workshop demo {number}` lists the demos, which run on your code.",
        style.green("Well done!"),
        workshop.exercises.len()
    );
    match catalogues
        .iter()
        .find(|catalogue| catalogue.workshop > number)
    {
        Some(next) => println!(
            "{} Workshop {}, {}: `cargo workshop start {}`.",
            style.yellow("Next:"),
            next.workshop,
            next.title,
            next.workshop
        ),
        None => println!(
            "{} the capstone runs a replicated queue built from all four workshops on your \
             code: `cargo test -p capstone` (tests/README.md).",
            style.yellow("Next:")
        ),
    }
}

/// Shows the next hint of an exercise (default: the current one).
fn hint(
    workspace: &Workspace,
    id: Option<ExerciseId>,
    time_limit: Duration,
    style: Style,
) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let (catalogue, exercise) = match id {
        Some(id) => find(&catalogues, id)?,
        None => {
            let stubs = crate::stubs::Stubs::find(workspace, &catalogues);
            let number = progress::current_workshop(workspace, &catalogues, &stubs);
            let progress =
                Progress::measure(workspace, &catalogues, Scope::Workshop(number), time_limit)?;
            let Some(current) = progress.current() else {
                println!("Every exercise is done: no hints needed.");
                return Ok(true);
            };
            exercise_with(&catalogues, current.exercise.id).ok_or_else(|| {
                Error::Usage(format!("there is no exercise {}", current.exercise.id))
            })?
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
            "That is the last hint{}. {}",
            if hint.repeated { " (shown again)" } else { "" },
            last_hint_advice(catalogue, exercise)
        );
    }
    Ok(true)
}

/// What the last hint adds: where the reference solution is, and the
/// checkpoint that moves a learner past `exercise` without it.
fn last_hint_advice(catalogue: &Catalogue, exercise: &Exercise) -> String {
    let next = catalogue
        .exercises
        .iter()
        .skip_while(|candidate| candidate.id != exercise.id)
        .nth(1);
    let checkpoint = match next {
        Some(next) => format!(
            "`cargo workshop checkpoint {}` puts the solutions of the exercises before {} in \
             place",
            next.id, next.id
        ),
        None => format!(
            "`cargo workshop checkpoint {}` puts the solutions of every exercise of Workshop {} \
             in place",
            catalogue.workshop, catalogue.workshop
        ),
    };
    format!(
        "The reference solution is {}; to go on without writing it,\n{checkpoint}.",
        slash(&catalogue.solution_path(exercise))
    )
}

/// Lists a workshop's demos (or the capstone's), or runs one in exercise
/// mode.
fn demo(
    workspace: &Workspace,
    which: DemoOwner,
    name: Option<&str>,
    flags: &[String],
    confirm: Confirm,
) -> Result<bool> {
    let (title, package, demos) = match which {
        DemoOwner::Capstone => {
            let capstone = workspace
                .capstone()?
                .ok_or_else(|| Error::Usage("this repository has no capstone".into()))?;
            ("The capstone".to_string(), capstone.package, capstone.demos)
        }
        DemoOwner::Workshop(number) => {
            let catalogue = workspace.catalogue(number)?;
            (
                format!("Workshop {number}"),
                catalogue.package(),
                catalogue.demos,
            )
        }
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
    let Some(chosen) = demos.iter().find(|demo| demo.name == name) else {
        let names: Vec<&str> = demos.iter().map(|demo| demo.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "{title} has no demo {name:?}; its demos are {}",
            names.join(", ")
        )));
    };
    let server = if chosen
        .features
        .iter()
        .any(|feature| feature == nats_server::FEATURE)
    {
        Some(nats_server::offer(
            workspace,
            confirm,
            &format!("demo {which} {name}"),
        )?)
    } else {
        None
    };
    let features = chosen.features.join(",");
    let mut args = vec!["run", "--quiet", "-p", &package, "--example", name];
    if !features.is_empty() {
        args.extend(["--features", &features]);
    }
    if chosen.optimised {
        // Its runs are many and long: unoptimised, it takes minutes.
        eprintln!("  {name} runs optimised (cargo run --release): its runs are many and long.");
        args.push("--release");
    }
    args.push("--");
    args.extend(flags.iter().map(String::as_str));
    let mut cargo = Cargo::new(&workspace.root);
    if let Some(server) = &server {
        // The demo runs the very server found or installed here.
        cargo = cargo.env("NATS_SERVER", &server.path);
    }
    cargo.run(&args)?;
    Ok(true)
}

fn reset(workspace: &Workspace, id: ExerciseId, confirm: Confirm, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let (catalogue, exercise) = find(&catalogues, id)?;
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

fn checkpoint(workspace: &Workspace, which: Until, confirm: Confirm, style: Style) -> Result<bool> {
    let catalogues = workspace.catalogues()?;
    let (catalogue, until) = checkpoint_target(&catalogues, which)?;
    let replaced = exercise_files::checkpoint(workspace, catalogue, until, confirm)?;
    let before = match until {
        Some(exercise) => format!("before {}", exercise.id),
        None => format!("of Workshop {}", catalogue.workshop),
    };
    if replaced.is_empty() {
        println!(
            "{} Every exercise {before} already holds its solution; nothing to do.",
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
    match until {
        Some(exercise) => println!(
            "Exercise {} is next: {}. Run `cargo workshop check {}`.",
            exercise.id,
            slash(&catalogue.exercise_path(exercise)),
            exercise.id
        ),
        None => workshop_complete_hint(&catalogues, catalogue),
    }
    Ok(true)
}

/// After a checkpoint past a workshop's last exercise: where to go next.
fn workshop_complete_hint(catalogues: &[Catalogue], catalogue: &Catalogue) {
    match catalogues
        .iter()
        .find(|next| next.workshop > catalogue.workshop)
    {
        Some(next) => println!(
            "Workshop {} holds every solution. Next: `cargo workshop start {}`.",
            catalogue.workshop, next.workshop
        ),
        None => println!(
            "Workshop {} holds every solution. The capstone runs on it: `cargo test -p capstone`.",
            catalogue.workshop
        ),
    }
}

/// What `checkpoint WHICH` solves: an exercise id solves the exercises
/// before it (`Some`), a workshop number every exercise of it (`None`).
fn checkpoint_target(
    catalogues: &[Catalogue],
    which: Until,
) -> Result<(&Catalogue, Option<&Exercise>)> {
    match which {
        Until::Exercise(id) => {
            let (catalogue, exercise) = find(catalogues, id)?;
            Ok((catalogue, Some(exercise)))
        }
        Until::Workshop(number) => Ok((workshop_named(catalogues, number)?, None)),
    }
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
/// (Text that is not an id at all was refused as the command was read,
/// naming the part that is wrong.)
fn find(catalogues: &[Catalogue], id: ExerciseId) -> Result<(&Catalogue, &Exercise)> {
    exercise_with(catalogues, id).ok_or_else(|| {
        let ids: Vec<String> = catalogues
            .iter()
            .flat_map(|catalogue| catalogue.exercises.iter())
            .map(|exercise| exercise.id.to_string())
            .collect();
        Error::Usage(format!(
            "there is no exercise {id}; the exercises are {} (`cargo workshop` lists them)",
            ids.join(", ")
        ))
    })
}

/// The catalogue and exercise with id `id`, if any catalogue has it.
fn exercise_with(catalogues: &[Catalogue], id: ExerciseId) -> Option<(&Catalogue, &Exercise)> {
    catalogues
        .iter()
        .find(|catalogue| catalogue.workshop == id.workshop())
        .and_then(|catalogue| Some((catalogue, catalogue.exercise(id)?)))
}

/// A path in the repository, with forward slashes on every platform.
fn slash(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `path` relative to the repository root if it is inside it.
fn relative(workspace: &Workspace, path: &Path) -> String {
    slash(path.strip_prefix(&workspace.root).unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogues() -> Vec<Catalogue> {
        Workspace::locate()
            .and_then(|workspace| workspace.catalogues())
            .expect("the catalogues load")
    }

    #[test]
    fn the_last_hint_of_a_workshop_checkpoints_past_its_last_exercise() {
        let catalogues = catalogues();
        for catalogue in &catalogues {
            for exercise in &catalogue.exercises {
                let advice = last_hint_advice(catalogue, exercise);
                assert_eq!(
                    command_problems(&advice, &catalogues, Some(exercise)),
                    Vec::<String>::new(),
                    "{advice}"
                );
            }
        }
    }

    #[test]
    fn a_command_that_would_not_work_is_found() {
        let catalogues = catalogues();
        let last = catalogues[0]
            .exercises
            .last()
            .expect("a workshop has exercises");
        let stuck = command_problems(
            &format!("`cargo workshop checkpoint {}`", last.id),
            &catalogues,
            Some(last),
        );
        assert_eq!(
            stuck.len(),
            1,
            "a checkpoint that leaves {} a stub",
            last.id
        );
        for wrong in [
            "`cargo workshop chek`",
            "`cargo workshop check 9.9`",
            "`cargo workshop demo 1 -- --seed 2 --yes`",
        ] {
            assert_eq!(
                command_problems(wrong, &catalogues, None).len(),
                1,
                "{wrong}"
            );
        }
        for right in [
            "`cargo workshop watch 2.1`",
            "`cargo workshop start 3`",
            "`cargo workshop checkpoint 1`",
        ] {
            assert_eq!(
                command_problems(right, &catalogues, None),
                Vec::<String>::new(),
                "{right}"
            );
        }
    }

    #[test]
    fn an_option_a_command_ignores_is_refused() {
        let words = |line: &str| {
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let command = |line: &str| Command::parse(&words(line));
        let refused = |line: &str, flag: &str| {
            let error = command(line).expect_err(line);
            assert!(
                matches!(&error, Error::Usage(message) if message.contains(&format!("does not take {flag}"))),
                "{line}: {error}"
            );
        };
        refused("hint 1.2 --manual", "--manual");
        refused("hint 1.2 --timeout 3", "--timeout");
        refused("reset 1.2 --timeout 3", "--timeout");
        refused("check -- --nocapture", "-- FLAGS");
        refused("status --yes", "--yes");
        refused("demo 1 -- --seed 2", "-- FLAGS");
        refused("demo capstone --yes", "--yes");
        assert!(
            command("demo capstone jetstream --yes").is_ok(),
            "a demo takes --yes: it may install the server it needs"
        );
        assert!(
            matches!(command("check --verbose"), Err(Error::Usage(message)) if message.contains("unknown option")),
            "a flag no command knows"
        );
        assert_eq!(
            command("watch 2.1 --manual --timeout 3").expect("watch takes both"),
            Command::Watch {
                exercise: Some(ExerciseId::new(2, 1)),
                trigger: Trigger::Manual,
                time_limit: Duration::from_secs(3),
            }
        );
        for (line, reason) in [
            ("check 13", "is not an exercise id"),
            ("reset 1.x", "is not an exercise number"),
            ("checkpoint two", "is not a workshop"),
            ("start x", "is not a workshop"),
            ("demo 1.2", "demo takes a workshop number"),
            ("demo +1", "demo takes a workshop number"),
        ] {
            assert!(
                matches!(command(line), Err(Error::Usage(message)) if message.contains(reason)),
                "{line}: a malformed id is refused as the command is read, saying {reason:?}"
            );
        }
        assert_eq!(
            command("start 3.2").expect("an exercise names its workshop"),
            Command::Start { workshop: 3 },
            "`start 3.2` starts Workshop 3"
        );
        assert_eq!(
            command("checkpoint 2.3").expect("an exercise"),
            Command::Checkpoint {
                target: Until::Exercise(ExerciseId::new(2, 3)),
                confirm: Confirm::Ask,
            },
            "`checkpoint 2.3` solves the exercises before 2.3"
        );
        assert_eq!(
            command("--yes checkpoint 1").expect("a flag may come first"),
            Command::Checkpoint {
                target: Until::Workshop(1),
                confirm: Confirm::Yes,
            }
        );
        assert_eq!(
            command("demo 2 distribute -- --seed 7").expect("a demo takes its flags"),
            Command::Demo {
                workshop: DemoOwner::Workshop(2),
                name: Some("distribute".into()),
                flags: vec!["--seed".into(), "7".into()],
                confirm: Confirm::Ask,
            }
        );
    }
}
