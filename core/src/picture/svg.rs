//! A small SVG writer: elements, attributes and text, escaped once, here.
//!
//! Every picture in the series is a handful of rectangles, lines, circles and
//! labels. A drawing crate would bring a scene graph and a font stack for
//! that; this writer brings the two things that are easy to get wrong by hand:
//! escaping (a label such as `a < b & c` must not break the file) and
//! deterministic numbers (coordinates are printed with one decimal, so the
//! same run gives the same file byte for byte).

use std::fmt::Write as _;

/// SVG markup being written, element by element.
#[derive(Debug, Clone, Default)]
pub struct Svg {
    markup: String,
}

/// One attribute value: text (escaped when written) or a coordinate (printed
/// with one decimal).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, such as a colour or a class name.
    Text(String),
    /// A number in user units (pixels).
    Number(f64),
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Self {
        Self::Number(number)
    }
}

impl Svg {
    /// Empty markup.
    pub fn new() -> Self {
        Self::default()
    }

    /// An element with no content: `<rect x="1.0" … />`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, Value)]) -> &mut Self {
        self.open_tag(name, attributes);
        self.markup.push_str("/>\n");
        self
    }

    /// An element whose content is `text`, escaped.
    pub fn text(&mut self, name: &str, attributes: &[(&str, Value)], text: &str) -> &mut Self {
        self.open_tag(name, attributes);
        self.markup.push('>');
        escape_into(&mut self.markup, text);
        let _ = writeln!(self.markup, "</{name}>");
        self
    }

    /// An element that holds other elements, written by `content`, and a
    /// tooltip (`<title>`) when `title` is given: browsers show it on hover,
    /// without any script.
    pub fn group(
        &mut self,
        name: &str,
        attributes: &[(&str, Value)],
        title: Option<&str>,
        content: impl FnOnce(&mut Svg),
    ) -> &mut Self {
        self.open_tag(name, attributes);
        self.markup.push_str(">\n");
        if let Some(title) = title {
            self.text("title", &[], title);
        }
        content(self);
        let _ = writeln!(self.markup, "</{name}>");
        self
    }

    /// Markup written elsewhere, inserted as it is.
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.markup.push_str(markup);
        self
    }

    /// The markup.
    pub fn into_markup(self) -> String {
        self.markup
    }

    fn open_tag(&mut self, name: &str, attributes: &[(&str, Value)]) {
        self.markup.push('<');
        self.markup.push_str(name);
        for (key, value) in attributes {
            let _ = write!(self.markup, " {key}=\"");
            match value {
                Value::Text(text) => escape_into(&mut self.markup, text),
                Value::Number(number) => {
                    let _ = write!(self.markup, "{}", number_text(*number));
                }
            }
            self.markup.push('"');
        }
    }
}

/// A coordinate as written: one decimal, and `0.0` rather than `-0.0`, so two
/// runs that compute the same picture write the same bytes.
pub fn number_text(number: f64) -> String {
    let rounded = (number * 10.0).round() / 10.0;
    if rounded == 0.0 || !rounded.is_finite() {
        "0.0".to_string()
    } else {
        format!("{rounded:.1}")
    }
}

/// Appends `text` with the five characters XML reserves replaced.
fn escape_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed
            // in XML 1.0 at all; a label never needs them.
            character if character.is_control() && character != '\t' && character != '\n' => {
                out.push('?');
            }
            character => out.push(character),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_escaped_in_text_and_attributes() {
        let mut svg = Svg::new();
        svg.text("text", &[("class", "a\"b".into())], "x < y & z > 'w'");
        assert_eq!(
            svg.into_markup(),
            "<text class=\"a&quot;b\">x &lt; y &amp; z &gt; &apos;w&apos;</text>\n"
        );
    }

    #[test]
    fn numbers_have_one_decimal_and_no_negative_zero() {
        assert_eq!(number_text(1.25), "1.3");
        assert_eq!(number_text(-0.01), "0.0");
        assert_eq!(number_text(f64::NAN), "0.0");
        assert_eq!(number_text(12.0), "12.0");
    }
}
