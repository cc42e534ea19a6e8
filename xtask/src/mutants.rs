//! `cargo xtask mutants [N]...`: how many small faults in the reference
//! solutions the tests catch.
//!
//! [cargo-mutants](https://mutants.rs) changes one thing at a time in the
//! code (a `<` for a `<=`, a body replaced by a default value) and runs the
//! tests: a change no test notices is a *survivor*, a wrong solution a
//! learner could write and see green. The run happens on the generated
//! solutions branch ([`crate::solutions`]), checked out in a scratch
//! worktree, so the solution files are the crate's own code and a plain
//! `cargo test` is the test run; only the exercise files are changed.
//!
//! It takes tens of minutes per workshop, too slow for `verify`. The result
//! is checked in as `workshopN/mutants.toml`: the counts, the command, and
//! each survivor with a `reason` a maintainer writes (an equivalent mutant,
//! or a change no learner would make). A survivor without a reason fails the
//! command; reasons are kept across runs for survivors that are still there,
//! matched by file and description rather than by line, so an edit above
//! them does not drop them.
//!
//! `--survivors` examines only the survivors of the checked-in run, found
//! again by file and description: minutes instead of an hour, after tests
//! were added for them. The mutants that run caught are not run again; its
//! caught, unviable and timed-out counts are carried over and the new
//! outcomes added, and the file's `command` says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::catalogue::Catalogue;
use crate::error::{Context, Error, Result};
use crate::ui::Style;
use crate::workspace::Workspace;

/// The file, in each workshop crate, that holds the last run's result.
pub const RESULTS_FILE: &str = "mutants.toml";

/// Seconds a mutant's test run may take before it counts as timed out. A
/// workshop's whole test run takes under two seconds after its build, and a
/// hang is stopped by the simulation's own guards well before this.
const TEST_TIMEOUT_SECONDS: &str = "60";

/// Seconds a mutant's build may take: one workshop's test binaries, on a
/// machine shared with other builds.
const BUILD_TIMEOUT_SECONDS: &str = "600";

/// What one run found in one workshop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Mutants some test failed on.
    pub caught: usize,
    /// Mutants every test passed on: the survivors.
    pub missed: usize,
    /// Mutants that did not compile, so say nothing about the tests.
    pub unviable: usize,
    /// Mutants whose tests ran past the time limit.
    pub timeout: usize,
}

impl Tally {
    /// The share of mutants that compiled and were noticed (caught or timed
    /// out, which a learner sees as a failing check), in percent.
    pub fn caught_percent(&self) -> f64 {
        let viable = self.caught + self.missed + self.timeout;
        if viable == 0 {
            return 100.0;
        }
        // Counts of mutants are far below 2^52, so the conversions are exact.
        #[allow(clippy::cast_precision_loss)]
        let percent = 100.0 * (self.caught + self.timeout) as f64 / viable as f64;
        percent
    }
}

/// One survivor, as kept in `mutants.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survivor {
    /// The file, relative to the workshop crate.
    pub file: String,
    /// Its line in the last run.
    pub line: u32,
    /// What cargo-mutants changed: `replace < with <= in Backoff::delay`.
    pub mutant: String,
    /// Why it is acceptable that no test catches it; empty until a
    /// maintainer fills it in.
    #[serde(default)]
    pub reason: String,
}

/// A workshop's checked-in result.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// The command that produced it.
    pub command: String,
    /// Mutants caught.
    pub caught: usize,
    /// Mutants missed: the survivors below.
    pub missed: usize,
    /// Mutants that did not compile.
    pub unviable: usize,
    /// Mutants that timed out.
    pub timeout: usize,
    /// The survivors.
    #[serde(rename = "survivor", default)]
    pub survivors: Vec<Survivor>,
}

impl Results {
    /// Reads `path`; `None` if there is no such file.
    ///
    /// # Errors
    /// When it exists but cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    context: format!("reading {}", path.display()),
                    source,
                });
            }
        };
        toml::from_str(&text)
            .map(Some)
            .map_err(|error| Error::Check(format!("{}: {error}", path.display())))
    }

    /// The counts.
    pub fn tally(&self) -> Tally {
        Tally {
            caught: self.caught,
            missed: self.missed,
            unviable: self.unviable,
            timeout: self.timeout,
        }
    }

    /// The survivors nobody has explained yet.
    pub fn unexplained(&self) -> Vec<&Survivor> {
        self.survivors
            .iter()
            .filter(|survivor| survivor.reason.trim().is_empty())
            .collect()
    }

    /// The file's text: a header that says how to read and fill it, the
    /// counts, and the survivors in file and line order.
    pub fn render(&self, workshop: u32) -> String {
        let mut text = format!(
            "# Mutation testing of Workshop {workshop}'s reference solutions, written by\n\
             # `cargo xtask mutants {workshop}` (see xtask/src/mutants.rs).\n\
             #\n\
             # Each survivor is a change to a solution that every test of the workshop\n\
             # passes. Either add a test that catches it, or say in `reason` why it is\n\
             # acceptable: an equivalent mutant (no behaviour changes), or a change no\n\
             # learner would make. The command fails while a survivor has no reason.\n\n"
        );
        text.push_str(&format!("command = {}\n", quote(&self.command)));
        let tally = self.tally();
        text.push_str(&format!(
            "caught = {}\nmissed = {}\nunviable = {}\ntimeout = {}\n",
            tally.caught, tally.missed, tally.unviable, tally.timeout
        ));
        let mut survivors = self.survivors.clone();
        survivors.sort_by(|a, b| (&a.file, a.line, &a.mutant).cmp(&(&b.file, b.line, &b.mutant)));
        for survivor in &survivors {
            text.push_str(&format!(
                "\n[[survivor]]\nfile = {}\nline = {}\nmutant = {}\nreason = {}\n",
                quote(&survivor.file),
                survivor.line,
                quote(&survivor.mutant),
                quote(&survivor.reason)
            ));
        }
        text
    }

    /// Gives each survivor the reason an earlier run's result had for the
    /// same mutant in the same file.
    pub fn keep_reasons_from(&mut self, earlier: &Self) {
        for survivor in &mut self.survivors {
            if let Some(known) = earlier.survivors.iter().find(|known| {
                known.file == survivor.file
                    && known.mutant == survivor.mutant
                    && !known.reason.trim().is_empty()
            }) {
                survivor.reason.clone_from(&known.reason);
            }
        }
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            control if control.is_control() => {
                quoted.push_str(&format!("\\u{:04X}", u32::from(control)));
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// Reads one line of cargo-mutants' `missed.txt`:
/// `workshop1/src/backoff.rs:42:9: replace < with <= in Backoff::delay`.
/// Returns the survivor, its file made relative to the crate `package`.
pub fn parse_survivor(line: &str, package: &str) -> Option<Survivor> {
    let (path, rest) = line.split_once(':')?;
    let (line_number, rest) = rest.split_once(':')?;
    let (column, mutant) = rest.split_once(':')?;
    column.trim().parse::<u32>().ok()?;
    let file = path
        .strip_prefix(&format!("{package}/"))
        .unwrap_or(path)
        .to_string();
    Some(Survivor {
        file,
        line: line_number.trim().parse().ok()?,
        mutant: mutant.trim().to_string(),
        reason: String::new(),
    })
}

/// Reads the counts from cargo-mutants' `outcomes.json`.
///
/// # Errors
/// When the file is not the summary cargo-mutants writes.
pub fn parse_tally(outcomes_json: &str) -> Result<Tally> {
    #[derive(Deserialize)]
    struct Outcomes {
        caught: usize,
        missed: usize,
        unviable: usize,
        timeout: usize,
    }
    let outcomes: Outcomes = serde_json::from_str(outcomes_json)
        .map_err(|error| Error::Check(format!("reading cargo-mutants' outcomes.json: {error}")))?;
    Ok(Tally {
        caught: outcomes.caught,
        missed: outcomes.missed,
        unviable: outcomes.unviable,
        timeout: outcomes.timeout,
    })
}

/// Runs cargo-mutants over the solutions of each workshop in `workshops`
/// (every workshop if empty), writes each `mutants.toml`, prints the table,
/// and fails if a survivor has no reason.
///
/// # Errors
/// When cargo-mutants is missing or fails to run, or a survivor has no
/// reason.
pub fn run(workspace: &Workspace, workshops: &[u32], scope: Scope, style: Style) -> Result<()> {
    let version = cargo_mutants_version().ok_or_else(|| {
        Error::Check(
            "cargo-mutants is not installed; install it with\n    cargo install cargo-mutants \
             --locked"
                .into(),
        )
    })?;
    println!("{}", style.dim(&format!("using {version}")));
    let catalogues: Vec<Catalogue> = workspace
        .catalogues()?
        .into_iter()
        .filter(|catalogue| workshops.is_empty() || workshops.contains(&catalogue.workshop))
        .collect();
    if let Some(missing) = workshops
        .iter()
        .find(|number| !catalogues.iter().any(|c| c.workshop == **number))
    {
        return Err(Error::Usage(format!("there is no workshop {missing}")));
    }
    if crate::solutions::working_tree_is_dirty(workspace) {
        println!(
            "{}",
            style.yellow("note: run on HEAD; uncommitted changes are not part of it")
        );
    }
    let every = workspace.catalogues()?;
    let commit = crate::solutions::commit_for(workspace, &every, "HEAD")?;
    let folder = crate::solutions::add_worktree_named(workspace, &commit, "mutants-worktree")?;
    println!(
        "solutions commit {commit} checked out in {}",
        folder.display()
    );
    let mut rows = Vec::new();
    let mut outcome = Ok(());
    for catalogue in &catalogues {
        match run_workshop(workspace, &folder, catalogue, scope) {
            Ok(results) => rows.push((catalogue.workshop, results)),
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    crate::solutions::remove_worktree(workspace, &folder);
    outcome?;
    print_table(&rows, style);
    let unexplained: Vec<String> = rows
        .iter()
        .flat_map(|(workshop, results)| {
            results.unexplained().into_iter().map(move |survivor| {
                format!(
                    "  workshop{workshop}/{}:{}: {}",
                    survivor.file, survivor.line, survivor.mutant
                )
            })
        })
        .collect();
    if unexplained.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(format!(
            "{} survivor(s) without a reason; catch each with a test, or say in its `reason` \
             in {RESULTS_FILE} why it is acceptable:\n{}",
            unexplained.len(),
            unexplained.join("\n")
        )))
    }
}

/// Which mutants a run examines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every mutant of the exercise files.
    Every,
    /// Only the survivors of the checked-in run.
    Survivors,
}

/// A regular expression, for cargo-mutants' `--re`, that matches the
/// mutants named by `survivors` of the crate `package` at any line: the
/// names `--list` shows are `package/file:line:column: description`.
pub fn survivors_pattern(survivors: &[Survivor], package: &str) -> String {
    survivors
        .iter()
        .map(|survivor| {
            format!(
                "(?:^{}:[0-9]+:[0-9]+: {}$)",
                escape_regex(&format!("{package}/{}", survivor.file)),
                escape_regex(&survivor.mutant)
            )
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// `text` with every character the regex crate treats as special escaped,
/// and nothing else: an escaped `<` would be a word boundary there.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// The result of a run that examined only `earlier`'s survivors and found
/// `found` among them: `earlier`'s caught, unviable and timed-out counts
/// plus the new ones, and the new survivors.
pub fn merge_survivors_run(earlier: &Results, found: Tally, survivors: Vec<Survivor>) -> Results {
    Results {
        command: earlier.command.clone(),
        caught: earlier.caught + found.caught,
        missed: found.missed,
        unviable: earlier.unviable + found.unviable,
        timeout: earlier.timeout + found.timeout,
        survivors,
    }
}

/// The installed cargo-mutants' version line, if it runs.
fn cargo_mutants_version() -> Option<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["mutants", "--version"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The arguments after `cargo mutants` for one workshop, run in the
/// solutions worktree.
fn arguments(catalogue: &Catalogue, output: &Path) -> Vec<String> {
    let package = catalogue.package();
    let mut args: Vec<String> = [
        "mutants",
        // The worktree is a scratch copy already; copying it again would
        // only cost time and disk. In place means one mutant at a time,
        // which is also what a machine shared with other builds can afford.
        "--in-place",
        "--no-shuffle",
        "--timeout",
        TEST_TIMEOUT_SECONDS,
        "--build-timeout",
        BUILD_TIMEOUT_SECONDS,
        "--package",
        &package,
        "--test-package",
        &package,
    ]
    .map(String::from)
    .to_vec();
    for exercise in &catalogue.exercises {
        args.push("--file".into());
        args.push(format!("{package}/{}", exercise.file));
    }
    args.push("--output".into());
    args.push(output.to_string_lossy().into_owned());
    // The library's and the integration tests; doc tests and examples are
    // not where the exercises are checked, and would only slow every mutant.
    for target in ["--lib", "--tests"] {
        args.push(format!("--cargo-test-arg={target}"));
    }
    args
}

/// The command a maintainer would type to repeat one workshop's run.
fn command_line(catalogue: &Catalogue) -> String {
    format!(
        "cargo xtask mutants {} (on the solutions branch: cargo {})",
        catalogue.workshop,
        arguments(catalogue, Path::new("OUT")).join(" ")
    )
}

fn run_workshop(
    workspace: &Workspace,
    folder: &Path,
    catalogue: &Catalogue,
    scope: Scope,
) -> Result<Results> {
    let package = catalogue.package();
    let path = results_path(workspace, catalogue);
    let earlier = Results::load(&path)?;
    let output_folder = workspace.scratch("mutants-out").join(&package);
    std::fs::create_dir_all(&output_folder)
        .context(|| format!("creating {}", output_folder.display()))?;
    let mut args = arguments(catalogue, &output_folder);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = command_line(catalogue);
    if scope == Scope::Survivors {
        let Some(earlier) = &earlier else {
            return Err(Error::Usage(format!(
                "--survivors needs an earlier run's {}; there is none",
                path.display()
            )));
        };
        if earlier.survivors.is_empty() {
            println!("\n{package}: no survivors to examine again");
            return Ok(earlier.clone());
        }
        args.push("--re".into());
        args.push(survivors_pattern(&earlier.survivors, &package));
        // The carried-over counts are right only if the pattern names each
        // survivor and nothing else: a description shared with a mutant the
        // earlier run caught would count that one twice.
        let listed = Command::new(&cargo)
            .args(&args)
            .arg("--list")
            .current_dir(folder)
            .output()
            .context(|| "listing the survivors with cargo mutants".to_string())?;
        let count = String::from_utf8_lossy(&listed.stdout).lines().count();
        if !listed.status.success() || count != earlier.survivors.len() {
            return Err(Error::Check(format!(
                "{package}: the {} survivors of {} match {count} mutants now; run every \
                 mutant instead (without --survivors)",
                earlier.survivors.len(),
                path.display()
            )));
        }
        command = format!(
            "{} --survivors, which ran only the {} survivors of the run before it and added \
             its outcomes to that run's counts; that run: {}",
            command
                .split_once(" (")
                .map_or(command.as_str(), |(head, _)| head),
            earlier.survivors.len(),
            earlier.command
        );
    }
    println!("\n{package}: cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(&args)
        .current_dir(folder)
        // A target folder of its own: a copy must never build into the
        // main one (ARCHITECTURE.md, "Invariants"). Incremental builds stay
        // on, since every mutant rebuilds the same crate.
        .env("CARGO_TARGET_DIR", workspace.scratch("mutants-target"))
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .status()
        .context(|| "starting cargo mutants".to_string())?;
    // cargo-mutants exits with 2 when mutants were missed and 3 when some
    // timed out; both are results, not failures of the run. Anything else
    // (the unmutated tree failing its tests, a usage error) is.
    if !matches!(status.code(), Some(0 | 2 | 3)) {
        return Err(Error::CommandFailed {
            command: format!("cargo {}", args.join(" ")),
            status: status.to_string(),
            hint: format!(
                "\nits logs are in {}",
                output_folder.join("mutants.out").display()
            ),
        });
    }
    let results_folder = output_folder.join("mutants.out");
    let read = |name: &str| {
        let path = results_folder.join(name);
        std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))
    };
    let tally = parse_tally(&read("outcomes.json")?)?;
    let survivors: Vec<Survivor> = read("missed.txt")?
        .lines()
        .filter_map(|line| parse_survivor(line, &package))
        .collect();
    let mut results = match (&earlier, scope) {
        (Some(earlier), Scope::Survivors) => merge_survivors_run(earlier, tally, survivors),
        _ => Results {
            command: String::new(),
            caught: tally.caught,
            missed: tally.missed,
            unviable: tally.unviable,
            timeout: tally.timeout,
            survivors,
        },
    };
    results.command = command;
    if let Some(earlier) = &earlier {
        results.keep_reasons_from(earlier);
    }
    std::fs::write(&path, results.render(catalogue.workshop))
        .context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(results)
}

/// Where a workshop's result is checked in.
pub fn results_path(workspace: &Workspace, catalogue: &Catalogue) -> PathBuf {
    workspace.root.join(catalogue.package()).join(RESULTS_FILE)
}

fn print_table(rows: &[(u32, Results)], style: Style) {
    println!(
        "\n{}",
        style.bold("workshop  caught  missed  unviable  timeout  caught of viable")
    );
    for (workshop, results) in rows {
        let tally = results.tally();
        println!(
            "{:<8}  {:>6}  {:>6}  {:>8}  {:>7}  {:>15.1}%",
            workshop,
            tally.caught,
            tally.missed,
            tally.unviable,
            tally.timeout,
            tally.caught_percent()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_line_becomes_a_survivor_relative_to_its_crate() {
        let survivor = parse_survivor(
            "workshop1/src/backoff.rs:42:9: replace < with <= in Backoff::delay",
            "workshop1",
        )
        .expect("the line is in cargo-mutants' format");
        assert_eq!(
            survivor,
            Survivor {
                file: "src/backoff.rs".into(),
                line: 42,
                mutant: "replace < with <= in Backoff::delay".into(),
                reason: String::new(),
            },
            "the file is relative to the crate and the description keeps its words"
        );
        assert_eq!(
            parse_survivor("not a mutant", "workshop1"),
            None,
            "a line without file:line:column: is not a survivor"
        );
    }

    #[test]
    fn the_rendered_file_reads_back_and_keeps_reasons_across_moved_lines() {
        let mut earlier = Results {
            command: "cargo xtask mutants 1".into(),
            caught: 10,
            missed: 2,
            unviable: 3,
            timeout: 1,
            survivors: vec![
                Survivor {
                    file: "src/backoff.rs".into(),
                    line: 42,
                    mutant: "replace \"a\" with \\ in f".into(),
                    reason: "equivalent: the two branches agree".into(),
                },
                Survivor {
                    file: "src/requeue.rs".into(),
                    line: 7,
                    mutant: "delete ! in g".into(),
                    reason: String::new(),
                },
            ],
        };
        let text = earlier.render(1);
        let read: Results = toml::from_str(&text).expect("the rendered file is valid TOML");
        assert_eq!(
            read.survivors, earlier.survivors,
            "survivors read back as written"
        );
        assert_eq!(read.tally(), earlier.tally(), "counts read back as written");
        assert_eq!(read.unexplained().len(), 1, "one survivor has no reason");

        let mut later = earlier.clone();
        for survivor in &mut later.survivors {
            survivor.line += 5;
            survivor.reason.clear();
        }
        later.keep_reasons_from(&earlier);
        assert_eq!(
            later.survivors[0].reason, "equivalent: the two branches agree",
            "a reason follows its mutant to a new line"
        );
        earlier.survivors.clear();
        assert_eq!(later.unexplained().len(), 1, "an unexplained one stays so");
    }

    #[test]
    fn outcomes_json_gives_the_counts() {
        let tally = parse_tally(
            r#"{"total_mutants": 9, "caught": 5, "missed": 1, "unviable": 2, "timeout": 1,
                "success": 0, "outcomes": []}"#,
        )
        .expect("the summary fields are there");
        assert_eq!(
            tally,
            Tally {
                caught: 5,
                missed: 1,
                unviable: 2,
                timeout: 1
            },
            "each count is read from its field"
        );
        assert!(
            (tally.caught_percent() - 85.7).abs() < 0.1,
            "six of seven viable mutants are noticed, got {}",
            tally.caught_percent()
        );
    }

    #[test]
    fn a_survivors_run_finds_each_survivor_at_any_line_and_adds_to_the_counts() {
        let earlier = Results {
            command: "cargo xtask mutants 2".into(),
            caught: 10,
            missed: 2,
            unviable: 3,
            timeout: 1,
            survivors: vec![
                Survivor {
                    file: "src/autoscaler.rs".into(),
                    line: 147,
                    mutant: "replace > with >= in Autoscaler::decide".into(),
                    reason: String::new(),
                },
                Survivor {
                    file: "src/least_loaded.rs".into(),
                    line: 35,
                    mutant:
                        "replace <impl Placement for LeastLoaded>::name -> &'static str with \"\""
                            .into(),
                    reason: "given code".into(),
                },
            ],
        };
        let pattern = survivors_pattern(&earlier.survivors, "workshop2");
        assert_eq!(
            pattern,
            "(?:^workshop2/src/autoscaler\\.rs:[0-9]+:[0-9]+: replace > with >= in \
             Autoscaler::decide$)|(?:^workshop2/src/least_loaded\\.rs:[0-9]+:[0-9]+: replace \
             <impl Placement for LeastLoaded>::name \\-> \\&'static str with \"\"$)",
            "dots, the arrow's dash and the ampersand are escaped, angle brackets are not (an escaped one is \
             a word boundary), and the line may have moved"
        );
        let merged = merge_survivors_run(
            &earlier,
            Tally {
                caught: 1,
                missed: 1,
                unviable: 0,
                timeout: 0,
            },
            vec![earlier.survivors[1].clone()],
        );
        assert_eq!(
            merged.tally(),
            Tally {
                caught: 11,
                missed: 1,
                unviable: 3,
                timeout: 1
            },
            "the earlier run's caught, unviable and timed-out mutants still count; missed is \
             what is left"
        );
    }
}
