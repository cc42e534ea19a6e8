//! `cargo workshop watch`: check again on every save.
//!
//! The watcher polls: every half second it reads the modification time and
//! size of each file in the workshops' `src/`, `tests/` and `examples/`
//! folders (a few dozen files, microseconds of work) and checks again when
//! any of them changed. A file-watching crate (inotify, FSEvents) would react
//! a few hundred milliseconds sooner, but its events do not arrive on some
//! of the file systems learners use: folders shared into a container or a
//! virtual machine, network drives, some WSL set-ups. Polling works on all of
//! them and adds nothing to the build.
//!
//! Where even modification times are unreliable (or to save a laptop's
//! battery), manual mode checks again when Enter is pressed instead.
//!
//! Every check runs under the time limit of [`crate::progress`], so a
//! learner's infinite loop is reported as a hang and the watcher carries on.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::catalogue::Catalogue;
use crate::error::Result;
use crate::workspace::Workspace;

/// When to check again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// When a watched file changes, looking this often.
    Poll(Duration),
    /// When Enter is pressed; stops at the end of input (Ctrl-D).
    Manual,
}

/// How often the watcher looks at the files: fast enough to feel immediate
/// after a save, slow enough to cost nothing.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// What the watched files looked like at one moment: modification time and
/// size per file, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, (Option<SystemTime>, u64)>);

impl Snapshot {
    /// The watched files of `catalogues`' workshops, now.
    pub fn take(workspace: &Workspace, catalogues: &[Catalogue]) -> Self {
        let mut files = BTreeMap::new();
        for catalogue in catalogues {
            let crate_folder = workspace.root.join(catalogue.package());
            for folder in ["src", "tests", "examples"] {
                collect(&crate_folder.join(folder), &mut files);
            }
            collect(&catalogue.path, &mut files);
        }
        Self(files)
    }

    /// How many files are watched.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no file is watched.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn collect(path: &Path, files: &mut BTreeMap<PathBuf, (Option<SystemTime>, u64)>) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    if metadata.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                collect(&entry.path(), files);
            }
        }
    } else {
        files.insert(
            path.to_path_buf(),
            (metadata.modified().ok(), metadata.len()),
        );
    }
}

/// Runs `check` now and again on every `trigger`, until the input ends
/// (manual mode) or the process is stopped (Ctrl-C).
///
/// # Errors
/// The first error of `check` that is not a failing test (those are what
/// watching is for): cargo missing, a file unreadable.
pub fn watch(
    workspace: &Workspace,
    catalogues: &[Catalogue],
    trigger: Trigger,
    mut check: impl FnMut() -> Result<()>,
) -> Result<()> {
    check()?;
    match trigger {
        Trigger::Manual => {
            println!("\nPress Enter to check again (Ctrl-D to stop).");
            for line in std::io::stdin().lock().lines() {
                if line.is_err() {
                    break;
                }
                check()?;
                println!("\nPress Enter to check again (Ctrl-D to stop).");
            }
            Ok(())
        }
        Trigger::Poll(every) => {
            let mut seen = Snapshot::take(workspace, catalogues);
            println!(
                "\nWatching {} files; checking again on every save (Ctrl-C to stop). If saving \
                 does nothing here, use `cargo workshop watch --manual`.",
                seen.len()
            );
            loop {
                std::thread::sleep(every);
                let now = Snapshot::take(workspace, catalogues);
                if now != seen {
                    // An editor may write a file in several steps; wait for
                    // it to settle before building.
                    std::thread::sleep(every / 2);
                    seen = Snapshot::take(workspace, catalogues);
                    check()?;
                    println!("\nWatching; checking again on every save (Ctrl-C to stop).");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_changes_the_snapshot() {
        let folder = std::env::temp_dir().join(format!("watch-test-{}", std::process::id()));
        let file = folder.join("a.rs");
        std::fs::create_dir_all(&folder).expect("temp is writable");
        std::fs::write(&file, "fn a() {}").expect("temp is writable");
        let snapshot = |files: &mut BTreeMap<_, _>| {
            collect(&folder, files);
            Snapshot(std::mem::take(files))
        };
        let mut files = BTreeMap::new();
        let before = snapshot(&mut files);
        assert_eq!(before, snapshot(&mut files), "nothing changed");
        std::fs::write(&file, "fn a() { todo!() }").expect("temp is writable");
        assert_ne!(before, snapshot(&mut files), "a save is seen");
        let _ = std::fs::remove_dir_all(folder);
    }
}
