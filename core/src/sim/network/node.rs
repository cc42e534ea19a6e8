//! A node's own handle: how its code sends, calls, answers, waits and works.
//!
//! A [`Node`] stands for one process on the network. Its code does everything
//! through it, and that is what lets the network pause and crash the process:
//! a paused node's [`sleep`](Node::sleep), [`call`](Node::call) and inbox do
//! not return until it resumes, and what it sends meanwhile leaves only then;
//! a crash stops the tasks it [`spawn`](Node::spawn)ed and turns every handle
//! of its old life into an error. Code that waits on anything else (a bare
//! `tokio::time::sleep`, a channel of its own) goes on through a pause, which
//! no real process could do.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use super::message::CallId;
use super::shared::Shared;
use super::state::CallEnd;
use super::{CallError, Inbox, Message, NetworkError, ReplyTo, TransmissionId};
use crate::NodeId;
use crate::wait::Check;

/// Where a node is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeStatus {
    /// Receives, acts and sends.
    Running,
    /// Frozen, like a process in a stop-the-world garbage-collection pause:
    /// messages to it queue up, its timers do not fire, what it sends waits.
    /// When it resumes it goes on with what it believed before the pause.
    Paused,
    /// Its process died: its tasks are stopped, messages to it are dropped.
    /// A restart brings it back with empty memory.
    Crashed,
}

impl fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Crashed => "crashed",
        })
    }
}

/// A step of a node's lifecycle, as a test takes it through
/// [`Network`](super::Network): each applies from some statuses only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LifecycleStep {
    /// Freeze a running node.
    Pause,
    /// Let a paused node go on.
    Resume,
    /// Kill a running or paused node's process.
    Crash,
    /// Bring a crashed node back.
    Restart,
}

impl LifecycleStep {
    /// The statuses the step applies to.
    pub fn applies_to(self) -> &'static [NodeStatus] {
        match self {
            Self::Pause => &[NodeStatus::Running],
            Self::Resume => &[NodeStatus::Paused],
            Self::Crash => &[NodeStatus::Running, NodeStatus::Paused],
            Self::Restart => &[NodeStatus::Crashed],
        }
    }

    /// The status the step leaves the node in.
    pub fn leads_to(self) -> NodeStatus {
        match self {
            Self::Pause => NodeStatus::Paused,
            Self::Resume | Self::Restart => NodeStatus::Running,
            Self::Crash => NodeStatus::Crashed,
        }
    }
}

impl fmt::Display for LifecycleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Crash => "crash",
            Self::Restart => "restart",
        })
    }
}

/// Which life of a node: every crash begins a new one, so that handles of an
/// earlier life stop working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Incarnation(u64);

impl Incarnation {
    /// A node's life from the moment it is added.
    pub(super) const FIRST: Self = Self(0);

    /// The life after a crash ends this one.
    pub(super) const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

/// One life of one node: what every handle acts for, and what the network
/// checks before it lets a handle act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Life {
    /// The node.
    pub(super) node: NodeId,
    /// Which of its lives.
    pub(super) incarnation: Incarnation,
}

/// One node's handle on the network, for one life of the node.
///
/// Cloning it is cheap; every clone acts for the same node. After the node
/// crashes, every handle of that life refuses to act
/// ([`NetworkError::NodeCrashed`]); [`Network::restart`](super::Network::restart)
/// hands out new ones.
pub struct Node<M> {
    /// Who this is, in which life: a crash ends the life, and with it what
    /// this handle may do.
    life: Life,
    /// The network.
    shared: Arc<Shared<M>>,
}

impl<M> Clone for Node<M> {
    fn clone(&self) -> Self {
        Self {
            life: self.life,
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> fmt::Debug for Node<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.life.node)
            .field("incarnation", &self.life.incarnation.0)
            .finish_non_exhaustive()
    }
}

impl<M: Message> Node<M> {
    pub(super) fn new(life: Life, shared: Arc<Shared<M>>) -> Self {
        Self { life, shared }
    }

    /// Who this node is.
    pub fn id(&self) -> NodeId {
        self.life.node
    }

    /// This life's status: [`NodeStatus::Crashed`] once the life of this
    /// handle has ended, even after the node restarted. A driver asks before
    /// it ticks a node's state machine: a paused node does not act.
    pub fn status(&self) -> NodeStatus {
        self.shared.read(|state| state.status_of(self.life))
    }

    /// Sends `message` to `to`, one way, without waiting. Whether and when it
    /// arrives is the network's business: the sender is not told about a loss.
    ///
    /// # Errors
    /// [`NetworkError::UnknownNode`] for a receiver that is not on the network;
    /// [`NetworkError::NodeCrashed`] when this node's life has ended.
    pub fn send(&self, to: NodeId, message: M) -> Result<TransmissionId, NetworkError> {
        self.shared
            .update(|state, now| state.send(now, self.life, to, message))
    }

    /// Sends `request` to `to` and waits up to `timeout` for the answer.
    ///
    /// # Errors
    /// [`CallError::TimedOut`] when no answer came in time: the request may
    /// have been lost, or it may have been applied and its answer lost or late.
    /// [`CallError::Network`] when the call could not be made: an unknown
    /// callee, or this node crashed.
    pub async fn call(&self, to: NodeId, request: M, timeout: Duration) -> Result<M, CallError> {
        // A paused process cannot start a call: its code goes on, and its
        // timeout starts, only when it resumes.
        self.until_running().await?;
        let deadline = Instant::now() + timeout;
        let call = self
            .shared
            .update(|state, now| state.call(now, self.life, to, request))?;
        // If this future is dropped before the answer comes (the caller gave
        // up through its own select, or its task was stopped), the guard tells
        // the network, so a late answer is recorded as unwanted.
        let waiting = OpenCall {
            shared: &self.shared,
            caller: self.life.node,
            call,
        };
        let end = self
            .shared
            .wait_for(|state, now| state.check_call(now, self.life, call, deadline))
            .await;
        drop(waiting);
        match end {
            CallEnd::Answered(reply) => Ok(reply),
            CallEnd::Expired => Err(CallError::TimedOut { to, after: timeout }),
            CallEnd::CallerCrashed => Err(NetworkError::NodeCrashed(self.life.node).into()),
        }
    }

    /// Answers a request that arrived in an [`Envelope`](super::Envelope). The
    /// answer travels like any message: it can be lost or late.
    ///
    /// # Errors
    /// [`NetworkError::NodeCrashed`] when this node's life has ended.
    pub fn reply(&self, reply_to: ReplyTo, message: M) -> Result<TransmissionId, NetworkError> {
        self.shared
            .update(|state, now| state.reply(now, self.life, reply_to, message))
    }

    /// Waits `duration` of this node's time. A pause stretches it: a node
    /// paused when its timer would fire wakes only when it resumes, late,
    /// without noticing. On a handle whose life has crashed, never returns.
    pub async fn sleep(&self, duration: Duration) {
        self.sleep_until(Instant::now() + duration).await;
    }

    /// Waits until `deadline`, as [`sleep`](Node::sleep) does.
    pub async fn sleep_until(&self, deadline: Instant) {
        self.shared
            .wait_for(|state, now| match state.status_of(self.life) {
                NodeStatus::Running if now >= deadline => Check::Ready(()),
                NodeStatus::Running => Check::WaitUntil(deadline),
                NodeStatus::Paused | NodeStatus::Crashed => Check::WaitForChange,
            })
            .await;
    }

    /// Runs `task` as part of this node: it stops when the node crashes.
    ///
    /// If `task` panics, the panic is kept and raised again by the next
    /// [`Network::run_for`](super::Network::run_for), `counts` or `trace`, so
    /// a test fails with the task's own message.
    ///
    /// # Errors
    /// [`NetworkError::NodeCrashed`] when this node's life has ended; the task
    /// does not start.
    ///
    /// # Panics
    /// Outside a tokio runtime, as `tokio::spawn` does.
    pub fn spawn<F>(&self, task: F) -> Result<(), NetworkError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if self.status() == NodeStatus::Crashed {
            return Err(NetworkError::NodeCrashed(self.life.node));
        }
        let handle = tokio::spawn(KeepPanic {
            task: Box::pin(task),
            shared: Arc::clone(&self.shared),
        });
        let registered = self
            .shared
            .update(|state, _| state.adopt_task(self.life, handle.abort_handle()));
        if registered.is_err() {
            handle.abort();
        }
        registered
    }

    /// Runs a service on this node: every request that arrives in `inbox` is
    /// answered with `handler(caller, request)`. The handler runs at the
    /// instant the request arrives, one request at a time, so a service built
    /// on it is linearizable by construction. One-way messages to a service are
    /// taken and ignored.
    ///
    /// # Errors
    /// [`NetworkError::WrongInbox`] when `inbox` is not this node's;
    /// [`NetworkError::NodeCrashed`] when this node's life has ended.
    pub fn serve<H>(&self, mut inbox: Inbox<M>, mut handler: H) -> Result<(), NetworkError>
    where
        H: FnMut(NodeId, M) -> M + Send + 'static,
    {
        if inbox.node() != self.life.node || !inbox.is_on(&self.shared) {
            return Err(NetworkError::WrongInbox {
                inbox: inbox.node(),
                expected: "the node handle it was served with",
            });
        }
        let node = self.clone();
        self.spawn(async move {
            while let Some(envelope) = inbox.recv().await {
                if let Some(reply_to) = envelope.reply_to {
                    let answer = handler(envelope.from, envelope.message);
                    // Replying fails only once this node has crashed, and
                    // then this task is being stopped anyway.
                    let _ = node.reply(reply_to, answer);
                }
            }
        })
    }

    /// Waits while this node is paused.
    ///
    /// # Errors
    /// [`NetworkError::NodeCrashed`] when this node's life has ended.
    async fn until_running(&self) -> Result<(), NetworkError> {
        self.shared
            .wait_for(|state, _| match state.status_of(self.life) {
                NodeStatus::Running => Check::Ready(Ok(())),
                NodeStatus::Paused => Check::WaitForChange,
                NodeStatus::Crashed => Check::Ready(Err(NetworkError::NodeCrashed(self.life.node))),
            })
            .await
    }
}

/// A call in progress; dropping it tells the network nobody waits any more.
struct OpenCall<'a, M: Message> {
    shared: &'a Shared<M>,
    caller: NodeId,
    call: CallId,
}

impl<M: Message> Drop for OpenCall<'_, M> {
    fn drop(&mut self) {
        self.shared
            .update(|state, _| state.abandon_call(self.caller, self.call));
    }
}

/// Runs a node's task and keeps its panic, if it panics, for the test that
/// drives the network. tokio would catch the panic too, but only report it to
/// whoever awaits the task's handle, and nobody awaits a node's task.
struct KeepPanic<M, F> {
    task: Pin<Box<F>>,
    shared: Arc<Shared<M>>,
}

impl<M: Message, F: Future<Output = ()>> Future for KeepPanic<M, F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let task = &mut this.task;
        match panic::catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(context))) {
            Ok(poll) => poll,
            Err(payload) => {
                this.shared.record_task_panic(payload);
                Poll::Ready(())
            }
        }
    }
}
