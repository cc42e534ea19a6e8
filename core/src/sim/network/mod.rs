//! A simulated network: nodes that talk through messages that can be late,
//! lost, cut off or never answered, on the paused clock, from one seed.
//!
//! ## The problem
//!
//! Leader election and consensus exist because networks fail: a message is
//! lost, a reply comes back after the caller gave up, a switch splits a
//! cluster in two, a process freezes for seconds in garbage collection and
//! wakes up still believing it leads. On a real network these happen rarely
//! and never the same way twice, so a protocol that mishandles them passes its
//! tests and fails in production. Here they happen on purpose, as often as a
//! test asks, in an order fixed by the seed: the same seed gives the same run,
//! message for message, and a failing seed replays.
//!
//! ## The design
//!
//! A [`Network`] carries one message type, the protocol's own
//! ([`Message`] asks only for a `kind` to count and trace by). Each node is
//! added with [`Network::add_node`], which hands out its [`Node`] handle
//! (send, call, reply, sleep, spawn) and its one [`Inbox`]. Two styles of
//! node use it:
//!
//! - **async tasks that make calls** (Workshop 3): a node's task
//!   [`call`](Node::call)s a service on another node and waits, up to a
//!   timeout, for the answer; services answer with [`Node::serve`] or from
//!   their own inbox loop with [`Node::reply`]; heartbeats are one-way
//!   [`send`](Node::send)s.
//! - **sans-IO state machines driven by a harness** (Workshop 4): the driver
//!   puts every node's inbox into one [`Inboxes`], takes messages in delivery
//!   order with [`Inboxes::recv`], steps each into its receiver's state
//!   machine and sends what comes out with [`Node::send`].
//!
//! A node task that calls a lease service (the Workshop 3 style):
//!
//! ```
//! use std::time::Duration;
//! use coordination::sim::{Message, Network, NetworkConditions, NetworkError, simulate};
//! use coordination::{NodeId, Seed};
//!
//! #[derive(Clone)]
//! enum Lease { Acquire, Granted(bool) }
//! impl Message for Lease {
//!     fn kind(&self) -> &'static str {
//!         match self { Lease::Acquire => "acquire", Lease::Granted(_) => "granted" }
//!     }
//! }
//!
//! # simulate(async {
//! let network = Network::new(Seed::new(1), NetworkConditions::unreliable());
//! let store = NodeId::new(100);
//! let (store_node, store_inbox) = network.add_node(store)?;
//! let mut holder = None;
//! store_node.serve(store_inbox, move |caller, _acquire| {
//!     Lease::Granted(*holder.get_or_insert(caller) == caller)
//! })?;
//!
//! let (candidate, _inbox) = network.add_node(NodeId::new(1))?;
//! let me = candidate.clone();
//! candidate.spawn(async move {
//!     loop {
//!         match me.call(store, Lease::Acquire, Duration::from_millis(100)).await {
//!             Ok(Lease::Granted(true)) => { /* lead until the lease runs out */ }
//!             Ok(_) => { /* someone else leads */ }
//!             Err(error) if error.may_have_been_applied() => { /* retry: safe? */ }
//!             Err(_) => return,
//!         }
//!         me.sleep(Duration::from_secs(2)).await;
//!     }
//! })?;
//! network.run_for(Duration::from_secs(30)).await;
//! assert!(network.counts().of("acquire").sent >= 15);
//! # Ok::<(), NetworkError>(())
//! # }).expect("the example's nodes are distinct and running");
//! ```
//!
//! A driver that steps sans-IO state machines (the Workshop 4 style); here
//! each machine only counts the pings it receives and pings the next node on
//! every tick:
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use coordination::sim::{Inboxes, Message, Network, NetworkConditions, NetworkError, NodeStatus, simulate};
//! use coordination::{NodeId, Seed};
//!
//! #[derive(Clone)]
//! struct Ping;
//! impl Message for Ping {
//!     fn kind(&self) -> &'static str { "ping" }
//! }
//!
//! # simulate(async {
//! let network = Network::new(Seed::new(1), NetworkConditions::reliable());
//! let mut inboxes = Inboxes::new();
//! let mut nodes = BTreeMap::new(); // id -> (handle, pings received)
//! for id in 1..=3 {
//!     let (node, inbox) = network.add_node(NodeId::new(id))?;
//!     inboxes.insert(inbox)?;
//!     nodes.insert(node.id(), (node, 0));
//! }
//! let mut ticks = tokio::time::interval(Duration::from_millis(100));
//! let end = tokio::time::Instant::now() + Duration::from_secs(1);
//! loop {
//!     tokio::select! {
//!         biased;
//!         () = tokio::time::sleep_until(end) => break,
//!         envelope = inboxes.recv() => {
//!             if let Some((_, received)) = nodes.get_mut(&envelope.to) { *received += 1; }
//!         }
//!         _ = ticks.tick() => {
//!             for (id, (node, _)) in &nodes {
//!                 if node.status() == NodeStatus::Running {
//!                     node.send(NodeId::new(id.get() % 3 + 1), Ping)?;
//!                 }
//!             }
//!         }
//!     }
//! }
//! assert!(nodes.values().all(|(_, received)| *received == 10));
//! # Ok::<(), NetworkError>(())
//! # }).expect("the example's nodes are distinct and running");
//! ```
//!
//! Every message is decided when it leaves its sender, from the seed: lost or
//! not, then held back or not, then its travel time. It then waits in its
//! receiver's queue until it is due. There is no background task: receivers
//! take what is due when they ask, and ties go to the message sent first, so
//! a run's order depends only on the seed and the code.
//!
//! The faults, and what each stands for in production:
//!
//! | fault | call | in production |
//! |---|---|---|
//! | lost message or request | [`NetworkConditions::message_loss`] | a dropped packet, a reset connection before the request was read |
//! | lost reply, after the handler ran | [`NetworkConditions::reply_loss`] | a lost acknowledgement: the write happened, the client times out and retries, and the write happens twice |
//! | long delay | [`NetworkConditions::long_delay`] | a congested link, a retransmission: newer messages overtake older ones |
//! | duplicated message | [`NetworkConditions::duplication`] | a retransmission whose original arrived after all, a broker that redelivers: the receiver gets the same request twice and, for a call, the handler runs twice |
//! | partition | [`Network::partition`], [`Network::heal`] | a switch or availability-zone failure splits the cluster; each side thinks the other is dead |
//! | disconnect | [`Network::disconnect`], [`Network::connect`] | one machine's cable, or its security group, cuts it off both ways |
//! | pause | [`Network::pause`], [`Network::resume`] | a stop-the-world GC pause, a VM migration, a `SIGSTOP`: the process stops, then goes on with old beliefs (a lease it thinks it still holds) |
//! | crash | [`Network::crash`], [`Network::restart`] | the process dies and comes back with empty memory; only what it kept elsewhere survives |
//!
//! A [`call`](Node::call) that times out ([`CallError::TimedOut`]) cannot
//! tell which of these happened, and
//! [`may_have_been_applied`](CallError::may_have_been_applied) says so.
//!
//! ## The rates
//!
//! [`NetworkConditions::reliable`]: every message arrives, after 1 to 10 ms.
//! [`NetworkConditions::unreliable`]: 10% of one-way messages and requests
//! lost, 10% of replies lost after their handler ran, 10% of messages held
//! back for 200 ms to 2.2 s, the rest after 1 to 10 ms. The loss rates and the
//! long-delay range are those of the network simulator of MIT's
//! distributed-systems course (6.5840, `labrpc`), which never duplicates, so
//! neither preset does; [`NetworkConditions::with_duplication`] turns it on.
//! Every rate is a dial:
//! [`NetworkConditions`] has a builder for each, and
//! [`Network::set_conditions`] changes them in the middle of a run.
//!
//! Two more settings bring a protocol that answers with one-way messages
//! (Raft-lite's votes and append responses) under `labrpc`'s faults:
//! [`one_way_replies`](NetworkConditions::one_way_replies) treats a one-way
//! message that says it answers another ([`Message::is_reply`]) as a reply,
//! lost at the reply rate; and
//! [`long_delay_replies_only`](NetworkConditions::long_delay_replies_only)
//! holds back replies only, as `labrpc`'s long reordering does, so that
//! heartbeats and votes still arrive on time. Both are off in the presets,
//! and off they draw nothing: every seed replays as before they existed.
//!
//! Alongside, the network counts messages per kind ([`MessageCounts`]: sent,
//! delivered, dropped) and records a [`Trace`]: every step of every message
//! (time, from, to, kind, outcome, and why a message was dropped) and every
//! fault, in order, for assertions and for a timeline.
//!
//! ## What is left out
//!
//! - **Ordering**: there is none, as with UDP. Two messages on the same link
//!   arrive in the order their delays put them in; nothing like TCP's
//!   in-order stream is promised, so a protocol must not rely on it (Raft does
//!   not).
//! - **Duplication, unless asked for**: with the presets a message arrives at
//!   most once, and duplicates come, as most often in production, from
//!   callers that retry after a lost reply. With a duplication rate a message
//!   may also arrive twice: the copy travels on its own delay and has an id
//!   of its own. A call takes the first answer that arrives; a second one is
//!   dropped, as an RPC client that matches answers to calls drops it.
//! - **Bandwidth and size**: a message takes the same time whatever it
//!   carries, and links never fill up.
//! - **Corruption**: a message arrives intact or not at all, as checksums
//!   make it in practice.
//! - **Asymmetric partitions** (A hears B but B does not hear A): partitions
//!   and disconnections cut both ways.
//! - **Freezing code that waits elsewhere**: a pause freezes what a node does
//!   through its [`Node`] and [`Inbox`]; a task waiting on a bare tokio timer
//!   or a channel of its own goes on.

mod conditions;
mod counts;
mod error;
mod inbox;
mod message;
#[allow(
    clippy::module_inception,
    reason = "the module is the network; its main type is too"
)]
mod network;
mod node;
mod shared;
mod state;
mod trace;

pub use conditions::{DelayRange, NetworkConditions};
pub use counts::{KindCounts, MessageCounts};
pub use error::{CallError, NetworkError};
pub use inbox::{Inbox, Inboxes};
pub use message::{Envelope, Message, ReplyTo, TransmissionId};
pub use network::Network;
pub use node::{LifecycleStep, Node, NodeStatus};
pub use trace::{DropReason, NetworkEvent, Outcome, Trace, TraceEntry};
