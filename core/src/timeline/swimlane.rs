//! The terminal drawing of a timeline: one row per lane, 100 columns.
//!
//! Each column covers the same slice of simulated time. Where several things
//! fall into one cell, the one a reader most needs wins: a dead letter over
//! a retry, a retry over a failure, a failure over a success. The exact
//! times are in the SVG drawing and in the report's trace; this one is for a
//! glance, on a projector.

use std::fmt::{self, Write as _};

use super::kind::{Look, message_look};
use super::{Fate, Lane, Timeline, axis};
use crate::picture::Terminal;
use crate::picture::palette::Colour;

/// A timeline drawn for a terminal; print it with `{}`.
pub struct Swimlane<'a> {
    /// What to draw.
    timeline: &'a Timeline,
    /// How to draw it.
    terminal: Terminal,
}

/// One cell of the grid.
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// What is drawn.
    symbol: char,
    colour: Option<Colour>,
    /// How much it matters; a cell keeps the symbol with the highest rank.
    rank: u8,
}

const EMPTY: Cell = Cell {
    symbol: ' ',
    colour: None,
    rank: 0,
};

/// The fewest columns a span needs for its start and its failure to be
/// marked; shorter spans are only their fill, which the marks would hide.
const MARKED_COLUMNS: usize = 4;

/// The longest lane name shown in full.
const NAME_WIDTH: usize = 14;

impl<'a> Swimlane<'a> {
    /// `timeline` drawn for `terminal`.
    pub fn new(timeline: &'a Timeline, terminal: Terminal) -> Self {
        Self { timeline, terminal }
    }

    fn symbol(&self, look: &Look) -> char {
        self.terminal.symbol(look.unicode, look.ascii)
    }
}

impl fmt::Display for Swimlane<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lanes = self.timeline.lanes();
        if lanes.is_empty() {
            return writeln!(f, "  (nothing was recorded)");
        }
        let name_width = lanes
            .iter()
            .map(|lane| lane.name().chars().count())
            .max()
            .unwrap_or(0)
            .clamp(4, NAME_WIDTH);
        // Two spaces, the name, a space and the two borders.
        let columns = self.terminal.columns.saturating_sub(name_width + 5).max(10);
        let end = self.timeline.end().as_secs_f64().max(f64::MIN_POSITIVE);
        let column_of = |at: std::time::Duration| {
            ((at.as_secs_f64() / end * columns as f64) as usize).min(columns - 1)
        };
        let row_of = |lane: &Lane| lanes.binary_search(&lane).unwrap_or(0);
        let mut grid = vec![vec![EMPTY; columns]; lanes.len()];
        let mut legend: Vec<Look> = Vec::new();
        let mut put = |row: usize, column: usize, cell: Cell| {
            let slot = &mut grid[row][column];
            if cell.rank >= slot.rank {
                *slot = cell;
            }
        };

        for span in self.timeline.spans() {
            let outcome = span.ended.map(|(_, outcome)| outcome);
            let look = span.activity.look(outcome);
            let rank = match outcome {
                Some(super::Outcome::Failed | super::Outcome::TimedOut) => 3,
                Some(super::Outcome::Late) | None => 2,
                _ => 1,
            };
            let first = column_of(span.start);
            let last = column_of(span.ended.map_or(self.timeline.end(), |(at, _)| at));
            for column in first..=last {
                // The first cell marks where the activity began, so
                // back-to-back attempts read as separate segments.
                let symbol = if column == first && last - first + 1 >= MARKED_COLUMNS {
                    self.terminal.symbol('┣', '|')
                } else {
                    self.symbol(&look)
                };
                put(
                    row_of(&span.lane),
                    column,
                    Cell {
                        symbol,
                        colour: Some(look.colour),
                        rank,
                    },
                );
            }
            legend.push(look);
            // A failure is marked where it ended, unless the span is so
            // short that the mark would hide it: its fill says enough.
            if let Some((at, end_look)) = span
                .ended
                .and_then(|(at, outcome)| Some((at, outcome.end_look()?)))
                .filter(|_| last - first + 1 >= MARKED_COLUMNS)
            {
                put(
                    row_of(&span.lane),
                    column_of(at),
                    Cell {
                        symbol: self.symbol(&end_look),
                        colour: Some(end_look.colour),
                        rank: 6,
                    },
                );
                legend.push(end_look);
            }
        }
        for point in self.timeline.points() {
            let look = point.mark.look();
            put(
                row_of(&point.lane),
                column_of(point.at),
                Cell {
                    symbol: self.symbol(&look),
                    colour: Some(look.colour),
                    rank: 5 + point.mark.priority(),
                },
            );
            legend.push(look);
        }
        for message in self.timeline.messages() {
            let delivered = matches!(message.fate, Fate::Delivered(_));
            let look = message_look(delivered);
            let sent = message_look(true);
            put(
                row_of(&message.from),
                column_of(message.sent),
                Cell {
                    symbol: self.symbol(&sent),
                    colour: Some(sent.colour),
                    rank: 5,
                },
            );
            if !delivered {
                put(
                    row_of(&message.to),
                    column_of(message.fate.at()),
                    Cell {
                        symbol: self.symbol(&look),
                        colour: Some(look.colour),
                        rank: 6,
                    },
                );
            }
            legend.push(look);
        }

        let border = self.terminal.symbol('│', '|');
        for (lane, cells) in lanes.iter().zip(&grid) {
            let mut name: String = lane.name().chars().take(name_width).collect();
            if lane.name().chars().count() > name_width {
                name.pop();
                name.push(self.terminal.symbol('…', '~'));
            }
            let mut row = String::new();
            for cell in cells {
                let symbol = cell.symbol.to_string();
                match cell.colour {
                    Some(colour) => row.push_str(&self.terminal.paint(&symbol, colour)),
                    None => row.push_str(&symbol),
                }
            }
            writeln!(f, "  {name:<name_width$} {border}{row}{border}")?;
        }

        // The time axis: a rule with ticks, and their labels under them.
        let (step, ticks) = axis::ticks(end);
        let mut rule: Vec<char> = vec![self.terminal.symbol('─', '-'); columns];
        let mut labels = String::new();
        for tick in &ticks {
            let column = ((tick / end) * columns as f64).round() as usize;
            if column >= columns {
                continue;
            }
            rule[column] = self.terminal.symbol('┬', '+');
            let text = axis::label(*tick, step);
            let wanted = name_width + 4 + column;
            if wanted >= labels.chars().count() + usize::from(!labels.is_empty())
                && wanted + text.len() <= self.terminal.columns
            {
                let pad = wanted - labels.chars().count();
                let _ = write!(labels, "{:pad$}{text}", "");
            }
        }
        let (left, right) = (
            self.terminal.symbol('└', '+'),
            self.terminal.symbol('┘', '+'),
        );
        let rule: String = rule.into_iter().collect();
        writeln!(f, "  {:name_width$} {left}{rule}{right}", "")?;
        writeln!(f, "{labels}")?;

        // The legend: each kind shown once, in a fixed order.
        legend.sort_by_key(|look| look.legend);
        legend.dedup_by_key(|look| look.legend);
        let column_time = axis::duration_text(end / columns as f64);
        let mut line = format!("  one column = {column_time};");
        // Visible width, which escape codes do not add to.
        let mut width = line.chars().count();
        for look in &legend {
            let entry_width = 2 + 1 + look.legend.chars().count();
            if width + entry_width > self.terminal.columns {
                writeln!(f, "{line}")?;
                line = " ".to_string();
                width = 1;
            }
            let symbol = self.symbol(look).to_string();
            let _ = write!(
                line,
                " {} {}",
                self.terminal.paint(&symbol, look.colour),
                look.legend
            );
            width += entry_width;
        }
        writeln!(f, "{line}")
    }
}
