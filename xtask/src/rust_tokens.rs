//! A small Rust tokenizer, enough for the checks that read code as text.
//!
//! The checks on test assertions ([`crate::assertions`]) and on the code in
//! hints ([`crate::hint_code`]) need to know where a macro's arguments end,
//! which braces open a block, and which commas separate arguments. That takes
//! comments, strings (raw and byte strings too), character literals against
//! lifetimes, and bracket nesting, and nothing of Rust's grammar beyond
//! that; a parser crate would cost every build of `xtask` far more than
//! these lines do.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword: `assert_eq`, `fn`, `r#match`.
    Ident,
    /// A lifetime or label: `'a`.
    Lifetime,
    /// A string, byte string, raw string, character or byte literal.
    Literal,
    /// A number.
    Number,
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
    /// Any other character, or `::`, `=>`, `->` as one token.
    Punct,
}

/// One token: its kind and where it is in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// Its line, from 1.
    pub line: usize,
}

impl Token {
    /// Its text in `source`.
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        &source[self.start..self.end]
    }

    /// Whether it is the token `text` in `source`.
    pub fn is(&self, source: &str, text: &str) -> bool {
        self.text(source) == text
    }
}

/// The tokens of `source`, comments and whitespace left out. Unterminated
/// strings and comments end at the end of the source rather than failing:
/// the compiler reports those, and the checks only need not to crash.
pub fn tokenize(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    let mut line = 1;
    while at < bytes.len() {
        let start = at;
        let start_line = line;
        let byte = bytes[at];
        let kind = match byte {
            b'\n' => {
                line += 1;
                at += 1;
                continue;
            }
            _ if byte.is_ascii_whitespace() => {
                at += 1;
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = skip_block_comment(bytes, at, &mut line);
                continue;
            }
            b'"' => {
                at = skip_string(bytes, at + 1, &mut line);
                Kind::Literal
            }
            b'r' | b'b' | b'c' if starts_raw_or_byte_string(bytes, at) => {
                at = skip_prefixed_string(bytes, at, &mut line);
                Kind::Literal
            }
            b'b' if bytes.get(at + 1) == Some(&b'\'') => {
                at = skip_char(bytes, at + 2);
                Kind::Literal
            }
            b'\'' => match char_literal_end(source, at) {
                Some(end) => {
                    at = end;
                    Kind::Literal
                }
                None => {
                    at += 1;
                    while at < bytes.len() && is_ident_byte(bytes[at]) {
                        at += 1;
                    }
                    Kind::Lifetime
                }
            },
            b'(' | b'[' | b'{' => {
                at += 1;
                Kind::Open
            }
            b')' | b']' | b'}' => {
                at += 1;
                Kind::Close
            }
            b'0'..=b'9' => {
                at = skip_number(bytes, at);
                Kind::Number
            }
            _ if is_ident_start(byte) => {
                if byte == b'r' && bytes.get(at + 1) == Some(&b'#') {
                    at += 2;
                }
                while at < bytes.len() && is_ident_byte(bytes[at]) {
                    at += 1;
                }
                Kind::Ident
            }
            _ => {
                let pair = bytes.get(at..at + 2);
                at += if matches!(pair, Some(b"::" | b"=>" | b"->")) {
                    2
                } else {
                    // One character, however many bytes it takes.
                    source[at..].chars().next().map_or(1, char::len_utf8)
                };
                Kind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: at.min(bytes.len()),
            line: start_line,
        });
    }
    tokens
}

fn is_ident_start(byte: u8) -> bool {
    byte == b'_' || byte.is_ascii_alphabetic()
}

fn is_ident_byte(byte: u8) -> bool {
    byte == b'_' || byte.is_ascii_alphanumeric()
}

fn skip_block_comment(bytes: &[u8], mut at: usize, line: &mut usize) -> usize {
    let mut depth = 0_usize;
    while at < bytes.len() {
        match (bytes[at], bytes.get(at + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                at += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            (b'\n', _) => {
                *line += 1;
                at += 1;
            }
            _ => at += 1,
        }
    }
    at
}

/// Skips a string's body from just after its opening quote; returns the
/// position after its closing quote.
fn skip_string(bytes: &[u8], mut at: usize, line: &mut usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => {
                if bytes.get(at + 1) == Some(&b'\n') {
                    *line += 1;
                }
                at += 2;
            }
            b'"' => return at + 1,
            b'\n' => {
                *line += 1;
                at += 1;
            }
            _ => at += 1,
        }
    }
    at
}

/// `r"`, `r#"`, `b"`, `br"`, `br#"`, `c"`, `cr#"`.
fn starts_raw_or_byte_string(bytes: &[u8], at: usize) -> bool {
    let mut next = at + 1;
    if bytes[at] != b'r' && bytes.get(next) == Some(&b'r') {
        next += 1;
    }
    let raw = bytes[at] == b'r' || next == at + 2;
    if raw {
        while bytes.get(next) == Some(&b'#') {
            next += 1;
        }
    }
    bytes.get(next) == Some(&b'"') && (at == 0 || !is_ident_byte(bytes[at - 1]))
}

fn skip_prefixed_string(bytes: &[u8], at: usize, line: &mut usize) -> usize {
    let mut next = at + 1;
    if bytes[at] != b'r' && bytes.get(next) == Some(&b'r') {
        next += 1;
    }
    let raw = bytes[at] == b'r' || next == at + 2;
    if !raw {
        return skip_string(bytes, next + 1, line);
    }
    let mut hashes = 0;
    while bytes.get(next) == Some(&b'#') {
        hashes += 1;
        next += 1;
    }
    next += 1;
    while next < bytes.len() {
        if bytes[next] == b'\n' {
            *line += 1;
        }
        if bytes[next] == b'"'
            && bytes.len() >= next + 1 + hashes
            && bytes[next + 1..next + 1 + hashes]
                .iter()
                .all(|&b| b == b'#')
        {
            return next + 1 + hashes;
        }
        next += 1;
    }
    next
}

/// Skips a character literal's body from just after its opening quote.
fn skip_char(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'\'' => return at + 1,
            b'\n' => return at,
            _ => at += 1,
        }
    }
    at
}

/// Where the character literal starting at `at` ends, or `None` if the quote
/// starts a lifetime or label: `'a'` and `'\n'` are characters, `'a` is not.
fn char_literal_end(source: &str, at: usize) -> Option<usize> {
    let rest = &source[at + 1..];
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    if first == '\\' {
        let end = skip_char(source.as_bytes(), at + 1);
        return (source.as_bytes().get(end - 1) == Some(&b'\'')).then_some(end);
    }
    let (offset, second) = chars.next()?;
    (second == '\'').then_some(at + 1 + offset + 1)
}

fn skip_number(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        let byte = bytes[at];
        // `1..2` is a range, not a number with a fraction.
        let fraction = byte == b'.' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
        if byte.is_ascii_alphanumeric() || byte == b'_' || fraction {
            at += if fraction { 2 } else { 1 };
        } else {
            break;
        }
    }
    at
}

/// The index of the token that closes the group `tokens[open]` opens, or
/// `None` if it is never closed.
pub fn matching_close(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0_usize;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// The arguments of the group `tokens[open..=close]`, as ranges of token
/// indexes, split at its top-level commas. A comma inside a turbofish
/// (`::<A, B>`) does not split. Empty arguments (a trailing comma) are left
/// out. A closure's parameters (`|a, b| a + b`) do not split either.
pub fn arguments(
    source: &str,
    tokens: &[Token],
    open: usize,
    close: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut arguments = Vec::new();
    let mut depth = 0_usize;
    let mut angle = 0_usize;
    let mut closure_parameters = false;
    let mut start = open + 1;
    for index in open + 1..close {
        let token = &tokens[index];
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Punct if depth == 0 => {
                let text = token.text(source);
                let after_path = index > 0 && tokens[index - 1].is(source, "::");
                let opens_closure = index == start
                    || tokens[index - 1].is(source, "move")
                    || tokens[index - 1].is(source, "=");
                if text == "|" && (closure_parameters || opens_closure) {
                    closure_parameters = !closure_parameters;
                } else if closure_parameters {
                } else if text == "<" && (after_path || angle > 0) {
                    angle += 1;
                } else if text == ">" && angle > 0 {
                    angle -= 1;
                } else if text == "," && angle == 0 {
                    if start < index {
                        arguments.push(start..index);
                    }
                    start = index + 1;
                }
            }
            _ => {}
        }
    }
    if start < close {
        arguments.push(start..close);
    }
    arguments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<&str> {
        tokenize(source)
            .iter()
            .map(|token| token.text(source))
            .collect()
    }

    #[test]
    fn strings_comments_and_characters_are_single_tokens_or_nothing() {
        let source = "a /* b /* nested */ c */ \"d // not a comment\" 'e' '\\'' 'f x // g\n\
                      r#\"raw \" quote\"# b\"bytes\" b'x' 1..2 3.5 x::<u8>";
        assert_eq!(
            texts(source),
            [
                "a",
                "\"d // not a comment\"",
                "'e'",
                "'\\''",
                "'f",
                "x",
                "r#\"raw \" quote\"#",
                "b\"bytes\"",
                "b'x'",
                "1",
                ".",
                ".",
                "2",
                "3.5",
                "x",
                "::",
                "<",
                "u8",
                ">"
            ],
            "comments vanish, literals stay whole, lifetimes are not characters"
        );
    }

    #[test]
    fn lines_count_through_strings_and_comments() {
        let source = "a\n/* one\ntwo */ \"three\nfour\" b\nc";
        let lines: Vec<usize> = tokenize(source).iter().map(|token| token.line).collect();
        assert_eq!(
            lines,
            [1, 3, 4, 5],
            "each token carries the line it starts on"
        );
    }

    #[test]
    fn arguments_split_at_top_level_commas_only() {
        let source = "m!(f(a, b), [c, d], x::<A, B>(), \"e, f\", |g, h| g,)";
        let tokens = tokenize(source);
        let open = 2;
        let close = matching_close(&tokens, open).expect("the call is closed");
        let arguments: Vec<String> = arguments(source, &tokens, open, close)
            .into_iter()
            .map(|range| source[tokens[range.start].start..tokens[range.end - 1].end].to_string())
            .collect();
        assert_eq!(
            arguments,
            ["f(a, b)", "[c, d]", "x::<A, B>()", "\"e, f\"", "|g, h| g"],
            "commas in groups, turbofish, strings and closure parameters do not split"
        );
    }
}
