//! `cargo workshop`, run for real on a scratch copy of the repository.
//!
//! The copy is made once per test run, committed to a git repository of its
//! own (reset reads stubs from git), and built into a target folder of its
//! own: cargo names a path package's artifacts the same wherever the package
//! lives, so a copy must never share the real target folder (see
//! `xtask::progressive`). The tests share the copy and its build, one at a
//! time, and each puts the exercise files in the state it needs first,
//! writing only files whose content changes so cargo rebuilds as little as
//! possible.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use xtask::catalogue::Catalogue;
use xtask::workspace::Workspace;

/// The scratch repository, made by the first test that needs it.
static SCRATCH: Mutex<Option<Scratch>> = Mutex::new(None);

struct Scratch {
    /// The real repository, where stubs and solutions are read from.
    source: Workspace,
    /// The copy.
    root: PathBuf,
    /// The copy's own target folder.
    target: PathBuf,
    /// Workshop 1's catalogue.
    catalogue: Catalogue,
}

/// The scratch repository, for this test alone until the guard drops.
fn scratch() -> MutexGuard<'static, Option<Scratch>> {
    let mut guard = SCRATCH.lock().unwrap_or_else(PoisonError::into_inner);
    if guard.is_none() {
        let source = Workspace::locate().expect("the tests run inside the repository");
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cargo-workshop");
        let root = base.join("repository");
        source.copy_to(&root).expect("the repository can be copied");
        git(&root, &["init", "--quiet", "--initial-branch", "main"]);
        git(&root, &["add", "--all"]);
        git(
            &root,
            &[
                "-c",
                "user.name=learner",
                "-c",
                "user.email=learner@example.invalid",
                "commit",
                "--quiet",
                "--no-gpg-sign",
                "--message",
                "a fresh checkout",
            ],
        );
        let catalogue = source
            .catalogue(1)
            .expect("Workshop 1's catalogue is valid");
        *guard = Some(Scratch {
            source,
            root,
            target: base.join("target"),
            catalogue,
        });
    }
    guard
}

fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(root)
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(
        status.success(),
        "git {args:?} failed in {}",
        root.display()
    );
}

/// What one `cargo workshop` run printed.
struct Run {
    stdout: String,
    stderr: String,
    success: bool,
    took: Duration,
}

impl Run {
    fn from(output: Output, took: Duration) -> Self {
        Self {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            success: output.status.success(),
            took,
        }
    }

    fn assert_says(&self, wanted: &str) {
        assert!(
            self.stdout.contains(wanted),
            "expected {wanted:?} in the output of cargo workshop:\n{self}"
        );
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }
}

impl Scratch {
    /// `cargo workshop ARGS` in `folder` of the copy, with no terminal: plain
    /// ASCII output and no standard input.
    fn workshop_in(&self, folder: &str, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .arg("workshop")
            .args(args)
            .current_dir(self.root.join(folder))
            .env("CARGO_TARGET_DIR", &self.target)
            // Built to be tested, never debugged: as for the copies that
            // `cargo xtask verify` builds (`Cargo::for_copy`), this keeps the
            // scratch build to a fraction of the disk.
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
            .env("NO_COLOR", "1")
            .env("DWC_ASCII", "1")
            .env_remove("DWC_SEED")
            .env_remove("DWC_SEEDS")
            .stdin(Stdio::null())
            .output()
            .expect("cargo runs");
        Run::from(output, started.elapsed())
    }

    fn workshop(&self, args: &[&str]) -> Run {
        self.workshop_in("", args)
    }

    /// Every exercise file of the copy as its stub in the real repository.
    fn all_stubs(&self) {
        for exercise in &self.catalogue.exercises {
            let path = self.catalogue.exercise_path(exercise);
            self.place(&path, &self.read_source(&path));
        }
    }

    fn read_source(&self, path: &Path) -> Vec<u8> {
        std::fs::read(self.source.root.join(path)).expect("the real file is readable")
    }

    fn read(&self, path: &Path) -> Vec<u8> {
        std::fs::read(self.root.join(path)).expect("the copy's file is readable")
    }

    /// Writes `content` to `path` of the copy, unless it is there already.
    fn place(&self, path: &Path, content: &[u8]) {
        if self.read(path) != content {
            std::fs::write(self.root.join(path), content).expect("the copy is writable");
        }
    }

    fn exercise(&self, id: &str) -> (PathBuf, PathBuf) {
        let exercise = self
            .catalogue
            .exercise(id.parse().expect("an exercise id"))
            .unwrap_or_else(|| panic!("exercise {id} is in the catalogue"));
        (
            self.catalogue.exercise_path(exercise),
            self.catalogue.solution_path(exercise),
        )
    }
}

/// The status line of exercise `id`.
fn status_line<'a>(stdout: &'a str, id: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(id))
        .unwrap_or_else(|| panic!("the status has a line for {id}:\n{stdout}"))
}

/// A fresh checkout: the welcome explains the red, nothing is done, and the
/// first exercise is the current one, with the command to type next.
#[test]
fn status_on_a_fresh_checkout_shows_nothing_done() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let run = scratch.workshop(&[]);
    assert!(run.success, "{run}");
    run.assert_says("Red is expected");
    run.assert_says("yours to turn");
    run.assert_says("0 of 6 done");
    for exercise in &scratch.catalogue.exercises {
        let line = status_line(&run.stdout, &exercise.id.to_string());
        assert!(
            !line.trim_start().starts_with("ok"),
            "{} shows done on a fresh checkout: {line}",
            exercise.id
        );
    }
    assert!(
        status_line(&run.stdout, "1.1")
            .trim_start()
            .starts_with('>')
    );
    run.assert_says("cargo workshop check");
    println!("cargo workshop took {:?} on this build", run.took);
}

/// The status is the same from any folder of the repository.
#[test]
fn status_works_from_any_folder() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let run = scratch.workshop_in("workshop1/src", &[]);
    assert!(run.success, "{run}");
    run.assert_says("Workshop 1:");
    run.assert_says("workshop1/src/immediate_retry.rs");
}

/// After `checkpoint 1.4`, exercises 1.1 to 1.3 hold their solutions and
/// show done, 1.4 is current, and the later ones are untouched.
#[test]
fn checkpoint_puts_the_earlier_solutions_in_place() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let run = scratch.workshop(&["checkpoint", "1.4", "--yes"]);
    assert!(run.success, "{run}");
    for id in ["1.1", "1.2", "1.3"] {
        let (file, solution) = scratch.exercise(id);
        assert_eq!(
            scratch.read(&file),
            scratch.read_source(&solution),
            "{id} holds its solution after checkpoint 1.4"
        );
    }
    for id in ["1.4", "1.5", "1.6"] {
        let (file, _) = scratch.exercise(id);
        assert_eq!(
            scratch.read(&file),
            scratch.read_source(&file),
            "{id} is still its stub after checkpoint 1.4"
        );
    }
    let status = scratch.workshop(&[]);
    assert!(status.success, "{status}");
    status.assert_says("3 of 6 done");
    for id in ["1.1", "1.2", "1.3"] {
        let line = status_line(&status.stdout, id);
        assert!(line.trim_start().starts_with("ok"), "{id} is done: {line}");
    }
    assert!(
        status_line(&status.stdout, "1.4")
            .trim_start()
            .starts_with('>')
    );
}

/// `reset` puts the stub back byte for byte, keeps the learner's version,
/// and without a terminal to ask on it changes nothing and says to add
/// `--yes`.
#[test]
fn reset_restores_the_stub_byte_for_byte() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    let (file, _) = scratch.exercise("1.2");
    let stub = scratch.read_source(&file);
    let mine = b"// my own attempt at 1.2\n".to_vec();
    scratch.place(&file, &mine);

    let refused = scratch.workshop(&["reset", "1.2"]);
    assert!(!refused.success, "reset must ask first:\n{refused}");
    assert!(refused.stderr.contains("--yes"), "{refused}");
    assert_eq!(scratch.read(&file), mine, "nothing changes without a yes");

    let run = scratch.workshop(&["reset", "1.2", "--yes"]);
    assert!(run.success, "{run}");
    assert_eq!(scratch.read(&file), stub, "the stub is back, byte for byte");
    run.assert_says("Your version is saved in");
    let again = scratch.workshop(&["reset", "1.2", "--yes"]);
    again.assert_says("stub already");
}

/// A test that never ends is stopped at the time limit and reported as a
/// hang, and watch goes on (here, in manual mode, until its input ends).
#[test]
fn watch_reports_a_hang_within_its_time_limit() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let (file, _) = scratch.exercise("1.1");
    let stub = String::from_utf8(scratch.read_source(&file)).expect("a stub is text");
    let start = stub.find("todo!(").expect("the stub has a todo!");
    let end = start + macro_length(&stub[start..]);
    let busy = format!(
        "{}loop {{ std::hint::spin_loop(); }}{}",
        &stub[..start],
        &stub[end..]
    );
    scratch.place(&file, busy.as_bytes());
    // Built first, so the time below is the watch's alone.
    let _ = scratch.workshop(&["check", "1.1", "--timeout", "1"]);

    let run = scratch.workshop(&["watch", "--manual", "--timeout", "2"]);
    scratch.all_stubs();
    // The simulation's watchdog stops the run at a third of the limit
    // (at least a second), and its words name the test and the kinds of
    // fault.
    run.assert_says("were still running after 1 s and were stopped");
    run.assert_says("probable livelock in ex1_1_immediate_retry::");
    run.assert_says("two locks taken in different orders");
    run.assert_says("In 1.1, a hang is usually");
    run.assert_says("-- ex1_1_immediate_retry::");
    run.assert_says("Press Enter to check again");
    assert!(
        run.took < Duration::from_secs(20),
        "watch must report the hang at its time limit, not wait for the test: took {:?}",
        run.took
    );
}

/// The length of the macro call at the start of `code`, up to its closing
/// parenthesis, skipping parentheses inside string literals.
fn macro_length(code: &str) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0_u32, false, false);
    for (position, character) in code.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return position + 1;
                }
            }
            _ => {}
        }
    }
    panic!("the macro call never closes: {code}")
}

/// A check of a stub says it is not started and where to start.
#[test]
fn check_on_a_stub_says_where_to_start() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let run = scratch.workshop(&["check", "1.3"]);
    assert!(!run.success, "a stub does not pass:\n{run}");
    run.assert_says("1.3 Exponential backoff with full jitter is not started");
    run.assert_says("workshop1/src/backoff.rs");
    run.assert_says("cargo workshop hint 1.3");
}

/// `hint` walks the levels of the catalogue, gentle to explicit, then says
/// it has no more and where the solution is.
#[test]
fn hint_walks_its_levels() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    let _ = std::fs::remove_dir_all(scratch.target.join("workshop").join("hints"));
    let exercise = scratch
        .catalogue
        .exercise("1.5".parse().expect("an exercise id"))
        .expect("1.5 exists");
    let levels = exercise.hints.len();
    for (level, text) in (1..).zip(&exercise.hints) {
        let run = scratch.workshop(&["hint", "1.5"]);
        assert!(run.success, "{run}");
        run.assert_says(&format!("hint {level} of {levels}"));
        run.assert_says(text);
    }
    let last = scratch.workshop(&["hint", "1.5"]);
    last.assert_says("That is the last hint (shown again)");
    last.assert_says("solutions/workshop1/src/dead_letter_queue.rs");
}

/// `doctor` finds this machine ready: the toolchain is recent enough and
/// every crate is on disk.
#[test]
fn doctor_passes_here() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    let run = scratch.workshop(&["doctor"]);
    assert!(run.success, "{run}");
    run.assert_says("Ready.");
}

/// A command that does not exist says what does.
#[test]
fn a_mistyped_command_says_what_to_do() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    let run = scratch.workshop(&["chek"]);
    assert!(!run.success);
    assert!(run.stderr.contains("cargo workshop help"), "{run}");
    let run = scratch.workshop(&["check", "9.9"]);
    assert!(run.stderr.contains("the exercises are 1.1"), "{run}");
}

/// A check of a solved exercise says it is done, with its count, and names
/// what is next; after the last exercise, that the workshop is complete.
/// Both exit successfully.
#[test]
fn a_passing_check_says_done_and_what_is_next() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let (file, solution) = scratch.exercise("1.2");
    scratch.place(&file, &scratch.read_source(&solution));
    let run = scratch.workshop(&["check"]);
    assert!(run.success, "a passing check exits 0:\n{run}");
    run.assert_says("1.2 done: ");
    run.assert_says("Next: 1.3");

    for exercise in &scratch.catalogue.exercises {
        let (file, solution) = scratch.exercise(&exercise.id.to_string());
        scratch.place(&file, &scratch.read_source(&solution));
    }
    let last = scratch
        .catalogue
        .exercises
        .last()
        .expect("it has exercises");
    let run = scratch.workshop(&["check", &last.id.to_string()]);
    scratch.all_stubs();
    assert!(run.success, "{run}");
    run.assert_says("Workshop 1 is complete");
    run.assert_says("cargo workshop start 2");
}

/// `start 3` makes Workshop 3 current without building it (its exercises
/// are stubs), and options a command would ignore are refused.
#[test]
fn start_chooses_the_workshop_and_ignored_options_are_refused() {
    let guard = scratch();
    let scratch = guard.as_ref().expect("made above");
    scratch.all_stubs();
    let run = scratch.workshop(&["start", "3"]);
    assert!(run.success, "{run}");
    run.assert_says("Next: 3.1");
    let status = scratch.workshop(&[]);
    let _ = scratch.workshop(&["start", "1"]);
    assert!(status.success, "{status}");
    assert!(
        status_line(&status.stdout, "3.1")
            .trim_start()
            .starts_with('>'),
        "3.1 is current after start 3:\n{status}"
    );
    let refused = scratch.workshop(&["hint", "1.1", "--manual"]);
    assert!(!refused.success, "{refused}");
    assert!(
        refused.stderr.contains("does not take --manual"),
        "{refused}"
    );
}
