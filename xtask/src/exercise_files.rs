//! Putting exercise files back: the stub (`reset`) or the reference
//! solutions of earlier exercises (`checkpoint`).
//!
//! A learner who wants to start an exercise over, or an instructor who
//! live-coded it and wants the stub back for the next group, resets it. A
//! learner who fell behind, or a presenter who skipped ahead, checkpoints:
//! the exercises before the one named get their reference solutions, so the
//! named one can be done next.
//!
//! The stub is taken from git, not from a copy kept in the repository (a
//! copy could drift from the real stub): from the branch's upstream when
//! there is one (`origin/main` after a clone, which still has the stub even
//! if the learner committed their work), otherwise from the last commit.
//!
//! Nothing is lost: before a file that holds a learner's own work is
//! replaced, the tool asks (unless told `--yes`) and saves a copy under
//! `target/workshop/backups/`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::catalogue::{Catalogue, Exercise};
use crate::error::{Context, Error, Result};
use crate::exercise_id::ExerciseId;
use crate::git::Git;
use crate::workspace::Workspace;

/// Whether replacing a learner's work needs a yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Ask on the terminal; refuse (with how to confirm) when there is none.
    Ask,
    /// Go ahead: `--yes`, for instructors between groups and for scripts.
    Yes,
}

/// What a reset or checkpoint did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The exercise.
    pub id: ExerciseId,
    /// The file, relative to the repository root.
    pub file: PathBuf,
    /// Where the previous content was saved, if it was the learner's work.
    pub backup: Option<PathBuf>,
}

/// The stub of `exercise` and the revision it came from.
///
/// # Errors
/// When git is missing, the folder is not a git checkout, or no revision
/// has the file.
pub fn stub(
    workspace: &Workspace,
    catalogue: &Catalogue,
    exercise: &Exercise,
) -> Result<(Vec<u8>, String)> {
    let git = Git::new(&workspace.root);
    let path = catalogue
        .exercise_path(exercise)
        .to_string_lossy()
        .replace('\\', "/");
    let upstream = git.upstream();
    for revision in upstream.iter().map(String::as_str).chain(["HEAD"]) {
        if let Ok(content) = git.output(&["show", &format!("{revision}:{path}")], &[]) {
            return Ok((content, revision.to_string()));
        }
    }
    Err(Error::Check(format!(
        "cannot find the stub of {path} in git (looked in {}HEAD). reset needs the \
         repository's git history: run it in a git clone of the workshop repository",
        upstream
            .map(|name| format!("{name} and "))
            .unwrap_or_default()
    )))
}

/// Puts the stub of `exercise` back in place.
///
/// Returns `None` when the file already is the stub.
///
/// # Errors
/// When the stub cannot be found, the learner does not confirm, or a file
/// cannot be written.
pub fn reset(
    workspace: &Workspace,
    catalogue: &Catalogue,
    exercise: &Exercise,
    confirm: Confirm,
) -> Result<Option<(Replaced, String)>> {
    let (stub, revision) = stub(workspace, catalogue, exercise)?;
    let file = catalogue.exercise_path(exercise);
    let current = read(workspace, &file)?;
    if current == stub {
        return Ok(None);
    }
    ask(
        confirm,
        &format!(
            "Reset {} to its stub? This replaces {} (your version is saved under target/workshop/backups/).",
            exercise.id,
            file.display()
        ),
        "reset",
    )?;
    let backup = back_up(workspace, &file, &current)?;
    write(workspace, &file, &stub)?;
    Ok(Some((
        Replaced {
            id: exercise.id,
            file,
            backup: Some(backup),
        },
        revision,
    )))
}

/// Puts the reference solutions of every exercise before `target` in its
/// workshop in place; `target` and later exercises are left as they are.
/// Without a `target`, every exercise of the workshop gets its solution:
/// the checkpoint past its last exercise.
///
/// Files that already hold the solution are left alone; files that hold
/// neither the stub nor the solution are the learner's work, and need a yes
/// and get a backup. Returns what was replaced.
///
/// # Errors
/// When the learner does not confirm or a file cannot be read or written.
pub fn checkpoint(
    workspace: &Workspace,
    catalogue: &Catalogue,
    target: Option<&Exercise>,
    confirm: Confirm,
) -> Result<Vec<Replaced>> {
    let earlier: Vec<&Exercise> = catalogue
        .exercises
        .iter()
        .take_while(|exercise| target.is_none_or(|target| exercise.id != target.id))
        .collect();
    let mut plan = Vec::new();
    let mut own_work = Vec::new();
    for exercise in earlier {
        let file = catalogue.exercise_path(exercise);
        let solution = read(workspace, &catalogue.solution_path(exercise))?;
        let current = read(workspace, &file)?;
        if current == solution {
            continue;
        }
        // Without git, every file that is not the solution counts as the
        // learner's work: better one question too many than lost work.
        let is_stub = stub(workspace, catalogue, exercise).is_ok_and(|(stub, _)| stub == current);
        if !is_stub {
            own_work.push(file.display().to_string());
        }
        plan.push((exercise, file, current, solution, !is_stub));
    }
    if !own_work.is_empty() {
        ask(
            confirm,
            &format!(
                "Checkpoint {} replaces your work in {} with the reference solutions \
                 (your versions are saved under target/workshop/backups/). Go ahead?",
                target.map_or_else(
                    || catalogue.workshop.to_string(),
                    |target| target.id.to_string()
                ),
                own_work.join(", ")
            ),
            "checkpoint",
        )?;
    }
    let mut replaced = Vec::new();
    for (exercise, file, current, solution, is_own_work) in plan {
        let backup = if is_own_work {
            Some(back_up(workspace, &file, &current)?)
        } else {
            None
        };
        write(workspace, &file, &solution)?;
        replaced.push(Replaced {
            id: exercise.id,
            file,
            backup,
        });
    }
    Ok(replaced)
}

/// Asks `question` on the terminal, or refuses when `confirm` is `Ask` and
/// there is no terminal to ask on; `command` is what to run again
/// (`cargo workshop COMMAND --yes`).
///
/// # Errors
/// [`Error::Usage`] when the answer is not yes, or cannot be given.
pub fn ask(confirm: Confirm, question: &str, command: &str) -> Result<()> {
    if confirm == Confirm::Yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "{question}\nThere is no terminal to answer on: run `cargo workshop {command}` \
             again with --yes to confirm."
        )));
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context(|| "reading the answer".to_string())?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "nothing changed. Run `cargo workshop {command}` again and answer y to go ahead."
        )))
    }
}

/// Saves `content` of `file` as the next free numbered copy under
/// `target/workshop/backups/` and returns where.
fn back_up(workspace: &Workspace, file: &Path, content: &[u8]) -> Result<PathBuf> {
    let folder = workspace.target_dir().join("workshop").join("backups");
    std::fs::create_dir_all(&folder).context(|| format!("creating {}", folder.display()))?;
    let name = file.to_string_lossy().replace(['/', '\\'], "-");
    let backup = (1..)
        .map(|number| folder.join(format!("{name}.{number}")))
        .find(|candidate| !candidate.exists())
        .expect("some numbered name is free");
    std::fs::write(&backup, content).context(|| format!("writing {}", backup.display()))?;
    Ok(backup)
}

fn read(workspace: &Workspace, file: &Path) -> Result<Vec<u8>> {
    std::fs::read(workspace.root.join(file)).context(|| format!("reading {}", file.display()))
}

fn write(workspace: &Workspace, file: &Path, content: &[u8]) -> Result<()> {
    std::fs::write(workspace.root.join(file), content)
        .context(|| format!("writing {}", file.display()))
}
