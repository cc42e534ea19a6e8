//! Support for demos: command-line flags, result tables and pictures.
//!
//! Every demo takes a few flags (`--seed 7 --items 100 --workers 4`), ends
//! with a table, and can draw its runs: `--svg FILE` writes a
//! [`Picture`], `--timeline` prints swimlanes. Both are small enough to write here rather than pull a
//! command-line parsing crate into every workshop's build: flags are
//! `--name value` or `--name` switches, every flag has a default and a help
//! line, and a bad value is a typed error that names the flag.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::picture::Picture;
use crate::unfinished::UnfinishedExercise;

/// One flag a demo accepts. Demos declare each as a constant and read it
/// through that constant, so a flag read is a flag declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// The name without dashes: `items` for `--items`.
    pub name: &'static str,
    /// Whether it takes a value, and what it is when not given.
    pub kind: FlagKind,
    /// One line of help.
    pub help: &'static str,
}

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// A value, with this default when the flag is not given.
    Value {
        /// The value when the flag is not given.
        default: &'static str,
    },
    /// A value with no default: read it with [`Flags::given`].
    Optional {
        /// What the value is, in help: `FILE`.
        placeholder: &'static str,
    },
    /// No value: on when given.
    Switch,
}

impl Flag {
    /// A flag that takes a value.
    pub const fn value(name: &'static str, default: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind: FlagKind::Value { default },
            help,
        }
    }

    /// A flag that takes a value and has no default: read it with
    /// [`Flags::given`]. `placeholder` names the value in help (`FILE`).
    pub const fn optional(
        name: &'static str,
        placeholder: &'static str,
        help: &'static str,
    ) -> Self {
        Self {
            name,
            kind: FlagKind::Optional { placeholder },
            help,
        }
    }

    /// A switch: on when given.
    pub const fn switch(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            kind: FlagKind::Switch,
            help,
        }
    }

    /// The value it takes when not given, if it has one.
    fn default(self) -> Option<&'static str> {
        match self.kind {
            FlagKind::Value { default } => Some(default),
            FlagKind::Optional { .. } | FlagKind::Switch => None,
        }
    }
}

/// `--seed`: every demo has one, so every run can be repeated.
pub const SEED: Flag = Flag::value(
    "seed",
    "1",
    "seed of every random choice; same seed, same run",
);
/// `--verbose`: log every step.
pub const VERBOSE: Flag = Flag::switch("verbose", "log every step, not just the summary");
/// `--svg FILE`: every demo can draw its runs into a standalone SVG file.
pub const SVG: Flag = Flag::optional(
    "svg",
    "FILE",
    "draw the runs into this SVG file (opens in any browser)",
);
/// `--timeline`: draw each run as a swimlane in the terminal.
pub const TIMELINE: Flag = Flag::switch("timeline", "draw each run as a swimlane in the terminal");

/// A command line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// A flag the demo does not know.
    #[error("unknown flag --{0}")]
    Unknown(String),
    /// A flag that needs a value came last.
    #[error("--{0} needs a value")]
    MissingValue(String),
    /// A value of the wrong kind.
    #[error("--{flag} expects {expected}, got {value:?}")]
    BadValue {
        /// The flag.
        flag: String,
        /// What it takes.
        expected: &'static str,
        /// What it got.
        value: String,
    },
    /// Something that is not a flag.
    #[error("unexpected argument {0:?}; flags start with --")]
    Unexpected(String),
    /// `--help` was asked for.
    #[error("help requested")]
    Help,
}

/// The flags a demo was started with.
#[derive(Debug, Clone)]
pub struct Flags {
    /// The demo's flags, for help and defaults.
    known: Vec<Flag>,
    /// Values given on the command line.
    given: BTreeMap<&'static str, String>,
}

impl Flags {
    /// Reads the process's arguments. Prints help and exits on `--help`;
    /// prints the error and help and exits with status 2 on a bad command
    /// line.
    pub fn parse(about: &str, known: &[Flag]) -> Self {
        match Self::parse_from(std::env::args().skip(1), known) {
            Ok(flags) => flags,
            Err(FlagError::Help) => {
                println!("{}", usage(about, known));
                std::process::exit(0);
            }
            Err(error) => {
                eprintln!("error: {error}\n\n{}", usage(about, known));
                std::process::exit(2);
            }
        }
    }

    /// Reads `args`.
    ///
    /// # Errors
    /// [`FlagError`] for an unknown flag, a missing value or a stray
    /// argument, and [`FlagError::Help`] for `--help`.
    pub fn parse_from(
        args: impl IntoIterator<Item = String>,
        known: &[Flag],
    ) -> Result<Self, FlagError> {
        let mut given = BTreeMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(FlagError::Unexpected(arg));
            };
            if name == "help" {
                return Err(FlagError::Help);
            }
            let flag = known
                .iter()
                .find(|flag| flag.name == name)
                .ok_or_else(|| FlagError::Unknown(name.to_string()))?;
            let value = match flag.kind {
                FlagKind::Value { .. } | FlagKind::Optional { .. } => args
                    .next()
                    .ok_or_else(|| FlagError::MissingValue(name.to_string()))?,
                FlagKind::Switch => String::new(),
            };
            given.insert(flag.name, value);
        }
        Ok(Self {
            known: known.to_vec(),
            given,
        })
    }

    /// The value of `flag`, or its default, read as a `T`.
    ///
    /// # Errors
    /// [`FlagError::BadValue`] when the value is not a `T`;
    /// [`FlagError::Unknown`] when the demo never declared the flag;
    /// [`FlagError::MissingValue`] for a flag with no default that was not
    /// given (read those with [`given`](Self::given)).
    pub fn get<T: FromStr>(&self, flag: Flag) -> Result<T, FlagError> {
        let text = self
            .text(flag)?
            .ok_or_else(|| FlagError::MissingValue(flag.name.to_string()))?;
        text.parse().map_err(|_| FlagError::BadValue {
            flag: flag.name.to_string(),
            expected: expected::<T>(),
            value: text.to_string(),
        })
    }

    /// The value of `flag` as a count: a number above zero. Zero items,
    /// workers or seeds would print a table of zeros, or quietly mean
    /// something else; it is refused with a message instead.
    ///
    /// # Errors
    /// As [`get`](Self::get), and [`FlagError::BadValue`] for zero or less.
    pub fn count<T: FromStr + PartialOrd + Default>(&self, flag: Flag) -> Result<T, FlagError> {
        let value: T = self.get(flag)?;
        if value > T::default() {
            Ok(value)
        } else {
            Err(FlagError::BadValue {
                flag: flag.name.to_string(),
                expected: "a number above 0",
                value: self.text(flag)?.unwrap_or_default().to_string(),
            })
        }
    }

    /// Whether switch `flag` was given.
    pub fn switch(&self, flag: Flag) -> bool {
        self.given.contains_key(flag.name)
    }

    /// The value of `flag` if it was given, with no default (for optional
    /// outputs such as `--svg FILE`).
    pub fn given(&self, flag: Flag) -> Option<&str> {
        self.given
            .get(flag.name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// The text of `flag`: as given, or its default.
    fn text(&self, flag: Flag) -> Result<Option<&str>, FlagError> {
        let declared = self
            .known
            .iter()
            .find(|known| known.name == flag.name)
            .ok_or_else(|| FlagError::Unknown(flag.name.to_string()))?;
        Ok(self
            .given
            .get(declared.name)
            .map(String::as_str)
            .or(declared.default()))
    }
}

/// A demo's whole `main`: reads the process's flags against `known`, runs
/// `demo` with them, and on an error (a bad value, a refused setting) prints
/// it and exits with status 2, the status of a bad command line.
///
/// ```no_run
/// use coordination::demo::{self, Flags, SEED};
///
/// fn main() {
///     demo::launch("hello: greets", &[SEED], |flags: &Flags| {
///         println!("seed {}", flags.get::<u64>(SEED)?);
///         Ok(())
///     });
/// }
/// ```
pub fn launch(
    about: &str,
    known: &[Flag],
    demo: impl FnOnce(&Flags) -> Result<(), Box<dyn std::error::Error>>,
) {
    let flags = Flags::parse(about, known);
    if let Err(error) = demo(&flags) {
        eprintln!("error: {error}");
        std::process::exit(2);
    }
}

/// Runs `run`; if it stops at an exercise that is not done yet (a `todo!`
/// panic), returns the panic's message instead of crashing the demo.
///
/// Demos compare strategies side by side; a learner halfway through a
/// workshop sees the rows they have unlocked and, for the others, which
/// exercise unlocks them. The panic hook is silenced while `run` runs so the
/// table stays readable; any other panic is a real bug and is raised again.
///
/// # Panics
/// When `run` panics for any reason other than an unfinished exercise.
pub fn unless_unfinished<T>(run: impl FnOnce() -> T) -> Result<T, UnfinishedExercise> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    std::panic::set_hook(previous);
    outcome.or_else(
        |panic| match UnfinishedExercise::from_panic(panic.as_ref()) {
            Some(exercise) => Err(exercise),
            None => std::panic::resume_unwind(panic),
        },
    )
}

/// Writes the picture `draw` makes to the file `--svg` names, if it names
/// one, and says where it went. Drawing is skipped when no file is asked for.
///
/// # Errors
/// When the file cannot be written; the error names the file.
pub fn save_picture(flags: &Flags, draw: impl FnOnce() -> Picture) -> Result<(), PictureError> {
    let Some(path) = flags.given(SVG) else {
        return Ok(());
    };
    draw()
        .write(Path::new(path))
        .map_err(|source| PictureError {
            path: path.to_string(),
            source,
        })?;
    println!("\npicture written to {path}: open it in a browser");
    Ok(())
}

/// A picture that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the picture to {path}: {source}")]
pub struct PictureError {
    /// The file `--svg` named.
    pub path: String,
    /// Why writing failed.
    pub source: std::io::Error,
}

/// What a value of type `T` looks like, for error messages.
fn expected<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    if name.starts_with('u') || name.starts_with('i') {
        "a whole number"
    } else if name.starts_with('f') {
        "a number"
    } else {
        "a value of another form"
    }
}

/// The help text of a demo.
pub fn usage(about: &str, known: &[Flag]) -> String {
    let mut text = format!("{about}\n\nFLAGS:\n");
    for flag in known {
        let left = match flag.kind {
            FlagKind::Optional { placeholder } => format!("--{} <{placeholder}>", flag.name),
            FlagKind::Value { default } => format!("--{} <{default}>", flag.name),
            FlagKind::Switch => format!("--{}", flag.name),
        };
        text.push_str(&format!("    {left:<28} {}\n", flag.help));
    }
    text.push_str(&format!("    {:<28} {}\n", "--help", "this text"));
    text
}

/// A table of results, aligned for a terminal or a projector.
///
/// The first column is left-aligned (names), the others right-aligned
/// (numbers).
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    /// The rows, in the order added.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new<S: ToString>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(|cell| cell.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows
            .push(cells.into_iter().map(|cell| cell.to_string()).collect());
        self
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let width = |column: usize| {
            self.rows
                .iter()
                .chain([&self.header])
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let line = |f: &mut fmt::Formatter<'_>, row: &[String]| -> fmt::Result {
            for (column, width) in widths.iter().enumerate() {
                let cell = row.get(column).map(String::as_str).unwrap_or("");
                if column == 0 {
                    write!(f, "  {cell:<width$}")?;
                } else {
                    write!(f, "  {cell:>width$}")?;
                }
            }
            writeln!(f)
        };
        line(f, &self.header)?;
        let rule: Vec<String> = widths.iter().map(|&width| "-".repeat(width)).collect();
        line(f, &rule)?;
        for row in &self.rows {
            line(f, row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS: Flag = Flag::value("items", "40", "how many items");

    fn parse(args: &[&str]) -> Result<Flags, FlagError> {
        Flags::parse_from(
            args.iter().map(|arg| arg.to_string()),
            &[SEED, ITEMS, VERBOSE],
        )
    }

    #[test]
    fn defaults_apply_when_a_flag_is_not_given() {
        let flags = parse(&["--seed", "9"]).expect("valid");
        assert_eq!(flags.get::<u64>(SEED), Ok(9));
        assert_eq!(flags.get::<u64>(ITEMS), Ok(40));
        assert!(!flags.switch(VERBOSE));
    }

    #[test]
    fn bad_input_gets_a_typed_error_naming_the_flag() {
        assert_eq!(
            parse(&["--items", "many"])
                .expect("parses")
                .get::<u64>(ITEMS),
            Err(FlagError::BadValue {
                flag: "items".into(),
                expected: "a whole number",
                value: "many".into()
            })
        );
        assert_eq!(
            parse(&["--nope"]).err(),
            Some(FlagError::Unknown("nope".into()))
        );
        assert_eq!(
            parse(&["--items"]).err(),
            Some(FlagError::MissingValue("items".into()))
        );
        assert_eq!(
            parse(&["items"]).err(),
            Some(FlagError::Unexpected("items".into()))
        );
    }

    #[test]
    fn an_optional_flag_is_absent_until_given() {
        let known = [SEED, SVG, TIMELINE];
        let parse = |args: &[&str]| {
            Flags::parse_from(args.iter().map(|arg| arg.to_string()), &known).expect("valid")
        };
        let quiet = parse(&[]);
        assert_eq!(quiet.given(SVG), None);
        assert!(!quiet.switch(TIMELINE));
        let drawn = parse(&["--svg", "run.svg", "--timeline"]);
        assert_eq!(drawn.given(SVG), Some("run.svg"));
        assert!(drawn.switch(TIMELINE));
        assert!(usage("demo", &known).contains("--svg <FILE>"));
    }

    #[test]
    fn an_unfinished_exercise_is_reported_not_raised() {
        let outcome = unless_unfinished(|| -> u32 { todo!("exercise 9.9: finish me") });
        let exercise = outcome.expect_err("the stub stopped the run");
        assert_eq!(exercise.to_string(), "exercise 9.9: finish me");
        assert_eq!(unless_unfinished(|| 7), Ok(7));
    }

    #[test]
    fn tables_align_names_left_and_numbers_right() {
        let mut table = Table::new(["strategy", "lost"]);
        table.row(["naive", "12"]).row(["dead-letter", "0"]);
        let text = table.to_string();
        assert_eq!(
            text,
            "  strategy     lost\n  -----------  ----\n  naive          12\n  dead-letter     0\n"
        );
    }

    #[test]
    fn a_count_of_zero_is_refused_by_name() {
        let flags = parse(&["--items", "0"]).expect("it parses");
        assert_eq!(
            flags.count::<u64>(ITEMS),
            Err(FlagError::BadValue {
                flag: "items".into(),
                expected: "a number above 0",
                value: "0".into(),
            })
        );
        assert_eq!(
            parse(&["--items", "3"])
                .expect("it parses")
                .count::<u64>(ITEMS),
            Ok(3)
        );
    }
}
