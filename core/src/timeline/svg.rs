//! The SVG drawing of a timeline: a figure for a [`Picture`].
//!
//! Lanes are rows, time runs left to right on a labelled axis, and a legend
//! under the axis names every kind of mark that appears. Every recorded span,
//! point and message is one group (`<g class="span">`, `"point"`,
//! `"message"`) with a `<title>` tooltip giving its exact time and label, so
//! nothing recorded is left out and anything can be looked up by hovering.
//!
//! [`Picture`]: crate::picture::Picture

use super::kind::{Look, Shape, message_look};
use super::{Fate, Lane, Mark, Timeline, axis};
use crate::picture::Figure;
use crate::picture::palette::Colour;
use crate::picture::svg::{Svg, Value};

/// Tallest and shortest lane, in pixels.
const LANE_MAX: f64 = 24.0;
const LANE_MIN: f64 = 8.0;
/// Height all lanes share before they shrink.
const LANES_HEIGHT: f64 = 480.0;
/// Room for the axis and its labels.
const AXIS: f64 = 30.0;
/// One row of the legend, and the width of one entry.
const LEGEND_ROW: f64 = 18.0;
const LEGEND_ENTRY: f64 = 240.0;

/// Where things go, for one width.
struct Layout {
    /// Left edge of the plot.
    left: f64,
    /// Width of the plot.
    plot: f64,
    /// Height of one lane.
    lane: f64,
    /// The time at the right edge, in seconds.
    end: f64,
}

impl Layout {
    fn new(timeline: &Timeline, width: f64) -> Self {
        let lanes = timeline.lanes();
        let longest = lanes
            .iter()
            .map(|lane| lane.name().chars().count())
            .max()
            .unwrap_or(0)
            .min(20);
        let left = 20.0 + longest as f64 * 7.0;
        let lane = (LANES_HEIGHT / lanes.len().max(1) as f64).clamp(LANE_MIN, LANE_MAX);
        Self {
            left,
            plot: (width - left - 24.0).max(100.0),
            lane,
            end: timeline.end().as_secs_f64().max(f64::MIN_POSITIVE),
        }
    }

    fn x(&self, at: std::time::Duration) -> f64 {
        self.left + at.as_secs_f64() / self.end * self.plot
    }

    fn middle(&self, row: usize) -> f64 {
        row as f64 * self.lane + self.lane / 2.0
    }
}

/// Every distinct look used, in a fixed order, for the legend.
fn legend(timeline: &Timeline) -> Vec<Look> {
    let mut looks: Vec<Look> = Vec::new();
    for span in timeline.spans() {
        let outcome = span.ended.map(|(_, outcome)| outcome);
        looks.push(span.activity.look(outcome));
        looks.extend(outcome.and_then(|outcome| outcome.end_look()));
    }
    looks.extend(timeline.points().iter().map(|point| point.mark.look()));
    looks.extend(
        timeline
            .messages()
            .iter()
            .map(|message| message_look(matches!(message.fate, Fate::Delivered(_)))),
    );
    looks.sort_by_key(|look| look.legend);
    looks.dedup_by_key(|look| look.legend);
    looks
}

fn legend_rows(entries: usize, width: f64) -> usize {
    let per_row = ((width - 24.0) / LEGEND_ENTRY).floor().max(1.0) as usize;
    entries.div_ceil(per_row)
}

impl Figure for Timeline {
    fn height(&self, width: f64) -> f64 {
        let layout = Layout::new(self, width);
        let lanes = self.lanes().len().max(1) as f64;
        lanes * layout.lane
            + AXIS
            + legend_rows(legend(self).len(), width) as f64 * LEGEND_ROW
            + 8.0
    }

    fn draw(&self, svg: &mut Svg, width: f64) {
        let layout = Layout::new(self, width);
        let lanes = self.lanes();
        if lanes.is_empty() {
            svg.text(
                "text",
                &[("x", 12.0.into()), ("y", 16.0.into())],
                "(nothing was recorded)",
            );
            return;
        }
        let row_of = |lane: &Lane| lanes.binary_search(&lane).unwrap_or(0);
        draw_lanes(svg, &layout, &lanes);

        for span in self.spans() {
            let row = row_of(&span.lane);
            let outcome = span.ended.map(|(_, outcome)| outcome);
            let look = span.activity.look(outcome);
            let (end, how) = match span.ended {
                Some((at, outcome)) => (at, outcome.name().to_string()),
                None => (self.end(), "still running at the end".to_string()),
            };
            let title = format!(
                "{}: {}, {} ({}): {} to {}",
                span.lane,
                span.activity.name(),
                span.label,
                how,
                axis::instant_text(span.start),
                axis::instant_text(end)
            );
            let (x, right) = (layout.x(span.start), layout.x(end));
            let inset = (layout.lane * 0.15).max(1.0);
            svg.group(
                "g",
                &[
                    ("class", "span".into()),
                    ("data-lane", span.lane.name().into()),
                ],
                Some(&title),
                |svg| {
                    let mut attributes = vec![
                        ("x", Value::from(x)),
                        ("y", (row as f64 * layout.lane + inset).into()),
                        ("width", (right - x).max(1.0).into()),
                        ("height", (layout.lane - 2.0 * inset).max(1.0).into()),
                        ("fill", look.colour.svg.into()),
                    ];
                    if span.ended.is_none() {
                        attributes.push(("fill-opacity", "0.4".into()));
                        attributes.push(("stroke", look.colour.svg.into()));
                        attributes.push(("stroke-dasharray", "3 2".into()));
                    } else {
                        // A thin white edge keeps back-to-back attempts apart.
                        attributes.push(("stroke", "#FFFFFF".into()));
                        attributes.push(("stroke-width", 0.8.into()));
                    }
                    svg.empty("rect", &attributes);
                },
            );
        }
        // Where an activity failed or timed out, drawn over every span so the
        // next one on the lane cannot hide it.
        for span in self.spans() {
            if let Some((at, end_look)) = span
                .ended
                .and_then(|(at, outcome)| Some((at, outcome.end_look()?)))
            {
                let row = row_of(&span.lane);
                shape(
                    svg,
                    &end_look,
                    layout.x(at),
                    layout.middle(row),
                    layout.lane,
                );
            }
        }

        for point in self.points() {
            let row = row_of(&point.lane);
            let look = point.mark.look();
            let title = format!(
                "{}: {}, {} at {}",
                point.lane,
                point.mark,
                point.label,
                axis::instant_text(point.at)
            );
            let (x, y) = (layout.x(point.at), layout.middle(row));
            svg.group(
                "g",
                &[
                    ("class", "point".into()),
                    ("data-lane", point.lane.name().into()),
                ],
                Some(&title),
                |svg| {
                    if let Mark::RetryScheduled { delay } = point.mark {
                        svg.empty(
                            "line",
                            &[
                                ("x1", x.into()),
                                ("y1", y.into()),
                                ("x2", layout.x(point.at + delay).into()),
                                ("y2", y.into()),
                                ("stroke", look.colour.svg.into()),
                                ("stroke-dasharray", "2 2".into()),
                            ],
                        );
                    }
                    shape(svg, &look, x, y, layout.lane);
                },
            );
        }

        for message in self.messages() {
            let delivered = matches!(message.fate, Fate::Delivered(_));
            let look = message_look(delivered);
            let title = format!(
                "{} to {}: {}, sent at {}, {} at {}",
                message.from,
                message.to,
                message.label,
                axis::instant_text(message.sent),
                if delivered { "delivered" } else { "dropped" },
                axis::instant_text(message.fate.at())
            );
            let from = (layout.x(message.sent), layout.middle(row_of(&message.from)));
            let to_row = layout.middle(row_of(&message.to));
            // A dropped message stops halfway: it never reached its lane.
            let to = if delivered {
                (layout.x(message.fate.at()), to_row)
            } else {
                (layout.x(message.fate.at()), (from.1 + to_row) / 2.0)
            };
            svg.group(
                "g",
                &[
                    ("class", "message".into()),
                    ("data-lane", message.from.name().into()),
                ],
                Some(&title),
                |svg| arrow(svg, &look, from, to, delivered),
            );
        }

        let bottom = lanes.len() as f64 * layout.lane;
        draw_axis(svg, &layout, bottom);
        draw_legend(svg, &legend(self), bottom + AXIS, width);
    }
}

fn draw_lanes(svg: &mut Svg, layout: &Layout, lanes: &[&Lane]) {
    // When lanes are too thin for every name, name every few.
    let every = (12.0 / layout.lane).ceil().max(1.0) as usize;
    for (row, lane) in lanes.iter().enumerate() {
        let top = row as f64 * layout.lane;
        if row % 2 == 0 {
            svg.empty(
                "rect",
                &[
                    ("x", layout.left.into()),
                    ("y", top.into()),
                    ("width", layout.plot.into()),
                    ("height", layout.lane.into()),
                    ("fill", "#F2F2F2".into()),
                ],
            );
        }
        if row % every == 0 {
            svg.text(
                "text",
                &[
                    ("x", 12.0.into()),
                    ("y", (layout.middle(row) + 4.0).into()),
                    ("class", "mono".into()),
                ],
                lane.name(),
            );
        }
    }
}

fn draw_axis(svg: &mut Svg, layout: &Layout, top: f64) {
    let line = |svg: &mut Svg, x1: f64, y1: f64, x2: f64, y2: f64| {
        svg.empty(
            "line",
            &[
                ("x1", x1.into()),
                ("y1", y1.into()),
                ("x2", x2.into()),
                ("y2", y2.into()),
                ("stroke", "#555555".into()),
            ],
        );
    };
    line(svg, layout.left, top, layout.left + layout.plot, top);
    let (step, ticks) = axis::ticks(layout.end);
    for tick in ticks {
        let x = layout.left + tick / layout.end * layout.plot;
        line(svg, x, top, x, top + 4.0);
        svg.text(
            "text",
            &[
                ("x", x.into()),
                ("y", (top + 16.0).into()),
                ("text-anchor", "middle".into()),
                ("class", "small".into()),
            ],
            &axis::label(tick, step),
        );
    }
    svg.text(
        "text",
        &[
            ("x", (layout.left + layout.plot).into()),
            ("y", (top + 27.0).into()),
            ("text-anchor", "end".into()),
            ("class", "small".into()),
        ],
        "simulated time",
    );
}

fn draw_legend(svg: &mut Svg, looks: &[Look], top: f64, width: f64) {
    let per_row = ((width - 24.0) / LEGEND_ENTRY).floor().max(1.0) as usize;
    for (position, look) in looks.iter().enumerate() {
        let x = 12.0 + (position % per_row) as f64 * LEGEND_ENTRY;
        let y = top + (position / per_row) as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
        match look.shape {
            Shape::Bar => {
                svg.empty(
                    "rect",
                    &[
                        ("x", x.into()),
                        ("y", (y - 5.0).into()),
                        ("width", 18.0.into()),
                        ("height", 10.0.into()),
                        ("fill", look.colour.svg.into()),
                    ],
                );
            }
            Shape::Arrow => arrow(svg, look, (x, y), (x + 18.0, y), true),
            _ => shape(svg, look, x + 9.0, y, LANE_MAX),
        }
        svg.text(
            "text",
            &[
                ("x", (x + 26.0).into()),
                ("y", (y + 4.0).into()),
                ("class", "small".into()),
            ],
            look.legend,
        );
    }
}

/// Draws `look`'s shape centred on (`x`, `y`) in a lane `lane` pixels tall.
fn shape(svg: &mut Svg, look: &Look, x: f64, y: f64, lane: f64) {
    let size = (lane * 0.3).clamp(2.0, 6.0);
    let fill = look.colour.svg;
    let outline = [
        ("fill", Value::from(fill)),
        ("stroke", "#333333".into()),
        ("stroke-width", 0.6.into()),
    ];
    let polygon = |svg: &mut Svg, corners: &[(f64, f64)]| {
        let points: Vec<String> = corners
            .iter()
            .map(|(cx, cy)| format!("{},{}", n(x + cx * size), n(y + cy * size)))
            .collect();
        let mut attributes = vec![("points", Value::from(points.join(" ")))];
        attributes.extend(outline.iter().cloned());
        svg.empty("polygon", &attributes);
    };
    match look.shape {
        Shape::Circle => {
            let mut attributes = vec![
                ("cx", Value::from(x)),
                ("cy", y.into()),
                ("r", (size * 0.8).into()),
            ];
            attributes.extend(outline.iter().cloned());
            svg.empty("circle", &attributes);
        }
        Shape::Square | Shape::Bar => {
            polygon(svg, &[(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]);
        }
        Shape::Diamond => polygon(svg, &[(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]),
        Shape::TriangleUp => polygon(svg, &[(0.0, -1.0), (1.0, 0.8), (-1.0, 0.8)]),
        Shape::TriangleDown => polygon(svg, &[(0.0, 1.0), (1.0, -0.8), (-1.0, -0.8)]),
        Shape::Cross => {
            let d = size * 0.8;
            svg.empty(
                "path",
                &[
                    (
                        "d",
                        format!(
                            "M {} {} L {} {} M {} {} L {} {}",
                            n(x - d),
                            n(y - d),
                            n(x + d),
                            n(y + d),
                            n(x - d),
                            n(y + d),
                            n(x + d),
                            n(y - d)
                        )
                        .into(),
                    ),
                    ("stroke", fill.into()),
                    ("stroke-width", 2.0.into()),
                ],
            );
        }
        Shape::Tick => {
            svg.empty(
                "line",
                &[
                    ("x1", x.into()),
                    ("y1", (y - lane / 2.0).into()),
                    ("x2", x.into()),
                    ("y2", (y + lane / 2.0).into()),
                    ("stroke", fill.into()),
                    ("stroke-width", 2.0.into()),
                ],
            );
        }
        Shape::Slash => {
            let d = lane / 2.0;
            svg.empty(
                "line",
                &[
                    ("x1", (x - d / 2.0).into()),
                    ("y1", (y + d).into()),
                    ("x2", (x + d / 2.0).into()),
                    ("y2", (y - d).into()),
                    ("stroke", fill.into()),
                    ("stroke-width", 2.5.into()),
                ],
            );
        }
        Shape::Ring => {
            svg.empty(
                "circle",
                &[
                    ("cx", Value::from(x)),
                    ("cy", y.into()),
                    ("r", (size * 0.8).into()),
                    ("fill", "none".into()),
                    ("stroke", fill.into()),
                    ("stroke-width", 2.0.into()),
                ],
            );
        }
        Shape::Arrow => arrow(svg, look, (x - size, y), (x + size, y), true),
    }
}

/// A line from `from` to `to`, with an arrowhead if it arrived and a cross
/// where it was lost if not.
fn arrow(svg: &mut Svg, look: &Look, from: (f64, f64), to: (f64, f64), arrived: bool) {
    let colour: Colour = look.colour;
    let mut attributes = vec![
        ("x1", Value::from(from.0)),
        ("y1", from.1.into()),
        ("x2", to.0.into()),
        ("y2", to.1.into()),
        ("stroke", colour.svg.into()),
        ("stroke-width", 1.2.into()),
    ];
    if !arrived {
        attributes.push(("stroke-dasharray", "3 2".into()));
    }
    svg.empty("line", &attributes);
    if arrived {
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let length = (dx * dx + dy * dy).sqrt().max(f64::MIN_POSITIVE);
        let (ux, uy) = (dx / length, dy / length);
        let back = (to.0 - ux * 6.0, to.1 - uy * 6.0);
        let corners = [
            (to.0, to.1),
            (back.0 - uy * 3.0, back.1 + ux * 3.0),
            (back.0 + uy * 3.0, back.1 - ux * 3.0),
        ];
        let points: Vec<String> = corners
            .iter()
            .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
            .collect();
        svg.empty(
            "polygon",
            &[
                ("points", points.join(" ").into()),
                ("fill", colour.svg.into()),
            ],
        );
    } else {
        let cross = Look {
            colour,
            shape: Shape::Cross,
            ..*look
        };
        shape(svg, &cross, to.0, to.1, LANE_MAX);
    }
}

fn n(value: f64) -> String {
    crate::picture::svg::number_text(value)
}
