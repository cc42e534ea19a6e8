//! A learner's progress, derived from the code and its tests.
//!
//! Progress is never stored: a state file goes stale when the repository is
//! pulled, an exercise is renamed or a file is reset by hand, and then it
//! lies. Instead every look derives it, doing no more work than the code's
//! changes call for:
//!
//! - an exercise file that is still its stub is not started, without
//!   building anything ([`crate::stubs`]);
//! - a workshop whose inputs (its crate, `core`, the manifests, the lock
//!   file) are byte for byte what they were at its last run gets that run's
//!   verdicts back from `target/workshop/verdicts/` ([`crate::verdicts`]);
//! - anything else is built in exercise mode (one test binary per
//!   workshop) and each exercise's tests are run, under a time limit.
//!
//! The saved verdicts are a cache, not state: they are only used when
//! nothing that could change them has changed, and losing them costs one
//! build.
//!
//! A binary that is still running after its time limit is stopped and
//! reported as a hang, so one infinite loop cannot freeze the tools.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cargo::{Artifact, Cargo, TestBinary, TestRun};
use crate::catalogue::{Catalogue, Exercise, TEST_TARGET};
use crate::coaching::{Failure, first_failure_in_order};
use crate::error::Result;
use crate::exercise_id::ExerciseId;
use crate::stubs::Stubs;
use crate::verdicts::Verdicts;
use crate::workspace::Workspace;

/// How long one exercise's tests may run before they count as hung. A
/// workshop's whole test run takes well under two seconds; a learner's
/// machine may be five times slower than CI's.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The simulation's variable for a shorter real-time watchdog
/// (`coordination::sim`'s `WATCHDOG_VARIABLE`).
const WATCHDOG_VARIABLE: &str = "DWC_WATCHDOG_SECONDS";

/// What the simulation's watchdog writes first when it stops a test process.
const WATCHDOG_MARK: &str = "probable livelock in ";

/// The watchdog's limit for a run stopped after `limit`: a third of it, so
/// the watchdog, which names the test and the kinds of fault, speaks well
/// before the run is stopped without a word.
fn watchdog_limit(limit: Duration) -> Duration {
    Duration::from_secs((limit.as_secs() / 3).max(1))
}

/// `running`, with the test the watchdog named first: it is the one that
/// hung, and the one a learner should run alone.
fn watchdog_first(
    mut running: Vec<String>,
    explanation: Option<&str>,
    short: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let named = explanation
        .and_then(|text| text.strip_prefix(WATCHDOG_MARK))
        .and_then(|text| text.split_once(": "))
        .map(|(test, _)| short(test));
    if let Some(test) = named {
        running.retain(|other| *other != test);
        running.insert(0, test);
    }
    running
}

/// The simulation watchdog's explanation, when it stopped the run.
fn watchdog_explanation(output: &str) -> Option<String> {
    let start = output.find(WATCHDOG_MARK)?;
    let text = &output[start..];
    let end = text.find("\nStopping the test").unwrap_or(text.len());
    Some(text[..end].trim().to_string())
}

/// Where one exercise stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// Every test passes.
    Done,
    /// The exercise is still its stub: its tests stop at the `todo!()`.
    NotStarted,
    /// Some tests fail; `first` is what the first failure says.
    Failing {
        /// Tests that pass.
        passed: usize,
        /// Tests in all.
        total: usize,
        /// The first failure, in the exercise's test order.
        first: Option<Failure>,
    },
    /// The tests were still running at the time limit and were stopped.
    Hung {
        /// The limit.
        after: Duration,
        /// The tests that had started and not finished, in name order.
        running: Vec<String>,
        /// What the simulation's watchdog said when it stopped the run
        /// first: the test, and the kinds of fault that hang it.
        #[serde(default)]
        explanation: Option<String>,
    },
    /// The workshop does not compile, so its tests could not run.
    NotBuilt,
}

/// One exercise and where it stands.
#[derive(Debug, Clone)]
pub struct ExerciseProgress {
    /// The workshop's number.
    pub workshop: u32,
    /// The exercise, from the catalogue.
    pub exercise: Exercise,
    /// The file to edit, relative to the repository root.
    pub file: PathBuf,
    /// The reference solution, relative to the repository root.
    pub solution: PathBuf,
    /// How many tests check it.
    pub tests: usize,
    /// Where it stands.
    pub state: State,
}

impl ExerciseProgress {
    /// Whether every test passes.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

/// One workshop's exercises.
#[derive(Debug, Clone)]
pub struct WorkshopProgress {
    /// The catalogue.
    pub catalogue: Catalogue,
    /// Its exercises, in order.
    pub exercises: Vec<ExerciseProgress>,
    /// Whether its tests compiled (or nothing needed building).
    pub compiled: bool,
}

impl WorkshopProgress {
    /// How many exercises are done.
    pub fn done(&self) -> usize {
        self.exercises
            .iter()
            .filter(|exercise| exercise.is_done())
            .count()
    }

    /// Whether every exercise is done.
    pub fn is_complete(&self) -> bool {
        self.done() == self.exercises.len()
    }
}

/// Every workshop's progress.
#[derive(Debug, Clone)]
pub struct Progress {
    /// In workshop order.
    pub workshops: Vec<WorkshopProgress>,
    /// The workshop the learner is in ([`current_workshop`]).
    pub current_workshop: u32,
}

/// Which exercises to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// All of them, for the status.
    All,
    /// The exercises of one workshop; the others are left
    /// [`State::NotBuilt`].
    Workshop(u32),
    /// Only this one.
    Only(ExerciseId),
}

impl Progress {
    /// Finds where the exercises in `scope` stand, building and running only
    /// what may have changed, the current workshop first.
    ///
    /// # Errors
    /// When cargo or a test binary cannot be started.
    pub fn measure(
        workspace: &Workspace,
        catalogues: &[Catalogue],
        scope: Scope,
        limit: Duration,
    ) -> Result<Self> {
        let stubs = Stubs::find(workspace, catalogues);
        let current = current_workshop(workspace, catalogues, &stubs);
        let measurer = Measurer {
            workspace,
            cargo: Cargo::new(&workspace.root),
            stubs,
            limit,
        };
        let mut order: Vec<&Catalogue> = catalogues.iter().collect();
        order.sort_by_key(|catalogue| (catalogue.workshop != current, catalogue.workshop));
        let mut workshops = Vec::new();
        for catalogue in order {
            let wanted = |exercise: &Exercise| match scope {
                Scope::All => true,
                Scope::Workshop(number) => catalogue.workshop == number,
                Scope::Only(id) => exercise.id == id,
            };
            workshops.push(measurer.workshop(catalogue, &wanted)?);
        }
        workshops.sort_by_key(|workshop| workshop.catalogue.workshop);
        Ok(Self {
            workshops,
            current_workshop: current,
        })
    }

    /// Every exercise, in order.
    pub fn exercises(&self) -> impl Iterator<Item = &ExerciseProgress> {
        self.workshops
            .iter()
            .flat_map(|workshop| workshop.exercises.iter())
    }

    /// The exercise with this id.
    pub fn exercise(&self, id: ExerciseId) -> Option<&ExerciseProgress> {
        self.exercises().find(|exercise| exercise.exercise.id == id)
    }

    /// The workshop with this number.
    pub fn workshop(&self, number: u32) -> Option<&WorkshopProgress> {
        self.workshops
            .iter()
            .find(|workshop| workshop.catalogue.workshop == number)
    }

    /// The exercise to work on now: the first not done in the current
    /// workshop, then in the workshops after it, then before it. Workshops
    /// can be taught on different days, so an unfinished Workshop 1 does not
    /// hold back a learner who is in Workshop 3. `None` when everything
    /// measured is done.
    pub fn current(&self) -> Option<&ExerciseProgress> {
        let position = self
            .workshops
            .iter()
            .position(|workshop| workshop.catalogue.workshop == self.current_workshop)
            .unwrap_or(0);
        self.workshops[position..]
            .iter()
            .chain(&self.workshops[..position])
            .flat_map(|workshop| workshop.exercises.iter())
            .find(|exercise| !exercise.is_done())
    }
}

/// The workshop the learner is in: the one chosen with `cargo workshop
/// start N`, else the last one with an exercise file that is not its stub,
/// else the first.
pub fn current_workshop(workspace: &Workspace, catalogues: &[Catalogue], stubs: &Stubs) -> u32 {
    let numbers: Vec<u32> = catalogues
        .iter()
        .map(|catalogue| catalogue.workshop)
        .collect();
    if let Some(chosen) = chosen_workshop(workspace).filter(|number| numbers.contains(number)) {
        return chosen;
    }
    catalogues
        .iter()
        .rev()
        .find(|catalogue| stubs.any_changed(catalogue))
        .or(catalogues.first())
        .map_or(1, |catalogue| catalogue.workshop)
}

/// Where `cargo workshop start N` keeps its choice: under the target folder,
/// so no pull or checkout can conflict with it, and losing it only means
/// the workshop is derived from the files again.
fn chosen_file(workspace: &Workspace) -> PathBuf {
    workspace
        .target_dir()
        .join("workshop")
        .join("current-workshop")
}

/// The workshop chosen with `cargo workshop start`, if any.
pub fn chosen_workshop(workspace: &Workspace) -> Option<u32> {
    std::fs::read_to_string(chosen_file(workspace))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Makes workshop `number` the current one.
///
/// # Errors
/// When the choice cannot be written.
pub fn choose_workshop(workspace: &Workspace, number: u32) -> Result<()> {
    use crate::error::Context;
    let file = chosen_file(workspace);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&file, format!("{number}\n")).context(|| format!("writing {}", file.display()))
}

/// What the measuring of every workshop shares.
struct Measurer<'a> {
    workspace: &'a Workspace,
    cargo: Cargo,
    stubs: Stubs,
    limit: Duration,
}

impl Measurer<'_> {
    /// The exercises of `catalogue` for which `wanted` holds, measured; the
    /// others are left [`State::NotBuilt`].
    fn workshop(
        &self,
        catalogue: &Catalogue,
        wanted: &dyn Fn(&Exercise) -> bool,
    ) -> Result<WorkshopProgress> {
        let mut progress = WorkshopProgress {
            catalogue: catalogue.clone(),
            exercises: catalogue
                .exercises
                .iter()
                .map(|exercise| ExerciseProgress {
                    workshop: catalogue.workshop,
                    exercise: exercise.clone(),
                    file: catalogue.exercise_path(exercise),
                    solution: catalogue.solution_path(exercise),
                    tests: count_tests(self.workspace, catalogue, exercise),
                    state: State::NotBuilt,
                })
                .collect(),
            compiled: true,
        };
        let mut to_run = Vec::new();
        for exercise in &mut progress.exercises {
            if !wanted(&exercise.exercise) {
                continue;
            }
            if self.stubs.is_stub(exercise.exercise.id) == Some(true) {
                exercise.state = State::NotStarted;
            } else {
                to_run.push(exercise);
            }
        }
        if to_run.is_empty() {
            return Ok(progress);
        }
        let verdicts = Verdicts::open(self.workspace, catalogue, self.limit);
        let mut saved = verdicts.load();
        if to_run
            .iter()
            .all(|exercise| saved.contains_key(&exercise.exercise.id))
        {
            for exercise in to_run {
                if let Some((tests, state)) = saved.remove(&exercise.exercise.id) {
                    exercise.tests = tests;
                    exercise.state = state;
                }
            }
            return Ok(progress);
        }
        let Some(binary) = self.build(catalogue) else {
            progress.compiled = false;
            return Ok(progress);
        };
        for exercise in to_run {
            let module = format!("{}::", exercise.exercise.test);
            let watchdog = watchdog_limit(self.limit);
            let run = binary.run_selected(
                &[(WATCHDOG_VARIABLE, &watchdog.as_secs().to_string())],
                Some(&module),
                Some(self.limit),
            )?;
            exercise.tests = run.outcomes.len();
            let order = test_order(self.workspace, catalogue, &exercise.exercise);
            exercise.state = judge(&run, &exercise.exercise, &order, watchdog);
            saved.insert(
                exercise.exercise.id,
                (exercise.tests, exercise.state.clone()),
            );
        }
        verdicts.save(&saved);
        Ok(progress)
    }

    /// Builds `catalogue`'s test binary in exercise mode; compiler errors go
    /// to the terminal. A build that takes more than a moment shows what it
    /// is doing, so the silence is not mistaken for a hang.
    fn build(&self, catalogue: &Catalogue) -> Option<TestBinary> {
        let package = catalogue.package();
        let mut shown = BuildProgress::new(&package, crates_to_build(self.workspace, &package));
        let built = self
            .cargo
            .build_test_target(&package, TEST_TARGET, &mut |artifact| {
                shown.finished(artifact);
            });
        shown.end();
        built.ok()
    }
}

/// How many tests the module of `exercise` declares, read from its file:
/// known without building, for the welcome and for exercises not started.
fn count_tests(workspace: &Workspace, catalogue: &Catalogue, exercise: &Exercise) -> usize {
    std::fs::read_to_string(workspace.root.join(catalogue.test_path(exercise)))
        .map(|text| declared_tests(&text).len())
        .unwrap_or(0)
}

/// The order in which `exercise`'s failures are reported: its catalogue's
/// `test_order` when it has one, else the order its test file declares the
/// tests in, which is the order they are meant to be read in, simplest
/// rule first.
fn test_order(workspace: &Workspace, catalogue: &Catalogue, exercise: &Exercise) -> Vec<String> {
    if !exercise.test_order.is_empty() {
        return exercise.test_order.clone();
    }
    std::fs::read_to_string(workspace.root.join(catalogue.test_path(exercise)))
        .map(|text| declared_tests(&text))
        .unwrap_or_default()
}

/// The names of the test functions in `text`, in the order declared: each
/// `fn` after a `#[test]` or `#[tokio::test]` attribute.
fn declared_tests(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut attribute_seen = false;
    for line in text.lines().map(str::trim_start) {
        if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
            attribute_seen = true;
        } else if attribute_seen
            && let Some(rest) = line
                .strip_prefix("async fn ")
                .or_else(|| line.strip_prefix("fn "))
        {
            let name: String = rest
                .chars()
                .take_while(|character| character.is_alphanumeric() || *character == '_')
                .collect();
            names.push(name);
            attribute_seen = false;
        }
    }
    names
}

/// Where an exercise stands after `run`, the run of its module's tests,
/// reporting the first failure in `order`; `watchdog` is the simulation
/// watchdog's limit, the time a run it stopped took.
fn judge(run: &TestRun, exercise: &Exercise, order: &[String], watchdog: Duration) -> State {
    let prefix = format!("{}::", exercise.test);
    let short = |name: &str| name.strip_prefix(&prefix).unwrap_or(name).to_string();
    let explanation = watchdog_explanation(&run.output);
    if run.stopped_after.is_some() || explanation.is_some() {
        return State::Hung {
            after: run.stopped_after.unwrap_or(watchdog),
            running: watchdog_first(
                run.unfinished().into_iter().map(short).collect(),
                explanation.as_deref(),
                &short,
            ),
            explanation,
        };
    }
    if run.all_passed() {
        return State::Done;
    }
    let first = first_failure_in_order(run, &prefix, order).map(|mut failure| {
        failure.test = short(&failure.test);
        failure
    });
    if run.passed() == 0 && first.as_ref().is_some_and(Failure::is_unstarted_stub) {
        return State::NotStarted;
    }
    State::Failing {
        passed: run.passed(),
        total: run.outcomes.len(),
        first,
    }
}

/// About how many crates a cold build of `package`'s tests compiles: the
/// packages it reaches in `Cargo.lock`. The lock file lists every platform's
/// dependencies, so this errs high; it is only for "12 of about 40".
fn crates_to_build(workspace: &Workspace, package: &str) -> Option<usize> {
    let text = std::fs::read_to_string(workspace.root.join("Cargo.lock")).ok()?;
    let lock: toml::Table = toml::from_str(&text).ok()?;
    let packages = lock.get("package")?.as_array()?;
    let dependencies = |name: &str| -> Vec<String> {
        packages
            .iter()
            .filter(|entry| entry.get("name").and_then(|value| value.as_str()) == Some(name))
            .flat_map(|entry| {
                entry
                    .get("dependencies")
                    .and_then(|value| value.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|dependency| dependency.as_str())
                    .filter_map(|dependency| dependency.split(' ').next())
                    .map(str::to_string)
            })
            .collect()
    };
    let mut reached = std::collections::BTreeSet::new();
    let mut waiting = vec![package.to_string()];
    while let Some(name) = waiting.pop() {
        if reached.insert(name.clone()) {
            waiting.extend(dependencies(&name));
        }
    }
    Some(reached.len())
}

/// What a long build prints while it runs: nothing for the first two
/// seconds (a warm build is over by then), then the crates compiled so far,
/// on one line updated in place on a terminal. "The first build compiles
/// the dependencies" is said only when dependencies are being compiled.
struct BuildProgress {
    package: String,
    estimate: Option<usize>,
    started: Instant,
    compiled: usize,
    dependencies: usize,
    current: String,
    terminal: bool,
    announced: bool,
    drawn: bool,
}

/// How long a build runs silently before it shows its progress.
const QUIET_BUILD: Duration = Duration::from_secs(2);

impl BuildProgress {
    fn new(package: &str, estimate: Option<usize>) -> Self {
        Self {
            package: package.to_string(),
            estimate,
            started: Instant::now(),
            compiled: 0,
            dependencies: 0,
            current: String::new(),
            terminal: std::io::stderr().is_terminal(),
            announced: false,
            drawn: false,
        }
    }

    fn finished(&mut self, artifact: &Artifact) {
        if artifact.fresh {
            return;
        }
        self.compiled += 1;
        let own = artifact.name == self.package
            || artifact.name == TEST_TARGET
            || artifact.name == "coordination";
        if !own {
            self.dependencies += 1;
        }
        self.current.clone_from(&artifact.name);
        if self.started.elapsed() < QUIET_BUILD {
            return;
        }
        let mut stderr = std::io::stderr();
        if !self.announced {
            self.announced = true;
            let why = if self.dependencies > 0 {
                " (the first build compiles the dependencies: a minute or two)"
            } else {
                ""
            };
            let _ = writeln!(
                stderr,
                "  building {}'s tests in exercise mode{why} ...",
                self.package
            );
        }
        if self.terminal {
            let total = self
                .estimate
                .filter(|estimate| *estimate >= self.compiled)
                .map(|estimate| format!(" of about {estimate}"))
                .unwrap_or_default();
            let _ = write!(
                stderr,
                "\r\x1b[K  {} crates{total} compiled, {:.0} s: {}",
                self.compiled,
                self.started.elapsed().as_secs_f64(),
                self.current
            );
            let _ = stderr.flush();
            self.drawn = true;
        }
    }

    fn end(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
        if self.announced {
            let _ = writeln!(
                std::io::stderr(),
                "  built in {:.0} s.",
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdogs_words_are_kept_and_its_test_is_named_first() {
        let output = "running 2 tests\n\nprobable livelock in ex1_6::b_hangs: no result after \
                      3s of real time. Two locks taken in different orders.\nStopping the \
                      test process.\n";
        let explanation = watchdog_explanation(output);
        assert_eq!(
            explanation.as_deref(),
            Some(
                "probable livelock in ex1_6::b_hangs: no result after 3s of real time. Two \
                 locks taken in different orders."
            ),
            "the explanation runs from the mark to the line that stops the process"
        );
        let short = |name: &str| name.strip_prefix("ex1_6::").unwrap_or(name).to_string();
        assert_eq!(
            watchdog_first(
                vec!["a_other".into(), "b_hangs".into()],
                explanation.as_deref(),
                &short
            ),
            ["b_hangs", "a_other"],
            "the test the watchdog named comes first, to be run alone"
        );
        assert_eq!(
            watchdog_explanation("test ok\n"),
            None,
            "no mark, no explanation"
        );
        assert_eq!(
            watchdog_limit(Duration::from_secs(10)),
            Duration::from_secs(3),
            "the watchdog speaks well before the run is stopped"
        );
    }

    #[test]
    fn tests_are_read_in_the_order_their_file_declares_them() {
        let text = "fn helper() {}\n#[test]\nfn b_second() {}\n\
                    #[tokio::test(start_paused = true)]\nasync fn a_third() {}\n\
                    /// Docs.\n#[test]\n#[should_panic]\nfn c_fourth() {}\n";
        assert_eq!(declared_tests(text), ["b_second", "a_third", "c_fourth"]);
    }

    #[test]
    fn a_workshop_build_reaches_its_dependencies_in_the_lock_file() {
        let workspace = Workspace::locate().expect("the repository is here");
        let crates = crates_to_build(&workspace, "workshop1").expect("Cargo.lock is readable");
        assert!(
            crates > 5,
            "workshop1 reaches tokio, rand and more: {crates}"
        );
    }
}
