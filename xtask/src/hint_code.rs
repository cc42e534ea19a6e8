//! Every hint that shows code shows code that compiles.
//!
//! Hints show code between backticks, as fragments of the reference
//! solution: `let delay = retry.backoff.delay(delivery.attempt(), &mut
//! jitter);` names the solution's local variables and has no meaning
//! elsewhere. So the check compiles each fragment where it belongs: inside
//! the exercise's reference solution, at some point of one of its
//! functions. For every fragment and every statement position of every
//! function in the solution file, it appends a copy of the function with the
//! fragment inserted there (in a branch that never runs and never returns,
//! so moves and borrows in the fragment cannot disturb the code around it),
//! builds the workshop once with `cargo check`, and reads which copies
//! compiled. A fragment passes if one position compiles: a learner who
//! types it in the right place gets code that builds. Each copy is its own
//! function, so a borrow error in one is reported even when another has a
//! type error.
//!
//! Which spans are code to type, rather than names the hint refers to
//! (`queue.complete`, `Option<Delivery>`, `drain(..)`): spans that contain
//! a `;`, a `=`, a `=>` or a brace, or call a method or an associated
//! function (`deque.split_off(deque.len() / 2)`, `Duration::from_secs(1)`).
//! A span with characters that are not ASCII (`2 × base`) is prose.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::cargo::Cargo;
use crate::catalogue::{Catalogue, Exercise};
use crate::error::{Context, Error, Result};
use crate::exercise_id::ExerciseId;
use crate::rust_tokens::{self, Kind, Token};
use crate::workspace::Workspace;

/// The index of the neutral fragment every position is probed with.
const PROBE: usize = usize::MAX;

/// A span of code in a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Which exercise: `2.3`.
    pub exercise: ExerciseId,
    /// Which hint, from 1.
    pub hint: usize,
    /// The code.
    pub code: String,
}

/// The backticked spans of `hint` that are code to type.
pub fn code_spans(hint: &str) -> Vec<String> {
    hint.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| is_code_to_type(span))
        .map(str::to_string)
        .collect()
}

/// Whether a backticked span is code a learner would type, by the rule in
/// the module's documentation.
pub fn is_code_to_type(span: &str) -> bool {
    let span = span.trim();
    if !span.is_ascii() || span.starts_with('.') || span.starts_with("::") {
        return false;
    }
    let tokens = rust_tokens::tokenize(span);
    let text = |index: usize| tokens.get(index).map_or("", |token| token.text(span));
    tokens.iter().enumerate().any(|(index, token)| {
        let call_with_receiver = token.kind == Kind::Ident
            && index >= 1
            && matches!(text(index - 1), "." | "::")
            && index >= 2
            && text(index + 1) == "(";
        matches!(token.text(span), ";" | "=" | "=>" | "{") || call_with_receiver
    })
}

/// Every fragment of code in `catalogue`'s hints.
pub fn fragments(catalogue: &Catalogue) -> Vec<Fragment> {
    catalogue
        .exercises
        .iter()
        .flat_map(|exercise| {
            (1..).zip(&exercise.hints).flat_map(move |(hint, text)| {
                code_spans(text).into_iter().map(move |code| Fragment {
                    exercise: exercise.id,
                    hint,
                    code,
                })
            })
        })
        .collect()
}

/// A function of a source file, and the places in its body where a
/// statement can go.
#[derive(Debug, Clone)]
struct Function {
    name: String,
    /// `async ` or nothing.
    asyncness: &'static str,
    /// From `fn` to the opening brace of its body (byte range).
    signature: Range<usize>,
    /// Its body, braces included (byte range).
    body: Range<usize>,
    /// The header of the inherent impl a copy of it goes in (`impl<I>
    /// Queue<I>`), or `None` for a free function.
    impl_header: Option<String>,
    /// Where a statement can go, as byte offsets into the source, with what
    /// must close after the fragment (for a match arm without braces).
    positions: Vec<Position>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    /// Where the statement goes.
    at: usize,
    /// For a match arm written without braces: where the arm ends, where
    /// the brace that wraps it closes.
    arm_end: Option<usize>,
}

/// Each `Open` token's partner and each `Close` token's, by index.
fn partners(tokens: &[Token]) -> Vec<Option<usize>> {
    let mut partner = vec![None; tokens.len()];
    let mut stack = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            Kind::Open => stack.push(index),
            Kind::Close => {
                if let Some(open) = stack.pop() {
                    partner[open] = Some(index);
                    partner[index] = Some(open);
                }
            }
            _ => {}
        }
    }
    partner
}

/// Whether the brace at `open` opens a block of statements (a function
/// body, a branch, a loop, a closure's or an `async` block), rather than a
/// struct literal, a `match`'s arms or a macro's input.
fn opens_block(source: &str, tokens: &[Token], partner: &[Option<usize>], open: usize) -> bool {
    if !tokens[open].is(source, "{") {
        return false;
    }
    let Some(before) = open.checked_sub(1).map(|index| tokens[index]) else {
        return true;
    };
    match before.text(source) {
        "else" | "loop" | "move" | "async" | "unsafe" | "=>" | "=" | ";" | "{" | "}" | "("
        | "," | "|" | "try" => return true,
        "!" => return false,
        _ => {}
    }
    let mut index = open;
    let mut words = Vec::new();
    while index > 0 {
        index -= 1;
        let token = tokens[index];
        match token.kind {
            // A closing brace ends the statement before this one.
            Kind::Close if token.is(source, "}") => break,
            Kind::Close => match partner[index] {
                Some(opening) => index = opening,
                None => return false,
            },
            Kind::Open => break,
            Kind::Ident => words.push(token.text(source)),
            Kind::Punct if matches!(token.text(source), ";" | "," | "=>") => break,
            _ => {}
        }
    }
    if words.iter().any(|word| {
        matches!(
            *word,
            "impl" | "struct" | "enum" | "trait" | "mod" | "union" | "match"
        )
    }) {
        return false;
    }
    words
        .iter()
        .any(|word| matches!(*word, "fn" | "if" | "while" | "for"))
}

/// The places in the body `tokens[open..=close]` where a statement can go.
fn positions(
    source: &str,
    tokens: &[Token],
    partner: &[Option<usize>],
    open: usize,
    close: usize,
) -> Vec<Position> {
    let mut found = Vec::new();
    for index in open..=close {
        let token = tokens[index];
        // The body itself is a block whatever its signature ends with
        // (`-> Result<Self, ConfigError>` has a comma of its own).
        if token.kind == Kind::Open
            && (index == open || opens_block(source, tokens, partner, index))
        {
            found.push(Position {
                at: token.end,
                arm_end: None,
            });
            let Some(end) = partner[index] else { continue };
            let mut inner = index + 1;
            while inner < end {
                let token = tokens[inner];
                if token.kind == Kind::Open {
                    inner = partner[inner].unwrap_or(end);
                    // After a statement that ends in a block (`if`, `loop`,
                    // `for` ...) and is followed by another statement.
                    let next = tokens.get(inner + 1);
                    if token.is(source, "{")
                        && next.is_some_and(|next| {
                            next.kind == Kind::Ident
                                && !next.is(source, "else")
                                && !next.is(source, "as")
                        })
                    {
                        found.push(Position {
                            at: tokens[inner].end,
                            arm_end: None,
                        });
                    }
                } else if token.is(source, ";") {
                    found.push(Position {
                        at: token.end,
                        arm_end: None,
                    });
                }
                inner += 1;
            }
        }
        if token.is(source, "=>")
            && tokens
                .get(index + 1)
                .is_some_and(|next| !next.is(source, "{"))
        {
            // The arm's expression ends at the next comma of its own level,
            // or where the `match` closes.
            let mut inner = index + 1;
            while inner < close {
                let token = tokens[inner];
                if token.kind == Kind::Open {
                    inner = partner[inner].unwrap_or(close) + 1;
                    continue;
                }
                if token.kind == Kind::Close || token.is(source, ",") {
                    break;
                }
                inner += 1;
            }
            found.push(Position {
                at: token.end,
                arm_end: Some(tokens[inner].start),
            });
        }
    }
    found
}

/// The functions of `source` at its top level and in its top-level `impl`
/// blocks, with the places a statement can go.
fn functions(source: &str) -> Vec<Function> {
    let tokens = rust_tokens::tokenize(source);
    let partner = partners(&tokens);
    let mut found = Vec::new();
    let mut index = 0;
    let mut current_impl: Option<(String, usize)> = None;
    while index < tokens.len() {
        if let Some((_, end)) = &current_impl
            && index >= *end
        {
            current_impl = None;
        }
        let token = tokens[index];
        if token.is(source, "impl") && current_impl.is_none() {
            let Some(open) = (index..tokens.len()).find(|&at| tokens[at].is(source, "{")) else {
                break;
            };
            let header = inherent_header(source, &tokens[index..open]);
            current_impl = Some((header, partner[open].unwrap_or(tokens.len())));
            index = open + 1;
            continue;
        }
        if token.is(source, "mod") || token.is(source, "trait") || token.is(source, "macro_rules") {
            // Tests and declarations are not where a hint's code goes.
            match (index..tokens.len())
                .find(|&at| tokens[at].is(source, "{") || tokens[at].is(source, ";"))
            {
                Some(at) if tokens[at].is(source, "{") => {
                    index = partner[at].unwrap_or(tokens.len()) + 1;
                }
                Some(at) => index = at + 1,
                None => break,
            }
            continue;
        }
        if token.is(source, "fn")
            && let Some(name) = tokens
                .get(index + 1)
                .filter(|name| name.kind == Kind::Ident)
        {
            let body_open = (index..tokens.len())
                .find(|&at| tokens[at].is(source, "{") || tokens[at].is(source, ";"));
            let Some(body_open) = body_open.filter(|&at| tokens[at].is(source, "{")) else {
                index += 1;
                continue;
            };
            let Some(body_close) = partner[body_open] else {
                break;
            };
            let asyncness = if index > 0 && tokens[index - 1].is(source, "async") {
                "async "
            } else {
                ""
            };
            found.push(Function {
                name: name.text(source).to_string(),
                asyncness,
                signature: token.start..tokens[body_open].start,
                body: tokens[body_open].start..tokens[body_close].end,
                impl_header: current_impl.as_ref().map(|(header, _)| header.clone()),
                positions: positions(source, &tokens, &partner, body_open, body_close),
            });
            index = body_close + 1;
            continue;
        }
        index += 1;
    }
    found
}

/// `impl<I: Item> Trait<I> for Queue<I> where ...` becomes `impl<I: Item>
/// Queue<I> where ...`: a copy of a trait's method goes in an inherent
/// impl, where a method of a new name is allowed.
fn inherent_header(source: &str, header: &[Token]) -> String {
    let text = |token: &Token| token.text(source);
    let mut angle = 0_i32;
    let mut generics_end = 1;
    // `impl<...>`: its generics end where the angle brackets balance.
    if header.get(1).is_some_and(|token| text(token) == "<") {
        for (index, token) in header.iter().enumerate().skip(1) {
            match text(token) {
                "<" => angle += 1,
                ">" => angle -= 1,
                _ => {}
            }
            if angle == 0 {
                generics_end = index + 1;
                break;
            }
        }
    }
    let rest = &header[generics_end..];
    let mut depth = 0_i32;
    let trait_end = rest.iter().position(|token| {
        match text(token) {
            "<" | "(" | "[" => depth += 1,
            ">" | ")" | "]" => depth -= 1,
            _ => {}
        }
        depth == 0 && text(token) == "for"
    });
    let self_type = match trait_end {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let span = |tokens: &[Token]| match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => source[first.start..last.end].to_string(),
        _ => String::new(),
    };
    format!("{} {}", span(&header[..generics_end]), span(self_type))
}

/// One copy of a function with a fragment inserted: which fragment, where,
/// and the lines it takes in the generated file.
#[derive(Debug, Clone)]
struct Candidate {
    fragment: usize,
    function: String,
    /// The line of the original file the fragment went after.
    line: usize,
    lines: Range<usize>,
}

/// The text appended to a solution file: every fragment in every position
/// of every function, each in a copy of its own, and where each copy is.
/// The copies are named `hint_check_<prefix>_<number>`; exercises whose
/// solutions extend one type (Raft-lite's) need different prefixes.
fn candidates(
    source: &str,
    fragments: &[(usize, &Fragment)],
    prefix: &str,
) -> (String, Vec<Candidate>) {
    let functions = functions(source);
    let mut appended = String::from(
        "\n#[allow(warnings, clippy::all, clippy::pedantic, missing_docs, unused)]\nconst _: () = {\n",
    );
    // The copies start four lines below the source's last line break: an
    // empty line, the attribute, and the `const` line come first.
    let mut line = source.matches('\n').count() + 4;
    let mut candidates = Vec::new();
    let mut copy_number = 0;
    for &(fragment_index, fragment) in fragments {
        // A fragment that ends in a value is tried twice: as a value thrown
        // away, and as the value the function returns (`Reply::Expired {
        // last }` needs the return type to know its type parameter).
        let mut uses = vec!["let _ ="];
        if !fragment.code.trim_end().ends_with(';') {
            uses.push("return");
        }
        let places = functions.iter().flat_map(|function| {
            function
                .positions
                .iter()
                .map(move |position| (function, position))
        });
        for (function, position) in places {
            for used_as in &uses {
                copy_number += 1;
                let inserted = format!(
                    "{}if false {{ {used_as} {{ {} }}; #[allow(unreachable_code)] loop {{}} }}",
                    if position.arm_end.is_some() {
                        "{ "
                    } else {
                        " "
                    },
                    fragment.code
                );
                let mut body = String::new();
                body.push_str(&source[function.body.start..position.at]);
                body.push_str(&inserted);
                match position.arm_end {
                    Some(arm_end) => {
                        body.push_str(&source[position.at..arm_end]);
                        body.push_str(" }");
                        body.push_str(&source[arm_end..function.body.end]);
                    }
                    None => body.push_str(&source[position.at..function.body.end]),
                }
                let signature = &source[function.signature.clone()];
                let renamed = signature.replacen(
                    &format!("fn {}", function.name),
                    &format!("fn hint_check_{prefix}_{copy_number}"),
                    1,
                );
                let copy = format!("{}{renamed}{body}", function.asyncness);
                let text = match &function.impl_header {
                    Some(header) => format!("{header} {{\n{copy}\n}}\n"),
                    None => format!("{copy}\n"),
                };
                let start = line;
                line += text.lines().count();
                candidates.push(Candidate {
                    fragment: fragment_index,
                    function: function.name.clone(),
                    line: source[..position.at].lines().count(),
                    lines: start..line,
                });
                appended.push_str(&text);
            }
        }
    }
    appended.push_str("};\n");
    (appended, candidates)
}

/// An error the compiler reported: where, and what.
#[derive(Debug, Clone)]
struct Reported {
    line: usize,
    message: String,
    /// Whether it comes from the parser (no error code), which may stop
    /// the compiler before it checks types.
    syntax: bool,
}

/// The errors in cargo's JSON messages whose primary span is in `file`.
fn reported_errors(json_lines: &str, copy_root: &Path, file: &Path) -> Vec<Reported> {
    let wanted = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut found = Vec::new();
    for line in json_lines.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(message) = value.get("message") else {
            continue;
        };
        if message.get("level").and_then(|level| level.as_str()) != Some("error") {
            continue;
        }
        let syntax = message.get("code").is_none_or(serde_json::Value::is_null);
        let text = message
            .get("rendered")
            .and_then(|rendered| rendered.as_str())
            .unwrap_or_default()
            .to_string();
        let spans = message.get("spans").and_then(|spans| spans.as_array());
        for span in spans.into_iter().flatten() {
            if span.get("is_primary").and_then(serde_json::Value::as_bool) != Some(true) {
                continue;
            }
            let name = span
                .get("file_name")
                .and_then(|name| name.as_str())
                .unwrap_or_default();
            let path = copy_root.join(name);
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            if path != wanted {
                continue;
            }
            let line = span
                .get("line_start")
                .and_then(serde_json::Value::as_u64)
                .and_then(|line| usize::try_from(line).ok())
                .unwrap_or(0);
            found.push(Reported {
                line,
                message: text.clone(),
                syntax,
            });
        }
    }
    found
}

/// A fragment no position of the solution compiles, with the compiler's
/// first complaint at the position that came closest.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The fragment.
    pub fragment: Fragment,
    /// Where it came closest, and what the compiler said there.
    pub closest: String,
}

/// Checks every fragment of code in the hints of `catalogues`: compiles each
/// in its exercise's reference solution, in a scratch copy of the
/// repository. Returns the fragments that compile nowhere.
///
/// # Errors
/// When the copy cannot be made or cargo cannot run.
pub fn find_failures(workspace: &Workspace, catalogues: &[Catalogue]) -> Result<Vec<Failure>> {
    let copy = workspace.scratch("hint-code");
    workspace.copy_to(&copy)?;
    let cargo = Cargo::for_copy(&copy, &workspace.scratch("hint-code-target"));
    let mut failures = Vec::new();
    for catalogue in catalogues {
        let all = fragments(catalogue);
        let mut remaining: Vec<usize> = Vec::new();
        for (index, fragment) in all.iter().enumerate() {
            // Unbalanced brackets would swallow the code after the copy.
            let tokens = rust_tokens::tokenize(&fragment.code);
            if partners(&tokens)
                .iter()
                .zip(&tokens)
                .any(|(partner, token)| {
                    partner.is_none() && matches!(token.kind, Kind::Open | Kind::Close)
                })
            {
                failures.push(Failure {
                    fragment: fragment.clone(),
                    closest: "its brackets do not balance".into(),
                });
            } else {
                remaining.push(index);
            }
        }
        // A fragment that does not parse may stop the compiler before it
        // checks the others' types, so it is reported and left out, and
        // the workshop built again.
        loop {
            let mut by_exercise: BTreeMap<ExerciseId, Vec<(usize, &Fragment)>> = BTreeMap::new();
            for &index in &remaining {
                by_exercise
                    .entry(all[index].exercise)
                    .or_default()
                    .push((index, &all[index]));
            }
            // A neutral fragment in every position: if it does not parse,
            // the check placed code where no statement can go, and every
            // fragment would be blamed for it.
            let probes: Vec<Fragment> = by_exercise
                .keys()
                .map(|&exercise| Fragment {
                    exercise,
                    hint: 0,
                    code: "()".into(),
                })
                .collect();
            for (fragments, probe) in by_exercise.values_mut().zip(&probes) {
                fragments.push((PROBE, probe));
            }
            let mut placed = Vec::new();
            for (id, fragments) in &by_exercise {
                let Some(exercise) = catalogue.exercise(*id) else {
                    continue;
                };
                let solution = catalogue.solution_path(exercise);
                let source = std::fs::read_to_string(workspace.root.join(&solution))
                    .context(|| format!("reading {}", solution.display()))?;
                let (appended, candidates) = candidates(
                    &source,
                    fragments,
                    &format!("{}_{}", exercise.id.workshop(), exercise.id.position()),
                );
                let target = copy.join(&solution);
                std::fs::write(&target, format!("{source}{appended}"))
                    .context(|| format!("writing {}", target.display()))?;
                placed.push((exercise, target, candidates));
            }
            let output = cargo.output(&[
                "check",
                "--quiet",
                "--lib",
                "--message-format=json",
                "-p",
                &catalogue.package(),
                "--features",
                "solution",
            ])?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let mut unparsed = Vec::new();
            let mut verdicts: BTreeMap<usize, Option<String>> = remaining
                .iter()
                .map(|&index| {
                    (
                        index,
                        Some("there is no function in the solution to put it in".to_string()),
                    )
                })
                .collect();
            for (exercise, target, candidates) in &placed {
                let errors = reported_errors(&stdout, &copy, target);
                if let Some(outside) = errors.iter().find(|error| {
                    !candidates
                        .iter()
                        .any(|candidate| candidate.lines.contains(&error.line))
                }) {
                    return Err(outside_error(exercise, outside));
                }
                if let Some(misplaced) = candidates.iter().find(|candidate| {
                    candidate.fragment == PROBE
                        && errors
                            .iter()
                            .any(|error| error.syntax && candidate.lines.contains(&error.line))
                }) {
                    return Err(Error::Check(format!(
                        "checking the hints of {}: a statement cannot go after line {} of \
                         `{}` in {}, where the check put one; the check's reading of the \
                         solution is wrong there",
                        exercise.id,
                        misplaced.line,
                        misplaced.function,
                        catalogue.solution_path(exercise).display()
                    )));
                }
                judge(candidates, &errors, &mut verdicts, &mut unparsed);
            }
            restore(workspace, &copy, &placed)?;
            if unparsed.is_empty() {
                for (index, closest) in verdicts {
                    if let Some(closest) = closest {
                        failures.push(Failure {
                            fragment: all[index].clone(),
                            closest,
                        });
                    }
                }
                break;
            }
            for (index, message) in unparsed {
                remaining.retain(|&kept| kept != index);
                failures.push(Failure {
                    fragment: all[index].clone(),
                    closest: message,
                });
            }
            if remaining.is_empty() {
                break;
            }
        }
    }
    Ok(failures)
}

/// Decides, for each fragment, whether a copy compiled (`None`) or what
/// the closest one's first error was; fragments with syntax errors go to
/// `unparsed`.
fn judge(
    candidates: &[Candidate],
    errors: &[Reported],
    verdicts: &mut BTreeMap<usize, Option<String>>,
    unparsed: &mut Vec<(usize, String)>,
) {
    let mut fewest: BTreeMap<usize, (usize, String)> = BTreeMap::new();
    for candidate in candidates.iter().filter(|c| c.fragment != PROBE) {
        let mine: Vec<&Reported> = errors
            .iter()
            .filter(|error| candidate.lines.contains(&error.line))
            .collect();
        if mine.iter().any(|error| error.syntax) {
            if !unparsed
                .iter()
                .any(|(index, _)| *index == candidate.fragment)
            {
                unparsed.push((candidate.fragment, first_lines(&mine[0].message)));
            }
            continue;
        }
        if mine.is_empty() {
            verdicts.insert(candidate.fragment, None);
            continue;
        }
        let entry = fewest
            .entry(candidate.fragment)
            .or_insert((usize::MAX, String::new()));
        if mine.len() < entry.0 {
            *entry = (
                mine.len(),
                format!(
                    "closest: in `{}`, after line {}: {}",
                    candidate.function,
                    candidate.line,
                    first_lines(&mine[0].message)
                ),
            );
        }
    }
    for (index, verdict) in verdicts.iter_mut() {
        if let (Some(closest), Some((_, message))) = (verdict.as_mut(), fewest.get(index)) {
            closest.clone_from(message);
        }
    }
}

fn first_lines(message: &str) -> String {
    message
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(2)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn outside_error(exercise: &Exercise, error: &Reported) -> Error {
    Error::Check(format!(
        "checking the hints of {}: the solution copy failed to build outside the inserted \
         hints (line {}): {}",
        exercise.id, error.line, error.message
    ))
}

/// Puts the solution files of the copy back as they are in the repository.
fn restore(
    workspace: &Workspace,
    copy: &Path,
    placed: &[(&Exercise, PathBuf, Vec<Candidate>)],
) -> Result<()> {
    for (_, target, _) in placed {
        let relative = target.strip_prefix(copy).unwrap_or(target);
        std::fs::copy(workspace.root.join(relative), target)
            .context(|| format!("restoring {}", target.display()))?;
    }
    Ok(())
}

/// The check `verify` runs.
///
/// # Errors
/// [`Error::Check`] naming each hint whose code compiles nowhere in its
/// solution.
pub fn check(workspace: &Workspace, catalogues: &[Catalogue]) -> Result<()> {
    let checked: usize = catalogues.iter().map(|c| fragments(c).len()).sum();
    let failures = find_failures(workspace, catalogues)?;
    println!("    {checked} fragments of code in hints, each tried in its solution");
    if failures.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failures
        .iter()
        .map(|failure| {
            format!(
                "  {} hint {}: `{}`\n      {}",
                failure.fragment.exercise,
                failure.fragment.hint,
                failure.fragment.code,
                failure.closest
            )
        })
        .collect();
    Err(Error::Check(format!(
        "{} fragment(s) of code in hints compile nowhere in their exercise's solution; a learner \
         who types them gets an error. Make each one code that builds where it goes, or say it \
         in words:\n{}",
        failures.len(),
        list.join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_to_type_is_told_from_names() {
        let hint = "Use `queue.complete` or `Option<Delivery>`; `drain(..)` helps. Then \
                    `let delay = backoff.delay(attempt);` and `deque.split_off(deque.len() / 2)`, \
                    `2 × base`, `.lock().unwrap()`, `if a { b }`, `x = 1`.";
        assert_eq!(
            code_spans(hint),
            [
                "let delay = backoff.delay(attempt);",
                "deque.split_off(deque.len() / 2)",
                "if a { b }",
                "x = 1"
            ],
            "names, types, prose and method fragments are not code to type"
        );
    }

    #[test]
    fn statement_positions_are_found_in_blocks_and_arms_but_not_in_literals() {
        let source = "impl<I: Item> Run<I> for Queue<I> {\n\
                      fn go(&self, x: u32) -> Result<u32, E> {\n\
                      if x > 1 { return 0; }\n\
                      let a = Point { x: 1, y: 2 };\n\
                      match x { 0 => a.x, _ => { a.y } }\n\
                      }\n}\n";
        let found = functions(source);
        assert_eq!(found.len(), 1, "one function, in the impl");
        let function = &found[0];
        assert_eq!(
            function.impl_header.as_deref(),
            Some("impl<I: Item> Queue<I>"),
            "a trait's method is copied into an inherent impl"
        );
        let after: Vec<String> = function
            .positions
            .iter()
            .map(|position| {
                let rest = &source[position.at..];
                rest.trim_start().chars().take(8).collect()
            })
            .collect();
        assert_eq!(
            after,
            [
                "if x > 1",
                "let a = ",
                "match x ",
                "return 0",
                "}\nlet a ",
                "a.x, _ =",
                "a.y } }\n"
            ],
            "the body's start, after each statement, each brace-less arm, and each block"
        );
        assert_eq!(
            function.positions[5].arm_end.map(|end| &source[end..=end]),
            Some(","),
            "a brace-less arm is wrapped up to its comma"
        );
    }
}
