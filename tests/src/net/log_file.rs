//! A node's durable state in a file: its Raft log and hard state, as a
//! journal of changes.
//!
//! ## The problem
//!
//! Raft's safety rests on stable storage (Figure 2: persist before you
//! answer). A real disk keeps that promise only if it is asked to: a write
//! that was not synced can vanish in a power cut, a write cut off half way
//! leaves a torn record at the end of the file, and a bit can rot in the
//! middle. A journal that reads on through any of these hands the node a
//! log it never had, and the node then agrees to things it cannot keep.
//!
//! ## The design
//!
//! The file starts with an 8-byte [`MAGIC`] and then holds one record per
//! [`DurableChange`]:
//!
//! ```text
//! length: u32 | crc32c(length): u32 | crc32c(payload): u32 | payload
//! ```
//!
//! The header has a checksum of its own so that a flipped bit in a length
//! is caught as damage, instead of making the reader believe the record
//! runs past the end of the file. At start the node reads the records back
//! in order and tells three cases apart:
//!
//! - **clean**: every record checks;
//! - **a torn tail**: the last record is incomplete or fails its checksum,
//!   and no valid record follows it anywhere. That is what a crash in the
//!   middle of a write (or a power cut that left zeros) looks like. Nothing
//!   was acknowledged on the strength of that record when the journal is
//!   synced, so it is cut off, and the cut is reported with its offset and
//!   size, for the node to log;
//! - **corruption**: a record that fails its checksum (or does not decode)
//!   with a valid record somewhere after it. A torn write only ever damages
//!   the end, so this is the disk or someone else writing the file: the
//!   node refuses to start, naming the file, the offset and what to do. It
//!   never reads on, and never cuts away records it cannot account for.
//!
//! Every append is one `write` of all the records of a batch, followed,
//! in [`Durability::Synced`] (the default), by `fdatasync`: a node
//! acknowledges nothing before the batch that holds it is on the disk, as
//! etcd's write-ahead log does. The server calls [`LogFile::append`] once
//! for every batch of events it handles, so one sync covers many requests
//! (group commit). [`Durability::Unsynced`] skips the sync: the data
//! survives the death of the process, not of the machine; demos use it to
//! run on slow disks, and say so.
//!
//! ## What is left out
//!
//! Compaction: the journal grows with the log, like the log. Preallocation
//! and fixed-size blocks (LevelDB's log), which bound how much a torn write
//! can damage and make recovery cheaper than this byte-by-byte search.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::checksum::crc32c;
use super::codec::{DecodeError, EncodeError, Wire, from_bytes, to_bytes};
use crate::{DurableChange, DurableState};

/// The first bytes of every journal: what it is, and the version of its
/// record format.
pub const MAGIC: [u8; 8] = *b"DWCJRNL1";

/// The bytes before a record's payload: its length and two checksums.
pub const RECORD_HEADER: usize = 12;

/// The largest record a reader accepts. A record is one batch of changes; a
/// leader catching up a follower that was down appends at most this much in
/// one go (the wire's frame limit is the same).
pub const MAX_RECORD: u32 = super::frame::MAX_FRAME;

/// Whether a write waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every batch is followed by `fdatasync` before the node answers
    /// anyone: acknowledged means on the disk.
    Synced,
    /// Writes reach the operating system only: they survive a killed
    /// process, not a power cut. For demos on slow disks.
    Unsynced,
}

/// A node's journal; see the module documentation.
#[derive(Debug)]
pub struct LogFile {
    /// The file, open for appending.
    file: File,
    /// Where it is, for messages.
    path: PathBuf,
    /// Whether every write is synced to the disk.
    durability: Durability,
}

/// What reading a journal back found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The durable state the records add up to.
    pub state: DurableState,
    /// How many records were read.
    pub records: usize,
    /// The torn last record that was cut off, if there was one.
    pub torn: Option<TornTail>,
}

/// The incomplete or damaged end of a journal, cut off at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Where the cut was made: the length the file was cut back to.
    pub offset: u64,
    /// How many bytes were cut off.
    pub bytes: u64,
    /// What was wrong with them.
    pub damage: Damage,
}

impl std::fmt::Display for TornTail {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "cut a torn last record at byte {} ({} bytes: {}); no valid record followed it",
            self.offset, self.bytes, self.damage
        )
    }
}

/// What is wrong with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Fewer bytes than a record header are left.
    HeaderCutOff,
    /// The header's checksum does not match its length.
    HeaderChecksum,
    /// The header's length is above [`MAX_RECORD`].
    LengthAboveLimit(u32),
    /// The file ends before the payload does.
    PayloadCutOff,
    /// The payload's checksum does not match.
    PayloadChecksum,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::HeaderCutOff => write!(formatter, "the record's header is cut off"),
            Damage::HeaderChecksum => write!(formatter, "the record's header fails its checksum"),
            Damage::LengthAboveLimit(length) => write!(
                formatter,
                "the record claims {length} bytes, above the limit of {MAX_RECORD}"
            ),
            Damage::PayloadCutOff => write!(formatter, "the record's payload is cut off"),
            Damage::PayloadChecksum => {
                write!(formatter, "the record's payload fails its checksum")
            }
        }
    }
}

/// A journal that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    /// The file could not be opened, read or written.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file does not start with [`MAGIC`].
    #[error(
        "{path} is not a node's journal (it does not start with {magic:?}); \
         give the node a data directory of its own",
        magic = String::from_utf8_lossy(&MAGIC)
    )]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// A damaged record with valid records after it: not a torn write.
    #[error(
        "journal {path} is corrupt at byte {offset} (record {record}): {damage}, \
         yet a valid record follows at byte {next_valid}. A crash only tears the \
         end of a journal, so the disk or another writer damaged it; the node \
         will not start on a log it cannot trust. Keep the file for inspection \
         (mv {path} {path}.corrupt) and restart the node once the other nodes \
         have a leader: it rejoins with an empty log and copies it from them."
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: u64,
        /// Its number, 1 for the first record.
        record: usize,
        /// What is wrong with it.
        damage: Damage,
        /// Where the next valid record starts.
        next_valid: u64,
    },
    /// A record whose checksums hold but whose payload is not a change:
    /// written by another program or another version.
    #[error(
        "journal {path}: record {record} at byte {offset} passes its checksums but is \
         not a change ({source}); it was written by another version or program. \
         The node will not start on it."
    )]
    Undecodable {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// Its number, 1 for the first record.
        record: usize,
        /// Why it does not decode.
        source: DecodeError,
    },
}

/// One record's bytes: header, then payload.
///
/// # Errors
/// [`EncodeError`] when `value` has no bytes in the codec's format.
pub fn record<T: Wire>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let payload = to_bytes(value)?;
    // The server never builds a batch above the limit (it is the wire's
    // frame limit too); a larger one would be refused at the next start,
    // which is why `append` checks it before writing.
    let length = u32::try_from(payload.len()).map_err(|_| EncodeError::TooLong {
        length: payload.len(),
    })?;
    let mut bytes = Vec::with_capacity(RECORD_HEADER + payload.len());
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&crc32c(&length.to_be_bytes()).to_be_bytes());
    bytes.extend_from_slice(&crc32c(&payload).to_be_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// A record read from a journal's bytes.
enum Read<'a> {
    /// A record whose checksums hold, and where the next one starts.
    Valid { payload: &'a [u8], next: usize },
    /// A damaged or incomplete record.
    Damaged(Damage),
}

/// Reads the record at `offset` of `bytes`, which holds one.
fn read_at(bytes: &[u8], offset: usize) -> Read<'_> {
    let Some(header) = bytes.get(offset..offset + RECORD_HEADER) else {
        return Read::Damaged(Damage::HeaderCutOff);
    };
    let word = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let (length, header_sum, payload_sum) = (word(0), word(4), word(8));
    if crc32c(&header[0..4]) != header_sum {
        return Read::Damaged(Damage::HeaderChecksum);
    }
    if length > MAX_RECORD {
        return Read::Damaged(Damage::LengthAboveLimit(length));
    }
    let start = offset + RECORD_HEADER;
    // `length` is at most MAX_RECORD, which fits a usize on every target
    // this runs on (at least 32 bits).
    let end = start + length as usize;
    let Some(payload) = bytes.get(start..end) else {
        return Read::Damaged(Damage::PayloadCutOff);
    };
    if crc32c(payload) != payload_sum {
        return Read::Damaged(Damage::PayloadChecksum);
    }
    Read::Valid { payload, next: end }
}

/// The first offset after `damaged` where a valid record starts, if any.
///
/// A damaged header says nothing about where the next record is, so every
/// offset is tried; a random header passes its checksum once in 2^32 tries,
/// and must then also hold a payload that passes its own.
fn next_valid_after(bytes: &[u8], damaged: usize) -> Option<usize> {
    (damaged + 1..bytes.len().saturating_sub(RECORD_HEADER - 1))
        .find(|&offset| matches!(read_at(bytes, offset), Read::Valid { .. }))
}

/// Reads a journal's bytes: the changes of its valid records and, if its end
/// is torn, where the valid part ends and what was wrong.
///
/// # Errors
/// [`LogFileError::NotAJournal`], [`LogFileError::Corrupt`] or
/// [`LogFileError::Undecodable`], naming `path`.
pub fn read_journal(
    path: &Path,
    bytes: &[u8],
) -> Result<(Vec<DurableChange>, Option<TornTail>), LogFileError> {
    if !bytes.starts_with(&MAGIC) {
        // A file shorter than the magic and a prefix of it was torn while
        // being created: nothing in it counted.
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            return Ok((Vec::new(), None));
        }
        return Err(LogFileError::NotAJournal {
            path: path.to_path_buf(),
        });
    }
    let mut changes = Vec::new();
    let mut offset = MAGIC.len();
    while offset < bytes.len() {
        match read_at(bytes, offset) {
            Read::Valid { payload, next } => {
                let change = from_bytes(payload).map_err(|source| LogFileError::Undecodable {
                    path: path.to_path_buf(),
                    offset: offset as u64,
                    record: changes.len() + 1,
                    source,
                })?;
                changes.push(change);
                offset = next;
            }
            Read::Damaged(damage) => {
                if let Some(next_valid) = next_valid_after(bytes, offset) {
                    return Err(LogFileError::Corrupt {
                        path: path.to_path_buf(),
                        offset: offset as u64,
                        record: changes.len() + 1,
                        damage,
                        next_valid: next_valid as u64,
                    });
                }
                let torn = TornTail {
                    offset: offset as u64,
                    bytes: (bytes.len() - offset) as u64,
                    damage,
                };
                return Ok((changes, Some(torn)));
            }
        }
    }
    Ok((changes, None))
}

impl LogFile {
    /// Opens (or creates) the journal at `path` and reads what it holds. A
    /// torn last record is cut off, and said in [`Recovered::torn`].
    ///
    /// # Errors
    /// [`LogFileError`] when the file cannot be read or written, is not a
    /// journal, or is corrupt: the node must not start.
    pub fn open(path: &Path, durability: Durability) -> Result<(Self, Recovered), LogFileError> {
        let io = |source| LogFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let folder = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty());
        if let Some(folder) = folder {
            fs::create_dir_all(folder).map_err(io)?;
        }
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(io(error)),
        };
        let (changes, torn) = read_journal(path, &bytes)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        if bytes.len() < MAGIC.len() {
            // A new journal (or one torn while being created): start it
            // afresh, and make its name durable in its folder too.
            file.set_len(0).map_err(io)?;
            file.write_all(&MAGIC).map_err(io)?;
            if durability == Durability::Synced {
                file.sync_all().map_err(io)?;
                if let Some(folder) = folder {
                    File::open(folder)
                        .and_then(|folder| folder.sync_all())
                        .map_err(io)?;
                }
            }
        } else if let Some(torn) = &torn {
            file.set_len(torn.offset).map_err(io)?;
            if durability == Durability::Synced {
                file.sync_all().map_err(io)?;
            }
        }
        let records = changes.len();
        let mut state = DurableState::new();
        for change in changes {
            state.apply(change);
        }
        let log_file = Self {
            file,
            path: path.to_path_buf(),
            durability,
        };
        Ok((
            log_file,
            Recovered {
                state,
                records,
                torn,
            },
        ))
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether writes wait for the disk.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Appends `changes` as one record each, in one write, and in
    /// [`Durability::Synced`] waits until they are on the disk.
    ///
    /// # Errors
    /// [`LogFileError::Io`]: the node must stop, since it cannot keep what
    /// it promised to keep. A change above [`MAX_RECORD`] is refused before
    /// anything is written.
    pub fn append(&mut self, changes: &[DurableChange]) -> Result<(), LogFileError> {
        if changes.is_empty() {
            return Ok(());
        }
        let io = |source| LogFileError::Io {
            path: self.path.clone(),
            source,
        };
        let mut bytes = Vec::new();
        for change in changes {
            let record = record(change)
                .map_err(|error| io(io::Error::new(io::ErrorKind::InvalidInput, error)))?;
            if record.len() - RECORD_HEADER > MAX_RECORD as usize {
                return Err(io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a change of {} bytes is above the journal's limit of {MAX_RECORD}",
                        record.len() - RECORD_HEADER
                    ),
                )));
            }
            bytes.extend_from_slice(&record);
        }
        self.file.write_all(&bytes).map_err(io)?;
        if self.durability == Durability::Synced {
            self.file.sync_data().map_err(io)?;
        }
        Ok(())
    }
}
