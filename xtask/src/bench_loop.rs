//! `cargo xtask bench-loop`: how long a learner waits, measured.
//!
//! Three figures matter to a learner, who sees them hundreds of times a
//! session: the first screen of a fresh clone (building this tool, then
//! `cargo workshop`), the status when nothing changed, and the time from
//! saving a one-line edit of the current exercise to `cargo workshop
//! check`'s verdict. This command measures them on a scratch copy of the
//! repository (committed to a git repository of its own, as a clone is),
//! built into a target folder of its own, and breaks the edit-to-verdict
//! time into its parts: compiling the workshop's library, compiling and
//! linking its test binary, and the check itself once both are built.
//!
//! The copy's target folder is kept between runs, so only the first run
//! compiles the dependencies; `--fresh` starts from an empty one, which is
//! what the first-screen figure is about.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::catalogue::TEST_TARGET;
use crate::error::{Context, Error, Result};
use crate::ui::{Style, human};
use crate::workspace::Workspace;

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How many times each warm figure is measured; the median is shown.
    pub runs: usize,
    /// Whether to start from an empty target folder.
    pub fresh: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runs: 5,
            fresh: false,
        }
    }
}

/// Measures and prints the three figures and the breakdown.
///
/// # Errors
/// When the copy cannot be made or a command fails to start.
pub fn run(workspace: &Workspace, options: &Options, style: Style) -> Result<()> {
    let root = workspace.scratch("bench-loop");
    let target = workspace.scratch("bench-loop-target");
    println!("Copying the repository to {} ...", root.display());
    workspace.copy_to(&root)?;
    for args in [
        &["init", "--quiet", "--initial-branch", "main"][..],
        &["add", "--all"],
        &[
            "-c",
            "user.name=learner",
            "-c",
            "user.email=learner@example.invalid",
            "commit",
            "--quiet",
            "--no-gpg-sign",
            "--message",
            "a fresh clone",
        ],
    ] {
        quiet(Command::new("git").args(args).current_dir(&root))?;
    }
    if options.fresh && target.exists() {
        std::fs::remove_dir_all(&target).context(|| format!("clearing {}", target.display()))?;
    }
    let bench = Bench { root, target };
    let catalogue = workspace.catalogue(1)?;
    let exercise = catalogue
        .exercises
        .first()
        .ok_or_else(|| Error::Check("Workshop 1 has no exercises".into()))?;
    let file = catalogue.exercise_path(exercise);

    println!("\n{}", style.bold("First screen of a fresh clone"));
    let tool = bench.time(&["build", "--quiet", "-p", "xtask", "--bin", "workshop"])?;
    let first = bench.time(&["workshop"])?;
    println!(
        "  building the tool {:>8}\n  first `cargo workshop` {:>8}\n  {} {:>8}  (target: under 30 s)",
        human(tool),
        seconds(first),
        style.bold("first screen"),
        human(tool + first)
    );

    println!("\n{}", style.bold("Warm `cargo workshop`, nothing changed"));
    let warm = bench.median(options.runs, || bench.time(&["workshop"]))?;
    println!(
        "  {} {:>8}  (median of {}; target: under 0.5 s)",
        style.bold("warm status"),
        seconds(warm),
        options.runs
    );

    println!(
        "\n{}",
        style.bold(&format!("Edit to verdict: one line of {}", file.display()))
    );
    let original =
        std::fs::read(bench.root.join(&file)).context(|| format!("reading {}", file.display()))?;
    let mut edits = 0_usize;
    let mut edit = || -> Result<()> {
        edits += 1;
        let mut text = original.clone();
        text.extend(format!("// edit {edits}\n").as_bytes());
        std::fs::write(bench.root.join(&file), text)
            .context(|| format!("writing {}", file.display()))
    };
    edit()?;
    let cold = bench.time(&["workshop", "check"])?;
    println!(
        "  first check (builds Workshop 1 and what it needs) {:>8}",
        human(cold)
    );
    let package = catalogue.package();
    let library = bench.median(options.runs, || {
        edit()?;
        bench.time(&["build", "--quiet", "-p", &package])
    })?;
    let test_binary = bench.median(options.runs, || {
        edit()?;
        bench.time(&["build", "--quiet", "-p", &package])?;
        bench.time(&[
            "test",
            "--quiet",
            "--no-run",
            "-p",
            &package,
            "--test",
            TEST_TARGET,
        ])
    })?;
    let verdict_only = bench.median(options.runs, || bench.time(&["workshop", "check"]))?;
    let verdict = bench.median(options.runs, || {
        edit()?;
        bench.time(&["workshop", "check"])
    })?;
    std::fs::write(bench.root.join(&file), &original)
        .context(|| format!("writing {}", file.display()))?;
    println!(
        "  compiling {package}'s library {:>8}\n  compiling and linking its test binary {:>8}\n  \
         `cargo workshop check` with nothing to build {:>8}\n  {} {:>8}  (median of {}; \
         target: under 1.0 s)",
        seconds(library),
        seconds(test_binary),
        seconds(verdict_only),
        style.bold("edit to verdict"),
        seconds(verdict),
        options.runs
    );
    println!(
        "\n{} first screen {}, warm status {}, edit to verdict {}",
        style.bold("Summary:"),
        human(tool + first),
        seconds(warm),
        seconds(verdict)
    );
    Ok(())
}

/// The scratch copy and its target folder.
struct Bench {
    root: PathBuf,
    target: PathBuf,
}

impl Bench {
    /// How long `cargo ARGS` takes in the copy. Its output is not shown:
    /// a check of a stub fails, which is what is measured.
    fn time(&self, args: &[&str]) -> Result<Duration> {
        let started = Instant::now();
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(args)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("DWC_SEED")
            .env_remove("DWC_SEEDS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context(|| format!("running cargo {}", args.join(" ")))?;
        Ok(started.elapsed())
    }

    /// The median of `runs` measurements.
    fn median(
        &self,
        runs: usize,
        mut measure: impl FnMut() -> Result<Duration>,
    ) -> Result<Duration> {
        let mut times = (0..runs.max(1))
            .map(|_| measure())
            .collect::<Result<Vec<_>>>()?;
        times.sort();
        Ok(times[times.len() / 2])
    }
}

/// A short duration to the hundredth of a second.
fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn quiet(command: &mut Command) -> Result<()> {
    let status = command
        .stdout(Stdio::null())
        .status()
        .context(|| "running git (is it installed?)".to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Check(format!("{command:?} failed ({status})")))
    }
}
