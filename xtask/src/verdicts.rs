//! The last verdicts of a workshop's tests, kept with what produced them.
//!
//! Building and running a workshop's tests is what makes `cargo workshop`
//! slow; doing it again when nothing changed gives the same answer, because
//! every run is deterministic. So each workshop's last verdicts are saved
//! under `target/workshop/verdicts/` with a fingerprint of everything that
//! can change them: the bytes of every file of the workshop's crate and of
//! `core` (what the test binary is built from), the manifests, the lock
//! file and cargo's configuration, the environment variables that change a
//! build or a run (`DWC_*`, `RUSTFLAGS`, `CARGO_PROFILE_*`, ...), the time
//! limit, and this tool's own build. A verdict is used only when the
//! fingerprint matches exactly; anything else runs the tests again.
//!
//! Reading the files costs a few milliseconds; the fingerprint is a
//! 64-bit SipHash, which only has to tell this tree from its own earlier
//! states.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::exercise_id::ExerciseId;
use crate::progress::State;
use crate::workspace::Workspace;

/// One exercise's saved verdict: how many tests, and where it stood.
pub type Verdict = (usize, State);

/// The saved verdicts of one workshop.
#[derive(Debug, Clone)]
pub struct Verdicts {
    file: PathBuf,
    fingerprint: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    fingerprint: String,
    exercises: BTreeMap<ExerciseId, Verdict>,
}

impl Verdicts {
    /// The verdicts of `catalogue`'s workshop for the tree as it is now,
    /// with tests stopped after `limit`.
    pub fn open(workspace: &Workspace, catalogue: &Catalogue, limit: Duration) -> Self {
        Self {
            file: workspace
                .target_dir()
                .join("workshop")
                .join("verdicts")
                .join(format!("{}.json", catalogue.package())),
            fingerprint: fingerprint(&workspace.root, &catalogue.package(), limit),
        }
    }

    /// The saved verdicts by exercise id, if they were saved for this
    /// fingerprint; empty otherwise.
    pub fn load(&self) -> BTreeMap<ExerciseId, Verdict> {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| serde_json::from_str::<Saved>(&text).ok())
            .filter(|saved| saved.fingerprint == self.fingerprint)
            .map(|saved| saved.exercises)
            .unwrap_or_default()
    }

    /// Saves `exercises` for this fingerprint. A cache that cannot be
    /// written only costs a build next time, so failures are ignored.
    pub fn save(&self, exercises: &BTreeMap<ExerciseId, Verdict>) {
        let saved = Saved {
            fingerprint: self.fingerprint.clone(),
            exercises: exercises.clone(),
        };
        if let (Some(parent), Ok(text)) = (self.file.parent(), serde_json::to_string(&saved)) {
            let _ = std::fs::create_dir_all(parent);
            let _ = std::fs::write(&self.file, text);
        }
    }
}

/// The fingerprint of everything `package`'s test verdicts depend on.
fn fingerprint(root: &Path, package: &str, limit: Duration) -> String {
    let mut hasher = DefaultHasher::new();
    let mut files = Vec::new();
    for folder in [package, "core"] {
        collect(&root.join(folder), &mut files);
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        ".cargo/config",
    ] {
        files.push(root.join(file));
    }
    files.sort();
    for file in &files {
        file.strip_prefix(root).unwrap_or(file).hash(&mut hasher);
        std::fs::read(file).ok().hash(&mut hasher);
    }
    let mut variables: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| {
            [
                "DWC_",
                "RUST",
                "CARGO_PROFILE_",
                "CARGO_BUILD_",
                "CARGO_INCREMENTAL",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        })
        .collect();
    variables.sort();
    variables.hash(&mut hasher);
    limit.hash(&mut hasher);
    // A new build of this tool may judge differently.
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|metadata| metadata.modified())
        .ok()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Every file under `folder`, except build output, examples (the test
/// binary does not include them) and hidden files.
fn collect(folder: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "target" || name == "examples" || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_changes_with_a_file_and_with_the_limit() {
        let root = std::env::temp_dir().join(format!("verdicts-test-{}", std::process::id()));
        let file = root.join("workshop9").join("src").join("lib.rs");
        std::fs::create_dir_all(file.parent().expect("it has a folder")).expect("temp is writable");
        std::fs::write(&file, "pub fn a() {}").expect("temp is writable");
        let limit = Duration::from_secs(10);
        let before = fingerprint(&root, "workshop9", limit);
        assert_eq!(
            before,
            fingerprint(&root, "workshop9", limit),
            "nothing changed"
        );
        assert_ne!(before, fingerprint(&root, "workshop9", limit * 2));
        std::fs::write(&file, "pub fn a() { todo!() }").expect("temp is writable");
        assert_ne!(
            before,
            fingerprint(&root, "workshop9", limit),
            "an edit is seen"
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
