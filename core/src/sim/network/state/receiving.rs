//! Receiving: taking what is due at a node, and how a call ends.

use tokio::time::Instant;

use super::super::message::CallId;
use super::super::node::Life;
use super::{AnswerSlot, ArrivalKey, Form, NetworkState};
use crate::NodeId;
use crate::sim::network::{DropReason, Envelope, Message, NodeStatus, ReplyTo};
use crate::wait::Check;

/// How a call ended, as the network sees it.
pub(in crate::sim::network) enum CallEnd<M> {
    /// The answer arrived.
    Answered(M),
    /// The deadline passed first.
    Expired,
    /// The caller's life ended in a crash while it waited.
    CallerCrashed,
}

impl<M: Message> NetworkState<M> {
    /// The earliest message due at a node, if this life of the node is
    /// running.
    pub(in crate::sim::network) fn next_arrival(&self, life: Life) -> Option<ArrivalKey> {
        let host = self.nodes.get(&life.node)?;
        if host.incarnation != life.incarnation || host.status != NodeStatus::Running {
            return None;
        }
        host.arriving.keys().next().copied()
    }

    /// Checks a node's inbox: the next message if it is due, or when to look
    /// again. `None` once this life of the node has crashed.
    pub(in crate::sim::network) fn check_inbox(
        &mut self,
        now: Instant,
        life: Life,
    ) -> Check<Option<Envelope<M>>> {
        match self.status_of(life) {
            NodeStatus::Crashed => return Check::Ready(None),
            NodeStatus::Paused => return Check::WaitForChange,
            NodeStatus::Running => {}
        }
        match self.next_arrival(life) {
            Some(key) if key.due <= now => match self.take_arrival(life.node, key) {
                Some(envelope) => Check::Ready(Some(envelope)),
                None => Check::WaitForChange,
            },
            Some(key) => Check::WaitUntil(key.due),
            None => Check::WaitForChange,
        }
    }

    /// Takes a due message out of a node's queue and records its delivery.
    pub(in crate::sim::network) fn take_arrival(
        &mut self,
        node: NodeId,
        key: ArrivalKey,
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
    pub(in crate::sim::network) fn check_call(
        &mut self,
        now: Instant,
        caller: Life,
        call: CallId,
        deadline: Instant,
    ) -> Check<CallEnd<M>> {
        match self.status_of(caller) {
            NodeStatus::Crashed => return Check::Ready(CallEnd::CallerCrashed),
            NodeStatus::Paused => return Check::WaitForChange,
            NodeStatus::Running => {}
        }
        let Some(host) = self.nodes.get_mut(&caller.node) else {
            return Check::Ready(CallEnd::CallerCrashed);
        };
        let due = match host.calls.get(&call) {
            Some(slot) => slot.answer().map(|answer| answer.due),
            None => return Check::Ready(CallEnd::Expired),
        };
        match due {
            Some(due) if due <= now => match host.calls.remove(&call) {
                Some(AnswerSlot::Coming(reply)) => {
                    let kind = reply.message.kind();
                    self.record_delivered(reply.id, reply.from, caller.node, kind);
                    Check::Ready(CallEnd::Answered(reply.message))
                }
                _ => Check::Ready(CallEnd::Expired),
            },
            _ if now >= deadline => {
                self.abandon_call(caller.node, call);
                Check::Ready(CallEnd::Expired)
            }
            Some(due) => Check::WaitUntil(due.min(deadline)),
            None => Check::WaitUntil(deadline),
        }
    }

    /// Stops waiting for a call's answer; an answer already on its way is
    /// dropped, and one sent later will be.
    pub(in crate::sim::network) fn abandon_call(&mut self, caller: NodeId, call: CallId) {
        let Some(host) = self.nodes.get_mut(&caller) else {
            return;
        };
        if let Some(AnswerSlot::Coming(reply)) = host.calls.remove(&call) {
            let kind = reply.message.kind();
            self.drop_message(reply.id, reply.from, caller, kind, DropReason::CallerGaveUp);
        }
    }
}
