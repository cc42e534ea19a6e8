//! Every assertion a learner can see fail says what went wrong.
//!
//! A bare `assert!(cond)` fails with the condition's source text and
//! nothing else: "assertion failed: breaker.is_closed()" tells a learner
//! which line, not which rule of the exercise they broke. So every
//! `assert!`, `assert_eq!` and `assert_ne!` (and their `debug_` forms) in a
//! workshop's tests (`tests/**/*.rs`) and in the helpers those tests share
//! (`src/testing.rs`) carries a message. The check reads the files with
//! [`crate::rust_tokens`], so commas inside nested calls, closures, strings
//! and other macros are not taken for the separators of the assertion's
//! arguments.

use std::path::{Path, PathBuf};

use crate::catalogue::Catalogue;
use crate::error::{Context, Error, Result};
use crate::rust_tokens::{self, Kind};

/// An assertion without a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bare {
    /// The file, relative to the repository root.
    pub file: PathBuf,
    /// Its line.
    pub line: usize,
    /// The assertion, on one line, shortened if long.
    pub text: String,
}

/// How many arguments each assertion takes before its message.
fn arguments_before_message(name: &str) -> Option<usize> {
    match name.strip_prefix("debug_").unwrap_or(name) {
        "assert" => Some(1),
        "assert_eq" | "assert_ne" => Some(2),
        _ => None,
    }
}

/// The assertions in `source` that have no message, or whose message is an
/// empty string, as (line, text).
pub fn bare_assertions(source: &str) -> Vec<(usize, String)> {
    let tokens = rust_tokens::tokenize(source);
    let mut found = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if token.kind != Kind::Ident {
            continue;
        }
        let Some(before_message) = arguments_before_message(token.text(source)) else {
            continue;
        };
        // A path such as `pretty::assert_eq!` is the same assertion; a method
        // or field named `assert` is not a macro call.
        if index > 0 && tokens[index - 1].is(source, ".") {
            continue;
        }
        let (Some(bang), Some(open)) = (tokens.get(index + 1), tokens.get(index + 2)) else {
            continue;
        };
        if !bang.is(source, "!") || open.kind != Kind::Open {
            continue;
        }
        let Some(close) = rust_tokens::matching_close(&tokens, index + 2) else {
            continue;
        };
        let arguments = rust_tokens::arguments(source, &tokens, index + 2, close);
        let message = arguments.get(before_message);
        let empty_message = message.is_some_and(|range| {
            range.len() == 1 && matches!(tokens[range.start].text(source), "\"\"" | "r\"\"")
        });
        // A `macro_rules!` body that passes a repetition along
        // (`assert!($($arguments)+)`) may pass a message; its callers are
        // where to look.
        let forwarded = (index + 3..close).any(|at| {
            tokens[at].is(source, "$") && tokens.get(at + 1).is_some_and(|t| t.kind == Kind::Open)
        });
        if (message.is_none() || empty_message) && !forwarded {
            let text = source[token.start..tokens[close].end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            found.push((token.line, shorten(&text, 100)));
        }
    }
    found
}

fn shorten(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_string();
    }
    let kept: String = text.chars().take(most - 3).collect();
    format!("{kept}...")
}

/// The files whose assertions a learner sees: the workshop's tests and its
/// test helpers, relative to the repository root, sorted.
///
/// # Errors
/// When a folder cannot be read.
pub fn files_checked(root: &Path, catalogue: &Catalogue) -> Result<Vec<PathBuf>> {
    let crate_folder = PathBuf::from(catalogue.package());
    let mut files = Vec::new();
    collect_rust_files(root, &crate_folder.join("tests"), &mut files)?;
    let helpers = crate_folder.join("src").join("testing.rs");
    if root.join(&helpers).is_file() {
        files.push(helpers);
    }
    files.sort();
    Ok(files)
}

fn collect_rust_files(root: &Path, folder: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match std::fs::read_dir(root.join(folder)) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Io {
                context: format!("reading {}", folder.display()),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.context(|| format!("reading {}", folder.display()))?;
        let path = folder.join(entry.file_name());
        if entry.path().is_dir() {
            collect_rust_files(root, &path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// Every bare assertion in the files of `catalogues`.
///
/// # Errors
/// When a file cannot be read.
pub fn find(root: &Path, catalogues: &[Catalogue]) -> Result<Vec<Bare>> {
    let mut bare = Vec::new();
    for catalogue in catalogues {
        for file in files_checked(root, catalogue)? {
            let source = std::fs::read_to_string(root.join(&file))
                .context(|| format!("reading {}", file.display()))?;
            bare.extend(
                bare_assertions(&source)
                    .into_iter()
                    .map(|(line, text)| Bare {
                        file: file.clone(),
                        line,
                        text,
                    }),
            );
        }
    }
    Ok(bare)
}

/// The check `verify` runs: fails naming every bare assertion.
///
/// # Errors
/// [`Error::Check`] listing them, or when a file cannot be read.
pub fn check(root: &Path, catalogues: &[Catalogue]) -> Result<()> {
    let bare = find(root, catalogues)?;
    if bare.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = bare
        .iter()
        .map(|bare| format!("  {}:{}: {}", bare.file.display(), bare.line, bare.text))
        .collect();
    Err(Error::Check(format!(
        "{} assertion(s) without a message; a learner sees only the condition. Add one that \
         says, in the domain's words, which rule was broken and what happened instead:\n{}",
        bare.len(),
        list.join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_without_a_message_are_found_with_their_lines() {
        let source = r#"
fn t() {
    assert!(breaker.is_closed());
    assert!(matches!(state, State::Open { until, .. }), "open until {until:?}");
    assert_eq!(f(a, b), [1, 2]);
    assert_eq!(
        f(a, b),
        g::<u8, u16>(|x, y| x + y),
        "f and g agree on {a}, {b}"
    );
    assert_ne!(x, y,);
    debug_assert!(ok, "");
    std::assert!(ok);
    self.assert(x, y);
    let s = "assert!(not code)";
    // assert!(commented out);
    assert!(v.iter().all(|(a, b)| a < b), "{}", "sorted");
}
"#;
        let found = bare_assertions(source);
        assert_eq!(
            found,
            [
                (3, "assert!(breaker.is_closed())".to_string()),
                (5, "assert_eq!(f(a, b), [1, 2])".to_string()),
                (11, "assert_ne!(x, y,)".to_string()),
                (12, "debug_assert!(ok, \"\")".to_string()),
                (13, "assert!(ok)".to_string()),
            ],
            "only the messageless (or empty-message) assertions, each at its own line"
        );
    }

    #[test]
    fn a_macro_that_forwards_its_message_is_not_flagged() {
        let source = "macro_rules! check { ($($a:tt)+) => { assert!($($a)+) }; \
                      ($c:expr) => { assert!($c) }; }";
        assert_eq!(
            bare_assertions(source),
            [(1, "assert!($c)".to_string())],
            "a repetition may carry its caller's message; a single condition cannot"
        );
    }

    #[test]
    fn long_assertions_are_shortened_on_one_line() {
        let long = format!("assert!(\n    {}\n)", "a && ".repeat(40) + "b");
        let found = bare_assertions(&long);
        assert_eq!(found.len(), 1, "the long assertion is bare");
        assert!(
            found[0].1.chars().count() <= 100 && found[0].1.ends_with("..."),
            "the text is cut to 100 characters, got {:?}",
            found[0].1
        );
    }
}
