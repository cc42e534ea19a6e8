//! A learner's progress, derived by running the tests.
//!
//! Progress is never stored: a state file goes stale when the repository is
//! pulled, an exercise is renamed or a file is reset by hand, and then it
//! lies. Instead, every look builds the workshops' tests in exercise mode
//! (incrementally, so it is quick after the first time), runs each
//! exercise's test binary, and calls an exercise done when every one of its
//! tests passes. The only state is the code itself.
//!
//! A binary that is still running after its time limit is stopped and
//! reported as a hang, so one infinite loop cannot freeze the tools.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use crate::cargo::{Cargo, TestBinary, TestRun};
use crate::catalogue::{Catalogue, Exercise};
use crate::coaching::{Failure, first_failure};
use crate::error::Result;
use crate::workspace::Workspace;

/// How long one exercise's tests may run before they count as hung. A
/// workshop's whole test run takes well under two seconds; a learner's
/// machine may be five times slower than CI's.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Where one exercise stands.
#[derive(Debug, Clone)]
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
        /// The first failure's message and replay command.
        first: Option<Failure>,
    },
    /// The tests were still running at the time limit and were stopped.
    Hung {
        /// The limit.
        after: Duration,
        /// The tests that had not finished, sorted.
        running: Vec<String>,
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
    /// How many tests check it (0 when not built).
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
    /// Whether its tests compiled.
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
}

/// Every workshop's progress.
#[derive(Debug, Clone)]
pub struct Progress {
    /// In workshop order.
    pub workshops: Vec<WorkshopProgress>,
}

/// Which exercises to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// All of them, for the status and to find the current one.
    All,
    /// Only this one (an id such as `1.3`); the others are left
    /// [`State::NotBuilt`].
    Only(&'a str),
}

impl Progress {
    /// Builds and runs the exercises' tests in `scope`, each binary under
    /// `limit`.
    ///
    /// # Errors
    /// When cargo or a test binary cannot be started.
    pub fn measure(
        workspace: &Workspace,
        catalogues: &[Catalogue],
        scope: Scope<'_>,
        limit: Duration,
    ) -> Result<Self> {
        let cargo = Cargo::new(&workspace.root);
        let mut workshops = Vec::new();
        for catalogue in catalogues {
            let wanted = |exercise: &Exercise| match scope {
                Scope::All => true,
                Scope::Only(id) => exercise.id == id,
            };
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
                        tests: 0,
                        state: State::NotBuilt,
                    })
                    .collect(),
                compiled: false,
            };
            let binaries = if catalogue.exercises.iter().any(wanted) {
                build_quietly(&cargo, &catalogue.package())
            } else {
                None
            };
            if let Some(binaries) = binaries {
                progress.compiled = true;
                for exercise in &mut progress.exercises {
                    let binary = binaries
                        .iter()
                        .find(|binary| binary.target == exercise.exercise.test);
                    if let Some(binary) = binary.filter(|_| wanted(&exercise.exercise)) {
                        let run = binary.run_within(&[], Some(limit))?;
                        exercise.tests = run.outcomes.len();
                        exercise.state = judge(&run);
                    }
                }
            }
            workshops.push(progress);
        }
        Ok(Self { workshops })
    }

    /// Every exercise, in order.
    pub fn exercises(&self) -> impl Iterator<Item = &ExerciseProgress> {
        self.workshops
            .iter()
            .flat_map(|workshop| workshop.exercises.iter())
    }

    /// The exercise with this id.
    pub fn exercise(&self, id: &str) -> Option<&ExerciseProgress> {
        self.exercises().find(|exercise| exercise.exercise.id == id)
    }

    /// The exercise to work on now: the first not done in the workshop the
    /// learner is in, which is the last workshop with anything done (or the
    /// one after it, if that one is complete). Workshops can be taught on
    /// different days, so an unfinished Workshop 1 does not hold back a
    /// learner who has started Workshop 2. `None` when everything is done.
    pub fn current(&self) -> Option<&ExerciseProgress> {
        let started = self
            .workshops
            .iter()
            .rposition(|workshop| workshop.done() > 0)
            .unwrap_or(0);
        self.workshops[started..]
            .iter()
            .chain(&self.workshops[..started])
            .flat_map(|workshop| workshop.exercises.iter())
            .find(|exercise| !exercise.is_done())
    }
}

/// Where an exercise stands after `run`.
fn judge(run: &TestRun) -> State {
    if let Some(after) = run.stopped_after {
        return State::Hung {
            after,
            running: run.missing().into_iter().map(str::to_string).collect(),
        };
    }
    if run.all_passed() {
        return State::Done;
    }
    let first = first_failure(run);
    if run.passed() == 0 && first.as_ref().is_some_and(Failure::is_unstarted_stub) {
        return State::NotStarted;
    }
    State::Failing {
        passed: run.passed(),
        total: run.outcomes.len(),
        first,
    }
}

/// Builds `package`'s tests in exercise mode; compiler errors go to the
/// terminal. If the build takes more than a moment (the first time, it
/// compiles every dependency), says so, so the silence is not mistaken for
/// a hang.
fn build_quietly(cargo: &Cargo, package: &str) -> Option<Vec<TestBinary>> {
    let (finished, wait) = mpsc::channel::<()>();
    let notice = package.to_string();
    let notifier = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_secs(2)) {
            eprintln!(
                "  building {notice}'s tests in exercise mode (the first time takes a minute or \
                 two) ..."
            );
        }
    });
    let built = cargo.build_tests(package, &[]).ok();
    drop(finished);
    let _ = notifier.join();
    built
}
