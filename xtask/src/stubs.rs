//! Which exercise files are still their stubs, found without building.
//!
//! The progressive check proves that every exercise's tests fail on its
//! stub, whatever state the other exercises are in. So an exercise whose
//! file is byte for byte its stub is "not started", and there is nothing to
//! build or run to know it: on a fresh clone, the first screen appears as
//! soon as this tool is built.
//!
//! The stub is the file as git has it in the branch's upstream
//! (`origin/main` after a clone; on a branch without one, the remote's
//! default branch), or in the last commit when there is no remote: the same revision `cargo workshop reset` takes a stub from. A
//! learner who pulls gets the new stubs in both places at once; a learner
//! who commits their work keeps the upstream's stub to compare with. A file
//! that equals its reference solution is never taken for a stub, so a clone
//! of the solved branch does not read as "not started". Without git (a
//! downloaded archive), nothing is known here and the tests decide.
//!
//! Three git commands answer for every exercise at once: which revision,
//! the blob ids it holds (`ls-tree`), and the blob ids the files on disk
//! would have (`hash-object`, which applies the same line-ending rules as
//! `git add`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::catalogue::Catalogue;
use crate::exercise_id::ExerciseId;
use crate::git::Git;
use crate::workspace::Workspace;

/// Whether each exercise file (by exercise id) is its stub. Exercises
/// missing from the map are unknown: no git, or no stub in git.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stubs(BTreeMap<ExerciseId, bool>);

impl Stubs {
    /// Looks at every exercise file of `catalogues`.
    pub fn find(workspace: &Workspace, catalogues: &[Catalogue]) -> Self {
        let git = Git::new(&workspace.root);
        let upstream = git.upstream();
        let revision = upstream.unwrap_or_else(|| "HEAD".to_string());
        let files: Vec<(ExerciseId, PathBuf, PathBuf)> = catalogues
            .iter()
            .flat_map(|catalogue| {
                catalogue.exercises.iter().map(move |exercise| {
                    (
                        exercise.id,
                        catalogue.exercise_path(exercise),
                        catalogue.solution_path(exercise),
                    )
                })
            })
            .collect();
        let paths: Vec<String> = files
            .iter()
            .map(|(_, path, _)| path.to_string_lossy().replace('\\', "/"))
            .collect();
        let mut ls_tree = vec!["ls-tree", "-r", revision.as_str(), "--"];
        ls_tree.extend(paths.iter().map(String::as_str));
        let Ok(listed) = git.run(&ls_tree, &[]) else {
            return Self::default();
        };
        let committed: BTreeMap<&str, &str> = listed
            .lines()
            .filter_map(|line| {
                let (meta, path) = line.split_once('\t')?;
                Some((path, meta.split_whitespace().nth(2)?))
            })
            .collect();
        let mut hash_object = vec!["hash-object", "--"];
        hash_object.extend(paths.iter().map(String::as_str));
        let Ok(hashed) = git.run(&hash_object, &[]) else {
            return Self::default();
        };
        let mut stubs = BTreeMap::new();
        for ((id, path, solution), (slashed, on_disk)) in
            files.iter().zip(paths.iter().zip(hashed.lines()))
        {
            let Some(stub) = committed.get(slashed.as_str()) else {
                continue;
            };
            let is_stub = *stub == on_disk.trim()
                && std::fs::read(workspace.root.join(path)).ok()
                    != std::fs::read(workspace.root.join(solution)).ok();
            stubs.insert(*id, is_stub);
        }
        Self(stubs)
    }

    /// Whether exercise `id`'s file is its stub; `None` when unknown.
    pub fn is_stub(&self, id: ExerciseId) -> Option<bool> {
        self.0.get(&id).copied()
    }

    /// Whether every exercise of `catalogue` is known to be its stub.
    pub fn all_stubs(&self, catalogue: &Catalogue) -> bool {
        catalogue
            .exercises
            .iter()
            .all(|exercise| self.is_stub(exercise.id) == Some(true))
    }

    /// Whether any exercise of `catalogue` is known to hold the learner's
    /// own work.
    pub fn any_changed(&self, catalogue: &Catalogue) -> bool {
        catalogue
            .exercises
            .iter()
            .any(|exercise| self.is_stub(exercise.id) == Some(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_exercise_files_are_their_stubs() {
        let workspace = Workspace::locate().expect("the repository is here");
        let catalogues = workspace.catalogues().expect("catalogues are valid");
        let stubs = Stubs::find(&workspace, &catalogues);
        // Inside a git checkout every exercise has a stub in git; whether
        // each file on disk is still its stub depends on the checkout.
        if workspace.root.join(".git").exists() {
            for catalogue in &catalogues {
                for exercise in &catalogue.exercises {
                    assert!(
                        stubs.is_stub(exercise.id).is_some(),
                        "{} has no stub in git",
                        exercise.id
                    );
                }
            }
        }
    }
}
