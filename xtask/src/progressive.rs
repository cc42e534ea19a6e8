//! The progressive check: every exercise's tests fail on its stub and pass on
//! its solution, in order.
//!
//! For a workshop with exercises 1..n, and for every k from 0 to n, the check
//! puts the reference solutions of exercises 1..k in place, leaves the stubs
//! of k+1..n, builds in exercise mode and runs every test binary. It demands:
//!
//! - every test of exercises 1..k passes (a solution never depends on a later
//!   exercise);
//! - every test of exercises k+1..n fails (a test that passes on a stub checks
//!   nothing, or checks given code, and belongs elsewhere);
//! - every other test (observe tests, given code, unit tests) passes in every
//!   state;
//! - no test is ignored, and no test goes unreported.
//!
//! It works on a copy of the repository in the target folder, so the working
//! tree is never touched. The copy builds into a target folder of its own:
//! cargo names the artifacts of a path package the same wherever the package
//! lives, so a copy built into the main target folder would overwrite the main
//! build's artifacts, and each would then be taken for the other's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cargo::{Cargo, Outcome, TestRun};
use crate::catalogue::{Catalogue, TEST_TARGET};
use crate::error::{Context, Error, Result};
use crate::exercise_id::ExerciseId;
use crate::ui::{Style, human};
use crate::workspace::Workspace;

/// Runs the progressive check for each catalogue, printing one line per state.
///
/// # Errors
/// [`Error::Check`] listing every broken expectation, after all states ran.
pub fn check(workspace: &Workspace, catalogues: &[Catalogue], style: Style) -> Result<()> {
    let scratch = workspace.scratch("progressive");
    workspace.copy_to(&scratch)?;
    let cargo = Cargo::for_copy(&scratch, &workspace.scratch("progressive-target"));
    let mut problems = Vec::new();
    for catalogue in catalogues {
        for solved in 0..=catalogue.exercises.len() {
            let started = Instant::now();
            place_solutions(workspace, &scratch, catalogue, solved)?;
            let binaries = cargo.build_tests(&catalogue.package(), &[])?;
            let mut state_problems = Vec::new();
            for binary in &binaries {
                let run = binary.run(&[])?;
                if binary.target == TEST_TARGET {
                    state_problems.extend(judge_modules(catalogue, solved, &run));
                } else {
                    state_problems.extend(judge(catalogue, solved, &binary.target, &run));
                }
            }
            let label = match solved {
                0 => format!("{}: all stubs", catalogue.package()),
                k => format!(
                    "{}: solutions up to {}",
                    catalogue.package(),
                    catalogue.exercises[k - 1].id
                ),
            };
            let mark = if state_problems.is_empty() {
                style.pass()
            } else {
                style.fail()
            };
            println!(
                "  {mark} {label:<38} {}",
                style.dim(&format!(
                    "{} test binaries, {}",
                    binaries.len(),
                    human(started.elapsed())
                ))
            );
            problems.extend(state_problems);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(format!(
            "the progressive check found {} problem(s):\n\n{}",
            problems.len(),
            problems
                .iter()
                .map(Finding::to_string)
                .collect::<Vec<_>>()
                .join("\n\n")
        )))
    }
}

/// Writes the solutions of the first `solved` exercises and the stubs of the
/// rest into the copy at `scratch`, touching only files whose content changes
/// so cargo rebuilds as little as possible.
fn place_solutions(
    workspace: &Workspace,
    scratch: &Path,
    catalogue: &Catalogue,
    solved: usize,
) -> Result<()> {
    for (position, exercise) in catalogue.exercises.iter().enumerate() {
        let source = if position < solved {
            catalogue.solution_path(exercise)
        } else {
            catalogue.exercise_path(exercise)
        };
        let wanted = std::fs::read(workspace.root.join(&source))
            .context(|| format!("reading {}", source.display()))?;
        let destination = scratch.join(catalogue.exercise_path(exercise));
        if std::fs::read(&destination).ok().as_deref() != Some(wanted.as_slice()) {
            std::fs::write(&destination, wanted)
                .context(|| format!("writing {}", destination.display()))?;
        }
    }
    Ok(())
}

/// The broken expectations of the workshop's test binary in one state: its
/// tests are judged module by module, each module being one exercise's
/// tests or tests outside any exercise. An exercise whose module ran no
/// test, or whose `test_order` names a test that does not exist, is a
/// problem too.
fn judge_modules(catalogue: &Catalogue, solved: usize, run: &TestRun) -> Vec<Finding> {
    let mut modules: BTreeMap<&str, TestRun> = BTreeMap::new();
    for (name, outcome) in &run.outcomes {
        let module = name.split("::").next().unwrap_or(name);
        modules
            .entry(module)
            .or_insert_with(|| TestRun {
                outcomes: BTreeMap::new(),
                output: run.output.clone(),
                stopped_after: run.stopped_after,
            })
            .outcomes
            .insert(name.clone(), *outcome);
    }
    let mut problems = Vec::new();
    for exercise in &catalogue.exercises {
        let tests = modules.get(exercise.test.as_str());
        if tests.is_none() {
            problems.push(Finding::ModuleWithoutTests {
                package: catalogue.package(),
                exercise: exercise.id,
                module: exercise.test.clone(),
            });
        }
        for name in &exercise.test_order {
            let full = format!("{}::{name}", exercise.test);
            if !tests.is_some_and(|tests| tests.outcomes.contains_key(&full)) {
                problems.push(Finding::UnknownOrderedTest {
                    catalogue: catalogue.path.clone(),
                    exercise: exercise.id,
                    test: name.clone(),
                    module: exercise.test.clone(),
                });
            }
        }
    }
    if solved == 0 {
        problems.sort_by_key(Finding::to_string);
        problems.dedup();
    } else {
        // Reported once, with every exercise a stub.
        problems.clear();
    }
    for (module, part) in &modules {
        problems.extend(judge(catalogue, solved, module, part));
    }
    problems
}

/// The broken expectations of one test binary (or one module of the
/// workshop's test binary) in one state.
fn judge(catalogue: &Catalogue, solved: usize, target: &str, run: &TestRun) -> Vec<Finding> {
    let state = State {
        solved_up_to: solved
            .checked_sub(1)
            .map(|last| catalogue.exercises[last].id),
    };
    let exercise = catalogue
        .exercises
        .iter()
        .position(|exercise| exercise.test == target);
    let mut problems = Vec::new();
    if run.outcomes.is_empty() && exercise.is_some() {
        problems.push(Finding::TargetWithoutTests {
            package: catalogue.package(),
            target: target.to_string(),
        });
    }
    for (name, outcome) in &run.outcomes {
        let test = if name.starts_with(&format!("{target}::")) {
            format!("{}/{name}", catalogue.package())
        } else {
            format!("{}/{target}::{name}", catalogue.package())
        };
        let state = state.clone();
        let problem = match (exercise, outcome) {
            (_, Outcome::Ignored) => Some(Finding::Ignored { test, state }),
            (_, Outcome::Missing) => Some(Finding::NeverReported {
                test,
                state,
                output: tail(&run.output, 15),
            }),
            (Some(position), Outcome::Passed) if position >= solved => {
                Some(Finding::PassedOnStub {
                    test,
                    exercise: catalogue.exercises[position].id,
                    state,
                })
            }
            (Some(position), Outcome::Failed) if position < solved => {
                Some(Finding::FailedWhenSolved {
                    test,
                    exercise: catalogue.exercises[position].id,
                    state,
                    output: failure_of(&run.output, name),
                })
            }
            (None, Outcome::Failed) => Some(Finding::OutsideExerciseFailed {
                test,
                state,
                output: failure_of(&run.output, name),
            }),
            _ => None,
        };
        problems.extend(problem);
    }
    problems
}

/// A broken expectation of the progressive check. Each says what is wrong
/// and where; those about a test say in which state it was run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// An exercise's module in the workshop's test binary ran no test.
    ModuleWithoutTests {
        /// The workshop's package.
        package: String,
        /// The exercise's id.
        exercise: ExerciseId,
        /// The module its catalogue names.
        module: String,
    },
    /// An exercise's `test_order` names a test its module does not have.
    UnknownOrderedTest {
        /// The catalogue that says so.
        catalogue: PathBuf,
        /// The exercise's id.
        exercise: ExerciseId,
        /// The test named.
        test: String,
        /// The exercise's module.
        module: String,
    },
    /// An exercise's own test target ran no test.
    TargetWithoutTests {
        /// The workshop's package.
        package: String,
        /// The test target.
        target: String,
    },
    /// A test is ignored: every test runs in every state.
    Ignored {
        /// The test, `package/target::name`.
        test: String,
        /// The state it was run in.
        state: State,
    },
    /// A test never reported a result: its process stopped early.
    NeverReported {
        /// The test, `package/target::name`.
        test: String,
        /// The state it was run in.
        state: State,
        /// The end of the binary's output.
        output: String,
    },
    /// A test passed on its exercise's stub, so it does not check the
    /// exercise.
    PassedOnStub {
        /// The test, `package/target::name`.
        test: String,
        /// The exercise it belongs to.
        exercise: ExerciseId,
        /// The state it was run in.
        state: State,
    },
    /// A test failed although its exercise is solved.
    FailedWhenSolved {
        /// The test, `package/target::name`.
        test: String,
        /// The exercise it belongs to.
        exercise: ExerciseId,
        /// The state it was run in.
        state: State,
        /// What the test printed.
        output: String,
    },
    /// A test outside every exercise failed: such tests pass in every state.
    OutsideExerciseFailed {
        /// The test, `package/target::name`.
        test: String,
        /// The state it was run in.
        state: State,
        /// What the test printed.
        output: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::ModuleWithoutTests {
                package,
                exercise,
                module,
            } => write!(
                formatter,
                "{package}/{TEST_TARGET}: exercise {exercise}'s module {module} has no tests"
            ),
            Finding::UnknownOrderedTest {
                catalogue,
                exercise,
                test,
                module,
            } => write!(
                formatter,
                "{}: exercise {exercise}'s test_order names {test}, which is not a test of \
                 {module}",
                catalogue.display()
            ),
            Finding::TargetWithoutTests { package, target } => write!(
                formatter,
                "{package}/{target}: an exercise test target with no tests"
            ),
            Finding::Ignored { test, state } => write!(
                formatter,
                "{test} is ignored {state}; every test runs in every state"
            ),
            Finding::NeverReported {
                test,
                state,
                output,
            } => write!(
                formatter,
                "{test} never reported a result {state}; its process stopped early.\n{output}"
            ),
            Finding::PassedOnStub {
                test,
                exercise,
                state,
            } => write!(
                formatter,
                "{test} passed on the stub of exercise {exercise} {state}. A test that passes \
                 on a stub does not check the exercise."
            ),
            Finding::FailedWhenSolved {
                test,
                exercise,
                state,
                output,
            } => write!(
                formatter,
                "{test} failed {state}, although exercise {exercise} is solved.\n{output}"
            ),
            Finding::OutsideExerciseFailed {
                test,
                state,
                output,
            } => write!(
                formatter,
                "{test} is not an exercise test, so it must pass in every state, but it \
                 failed {state}.\n{output}"
            ),
        }
    }
}

/// Which exercises were solved when a test ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The last exercise whose solution was in place; `None` when every
    /// exercise was a stub.
    pub solved_up_to: Option<ExerciseId>,
}

impl fmt::Display for State {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.solved_up_to {
            None => formatter.write_str("with every exercise a stub"),
            Some(id) => write!(formatter, "with solutions up to {id} in place"),
        }
    }
}

/// The captured output of test `name` in libtest's failure report.
fn failure_of(output: &str, name: &str) -> String {
    let header = format!("---- {name} stdout ----");
    match output.split_once(&header) {
        Some((_, rest)) => {
            let section = rest.split("\n---- ").next().unwrap_or(rest);
            let section = section.split("\nfailures:").next().unwrap_or(section);
            indent(section.trim(), 25)
        }
        None => tail(output, 15),
    }
}

fn tail(output: &str, lines: usize) -> String {
    let all: Vec<&str> = output.lines().collect();
    indent(&all[all.len().saturating_sub(lines)..].join("\n"), lines)
}

fn indent(text: &str, max_lines: usize) -> String {
    text.lines()
        .take(max_lines)
        .map(|line| format!("    | {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Exercise;

    fn catalogue() -> Catalogue {
        let exercise = |n: u32| Exercise {
            id: ExerciseId::new(9, n),
            title: String::new(),
            file: format!("src/e{n}.rs"),
            test: format!("ex9_{n}"),
            minutes: 1,
            hints: vec![],
            stretch: false,
            test_order: Vec::new(),
            hang_cause: None,
        };
        Catalogue {
            workshop: 9,
            title: String::new(),
            sweep_seeds: None,
            exercises: vec![exercise(1), exercise(2)],
            demos: vec![],
            path: "exercises.toml".into(),
        }
    }

    fn run(outcomes: &[(&str, Outcome)]) -> TestRun {
        TestRun {
            outcomes: outcomes
                .iter()
                .map(|(name, outcome)| (name.to_string(), *outcome))
                .collect::<BTreeMap<_, _>>(),
            output: String::new(),
            stopped_after: None,
        }
    }

    #[test]
    fn a_test_passing_on_its_stub_is_a_problem() {
        let problems = judge(&catalogue(), 1, "ex9_2", &run(&[("t", Outcome::Passed)]));
        assert!(
            matches!(
                problems.as_slice(),
                [Finding::PassedOnStub { exercise, .. }] if exercise.to_string() == "9.2"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn a_solved_exercise_must_pass() {
        assert!(judge(&catalogue(), 1, "ex9_1", &run(&[("t", Outcome::Passed)])).is_empty());
        let problems = judge(&catalogue(), 2, "ex9_1", &run(&[("t", Outcome::Failed)]));
        assert!(
            matches!(
                problems.as_slice(),
                [Finding::FailedWhenSolved { exercise, .. }] if exercise.to_string() == "9.1"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn other_tests_must_pass_in_every_state() {
        let problems = judge(&catalogue(), 0, "observe", &run(&[("t", Outcome::Failed)]));
        assert!(
            matches!(problems.as_slice(), [Finding::OutsideExerciseFailed { .. }]),
            "{problems:?}"
        );
        assert!(judge(&catalogue(), 0, "observe", &run(&[("t", Outcome::Passed)])).is_empty());
    }

    #[test]
    fn the_workshop_binary_is_judged_module_by_module() {
        let outcomes = run(&[
            ("ex9_1::a", Outcome::Passed),
            ("ex9_2::b", Outcome::Failed),
            ("observe::c", Outcome::Passed),
        ]);
        assert!(judge_modules(&catalogue(), 1, &outcomes).is_empty());
        let problems = judge_modules(&catalogue(), 0, &outcomes);
        assert!(
            matches!(
                problems.as_slice(),
                [Finding::PassedOnStub { test, exercise, .. }]
                    if test == "workshop9/ex9_1::a" && exercise.to_string() == "9.1"
            ),
            "{problems:?}"
        );
        assert_eq!(
            problems[0].to_string(),
            "workshop9/ex9_1::a passed on the stub of exercise 9.1 with every exercise a stub. \
             A test that passes on a stub does not check the exercise."
        );
    }

    #[test]
    fn ignored_and_missing_tests_are_problems() {
        let problems = judge(
            &catalogue(),
            0,
            "observe",
            &run(&[("a", Outcome::Ignored), ("b", Outcome::Missing)]),
        );
        assert!(
            matches!(
                problems.as_slice(),
                [Finding::Ignored { .. }, Finding::NeverReported { .. }]
            ),
            "{problems:?}"
        );
    }
}
