//! A node process's command line, and its `main`.
//!
//! ```text
//! queue-node --id 1 --listen 127.0.0.1:7001 --peers 2=127.0.0.1:7002,3=127.0.0.1:7003 \
//!            --data-dir target/queue
//! ```
//!
//! `--listen` takes port 0 for any free port; the process's first line on
//! standard output is `node-1 listening on 127.0.0.1:PORT`, so whoever
//! started it learns the port. `--peers stdin` reads the peers from the
//! next line of standard input instead, after that first line: a
//! supervisor starts every node on a free port, reads the ports, then tells
//! each node where the others are, and no two runs can ever pick the same
//! port.
//!
//! The order of a start is the order of what can fail: the journal is
//! opened and read first (a corrupt one stops the node before it says
//! anything else), then the address is bound, and only then does the node
//! say it listens. Every error names the path or the address it is about.
//!
//! Two mistakes a command line cannot make by accident:
//!
//! - **a cluster of one.** A node without peers would elect itself and
//!   acknowledge writes that no other machine holds. Peers are required;
//!   a single-node cluster must be asked for with `--single-node`;
//! - **unsynced writes.** Journal writes are synced before anything is
//!   acknowledged. `--no-sync` turns that off for demos on slow disks, and
//!   the node says so on its standard error at start.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use coordination::demo::{Flag, Flags};
use coordination::{NodeId, Seed};
use tokio::net::TcpListener;
use workshop4::RaftConfig;

use super::log_file::{Durability, LogFile};
use super::node_log::NodeLog;
use super::server::{ConnectionLimits, NodeOptions, run_node};
use crate::QueueConfig;

const ID: Flag = Flag::value("id", "1", "this node's number");
const LISTEN: Flag = Flag::value(
    "listen",
    "127.0.0.1:0",
    "the address to listen on (port 0: any free port)",
);
const PEERS: Flag = Flag::value(
    "peers",
    "stdin",
    "the other nodes, as 2=ADDRESS,3=ADDRESS; `stdin` reads them from the next input line",
);
const DATA_DIR: Flag = Flag::value(
    "data-dir",
    "target/queue-node",
    "where the node keeps its journal",
);
const SEED: Flag = Flag::value("seed", "1", "seeds the node's election timeouts");
const NO_SYNC: Flag = Flag::switch(
    "no-sync",
    "do not sync journal writes: an acknowledged message can be lost in a power cut (demos only)",
);
const SINGLE_NODE: Flag = Flag::switch(
    "single-node",
    "run a cluster of one, with no peers: nothing is replicated",
);
const MAX_CLIENTS: Flag = Flag::value(
    "max-clients",
    "256",
    "client connections open at once; more are closed at once",
);
const IDLE_TIMEOUT_MS: Flag = Flag::value(
    "idle-timeout-ms",
    "60000",
    "milliseconds a connection may stay silent before it is closed",
);
/// The flags of a node process.
pub const NODE_FLAGS: [Flag; 9] = [
    ID,
    LISTEN,
    PEERS,
    DATA_DIR,
    SEED,
    NO_SYNC,
    SINGLE_NODE,
    MAX_CLIENTS,
    IDLE_TIMEOUT_MS,
];

/// What a node's command line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCommandLine {
    /// This node.
    pub id: NodeId,
    /// Where it listens.
    pub listen: SocketAddr,
    /// The other nodes, or `None` to read them from standard input.
    pub peers: Option<BTreeMap<NodeId, SocketAddr>>,
    /// Where its journal lives.
    pub data_dir: PathBuf,
    /// Seeds its election timeouts.
    pub seed: Seed,
    /// Whether journal writes are synced.
    pub durability: Durability,
    /// Whether a cluster of one was asked for.
    pub single_node: bool,
    /// What a connection may cost.
    pub limits: ConnectionLimits,
}

/// A command line that cannot start a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandLineError {
    /// A flag is malformed or unknown.
    #[error(transparent)]
    Flag(#[from] coordination::demo::FlagError),
    /// A peer list that does not read as `ID=ADDRESS,...`.
    #[error("cannot read the peer {0:?}: write ID=ADDRESS, such as 2=127.0.0.1:7002")]
    Peer(String),
    /// The node names itself among its peers.
    #[error("node-{0} is given as its own peer")]
    SelfAsPeer(u32),
    /// No peers, and no `--single-node`.
    #[error(
        "no peers were given: a node needs the other members of its cluster \
         (--peers 2=ADDRESS,3=ADDRESS, or one line of them on standard input); \
         a cluster of one replicates nothing and must be asked for with --single-node"
    )]
    NoPeers,
    /// Peers given with `--single-node`.
    #[error("--single-node runs a cluster of one, yet {0} peers were given")]
    PeersWithSingleNode(usize),
    /// A limit of zero.
    #[error("--{0} must be at least 1")]
    Zero(&'static str),
}

impl NodeCommandLine {
    /// Reads a node's command line (without the program name).
    ///
    /// # Errors
    /// [`CommandLineError`] naming what is wrong.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, CommandLineError> {
        let flags = Flags::parse_from(args, &NODE_FLAGS)?;
        let id = NodeId::new(flags.get(ID)?);
        let single_node = flags.switch(SINGLE_NODE);
        let peers = match flags.get::<String>(PEERS)?.as_str() {
            "stdin" if !single_node => None,
            "stdin" => Some(BTreeMap::new()),
            list => Some(parse_peers(list)?),
        };
        if let Some(peers) = &peers {
            check_peers(id, peers, single_node)?;
        }
        let max_clients: usize = flags.get(MAX_CLIENTS)?;
        let idle_timeout: u64 = flags.get(IDLE_TIMEOUT_MS)?;
        if max_clients == 0 {
            return Err(CommandLineError::Zero("max-clients"));
        }
        if idle_timeout == 0 {
            return Err(CommandLineError::Zero("idle-timeout-ms"));
        }
        Ok(Self {
            id,
            listen: flags.get(LISTEN)?,
            peers,
            data_dir: PathBuf::from(flags.get::<String>(DATA_DIR)?),
            seed: Seed::new(flags.get(SEED)?),
            durability: if flags.switch(NO_SYNC) {
                Durability::Unsynced
            } else {
                Durability::Synced
            },
            single_node,
            limits: ConnectionLimits {
                max_clients,
                idle_timeout: Duration::from_millis(idle_timeout),
                ..ConnectionLimits::standard()
            },
        })
    }
}

/// Checks a node's peers: never itself, and some unless it runs alone.
///
/// # Errors
/// [`CommandLineError::SelfAsPeer`], [`CommandLineError::NoPeers`] or
/// [`CommandLineError::PeersWithSingleNode`].
pub fn check_peers(
    id: NodeId,
    peers: &BTreeMap<NodeId, SocketAddr>,
    single_node: bool,
) -> Result<(), CommandLineError> {
    if peers.contains_key(&id) {
        return Err(CommandLineError::SelfAsPeer(id.get()));
    }
    match (single_node, peers.len()) {
        (false, 0) => Err(CommandLineError::NoPeers),
        (true, count) if count > 0 => Err(CommandLineError::PeersWithSingleNode(count)),
        _ => Ok(()),
    }
}

/// Reads `2=127.0.0.1:7002,3=127.0.0.1:7003`.
///
/// # Errors
/// [`CommandLineError::Peer`] naming the entry that does not read.
pub fn parse_peers(list: &str) -> Result<BTreeMap<NodeId, SocketAddr>, CommandLineError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (id, address) = entry
                .split_once('=')
                .ok_or_else(|| CommandLineError::Peer(entry.to_string()))?;
            let id = id
                .trim()
                .parse()
                .map_err(|_| CommandLineError::Peer(entry.to_string()))?;
            let address = address
                .trim()
                .parse()
                .map_err(|_| CommandLineError::Peer(entry.to_string()))?;
            Ok((NodeId::new(id), address))
        })
        .collect()
}

/// Writes a peer list as [`parse_peers`] reads it.
pub fn format_peers(peers: &BTreeMap<NodeId, SocketAddr>) -> String {
    peers
        .iter()
        .map(|(id, address)| format!("{}={address}", id.get()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The word a program started as one of its own cluster's nodes gets first:
/// `cluster node --id 1 ...`.
pub const NODE_MODE: &str = "node";

/// Runs this process as a node if its arguments start with [`NODE_MODE`],
/// and exits when the node stops; returns otherwise. A demo calls it first
/// thing, so that it can start copies of itself as the nodes of its
/// cluster (a separate binary is not built by `cargo run --example`).
pub fn serve_if_asked() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) != Some(NODE_MODE) {
        return;
    }
    args.next();
    match node_main(args) {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("node: {error}");
            std::process::exit(2);
        }
    }
}

/// A node process's whole `main`: reads `args`, opens its journal, listens,
/// says where, learns its peers, and runs the node until the process is
/// killed.
///
/// # Errors
/// A bad command line, a journal that cannot be read or is corrupt, an
/// address that cannot be bound, no peers: each names what it is about.
pub fn node_main(args: impl IntoIterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let command_line = NodeCommandLine::parse(args)?;
    let log = NodeLog::new(command_line.id);
    let journal_path = command_line
        .data_dir
        .join(format!("{}.journal", command_line.id));
    let (journal, recovered) = LogFile::open(&journal_path, command_line.durability)?;
    if let Some(torn) = &recovered.torn {
        log.say(format_args!("journal {}: {torn}", journal_path.display()));
    }
    if command_line.durability == Durability::Unsynced {
        log.say(
            "journal writes are NOT synced (--no-sync): a power cut can lose \
             messages this node acknowledged",
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listen = command_line.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|error| format!("cannot listen on {listen}: {error}"))?;
        let address = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(out, "{} listening on {address}", command_line.id)?;
        out.flush()?;
        let peers = match command_line.peers {
            Some(peers) => peers,
            None => {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let peers = parse_peers(line.trim())?;
                check_peers(command_line.id, &peers, command_line.single_node)?;
                peers
            }
        };
        let options = NodeOptions {
            id: command_line.id,
            peers,
            raft: RaftConfig::paper().with_max_entries_per_append(crate::ENTRIES_PER_APPEND),
            queue: QueueConfig::standard(),
            seed: command_line.seed,
            limits: command_line.limits,
        };
        run_node(
            listener,
            options,
            journal,
            &recovered.state,
            std::future::pending(),
        )
        .await?;
        Ok(())
    })
}
