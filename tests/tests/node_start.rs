//! How a `queue-node` process starts, and refuses to: no accidental cluster
//! of one, its journal read before it says it listens, and every error
//! naming what it is about.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a node that must refuse to start may take to do it.
const LIMIT: Duration = Duration::from_secs(10);

/// A data folder of this test's own.
fn folder(name: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("node-start-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    folder
}

/// Runs `queue-node` with `args` and no standard input, and waits for it to
/// exit, killing it if it has not within [`LIMIT`].
fn refused(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_queue-node"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the node program runs");
    let started = Instant::now();
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let output = child.wait_with_output().expect("the child's output");
            panic!(
                "queue-node {args:?} did not stop within {LIMIT:?}: it must refuse to start. \
                 It said: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("the child's output");
    assert!(
        !output.status.success(),
        "queue-node {args:?} must fail, it exited with {}",
        output.status
    );
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A node given no peers (standard input closed at once) would elect
/// itself and acknowledge writes nobody else holds: it refuses, and says
/// how to ask for a cluster of one.
#[test]
fn a_node_without_peers_refuses_to_run_alone() {
    let data = folder("alone");
    let output = refused(&["--id", "1", "--data-dir", data.to_str().expect("a path")]);
    let error = text(&output.stderr);
    assert!(
        error.contains("no peers") && error.contains("--single-node"),
        "the refusal must say that peers are missing and how to run alone: {error}"
    );
    let _ = std::fs::remove_dir_all(data);
}

/// `--single-node` with peers is a contradiction, refused before anything
/// starts.
#[test]
fn single_node_with_peers_is_refused() {
    let output = refused(&["--single-node", "--peers", "2=127.0.0.1:7002"]);
    assert!(
        text(&output.stderr).contains("--single-node runs a cluster of one"),
        "the refusal must name the contradiction: {}",
        text(&output.stderr)
    );
}

/// A corrupt journal stops the node before it says it listens, so a
/// supervisor never takes a node that cannot serve for one that can.
#[test]
fn a_corrupt_journal_stops_the_node_before_it_listens() {
    let data = folder("corrupt");
    std::fs::create_dir_all(&data).expect("a folder");
    let journal = data.join("node-1.journal");
    std::fs::write(&journal, b"not a journal at all").expect("a file");
    let output = refused(&[
        "--id",
        "1",
        "--peers",
        "2=127.0.0.1:9",
        "--data-dir",
        data.to_str().expect("a path"),
    ]);
    assert!(
        !text(&output.stdout).contains("listening on"),
        "the node said it listens before reading its journal: {}",
        text(&output.stdout)
    );
    let error = text(&output.stderr);
    assert!(
        error.contains(&journal.display().to_string()) && error.contains("not a node's journal"),
        "the refusal must name the file and what is wrong: {error}"
    );
    let _ = std::fs::remove_dir_all(data);
}

/// An address that cannot be bound is named in the error.
#[test]
fn a_failed_bind_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = taken.local_addr().expect("an address").to_string();
    let data = folder("bind");
    let output = refused(&[
        "--listen",
        &address,
        "--peers",
        "2=127.0.0.1:9",
        "--data-dir",
        data.to_str().expect("a path"),
    ]);
    assert!(
        text(&output.stderr).contains(&format!("cannot listen on {address}")),
        "the error must name the address: {}",
        text(&output.stderr)
    );
    drop(taken);
    let _ = std::fs::remove_dir_all(data);
}

/// `--no-sync` is said out loud: an operator must know that acknowledged
/// messages can be lost in a power cut.
#[test]
fn running_unsynced_is_said_out_loud() {
    let data = folder("unsynced");
    let output = refused(&[
        "--no-sync",
        "--id",
        "1",
        "--data-dir",
        data.to_str().expect("a path"),
    ]);
    assert!(
        text(&output.stderr).contains("NOT synced"),
        "the node must warn that its writes are not synced: {}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(data);
}
