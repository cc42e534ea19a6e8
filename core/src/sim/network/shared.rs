//! The one lock around the network's state, and the signal that it changed.
//!
//! Everything the network knows lives in one [`NetworkState`] behind one
//! `std::sync::Mutex`, never held across an `.await`; every public handle
//! ([`Network`](super::Network), [`Node`](super::Node),
//! [`Inbox`](super::Inbox)) is a view of it. One lock for everything keeps the
//! rules in one place and makes each step atomic: a message cannot be
//! delivered halfway through a crash.
//!
//! Nothing runs on its own: there is no postman task. A message waits in its
//! receiver's queue, keyed by the instant it is due and its id, and the
//! receiver takes it when it asks and the instant has come. Waiting is done by
//! [`Shared::wait_for`]: check the state, then sleep until the next instant
//! that matters or until the state changes, whichever comes first. Ties
//! between messages due at the same instant go to the one sent first, so the
//! order of a run depends only on its seed.

use std::any::Any;
use std::panic;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::state::NetworkState;
use super::{Message, NetworkConditions};
use crate::Seed;
use crate::wait::{self, Check};

/// The state every handle shares, and the signal that it changed.
pub(super) struct Shared<M> {
    /// Nodes, messages in flight, faults, counts and trace, under one lock.
    state: Mutex<NetworkState<M>>,
    /// Woken after every change, so that waiters check again.
    changed: Notify,
}

impl<M: Message> Shared<M> {
    pub(super) fn new(seed: Seed, conditions: NetworkConditions) -> Self {
        Self {
            state: Mutex::new(NetworkState::new(seed, conditions)),
            changed: Notify::new(),
        }
    }

    /// The state, locked. Only the short steps of the state's methods hold
    /// the lock. If one panics (a `Message::kind` that panics), that panic
    /// already fails the run; taking the poisoned lock over keeps a second,
    /// misleading panic out of the output.
    fn lock(&self) -> MutexGuard<'_, NetworkState<M>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the state.
    pub(super) fn read<T>(&self, read: impl FnOnce(&NetworkState<M>) -> T) -> T {
        read(&self.lock())
    }

    /// Changes the state at the current instant and wakes every waiter.
    pub(super) fn update<T>(&self, change: impl FnOnce(&mut NetworkState<M>, Instant) -> T) -> T {
        let result = change(&mut self.lock(), Instant::now());
        self.changed.notify_waiters();
        result
    }

    /// Waits until `check` says [`Check::Ready`], checking again whenever the
    /// state changes or the instant it named comes.
    pub(super) async fn wait_for<T>(
        &self,
        mut check: impl FnMut(&mut NetworkState<M>, Instant) -> Check<T>,
    ) -> T {
        wait::wait_for(&self.changed, || check(&mut self.lock(), Instant::now())).await
    }

    /// Re-raises the first panic of a node's task, if there was one, in the
    /// caller: a test that drives the network fails with the task's own
    /// message instead of waiting for something the dead task would have done.
    pub(super) fn surface_task_panic(&self) {
        let panicked = self.lock().take_task_panic();
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
    }

    /// Keeps the first panic of a node's task for [`surface_task_panic`].
    ///
    /// [`surface_task_panic`]: Shared::surface_task_panic
    pub(super) fn record_task_panic(&self, payload: Box<dyn Any + Send>) {
        self.update(|state, _| state.keep_task_panic(payload));
    }
}
