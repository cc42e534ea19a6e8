//! Terminal output: quiet, readable, colour only where it means pass or fail.
//!
//! Colour is used when standard output is a terminal and `NO_COLOR` is not
//! set (no-color.org). Marks fall back to ASCII when `DWC_ASCII` is set or the
//! terminal is `dumb`, for projectors and old consoles.

use std::io::IsTerminal;
use std::time::Duration;

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Whether to use ANSI colours.
    pub colour: bool,
    /// Whether to use Unicode marks.
    pub unicode: bool,
}

impl Style {
    /// The style the environment asks for.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|term| term == "dumb");
        let ascii = std::env::var_os("DWC_ASCII").is_some();
        Self {
            colour: !no_color && !dumb && std::io::stdout().is_terminal(),
            unicode: !ascii && !dumb,
        }
    }

    /// Plain text, for tests and logs.
    pub const PLAIN: Style = Style {
        colour: false,
        unicode: false,
    };

    /// The mark for a pass.
    pub fn pass(self) -> String {
        self.paint(if self.unicode { "✓" } else { "ok" }, GREEN)
    }

    /// The mark for a failure.
    pub fn fail(self) -> String {
        self.paint(if self.unicode { "✗" } else { "FAIL" }, RED)
    }

    /// `text` in bold, for headings.
    pub fn bold(self, text: &str) -> String {
        self.paint(text, BOLD)
    }

    /// `text` dimmed, for details.
    pub fn dim(self, text: &str) -> String {
        self.paint(text, DIM)
    }

    /// `text` in green.
    pub fn green(self, text: &str) -> String {
        self.paint(text, GREEN)
    }

    /// `text` in red.
    pub fn red(self, text: &str) -> String {
        self.paint(text, RED)
    }

    /// `text` in yellow, for what is next.
    pub fn yellow(self, text: &str) -> String {
        self.paint(text, YELLOW)
    }

    fn paint(self, text: &str, code: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

const BOLD: &str = "1";
const DIM: &str = "2";
const RED: &str = "31";
const GREEN: &str = "32";
const YELLOW: &str = "33";

/// A duration as people read it: `0.8 s`, `1 min 12 s`.
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        format!(
            "{} min {:02} s",
            duration.as_secs() / 60,
            duration.as_secs() % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_style_has_no_escape_codes() {
        assert_eq!(Style::PLAIN.pass(), "ok");
        assert_eq!(Style::PLAIN.red("x"), "x");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_millis(800)), "0.8 s");
        assert_eq!(human(Duration::from_secs(72)), "1 min 12 s");
    }
}
