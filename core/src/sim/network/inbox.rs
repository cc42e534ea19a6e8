//! Where a node's messages arrive, and how a driver takes them for many nodes.
//!
//! Every node has one [`Inbox`], handed out once with the node and not
//! cloneable, so exactly one reader takes each message. Two styles read it:
//!
//! - **a task per node** (Workshop 3): the node's task owns its inbox and
//!   loops on [`Inbox::recv`];
//! - **one driver for all nodes** (Workshop 4, sans-IO state machines): the
//!   driver moves every node's inbox into one [`Inboxes`] and loops on
//!   [`Inboxes::recv`], which hands out the next message due anywhere, in the
//!   order the network delivers them. The driver owns the state machines and
//!   steps each message into its receiver's; no locks, no tasks.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::node::{Incarnation, Life};
use super::shared::Shared;
use super::{Envelope, Message, NetworkError};
use crate::NodeId;
use crate::wait::Check;

/// The messages arriving at one node, in one of its lives.
pub struct Inbox<M> {
    /// Whose inbox, in which life: a crash closes it.
    life: Life,
    /// The network.
    shared: Arc<Shared<M>>,
}

impl<M> fmt::Debug for Inbox<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("node", &self.life.node)
            .field("incarnation", &self.life.incarnation)
            .finish_non_exhaustive()
    }
}

impl<M: Message> Inbox<M> {
    pub(super) fn new(life: Life, shared: Arc<Shared<M>>) -> Self {
        Self { life, shared }
    }

    /// Whose inbox this is.
    pub fn node(&self) -> NodeId {
        self.life.node
    }

    /// Whether this inbox belongs to the network `shared`.
    pub(super) fn is_on(&self, shared: &Arc<Shared<M>>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    /// Waits for the next message that has arrived, in order of arrival. While
    /// the node is paused, nothing is taken; messages queue up and come out
    /// when it resumes. `None` once the node has crashed: a crash closes the
    /// inbox of that life for good.
    ///
    /// Cancel-safe: a message leaves the inbox only when `recv` returns it, so
    /// a `select!` that drops this future loses nothing.
    pub async fn recv(&mut self) -> Option<Envelope<M>> {
        let life = self.life;
        self.shared
            .wait_for(|state, now| state.check_inbox(now, life))
            .await
    }
}

/// The inboxes of many nodes, read as one: for a driver that runs every
/// node's state machine itself.
///
/// Messages come out in delivery order across all the nodes (earliest due
/// first, then first sent), skipping paused nodes, whose messages wait.
/// Inboxes of crashed lives are dropped from the set; after a restart, insert
/// the new one.
pub struct Inboxes<M> {
    /// The network every member belongs to; set by the first insert.
    shared: Option<Arc<Shared<M>>>,
    /// The member nodes, each with the life its inbox belongs to.
    members: BTreeMap<NodeId, Incarnation>,
}

impl<M> Default for Inboxes<M> {
    fn default() -> Self {
        Self {
            shared: None,
            members: BTreeMap::new(),
        }
    }
}

impl<M> fmt::Debug for Inboxes<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inboxes")
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl<M: Message> Inboxes<M> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node's inbox, replacing an older inbox of the same node (the
    /// one from before a restart).
    ///
    /// # Errors
    /// [`NetworkError::WrongInbox`] when the inbox belongs to another network
    /// than the ones already in the set.
    pub fn insert(&mut self, inbox: Inbox<M>) -> Result<(), NetworkError> {
        match &self.shared {
            Some(shared) if !inbox.is_on(shared) => {
                return Err(NetworkError::WrongInbox {
                    inbox: inbox.life.node,
                    expected: "a set of inboxes of another network",
                });
            }
            Some(_) => {}
            None => self.shared = Some(Arc::clone(&inbox.shared)),
        }
        self.members.insert(inbox.life.node, inbox.life.incarnation);
        Ok(())
    }

    /// The nodes whose inboxes are in the set, sorted.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.keys().copied()
    }

    /// Waits for the next message due at any member, and takes it. Waits for
    /// ever when no member can receive again (an empty set, or every member
    /// crashed): a driver selects on this together with its own timers.
    ///
    /// Cancel-safe, as [`Inbox::recv`] is.
    pub async fn recv(&mut self) -> Envelope<M> {
        let Some(shared) = self.shared.clone() else {
            return std::future::pending().await;
        };
        let members = &mut self.members;
        shared
            .wait_for(|state, now| {
                members.retain(|&node, &mut incarnation| {
                    state
                        .host(node)
                        .is_ok_and(|host| host.incarnation == incarnation)
                });
                let next = members
                    .iter()
                    .filter_map(|(&node, &incarnation)| {
                        let life = Life { node, incarnation };
                        state.next_arrival(life).map(|key| (key, node))
                    })
                    .min();
                match next {
                    Some((key, node)) if key.due <= now => match state.take_arrival(node, key) {
                        Some(envelope) => Check::Ready(envelope),
                        None => Check::WaitForChange,
                    },
                    Some((key, _)) => Check::WaitUntil(key.due),
                    None => Check::WaitForChange,
                }
            })
            .await
    }
}
