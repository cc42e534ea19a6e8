//! Sending: what the network decides as a message leaves, and where it lands.

use std::time::Duration;

use tokio::time::Instant;

use super::super::message::CallId;
use super::super::node::Life;
use super::{AnswerSlot, CallRef, Form, InFlight, NetworkState, Outgoing};
use crate::sim::network::{
    DropReason, Message, NetworkError, NodeStatus, Outcome, ReplyTo, TransmissionId,
};
use crate::{NodeId, Probability};

impl<M: Message> NetworkState<M> {
    /// Sends a one-way message.
    pub(in crate::sim::network) fn send(
        &mut self,
        now: Instant,
        from: Life,
        to: NodeId,
        message: M,
    ) -> Result<TransmissionId, NetworkError> {
        self.live_host(from)?;
        self.host(to)?;
        Ok(self.hand_over(now, from.node, to, message, Form::OneWay))
    }

    /// Opens a call from `from` to `to` and sends its request; returns the
    /// call's id.
    pub(in crate::sim::network) fn call(
        &mut self,
        now: Instant,
        from: Life,
        to: NodeId,
        request: M,
    ) -> Result<CallId, NetworkError> {
        self.live_host(from)?;
        self.host(to)?;
        let call = self.next_call;
        self.next_call = call.next();
        self.host_mut(from.node)?
            .calls
            .insert(call, AnswerSlot::Empty);
        let reference = CallRef {
            caller: from.node,
            call,
        };
        self.hand_over(now, from.node, to, request, Form::Request(reference));
        Ok(call)
    }

    /// Sends the answer to a request.
    pub(in crate::sim::network) fn reply(
        &mut self,
        now: Instant,
        from: Life,
        reply_to: ReplyTo,
        message: M,
    ) -> Result<TransmissionId, NetworkError> {
        self.live_host(from)?;
        let reference = reply_to.0;
        Ok(self.hand_over(
            now,
            from.node,
            reference.caller,
            message,
            Form::Reply(reference),
        ))
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
    ) -> TransmissionId {
        let id = self.issue_message_id();
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
    pub(super) fn depart(&mut self, now: Instant, outgoing: Outgoing<M>) {
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
                id: self.issue_message_id(),
                message: outgoing.message.clone(),
                ..outgoing
            };
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
            receiver.arriving.insert(flight.key(), flight);
            return;
        };
        let Some(slot) = receiver.calls.get_mut(&reference.call) else {
            return;
        };
        let second = match slot.take() {
            Some(first) if first.key() <= flight.key() => {
                *slot = AnswerSlot::Coming(first);
                flight
            }
            earlier => {
                *slot = AnswerSlot::Coming(flight);
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
}
