//! What the terminal can show: colour, Unicode, and how wide to draw.

use std::io::IsTerminal;

use super::palette::Colour;

/// How to draw for a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Whether to use ANSI colours.
    pub colour: bool,
    /// Whether to use Unicode symbols rather than ASCII.
    pub unicode: bool,
    /// How many columns a drawing may take.
    pub columns: usize,
}

/// The width every terminal drawing fits: a projector at a readable font
/// size, or a laptop terminal split in half, shows about 100 columns.
pub const COLUMNS: usize = 100;

impl Terminal {
    /// Plain ASCII without colour, 100 columns: for tests, logs and files.
    pub const PLAIN: Terminal = Terminal {
        colour: false,
        unicode: false,
        columns: COLUMNS,
    };

    /// What standard output supports: colour on a terminal unless `NO_COLOR`
    /// is set (no-color.org) or `TERM` is `dumb`; Unicode unless `DWC_ASCII`
    /// is set, `TERM` is `dumb`, or the locale names a character set other
    /// than UTF-8.
    pub fn detect() -> Self {
        let set = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let dumb = set("TERM").is_some_and(|term| term == "dumb");
        let no_colour = set("NO_COLOR").is_some();
        // The first locale variable that is set decides, as in POSIX.
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].into_iter().find_map(set);
        let utf8_locale = locale.is_none_or(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        });
        Self {
            colour: !no_colour && !dumb && std::io::stdout().is_terminal(),
            unicode: !dumb && set("DWC_ASCII").is_none() && utf8_locale,
            columns: COLUMNS,
        }
    }

    /// `text` in `colour`, or plain when colour is off.
    pub fn paint(self, text: &str, colour: Colour) -> String {
        if self.colour && colour.ansi != 39 {
            format!("\x1b[{}m{text}\x1b[0m", colour.ansi)
        } else {
            text.to_string()
        }
    }

    /// The Unicode symbol, or its ASCII stand-in.
    pub fn symbol(self, unicode: char, ascii: char) -> char {
        if self.unicode { unicode } else { ascii }
    }
}
