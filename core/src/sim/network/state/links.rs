//! Links: disconnections and partitions, and the messages they cut.

use std::collections::BTreeMap;

use tokio::time::Instant;

use super::{InFlight, NetworkState, Slot};
use crate::NodeId;
use crate::sim::network::{DropReason, Message, NetworkError, NetworkEvent};

/// Which groups a partition split the network into.
pub(super) struct Partition {
    /// Every node's group, by number; nodes added later join the last group,
    /// "everyone not named".
    group_of: BTreeMap<NodeId, usize>,
    /// The number of the group of nodes not named.
    rest: usize,
}

impl Partition {
    /// The group `node` is in.
    fn group(&self, node: NodeId) -> usize {
        self.group_of.get(&node).copied().unwrap_or(self.rest)
    }
}

impl<M: Message> NetworkState<M> {
    /// Cuts or restores all of a node's links.
    pub(in crate::sim::network) fn set_connected(
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
    pub(in crate::sim::network) fn partition(
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

    pub(in crate::sim::network) fn heal(&mut self) {
        if self.partition.take().is_some() {
            self.record(NetworkEvent::Healed);
        }
    }

    /// Why a message from `from` cannot reach `to` now, if it cannot. A node
    /// always reaches itself.
    pub(super) fn cut(&self, from: NodeId, to: NodeId) -> Option<DropReason> {
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
                    cut.push((node, Slot::Queue(key), reason));
                }
            }
            for (&call, slot) in &host.calls {
                if let Some(flight) = slot.answer()
                    && travelling(flight)
                    && let Some(reason) = self.cut(flight.from, node)
                {
                    cut.push((node, Slot::Answer(call), reason));
                }
            }
        }
        for (node, slot, reason) in cut {
            let Some(host) = self.nodes.get_mut(&node) else {
                continue;
            };
            let flight = match slot {
                Slot::Queue(key) => host.arriving.remove(&key),
                Slot::Answer(call) => host.calls.get_mut(&call).and_then(|slot| slot.take()),
            };
            if let Some(flight) = flight {
                self.drop_message(flight.id, flight.from, node, flight.message.kind(), reason);
            }
        }
    }
}
