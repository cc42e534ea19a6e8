//! A workshop's exercise catalogue, `exercises.toml`.
//!
//! The catalogue is the single list of a workshop's exercises, in order. The
//! integrity check and the learner tools both read it, so a renamed file or a
//! reordered exercise is a one-line change here. Loading checks it against the
//! files on disk, so a typo is reported by name instead of as a puzzling test
//! failure. The maintainers' check goes further ([`Catalogue::verify`]): a
//! learner's tree legitimately breaks those rules (a solved exercise is
//! identical to its solution; a learner may add an example of their own).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Context, Error, Result};
use crate::exercise_id::{self, ExerciseId};

/// One workshop's exercises.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The workshop's number: 1 for `workshop1`.
    pub workshop: u32,
    /// Its title.
    pub title: String,
    /// The fewest seeds the maintainers' sweep runs this workshop's tests
    /// over, for a workshop whose README claims its properties hold over a
    /// wider sweep than the default. Learners' runs are not affected.
    #[serde(default)]
    pub sweep_seeds: Option<u32>,
    /// Its exercises, in the order they are done.
    #[serde(rename = "exercise")]
    pub exercises: Vec<Exercise>,
    /// Its demos (the crate's examples).
    #[serde(rename = "demo", default)]
    pub demos: Vec<Demo>,
    /// Where the catalogue was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One exercise.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// `1.3`: workshop, dot, position.
    pub id: ExerciseId,
    /// What it is about.
    pub title: String,
    /// The file a learner edits, relative to the workshop crate.
    pub file: String,
    /// The test module that checks it: a file in `tests/`, declared in
    /// the workshop's one test binary, `tests/workshop.rs` (see
    /// [`TEST_TARGET`]).
    pub test: String,
    /// How long it takes in a room.
    pub minutes: u32,
    /// Hints, gentle to explicit.
    pub hints: Vec<String>,
    /// Whether it is optional for a 90-minute session.
    #[serde(default)]
    pub stretch: bool,
    /// Its tests (names within its module) in the order a learner meets
    /// them, simplest rule first: `check` reports the first failing one in
    /// this order, so a wrong exponent shows the test about the exponent,
    /// not a later test that fails because of it. Tests not listed come
    /// after, in name order. Without a list, the order the test file
    /// declares them in.
    #[serde(default)]
    pub test_order: Vec<String>,
    /// What usually makes this exercise's tests hang, said when they are
    /// stopped at the time limit.
    #[serde(default)]
    pub hang_cause: Option<String>,
}

/// The one integration test target of every workshop: `tests/workshop.rs`
/// declares each file of `tests/` as a module, so cargo links one binary
/// after an edit instead of one per file.
pub const TEST_TARGET: &str = "workshop";

/// One demo: an example of the workshop crate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    /// The example's name (`examples/<name>.rs`).
    pub name: String,
    /// One line on what it shows.
    pub about: String,
    /// Arguments for the integrity check's quick run of it.
    #[serde(default)]
    pub check_args: Vec<String>,
    /// Whether `cargo workshop demo` builds it optimised: a demo of many
    /// long runs takes minutes unoptimised.
    #[serde(default)]
    pub optimised: bool,
    /// Cargo features it needs beyond the workshops' own (the capstone's
    /// `jetstream`); a demo with any is run by the verify step that
    /// provides what the feature needs, not by the demos step.
    #[serde(default)]
    pub features: Vec<String>,
}

impl Catalogue {
    /// Reads and checks the catalogue at `path` in the repository at `root`.
    ///
    /// # Errors
    /// [`Error::Catalogue`] naming the first problem: malformed TOML, ids out
    /// of order, a missing exercise, solution or test file, fewer than two
    /// hints.
    pub fn load(root: &Path, path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).context(|| format!("reading {}", path.display()))?;
        let mut catalogue: Catalogue = toml::from_str(&text).map_err(|error| Error::Catalogue {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        catalogue.path = path.to_path_buf();
        catalogue.check(root)?;
        Ok(catalogue)
    }

    /// The cargo package: `workshop1`.
    pub fn package(&self) -> String {
        exercise_id::package(self.workshop)
    }

    /// The exercise with this id.
    pub fn exercise(&self, id: ExerciseId) -> Option<&Exercise> {
        self.exercises.iter().find(|exercise| exercise.id == id)
    }

    /// The exercise file a learner edits, relative to the repository root.
    pub fn exercise_path(&self, exercise: &Exercise) -> PathBuf {
        Path::new(&self.package()).join(&exercise.file)
    }

    /// The reference solution, relative to the repository root.
    pub fn solution_path(&self, exercise: &Exercise) -> PathBuf {
        Path::new("solutions")
            .join(self.package())
            .join(&exercise.file)
    }

    /// The exercise's test file, relative to the repository root.
    pub fn test_path(&self, exercise: &Exercise) -> PathBuf {
        Path::new(&self.package())
            .join("tests")
            .join(format!("{}.rs", exercise.test))
    }

    /// The exercise whose tests are in test module `module`, if any.
    pub fn exercise_tested_by(&self, module: &str) -> Option<&Exercise> {
        self.exercises
            .iter()
            .find(|exercise| exercise.test == module)
    }

    /// The test binary's main file, relative to the repository root.
    pub fn test_main_path(&self) -> PathBuf {
        Path::new(&self.package())
            .join("tests")
            .join(format!("{TEST_TARGET}.rs"))
    }

    fn check(&self, root: &Path) -> Result<()> {
        let problem = |message: String| Error::Catalogue {
            path: self.path.clone(),
            message,
        };
        if self.exercises.is_empty() {
            return Err(problem("it lists no exercises".into()));
        }
        for (position, exercise) in (1..).zip(&self.exercises) {
            let expected = ExerciseId::new(self.workshop, position);
            if exercise.id != expected {
                return Err(problem(format!(
                    "exercise {position} has id \"{}\"; ids run \"{expected}\" in order",
                    exercise.id
                )));
            }
            if exercise.hints.len() < 2 {
                return Err(problem(format!(
                    "exercise {} has {} hint(s); give at least two, gentle to explicit",
                    exercise.id,
                    exercise.hints.len()
                )));
            }
            for path in [
                self.exercise_path(exercise),
                self.solution_path(exercise),
                self.test_path(exercise),
            ] {
                if !root.join(&path).is_file() {
                    return Err(problem(format!(
                        "exercise {} names {}, which does not exist",
                        exercise.id,
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The maintainers' checks, on top of what [`load`](Self::load) checks:
    /// no stub is identical to its solution (its tests could not fail), each
    /// stub's given code is its solution's ([`crate::given_code`]), the
    /// demos listed are exactly the crate's examples, and the instructor
    /// notes follow the template ([`crate::instructor`]).
    ///
    /// # Errors
    /// [`Error::Catalogue`] naming the first problem.
    pub fn verify(&self, root: &Path) -> Result<()> {
        let problem = |message: String| Error::Catalogue {
            path: self.path.clone(),
            message,
        };
        for exercise in &self.exercises {
            let read = |path: PathBuf| {
                std::fs::read(root.join(&path)).context(|| format!("reading {}", path.display()))
            };
            let stub = read(self.exercise_path(exercise))?;
            let solution = read(self.solution_path(exercise))?;
            if stub == solution {
                return Err(problem(format!(
                    "exercise {}: the stub and the solution are identical",
                    exercise.id
                )));
            }
            let (stub, solution) = (
                String::from_utf8_lossy(&stub),
                String::from_utf8_lossy(&solution),
            );
            if let Some((line, text)) = crate::given_code::first_drift(&stub, &solution) {
                return Err(problem(format!(
                    "exercise {}: line {line} of {} ({text:?}) differs from {} outside a \
                     marked stub (TODO( or todo!( ); make the given code the same in both",
                    exercise.id,
                    self.exercise_path(exercise).display(),
                    self.solution_path(exercise).display()
                )));
            }
        }
        self.check_test_modules(root)?;
        check_demos(
            &self.path,
            &self.demos,
            &root.join(self.package()).join("examples"),
        )?;
        crate::instructor::check(&root.join(self.package()).join("INSTRUCTOR.md"))
    }
}

impl Catalogue {
    /// Refuses a file in `tests/` that the test binary does not declare
    /// (its tests would never run) or a declaration without its file.
    fn check_test_modules(&self, root: &Path) -> Result<()> {
        let main = self.test_main_path();
        let text = std::fs::read_to_string(root.join(&main))
            .context(|| format!("reading {}", main.display()))?;
        let mut declared: Vec<&str> = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix("mod ")?.strip_suffix(';'))
            .collect();
        declared.sort_unstable();
        let folder = root.join(self.package()).join("tests");
        let mut present: Vec<String> = std::fs::read_dir(&folder)
            .context(|| format!("reading {}", folder.display()))?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().to_string_lossy().into_owned();
                Some(name.strip_suffix(".rs")?.to_string())
            })
            .filter(|name| name != TEST_TARGET)
            .collect();
        present.sort_unstable();
        if declared != present {
            return Err(Error::Catalogue {
                path: self.path.clone(),
                message: format!(
                    "{} declares the modules {declared:?}, but {} holds {present:?}; declare \
                     every test file as a module (`mod NAME;`), so its tests run",
                    main.display(),
                    folder.display()
                ),
            });
        }
        Ok(())
    }
}

/// The most minutes a workshop's exercises, stretch ones aside, may take: a
/// session is 90 minutes, and Context, Observe, Discuss and Reflect need the
/// rest.
pub const EXERCISE_MINUTES_PER_SESSION: u32 = 60;

impl Catalogue {
    /// The minutes of the exercises that are not `stretch`.
    pub fn planned_minutes(&self) -> u32 {
        self.exercises
            .iter()
            .filter(|exercise| !exercise.stretch)
            .map(|exercise| exercise.minutes)
            .sum()
    }

    /// Checks that the exercises, stretch ones aside, fit
    /// [`EXERCISE_MINUTES_PER_SESSION`].
    ///
    /// # Errors
    /// [`Error::Catalogue`] with the minutes of each exercise.
    pub fn check_minutes(&self) -> Result<()> {
        let planned = self.planned_minutes();
        if planned <= EXERCISE_MINUTES_PER_SESSION {
            return Ok(());
        }
        let each: Vec<String> = self
            .exercises
            .iter()
            .map(|exercise| {
                let stretch = if exercise.stretch { " stretch" } else { "" };
                format!("{} {} min{stretch}", exercise.id, exercise.minutes)
            })
            .collect();
        Err(Error::Catalogue {
            path: self.path.clone(),
            message: format!(
                "the exercises not marked `stretch = true` take {planned} minutes ({}); at most \
                 {EXERCISE_MINUTES_PER_SESSION} fit a 90-minute session, which also needs its \
                 Context, Observe, Discuss and Reflect. Mark an exercise as stretch, or give \
                 the learner the part that does not carry the idea",
                each.join(", ")
            ),
        })
    }
}

/// The capstone's catalogue, `tests/demos.toml`: its demos and nothing
/// else. The capstone has no exercises of its own (it runs on the
/// workshops'), so it is not a [`Catalogue`]: nothing about it is
/// progress, and the progressive check never builds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapstoneCatalogue {
    /// The cargo package: `capstone`.
    pub package: String,
    /// What it is.
    pub title: String,
    /// Its demos (the crate's examples).
    #[serde(rename = "demo", default)]
    pub demos: Vec<Demo>,
    /// Where the catalogue was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// Where the capstone's catalogue lives, relative to the repository root.
pub const CAPSTONE_CATALOGUE: &str = "tests/demos.toml";

impl CapstoneCatalogue {
    /// Reads the capstone's catalogue at `path`.
    ///
    /// # Errors
    /// [`Error::Catalogue`] for malformed TOML.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).context(|| format!("reading {}", path.display()))?;
        let mut catalogue: Self = toml::from_str(&text).map_err(|error| Error::Catalogue {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        catalogue.path = path.to_path_buf();
        Ok(catalogue)
    }

    /// The maintainers' check: the demos listed are exactly the crate's
    /// examples.
    ///
    /// # Errors
    /// [`Error::Catalogue`] naming the difference.
    pub fn verify(&self) -> Result<()> {
        let folder = self.path.parent().unwrap_or(Path::new("."));
        check_demos(&self.path, &self.demos, &folder.join("examples"))
    }
}

/// Refuses a catalogue whose demos are not exactly the examples in
/// `examples`: a demo nobody can run, or an example nobody checks.
fn check_demos(catalogue: &Path, demos: &[Demo], examples: &Path) -> Result<()> {
    let mut listed: Vec<&str> = demos.iter().map(|demo| demo.name.as_str()).collect();
    listed.sort_unstable();
    let mut present: Vec<String> = match std::fs::read_dir(examples) {
        Ok(entries) => entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().to_string_lossy().into_owned();
                Some(name.strip_suffix(".rs")?.to_string())
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    present.sort_unstable();
    if listed != present {
        return Err(Error::Catalogue {
            path: catalogue.to_path_buf(),
            message: format!(
                "its demos {listed:?} differ from the examples in {} {present:?}; list every \
                 example as a [[demo]]",
                examples.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workshop_catalogue_loads() {
        let workspace = crate::workspace::Workspace::locate().expect("the repository is here");
        let catalogues = workspace.catalogues().expect("catalogues are valid");
        assert!(!catalogues.is_empty());
        for catalogue in catalogues {
            catalogue
                .verify(&workspace.root)
                .expect("the maintainers' checks pass");
            assert_eq!(
                catalogue.package(),
                format!("workshop{}", catalogue.workshop)
            );
        }
    }

    #[test]
    fn the_capstone_catalogue_lists_its_examples() {
        let workspace = crate::workspace::Workspace::locate().expect("the repository is here");
        let capstone = workspace
            .capstone()
            .expect("the capstone's catalogue is valid")
            .expect("the repository has a capstone");
        capstone.verify().expect("its demos are its examples");
        assert_eq!(capstone.package, "capstone");
    }

    #[test]
    fn stretch_exercises_are_left_out_of_the_session_minutes() {
        let catalogue: Catalogue = toml::from_str(
            "workshop = 9\ntitle = \"t\"\n\
             [[exercise]]\nid = \"9.1\"\ntitle = \"a\"\nfile = \"a\"\ntest = \"a\"\n\
             minutes = 40\nhints = []\n\
             [[exercise]]\nid = \"9.2\"\ntitle = \"b\"\nfile = \"b\"\ntest = \"b\"\n\
             minutes = 30\nhints = []\nstretch = true\n",
        )
        .expect("the catalogue is valid TOML");
        assert_eq!(
            catalogue.planned_minutes(),
            40,
            "the stretch exercise is not counted"
        );
        assert!(
            catalogue.check_minutes().is_ok(),
            "40 minutes fit a session"
        );
        let mut without_stretch = catalogue.clone();
        without_stretch.exercises[1].stretch = false;
        let refused = without_stretch
            .check_minutes()
            .expect_err("70 minutes do not fit")
            .to_string();
        assert!(
            refused.contains("take 70 minutes") && refused.contains("9.2 30 min"),
            "the message gives the total and each exercise's minutes, got {refused}"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let parsed: std::result::Result<Catalogue, _> =
            toml::from_str("workshop = 1\ntitle = \"t\"\nexercise = []\nextra = 1\n");
        assert!(parsed.is_err());
    }
}
