//! A queue node as an operating-system process, on TCP.
//!
//! ## The design
//!
//! The same [`QueueNode`] as in the simulation, driven by one loop on a
//! current-thread tokio runtime: it ticks the node every Raft tick, steps in
//! what the connections bring, and after each **batch** of events writes the
//! node's durable changes to its [`LogFile`] (synced, by default) and only
//! then sends what it produced. One sync for every event that arrived while
//! the last one ran is group commit: the busier the node, the more requests
//! share a sync. Around that loop, tasks that only move bytes:
//!
//! - one **listener** accepts connections; each gets a **reader** task that
//!   turns frames into events for the loop, and a **writer** task that
//!   sends the answers for its clients;
//! - one **sender** per peer keeps a connection to that peer and writes the
//!   Raft messages the loop hands it. When the peer is down, messages are
//!   dropped, as a lossy network would: Raft sends again what matters.
//!
//! ## Bounded by construction
//!
//! Nothing a client or a stranger sends can make the node hold more than a
//! fixed amount for it ([`ConnectionLimits`] sets the numbers):
//!
//! - a connection may have [`ConnectionLimits::pending_per_connection`]
//!   requests waiting for answers; past that its reader stops reading, and
//!   TCP's flow control pushes back on the client. A client that sends and
//!   never reads answers fills its own window, not the node's memory;
//! - a frame's buffer grows with the bytes that arrive, not with its length
//!   prefix, and a frame once begun must arrive whole within
//!   [`ConnectionLimits::frame_timeout`]; an answer the client does not read
//!   within that time closes its connection;
//! - a connection silent for [`ConnectionLimits::idle_timeout`] is closed
//!   (peers send a keep-alive when they have nothing to say);
//! - at most [`ConnectionLimits::max_clients`] client connections are open.
//!   Peers have slots of their own, so a flood of clients cannot lock the
//!   cluster's own members out, and their messages have a queue of their
//!   own that the loop serves first, so clients cannot delay heartbeats;
//! - an accept that fails (out of file descriptors, say) is logged and
//!   retried after a pause: the node never stops listening.
//!
//! Every refusal is logged once with the address it came from, rate-limited
//! ([`NodeLog`]).
//!
//! The clock the leader stamps operations with is the system clock, as time
//! since the Unix epoch: the processes of one machine share it, and the
//! queue never lets its own time go backwards if a new leader's clock is a
//! little behind. (The simulation stamps simulated time instead; the queue
//! cannot tell the difference.)
//!
//! ## What is left out
//!
//! TLS and authentication (a peer is whoever says it is); graceful shutdown
//! (the process is meant to be killed: that is what it is for).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coordination::{NodeId, Seed};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::{MissedTickBehavior, timeout};
use workshop4::{RaftConfig, RaftConfigError, RaftMessage};

use super::frame::{Frame, FrameError, MAX_CLIENT_FRAME, MAX_FRAME, read_frame, write_frame};
use super::log_file::{LogFile, LogFileError};
use super::node_log::NodeLog;
use crate::{Command, DurableState, QueueConfig, QueueNode, QueueRequest};

/// How a node process runs.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// This node.
    pub id: NodeId,
    /// The other members and where they listen.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Raft's timing.
    pub raft: RaftConfig,
    /// The queue's settings.
    pub queue: QueueConfig,
    /// Seeds its election timeouts.
    pub seed: Seed,
    /// What a connection may cost the node.
    pub limits: ConnectionLimits,
}

/// The bounds on what connections may cost a node; see the module
/// documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Client connections open at once; one more is closed at once.
    pub max_clients: usize,
    /// Requests of one connection waiting for their answers before the
    /// node stops reading that connection.
    pub pending_per_connection: usize,
    /// How long a connection may stay silent between frames.
    pub idle_timeout: Duration,
    /// How long a frame may take to arrive once begun, and an answer to
    /// leave.
    pub frame_timeout: Duration,
}

impl ConnectionLimits {
    /// Limits for a node on a machine of its own: a few hundred clients,
    /// each with a few dozen requests in flight.
    pub const fn standard() -> Self {
        Self {
            max_clients: 256,
            pending_per_connection: 64,
            idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(10),
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self::standard()
    }
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
}

/// A Raft message from a peer, for the node's loop.
struct PeerMessage {
    /// The peer.
    from: NodeId,
    message: RaftMessage<Command>,
}

/// A client's request, for the node's loop.
struct ClientRequest {
    /// What it asks.
    request: QueueRequest,
    /// Where the answer goes.
    reply: Reply,
}

/// Where a client's answer goes: its connection, its number for the call,
/// and its place among the connection's pending requests.
#[derive(Debug)]
struct Reply {
    /// The client's number for the call.
    call: u64,
    /// The connection's writer.
    connection: mpsc::Sender<Answer>,
    /// Held until the answer is written: the connection's reader waits for
    /// one of these before it reads another request.
    pending: OwnedSemaphorePermit,
}

/// An answer on its way to the client's connection.
#[derive(Debug)]
struct Answer {
    frame: Frame,
    /// Frees the request's place once the frame is written.
    _pending: OwnedSemaphorePermit,
}

/// How many peer messages may wait for the loop before peers' readers wait.
const PEER_BACKLOG: usize = 4096;

/// How many client requests may wait for the loop before clients' readers
/// wait.
const CLIENT_BACKLOG: usize = 1024;

/// How many events the loop handles before it writes the journal and sends:
/// the most requests one sync covers.
const BATCH: usize = 512;

/// How many Raft messages may wait for a peer's connection.
const PEER_QUEUE: usize = 1024;

/// How long a sender waits for a connection to a peer, and then before it
/// tries again.
const RECONNECT_AFTER: Duration = Duration::from_millis(100);

/// How long the listener waits after a failed accept before it tries again:
/// a node out of file descriptors gets some back as connections close.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// How soon a connection in a peer's slot must say which peer it is.
const PEER_HELLO: Duration = Duration::from_secs(1);

/// Slots for connections from peers, per peer: a peer reconnecting while
/// its old connection is still timing out needs two.
const SLOTS_PER_PEER: usize = 2;

/// Runs node `options.id` on `listener`, from the journal `journal` whose
/// contents were `durable`, until `shutdown` completes (a process passes a
/// future that never does: it is killed).
///
/// # Errors
/// [`NodeError`] when its journal cannot be written, or holds a state Raft
/// cannot be in.
pub async fn run_node(
    listener: TcpListener,
    options: NodeOptions,
    mut journal: LogFile,
    durable: &DurableState,
    shutdown: impl Future<Output = ()>,
) -> Result<(), NodeError> {
    let log = Arc::new(NodeLog::new(options.id));
    let mut members: Vec<NodeId> = options.peers.keys().copied().collect();
    members.push(options.id);
    let mut node: QueueNode<Reply> = QueueNode::new(
        options.id,
        &members,
        options.raft.clone(),
        options.queue,
        options.seed,
        durable,
    )?;
    let (peer_events, mut peer_inbox) = mpsc::channel(PEER_BACKLOG);
    let (client_events, mut client_inbox) = mpsc::channel(CLIENT_BACKLOG);
    let keep_alive = options.limits.idle_timeout / 3;
    let peers: BTreeMap<NodeId, mpsc::Sender<RaftMessage<Command>>> = options
        .peers
        .iter()
        .map(|(&peer, &address)| {
            let (sender, messages) = mpsc::channel(PEER_QUEUE);
            tokio::spawn(send_to_peer(options.id, address, messages, keep_alive));
            (peer, sender)
        })
        .collect();
    let listening = Listening {
        peers: options.peers.keys().copied().collect(),
        limits: options.limits,
        clients: Arc::new(Semaphore::new(options.limits.max_clients)),
        peer_slots: Arc::new(Semaphore::new(options.peers.len() * SLOTS_PER_PEER)),
        peer_events,
        client_events,
        log: Arc::clone(&log),
    };
    let accepting = tokio::spawn(accept(listener, listening));
    let mut ticks = tokio::time::interval(options.raft.tick());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    tokio::pin!(shutdown);
    let outcome = loop {
        // Wait for something to happen: peers first, so that a flood of
        // client requests never delays a heartbeat or a vote.
        tokio::select! {
            biased;
            () = &mut shutdown => break Ok(()),
            _ = ticks.tick() => node.tick(),
            Some(PeerMessage { from, message }) = peer_inbox.recv() => {
                // A message from a stranger is refused by the node and
                // changes nothing.
                let _ = node.step(from, message);
            }
            Some(ClientRequest { request, reply }) = client_inbox.recv() => {
                node.request(request, reply, now());
            }
        }
        // Then take whatever else is already waiting, up to a batch, so
        // that one journal write and one sync cover all of it.
        for _ in 1..BATCH {
            if let Ok(PeerMessage { from, message }) = peer_inbox.try_recv() {
                let _ = node.step(from, message);
            } else if let Ok(ClientRequest { request, reply }) = client_inbox.try_recv() {
                node.request(request, reply, now());
            } else {
                break;
            }
        }
        let ready = node.ready();
        // What must wait for this batch's sync is what promises something
        // about this node's disk: a vote, a follower's acknowledgement, a
        // candidate's request (it voted for itself). A leader's appends and
        // heartbeats promise nothing, so they leave first and the followers
        // sync in parallel with the leader (the Raft thesis, section
        // 10.2.1). The leader still counts itself only for what it synced:
        // an acknowledgement is read in a later batch than the one that
        // appended the entry, after that batch's sync.
        //
        // An answer is about an entry a majority already holds on disk, by
        // the same reasoning, or about no entry at all (a report, a
        // redirect, a refusal): it leaves first too. A node alone commits
        // what it appends before syncing it, so it answers after.
        let alone = peers.is_empty();
        let (before_sync, after_sync): (Vec<_>, Vec<_>) =
            ready.messages.into_iter().partition(|(_, message)| {
                matches!(
                    message,
                    RaftMessage::AppendEntries(_) | RaftMessage::Heartbeat(_)
                )
            });
        send(&peers, before_sync);
        let (early_answers, late_answers) = if alone {
            (Vec::new(), ready.replies)
        } else {
            (ready.replies, Vec::new())
        };
        answer(early_answers);
        if let Err(error) = journal.append(&ready.changes) {
            break Err(error.into());
        }
        for lost in &ready.lost_entries {
            log.say(format_args!(
                "{lost}: its disk did not keep what it acknowledged"
            ));
        }
        send(&peers, after_sync);
        answer(late_answers);
    };
    accepting.abort();
    outcome
}

/// Hands each message to its peer's sender.
fn send(
    peers: &BTreeMap<NodeId, mpsc::Sender<RaftMessage<Command>>>,
    messages: Vec<(NodeId, RaftMessage<Command>)>,
) {
    for (to, message) in messages {
        if let Some(peer) = peers.get(&to) {
            // A full queue means the peer is down or slow: the message is
            // lost, as on a congested network, and Raft sends again.
            let _ = peer.try_send(message);
        }
    }
}

/// Hands each answer to its connection's writer.
fn answer(replies: Vec<(Reply, crate::QueueResponse)>) {
    for (reply, response) in replies {
        let answer = Answer {
            frame: Frame::Response {
                call: reply.call,
                response,
            },
            _pending: reply.pending,
        };
        // The channel has a place for every pending request, so it is never
        // full; it is closed when the client has gone.
        let _ = reply.connection.try_send(answer);
    }
}

/// The system clock as time since the Unix epoch: what a leader stamps.
fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// What the listener hands every connection.
#[derive(Clone)]
struct Listening {
    /// The members that may connect as peers.
    peers: Vec<NodeId>,
    /// What a connection may cost.
    limits: ConnectionLimits,
    /// Slots for client connections.
    clients: Arc<Semaphore>,
    /// Slots for peer connections, apart from the clients'.
    peer_slots: Arc<Semaphore>,
    /// Where peers' messages go.
    peer_events: mpsc::Sender<PeerMessage>,
    /// Where clients' requests go.
    client_events: mpsc::Sender<ClientRequest>,
    /// Where refusals are said.
    log: Arc<NodeLog>,
}

/// Accepts connections for as long as the node runs. An accept that fails
/// is logged and tried again after a pause, never the end of listening.
async fn accept(listener: TcpListener, listening: Listening) {
    loop {
        match listener.accept().await {
            Ok((stream, address)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, address, listening.clone()));
            }
            Err(error) => {
                listening.log.say(format_args!(
                    "cannot accept a connection: {error}; retrying"
                ));
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

/// Which kind of slot a connection holds while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// One of the clients' slots: it may send requests, or turn out to be
    /// a peer.
    Client,
    /// One of the peers' slots, taken when every client slot was in use or
    /// the connection said it is a peer.
    Peer,
}

/// Reads one connection's frames into events, and writes its answers.
async fn serve_connection(stream: TcpStream, address: SocketAddr, listening: Listening) {
    let log = Arc::clone(&listening.log);
    // The permit is the slot: dropping it when the connection ends frees it.
    let (mut slot, mut _permit) =
        if let Ok(permit) = Arc::clone(&listening.clients).try_acquire_owned() {
            (Slot::Client, permit)
        } else if let Ok(permit) = Arc::clone(&listening.peer_slots).try_acquire_owned() {
            (Slot::Peer, permit)
        } else {
            log.rejected(
                address,
                format_args!(
                    "{} client connections are open, the limit; connection closed",
                    listening.limits.max_clients
                ),
            );
            return;
        };
    let limits = listening.limits;
    let (reading, writing) = stream.into_split();
    let mut reading = BufReader::new(reading);
    let pending = Arc::new(Semaphore::new(limits.pending_per_connection));
    let (connection, answers) = mpsc::channel::<Answer>(limits.pending_per_connection);
    let writer = tokio::spawn(write_answers(writing, answers, limits.frame_timeout));
    let mut peer: Option<NodeId> = None;
    let refusal = loop {
        // A connection in a peer's slot must say it is a peer at once: a
        // flood of silent connections cannot sit in the peers' slots.
        let idle = if peer.is_none() && slot == Slot::Peer {
            limits.frame_timeout.min(PEER_HELLO)
        } else {
            limits.idle_timeout
        };
        // Only a connection that said it is a peer may send a peer's large
        // appends.
        let size_limit = if peer.is_some() {
            MAX_FRAME
        } else {
            MAX_CLIENT_FRAME
        };
        let frame = match next_frame(&mut reading, idle, limits.frame_timeout, size_limit).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break None,
            Err(refusal) => break Some(refusal),
        };
        match frame {
            Frame::Peer(node) => {
                if !listening.peers.contains(&node) {
                    break Some(format!("{node} is not a member of this cluster"));
                }
                if peer.is_some_and(|known| known != node) {
                    break Some(format!("a connection of {node} said it was another peer"));
                }
                if slot == Slot::Client
                    && let Ok(permit) = Arc::clone(&listening.peer_slots).try_acquire_owned()
                {
                    // A peer leaves its client slot for one of its own.
                    slot = Slot::Peer;
                    _permit = permit;
                }
                // A second `Peer` frame is the peer's keep-alive.
                peer = Some(node);
            }
            Frame::Raft(message) => {
                let Some(from) = peer else {
                    break Some("a Raft message before the peer said who it is".to_string());
                };
                if listening
                    .peer_events
                    .send(PeerMessage { from, message })
                    .await
                    .is_err()
                {
                    break None;
                }
            }
            Frame::Request { call, request } => {
                if peer.is_some() || slot == Slot::Peer {
                    break Some("a client request on a peer's connection".to_string());
                }
                // Past the limit of requests waiting for answers, stop
                // reading until one is answered.
                let Ok(permit) = Arc::clone(&pending).acquire_owned().await else {
                    break None;
                };
                let reply = Reply {
                    call,
                    connection: connection.clone(),
                    pending: permit,
                };
                if listening
                    .client_events
                    .send(ClientRequest { request, reply })
                    .await
                    .is_err()
                {
                    break None;
                }
            }
            Frame::Response { .. } => {
                break Some("a response sent to a node".to_string());
            }
        }
    };
    if let Some(refusal) = refusal {
        log.rejected(address, format_args!("{refusal}; connection closed"));
    }
    drop(connection);
    let _ = writer.await;
}

/// The next frame of a connection: `None` when it closed between frames,
/// or why it is refused.
async fn next_frame(
    reading: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    idle_timeout: Duration,
    frame_timeout: Duration,
    size_limit: u32,
) -> Result<Option<Frame>, String> {
    // Silence between frames is allowed up to the idle timeout; once a
    // frame's first byte is here, the whole frame must follow in time.
    match timeout(idle_timeout, reading.fill_buf()).await {
        Err(_) => return Err(format!("silent for {idle_timeout:?}")),
        Ok(Err(_)) => return Ok(None),
        Ok(Ok([])) => return Ok(None),
        Ok(Ok(_)) => {}
    }
    match timeout(frame_timeout, read_frame(reading, size_limit)).await {
        Err(_) => Err(format!(
            "a frame did not arrive whole within {frame_timeout:?}"
        )),
        Ok(Ok(frame)) => Ok(frame),
        Ok(Err(FrameError::Io(_))) => Ok(None),
        Ok(Err(error)) => Err(error.to_string()),
    }
}

/// Writes a connection's answers as they come; a client that does not take
/// an answer within `frame_timeout` loses its connection.
async fn write_answers(
    writing: OwnedWriteHalf,
    mut answers: mpsc::Receiver<Answer>,
    frame_timeout: Duration,
) {
    let mut writing = BufWriter::new(writing);
    while let Some(answer) = answers.recv().await {
        let written = async {
            write_frame(&mut writing, &answer.frame).await?;
            // Several answers ready at once leave in one write.
            if answers.is_empty() {
                writing.flush().await?;
            }
            Ok::<(), FrameError>(())
        };
        if !matches!(timeout(frame_timeout, written).await, Ok(Ok(()))) {
            return;
        }
    }
}

/// Keeps a connection to the peer at `address` and writes `messages` to it,
/// with a keep-alive every `keep_alive` of silence; drops what arrives while
/// there is no connection.
async fn send_to_peer(
    me: NodeId,
    address: SocketAddr,
    mut messages: mpsc::Receiver<RaftMessage<Command>>,
    keep_alive: Duration,
) {
    loop {
        let connected = timeout(RECONNECT_AFTER, TcpStream::connect(address)).await;
        let Ok(Ok(stream)) = connected else {
            // Messages for a peer that is down are lost: the ones queued
            // now would arrive stale.
            while messages.try_recv().is_ok() {}
            tokio::time::sleep(RECONNECT_AFTER).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut writing = BufWriter::new(stream);
        let mut frame = Frame::Peer(me);
        loop {
            let written = async {
                write_frame(&mut writing, &frame).await?;
                if messages.is_empty() {
                    writing.flush().await?;
                }
                Ok::<(), FrameError>(())
            };
            // A peer that takes no bytes for this long is as good as down.
            if !matches!(timeout(RECONNECT_AFTER * 10, written).await, Ok(Ok(()))) {
                break;
            }
            frame = tokio::select! {
                biased;
                message = messages.recv() => match message {
                    Some(message) => Frame::Raft(message),
                    None => return,
                },
                () = tokio::time::sleep(keep_alive) => Frame::Peer(me),
            };
        }
    }
}
