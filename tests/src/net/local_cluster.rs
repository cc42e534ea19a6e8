//! Node processes on this machine, started, killed and restarted on
//! command: what the process test and the cluster demo stand on.
//!
//! [`LocalCluster::start`] starts every node on a port the operating system
//! picks (`--listen 127.0.0.1:0`), reads each node's first line for its
//! address, and then writes the list of peers to each node's standard
//! input. No port is guessed, so two clusters started at once cannot
//! collide. A node killed and restarted listens on the port it had, where
//! its peers look for it.
//!
//! Every wait has a time limit, and dropping a `LocalCluster` kills every
//! node it started and waits for it, on every path out of a test,
//! panics included: no process outlives its test.
//!
//! Each node's output after its first line, and its error output, go to
//! `node-N.log` in the cluster's folder, next to its journal.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use coordination::NodeId;
use coordination::unfinished::UnfinishedExercise;

use super::log_file::Durability;
use super::process::format_peers;

/// How long a node may take to say where it listens.
const START_LIMIT: Duration = Duration::from_secs(10);

/// A node process that could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be run, or its pipes failed.
    #[error("node-{node}: {source}")]
    Io {
        /// Which node.
        node: u32,
        /// What failed.
        source: std::io::Error,
    },
    /// The node did not say where it listens in time, or said something
    /// else.
    #[error("node-{node} did not start: {detail} (see {log})")]
    NotStarted {
        /// Which node.
        node: u32,
        /// What happened instead.
        detail: String,
        /// Its log file.
        log: String,
    },
    /// No node with this id is in the cluster.
    #[error("there is no node-{0} in this cluster")]
    UnknownNode(u32),
}

/// One node process.
#[derive(Debug)]
struct NodeProcess {
    /// Where it listens.
    address: SocketAddr,
    /// The running process; `None` while it is killed.
    child: Option<Child>,
}

/// Node processes on this machine; see the module documentation.
#[derive(Debug)]
pub struct LocalCluster {
    /// The program that runs a node.
    program: PathBuf,
    /// Arguments before the node's flags (a demo that runs itself as a node
    /// passes the word that says so).
    leading_args: Vec<String>,
    /// Where the journals and logs go.
    folder: PathBuf,
    /// How every node is started, beyond its place in the cluster.
    options: NodeProcessOptions,
    nodes: BTreeMap<NodeId, NodeProcess>,
}

/// How a cluster's node processes are started, beyond their place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProcessOptions {
    /// Whether nodes sync their journals.
    pub durability: Durability,
    /// More flags for every node, such as `--idle-timeout-ms 500`.
    pub extra_flags: Vec<String>,
    /// The most file descriptors a node may have open (`ulimit -n`), if
    /// it should have fewer than the machine allows.
    pub open_files: Option<u32>,
}

impl NodeProcessOptions {
    /// Nodes as a deployment runs them: synced, no other limits.
    pub fn synced() -> Self {
        Self {
            durability: Durability::Synced,
            extra_flags: Vec::new(),
            open_files: None,
        }
    }
}

impl LocalCluster {
    /// Starts `count` nodes as [`start_with`](Self::start_with) does, their
    /// journals synced if `sync`.
    ///
    /// # Errors
    /// As [`start_with`](Self::start_with).
    pub fn start(
        program: &Path,
        leading_args: &[&str],
        count: u32,
        folder: &Path,
        sync: bool,
    ) -> Result<Self, ProcessError> {
        let durability = if sync {
            Durability::Synced
        } else {
            Durability::Unsynced
        };
        let options = NodeProcessOptions {
            durability,
            ..NodeProcessOptions::synced()
        };
        Self::start_with(program, leading_args, count, folder, options)
    }

    /// Starts `count` nodes (`node-1` ..= `node-count`) of `program` with
    /// `leading_args` before their flags, keeping journals and logs in
    /// `folder`, which is emptied first.
    ///
    /// # Errors
    /// [`ProcessError`] when a node cannot be started or does not say where
    /// it listens within ten seconds; every node started so far is killed.
    pub fn start_with(
        program: &Path,
        leading_args: &[&str],
        count: u32,
        folder: &Path,
        options: NodeProcessOptions,
    ) -> Result<Self, ProcessError> {
        let _ = std::fs::remove_dir_all(folder);
        std::fs::create_dir_all(folder).map_err(|source| ProcessError::Io { node: 0, source })?;
        let mut cluster = Self {
            program: program.to_path_buf(),
            leading_args: leading_args.iter().map(ToString::to_string).collect(),
            folder: folder.to_path_buf(),
            options,
            nodes: BTreeMap::new(),
        };
        let mut inputs = BTreeMap::new();
        for raw in 1..=count {
            let id = NodeId::new(raw);
            let (child, address) =
                cluster.spawn(id, "127.0.0.1:0".parse().expect("an address"), None)?;
            let mut child = child;
            inputs.insert(id, child.stdin.take());
            cluster.nodes.insert(
                id,
                NodeProcess {
                    address,
                    child: Some(child),
                },
            );
        }
        for (id, input) in inputs {
            let peers = cluster.peers_of(id);
            let written = input.map(|mut input| writeln!(input, "{}", format_peers(&peers)));
            if let Some(Err(source)) = written {
                return Err(ProcessError::Io {
                    node: id.get(),
                    source,
                });
            }
        }
        Ok(cluster)
    }

    /// Where every node listens.
    pub fn addresses(&self) -> BTreeMap<NodeId, SocketAddr> {
        self.nodes
            .iter()
            .map(|(&id, node)| (id, node.address))
            .collect()
    }

    /// The nodes, sorted.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    /// Whether `node`'s process is running (it was not killed, and has not
    /// died).
    pub fn is_running(&mut self, node: NodeId) -> bool {
        self.nodes
            .get_mut(&node)
            .and_then(|process| process.child.as_mut())
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills `node`'s process (SIGKILL: no goodbye) and waits for it.
    ///
    /// # Errors
    /// [`ProcessError::UnknownNode`].
    pub fn kill(&mut self, node: NodeId) -> Result<(), ProcessError> {
        let process = self
            .nodes
            .get_mut(&node)
            .ok_or(ProcessError::UnknownNode(node.get()))?;
        if let Some(mut child) = process.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        Ok(())
    }

    /// Starts a killed `node` again, on its port, from its journal. A node
    /// that is running is left alone.
    ///
    /// # Errors
    /// [`ProcessError`] when it cannot be started.
    pub fn restart(&mut self, node: NodeId) -> Result<(), ProcessError> {
        if self.is_running(node) {
            return Ok(());
        }
        let address = self
            .nodes
            .get(&node)
            .ok_or(ProcessError::UnknownNode(node.get()))?
            .address;
        let peers = self.peers_of(node);
        let (child, _) = self.spawn(node, address, Some(&peers))?;
        if let Some(process) = self.nodes.get_mut(&node) {
            process.child = Some(child);
        }
        Ok(())
    }

    /// The process id of `node`, while it runs: for reading its use of
    /// memory and descriptors under `/proc`, or for signals.
    pub fn pid(&mut self, node: NodeId) -> Option<u32> {
        let running = self.is_running(node);
        let child = self.nodes.get(&node)?.child.as_ref()?;
        running.then(|| child.id())
    }

    /// Where `node` keeps its journal.
    pub fn journal_path(&self, node: NodeId) -> PathBuf {
        self.folder.join(format!("{node}.journal"))
    }

    /// What `node` wrote to its standard error so far (and its standard
    /// output after the first line).
    pub fn log(&self, node: NodeId) -> String {
        std::fs::read_to_string(self.folder.join(format!("node-{}.log", node.get())))
            .unwrap_or_default()
    }

    /// The folder of journals and logs.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Why `node` stopped on its own, if it did: the panic or error its log
    /// ends with (an unfinished exercise says `not yet implemented: exercise
    /// 4.1: ...`). `None` while it runs, and for a node that was killed.
    pub fn failure(&mut self, node: NodeId) -> Option<String> {
        let process = self.nodes.get_mut(&node)?;
        let child = process.child.as_mut()?;
        let status = match child.try_wait() {
            Ok(Some(status)) => status,
            _ => return None,
        };
        let log = std::fs::read_to_string(self.folder.join(format!("node-{}.log", node.get())))
            .unwrap_or_default();
        let reason = log
            .lines()
            .find(|line| UnfinishedExercise::find_in(line).is_some() || line.contains("panicked"))
            .or_else(|| log.lines().rev().find(|line| !line.trim().is_empty()))
            .unwrap_or("no output");
        // A panic's message is the line after "panicked at ...".
        let reason = match log
            .lines()
            .skip_while(|line| !line.contains("panicked"))
            .nth(1)
        {
            Some(message) if reason.contains("panicked") => message,
            _ => reason,
        };
        Some(format!("{node} stopped ({status}): {reason}"))
    }

    /// Every node but `node`, with its address.
    fn peers_of(&self, node: NodeId) -> BTreeMap<NodeId, SocketAddr> {
        self.addresses()
            .into_iter()
            .filter(|(id, _)| *id != node)
            .collect()
    }

    /// Starts one node process on `listen`, with `peers` or, for `None`,
    /// told them later on its standard input; waits for its first line.
    fn spawn(
        &self,
        id: NodeId,
        listen: SocketAddr,
        peers: Option<&BTreeMap<NodeId, SocketAddr>>,
    ) -> Result<(Child, SocketAddr), ProcessError> {
        let node = id.get();
        let io = |source| ProcessError::Io { node, source };
        let log_path = self.folder.join(format!("node-{node}.log"));
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io)?;
        let peers = peers.map_or_else(|| "stdin".to_string(), format_peers);
        let mut command = match self.options.open_files {
            // `ulimit` is a shell's: the shell lowers its limit, then becomes
            // the node, which keeps it.
            Some(limit) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(&self.program);
                command
            }
            None => Command::new(&self.program),
        };
        let mut child = command
            .args(&self.leading_args)
            .args(["--id", &node.to_string()])
            .args(["--listen", &listen.to_string()])
            .args(["--peers", &peers])
            .arg("--data-dir")
            .arg(&self.folder)
            .args(["--seed", &node.to_string()])
            .args((self.options.durability == Durability::Unsynced).then_some("--no-sync"))
            .args(&self.options.extra_flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone().map_err(io)?))
            .spawn()
            .map_err(io)?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(io(std::io::Error::other("no standard output")));
        };
        let (first_line, told) = mpsc::channel();
        // One thread per node reads its first line for the supervisor, then
        // copies the rest to the log, so the node never blocks on a full
        // pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            let mut first = String::new();
            let _ = lines.read_line(&mut first);
            let _ = first_line.send(first);
            let mut log = log;
            let _ = std::io::copy(&mut lines, &mut log);
        });
        let not_started = |detail: String| ProcessError::NotStarted {
            node,
            detail,
            log: log_path.display().to_string(),
        };
        let line = match told.recv_timeout(START_LIMIT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(not_started(format!("no address within {START_LIMIT:?}")));
            }
        };
        let address = line
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|word| word.parse().ok());
        match address {
            Some(address) => Ok((child, address)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(not_started(format!("its first line was {line:?}")))
            }
        }
    }
}

impl Drop for LocalCluster {
    /// Kills every node still running and waits for it.
    fn drop(&mut self) {
        for process in self.nodes.values_mut() {
            if let Some(mut child) = process.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
