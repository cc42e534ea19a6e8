//! A horizontal bar chart: one number per row, to compare strategies.

use std::fmt::Write as _;

use super::palette::{BLUE, GREY};
use super::svg::Svg;
use super::{Figure, Terminal};

/// One number per labelled row, drawn as bars to the same scale.
///
/// ```
/// use coordination::picture::{BarChart, Terminal};
///
/// let mut calls = BarChart::new("calls");
/// calls.bar("no backoff", 5050.0).bar("full jitter", 1210.0);
/// let text = calls.to_terminal(Terminal::PLAIN);
/// assert!(text.contains("5050 calls"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// What the numbers count or measure, printed after each: `calls`, `s`.
    unit: String,
    /// The rows, top to bottom.
    bars: Vec<Bar>,
}

/// One row of a [`BarChart`].
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    /// What the row is.
    label: String,
    /// Its number, or why there is none.
    value: Result<f64, String>,
}

/// Height of one row in the SVG.
const ROW: f64 = 22.0;

impl BarChart {
    /// An empty chart of numbers in `unit`.
    pub fn new(unit: impl Into<String>) -> Self {
        Self {
            unit: unit.into(),
            bars: Vec::new(),
        }
    }

    /// Adds a row. Negative and non-finite numbers are drawn as zero.
    pub fn bar(&mut self, label: impl Into<String>, value: f64) -> &mut Self {
        self.bars.push(Bar {
            label: label.into(),
            value: Ok(value),
        });
        self
    }

    /// Adds a row that has no number, saying why (`not done yet`).
    pub fn missing(&mut self, label: impl Into<String>, why: impl Into<String>) -> &mut Self {
        self.bars.push(Bar {
            label: label.into(),
            value: Err(why.into()),
        });
        self
    }

    /// The chart as text, one row per line, fitting `terminal.columns`.
    pub fn to_terminal(&self, terminal: Terminal) -> String {
        let label_width = self.label_width().min(28);
        let values: Vec<String> = self.bars.iter().map(|bar| self.value_text(bar)).collect();
        let value_width = values.iter().map(|text| text.len()).max().unwrap_or(0);
        let room = terminal
            .columns
            .saturating_sub(label_width + value_width + 6)
            .max(10);
        let largest = self.largest();
        let mut out = String::new();
        for (bar, value) in self.bars.iter().zip(&values) {
            let label: String = bar.label.chars().take(label_width).collect();
            let drawn = match bar.value {
                Ok(number) => {
                    let eighths = (scale(number, largest) * room as f64 * 8.0).round() as usize;
                    terminal.paint(&blocks(eighths, terminal.unicode), BLUE)
                }
                Err(_) => String::new(),
            };
            let _ = writeln!(out, "  {label:<label_width$}  {drawn} {value}");
        }
        out
    }

    fn label_width(&self) -> usize {
        self.bars
            .iter()
            .map(|bar| bar.label.chars().count())
            .max()
            .unwrap_or(0)
    }

    fn largest(&self) -> f64 {
        self.bars
            .iter()
            .filter_map(|bar| bar.value.as_ref().ok())
            .copied()
            .filter(|value| value.is_finite())
            .fold(0.0, f64::max)
    }

    fn value_text(&self, bar: &Bar) -> String {
        match &bar.value {
            Ok(value) if value.fract() == 0.0 && value.abs() < 1e15 => {
                format!("{value:.0} {}", self.unit)
            }
            Ok(value) => format!("{value:.2} {}", self.unit),
            Err(why) => why.clone(),
        }
    }
}

/// `value` as a share of `largest`, in 0..=1.
fn scale(value: f64, largest: f64) -> f64 {
    if largest > 0.0 && value.is_finite() {
        (value / largest).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A bar `eighths` eighths of a column long: full blocks and one partial
/// block in Unicode, `#` per whole column in ASCII.
fn blocks(eighths: usize, unicode: bool) -> String {
    if !unicode {
        return "#".repeat(eighths.div_ceil(8));
    }
    const PARTIAL: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let mut bar = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        bar.push(PARTIAL[eighths % 8]);
    }
    bar
}

impl Figure for BarChart {
    fn height(&self, _width: f64) -> f64 {
        self.bars.len() as f64 * ROW + 8.0
    }

    fn draw(&self, svg: &mut Svg, width: f64) {
        let left = 16.0 + self.label_width().min(40) as f64 * 7.0;
        let room = (width - left - 140.0).max(50.0);
        let largest = self.largest();
        for (row, bar) in self.bars.iter().enumerate() {
            let top = row as f64 * ROW + 4.0;
            let value = self.value_text(bar);
            svg.text(
                "text",
                &[("x", 12.0.into()), ("y", (top + 14.0).into())],
                &bar.label,
            );
            let length = match bar.value {
                Ok(number) => scale(number, largest) * room,
                Err(_) => 0.0,
            };
            let colour = if bar.value.is_ok() { BLUE } else { GREY };
            let title = format!("{}: {value}", bar.label);
            svg.group("g", &[("class", "bar".into())], Some(&title), |svg| {
                svg.empty(
                    "rect",
                    &[
                        ("x", left.into()),
                        ("y", (top + 3.0).into()),
                        ("width", length.max(1.0).into()),
                        ("height", (ROW - 8.0).into()),
                        ("fill", colour.svg.into()),
                    ],
                );
                svg.text(
                    "text",
                    &[
                        ("x", (left + length + 6.0).into()),
                        ("y", (top + 14.0).into()),
                        ("class", "mono".into()),
                    ],
                    &value,
                );
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_share_one_scale_and_fit_the_terminal() {
        let mut chart = BarChart::new("calls");
        chart
            .bar("a", 100.0)
            .bar("b", 50.0)
            .missing("c", "not done yet");
        let text = chart.to_terminal(Terminal::PLAIN);
        let lines: Vec<&str> = text.lines().collect();
        let hashes = |line: &str| line.matches('#').count();
        assert!(
            hashes(lines[0]).abs_diff(2 * hashes(lines[1])) <= 1,
            "{text}"
        );
        assert!(lines[2].ends_with("not done yet"));
        assert!(lines.iter().all(|line| line.chars().count() <= 100));
    }
}
