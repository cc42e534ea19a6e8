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

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use coordination::demo::{Flag, Flags};
use coordination::{NodeId, Seed};
use tokio::net::TcpListener;
use workshop4::RaftConfig;

use super::server::{NodeOptions, run_node};
use crate::QueueConfig;

/// The flags of a node process.
pub const NODE_FLAGS: [Flag; 6] = [
    Flag::value("id", "1", "this node's number"),
    Flag::value(
        "listen",
        "127.0.0.1:0",
        "the address to listen on (port 0: any free port)",
    ),
    Flag::value(
        "peers",
        "stdin",
        "the other nodes, as 2=ADDRESS,3=ADDRESS; `stdin` reads them from the next input line",
    ),
    Flag::value(
        "data-dir",
        "target/queue-node",
        "where the node keeps its journal",
    ),
    Flag::value("seed", "1", "seeds the node's election timeouts"),
    Flag::switch("sync", "sync every journal write to the disk (fdatasync)"),
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
    pub sync: bool,
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
}

impl NodeCommandLine {
    /// Reads a node's command line (without the program name).
    ///
    /// # Errors
    /// [`CommandLineError`] naming what is wrong.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, CommandLineError> {
        let flags = Flags::parse_from(args, &NODE_FLAGS)?;
        let id = NodeId::new(flags.get("id")?);
        let peers = match flags.get::<String>("peers")?.as_str() {
            "stdin" => None,
            list => Some(parse_peers(list)?),
        };
        if let Some(peers) = &peers
            && peers.contains_key(&id)
        {
            return Err(CommandLineError::SelfAsPeer(id.get()));
        }
        Ok(Self {
            id,
            listen: flags.get("listen")?,
            peers,
            data_dir: PathBuf::from(flags.get::<String>("data-dir")?),
            seed: Seed::new(flags.get("seed")?),
            sync: flags.switch("sync"),
        })
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

/// A node process's whole `main`: reads `args`, listens, says where, learns
/// its peers, and runs the node until the process is killed.
///
/// # Errors
/// A bad command line, a port that cannot be bound, a journal that cannot
/// be read or written.
pub fn node_main(args: impl IntoIterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let command_line = NodeCommandLine::parse(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(command_line.listen).await?;
        let address = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(out, "{} listening on {address}", command_line.id)?;
        out.flush()?;
        let peers = match command_line.peers {
            Some(peers) => peers,
            None => {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                parse_peers(line.trim())?
            }
        };
        if peers.contains_key(&command_line.id) {
            return Err(CommandLineError::SelfAsPeer(command_line.id.get()).into());
        }
        let options = NodeOptions {
            id: command_line.id,
            peers,
            data_dir: command_line.data_dir,
            raft: RaftConfig::paper(),
            queue: QueueConfig::standard(),
            seed: command_line.seed,
            sync: command_line.sync,
        };
        run_node(listener, options, std::future::pending()).await?;
        Ok(())
    })
}
