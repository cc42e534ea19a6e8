//! The given code of an exercise file stays the same in both modes.
//!
//! An exercise file holds given code (types, configuration checks, helpers)
//! around the stubs a learner fills in, and its solution at the same path
//! under `solutions/` repeats that given code, because solution mode swaps
//! the whole file. Two copies can drift: a fix made to one and not the
//! other would make exercise mode and solution mode run different given
//! code, and a learner's green would no longer mean what the reference's
//! green means. This check keeps them equal: wherever the stub differs from
//! its solution, the stub's side of the difference must be a marked stub (a
//! `TODO(` comment, a `todo!(`, or the file's `#![allow(` for unused stub
//! inputs). The solution may add what it likes (helpers of its own); it may
//! not differ silently from what the learner was given.

/// What marks a stub's side of a difference as the learner's work.
const MARKERS: [&str; 3] = ["TODO(", "todo!(", "#![allow("];

/// Where `stub` differs from `solution` outside its marked stubs: the first
/// such stub line's number (from 1) and text, or `None` when the given code
/// agrees.
pub fn first_drift(stub: &str, solution: &str) -> Option<(usize, String)> {
    let stub: Vec<&str> = stub.lines().collect();
    let solution: Vec<&str> = solution.lines().collect();
    for hunk in hunks(&stub, &solution) {
        let lines = &stub[hunk.clone()];
        let marked = lines
            .iter()
            .any(|line| MARKERS.iter().any(|marker| line.contains(marker)));
        let trivial = lines.iter().all(|line| is_punctuation(line));
        if !marked && !trivial {
            let first = lines
                .iter()
                .position(|line| !is_punctuation(line))
                .unwrap_or(0);
            return Some((hunk.start + first + 1, lines[first].trim().to_string()));
        }
    }
    None
}

/// A line that says nothing by itself (blank, or closing brackets and
/// separators), which a line diff may pair with any other such line.
fn is_punctuation(line: &str) -> bool {
    line.trim().chars().all(|c| "(){}[];,".contains(c))
}

/// The runs of stub lines that a longest common subsequence of lines leaves
/// unmatched, one run per gap between matched lines.
fn hunks(stub: &[&str], solution: &[&str]) -> Vec<std::ops::Range<usize>> {
    let (n, m) = (stub.len(), solution.len());
    // common[i][j]: the length of the longest common subsequence of
    // stub[i..] and solution[j..].
    let mut common = vec![vec![0_u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if stub[i] == solution[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let mut hunks = Vec::new();
    let (mut i, mut j) = (0, 0);
    let mut open: Option<usize> = None;
    while i < n {
        if j < m && stub[i] == solution[j] {
            if let Some(start) = open.take() {
                hunks.push(start..i);
            }
            i += 1;
            j += 1;
        } else if j < m && common[i][j + 1] >= common[i + 1][j] {
            j += 1;
        } else {
            open.get_or_insert(i);
            i += 1;
        }
    }
    if let Some(start) = open {
        hunks.push(start..n);
    }
    hunks
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = "\
pub fn limit(x: u32) -> u32 {
    x.min(10)
}

pub fn double(x: u32) -> u32 {
    x * 2
}
";

    /// A stub that replaces a body with `todo!` and says so agrees with its
    /// solution.
    #[test]
    fn a_marked_stub_is_not_drift() {
        let stub = "\
pub fn limit(x: u32) -> u32 {
    x.min(10)
}

pub fn double(x: u32) -> u32 {
    // TODO(9.1): double it.
    todo!(\"exercise 9.1\")
}
";
        assert_eq!(first_drift(stub, SOLUTION), None);
    }

    /// Given code edited in the stub only is drift, named by its line.
    #[test]
    fn an_edit_to_given_code_is_drift() {
        let stub = "\
pub fn limit(x: u32) -> u32 {
    x.min(12)
}

pub fn double(x: u32) -> u32 {
    todo!(\"exercise 9.1\")
}
";
        assert_eq!(
            first_drift(stub, SOLUTION),
            Some((2, "x.min(12)".to_string()))
        );
    }

    /// Given code the solution lacks is drift too; helpers the solution adds
    /// are its own business.
    #[test]
    fn given_code_missing_from_the_solution_is_drift() {
        let stub = format!("{SOLUTION}\npub fn given() {{}}\n");
        assert_eq!(
            first_drift(&stub, SOLUTION),
            Some((9, "pub fn given() {}".to_string()))
        );
        let solution = format!("{SOLUTION}\nfn helper() {{}}\n");
        assert_eq!(first_drift(SOLUTION, &solution), None);
    }
}
