//! Log lines stamped with simulated time.
//!
//! Demos narrate a run through `tracing` ("worker-2 item-7 attempt 2 failed").
//! A wall-clock timestamp would be meaningless (the whole run takes a few
//! milliseconds), so every line carries the simulated time instead, the same
//! numbers a report and a timeline show.
//!
//! Tests stay silent unless `DWC_LOG` is set (`DWC_LOG=debug cargo test …`),
//! then each simulated run logs to the test's captured output.

use std::fmt;
use std::io::IsTerminal;

use tracing::Level;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

use super::clock;

/// The environment variable that turns on logging in tests.
pub const LOG_VARIABLE: &str = "DWC_LOG";

/// Formats the time of a log line as simulated seconds since the run began.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedTime;

impl FormatTime for SimulatedTime {
    fn format_time(&self, writer: &mut Writer<'_>) -> fmt::Result {
        write!(writer, "{:>8.3}s", clock::elapsed().as_secs_f64())
    }
}

/// Whether colour is wanted: only on a terminal, and not when `NO_COLOR` is
/// set (see no-color.org).
pub fn colour_wanted() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Installs a process-wide subscriber for a demo: info lines, or debug lines
/// when `verbose`, with simulated timestamps and colour unless `NO_COLOR` is
/// set. Calling it twice keeps the first.
pub fn init_for_demo(verbose: bool) {
    let level = if verbose { Level::DEBUG } else { Level::INFO };
    let _already_installed = tracing_subscriber::fmt()
        .with_timer(SimulatedTime)
        .with_target(false)
        .with_max_level(level)
        .with_ansi(colour_wanted())
        .try_init();
}

/// When `DWC_LOG` names a level (`info`, `debug`, `trace`), logs the current
/// thread's simulations to the test's captured output until the guard is
/// dropped.
pub fn for_test() -> Option<DefaultGuard> {
    let level: Level = std::env::var(LOG_VARIABLE).ok()?.parse().ok()?;
    let subscriber = tracing_subscriber::fmt()
        .with_timer(SimulatedTime)
        .with_max_level(level)
        .with_ansi(false)
        .with_test_writer()
        .finish();
    Some(tracing::subscriber::set_default(subscriber))
}
