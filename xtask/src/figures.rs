//! `cargo xtask figures`: reruns the commands behind the figures the
//! documentation quotes, and lists every figure that drifted.
//!
//! ## The problem
//!
//! A README that says "0.59 of the channel's throughput" makes a claim that
//! the code can stop keeping without any test failing: a change elsewhere
//! slows a path down, and the sentence stays. Timings are too noisy to
//! assert in tests, so they need a check of their own that a maintainer
//! runs on a quiet machine.
//!
//! ## The design
//!
//! `xtask/figures.toml` lists each quoted figure: the document and the
//! quote that holds it (the check fails if the quote is no longer there, so
//! the catalogue cannot drift from the text), the command that prints the
//! figure, and where in the command's output it stands (the first line
//! containing a marker, and the n-th number on that line). Each command
//! runs once, however many figures it prints; each figure is compared with
//! the quote, and one more than [`TOLERANCE`] away from the quoted value
//! (or range) is listed as drifted.
//!
//! It is not part of `verify`: it takes minutes, and its numbers mean
//! something only on idle cores.

use std::collections::BTreeMap;
use std::process::Command;

use serde::Deserialize;

use crate::error::{Context, Error, Result};
use crate::workspace::Workspace;

/// How far a figure may be from its quote, as a fraction, before it counts
/// as drifted.
pub const TOLERANCE: f64 = 0.20;

/// The catalogue's file, relative to the workspace.
pub const CATALOGUE: &str = "xtask/figures.toml";

/// The figures catalogue: see the module documentation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// Every figure quoted.
    pub figure: Vec<Figure>,
}

/// One quoted figure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// What it measures, for the report.
    pub name: String,
    /// The document that quotes it, relative to the workspace.
    pub doc: String,
    /// The words of the document that hold it; the first number in them
    /// (or the first range, `a-b` or `a to b`) is the quoted value, unless
    /// `value` says which.
    pub quote: String,
    /// Which number of the quote is the figure, 1 for the first, when it is
    /// not the first (a table row's label holds numbers too).
    #[serde(default)]
    pub value: Option<usize>,
    /// The command that prints it, as words (the first is the program; a
    /// leading `cargo` is the cargo that runs this tool).
    pub command: Vec<String>,
    /// The output line holding it is the first that contains this...
    pub line: String,
    /// ...after the first line that contains this, if given (a table's
    /// header, when its rows' labels appear earlier in the output too).
    #[serde(default)]
    pub after: Option<String>,
    /// Which number of that line it is, 1 for the first.
    pub number: usize,
}

impl Figure {
    /// The value its quote claims.
    pub fn quoted(&self) -> Option<(f64, f64)> {
        match self.value {
            Some(position) => {
                let value = *numbers(&self.quote).get(position.checked_sub(1)?)?;
                Some((value, value))
            }
            None => quoted_value(&self.quote),
        }
    }
}

/// How one figure compares with its quote.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The figure's name.
    pub name: String,
    /// The quoted value or range.
    pub quoted: (f64, f64),
    /// What the command printed.
    pub measured: f64,
}

impl Comparison {
    /// How far the measurement is outside the quoted range, as a fraction
    /// of the nearer end; zero inside it.
    pub fn drift(&self) -> f64 {
        let (low, high) = self.quoted;
        if self.measured < low {
            (low - self.measured) / low.abs().max(f64::EPSILON)
        } else if self.measured > high {
            (self.measured - high) / high.abs().max(f64::EPSILON)
        } else {
            0.0
        }
    }

    /// Whether it drifted by more than [`TOLERANCE`].
    pub fn drifted(&self) -> bool {
        self.drift() > TOLERANCE
    }
}

/// The numbers in `text`, in order: digits with an optional decimal point,
/// and commas between digit groups (`27,500`).
pub fn numbers(text: &str) -> Vec<f64> {
    let characters: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < characters.len() {
        if !characters[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let mut digits = String::new();
        while at < characters.len() {
            let character = characters[at];
            let next_is_digit = characters.get(at + 1).is_some_and(char::is_ascii_digit);
            if character.is_ascii_digit() {
                digits.push(character);
            } else if character == '.' && next_is_digit && !digits.contains('.') {
                digits.push('.');
            } else if character == ',' && next_is_digit && !digits.contains('.') {
                // A thousands separator, not a list's comma: three digits
                // follow it.
                let group = characters[at + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit());
                if group.count() != 3 {
                    break;
                }
            } else {
                break;
            }
            at += 1;
        }
        if let Ok(number) = digits.parse() {
            found.push(number);
        }
    }
    found
}

/// The value a quote claims: its first number, or its first range when the
/// first number is followed by `-`, `–` or ` to ` and a second number.
pub fn quoted_value(quote: &str) -> Option<(f64, f64)> {
    let all = numbers(quote);
    let first = *all.first()?;
    let Some(&second) = all.get(1) else {
        return Some((first, first));
    };
    // Is the second number the other end of a range? Look at what stands
    // between the two.
    let digits_end = quote
        .find(|c: char| c.is_ascii_digit())
        .map(|start| {
            start
                + quote[start..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                    .unwrap_or(quote.len() - start)
        })
        .unwrap_or(0);
    let between = quote[digits_end..]
        .split(|c: char| c.is_ascii_digit())
        .next()
        .unwrap_or("");
    let range = matches!(between.trim(), "-" | "–" | "to");
    Some(if range && second >= first {
        (first, second)
    } else {
        (first, first)
    })
}

/// The `number`-th number of the first line of `output` that contains
/// `marker`, after the first line that contains `after` if given.
pub fn measured_value(
    output: &str,
    after: Option<&str>,
    marker: &str,
    number: usize,
) -> Option<f64> {
    let mut lines = output.lines();
    if let Some(after) = after {
        lines.find(|line| line.contains(after))?;
    }
    let line = lines.find(|line| line.contains(marker))?;
    numbers(line).get(number.checked_sub(1)?).copied()
}

/// Reads the catalogue.
///
/// # Errors
/// When it cannot be read or parsed.
pub fn load(workspace: &Workspace) -> Result<Figures> {
    let path = workspace.root.join(CATALOGUE);
    let text = std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).map_err(|error| Error::Check(format!("{CATALOGUE}: {error}")))
}

/// Checks that every figure's quote is in its document and holds a value.
///
/// # Errors
/// Naming the figure whose quote is missing or holds no number.
pub fn check_quotes(workspace: &Workspace, figures: &Figures) -> Result<()> {
    for figure in &figures.figure {
        let path = workspace.root.join(&figure.doc);
        let text =
            std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
        // Documents wrap lines: compare with white space folded.
        let fold = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !fold(&text).contains(&fold(&figure.quote)) {
            return Err(Error::Check(format!(
                "{CATALOGUE}: {:?} quotes {:?} from {}, which no longer says it",
                figure.name, figure.quote, figure.doc
            )));
        }
        if figure.quoted().is_none() {
            return Err(Error::Check(format!(
                "{CATALOGUE}: the quote of {:?} holds no number",
                figure.name
            )));
        }
    }
    Ok(())
}

/// Runs every command once and compares each figure with its quote.
///
/// # Errors
/// When a command cannot run or fails, or its output lacks a figure.
pub fn measure(workspace: &Workspace, figures: &Figures) -> Result<Vec<Comparison>> {
    check_quotes(workspace, figures)?;
    let mut outputs: BTreeMap<Vec<String>, String> = BTreeMap::new();
    let mut comparisons = Vec::new();
    for figure in &figures.figure {
        if !outputs.contains_key(&figure.command) {
            println!("running: {}", figure.command.join(" "));
            let output = run(workspace, &figure.command)?;
            outputs.insert(figure.command.clone(), output);
        }
        let output = &outputs[&figure.command];
        let measured = measured_value(output, figure.after.as_deref(), &figure.line, figure.number)
            .ok_or_else(|| {
                Error::Check(format!(
                    "{:?}: no line of `{}`'s output holds number {} after {:?}:\n{output}",
                    figure.name,
                    figure.command.join(" "),
                    figure.number,
                    figure.line
                ))
            })?;
        let quoted = figure.quoted().unwrap_or((measured, measured));
        comparisons.push(Comparison {
            name: figure.name.clone(),
            quoted,
            measured,
        });
    }
    Ok(comparisons)
}

/// Runs `command` in the workspace and returns its standard output.
fn run(workspace: &Workspace, command: &[String]) -> Result<String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::Check(format!("{CATALOGUE}: an empty command")))?;
    let program = if program == "cargo" {
        std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
    } else {
        program.clone()
    };
    let output = Command::new(&program)
        .args(args)
        .current_dir(&workspace.root)
        .output()
        .context(|| format!("running {}", command.join(" ")))?;
    if !output.status.success() {
        return Err(Error::Check(format!(
            "`{}` failed ({}):\n{}",
            command.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The report: every figure with its quote and measurement, drifted ones
/// marked.
pub fn report(comparisons: &[Comparison]) -> String {
    let show = |(low, high): (f64, f64)| {
        if (low - high).abs() < f64::EPSILON {
            format!("{low}")
        } else {
            format!("{low}-{high}")
        }
    };
    let mut lines = vec![format!(
        "{:<58} {:>14} {:>12} {:>8}",
        "figure", "quoted", "measured", "drift"
    )];
    for comparison in comparisons {
        lines.push(format!(
            "{:<58} {:>14} {:>12} {:>7.0}%{}",
            comparison.name,
            show(comparison.quoted),
            format!("{:.2}", comparison.measured),
            comparison.drift() * 100.0,
            if comparison.drifted() {
                "  DRIFTED"
            } else {
                ""
            }
        ));
    }
    let drifted = comparisons.iter().filter(|c| c.drifted()).count();
    lines.push(format!(
        "\n{drifted} of {} figures drifted by more than {:.0}% from their quotes",
        comparisons.len(),
        TOLERANCE * 100.0
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_decimals_and_thousands_separators() {
        assert_eq!(
            numbers("27,500 to 28,500 msg/s, 0.59 of it, 1, 2 and 3"),
            vec![27500.0, 28500.0, 0.59, 1.0, 2.0, 3.0],
            "commas between digit groups are separators, a list's commas are not"
        );
    }

    #[test]
    fn a_quote_claims_its_first_number_or_range() {
        assert_eq!(quoted_value("0.57-0.59 of the channel"), Some((0.57, 0.59)));
        assert_eq!(quoted_value("27,500 to 28,500"), Some((27500.0, 28500.0)));
        assert_eq!(
            quoted_value("about 0.59 of the channel's throughput (about 290 ns)"),
            Some((0.59, 0.59)),
            "a second number that is not a range's end is not part of the claim"
        );
        assert_eq!(quoted_value("no number"), None);
    }

    #[test]
    fn the_figure_is_the_nth_number_of_the_marked_line() {
        let output = "header 1 2\n  backoff distributor (1.4)   1754386   570   0.30\n";
        assert_eq!(
            measured_value(output, None, "backoff distributor (1.4)", 4),
            Some(0.30),
            "the 4th number of the line counts the 1.4 in its label"
        );
        assert_eq!(measured_value(output, None, "missing", 1), None);
        assert_eq!(
            measured_value(
                "seeds 1 to 9\nheader\n9 seeds 14.5 s\n",
                Some("header"),
                "seeds",
                2
            ),
            Some(14.5),
            "with `after`, the search starts below that line"
        );
    }

    #[test]
    fn drift_is_measured_from_the_nearer_end_of_the_range() {
        let comparison = |measured| Comparison {
            name: "f".into(),
            quoted: (0.5, 0.6),
            measured,
        };
        assert!(!comparison(0.55).drifted(), "inside the range");
        assert!(!comparison(0.41).drifted(), "18% below the low end");
        assert!(comparison(0.30).drifted(), "40% below the low end");
        assert!(comparison(0.75).drifted(), "25% above the high end");
    }
}
