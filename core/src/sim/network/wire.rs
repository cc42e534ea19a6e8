//! The network's state and rules: what is in flight, where, until when.
//!
//! Everything the network knows lives in one [`Wire`] behind one
//! `std::sync::Mutex`, never held across an `.await`; every public handle
//! ([`Network`](super::Network), [`Node`](super::Node),
//! [`Inbox`](super::Inbox)) is a view of it. One lock for everything keeps the
//! rules in one place and makes each step atomic: a message cannot be
//! delivered halfway through a crash.
//!
//! Nothing here runs on its own: there is no postman task. A message waits in
//! its receiver's queue, keyed by the instant it is due and its id, and the
//! receiver takes it when it asks and the instant has come. Waiting is done by
//! [`Shared::wait_for`]: check the state, then sleep until the next instant
//! that matters or until the state changes, whichever comes first. Ties
//! between messages due at the same instant go to the one sent first, so the
//! order of a run depends only on its seed.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::message::CallRef;
use super::{
    DropReason, Envelope, Message, MessageCounts, MessageId, NetworkConditions, NetworkError,
    NetworkEvent, NodeStatus, Outcome, ReplyTo, Trace,
};
use crate::sim::clock;
use crate::{NodeId, Probability, Seed, SimRng};

/// Names the network's stream among a run's derived seeds.
const NETWORK_STREAM: u64 = 0x0E7_40E7;

/// The state every handle shares, and the signal that it changed.
pub(super) struct Shared<M> {
    /// The state.
    wire: Mutex<Wire<M>>,
    /// Woken after every change, so that waiters check again.
    changed: Notify,
}

/// What a waiter should do after checking the state.
pub(super) enum Check<T> {
    /// Done, with this result.
    Ready(T),
    /// Check again at this instant, or sooner if the state changes.
    WaitUntil(Instant),
    /// Nothing can happen until the state changes.
    WaitForChange,
}

impl<M: Message> Shared<M> {
    pub(super) fn new(seed: Seed, conditions: NetworkConditions) -> Self {
        Self {
            wire: Mutex::new(Wire {
                conditions,
                rng: seed.derive(NETWORK_STREAM).rng(),
                nodes: BTreeMap::new(),
                partition: None,
                next_message: 1,
                next_call: 1,
                counts: MessageCounts::default(),
                trace: Trace::default(),
                task_panic: None,
            }),
            changed: Notify::new(),
        }
    }

    /// The state, locked. Only the short steps in this file hold the lock. If
    /// one panics (a `Message::kind` that panics), that panic already fails
    /// the run; taking the poisoned lock over keeps a second, misleading
    /// panic out of the output.
    fn lock(&self) -> MutexGuard<'_, Wire<M>> {
        self.wire.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the state.
    pub(super) fn read<T>(&self, read: impl FnOnce(&Wire<M>) -> T) -> T {
        read(&self.lock())
    }

    /// Changes the state at the current instant and wakes every waiter.
    pub(super) fn update<T>(&self, change: impl FnOnce(&mut Wire<M>, Instant) -> T) -> T {
        let result = change(&mut self.lock(), Instant::now());
        self.changed.notify_waiters();
        result
    }

    /// Waits until `check` says [`Check::Ready`], checking again whenever the
    /// state changes or the instant it named comes.
    pub(super) async fn wait_for<T>(
        &self,
        mut check: impl FnMut(&mut Wire<M>, Instant) -> Check<T>,
    ) -> T {
        loop {
            // Registered before checking, so that a change made between the
            // check and the wait still wakes this waiter.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let next = check(&mut self.lock(), Instant::now());
            match next {
                Check::Ready(result) => return result,
                Check::WaitUntil(instant) => {
                    tokio::select! {
                        biased;
                        () = &mut changed => {}
                        () = tokio::time::sleep_until(instant) => {}
                    }
                }
                Check::WaitForChange => changed.await,
            }
        }
    }

    /// Re-raises the first panic of a node's task, if there was one, in the
    /// caller: a test that drives the network fails with the task's own
    /// message instead of waiting for something the dead task would have done.
    pub(super) fn surface_task_panic(&self) {
        let panicked = self.lock().task_panic.take();
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
    }

    /// Keeps the first panic of a node's task for [`surface_task_panic`].
    ///
    /// [`surface_task_panic`]: Shared::surface_task_panic
    pub(super) fn record_task_panic(&self, payload: Box<dyn Any + Send>) {
        self.update(|wire, _| {
            if wire.task_panic.is_none() {
                wire.task_panic = Some(payload);
            }
        });
    }
}

/// How a call ended, as the wire sees it.
pub(super) enum CallEnd<M> {
    /// The answer arrived.
    Answered(M),
    /// The deadline passed first.
    Expired,
    /// The caller's life ended in a crash while it waited.
    CallerCrashed,
}

/// The network's view of one node.
pub(super) struct Host<M> {
    /// Running, paused or crashed.
    pub(super) status: NodeStatus,
    /// Whether its links work; `false` after `disconnect`.
    pub(super) connected: bool,
    /// Which life of the node this is: raised by every crash, so that handles
    /// from before the crash stop working.
    pub(super) incarnation: u64,
    /// Messages and requests on their way to it or waiting to be taken,
    /// ordered by when they are due, then by id.
    arriving: BTreeMap<(Instant, MessageId), InFlight<M>>,
    /// Its calls that wait for an answer: `None` until a reply is on its way.
    calls: BTreeMap<u64, Option<InFlight<M>>>,
    /// Messages it sent while paused, in order; they leave when it resumes.
    held: Vec<Outgoing<M>>,
    /// Its running tasks, stopped when it crashes.
    tasks: Vec<AbortHandle>,
}

/// How a message relates to a call.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// No answer expected.
    OneWay,
    /// A call's request: answer through this reference.
    Request(CallRef),
    /// The answer to this call.
    Reply(CallRef),
}

/// A message that has been sent but has not left its sender yet.
struct Outgoing<M> {
    /// Its id, issued when it was sent.
    id: MessageId,
    /// Its sender.
    from: NodeId,
    /// Its receiver.
    to: NodeId,
    /// What it carries.
    message: M,
    /// Whether it opens, answers or has nothing to do with a call.
    form: Form,
}

/// A message on the wire, or arrived and waiting to be taken. Its receiver is
/// the node whose queue holds it.
struct InFlight<M> {
    /// Its id, issued when it was sent.
    id: MessageId,
    /// Its sender.
    from: NodeId,
    /// What it carries.
    message: M,
    /// Whether it opens, answers or has nothing to do with a call.
    form: Form,
    /// When it arrives.
    due: Instant,
}

/// Which groups a partition split the network into.
struct Partition {
    /// Every node's group, by number; nodes added later join the last group,
    /// "everyone not named".
    group_of: BTreeMap<NodeId, usize>,
    /// The number of the group of nodes not named.
    rest: usize,
}

/// The state of a network: nodes, messages in flight, faults, counts, trace.
pub(super) struct Wire<M> {
    /// The current loss and delay rates.
    pub(super) conditions: NetworkConditions,
    /// Decides every loss and delay, in the order messages leave.
    rng: SimRng,
    /// Every node, by id.
    nodes: BTreeMap<NodeId, Host<M>>,
    /// The current partition, if there is one.
    partition: Option<Partition>,
    /// The id the next message gets.
    next_message: u64,
    /// The number the next call gets.
    next_call: u64,
    /// Messages per kind.
    pub(super) counts: MessageCounts,
    /// Everything that happened.
    pub(super) trace: Trace,
    /// The first panic of a node's task, not yet surfaced.
    task_panic: Option<Box<dyn Any + Send>>,
}

impl<M: Message> Wire<M> {
    // ----- nodes and their lifecycle -------------------------------------

    /// Whether a node's task panicked and the panic was not surfaced yet.
    pub(super) fn has_task_panic(&self) -> bool {
        self.task_panic.is_some()
    }

    /// Every node's id, sorted.
    pub(super) fn node_ids(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    pub(super) fn host(&self, node: NodeId) -> Result<&Host<M>, NetworkError> {
        self.nodes.get(&node).ok_or(NetworkError::UnknownNode(node))
    }

    fn host_mut(&mut self, node: NodeId) -> Result<&mut Host<M>, NetworkError> {
        self.nodes
            .get_mut(&node)
            .ok_or(NetworkError::UnknownNode(node))
    }

    /// The node, if `incarnation` is its current life.
    fn live_host(&mut self, node: NodeId, incarnation: u64) -> Result<&mut Host<M>, NetworkError> {
        let host = self.host_mut(node)?;
        if host.incarnation == incarnation && host.status != NodeStatus::Crashed {
            Ok(host)
        } else {
            Err(NetworkError::NodeCrashed(node))
        }
    }

    /// The status of this life of the node: crashed for a handle from before
    /// a crash.
    pub(super) fn status_of(&self, node: NodeId, incarnation: u64) -> NodeStatus {
        match self.nodes.get(&node) {
            Some(host) if host.incarnation == incarnation => host.status,
            _ => NodeStatus::Crashed,
        }
    }

    /// Adds a running, connected node and returns its first incarnation.
    pub(super) fn add(&mut self, node: NodeId) -> Result<u64, NetworkError> {
        if self.nodes.contains_key(&node) {
            return Err(NetworkError::DuplicateNode(node));
        }
        self.nodes.insert(
            node,
            Host {
                status: NodeStatus::Running,
                connected: true,
                incarnation: 0,
                arriving: BTreeMap::new(),
                calls: BTreeMap::new(),
                held: Vec::new(),
                tasks: Vec::new(),
            },
        );
        Ok(0)
    }

    /// Moves `node` to status `to` if its status is one of `allowed`;
    /// otherwise refuses, naming `action` and the status.
    fn transition(
        &mut self,
        node: NodeId,
        action: &'static str,
        allowed: &[NodeStatus],
        to: NodeStatus,
    ) -> Result<(), NetworkError> {
        let host = self.host_mut(node)?;
        if !allowed.contains(&host.status) {
            return Err(NetworkError::IllegalTransition {
                node,
                action,
                status: host.status,
            });
        }
        host.status = to;
        Ok(())
    }

    pub(super) fn pause(&mut self, node: NodeId) -> Result<(), NetworkError> {
        self.transition(node, "pause", &[NodeStatus::Running], NodeStatus::Paused)?;
        self.record(NetworkEvent::Paused(node));
        Ok(())
    }

    /// Resumes a paused node; what it sent while paused leaves now, in order.
    pub(super) fn resume(&mut self, now: Instant, node: NodeId) -> Result<(), NetworkError> {
        self.transition(node, "resume", &[NodeStatus::Paused], NodeStatus::Running)?;
        self.record(NetworkEvent::Resumed(node));
        let held = std::mem::take(&mut self.host_mut(node)?.held);
        for outgoing in held {
            self.depart(now, outgoing);
        }
        Ok(())
    }

    /// Crashes a node: its queued messages, its pending calls' replies and
    /// what it held while paused are dropped, its handles stop working. Returns
    /// its tasks, for the caller to stop once the lock is released (stopping a
    /// task drops its future, which may need the lock).
    pub(super) fn crash(&mut self, node: NodeId) -> Result<Vec<AbortHandle>, NetworkError> {
        self.transition(
            node,
            "crash",
            &[NodeStatus::Running, NodeStatus::Paused],
            NodeStatus::Crashed,
        )?;
        self.record(NetworkEvent::Crashed(node));
        let host = self.host_mut(node)?;
        host.incarnation += 1;
        let arriving = std::mem::take(&mut host.arriving);
        let calls = std::mem::take(&mut host.calls);
        let held = std::mem::take(&mut host.held);
        let tasks = std::mem::take(&mut host.tasks);
        for flight in arriving.into_values().chain(calls.into_values().flatten()) {
            self.drop_message(
                flight.id,
                flight.from,
                node,
                flight.message.kind(),
                DropReason::ReceiverCrashed,
            );
        }
        for outgoing in held {
            let kind = outgoing.message.kind();
            self.drop_message(
                outgoing.id,
                node,
                outgoing.to,
                kind,
                DropReason::SenderCrashed,
            );
        }
        Ok(tasks)
    }

    /// Brings a crashed node back, running, with nothing queued; returns the
    /// incarnation of its new life.
    pub(super) fn restart(&mut self, node: NodeId) -> Result<u64, NetworkError> {
        self.transition(node, "restart", &[NodeStatus::Crashed], NodeStatus::Running)?;
        self.record(NetworkEvent::Restarted(node));
        Ok(self.host(node)?.incarnation)
    }

    /// Registers a task of this life of the node, to stop when it crashes.
    pub(super) fn adopt_task(
        &mut self,
        node: NodeId,
        incarnation: u64,
        task: AbortHandle,
    ) -> Result<(), NetworkError> {
        let host = self.live_host(node, incarnation)?;
        host.tasks.retain(|running| !running.is_finished());
        host.tasks.push(task);
        Ok(())
    }

    // ----- links -----------------------------------------------------------

    /// Cuts or restores all of a node's links.
    pub(super) fn set_connected(
        &mut self,
        now: Instant,
        node: NodeId,
        connected: bool,
    ) -> Result<(), NetworkError> {
        self.host_mut(node)?.connected = connected;
        self.record(if connected {
            NetworkEvent::Connected(node)
        } else {
            NetworkEvent::Disconnected(node)
        });
        self.cut_in_flight(now);
        Ok(())
    }

    /// Splits the network into `groups`, plus one group of every node not
    /// named.
    pub(super) fn partition(
        &mut self,
        now: Instant,
        groups: &[&[NodeId]],
    ) -> Result<(), NetworkError> {
        let mut group_of = BTreeMap::new();
        for (group, members) in groups.iter().enumerate() {
            for &node in *members {
                self.host(node)?;
                if group_of.insert(node, group).is_some() {
                    return Err(NetworkError::NodeInTwoGroups(node));
                }
            }
        }
        let partition = Partition {
            group_of,
            rest: groups.len(),
        };
        let mut listed: Vec<Vec<NodeId>> = vec![Vec::new(); groups.len() + 1];
        for &node in self.nodes.keys() {
            listed[partition.group(node)].push(node);
        }
        listed.retain(|group| !group.is_empty());
        self.partition = Some(partition);
        self.record(NetworkEvent::Partitioned(listed));
        self.cut_in_flight(now);
        Ok(())
    }

    pub(super) fn heal(&mut self) {
        if self.partition.take().is_some() {
            self.record(NetworkEvent::Healed);
        }
    }

    /// Why a message from `from` cannot reach `to` now, if it cannot. A node
    /// always reaches itself.
    fn cut(&self, from: NodeId, to: NodeId) -> Option<DropReason> {
        if from == to {
            return None;
        }
        let connected = |node| self.nodes.get(&node).is_some_and(|host| host.connected);
        if !connected(from) || !connected(to) {
            return Some(DropReason::Disconnected);
        }
        match &self.partition {
            Some(partition) if partition.group(from) != partition.group(to) => {
                Some(DropReason::Partitioned)
            }
            _ => None,
        }
    }

    /// Drops every message still travelling across a link that no longer
    /// works: a cable pulled mid-transfer loses what was on it. Messages that
    /// have already arrived wait in their receiver's buffer and stay.
    fn cut_in_flight(&mut self, now: Instant) {
        let travelling = |flight: &InFlight<M>| flight.due > now;
        let mut cut = Vec::new();
        for (&node, host) in &self.nodes {
            for (&key, flight) in &host.arriving {
                if travelling(flight)
                    && let Some(reason) = self.cut(flight.from, node)
                {
                    cut.push((node, Err(key), reason));
                }
            }
            for (&call, slot) in &host.calls {
                if let Some(flight) = slot
                    && travelling(flight)
                    && let Some(reason) = self.cut(flight.from, node)
                {
                    cut.push((node, Ok(call), reason));
                }
            }
        }
        for (node, place, reason) in cut {
            let Some(host) = self.nodes.get_mut(&node) else {
                continue;
            };
            let flight = match place {
                Err(key) => host.arriving.remove(&key),
                Ok(call) => host.calls.get_mut(&call).and_then(Option::take),
            };
            if let Some(flight) = flight {
                self.drop_message(flight.id, flight.from, node, flight.message.kind(), reason);
            }
        }
    }

    // ----- sending ---------------------------------------------------------

    /// Sends a one-way message.
    pub(super) fn send(
        &mut self,
        now: Instant,
        (from, incarnation): (NodeId, u64),
        to: NodeId,
        message: M,
    ) -> Result<MessageId, NetworkError> {
        self.live_host(from, incarnation)?;
        self.host(to)?;
        Ok(self.hand_over(now, from, to, message, Form::OneWay))
    }

    /// Opens a call from `from` to `to` and sends its request; returns the
    /// call's number.
    pub(super) fn call(
        &mut self,
        now: Instant,
        (from, incarnation): (NodeId, u64),
        to: NodeId,
        request: M,
    ) -> Result<u64, NetworkError> {
        self.live_host(from, incarnation)?;
        self.host(to)?;
        let call = self.next_call;
        self.next_call += 1;
        self.host_mut(from)?.calls.insert(call, None);
        let reference = CallRef { caller: from, call };
        self.hand_over(now, from, to, request, Form::Request(reference));
        Ok(call)
    }

    /// Sends the answer to a request.
    pub(super) fn reply(
        &mut self,
        now: Instant,
        (from, incarnation): (NodeId, u64),
        reply_to: ReplyTo,
        message: M,
    ) -> Result<MessageId, NetworkError> {
        self.live_host(from, incarnation)?;
        let reference = reply_to.0;
        Ok(self.hand_over(now, from, reference.caller, message, Form::Reply(reference)))
    }

    /// Takes a message from a live sender: counts it, then holds it if the
    /// sender is paused or lets it leave.
    fn hand_over(
        &mut self,
        now: Instant,
        from: NodeId,
        to: NodeId,
        message: M,
        form: Form,
    ) -> MessageId {
        let id = MessageId::new(self.next_message);
        self.next_message += 1;
        self.counts.record_sent(message.kind());
        let outgoing = Outgoing {
            id,
            from,
            to,
            message,
            form,
        };
        let paused = self
            .nodes
            .get(&from)
            .is_some_and(|host| host.status == NodeStatus::Paused);
        if paused {
            self.record_message(&outgoing, Outcome::Held);
            if let Some(host) = self.nodes.get_mut(&from) {
                host.held.push(outgoing);
            }
        } else {
            self.depart(now, outgoing);
        }
        id
    }

    /// A message leaves its sender: the network decides its fate, in a fixed
    /// order (refused, lost, held back, latency, duplicated: the copy held
    /// back, its latency) so that a seed replays it. Duplication draws from
    /// the seed only when its rate is above zero, so runs without it replay
    /// the same as before it existed.
    fn depart(&mut self, now: Instant, outgoing: Outgoing<M>) {
        if let Some(reason) = self.refusal(&outgoing) {
            let kind = outgoing.message.kind();
            self.drop_message(outgoing.id, outgoing.from, outgoing.to, kind, reason);
            return;
        }
        let is_reply = self.is_reply(&outgoing);
        let (loss, reason) = if is_reply {
            (self.conditions.reply_loss, DropReason::ReplyLost)
        } else {
            (self.conditions.message_loss, DropReason::Lost)
        };
        if loss.sample(&mut self.rng) {
            let kind = outgoing.message.kind();
            self.drop_message(outgoing.id, outgoing.from, outgoing.to, kind, reason);
            return;
        }
        let (delay, long_delay) = self.travel_time(is_reply);
        self.record_message(&outgoing, Outcome::Sent { delay, long_delay });
        let duplicated = self.conditions.duplication != Probability::NEVER
            && self.conditions.duplication.sample(&mut self.rng);
        if duplicated {
            let (copy_delay, _) = self.travel_time(is_reply);
            let copy = Outgoing {
                id: MessageId::new(self.next_message),
                message: outgoing.message.clone(),
                ..outgoing
            };
            self.next_message += 1;
            self.counts.record_duplicated(copy.message.kind());
            let of = outgoing.id;
            self.record_message(
                &copy,
                Outcome::Duplicated {
                    of,
                    delay: copy_delay,
                },
            );
            self.land(now + copy_delay, copy);
        }
        self.land(now + delay, outgoing);
    }

    /// Whether the network treats `outgoing` as a reply: a call's answer
    /// always, a one-way message when the conditions take its word for it.
    fn is_reply(&self, outgoing: &Outgoing<M>) -> bool {
        match outgoing.form {
            Form::Reply(_) => true,
            Form::OneWay => self.conditions.one_way_replies && outgoing.message.is_reply(),
            Form::Request(_) => false,
        }
    }

    /// How long a message that left now travels, and whether it was held
    /// back. With long delays for replies only, anything else draws only its
    /// latency; otherwise every message draws for a long delay first, as
    /// before the setting existed, so that old seeds replay the same.
    fn travel_time(&mut self, is_reply: bool) -> (Duration, bool) {
        let may_wait = is_reply || !self.conditions.long_delay_replies_only;
        let long_delay = may_wait && self.conditions.long_delay.sample(&mut self.rng);
        let range = if long_delay {
            self.conditions.long_delay_range
        } else {
            self.conditions.latency
        };
        (range.draw(&mut self.rng), long_delay)
    }

    /// Puts a message that left into its receiver's queue, or a reply into
    /// its call's slot, to arrive at `due`. A call takes one answer: of two,
    /// the one due first (sent first, on a tie) stays and the other is
    /// dropped.
    fn land(&mut self, due: Instant, outgoing: Outgoing<M>) {
        let Outgoing {
            id,
            from,
            to,
            message,
            form,
        } = outgoing;
        let flight = InFlight {
            id,
            from,
            message,
            form,
            due,
        };
        let Some(receiver) = self.nodes.get_mut(&to) else {
            return;
        };
        let Form::Reply(reference) = form else {
            receiver.arriving.insert((flight.due, id), flight);
            return;
        };
        let Some(slot) = receiver.calls.get_mut(&reference.call) else {
            return;
        };
        let second = match slot.take() {
            Some(first) if (first.due, first.id) <= (flight.due, flight.id) => {
                *slot = Some(first);
                flight
            }
            earlier => {
                *slot = Some(flight);
                match earlier {
                    Some(first) => first,
                    None => return,
                }
            }
        };
        let kind = second.message.kind();
        self.drop_message(
            second.id,
            second.from,
            to,
            kind,
            DropReason::AlreadyAnswered,
        );
    }

    /// Why the network refuses a message as it leaves, if it does.
    fn refusal(&self, outgoing: &Outgoing<M>) -> Option<DropReason> {
        if let Some(reason) = self.cut(outgoing.from, outgoing.to) {
            return Some(reason);
        }
        let receiver = self.nodes.get(&outgoing.to)?;
        if receiver.status == NodeStatus::Crashed {
            return Some(DropReason::ReceiverCrashed);
        }
        match outgoing.form {
            Form::Reply(reference) if !receiver.calls.contains_key(&reference.call) => {
                Some(DropReason::CallerGaveUp)
            }
            _ => None,
        }
    }

    // ----- receiving -------------------------------------------------------

    /// The earliest message due at a node, if the node is running: when it is
    /// due and its key.
    pub(super) fn next_arrival(
        &self,
        node: NodeId,
        incarnation: u64,
    ) -> Option<(Instant, MessageId)> {
        let host = self.nodes.get(&node)?;
        if host.incarnation != incarnation || host.status != NodeStatus::Running {
            return None;
        }
        host.arriving.keys().next().copied()
    }

    /// Checks a node's inbox: the next message if it is due, or when to look
    /// again. `None` once this life of the node has crashed.
    pub(super) fn check_inbox(
        &mut self,
        now: Instant,
        node: NodeId,
        incarnation: u64,
    ) -> Check<Option<Envelope<M>>> {
        match self.status_of(node, incarnation) {
            NodeStatus::Crashed => return Check::Ready(None),
            NodeStatus::Paused => return Check::WaitForChange,
            NodeStatus::Running => {}
        }
        match self.next_arrival(node, incarnation) {
            Some((due, id)) if due <= now => match self.take_arrival(node, (due, id)) {
                Some(envelope) => Check::Ready(Some(envelope)),
                None => Check::WaitForChange,
            },
            Some((due, _)) => Check::WaitUntil(due),
            None => Check::WaitForChange,
        }
    }

    /// Takes a due message out of a node's queue and records its delivery.
    pub(super) fn take_arrival(
        &mut self,
        node: NodeId,
        key: (Instant, MessageId),
    ) -> Option<Envelope<M>> {
        let flight = self.nodes.get_mut(&node)?.arriving.remove(&key)?;
        let reply_to = match flight.form {
            Form::Request(reference) => Some(ReplyTo(reference)),
            Form::OneWay | Form::Reply(_) => None,
        };
        let envelope = Envelope {
            id: flight.id,
            from: flight.from,
            to: node,
            message: flight.message,
            reply_to,
        };
        self.record_delivered(envelope.id, envelope.from, node, envelope.message.kind());
        Some(envelope)
    }

    /// Checks on a call: its answer if it has arrived, the end of waiting
    /// once the deadline has passed, or when to look again. A paused caller
    /// notices neither until it resumes; then an answer that arrived meanwhile
    /// wins over the expired deadline, as it would in a socket buffer.
    pub(super) fn check_call(
        &mut self,
        now: Instant,
        (caller, incarnation): (NodeId, u64),
        call: u64,
        deadline: Instant,
    ) -> Check<CallEnd<M>> {
        match self.status_of(caller, incarnation) {
            NodeStatus::Crashed => return Check::Ready(CallEnd::CallerCrashed),
            NodeStatus::Paused => return Check::WaitForChange,
            NodeStatus::Running => {}
        }
        let Some(host) = self.nodes.get_mut(&caller) else {
            return Check::Ready(CallEnd::CallerCrashed);
        };
        let due = match host.calls.get(&call) {
            Some(Some(reply)) => Some(reply.due),
            Some(None) => None,
            None => return Check::Ready(CallEnd::Expired),
        };
        match due {
            Some(due) if due <= now => match host.calls.remove(&call) {
                Some(Some(reply)) => {
                    let kind = reply.message.kind();
                    self.record_delivered(reply.id, reply.from, caller, kind);
                    Check::Ready(CallEnd::Answered(reply.message))
                }
                _ => Check::Ready(CallEnd::Expired),
            },
            _ if now >= deadline => {
                self.abandon_call(caller, call);
                Check::Ready(CallEnd::Expired)
            }
            Some(due) => Check::WaitUntil(due.min(deadline)),
            None => Check::WaitUntil(deadline),
        }
    }

    /// Stops waiting for a call's answer; an answer already on its way is
    /// dropped, and one sent later will be.
    pub(super) fn abandon_call(&mut self, caller: NodeId, call: u64) {
        let Some(host) = self.nodes.get_mut(&caller) else {
            return;
        };
        if let Some(Some(reply)) = host.calls.remove(&call) {
            let kind = reply.message.kind();
            self.drop_message(reply.id, reply.from, caller, kind, DropReason::CallerGaveUp);
        }
    }

    // ----- records ---------------------------------------------------------

    fn record(&mut self, event: NetworkEvent) {
        self.trace.record(clock::elapsed(), event);
    }

    fn record_message(&mut self, outgoing: &Outgoing<M>, outcome: Outcome) {
        let event = NetworkEvent::Message {
            id: outgoing.id,
            from: outgoing.from,
            to: outgoing.to,
            kind: outgoing.message.kind(),
            outcome,
        };
        self.record(event);
    }

    fn record_delivered(&mut self, id: MessageId, from: NodeId, to: NodeId, kind: &'static str) {
        self.counts.record_delivered(kind);
        self.record(NetworkEvent::Message {
            id,
            from,
            to,
            kind,
            outcome: Outcome::Delivered,
        });
    }

    fn drop_message(
        &mut self,
        id: MessageId,
        from: NodeId,
        to: NodeId,
        kind: &'static str,
        reason: DropReason,
    ) {
        self.counts.record_dropped(kind);
        self.record(NetworkEvent::Message {
            id,
            from,
            to,
            kind,
            outcome: Outcome::Dropped(reason),
        });
    }
}

impl Partition {
    /// The group `node` is in.
    fn group(&self, node: NodeId) -> usize {
        self.group_of.get(&node).copied().unwrap_or(self.rest)
    }
}
