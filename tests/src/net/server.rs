//! A queue node as an operating-system process, on TCP.
//!
//! ## The design
//!
//! The same [`QueueNode`] as in the simulation, driven by one loop on a
//! current-thread tokio runtime: it ticks the node every Raft tick, steps in
//! what the connections bring, and after each step writes the node's
//! durable changes to its [`LogFile`] and only then sends what it produced.
//! Around that loop, tasks that only move bytes:
//!
//! - one **listener** accepts connections; each gets a **reader** task that
//!   turns frames into events for the loop, and a **writer** task that
//!   sends the answers for its clients;
//! - one **sender** per peer keeps a connection to that peer and writes the
//!   Raft messages the loop hands it. When the peer is down, messages are
//!   dropped, as a lossy network would: Raft sends again what matters.
//!
//! The clock the leader stamps operations with is the system clock, as time
//! since the Unix epoch: the processes of one machine share it, and the
//! queue never lets its own time go backwards if a new leader's clock is a
//! little behind. (The simulation stamps simulated time instead; the queue
//! cannot tell the difference.)
//!
//! Listening is on the address given, 127.0.0.1 by default.
//!
//! ## What is left out
//!
//! TLS and authentication; graceful shutdown (the process is meant to be
//! killed: that is what it is for); backpressure towards clients beyond a
//! bounded queue of events.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coordination::{NodeId, Seed};
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use workshop4::{RaftConfig, RaftConfigError, RaftMessage};

use super::frame::{Frame, read_frame, write_frame};
use super::log_file::{LogFile, LogFileError};
use crate::{Command, QueueConfig, QueueNode, QueueRequest};

/// How a node process runs.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// This node.
    pub id: NodeId,
    /// The other members and where they listen.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Where its journal lives.
    pub data_dir: PathBuf,
    /// Raft's timing.
    pub raft: RaftConfig,
    /// The queue's settings.
    pub queue: QueueConfig,
    /// Seeds its election timeouts.
    pub seed: Seed,
    /// Whether every journal write is synced to the disk.
    pub sync: bool,
}

/// Why a node stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Its journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] LogFileError),
    /// Its journal or options describe a node Raft cannot be.
    #[error("cannot start the node: {0}")]
    Config(#[from] RaftConfigError),
    /// Listening failed.
    #[error("cannot accept connections: {0}")]
    Listen(std::io::Error),
}

/// Something that happened on a connection, for the node's loop.
enum Event {
    /// A Raft message from a peer.
    Raft {
        /// The peer.
        from: NodeId,
        /// Its message.
        message: RaftMessage<Command>,
    },
    /// A client's request.
    Request {
        /// What it asks.
        request: QueueRequest,
        /// Where the answer goes.
        reply: Reply,
    },
}

/// Where a client's answer goes: its connection, and its number for the
/// call.
#[derive(Debug)]
struct Reply {
    /// The client's number for the call.
    call: u64,
    /// The connection's writer.
    connection: mpsc::UnboundedSender<Frame>,
}

/// How many events may wait for the loop before readers wait too.
const EVENT_BACKLOG: usize = 4096;

/// How many Raft messages may wait for a peer's connection.
const PEER_BACKLOG: usize = 1024;

/// How long a sender waits for a connection to a peer, and then before it
/// tries again.
const RECONNECT_AFTER: Duration = Duration::from_millis(100);

/// Runs node `options.id` on `listener` until `shutdown` completes (a
/// process passes a future that never does: it is killed).
///
/// # Errors
/// [`NodeError`] when its journal cannot be read or written, or the
/// listener fails.
pub async fn run_node(
    listener: TcpListener,
    options: NodeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), NodeError> {
    let journal_path = options.data_dir.join(format!("{}.journal", options.id));
    let (mut journal, durable) = LogFile::open(&journal_path, options.sync)?;
    let mut members: Vec<NodeId> = options.peers.keys().copied().collect();
    members.push(options.id);
    let mut node: QueueNode<Reply> = QueueNode::new(
        options.id,
        &members,
        options.raft.clone(),
        options.queue,
        options.seed,
        &durable,
    )?;
    let (events, mut inbox) = mpsc::channel(EVENT_BACKLOG);
    let peers: BTreeMap<NodeId, mpsc::Sender<RaftMessage<Command>>> = options
        .peers
        .iter()
        .map(|(&peer, &address)| {
            let (sender, messages) = mpsc::channel(PEER_BACKLOG);
            tokio::spawn(send_to_peer(options.id, address, messages));
            (peer, sender)
        })
        .collect();
    let accepting = tokio::spawn(accept(listener, events));
    let mut ticks = tokio::time::interval(options.raft.tick());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    tokio::pin!(shutdown);
    let outcome = loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break Ok(()),
            _ = ticks.tick() => node.tick(),
            event = inbox.recv() => match event {
                Some(Event::Raft { from, message }) => {
                    // A message from a stranger is refused by the node and
                    // changes nothing.
                    let _ = node.step(from, message);
                }
                Some(Event::Request { request, reply }) => node.request(request, reply, now()),
                None => break Err(NodeError::Listen(std::io::Error::other("the listener stopped"))),
            },
        }
        let ready = node.ready();
        if let Err(error) = journal.append(&ready.changes) {
            break Err(error.into());
        }
        for (to, message) in ready.messages {
            if let Some(peer) = peers.get(&to) {
                // A full queue means the peer is down or slow: the message is
                // lost, as on a congested network, and Raft sends again.
                let _ = peer.try_send(message);
            }
        }
        for (reply, response) in ready.replies {
            let _ = reply.connection.send(Frame::Response {
                call: reply.call,
                response,
            });
        }
    };
    accepting.abort();
    outcome
}

/// The system clock as time since the Unix epoch: what a leader stamps.
fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Accepts connections until the listener fails.
async fn accept(listener: TcpListener, events: mpsc::Sender<Event>) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, events.clone()));
    }
}

/// Reads one connection's frames into events, and writes its answers.
async fn serve_connection(stream: TcpStream, events: mpsc::Sender<Event>) {
    let (reading, writing) = stream.into_split();
    let (connection, mut answers) = mpsc::unbounded_channel::<Frame>();
    let writer = tokio::spawn(async move {
        let mut writing = BufWriter::new(writing);
        while let Some(frame) = answers.recv().await {
            if write_frame(&mut writing, &frame).await.is_err() {
                return;
            }
            // Several answers ready at once leave in one write.
            if answers.is_empty() && writing.flush().await.is_err() {
                return;
            }
        }
    });
    let mut reading = BufReader::new(reading);
    let mut peer = None;
    while let Ok(Some(frame)) = read_frame(&mut reading).await {
        let event = match frame {
            Frame::Peer(node) => {
                peer = Some(node);
                continue;
            }
            Frame::Raft(message) => match peer {
                Some(from) => Event::Raft { from, message },
                // Raft messages before a peer said who it is: not ours.
                None => break,
            },
            Frame::Request { call, request } => Event::Request {
                request,
                reply: Reply {
                    call,
                    connection: connection.clone(),
                },
            },
            Frame::Response { .. } => continue,
        };
        if events.send(event).await.is_err() {
            break;
        }
    }
    drop(connection);
    let _ = writer.await;
}

/// Keeps a connection to the peer at `address` and writes `messages` to it;
/// drops what arrives while there is no connection.
async fn send_to_peer(
    me: NodeId,
    address: SocketAddr,
    mut messages: mpsc::Receiver<RaftMessage<Command>>,
) {
    loop {
        let connected = tokio::time::timeout(RECONNECT_AFTER, TcpStream::connect(address)).await;
        let Ok(Ok(stream)) = connected else {
            // Messages for a peer that is down are lost: the ones queued
            // now would arrive stale.
            while messages.try_recv().is_ok() {}
            tokio::time::sleep(RECONNECT_AFTER).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut writing = BufWriter::new(stream);
        if write_frame(&mut writing, &Frame::Peer(me)).await.is_err() {
            continue;
        }
        loop {
            let Some(message) = messages.recv().await else {
                return;
            };
            if write_frame(&mut writing, &Frame::Raft(message))
                .await
                .is_err()
            {
                break;
            }
            if messages.is_empty() && writing.flush().await.is_err() {
                break;
            }
        }
    }
}
