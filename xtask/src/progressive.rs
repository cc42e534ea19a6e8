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
use std::path::Path;
use std::time::Instant;

use crate::cargo::{Cargo, Outcome, TestRun};
use crate::catalogue::{Catalogue, TEST_TARGET};
use crate::error::{Context, Error, Result};
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
            problems.join("\n\n")
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
fn judge_modules(catalogue: &Catalogue, solved: usize, run: &TestRun) -> Vec<String> {
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
            problems.push(format!(
                "{}/{TEST_TARGET}: exercise {}'s module {} has no tests",
                catalogue.package(),
                exercise.id,
                exercise.test
            ));
        }
        for name in &exercise.test_order {
            let full = format!("{}::{name}", exercise.test);
            if !tests.is_some_and(|tests| tests.outcomes.contains_key(&full)) {
                problems.push(format!(
                    "{}: exercise {}'s test_order names {name}, which is not a test of {}",
                    catalogue.path.display(),
                    exercise.id,
                    exercise.test
                ));
            }
        }
    }
    if solved == 0 {
        problems.sort();
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
fn judge(catalogue: &Catalogue, solved: usize, target: &str, run: &TestRun) -> Vec<String> {
    let state = match solved {
        0 => "with every exercise a stub".to_string(),
        k => format!(
            "with solutions up to {} in place",
            catalogue.exercises[k - 1].id
        ),
    };
    let exercise = catalogue
        .exercises
        .iter()
        .position(|exercise| exercise.test == target);
    let mut problems = Vec::new();
    if run.outcomes.is_empty() && exercise.is_some() {
        problems.push(format!(
            "{}/{target}: an exercise test target with no tests",
            catalogue.package()
        ));
    }
    for (name, outcome) in &run.outcomes {
        let test = if name.starts_with(&format!("{target}::")) {
            format!("{}/{name}", catalogue.package())
        } else {
            format!("{}/{target}::{name}", catalogue.package())
        };
        let problem = match (exercise, outcome) {
            (_, Outcome::Ignored) => Some(format!(
                "{test} is ignored {state}; every test runs in every state"
            )),
            (_, Outcome::Missing) => Some(format!(
                "{test} never reported a result {state}; its process stopped early.\n{}",
                tail(&run.output, 15)
            )),
            (Some(position), Outcome::Passed) if position >= solved => Some(format!(
                "{test} passed on the stub of exercise {} {state}. A test that passes on a \
                 stub does not check the exercise.",
                catalogue.exercises[position].id
            )),
            (Some(position), Outcome::Failed) if position < solved => Some(format!(
                "{test} failed {state}, although exercise {} is solved.\n{}",
                catalogue.exercises[position].id,
                failure_of(&run.output, name)
            )),
            (None, Outcome::Failed) => Some(format!(
                "{test} is not an exercise test, so it must pass in every state, but it \
                 failed {state}.\n{}",
                failure_of(&run.output, name)
            )),
            _ => None,
        };
        problems.extend(problem);
    }
    problems
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
            id: format!("9.{n}"),
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
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("passed on the stub of exercise 9.2"));
    }

    #[test]
    fn a_solved_exercise_must_pass() {
        assert!(judge(&catalogue(), 1, "ex9_1", &run(&[("t", Outcome::Passed)])).is_empty());
        assert_eq!(
            judge(&catalogue(), 2, "ex9_1", &run(&[("t", Outcome::Failed)])).len(),
            1
        );
    }

    #[test]
    fn other_tests_must_pass_in_every_state() {
        assert_eq!(
            judge(&catalogue(), 0, "observe", &run(&[("t", Outcome::Failed)])).len(),
            1
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
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("workshop9/ex9_1::a passed on the stub of exercise 9.1"));
    }

    #[test]
    fn ignored_and_missing_tests_are_problems() {
        let problems = judge(
            &catalogue(),
            0,
            "observe",
            &run(&[("a", Outcome::Ignored), ("b", Outcome::Missing)]),
        );
        assert_eq!(problems.len(), 2);
    }
}
