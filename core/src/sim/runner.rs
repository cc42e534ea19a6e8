//! Running a simulation, once or over many seeds, with guards against hangs.

use std::future::Future;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::{Seed, clock, logging};

/// The environment variable that sets how many seeds a [`Sweep`] runs.
pub const SEEDS_VARIABLE: &str = "DWC_SEEDS";

/// The environment variable that shortens the real-time limit of every
/// run, in whole seconds: `cargo workshop check` sets it below its own time
/// limit, so a learner reads the watchdog's explanation (which test, which
/// kinds of fault) rather than a bare "stopped at the time limit". It can
/// only shorten a [`Guard`]'s limit, never lengthen it.
pub const WATCHDOG_VARIABLE: &str = "DWC_WATCHDOG_SECONDS";

/// How many seeds a sweep runs when nothing else is asked: enough to catch
/// most interleaving bugs, few enough that a learner's test run stays well
/// under a second. CI sweeps 200.
const DEFAULT_SEEDS: usize = 16;

/// Limits that turn a hang into a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    /// Simulated time after which a run is declared stuck. A deadlock (every
    /// task waiting on something that never comes) lets the paused clock jump
    /// straight here, so it fails at once in real time.
    pub simulated: Duration,
    /// Real time after which the process is stopped. This catches what the
    /// simulated limit cannot: a task that never yields, so the clock never
    /// moves.
    pub wall: Duration,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            simulated: Duration::from_secs(60 * 60),
            wall: Duration::from_secs(30),
        }
    }
}

/// Runs `future` on a fresh current-thread runtime with a paused clock, under
/// the default [`Guard`], and returns its output.
///
/// # Panics
/// When `future` panics, or when it exceeds the guard: "probable deadlock or
/// livelock in …".
pub fn simulate<F: Future>(future: F) -> F::Output {
    simulate_with(Guard::default(), future)
}

/// [`simulate`] with explicit limits.
///
/// # Panics
/// As [`simulate`].
pub fn simulate_with<F: Future>(guard: Guard, future: F) -> F::Output {
    simulate_explained(guard, None, future)
}

/// [`simulate_with`], with what usually makes this test hang added to both
/// guards' messages: a learner reads the likely fault of their own exercise,
/// not only the general kinds of hang.
fn simulate_explained<F: Future>(
    guard: Guard,
    when_stuck: Option<&'static str>,
    future: F,
) -> F::Output {
    let name = current_test_name();
    let cause = likely_cause(when_stuck);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("building a current-thread runtime only fails when the OS is out of resources");
    let _watchdog = Watchdog::arm(wall_limit(guard.wall), name.clone(), cause.clone());
    let _logging = logging::for_test();
    runtime.block_on(async {
        clock::restart();
        match tokio::time::timeout(guard.simulated, future).await {
            Ok(output) => output,
            Err(_) => panic!(
                "probable deadlock or livelock in {name}: still running after {:?} of simulated \
                 time. Look for a task waiting on something that never happens: a wake-up nobody \
                 sends (a change made without notifying the waiters), a channel nobody sends on, \
                 a loop that never sees its exit condition.{cause}",
                guard.simulated
            ),
        }
    })
}

/// `wall`, or the shorter limit [`WATCHDOG_VARIABLE`] asks for.
fn wall_limit(wall: Duration) -> Duration {
    std::env::var(WATCHDOG_VARIABLE)
        .ok()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map_or(wall, |seconds| wall.min(Duration::from_secs(seconds)))
}

/// The sentence a hang message ends with when the test said what usually
/// makes it hang; nothing otherwise.
fn likely_cause(when_stuck: Option<&'static str>) -> String {
    when_stuck
        .map(|cause| format!("\nIn this test, that is usually {cause}"))
        .unwrap_or_default()
}

/// Defines `sweep()` and `for_each_seed()` in the crate that invokes it.
///
/// A replay command must name the package under test and say whether it was
/// built with its `solution` feature. Both are known only while that package
/// compiles, so a function in `core` cannot ask; this macro writes the two
/// functions into the caller, where `env!` and `cfg!` see the caller's own
/// name and features. Each workshop invokes it once, in its `testing` module.
#[macro_export]
macro_rules! seed_sweep {
    () => {
        /// A sweep of a test over seeds, replayable with this crate's command
        /// line.
        pub fn sweep() -> $crate::sim::Sweep {
            $crate::sim::Sweep::new(env!("CARGO_PKG_NAME"), cfg!(feature = "solution"))
        }

        /// Runs `test` once per seed of the default sweep; on failure, prints
        /// the seed and the command that replays it.
        pub fn for_each_seed<F, Fut>(test: F)
        where
            F: Fn($crate::Seed) -> Fut,
            Fut: ::std::future::Future<Output = ()>,
        {
            sweep().run(test);
        }
    };
}

/// Runs a test over many seeds, printing the seed and the command that replays
/// it when one fails.
///
/// Seeds run in order 1, 2, 3, … up to the count, which is the largest of
/// 16 (the default, or [`by_default`](Sweep::by_default)), the `DWC_SEEDS`
/// environment variable and [`at_least`](Sweep::at_least). `DWC_SEED=n`
/// runs seed `n` alone. Each seed gets its own runtime, so no state leaks
/// between seeds.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The cargo package whose tests run, for the replay command.
    package: &'static str,
    /// Whether the reference solutions are compiled in, for the replay command.
    solution_mode: bool,
    /// How many seeds run when `DWC_SEEDS` asks for no more.
    by_default: usize,
    /// The minimum number of seeds this test asks for.
    at_least: usize,
    /// The limits for each seed's run.
    guard: Guard,
    /// What usually makes this test hang, for the guards' messages.
    when_stuck: Option<&'static str>,
}

impl Sweep {
    /// A sweep of a test in `package`. `solution_mode` is whether the package
    /// was built with its `solution` feature; each workshop passes its own
    /// `cfg!(feature = "solution")`.
    pub fn new(package: &'static str, solution_mode: bool) -> Self {
        Self {
            package,
            solution_mode,
            by_default: DEFAULT_SEEDS,
            at_least: 0,
            guard: Guard::default(),
            when_stuck: None,
        }
    }

    /// Runs at least `count` seeds, for properties that need a wide sweep.
    pub fn at_least(mut self, count: usize) -> Self {
        self.at_least = count;
        self
    }

    /// Runs `count` seeds unless `DWC_SEEDS` (or
    /// [`at_least`](Sweep::at_least)) asks for more, instead of the default
    /// 16: for a test whose every seed is expensive, such as a scenario of
    /// ten thousand messages that takes a second of real time.
    pub fn by_default(mut self, count: usize) -> Self {
        self.by_default = count;
        self
    }

    /// Uses `guard` for every seed's run.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = guard;
        self
    }

    /// Names what usually makes this test hang (a phrase that completes
    /// "In this test, that is usually ..."), so a hang reports the likely
    /// fault of the exercise under test and not only the general kinds.
    pub fn when_stuck(mut self, cause: &'static str) -> Self {
        self.when_stuck = Some(cause);
        self
    }

    /// The seeds this sweep will run.
    ///
    /// # Panics
    /// When `DWC_SEED` or `DWC_SEEDS` is set to something that is not a
    /// number; the message says which and what it should look like.
    pub fn seeds(&self) -> Vec<Seed> {
        match Seed::from_env() {
            Ok(Some(seed)) => return vec![seed],
            Ok(None) => {}
            Err(error) => panic!("{error}"),
        }
        let from_env = match std::env::var(SEEDS_VARIABLE) {
            Ok(text) => text.trim().parse().unwrap_or_else(|_| {
                panic!("{SEEDS_VARIABLE} must be a number of seeds such as 200, got {text:?}")
            }),
            Err(_) => 0,
        };
        let count = self.by_default.max(from_env).max(self.at_least);
        (1..=count as u64).map(Seed::new).collect()
    }

    /// Runs `test` once per seed, each in its own simulation.
    ///
    /// # Panics
    /// When `test` fails for a seed; before the panic continues, the seed and
    /// a command that replays only that seed are printed.
    pub fn run<F, Fut>(&self, test: F)
    where
        F: Fn(Seed) -> Fut,
        Fut: Future<Output = ()>,
    {
        for seed in self.seeds() {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                simulate_explained(self.guard, self.when_stuck, test(seed))
            }));
            if let Err(panic) = outcome {
                eprintln!(
                    "\nseed {seed} failed. Replay just this seed with:\n    {}\n",
                    self.replay_command(seed)
                );
                panic::resume_unwind(panic);
            }
        }
    }

    /// The command that runs only this test, only for `seed`.
    pub fn replay_command(&self, seed: Seed) -> String {
        let mut command = format!("DWC_SEED={seed} cargo test -p {}", self.package);
        if self.solution_mode {
            command.push_str(" --features solution");
        }
        if let Some(target) = test_target() {
            if target == self.package.replace('-', "_") {
                command.push_str(" --lib");
            } else {
                command.push_str(&format!(" --test {target}"));
            }
        }
        if let Some(test) = thread::current().name().filter(|name| *name != "main") {
            command.push_str(&format!(" -- {test} --exact"));
        }
        command
    }
}

/// The name of the running test (libtest names each test's thread after it),
/// or a generic name outside tests.
fn current_test_name() -> String {
    match thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "this simulation".to_string(),
    }
}

/// The cargo target of the running test binary: its file name without the hash
/// cargo appends (`ex1_1_immediate_retry-0a1b2c3d` → `ex1_1_immediate_retry`).
fn test_target() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let target = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name,
        _ => stem,
    };
    Some(target.to_string())
}

/// Stops the whole process if a run takes longer than its wall-clock limit.
///
/// A run that never yields cannot be interrupted from inside: its thread is
/// busy. A helper thread waits for the run to finish (the [`Watchdog`] is
/// dropped, which closes the channel) and, if the limit passes first, reports
/// the hang and exits, so a learner sees a message instead of a frozen
/// terminal.
struct Watchdog {
    /// Dropping this sender is the "finished in time" signal.
    _finished: mpsc::Sender<()>,
}

impl Watchdog {
    fn arm(limit: Duration, name: String, cause: String) -> Self {
        let (finished, wait) = mpsc::channel::<()>();
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                // Written to the process's stderr directly, not with
                // `eprintln!`: this thread inherits the test's output
                // capture, and captured output is lost when the process
                // exits below.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nprobable livelock in {name}: no result after {limit:?} of real \
                     time, so the runtime's thread never came back to move simulated time. \
                     Either a task is busy without ever awaiting (a loop without .await), or the \
                     thread is blocked: a std lock held across an .await and asked for again, \
                     two locks taken in different orders, or a blocking wait for a wake-up \
                     nobody sends.{cause}\nStopping the test \
                     process.\n"
                );
                std::process::exit(101);
            }
        });
        Self {
            _finished: finished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paused time: an hour of sleeping finishes at once, and the clock reads
    /// exactly an hour.
    #[test]
    fn an_hour_of_simulated_sleep_takes_no_real_time() {
        let started = std::time::Instant::now();
        let elapsed = simulate(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            clock::elapsed()
        });
        assert_eq!(elapsed, Duration::from_secs(3600));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// A deadlock fails with a message that says so, instead of hanging.
    #[test]
    fn a_deadlock_fails_with_a_clear_message() {
        let outcome = panic::catch_unwind(|| {
            simulate_with(
                Guard {
                    simulated: Duration::from_secs(10),
                    wall: Duration::from_secs(30),
                },
                std::future::pending::<()>(),
            )
        });
        let panic = outcome.expect_err("a future that never finishes must fail the guard");
        let message = panic
            .downcast_ref::<String>()
            .expect("the guard panics with a formatted message");
        assert!(
            message.contains("probable deadlock or livelock"),
            "{message}"
        );
    }

    /// A sweep that says what usually makes its test hang adds that to the
    /// guard's message.
    #[test]
    fn a_hang_message_names_the_likely_cause_the_test_gave() {
        let sweep = Sweep::new("workshop9", false)
            .with_guard(Guard {
                simulated: Duration::from_secs(10),
                wall: Duration::from_secs(30),
            })
            .when_stuck("a lease that is never renewed");
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            sweep.run(|_| std::future::pending::<()>());
        }));
        let panic = outcome.expect_err("a future that never finishes must fail the guard");
        let message = panic
            .downcast_ref::<String>()
            .expect("the guard panics with a formatted message");
        assert!(
            message.contains("In this test, that is usually a lease that is never renewed"),
            "{message}"
        );
    }

    /// The replay command names the package, the mode and this test.
    #[test]
    fn replay_command_names_package_mode_and_test() {
        let command = Sweep::new("workshop1", true).replay_command(Seed::new(9));
        assert!(
            command.starts_with("DWC_SEED=9 cargo test -p workshop1 --features solution"),
            "{command}"
        );
        assert!(
            command.contains("replay_command_names_package_mode_and_test --exact"),
            "{command}"
        );
    }

    /// A sweep sized for expensive tests runs its own default unless asked
    /// for more. (Checked only when neither `DWC_SEEDS` nor `DWC_SEED` is
    /// set: under either, the count is theirs to decide.)
    #[test]
    fn a_sized_sweep_runs_its_own_default() {
        if std::env::var(SEEDS_VARIABLE).is_ok() || Seed::from_env().ok().flatten().is_some() {
            return;
        }
        let seeds = Sweep::new("coordination", false).by_default(2).seeds();
        assert_eq!(seeds, vec![Seed::new(1), Seed::new(2)]);
        let wide = Sweep::new("coordination", false).by_default(2).at_least(5);
        assert_eq!(wide.seeds().len(), 5);
    }

    /// Each seed runs in a fresh simulation whose clock starts at zero.
    #[test]
    fn every_seed_starts_at_time_zero() {
        Sweep::new("coordination", false).run(|_seed| async {
            assert_eq!(clock::elapsed(), Duration::ZERO);
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
    }
}
