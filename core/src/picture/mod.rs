//! Pictures of a run: figures stacked into one standalone SVG file.
//!
//! A table says that 12 items were lost; a picture shows when, on which
//! worker, after which retry. Demos and tests draw [`Timeline`]s (what ran
//! where, and when) and [`BarChart`]s (one number per strategy), and stack
//! them into a [`Picture`]: one SVG file that any browser opens, with no
//! script, font or network needed. Hovering over a mark shows what it is.
//!
//! Design: a [`Figure`] knows its height for a given width and draws itself
//! at the origin; the picture writes the file header, a title, and each
//! figure under its heading, moved into place with a `translate`. Figures
//! write through [`svg::Svg`], which escapes every label and prints every
//! coordinate with one decimal, so the same run gives the same file byte for
//! byte. The same figures also print to a terminal ([`Terminal`]) in 100
//! columns, with colour and Unicode only where the terminal wants them.
//!
//! Left out: axes on a log scale, interactivity beyond tooltips, and fonts:
//! the file asks for the viewer's sans-serif and monospace fonts.
//!
//! [`Timeline`]: crate::timeline::Timeline

mod chart;
pub mod palette;
pub mod svg;
mod terminal;

use std::path::Path;

pub use chart::BarChart;
pub use terminal::{COLUMNS, Terminal};

use svg::{Svg, Value};

/// Something that draws itself into a [`Picture`].
pub trait Figure {
    /// Its height in pixels when drawn `width` pixels wide.
    fn height(&self, width: f64) -> f64;

    /// Draws it with its top left corner at the origin, `width` wide.
    fn draw(&self, svg: &mut Svg, width: f64);
}

/// Figures stacked under one title, written as one SVG file.
pub struct Picture {
    /// The title at the top.
    title: String,
    /// Each figure with its heading, top to bottom.
    figures: Vec<(String, Box<dyn Figure>)>,
}

/// How wide every picture is drawn: wide enough for 100 columns of a
/// timeline, narrow enough for a slide.
pub const WIDTH: f64 = 1000.0;
/// Space for a title or a heading.
const HEADING: f64 = 28.0;
/// Space between figures.
const GAP: f64 = 16.0;

impl Picture {
    /// An empty picture called `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            figures: Vec::new(),
        }
    }

    /// Adds `figure` under `heading`, below the figures already added.
    pub fn add(&mut self, heading: impl Into<String>, figure: impl Figure + 'static) -> &mut Self {
        self.figures.push((heading.into(), Box::new(figure)));
        self
    }

    /// The whole picture as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let mut body = Svg::new();
        let mut top = HEADING + 8.0;
        for (heading, figure) in &self.figures {
            body.text(
                "text",
                &[
                    ("x", 12.0.into()),
                    ("y", (top + 18.0).into()),
                    ("class", "heading".into()),
                ],
                heading,
            );
            top += HEADING;
            let height = figure.height(WIDTH);
            body.group(
                "g",
                &[("transform", format!("translate(0 {top:.1})").into())],
                None,
                |svg| figure.draw(svg, WIDTH),
            );
            top += height + GAP;
        }
        let mut svg = Svg::new();
        svg.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let size = [
            ("xmlns", Value::from("http://www.w3.org/2000/svg")),
            ("width", WIDTH.into()),
            ("height", top.into()),
            ("viewBox", format!("0 0 {WIDTH:.1} {top:.1}").into()),
        ];
        svg.group("svg", &size, None, |svg| {
            svg.text("style", &[], STYLE);
            svg.empty(
                "rect",
                &[
                    ("width", WIDTH.into()),
                    ("height", top.into()),
                    ("fill", "#FFFFFF".into()),
                ],
            );
            svg.text(
                "text",
                &[
                    ("x", 12.0.into()),
                    ("y", 24.0.into()),
                    ("class", "title".into()),
                ],
                &self.title,
            );
            svg.raw(&body.into_markup());
        });
        svg.into_markup()
    }

    /// Writes the picture to `path`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_svg())
    }
}

/// Shared text styles: the viewer's own fonts, so nothing is fetched.
const STYLE: &str = "text { font-family: sans-serif; font-size: 12px; fill: #222222; } \
.title { font-size: 18px; font-weight: bold; } \
.heading { font-size: 14px; font-weight: bold; } \
.mono { font-family: monospace; font-size: 11px; } \
.small { font-size: 10px; fill: #555555; }";
