//! The test counts the documentation promises, checked against the tests.
//!
//! ## The problem
//!
//! An instructor's script says "Expected: `6 passed`" and a learner's
//! README says "`✓ 3.1 …: 10 of 10 tests pass`". A test added to an
//! exercise later makes both wrong, and nothing fails: the room sees 7 or
//! 12 and wonders what it missed.
//!
//! ## The design
//!
//! [`claims`] reads two kinds of promise from a Markdown text:
//!
//! - a `cargo test -p PACKAGE --test TARGET FILTER` command followed, before
//!   the next such command, by "`N passed`";
//! - an exercise's status line, "`X.Y Title: P of N tests pass`".
//!
//! [`check`] lists the tests of each workshop's test binary in solution
//! mode, counts the ones each promise is about (the names containing the
//! filter, as libtest selects them, or the exercise's module), and fails
//! naming every promise the count no longer keeps. It reads each
//! workshop's `README.md` and `INSTRUCTOR.md`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cargo::Cargo;
use crate::catalogue::{Catalogue, TEST_TARGET};
use crate::error::{Context, Error, Result};
use crate::exercise_id::ExerciseId;

/// How far after a command its "N passed" may stand, in bytes.
const WINDOW: usize = 600;

/// A number of tests a document promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The line it stands on, from 1.
    pub line: usize,
    /// Which tests it counts.
    pub subject: Subject,
    /// How many it says there are.
    pub count: usize,
}

/// Which tests a [`Claim`] counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The tests a `cargo test` command runs.
    Command {
        /// `-p`.
        package: String,
        /// `--test`.
        target: String,
        /// The name filter; every test when `None`.
        filter: Option<String>,
    },
    /// Every test of one exercise.
    Exercise(ExerciseId),
}

/// The promises in `text`, in order.
#[must_use]
pub fn claims(text: &str) -> Vec<Claim> {
    let mut found = Vec::new();
    let starts: Vec<usize> = text
        .match_indices("cargo test ")
        .map(|(at, _)| at)
        .collect();
    for (number, &start) in starts.iter().enumerate() {
        let inline = text[..start].ends_with('`');
        let rest = &text[start..];
        let end = if inline {
            rest.find('`')
        } else {
            rest.find('\n')
        }
        .unwrap_or(rest.len());
        let Some(subject) = command_subject(&rest[..end]) else {
            continue;
        };
        let after = start + end;
        let limit = starts
            .get(number + 1)
            .copied()
            .unwrap_or(text.len())
            .min(after + WINDOW);
        if let Some((at, count)) = first_passed(&text[after..limit]) {
            found.push(Claim {
                line: line_of(text, after + at),
                subject,
                count,
            });
        }
    }
    for (index, line) in text.lines().enumerate() {
        if let Some((id, count)) = status_line(line) {
            found.push(Claim {
                line: index + 1,
                subject: Subject::Exercise(id),
                count,
            });
        }
    }
    found.sort_by_key(|claim| claim.line);
    found
}

/// The tests `command` (`cargo test …`, whitespace and line breaks alike)
/// runs, when it names a package and a test target.
fn command_subject(command: &str) -> Option<Subject> {
    let mut words = command.split_whitespace().skip(2);
    let (mut package, mut target, mut filter) = (None, None, None);
    while let Some(word) = words.next() {
        match word {
            "-p" | "--package" => package = words.next(),
            "--test" => target = words.next(),
            "--features" => {
                words.next();
            }
            "--" => break,
            flag if flag.starts_with('-') => {}
            name => filter = Some(name),
        }
    }
    Some(Subject::Command {
        package: package?.to_string(),
        target: target?.to_string(),
        filter: filter.map(str::to_string),
    })
}

/// The first "N passed" in `text`: where it stands and N.
fn first_passed(text: &str) -> Option<(usize, usize)> {
    text.match_indices(" passed").find_map(|(at, _)| {
        let before = &text[..at];
        let digits = before
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .filter(|digits| !digits.is_empty())?;
        Some((at, digits.parse().ok()?))
    })
}

/// An exercise's status line, "X.Y Title: P of N tests pass": the id and N.
fn status_line(line: &str) -> Option<(ExerciseId, usize)> {
    let (head, _) = line.split_once(" tests pass")?;
    let (head, total) = head.rsplit_once(" of ")?;
    let total = total.trim().parse().ok()?;
    let (head, _) = head.rsplit_once(':')?;
    let id = head
        .split(|c: char| c.is_whitespace() || c == '`')
        .find_map(|word| word.parse::<ExerciseId>().ok())?;
    Some((id, total))
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Checks every promise in each workshop's `README.md` and `INSTRUCTOR.md`
/// against the tests its test binary lists in solution mode.
///
/// # Errors
/// [`Error::Check`] naming each promise that is wrong; any failure to read
/// a document or build and list the tests.
pub fn check(root: &Path, cargo: &Cargo, catalogues: &[Catalogue]) -> Result<()> {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for catalogue in catalogues {
        let package = catalogue.package();
        let listed = list_tests(cargo, &package)?;
        for document in ["README.md", "INSTRUCTOR.md"] {
            let path = root.join(&package).join(document);
            let text =
                std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
            for claim in claims(&text) {
                let actual = match &claim.subject {
                    Subject::Command {
                        package: named,
                        target,
                        filter,
                    } => {
                        if *named != package {
                            continue;
                        }
                        let Some(names) = listed.get(target) else {
                            wrong.push(format!(
                                "{package}/{document}:{}: {package} has no test target {target:?}",
                                claim.line
                            ));
                            continue;
                        };
                        names
                            .iter()
                            .filter(|name| filter.as_ref().is_none_or(|f| name.contains(f)))
                            .count()
                    }
                    Subject::Exercise(id) => {
                        let Some(exercise) = catalogue.exercise(*id) else {
                            continue;
                        };
                        let prefix = format!("{}::", exercise.test);
                        listed.get(TEST_TARGET).map_or(0, |names| {
                            names
                                .iter()
                                .filter(|name| name.starts_with(&prefix))
                                .count()
                        })
                    }
                };
                checked += 1;
                if actual != claim.count {
                    wrong.push(format!(
                        "{package}/{document}:{}: says {} tests, and there are {actual}",
                        claim.line, claim.count
                    ));
                }
            }
        }
    }
    if wrong.is_empty() {
        println!("    {checked} test counts in the workshops' documents are right");
        Ok(())
    } else {
        Err(Error::Check(format!(
            "test counts the documents promise are out of date:\n  {}",
            wrong.join("\n  ")
        )))
    }
}

/// The names of every test in each test binary of `package` in solution
/// mode, by target.
fn list_tests(cargo: &Cargo, package: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let mut listed = BTreeMap::new();
    for binary in cargo.build_tests(package, &["solution"])? {
        let names = binary.list()?;
        listed.insert(binary.target, names);
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_and_its_count_make_a_claim_across_line_breaks() {
        let text = "Done is `cargo test -p workshop4 --test workshop\nex4_2_replication`, 7 \
                    passed.\n\n```text\ncargo test -p workshop2 --test workshop ex2_3\ncargo \
                    run -p workshop2 --example distribute\n```\n\nExpected: `10 passed`.\n";
        let found = claims(text);
        assert_eq!(
            found,
            vec![
                Claim {
                    line: 2,
                    subject: Subject::Command {
                        package: "workshop4".into(),
                        target: "workshop".into(),
                        filter: Some("ex4_2_replication".into()),
                    },
                    count: 7,
                },
                Claim {
                    line: 9,
                    subject: Subject::Command {
                        package: "workshop2".into(),
                        target: "workshop".into(),
                        filter: Some("ex2_3".into()),
                    },
                    count: 10,
                },
            ],
            "each command's count is the first \"N passed\" after it"
        );
    }

    #[test]
    fn a_count_belongs_to_the_command_just_before_it_only() {
        let text = "`cargo test -p workshop1 --test workshop ex1_1` runs.\n`cargo test -p \
                    workshop1 --test workshop ex1_2`: 3 passed\n";
        let found = claims(text);
        assert_eq!(found.len(), 1, "one count, one claim: {found:?}");
        assert!(
            matches!(&found[0].subject, Subject::Command { filter: Some(f), .. } if f == "ex1_2"),
            "the count follows the second command: {found:?}"
        );
    }

    #[test]
    fn a_status_line_claims_its_exercises_total() {
        let found = claims("✗ 3.1 Acquire and renew a lease: 9 of 10 tests pass (x.rs).\n");
        assert_eq!(
            found,
            vec![Claim {
                line: 1,
                subject: Subject::Exercise(ExerciseId::new(3, 1)),
                count: 10,
            }],
            "the total after \"of\" is the claim, not the tests passing"
        );
        assert!(
            claims("Run `cargo workshop check`: `0 of 3 tests pass`\n").is_empty(),
            "a status without an exercise id claims nothing it can be checked against"
        );
    }
}
