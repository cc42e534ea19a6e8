//! Running git, for the tools that read or write the repository's history.

use std::path::Path;
use std::process::Command;

use crate::error::{Context, Error, Result};

/// git, run in one repository.
pub struct Git<'a> {
    /// The repository's root.
    root: &'a Path,
}

impl<'a> Git<'a> {
    /// git in the repository at `root`.
    pub fn new(root: &'a Path) -> Self {
        Self { root }
    }

    /// Runs git and returns its trimmed standard output.
    ///
    /// # Errors
    /// When git cannot start or fails; the error carries git's own message.
    pub fn run(&self, args: &[&str], env: &[(&str, String)]) -> Result<String> {
        let output = self.output(args, env)?;
        Ok(String::from_utf8_lossy(&output).trim().to_string())
    }

    /// Runs git and returns its standard output as bytes, untouched: file
    /// contents, for `git show REV:PATH`.
    ///
    /// # Errors
    /// As [`run`](Self::run).
    pub fn output(&self, args: &[&str], env: &[(&str, String)]) -> Result<Vec<u8>> {
        let mut command = Command::new("git");
        command.args(args).current_dir(self.root);
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command
            .output()
            .context(|| format!("running git {} (is git installed?)", args.join(" ")))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(Error::CommandFailed {
                command: format!("git {}", args.join(" ")),
                status: output.status.to_string(),
                hint: format!("\n{}", String::from_utf8_lossy(&output.stderr).trim()),
            })
        }
    }

    /// Where stubs are read from: the branch's upstream (`origin/main`
    /// after a clone), else the remote's default branch (a learner who
    /// made a branch of their own and committed to it), if there is one.
    /// Either still has the stubs after a learner commits their work.
    pub fn upstream(&self) -> Option<String> {
        let resolve = |name: &str| {
            self.run(
                &["rev-parse", "--abbrev-ref", "--symbolic-full-name", name],
                &[],
            )
            .ok()
            .filter(|resolved| !resolved.is_empty())
        };
        resolve("@{upstream}").or_else(|| resolve("origin/HEAD"))
    }
}
