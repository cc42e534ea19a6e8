//! Running cargo and test binaries, and reading what they report.
//!
//! The progressive check needs each test's outcome, per test binary. cargo's
//! own output interleaves builds and results, so the check builds first
//! (`cargo test --no-run`, reading the binaries' paths from cargo's JSON
//! messages), then runs each binary itself and reads libtest's per-test lines.
//! Listing each binary's tests first (`--list`) means a test that never
//! reported (its process stopped early) is noticed, not skipped.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Context, Error, Result};

/// A cargo invocation in one folder with extra environment variables.
#[derive(Debug, Clone)]
pub struct Cargo {
    /// The cargo that started this tool, so both use one toolchain.
    program: OsString,
    /// Where to run.
    dir: PathBuf,
    /// Extra variables.
    env: Vec<(String, OsString)>,
}

impl Cargo {
    /// Cargo in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            program: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            dir: dir.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// Cargo for a copy of the repository at `dir`, building into `target`.
    ///
    /// A copy needs a target folder of its own (see [`crate::progressive`]).
    /// It is built to be tested, never debugged, so it keeps line tables
    /// only and no incremental cache: measured on the progressive check,
    /// that is the same speed and under half the disk (the full debug
    /// information and the incremental cache were most of its 2.1 GB).
    pub fn for_copy(dir: &Path, target: &Path) -> Self {
        Self::new(dir)
            .env("CARGO_TARGET_DIR", target)
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
    }

    /// Sets `key` to `value` for every command.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command.args(args).current_dir(&self.dir);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs `cargo <args>` with its output on the terminal.
    ///
    /// # Errors
    /// When it cannot start or exits unsuccessfully.
    pub fn run(&self, args: &[&str]) -> Result<()> {
        let status = self
            .command(args)
            .status()
            .context(|| format!("starting cargo {}", args.join(" ")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::CommandFailed {
                command: format!("cargo {}", args.join(" ")),
                status: status.to_string(),
                hint: String::new(),
            })
        }
    }

    /// Runs `cargo <args>` and captures its output, successful or not.
    ///
    /// # Errors
    /// When it cannot start.
    pub fn output(&self, args: &[&str]) -> Result<Output> {
        self.command(args)
            .output()
            .context(|| format!("starting cargo {}", args.join(" ")))
    }

    /// Builds the test binaries of `package` (library and integration tests,
    /// not doc tests) with `features`, and returns them. Compiler messages go
    /// to the terminal.
    ///
    /// # Errors
    /// When the build fails.
    pub fn build_tests(&self, package: &str, features: &[&str]) -> Result<Vec<TestBinary>> {
        self.build(package, &["--tests"], features, &mut |_| {})
    }

    /// Builds one test target of `package` in exercise mode and returns its
    /// binary, calling `on_artifact` for every crate cargo finishes, so a
    /// long first build can show its progress. Only the target is built: a
    /// learner's check does not need the library's unit tests, which would
    /// compile the library a second time.
    ///
    /// # Errors
    /// When the build fails, or produces no test binary.
    pub fn build_test_target(
        &self,
        package: &str,
        target: &str,
        on_artifact: &mut dyn FnMut(&Artifact),
    ) -> Result<TestBinary> {
        self.build(package, &["--test", target], &[], on_artifact)?
            .into_iter()
            .find(|binary| binary.target == target)
            .ok_or_else(|| Error::Check(format!("{package} has no test target {target:?}")))
    }

    fn build(
        &self,
        package: &str,
        selection: &[&str],
        features: &[&str],
        on_artifact: &mut dyn FnMut(&Artifact),
    ) -> Result<Vec<TestBinary>> {
        let mut args = vec![
            "test",
            "--quiet",
            "--no-run",
            "--message-format=json-render-diagnostics",
            "-p",
            package,
        ];
        args.extend(selection);
        let joined = features.join(",");
        if !features.is_empty() {
            args.extend(["--features", &joined]);
        }
        let mut child = self
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context(|| format!("building the tests of {package}"))?;
        // cargo writes one JSON message per line as each crate finishes;
        // reading them as they come is what lets a long build show progress.
        let mut binaries = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if message["reason"] != "compiler-artifact" {
                    continue;
                }
                on_artifact(&Artifact {
                    name: message["target"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    fresh: message["fresh"] == true,
                });
                binaries.extend(test_binary(&message));
            }
        }
        let status = child
            .wait()
            .context(|| format!("building the tests of {package}"))?;
        if !status.success() {
            return Err(Error::CommandFailed {
                command: format!("cargo {}", args.join(" ")),
                status: status.to_string(),
                hint: "\nthe compiler's messages are above".into(),
            });
        }
        binaries.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(binaries)
    }
}

/// A crate cargo finished building (or found up to date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The crate's target name.
    pub name: String,
    /// Whether it was up to date, so nothing was compiled.
    pub fresh: bool,
}

/// A compiled test binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// The cargo target: the package name for unit tests, the file stem for
    /// an integration test.
    pub target: String,
    /// The executable.
    pub path: PathBuf,
    /// The package folder; cargo runs tests from there.
    pub package_dir: PathBuf,
}

/// Reads the test binaries from cargo's JSON messages.
pub fn test_binaries(json_lines: &str) -> Vec<TestBinary> {
    let mut binaries: Vec<TestBinary> = json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| test_binary(&message))
        .collect();
    binaries.sort_by(|a, b| a.target.cmp(&b.target));
    binaries
}

/// The test binary in one of cargo's JSON messages, if it announces one.
fn test_binary(message: &serde_json::Value) -> Option<TestBinary> {
    if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
        return None;
    }
    let path = message["executable"].as_str()?;
    let target = message["target"]["name"].as_str()?;
    let manifest = message["manifest_path"].as_str()?;
    Some(TestBinary {
        target: target.replace('-', "_"),
        path: PathBuf::from(path),
        package_dir: Path::new(manifest).parent()?.to_path_buf(),
    })
}

/// What happened to one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed.
    Failed,
    /// It was skipped with `#[ignore]`.
    Ignored,
    /// It was listed but never reported: its process stopped first.
    Missing,
}

/// The outcomes of one test binary's run.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// Per test name, sorted.
    pub outcomes: BTreeMap<String, Outcome>,
    /// Everything the binary printed, for failure reports.
    pub output: String,
    /// Set when the run was stopped because it took longer than its time
    /// limit: the tests still [`Outcome::Missing`] were running then.
    pub stopped_after: Option<Duration>,
}

impl TestRun {
    /// How many tests passed.
    pub fn passed(&self) -> usize {
        self.count(Outcome::Passed)
    }

    /// How many tests failed.
    pub fn failed(&self) -> usize {
        self.count(Outcome::Failed)
    }

    /// Whether there were tests and every one passed.
    pub fn all_passed(&self) -> bool {
        !self.outcomes.is_empty() && self.passed() == self.outcomes.len()
    }

    /// The tests that never reported a result, sorted.
    pub fn missing(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|(_, outcome)| **outcome == Outcome::Missing)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The tests that had started and not finished when the run stopped.
    ///
    /// libtest starts tests in name order, at most [`test_threads`] at a
    /// time, and starts the next one only when one finishes. So when a run
    /// stops, the tests still running are the first missing ones in name
    /// order, as many as there are threads; the missing tests after them
    /// never started.
    pub fn unfinished(&self) -> Vec<&str> {
        let mut missing = self.missing();
        missing.truncate(test_threads());
        missing
    }

    fn count(&self, wanted: Outcome) -> usize {
        self.outcomes
            .values()
            .filter(|outcome| **outcome == wanted)
            .count()
    }
}

impl TestBinary {
    /// The name of every test in this binary, as `--list` prints them.
    ///
    /// # Errors
    /// When the binary cannot be started.
    pub fn list(&self) -> Result<Vec<String>> {
        let listed = Command::new(&self.path)
            .arg("--list")
            .current_dir(&self.package_dir)
            .output()
            .context(|| format!("listing the tests of {}", self.path.display()))?;
        Ok(test_names(&listed.stdout))
    }

    /// Runs every test in this binary with `env` added, and reads the
    /// outcomes.
    ///
    /// # Errors
    /// When the binary cannot be started.
    pub fn run(&self, env: &[(&str, &str)]) -> Result<TestRun> {
        self.run_within(env, None)
    }

    /// Runs every test in this binary, stopping it if it is still running
    /// after `limit`: a learner's infinite loop becomes a report, never a
    /// frozen terminal. Tests that had not reported by then are
    /// [`Outcome::Missing`], and [`TestRun::stopped_after`] is set.
    ///
    /// # Errors
    /// When the binary cannot be started.
    pub fn run_within(&self, env: &[(&str, &str)], limit: Option<Duration>) -> Result<TestRun> {
        self.run_selected(env, None, limit)
    }

    /// Runs the tests whose names contain `filter` (every test when `None`),
    /// on [`test_threads`] threads, stopping the binary after `limit`, as
    /// [`run_within`](Self::run_within) does.
    ///
    /// # Errors
    /// When the binary cannot be started.
    pub fn run_selected(
        &self,
        env: &[(&str, &str)],
        filter: Option<&str>,
        limit: Option<Duration>,
    ) -> Result<TestRun> {
        let threads = format!("--test-threads={}", test_threads());
        let command = |args: &[&str]| {
            let mut command = Command::new(&self.path);
            command
                .args(args)
                .args(filter)
                .current_dir(&self.package_dir);
            for (key, value) in env {
                command.env(key, value);
            }
            command
        };
        let listed = command(&["--list"])
            .output()
            .context(|| format!("listing the tests of {}", self.path.display()))?;
        let mut outcomes: BTreeMap<String, Outcome> = test_names(&listed.stdout)
            .into_iter()
            .map(|name| (name, Outcome::Missing))
            .collect();
        let ran = run_limited(command(&[&threads]), limit)
            .context(|| format!("running {}", self.path.display()))?;
        for (name, outcome) in parse_results(&ran.stdout) {
            outcomes.insert(name, outcome);
        }
        Ok(TestRun {
            outcomes,
            output: format!("{}{}", ran.stdout, ran.stderr),
            stopped_after: ran.stopped_after,
        })
    }
}

/// The test names in what a test binary's `--list` printed.
fn test_names(listed: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(listed)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// How many tests a test binary runs at once: libtest's own default, made
/// explicit because which tests had started when a run was stopped follows
/// from it (see [`TestRun::unfinished`]).
pub fn test_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What a process printed, and whether it had to be stopped.
struct Limited {
    stdout: String,
    stderr: String,
    stopped_after: Option<Duration>,
}

/// Runs `command` to its end, or stops it after `limit`.
///
/// Both outputs are read on threads of their own while the process runs: a
/// process that fills a pipe nobody reads would block forever.
fn run_limited(mut command: Command, limit: Option<Duration>) -> std::io::Result<Limited> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let mut stopped_after = None;
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if let Some(limit) = limit.filter(|limit| started.elapsed() >= *limit) {
            // The process is stuck; its threads die with it.
            let _ = child.kill();
            let _ = child.wait();
            stopped_after = Some(limit);
            break;
        }
        std::thread::sleep(POLL);
    }
    let text = |reader: std::thread::JoinHandle<String>| reader.join().unwrap_or_default();
    Ok(Limited {
        stdout: text(stdout),
        stderr: text(stderr),
        stopped_after,
    })
}

/// How often a limited run checks whether its process has ended: short
/// enough that a quick test binary is not kept waiting.
const POLL: Duration = Duration::from_millis(10);

/// Reads libtest's `test NAME ... ok|FAILED|ignored` lines.
pub fn parse_results(stdout: &str) -> Vec<(String, Outcome)> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            let outcome = match verdict.trim() {
                "ok" => Outcome::Passed,
                "FAILED" => Outcome::Failed,
                verdict if verdict.starts_with("ignored") => Outcome::Ignored,
                _ => return None,
            };
            Some((name.to_string(), outcome))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_read() {
        let stdout = "\nrunning 3 tests\ntest a::b ... ok\ntest c ... FAILED\ntest d ... ignored, slow\n\
                      \ntest result: FAILED. 1 passed; 1 failed\n";
        assert_eq!(
            parse_results(stdout),
            vec![
                ("a::b".to_string(), Outcome::Passed),
                ("c".to_string(), Outcome::Failed),
                ("d".to_string(), Outcome::Ignored),
            ]
        );
    }

    #[test]
    fn only_the_first_missing_tests_had_started() {
        let outcomes = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|name| (name.to_string(), Outcome::Missing))
            .chain([("0".to_string(), Outcome::Passed)])
            .collect();
        let run = TestRun {
            outcomes,
            output: String::new(),
            stopped_after: Some(Duration::from_secs(1)),
        };
        let started: Vec<&str> = ["a", "b", "c", "d", "e"]
            .into_iter()
            .take(test_threads())
            .collect();
        assert_eq!(run.unfinished(), started);
    }

    #[test]
    fn test_binaries_come_from_compiler_artifacts() {
        let json = r#"{"reason":"compiler-artifact","manifest_path":"/r/workshop1/Cargo.toml","target":{"name":"ex1_1_immediate_retry","kind":["test"]},"profile":{"test":true},"executable":"/r/target/debug/deps/ex1_1-abc"}
{"reason":"compiler-artifact","manifest_path":"/r/workshop1/Cargo.toml","target":{"name":"workshop1","kind":["lib"]},"profile":{"test":false},"executable":null}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            test_binaries(json),
            vec![TestBinary {
                target: "ex1_1_immediate_retry".into(),
                path: "/r/target/debug/deps/ex1_1-abc".into(),
                package_dir: "/r/workshop1".into(),
            }]
        );
    }
}
