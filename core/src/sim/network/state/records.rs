//! Records: the counts and the trace every step of the network leaves.

use super::{NetworkState, Outgoing};
use crate::NodeId;
use crate::sim::clock;
use crate::sim::network::{DropReason, Message, NetworkEvent, Outcome, TransmissionId};

impl<M: Message> NetworkState<M> {
    /// Adds an event to the trace, at the run's current time.
    pub(super) fn record(&mut self, event: NetworkEvent) {
        self.trace.record(clock::elapsed(), event);
    }

    /// Traces what became of a message as it left its sender.
    pub(super) fn record_message(&mut self, outgoing: &Outgoing<M>, outcome: Outcome) {
        let event = NetworkEvent::Message {
            id: outgoing.id,
            from: outgoing.from,
            to: outgoing.to,
            kind: outgoing.message.kind(),
            outcome,
        };
        self.record(event);
    }

    /// Counts and traces a message its receiver took.
    pub(super) fn record_delivered(
        &mut self,
        id: TransmissionId,
        from: NodeId,
        to: NodeId,
        kind: &'static str,
    ) {
        self.counts.record_delivered(kind);
        self.record(NetworkEvent::Message {
            id,
            from,
            to,
            kind,
            outcome: Outcome::Delivered,
        });
    }

    /// Counts and traces a message the network dropped, and why.
    pub(super) fn drop_message(
        &mut self,
        id: TransmissionId,
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
