//! Terminal output: quiet, readable, colour only where it means something.
//!
//! Colour is used when standard output is a terminal and `NO_COLOR` is not
//! set (no-color.org). Marks fall back to ASCII when `DWC_ASCII` is set, the
//! terminal is `dumb`, or the locale names a character set other than UTF-8,
//! for projectors and old consoles. The drawings of `coordination::picture`
//! decide the same way.

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

/// The style the environment asks for, and why: `cargo workshop doctor`
/// shows the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The style.
    pub style: Style,
    /// Why colour is on or off.
    pub colour_reason: String,
    /// Why Unicode is on or off.
    pub unicode_reason: String,
}

impl Style {
    /// The style the environment asks for.
    pub fn detect() -> Self {
        Self::detect_with_reasons().style
    }

    /// The style the environment asks for, with the reasons.
    pub fn detect_with_reasons() -> Detected {
        let set = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let dumb = set("TERM").is_some_and(|term| term == "dumb");
        let (colour, colour_reason) = if set("NO_COLOR").is_some() {
            (false, "off: NO_COLOR is set")
        } else if dumb {
            (false, "off: TERM is dumb")
        } else if !std::io::stdout().is_terminal() {
            (false, "off: output is not a terminal")
        } else {
            (true, "on (set NO_COLOR=1 to turn it off)")
        };
        // The first locale variable that is set decides, as in POSIX.
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].into_iter().find_map(set);
        let utf8 = locale.as_deref().is_none_or(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        });
        let (unicode, unicode_reason) = if set("DWC_ASCII").is_some() {
            (false, "off: DWC_ASCII is set".to_string())
        } else if dumb {
            (false, "off: TERM is dumb".to_string())
        } else if !utf8 {
            (
                false,
                format!(
                    "off: the locale {:?} is not UTF-8",
                    locale.unwrap_or_default()
                ),
            )
        } else {
            (true, "on (set DWC_ASCII=1 for ASCII marks)".to_string())
        };
        Detected {
            style: Self { colour, unicode },
            colour_reason: colour_reason.to_string(),
            unicode_reason,
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

    /// The mark for what to do now.
    pub fn current(self) -> String {
        self.paint(if self.unicode { "▶" } else { ">" }, YELLOW)
    }

    /// The mark for what is not done yet.
    pub fn pending(self) -> String {
        if self.unicode { "·" } else { "-" }.to_string()
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
