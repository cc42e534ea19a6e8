//! The errors of the maintainers' tools, each with what to do next.

use std::path::PathBuf;

/// Why a tool stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or process could not be read, written or started.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("`{command}` failed ({status}){hint}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What to try, starting with a newline, or empty.
        hint: String,
    },
    /// A catalogue (`exercises.toml`) is malformed or disagrees with the files.
    #[error("{path}: {message}")]
    Catalogue {
        /// The catalogue.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A check found a problem; the message lists every finding.
    #[error("{0}")]
    Check(String),
    /// The command line asked for something this tool does not do.
    #[error("{0}")]
    Usage(String),
}

/// The result of every tool operation.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds what was being done to an I/O error.
pub trait Context<T> {
    /// Wraps the error with `context()`.
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context(),
            source,
        })
    }
}
