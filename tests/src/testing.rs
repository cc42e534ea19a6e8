//! Helpers for the capstone's tests: seeds and the assertions they share.

use std::future::Future;

use coordination::Seed;
use coordination::sim::Sweep;

use crate::sim::ScenarioReport;

/// How many seeds a scenario of ten thousand messages runs by default: each
/// takes about a second of real time, and a learner's whole test run should
/// stay within a few seconds. `DWC_SEEDS` asks for more.
pub const SCENARIO_SEEDS: usize = 2;

/// A sweep of a test over seeds, replayable with this crate's command line.
pub fn sweep() -> Sweep {
    Sweep::new(env!("CARGO_PKG_NAME"), cfg!(feature = "solution"))
}

/// Runs `test` once per seed of the default sweep; on failure, prints the
/// seed and the command that replays it.
pub fn for_each_seed<F, Fut>(test: F)
where
    F: Fn(Seed) -> Fut,
    Fut: Future<Output = ()>,
{
    sweep().run(test);
}

/// Fails with every broken rule of `report`, each naming its message, and
/// the run's summary.
///
/// # Panics
/// When the run broke a rule.
#[track_caller]
pub fn assert_every_rule_held(report: &ScenarioReport) {
    let broken = report.violations();
    if broken.is_empty() {
        return;
    }
    let shown: Vec<&String> = broken.iter().take(12).collect();
    let more = broken.len().saturating_sub(shown.len());
    let mut message = format!("{} rule(s) broken in {}:\n", broken.len(), report.name);
    for line in shown {
        message.push_str(&format!("  - {line}\n"));
    }
    if more > 0 {
        message.push_str(&format!("  ... and {more} more\n"));
    }
    message.push_str(&format!("{report}"));
    panic!("{message}");
}
