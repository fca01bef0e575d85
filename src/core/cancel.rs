//! Cancellation: of the whole nursery (why, and how it spreads to the pending children), of one
//! child through its `TaskHandle`, and the future that waits for it.
//!
//! Who *starts* a cancellation (`cancel`, a failure, the deadline, a drop) is kept in
//! `Inner::cancel`; how it *spreads* is the same for every reason: the `CANCELLED` flag, which
//! every child checks before it is polled, and the wakers of the pending children, drained
//! from the registry and woken once the lock is released.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::sync::{EventListener, MutexGuard, Ordering};
use std::task::{Context, Poll, Waker};

use super::{Core, Inner, CANCELLED};
use crate::registry::{Id, Key, Registered, Site};
use crate::snapshot::CancelCause;

impl Core {
    /// Tells whether the child `id` must stop before it is polled again.
    ///
    /// `seen_cancels` is the child's copy of `handle_cancels`; the lock is taken only when it
    /// changed since the child last looked.
    #[inline]
    pub(crate) fn stop_requested(&self, id: Id, shielded: bool, seen_cancels: &mut u32) -> bool {
        // ORDERING: Acquire pairs with the Release of `cancel_locked` and `cancel_child`.
        // Missing a store that races with this poll is fine: the canceller then finds this
        // child's waker and wakes it, or `register` sees the request under the lock.
        if !shielded && self.flags.load(Ordering::Acquire) & CANCELLED != 0 {
            return true;
        }
        let cancels = self.handle_cancels.load(Ordering::Acquire);
        if cancels == *seen_cancels {
            return false;
        }
        *seen_cancels = cancels;
        self.lock().registry.take_cancelled(id)
    }

    /// Stores the waker of a child that returned `Pending` for the first time, so that a
    /// cancellation can wake it, and returns the child's registry key; or says that the child
    /// was cancelled meanwhile and must stop now instead, or that the registry is full.
    ///
    /// A child's wrapper is only ever polled by its own executor task, whose waker never
    /// changes, so one registration is enough.
    pub(crate) fn register(&self, id: Id, waker: &Waker, shielded: bool, site: Site) -> Registered {
        let mut inner = self.lock();
        if (inner.cancel.is_some() && !shielded) || inner.registry.take_cancelled(id) {
            return Registered::Stopped;
        }
        let since = self.time_now();
        inner.registry.insert(id, waker, shielded, site, since)
    }

    /// Stores or refreshes the waker of a scope's body, which is polled by whatever task
    /// awaits the scope and so may change wakers; or says that the body was cancelled
    /// meanwhile and must stop now, or that the registry is full.
    pub(crate) fn register_body(
        &self,
        id: Id,
        key: Option<Key>,
        waker: &Waker,
        site: Site,
    ) -> Registered {
        let mut inner = self.lock();
        if inner.cancel.is_some() || inner.registry.take_cancelled(id) {
            return Registered::Stopped;
        }
        let (old, key) = match key {
            Some(key) => (inner.registry.refresh(id, key, waker.clone()), key),
            None => {
                let since = self.time_now();
                return inner.registry.insert(id, waker, false, site, since);
            }
        };
        drop(inner);
        drop(old);
        Registered::Listed(key)
    }

    /// Cancels every non-shielded child. Does nothing if the nursery is closed or was already
    /// cancelled.
    pub(crate) fn cancel(&self, reason: CancelCause) {
        if self.is_cancelled() || self.is_closed() {
            return;
        }
        let inner = self.lock();
        self.cancel_locked(inner, reason);
    }

    /// Cancels with the lock held, then releases it and wakes the children (invariant 4).
    pub(super) fn cancel_locked(&self, mut inner: MutexGuard<'_, Inner>, reason: CancelCause) {
        if inner.cancel.is_some() || self.is_closed() {
            return;
        }
        inner.cancel = Some(reason);
        inner.cancelled_at = Some(std::time::Instant::now());
        // ORDERING: Release publishes `inner.cancel`; see `stop_requested`.
        self.flags.fetch_or(CANCELLED, Ordering::Release);
        let wakers = inner.registry.drain_unshielded();
        drop(inner);
        for waker in wakers {
            waker.wake();
        }
        self.stopped.notify(usize::MAX);
    }

    /// Forgets the handle cancellation of a child that has finished: called by the handle that
    /// asked for it, which may see the child's end before the child saw the request.
    pub(crate) fn forget_cancel(&self, id: Id) {
        self.lock().registry.forget_cancel(id);
    }

    /// How many handle requests and pending entries the registry holds.
    #[cfg(test)]
    pub(crate) fn registry_footprint(&self) -> (usize, usize) {
        self.lock().registry.footprint()
    }

    /// Lists at most `max` waiting children, for tests of a full registry.
    #[cfg(test)]
    pub(crate) fn limit_registry(&self, max: usize) {
        self.lock().registry.set_max_pending(max);
    }

    /// Cancels one child, named by its id, even a shielded one.
    pub(crate) fn cancel_child(&self, id: Id) {
        let waker = {
            let mut inner = self.lock();
            if self.is_closed() && self.is_empty() {
                return;
            }
            // ORDERING: Release publishes the request; see `stop_requested`.
            self.handle_cancels.fetch_add(1, Ordering::Release);
            inner.registry.cancel(id)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A future that resolves once a nursery has been cancelled, for any reason, or closed: what
/// [`Nursery::cancelled`](crate::Nursery::cancelled) and
/// [`NurseryHandle::cancelled`](crate::NurseryHandle::cancelled) return.
///
/// It owns what it needs (it borrows neither the nursery nor the handle), so a shielded child
/// can race it against its work to wind down on its own.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::Nursery;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::<()>::new(&ex);
///     let stopping = nursery.cancelled();
///     nursery.cancel();
///     stopping.await; // resolves: the nursery was cancelled
///     nursery.join().await.unwrap();
/// }));
/// ```
///
/// # Cancel safety
///
/// Cancel safe: dropping it changes nothing, and a new one resolves under the same conditions.
#[must_use = "futures do nothing unless awaited"]
pub struct Cancelled {
    /// The nursery's core.
    core: Arc<Core>,
    /// Registered before the last check of the nursery's state, so no notification is missed.
    listener: Option<EventListener>,
}

impl Cancelled {
    /// A future that waits for the cancellation or the closing of `core`'s nursery.
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Cancelled {
            core,
            listener: None,
        }
    }
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.core.is_cancelled() || self.core.is_closed() {
                self.listener = None;
                return Poll::Ready(());
            }
            match self.listener.as_mut() {
                None => self.listener = Some(self.core.stopped_listener()),
                Some(listener) => {
                    futures_lite::ready!(Pin::new(listener).poll(cx));
                    self.listener = None;
                }
            }
        }
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("cancelled", &self.core.is_cancelled())
            .field("closed", &self.core.is_closed())
            .finish()
    }
}
