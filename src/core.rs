//! The part of a nursery that does not depend on its children's types.
//!
//! `Core` keeps one entry per unfinished child, the cancellation state, the deadline and the
//! first panic. It is shared by the nursery, its handles, every child's wrapper and every
//! [`TaskHandle`](crate::TaskHandle), which is why it carries no type parameters.
//!
//! # Invariants
//!
//! 1. A child has an entry from the moment it is started until its wrapper has dropped the
//!    child's future; `children.len()` is therefore the number of children whose code may still
//!    run, and `join` closes the nursery only when it is zero.
//! 2. Once `closed` is set no entry is ever added again.
//! 3. Once `cancel` is set it never changes back, and every non-shielded entry either has had
//!    its waker taken and woken or will see the flag before its child is polled again.
//! 4. No user code runs while `inner` is locked: wakers are taken out and woken, and values of
//!    user types dropped, only after the guard is released.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use async_io::Timer;
use event_listener::{Event, EventListener};

use crate::error::NurseryClosed;
use crate::slab::Slab;

/// A panic payload, as `catch_unwind` returns it.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// Bit of `Core::flags`: the nursery has been cancelled.
const CANCELLED: usize = 1;
/// Bit of `Core::flags`: the nursery is closed; no child can be added.
const CLOSED: usize = 2;

/// How many wakers `cancel` takes out under one hold of the lock.
const WAKE_BATCH: usize = 64;

/// Why a nursery was cancelled. The first reason is kept (trio keeps the cause apart from how
/// the cancellation spreads to the children).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CancelReason {
    /// `cancel()` was called on the nursery or one of its handles.
    Explicit,
    /// A child returned `Err` or panicked.
    Failure,
    /// The deadline passed.
    Deadline,
    /// The nursery, or its `join` future, was dropped before `join` finished.
    Dropped,
}

/// What `Core::insert` hands to a new child and its handle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    /// The child's slot in `Inner::children`.
    pub(crate) key: usize,
    /// Tells this child apart from later children that reuse the same slot.
    pub(crate) generation: u64,
    /// `Core::handle_cancels` when the child was started.
    pub(crate) seen_cancels: usize,
}

/// What `join` takes from the core when it closes the nursery.
pub(crate) struct Closing {
    /// The first panic of a child, to resume in the joiner.
    pub(crate) panic: Option<Panic>,
    /// The deadline passed while a child was still running; holds the deadline's budget.
    pub(crate) timed_out: Option<Duration>,
    /// The deadline timer, to drop once the lock is released.
    pub(crate) deadline: Option<Deadline>,
}

/// The bookkeeping shared by a nursery and everything that refers to it.
pub(crate) struct Core {
    /// `CANCELLED` and `CLOSED`, mirrored from `inner` so that children and predicates can read
    /// them without the lock. Set under the lock, after `inner` is updated.
    flags: AtomicUsize,
    /// Number of unfinished children, mirrored from `inner.children.len()` under the lock.
    live: AtomicUsize,
    /// Bumped (under the lock) whenever `TaskHandle::cancel` marks a single child. A child that
    /// sees a new value looks at its own entry; otherwise it never takes the lock to poll.
    handle_cancels: AtomicUsize,
    /// Notified when the last unfinished child finishes; `join` waits on it.
    idle: Event,
    /// Everything else, under one lock. See the module's invariants.
    inner: Mutex<Inner>,
}

/// The locked part of [`Core`].
struct Inner {
    /// One entry per unfinished child (invariant 1).
    children: Slab<Entry>,
    /// Generation for the next child.
    next_generation: u64,
    /// Why the nursery was cancelled, if it was (invariant 3).
    cancel: Option<CancelReason>,
    /// The nursery is closed (invariant 2).
    closed: bool,
    /// The armed deadline, if any. Dropped when it fires or when the nursery closes.
    deadline: Option<Deadline>,
    /// Set when the deadline fired: the budget it had.
    fired: Option<Duration>,
    /// Set when the deadline fired while a child was unfinished, or a child was started after
    /// it fired: `join` reports a timeout. Holds the deadline's budget.
    timed_out: Option<Duration>,
    /// The first panic of any child; later ones are dropped.
    panic: Option<Panic>,
}

/// The entry of one unfinished child.
struct Entry {
    /// The waker of the child's task, stored the first time the child returns `Pending`.
    /// Taken out when the child is cancelled, so that it is woken exactly once for that.
    waker: Option<Waker>,
    /// Copied from the child's [`Ticket`].
    generation: u64,
    /// The nursery-wide cancellation does not apply to this child.
    shielded: bool,
    /// This one child was cancelled through its `TaskHandle`.
    cancelled: bool,
}

/// An armed deadline.
pub(crate) struct Deadline {
    /// When it fires.
    at: Instant,
    /// How far ahead it was set, for error messages.
    budget: Duration,
    /// The timer, registered with a [`DeadlineWaker`]. Dropping it deregisters it.
    timer: Timer,
}

/// Wakes the nursery when its deadline timer fires. Holds the core weakly: the timer lives in
/// the core, so a strong reference would be a cycle.
struct DeadlineWaker(Weak<Core>);

impl Wake for DeadlineWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(core) = self.0.upgrade() {
            core.deadline_woke();
        }
    }
}

impl Core {
    /// Creates the core of an open, empty nursery.
    pub(crate) fn new() -> Arc<Core> {
        Arc::new(Core {
            flags: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            handle_cancels: AtomicUsize::new(0),
            idle: Event::new(),
            inner: Mutex::new(Inner {
                children: Slab::new(),
                next_generation: 0,
                cancel: None,
                closed: false,
                deadline: None,
                fired: None,
                timed_out: None,
                panic: None,
            }),
        })
    }

    /// Locks `inner`. A panic never happens under this lock, but if one did, the state would
    /// still be consistent, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of unfinished children.
    pub(crate) fn len(&self) -> usize {
        // ORDERING: a snapshot for the user; nothing is published through it.
        self.live.load(Ordering::Relaxed)
    }

    /// The nursery has been cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `cancel`, so a caller that sees the flag
        // also sees the reason.
        self.flags.load(Ordering::Acquire) & CANCELLED != 0
    }

    /// The nursery is closed.
    pub(crate) fn is_closed(&self) -> bool {
        // ORDERING: as in `is_cancelled`.
        self.flags.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Why the nursery was cancelled, if it was.
    pub(crate) fn cancel_reason(&self) -> Option<CancelReason> {
        self.lock().cancel
    }

    /// Adds an entry for a new child, unless the nursery is closed.
    pub(crate) fn insert(&self, shielded: bool) -> Result<Ticket, NurseryClosed> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(NurseryClosed);
        }
        if inner.fired.is_some() && inner.timed_out.is_none() {
            // The deadline has passed and a child still arrives: it runs past the deadline
            // (or never runs), which `join` reports as a timeout.
            inner.timed_out = inner.fired;
        }
        let generation = inner.next_generation;
        inner.next_generation += 1;
        let key = inner.children.insert(Entry {
            waker: None,
            generation,
            shielded,
            cancelled: false,
        });
        // ORDERING: written under the lock; readers only want a snapshot.
        self.live.store(inner.children.len(), Ordering::Relaxed);
        Ok(Ticket {
            key,
            generation,
            // ORDERING: bumps happen under the lock we hold, so this is exact.
            seen_cancels: self.handle_cancels.load(Ordering::Relaxed),
        })
    }

    /// Tells whether the child with this entry must stop before it is polled again.
    ///
    /// `seen_cancels` is the child's copy of `handle_cancels`; the lock is taken only when it
    /// changed since the child last looked.
    pub(crate) fn stop_requested(
        &self,
        key: usize,
        shielded: bool,
        seen_cancels: &mut usize,
    ) -> bool {
        // ORDERING: Acquire pairs with the Release stores of `cancel` and `cancel_child`. Missing
        // a store that is racing with this poll is fine: the canceller then finds this child's
        // waker and wakes it, or `register` sees the request under the lock.
        if !shielded && self.flags.load(Ordering::Acquire) & CANCELLED != 0 {
            return true;
        }
        let cancels = self.handle_cancels.load(Ordering::Acquire);
        if cancels == *seen_cancels {
            return false;
        }
        *seen_cancels = cancels;
        self.lock()
            .children
            .get_mut(key)
            .is_some_and(|entry| entry.cancelled)
    }

    /// Stores the waker of a child that returned `Pending` for the first time, so that a
    /// cancellation can wake it. Returns `true` if the child was cancelled meanwhile and must
    /// stop now instead.
    ///
    /// A child's wrapper is only ever polled by its own executor task, whose waker never
    /// changes, so one registration is enough.
    pub(crate) fn register(&self, key: usize, waker: &Waker) -> bool {
        let mut inner = self.lock();
        let nursery_cancelled = inner.cancel.is_some();
        let Some(entry) = inner.children.get_mut(key) else {
            return true;
        };
        if entry.cancelled || (nursery_cancelled && !entry.shielded) {
            return true;
        }
        entry.waker = Some(waker.clone());
        false
    }

    /// Removes the entry of a child whose future has been dropped; wakes `join` if it was the
    /// last one.
    pub(crate) fn finish(&self, key: usize) {
        let (entry, idle) = {
            let mut inner = self.lock();
            let entry = inner.children.remove(key);
            let len = inner.children.len();
            self.live.store(len, Ordering::Relaxed);
            (entry, len == 0)
        };
        // The waker is dropped here, after the lock is released (invariant 4).
        drop(entry);
        if idle {
            self.idle.notify(usize::MAX);
        }
    }

    /// Cancels every non-shielded child. Does nothing if the nursery is closed or was already
    /// cancelled.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        if self.is_cancelled() {
            return;
        }
        let mut inner = self.lock();
        if inner.closed || inner.cancel.is_some() {
            return;
        }
        inner.cancel = Some(reason);
        // ORDERING: Release publishes `inner.cancel`; see `stop_requested`.
        self.flags.fetch_or(CANCELLED, Ordering::Release);
        self.wake_unshielded(inner);
    }

    /// Takes the wakers of the non-shielded children out of their entries and wakes them, a
    /// batch at a time, never waking under the lock (invariant 4).
    ///
    /// Entries added while the lock is released belong to children that will see the
    /// cancellation themselves, on their first poll or in `register`.
    fn wake_unshielded<'a>(&'a self, mut inner: MutexGuard<'a, Inner>) {
        let mut batch: Vec<Waker> = Vec::new();
        let mut key = 0;
        loop {
            while key < inner.children.capacity() && batch.len() < WAKE_BATCH {
                if let Some(entry) = inner.children.get_mut(key) {
                    if !entry.shielded {
                        batch.extend(entry.waker.take());
                    }
                }
                key += 1;
            }
            let more = key < inner.children.capacity();
            drop(inner);
            for waker in batch.drain(..) {
                waker.wake();
            }
            if !more {
                return;
            }
            inner = self.lock();
        }
    }

    /// Cancels one child, named by its ticket, even a shielded one. Does nothing if that child
    /// has finished.
    pub(crate) fn cancel_child(&self, key: usize, generation: u64) {
        let waker = {
            let mut inner = self.lock();
            match inner.children.get_mut(key) {
                Some(entry) if entry.generation == generation && !entry.cancelled => {
                    entry.cancelled = true;
                    let waker = entry.waker.take();
                    // ORDERING: Release publishes `entry.cancelled`; see `stop_requested`.
                    self.handle_cancels.fetch_add(1, Ordering::Release);
                    waker
                }
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Tells whether the child with this ticket has finished (its entry is gone).
    pub(crate) fn child_finished(&self, key: usize, generation: u64) -> bool {
        !self
            .lock()
            .children
            .get_mut(key)
            .is_some_and(|entry| entry.generation == generation)
    }

    /// Keeps the first panic of a child for `join`; later ones, and any that arrive after the
    /// nursery closed, are dropped.
    pub(crate) fn record_panic(&self, panic: Panic) {
        let rejected = {
            let mut inner = self.lock();
            if inner.closed || inner.panic.is_some() {
                Some(panic)
            } else {
                inner.panic = Some(panic);
                None
            }
        };
        if let Some(panic) = rejected {
            drop_quietly(panic);
        }
    }

    /// Arms the deadline at `at`, unless an earlier one is armed or has fired, or the nursery
    /// is closed. `budget` is how far ahead of now it was asked for.
    pub(crate) fn set_deadline(self: &Arc<Self>, at: Instant, budget: Duration) {
        let replaced;
        let fired = {
            let mut inner = self.lock();
            if inner.closed || inner.fired.is_some() {
                return;
            }
            if inner.deadline.as_ref().is_some_and(|d| d.at <= at) {
                return;
            }
            replaced = inner.deadline.replace(Deadline {
                at,
                budget,
                timer: Timer::at(at),
            });
            let waker = Waker::from(Arc::new(DeadlineWaker(Arc::downgrade(self))));
            let deadline = inner.deadline.as_mut().expect("just armed");
            // Registers the waker with the reactor (async-io calls no waker from here).
            Pin::new(&mut deadline.timer)
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        };
        drop(replaced);
        if fired {
            self.fire_deadline();
        }
    }

    /// Called by the timer's waker.
    fn deadline_woke(&self) {
        let due = {
            let inner = self.lock();
            inner
                .deadline
                .as_ref()
                .is_some_and(|d| Instant::now() >= d.at)
        };
        if due {
            self.fire_deadline();
        }
    }

    /// The deadline passed: cancel the nursery for that reason, and remember whether it cut
    /// a child short.
    fn fire_deadline(&self) {
        let mut inner = self.lock();
        if inner.closed || inner.fired.is_some() {
            return;
        }
        let Some(deadline) = inner.deadline.take() else {
            return;
        };
        inner.fired = Some(deadline.budget);
        if inner.children.len() > 0 {
            inner.timed_out = inner.fired;
        }
        if inner.cancel.is_some() {
            drop(inner);
            drop(deadline);
            return;
        }
        inner.cancel = Some(CancelReason::Deadline);
        // ORDERING: as in `cancel`.
        self.flags.fetch_or(CANCELLED, Ordering::Release);
        self.wake_unshielded(inner);
        drop(deadline);
    }

    /// Closes the nursery if no child is unfinished, handing `join` what it reports.
    pub(crate) fn try_close(&self) -> Option<Closing> {
        let mut inner = self.lock();
        if inner.children.len() != 0 {
            return None;
        }
        Some(self.close_locked(&mut inner))
    }

    /// Waits until no child is unfinished, then closes the nursery.
    pub(crate) async fn close_when_idle(&self) -> Closing {
        loop {
            if let Some(closing) = self.try_close() {
                return closing;
            }
            let listener: EventListener = self.idle.listen();
            if let Some(closing) = self.try_close() {
                return closing;
            }
            listener.await;
        }
    }

    /// The nursery was dropped before `join` finished: cancel the non-shielded children, close
    /// it, and drop what nobody will ever read.
    pub(crate) fn abandon(&self) {
        self.cancel(CancelReason::Dropped);
        let closing = self.close_locked(&mut self.lock());
        drop(closing.deadline);
        if let Some(panic) = closing.panic {
            drop_quietly(panic);
        }
    }

    /// Sets `closed` and takes out what closing hands over.
    fn close_locked(&self, inner: &mut Inner) -> Closing {
        inner.closed = true;
        // ORDERING: Release publishes `closed` to `is_closed`.
        self.flags.fetch_or(CLOSED, Ordering::Release);
        Closing {
            panic: inner.panic.take(),
            timed_out: inner.timed_out,
            deadline: inner.deadline.take(),
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("len", &self.len())
            .field("cancelled", &self.is_cancelled())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Drops a value whose destructor is user code, where a panic must not escape (inside
/// async-task's abort-on-panic guard, or after the panic has nowhere to go). A panic has
/// already reached the panic hook; its payload is forgotten rather than dropped, because
/// dropping it could panic again.
pub(crate) fn drop_quietly<T>(value: T) {
    if !std::mem::needs_drop::<T>() {
        return;
    }
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        std::mem::forget(payload);
    }
}
