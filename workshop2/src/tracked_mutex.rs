//! A std mutex that knows which locks of its kind this thread already holds.
//!
//! Two lock mistakes hang a program instead of failing it, and only on the
//! runs where the timing is unlucky:
//!
//! - **two locks taken in different orders**: a thief that holds its own
//!   deque while it takes the victim's deadlocks as soon as two workers rob
//!   each other at the same moment, each holding the lock the other waits
//!   for;
//! - **a std lock held across an `.await`**: the task sleeps with the guard
//!   in hand, the next task on the same thread asks for the lock, and the
//!   thread blocks for good, with the one task that could release it never
//!   polled again.
//!
//! Both start the same way: a thread asks for a lock while it already holds
//! one of the same kind. A [`TrackedMutex`] counts, per thread, the locks of
//! each kind held, and refuses that request with a panic that names the
//! rule, on every run, instead of a hang on some. The exercises' tests then
//! fail at once, with a message, whatever the interleaving.
//!
//! The cost is one thread-local counter update per lock and unlock. The
//! locks themselves are std mutexes, held for a few lines and never across
//! an `.await`.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A kind of lock, with the rule a second one on the same thread breaks.
#[derive(Debug)]
pub struct LockKind {
    /// What is locked, for the message: "a worker's deque".
    pub what: &'static str,
    /// Why a thread must never ask for a second one while it holds one, and
    /// what to do instead.
    pub rule: &'static str,
}

thread_local! {
    /// The kinds of lock this thread holds now, one entry per guard alive.
    static HELD: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// A std mutex whose [`lock`](Self::lock) refuses a thread that already
/// holds a lock of the same [`LockKind`].
#[derive(Debug)]
pub struct TrackedMutex<T> {
    value: Mutex<T>,
    kind: &'static LockKind,
}

impl<T> TrackedMutex<T> {
    /// A mutex of `kind` guarding `value`.
    pub fn new(value: T, kind: &'static LockKind) -> Self {
        Self {
            value: Mutex::new(value),
            kind,
        }
    }

    /// Locks it.
    ///
    /// # Panics
    /// When this thread already holds a lock of the same kind: waiting here
    /// could never end, or would end only on lucky runs; the message names
    /// the rule. A poisoned lock is taken anyway: the panic that poisoned it
    /// is the one to report, and it already was.
    pub fn lock(&self) -> TrackedGuard<'_, T> {
        let what = self.kind.what;
        let already = HELD.with(|held| held.borrow().contains(&what));
        if already {
            panic!(
                "this thread asked for {what} while it already holds {what}. {}",
                self.kind.rule
            );
        }
        let guard = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        HELD.with(|held| held.borrow_mut().push(what));
        TrackedGuard { guard, what }
    }
}

/// A lock held; released when dropped.
pub struct TrackedGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    /// Its kind's name, to forget when released.
    what: &'static str,
}

impl<T> Deref for TrackedGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for TrackedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for TrackedGuard<'_, T> {
    fn drop(&mut self) {
        // `try_with`: a guard dropped while the thread itself is being torn
        // down has nobody left to tell.
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some(position) = held.iter().rposition(|&what| what == self.what) {
                held.swap_remove(position);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TESTED: LockKind = LockKind {
        what: "a tested lock",
        rule: "Release one before taking another.",
    };

    /// Locks of one kind taken one after the other are fine; a second one
    /// while the first is held is refused with the rule.
    #[test]
    fn a_second_lock_of_a_kind_on_one_thread_is_refused() {
        let first = TrackedMutex::new(1, &TESTED);
        let second = TrackedMutex::new(2, &TESTED);
        let one = *first.lock();
        let two = *second.lock();
        assert_eq!(one + two, 3, "one after the other");
        let held = first.lock();
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *second.lock()));
        drop(held);
        let message = refused.expect_err("a second lock while one is held must be refused");
        let message = message
            .downcast_ref::<String>()
            .expect("the refusal is a formatted message");
        assert!(
            message.contains("Release one before taking another."),
            "the refusal names the rule: {message}"
        );
        assert_eq!(*second.lock(), 2, "once released, the lock is free again");
    }
}
