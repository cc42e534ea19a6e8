//! A node's durable state in a file: its Raft log and hard state, as a
//! journal of changes.
//!
//! Every [`DurableChange`] a node's `Ready` lists is appended to one file,
//! framed like a network message, before anything of that `Ready` is sent.
//! At start the node reads the journal back and applies it in order, which
//! gives the [`DurableState`] it had. A record cut off by a crash in the
//! middle of a write is dropped and the file cut back before the next
//! write: it never counted, because nothing was sent after it.
//!
//! By default the file is written, not synced: the data survives the death
//! of the process (what the demo and the tests do to it), not of the
//! machine. With `sync` each write is followed by `fdatasync`, as etcd's
//! write-ahead log does before it answers.
//!
//! Left out: compaction. The journal grows with the log, like the log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::codec::DecodeError;
use super::frame::{framed, read_records};
use crate::{DurableChange, DurableState};

/// A node's journal; see the module documentation.
#[derive(Debug)]
pub struct LogFile {
    /// The file, open for appending.
    file: File,
    /// Where it is, for messages.
    path: PathBuf,
    /// Whether every write is synced to the disk.
    sync: bool,
}

/// A journal that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// A complete record is not a change: the file is corrupt or not a
    /// journal.
    #[error("{path} is not a node's journal: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: DecodeError,
    },
}

impl LogFile {
    /// Opens (or creates) the journal at `path` and reads what it holds.
    ///
    /// # Errors
    /// [`LogFileError`] when the file cannot be read, or holds something
    /// that is not a journal.
    pub fn open(path: &Path, sync: bool) -> Result<(Self, DurableState), LogFileError> {
        let io = |source| LogFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).map_err(io)?;
        }
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(io(error)),
        };
        let (changes, complete) =
            read_records::<DurableChange>(&bytes).map_err(|source| LogFileError::Corrupt {
                path: path.to_path_buf(),
                source,
            })?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        if complete < bytes.len() {
            file.set_len(complete as u64).map_err(io)?;
        }
        let mut state = DurableState::new();
        for change in changes {
            state.apply(change);
        }
        Ok((
            Self {
                file,
                path: path.to_path_buf(),
                sync,
            },
            state,
        ))
    }

    /// Appends `changes`, in one write.
    ///
    /// # Errors
    /// [`LogFileError::Io`]: the node must stop, since it cannot keep what
    /// it promised to keep.
    pub fn append(&mut self, changes: &[DurableChange]) -> Result<(), LogFileError> {
        if changes.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = changes.iter().flat_map(framed).collect();
        let io = |source| LogFileError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&bytes).map_err(io)?;
        if self.sync {
            self.file.sync_data().map_err(io)?;
        }
        Ok(())
    }
}
