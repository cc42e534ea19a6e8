//! Hints, one level at a time, gentle to explicit.
//!
//! Each exercise has two or three hints in its catalogue. Asking again shows
//! the next one, so a learner who only needed a nudge never sees the
//! answer. How far each learner got is kept in a small file per exercise
//! under the target folder: it is not progress (progress comes from the
//! tests), it is never committed, and losing it only means the first hint
//! again.

use std::path::PathBuf;

use crate::catalogue::Exercise;
use crate::error::{Context, Result};
use crate::workspace::Workspace;

/// Where the hint levels shown so far are kept.
#[derive(Debug, Clone)]
pub struct Hints {
    /// One file per exercise, holding the last level shown.
    folder: PathBuf,
}

/// A hint, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Which one, from 1.
    pub level: usize,
    /// How many the exercise has.
    pub levels: usize,
    /// What it says.
    pub text: String,
    /// Whether every hint had been shown already, so this is the last one
    /// again.
    pub repeated: bool,
}

impl Hints {
    /// The hint levels of the learner in `workspace`.
    pub fn new(workspace: &Workspace) -> Self {
        Self {
            folder: workspace.target_dir().join("workshop").join("hints"),
        }
    }

    /// The next hint of `exercise`, and remembers it was shown.
    ///
    /// # Errors
    /// When the level cannot be saved.
    pub fn next(&self, exercise: &Exercise) -> Result<Hint> {
        let levels = exercise.hints.len();
        let shown = self.shown(exercise);
        let level = (shown + 1).min(levels);
        std::fs::create_dir_all(&self.folder)
            .context(|| format!("creating {}", self.folder.display()))?;
        let file = self.file(exercise);
        std::fs::write(&file, level.to_string())
            .context(|| format!("writing {}", file.display()))?;
        Ok(Hint {
            level,
            levels,
            text: exercise.hints[level - 1].clone(),
            repeated: shown >= levels,
        })
    }

    /// Forgets the hints shown for `exercise`: the next one is the first.
    pub fn forget(&self, exercise: &Exercise) {
        let _ = std::fs::remove_file(self.file(exercise));
    }

    /// How many hints of `exercise` were shown (0 if none, or the file is
    /// unreadable).
    fn shown(&self, exercise: &Exercise) -> usize {
        std::fs::read_to_string(self.file(exercise))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }

    fn file(&self, exercise: &Exercise) -> PathBuf {
        self.folder.join(exercise.id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_come_one_level_at_a_time_then_repeat_the_last() {
        let folder = std::env::temp_dir().join(format!("hints-test-{}", std::process::id()));
        let hints = Hints {
            folder: folder.clone(),
        };
        let exercise = Exercise {
            id: crate::exercise_id::ExerciseId::new(9, 1),
            title: String::new(),
            file: String::new(),
            test: String::new(),
            minutes: 1,
            hints: vec!["gentle".into(), "explicit".into()],
            stretch: false,
            test_order: Vec::new(),
            hang_cause: None,
        };
        hints.forget(&exercise);
        let shown: Vec<(usize, String, bool)> = (0..3)
            .map(|_| {
                let hint = hints.next(&exercise).expect("the folder is writable");
                (hint.level, hint.text, hint.repeated)
            })
            .collect();
        assert_eq!(
            shown,
            [
                (1, "gentle".to_string(), false),
                (2, "explicit".to_string(), false),
                (2, "explicit".to_string(), true)
            ]
        );
        let _ = std::fs::remove_dir_all(folder);
    }
}
