//! The template every workshop's `INSTRUCTOR.md` follows, checked.
//!
//! An instructor who has taught one workshop should find their way in the
//! next one's notes without reading them twice, so every `INSTRUCTOR.md` has
//! the same sections, in this order:
//!
//! 1. `## Before the session`: preparing machines (`cargo workshop doctor`),
//!    building once, the pictures to make;
//! 2. `## Timing plan`: a table whose first column is minute ranges
//!    (`0-10`, `10-15`, …) that run without gaps from 0 to 90;
//! 3. `## Live-coding script`: per part, the exact commands and the output
//!    expected at each step;
//! 4. `## Discussion questions`;
//! 5. `## Common mistakes`: what learners get wrong, and what the tests say
//!    then;
//! 6. `## Recovering a room`: reset, checkpoint, hangs, no network.
//!
//! The check reads only the headings and the timing table: the words are the
//! author's.

use std::path::Path;

use crate::error::{Context, Error, Result};

/// The sections, in order.
pub const SECTIONS: [&str; 6] = [
    "Before the session",
    "Timing plan",
    "Live-coding script",
    "Discussion questions",
    "Common mistakes",
    "Recovering a room",
];

/// How long a session is.
pub const SESSION_MINUTES: u32 = 90;

/// Checks the notes at `path` against the template.
///
/// # Errors
/// [`Error::Check`] naming what is missing or out of order, or a timing plan
/// that does not run from 0 to 90 without gaps.
pub fn check(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).context(|| format!("reading {}", path.display()))?;
    let problem = |message: String| Error::Check(format!("{}: {message}", path.display()));
    let headings: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .collect();
    let mut position = 0;
    for section in SECTIONS {
        match headings[position..]
            .iter()
            .position(|heading| heading.starts_with(section))
        {
            Some(found) => position += found + 1,
            None => {
                return Err(problem(format!(
                    "no `## {section}` section after the ones before it; the sections are, in \
                     order: {}",
                    SECTIONS.join(", ")
                )));
            }
        }
    }
    let ranges = timing_ranges(&text);
    let mut at = 0;
    for (start, end) in &ranges {
        if *start != at || end <= start {
            return Err(problem(format!(
                "the timing plan goes {start}-{end} after minute {at}; its ranges must follow \
                 each other without gaps from 0"
            )));
        }
        at = *end;
    }
    if at != SESSION_MINUTES {
        return Err(problem(format!(
            "the timing plan ends at minute {at}; a session is {SESSION_MINUTES} minutes"
        )));
    }
    Ok(())
}

/// The minute ranges of the timing plan's table: rows under `## Timing plan`
/// whose first cell is `A-B` (a hyphen or an en dash). Other rows (a header,
/// a stretch row) are skipped.
fn timing_ranges(text: &str) -> Vec<(u32, u32)> {
    text.lines()
        .skip_while(|line| !line.starts_with("## Timing plan"))
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| {
            let cell = line.trim().strip_prefix('|')?.split('|').next()?.trim();
            let (start, end) = cell.split_once(['-', '–'])?;
            Some((start.trim().parse().ok()?, end.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_rows_are_read_with_either_dash() {
        let text = "## Timing plan\n\n| minutes | what |\n|---|---|\n| 0-10 | a |\n| 10–90 | b |\n\
                    | (stretch) | c |\n\n## Live-coding script\n| 5-6 | not timing |\n";
        assert_eq!(timing_ranges(text), [(0, 10), (10, 90)]);
    }

    #[test]
    fn every_workshop_follows_the_template() {
        let workspace = crate::workspace::Workspace::locate().expect("the repository is here");
        for catalogue in workspace.catalogues().expect("catalogues are valid") {
            let notes = workspace
                .root
                .join(catalogue.package())
                .join("INSTRUCTOR.md");
            check(&notes).unwrap_or_else(|error| panic!("{error}"));
        }
    }
}
