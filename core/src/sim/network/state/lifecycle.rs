//! Nodes and their lifecycle: added, paused, resumed, crashed, restarted.

use std::collections::BTreeMap;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::super::node::{Incarnation, Life, LifecycleStep};
use super::{Host, NetworkState};
use crate::NodeId;
use crate::sim::network::{DropReason, Message, NetworkError, NetworkEvent, NodeStatus};

impl<M: Message> NetworkState<M> {
    /// Adds a running, connected node and returns its first life.
    pub(in crate::sim::network) fn add(&mut self, node: NodeId) -> Result<Life, NetworkError> {
        if self.nodes.contains_key(&node) {
            return Err(NetworkError::DuplicateNode(node));
        }
        self.nodes.insert(
            node,
            Host {
                status: NodeStatus::Running,
                connected: true,
                incarnation: Incarnation::FIRST,
                arriving: BTreeMap::new(),
                calls: BTreeMap::new(),
                held: Vec::new(),
                tasks: Vec::new(),
            },
        );
        Ok(Life {
            node,
            incarnation: Incarnation::FIRST,
        })
    }

    /// Takes `node` through `step` if the step applies to its status;
    /// otherwise refuses, naming the step and the status.
    fn take_step(&mut self, node: NodeId, step: LifecycleStep) -> Result<(), NetworkError> {
        let host = self.host_mut(node)?;
        if !step.applies_to().contains(&host.status) {
            return Err(NetworkError::IllegalTransition {
                node,
                action: step,
                status: host.status,
            });
        }
        host.status = step.leads_to();
        Ok(())
    }

    pub(in crate::sim::network) fn pause(&mut self, node: NodeId) -> Result<(), NetworkError> {
        self.take_step(node, LifecycleStep::Pause)?;
        self.record(NetworkEvent::Paused(node));
        Ok(())
    }

    /// Resumes a paused node; what it sent while paused leaves now, in order.
    pub(in crate::sim::network) fn resume(
        &mut self,
        now: Instant,
        node: NodeId,
    ) -> Result<(), NetworkError> {
        self.take_step(node, LifecycleStep::Resume)?;
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
    pub(in crate::sim::network) fn crash(
        &mut self,
        node: NodeId,
    ) -> Result<Vec<AbortHandle>, NetworkError> {
        self.take_step(node, LifecycleStep::Crash)?;
        self.record(NetworkEvent::Crashed(node));
        let host = self.host_mut(node)?;
        host.incarnation = host.incarnation.next();
        let arriving = std::mem::take(&mut host.arriving);
        let calls = std::mem::take(&mut host.calls);
        let held = std::mem::take(&mut host.held);
        let tasks = std::mem::take(&mut host.tasks);
        let answers = calls.into_values().filter_map(|mut slot| slot.take());
        for flight in arriving.into_values().chain(answers) {
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

    /// Brings a crashed node back, running, with nothing queued; returns its
    /// new life.
    pub(in crate::sim::network) fn restart(&mut self, node: NodeId) -> Result<Life, NetworkError> {
        self.take_step(node, LifecycleStep::Restart)?;
        self.record(NetworkEvent::Restarted(node));
        Ok(Life {
            node,
            incarnation: self.host(node)?.incarnation,
        })
    }

    /// Registers a task of this life of the node, to stop when it crashes.
    pub(in crate::sim::network) fn adopt_task(
        &mut self,
        life: Life,
        task: AbortHandle,
    ) -> Result<(), NetworkError> {
        let host = self.live_host(life)?;
        host.tasks.retain(|running| !running.is_finished());
        host.tasks.push(task);
        Ok(())
    }
}
