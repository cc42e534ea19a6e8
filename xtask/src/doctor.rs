//! `cargo workshop doctor`: is this machine ready for the workshop?
//!
//! Run it before the day (a learner at home, an instructor in the room):
//! every check that fails says what to do while there is still time and a
//! network. It checks the toolchain against the workspace's `rust-version`,
//! that every dependency is already on disk (so a room without network can
//! build), that git is there (reset needs it), and what the terminal can
//! show.

use std::process::Command;

use crate::ui::Style;
use crate::workspace::Workspace;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Ready.
    Ready,
    /// Works, with a caveat worth knowing.
    Note,
    /// Must be fixed before the workshop.
    Broken,
}

/// One check's finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub check: &'static str,
    /// How it came out.
    pub verdict: Verdict,
    /// What was found, and for a problem what to do.
    pub detail: String,
}

/// Runs every check.
pub fn examine(workspace: &Workspace) -> Vec<Finding> {
    vec![
        toolchain(workspace),
        dependencies(workspace),
        git(workspace),
        nats_server(workspace),
        terminal(),
    ]
}

/// The `nats-server` that the capstone's JetStream part runs on: where it
/// was found and its version (`nats-server --version`). Optional, since
/// only that part needs it.
fn nats_server(workspace: &Workspace) -> Finding {
    let check = "nats-server";
    let pinned = crate::nats_server::pinned_path(workspace);
    match crate::nats_server::find(workspace) {
        Some(found) => {
            let place = if found.path == pinned {
                format!("installed under target/ ({})", found.path.display())
            } else if std::env::var_os("NATS_SERVER").is_some_and(|named| found.path == *named) {
                format!("named by NATS_SERVER ({})", found.path.display())
            } else {
                "on the PATH".to_string()
            };
            Finding {
                check,
                verdict: Verdict::Ready,
                detail: format!(
                    "nats-server {}, {place}, for the capstone's JetStream part",
                    found.version_text()
                ),
            }
        }
        None => Finding {
            check,
            verdict: Verdict::Note,
            detail: format!(
                "not found (NATS_SERVER, {}, PATH), or older than {}.{}; only the capstone's \
                 JetStream part needs it. `cargo workshop demo capstone jetstream` offers to \
                 install {} under target/ (`--yes`: without asking), and `cargo xtask verify` \
                 installs it",
                pinned.display(),
                crate::nats_server::MINIMUM_VERSION.0,
                crate::nats_server::MINIMUM_VERSION.1,
                crate::nats_server::PINNED_VERSION
            ),
        },
    }
}

/// The Rust toolchain against the workspace's `rust-version`.
fn toolchain(workspace: &Workspace) -> Finding {
    let check = "Rust toolchain";
    let wanted = required_rust_version(workspace);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let found = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let Some(found) = found else {
        return Finding {
            check,
            verdict: Verdict::Broken,
            detail: "rustc does not run. Install Rust with rustup (rustup.rs), then open a new \
                     terminal"
                .into(),
        };
    };
    let version = found.split_whitespace().nth(1).unwrap_or_default();
    match wanted {
        Some(wanted) if !at_least(version, &wanted) => Finding {
            check,
            verdict: Verdict::Broken,
            detail: format!(
                "{found} is older than the {wanted} the workshop needs. Run `rustup update`"
            ),
        },
        Some(wanted) => Finding {
            check,
            verdict: Verdict::Ready,
            detail: format!("{found}; the workshop needs {wanted} or later"),
        },
        None => Finding {
            check,
            verdict: Verdict::Note,
            detail: format!("{found}; the workspace names no rust-version to compare with"),
        },
    }
}

/// Whether every crate the workspace needs on this platform is on disk.
fn dependencies(workspace: &Workspace) -> Finding {
    let check = "Dependencies for an offline room";
    let host = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .find_map(|line| line.strip_prefix("host: ").map(str::to_string))
        });
    let mut args = vec!["fetch", "--offline", "--locked"];
    if let Some(host) = &host {
        // Only this platform's crates: a Windows-only dependency need not be
        // on a Linux laptop.
        args.extend(["--target", host]);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let fetched = Command::new(cargo)
        .args(&args)
        .current_dir(&workspace.root)
        .output();
    match fetched {
        Ok(output) if output.status.success() => Finding {
            check,
            verdict: Verdict::Ready,
            detail: "every crate is on disk (downloaded or vendored): builds need no network"
                .into(),
        },
        Ok(output) => {
            let reason = String::from_utf8_lossy(&output.stderr);
            let first = reason
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("cargo fetch failed");
            Finding {
                check,
                verdict: Verdict::Broken,
                detail: format!(
                    "{first}. While online, run `cargo fetch` (or `cargo vendor`, see the \
                     README's section for instructors)"
                ),
            }
        }
        Err(error) => Finding {
            check,
            verdict: Verdict::Broken,
            detail: format!("cargo does not run ({error}). Install Rust with rustup"),
        },
    }
}

/// git, which `reset` and `checkpoint` read stubs from.
fn git(workspace: &Workspace) -> Finding {
    let check = "git";
    let inside = Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(&workspace.root)
        .output();
    match inside {
        Ok(output) if output.status.success() => Finding {
            check,
            verdict: Verdict::Ready,
            detail: "installed, and this is a git checkout: reset can restore stubs".into(),
        },
        Ok(_) => Finding {
            check,
            verdict: Verdict::Note,
            detail: "installed, but this folder is not a git checkout: `cargo workshop reset` \
                     needs one. Clone the repository with git"
                .into(),
        },
        Err(_) => Finding {
            check,
            verdict: Verdict::Note,
            detail: "not found: everything works except `cargo workshop reset`. Install git".into(),
        },
    }
}

/// Colour and Unicode, as the tools will use them.
fn terminal() -> Finding {
    let support = Style::detect_with_reasons();
    Finding {
        check: "Terminal",
        verdict: Verdict::Ready,
        detail: format!(
            "colour {}; Unicode {}",
            support.colour_reason, support.unicode_reason
        ),
    }
}

/// `rust-version` from the workspace manifest.
fn required_rust_version(workspace: &Workspace) -> Option<String> {
    let manifest = std::fs::read_to_string(workspace.root.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&manifest).ok()?;
    manifest
        .get("workspace")?
        .get("package")?
        .get("rust-version")?
        .as_str()
        .map(str::to_string)
}

/// Whether version `found` (`1.95.0`) is at least `wanted` (`1.95`).
fn at_least(found: &str, wanted: &str) -> bool {
    let parts = |version: &str| -> Vec<u64> {
        version
            .split(['.', '-'])
            .map_while(|part| part.parse().ok())
            .collect()
    };
    let (found, wanted) = (parts(found), parts(wanted));
    for (position, &part) in wanted.iter().enumerate() {
        let have = found.get(position).copied().unwrap_or(0);
        if have != part {
            return have > part;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_part_by_part() {
        assert!(at_least("1.95.0", "1.95"));
        assert!(at_least("1.100.0", "1.95"));
        assert!(!at_least("1.94.1", "1.95"));
        assert!(at_least("2.0.0-nightly", "1.95"));
    }
}
