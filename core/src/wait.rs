//! Waiting for shared state to change: register, check, then wait.
//!
//! A task that waits for a condition on state other tasks change (a queue
//! drained, an item to take, an answer arrived) needs a signal from the
//! changers, a [`tokio::sync::Notify`], and has one way to get it wrong: check
//! the state, find nothing, and only then start listening. A change made
//! between the check and the listening wakes nobody, and the waiter sleeps
//! through it, for ever if nothing else changes. [`wait_for`] does the steps in
//! the one safe order, so that no caller writes them again: register as a
//! waiter, check, and wait only if the check found nothing.
//!
//! The changers call [`Notify::notify_waiters`] after every change (or
//! [`Notify::notify_one`] to hand a change to a single waiter); both reach a
//! waiter that is registered, even if it has not started waiting yet.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use coordination::wait::{self, Check};
//! use tokio::sync::Notify;
//!
//! # coordination::sim::simulate(async {
//! let items = Arc::new(Mutex::new(Vec::new()));
//! let changed = Arc::new(Notify::new());
//! let (producer_items, producer_changed) = (Arc::clone(&items), Arc::clone(&changed));
//! tokio::spawn(async move {
//!     producer_items.lock().unwrap().push(7);
//!     producer_changed.notify_waiters();
//! });
//! let item = wait::wait_for(&changed, || Check::from(items.lock().unwrap().pop())).await;
//! assert_eq!(item, 7);
//! # });
//! ```

use tokio::sync::Notify;
use tokio::time::Instant;

/// What a waiter should do after checking the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<T> {
    /// Done, with this result.
    Ready(T),
    /// Check again at this instant, or sooner if the state changes.
    WaitUntil(Instant),
    /// Nothing can happen until the state changes.
    WaitForChange,
}

impl<T> From<Option<T>> for Check<T> {
    /// Ready with the value if there is one; otherwise wait for a change.
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::WaitForChange, Self::Ready)
    }
}

/// Waits until `check` says [`Check::Ready`], checking again whenever
/// `changed` is notified or the instant the check named comes.
///
/// `check` runs first at once, then after every wake-up; it must not hold a
/// lock when it returns, since the wait happens after it.
pub async fn wait_for<T>(changed: &Notify, mut check: impl FnMut() -> Check<T>) -> T {
    loop {
        // Registered before checking, so that a change made between the
        // check and the wait still wakes this waiter.
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match check() {
            Check::Ready(result) => return result,
            Check::WaitUntil(instant) => {
                tokio::select! {
                    biased;
                    () = &mut notified => {}
                    () = tokio::time::sleep_until(instant) => {}
                }
            }
            Check::WaitForChange => notified.await,
        }
    }
}

/// Waits until `ready` holds, checking again whenever `changed` is notified.
pub async fn wait_until(changed: &Notify, mut ready: impl FnMut() -> bool) {
    wait_for(changed, || Check::from(ready().then_some(()))).await;
}
