//! A node's journal on a disk that tears writes and rots bits: a torn end
//! is cut and said, anything else that fails its checksum stops the node,
//! and nothing damaged is ever read as a change.

use std::path::{Path, PathBuf};

use capstone::net::log_file::{MAGIC, RECORD_HEADER, read_journal, record};
use capstone::net::{Damage, Durability, LogFile, LogFileError, Recovered};
use capstone::{Command, DurableChange, DurableState, HardState};
use coordination::NodeId;
use workshop4::{Entry, LogIndex, Term};

/// A journal path of this test's own, in a fresh folder.
fn journal_path(name: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    folder.join("node-1.journal")
}

fn entry(index: u64, command: Command) -> Entry<Command> {
    Entry {
        index: LogIndex::new(index),
        term: Term::new(2),
        command,
    }
}

/// Five changes, each its own record: what the damage tests start from.
fn five_changes() -> Vec<DurableChange> {
    vec![
        DurableChange::HardState(HardState {
            term: Term::new(2),
            voted_for: Some(NodeId::new(1)),
        }),
        DurableChange::Append(vec![entry(1, Command::OpenSession)]),
        DurableChange::Append(vec![entry(2, Command::OpenSession)]),
        DurableChange::Append(vec![
            entry(3, Command::OpenSession),
            entry(4, Command::OpenSession),
        ]),
        DurableChange::Append(vec![entry(5, Command::OpenSession)]),
    ]
}

/// The state `changes` add up to.
fn state_of(changes: &[DurableChange]) -> DurableState {
    let mut state = DurableState::new();
    for change in changes {
        state.apply(change.clone());
    }
    state
}

/// A journal holding `changes`, written through [`LogFile`]; returns its
/// bytes and where each record starts.
fn written(path: &Path, changes: &[DurableChange]) -> (Vec<u8>, Vec<usize>) {
    let (mut journal, _) = LogFile::open(path, Durability::Unsynced).expect("a new journal opens");
    for change in changes {
        journal
            .append(std::slice::from_ref(change))
            .expect("the journal is writable");
    }
    drop(journal);
    let bytes = std::fs::read(path).expect("the journal is readable");
    let mut starts = Vec::new();
    let mut offset = MAGIC.len();
    for change in changes {
        starts.push(offset);
        offset += record(change).expect("a change has bytes").len();
    }
    assert_eq!(offset, bytes.len(), "the journal holds exactly its records");
    (bytes, starts)
}

/// A journal written, closed and opened again gives back the same durable
/// state, through truncations.
#[test]
fn a_journal_reopened_holds_what_was_written() {
    let path = journal_path("reopened");
    let (mut journal, empty) =
        LogFile::open(&path, Durability::Synced).expect("a new journal opens");
    assert!(empty.state.is_empty(), "a new journal holds nothing");
    let changes = [
        DurableChange::HardState(HardState {
            term: Term::new(1),
            voted_for: Some(NodeId::new(1)),
        }),
        DurableChange::Append(vec![
            entry(1, Command::OpenSession),
            entry(2, Command::OpenSession),
        ]),
        DurableChange::TruncateFrom(LogIndex::new(2)),
    ];
    journal.append(&changes).expect("the journal is writable");
    drop(journal);
    let (_, recovered) = LogFile::open(&path, Durability::Synced).expect("the journal opens again");
    assert_eq!(
        recovered,
        Recovered {
            state: state_of(&changes),
            records: 3,
            torn: None
        },
        "a clean journal reads back whole, with nothing cut"
    );
    assert_eq!(
        recovered.state.entries,
        vec![entry(1, Command::OpenSession)],
        "the truncation holds after a restart"
    );
}

/// A crash in the middle of the last write leaves a record cut short at any
/// byte: it is cut off and reported, every earlier record is kept, and the
/// journal takes new records after the cut.
#[test]
fn a_last_record_cut_at_any_byte_is_cut_off_and_said() {
    let path = journal_path("torn");
    let changes = five_changes();
    let (bytes, starts) = written(&path, &changes);
    let last = *starts.last().expect("five records");
    for cut in last + 1..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).expect("the journal is writable");
        let (mut journal, recovered) = LogFile::open(&path, Durability::Unsynced)
            .unwrap_or_else(|error| panic!("a journal torn at byte {cut} must open: {error}"));
        assert_eq!(
            recovered.state,
            state_of(&changes[..4]),
            "torn at byte {cut}: the four complete records must be kept, and only those"
        );
        let torn = recovered
            .torn
            .unwrap_or_else(|| panic!("torn at byte {cut}: the cut must be reported"));
        assert_eq!(
            (torn.offset, torn.bytes),
            (last as u64, (cut - last) as u64),
            "torn at byte {cut}: the report must say where the cut was and how much went"
        );
        let expected = if cut - last < RECORD_HEADER {
            Damage::HeaderCutOff
        } else {
            Damage::PayloadCutOff
        };
        assert_eq!(torn.damage, expected, "torn at byte {cut}");
        journal
            .append(&changes[4..])
            .expect("a journal cut back is writable");
        drop(journal);
        let (_, again) = LogFile::open(&path, Durability::Unsynced).expect("it opens again");
        assert_eq!(
            (again.state, again.torn),
            (state_of(&changes), None),
            "torn at byte {cut}: a record written after the cut must read back cleanly"
        );
    }
}

/// A power cut can leave the file longer than what was written, the rest
/// zeros: that is a torn end too.
#[test]
fn zeros_after_the_last_record_are_a_torn_end() {
    let path = journal_path("zeros");
    let changes = five_changes();
    let (mut bytes, _) = written(&path, &changes);
    let length = bytes.len();
    bytes.extend([0; 4096]);
    std::fs::write(&path, &bytes).expect("the journal is writable");
    let (_, recovered) =
        LogFile::open(&path, Durability::Unsynced).expect("a journal with a zeroed end opens");
    assert_eq!(
        recovered.state,
        state_of(&changes),
        "every record before the zeros is kept"
    );
    let torn = recovered.torn.expect("the zeros must be reported as cut");
    assert_eq!((torn.offset, torn.bytes), (length as u64, 4096));
    assert_eq!(
        std::fs::metadata(&path).expect("the journal exists").len(),
        length as u64,
        "the file is cut back to its last valid record"
    );
}

/// One flipped bit in the length of a record in the middle used to read as
/// a record running past the end, and the journal was cut back to it: a
/// silent loss of every later record. Now the header's own checksum catches
/// it, and the node refuses to start.
#[test]
fn a_flipped_length_in_the_middle_is_corruption_not_a_torn_end() {
    let path = journal_path("length");
    let (mut bytes, starts) = written(&path, &five_changes());
    bytes[starts[1] + 1] ^= 0x40;
    std::fs::write(&path, &bytes).expect("the journal is writable");
    match LogFile::open(&path, Durability::Unsynced) {
        Err(LogFileError::Corrupt {
            offset,
            record,
            damage,
            next_valid,
            ..
        }) => {
            assert_eq!(
                (offset, record, damage, next_valid),
                (
                    starts[1] as u64,
                    2,
                    Damage::HeaderChecksum,
                    starts[2] as u64
                ),
                "the error must name the damaged record and the valid one after it"
            );
        }
        other => panic!("a damaged record followed by valid ones must be refused, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&path).expect("the journal is readable"),
        bytes,
        "a corrupt journal is left as it was, for inspection"
    );
}

/// Every single bit of a journal flipped in turn: each flip is either
/// refused, or, inside the last record only, cut off as a torn end. No flip
/// is ever read as a change, and none costs more than the last record.
#[test]
fn every_bit_flip_is_refused_or_cut_never_read() {
    let path = journal_path("flips");
    let changes = five_changes();
    let (bytes, starts) = written(&path, &changes);
    let last = *starts.last().expect("five records");
    let mut refused = 0;
    let mut cut = 0;
    // In memory: `LogFile::open` reads the file with this same function, and
    // the tests above check what it does to the file.
    for bit in 0..bytes.len() * 8 {
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        match read_journal(&path, &flipped) {
            Err(
                LogFileError::Corrupt { .. }
                | LogFileError::NotAJournal { .. }
                | LogFileError::Undecodable { .. },
            ) => {
                assert!(
                    bit / 8 < last,
                    "bit {bit} lies in the last record: a torn end, not corruption"
                );
                refused += 1;
            }
            Ok((read, torn)) => {
                assert!(
                    bit / 8 >= last,
                    "bit {bit} (byte {}) was flipped before the last record, and the journal \
                     was read: it must refuse to start instead",
                    bit / 8
                );
                assert_eq!(
                    (read, torn.map(|torn| torn.offset)),
                    (changes[..4].to_vec(), Some(last as u64)),
                    "bit {bit}: a damaged last record is cut, and only it"
                );
                cut += 1;
            }
            Err(error) => panic!("bit {bit}: unexpected error {error}"),
        }
    }
    assert_eq!(
        (refused, cut),
        (last * 8, (bytes.len() - last) * 8),
        "every flip must be seen"
    );
}

/// The refusal says what an operator needs: the file, the offset, and
/// what to do.
#[test]
fn the_refusal_names_the_file_the_offset_and_the_remedy() {
    let path = journal_path("message");
    let (mut bytes, starts) = written(&path, &five_changes());
    let damaged = starts[2] + RECORD_HEADER + 1;
    bytes[damaged] ^= 1;
    std::fs::write(&path, &bytes).expect("the journal is writable");
    let error = LogFile::open(&path, Durability::Unsynced)
        .expect_err("a payload flipped in the middle is refused");
    let message = error.to_string();
    for needed in [
        path.display().to_string(),
        format!("byte {}", starts[2]),
        "record 3".to_string(),
        "payload fails its checksum".to_string(),
        "mv ".to_string(),
    ] {
        assert!(
            message.contains(&needed),
            "the message must say {needed:?}: {message}"
        );
    }
}

/// A file that is not a journal is refused, never read as an empty one.
#[test]
fn a_file_that_is_not_a_journal_is_refused() {
    let path = journal_path("foreign");
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("a folder");
    std::fs::write(&path, b"\0\0\0\x01\x09 not a journal").expect("the file is writable");
    assert!(
        matches!(
            LogFile::open(&path, Durability::Unsynced),
            Err(LogFileError::NotAJournal { .. })
        ),
        "a foreign file must be refused"
    );
}
