//! The part of a nursery that does not depend on its children's types.
//!
//! `Core` counts the children, keeps the wakers of the pending ones, the cancellation state,
//! the deadline and the first panic. It is shared by the nursery, its handles, every child's
//! wrapper and every [`TaskHandle`](crate::TaskHandle), which is why it has no type parameters.
//!
//! # Invariants
//!
//! 1. `started - finished` (low 63 bits of `started`) is the number of unfinished children: a
//!    child counts from `start` until its wrapper has dropped its future. `join` closes the
//!    nursery only when that number is zero.
//! 2. Once the `CLOSED` bit of `started` is set, no child is ever started again.
//! 3. Once the nursery is cancelled it stays cancelled, and every non-shielded unfinished
//!    child either has had its waker taken and woken, or sees the flag before it is polled
//!    again (it checks before every poll, and `register` checks under the lock).
//! 4. No user code runs while `inner` is locked: wakers are woken, and values of user types
//!    dropped, only after the guard is released.
//!
//! Starting a child is one `fetch_add` on `started` and one load of `flags` (a child started
//! after the deadline fired takes the lock to record the timeout), and the new child loads
//! `handle_cancels` once. A child takes the lock only if it returns `Pending` (once, to store
//! its waker), then once more when it finishes, and when `handle_cancels` moved since it last
//! looked.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::error::NurseryClosed;
use crate::registry::{Id, Key, Registry};
use crate::snapshot::CancelCause;
use crate::sync::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Event, EventListener, Mutex, MutexGuard,
    Ordering, PoisonError,
};
use tree::Parent;

mod adopt;
mod cancel;
mod deadline;
mod snapshot;
mod tree;

pub use cancel::Cancelled;
use deadline::Deadline;
pub(crate) use tree::enter;

/// A panic payload, as `catch_unwind` returns it.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// Bit of `Core::started`: the nursery is closed.
const CLOSED: u64 = 1 << 63;

/// Bit of `Core::flags`: the nursery has been cancelled.
const CANCELLED: usize = 1;
/// Bit of `Core::flags`: the deadline has fired.
const FIRED: usize = 2;
/// Bit of `Core::flags`: `join` returned; every child has finished.
const JOINED: usize = 4;
/// Bit of `Core::flags`: the nursery was dropped before `join` finished.
const DROPPED: usize = 8;
/// Bit of `Core::flags`: a child's panic is kept and nobody has taken it yet.
const PANICKED: usize = 16;

/// What `join` takes from the core when it closes the nursery.
pub(crate) struct Closing {
    /// The first panic of a child, to resume in the joiner.
    pub(crate) panic: Option<Panic>,
    /// The deadline's budget, if it passed while a child was unfinished.
    pub(crate) timed_out: Option<Duration>,
    /// The deadline timer, to drop once the lock is released.
    pub(crate) deadline: Option<Deadline>,
}

/// The bookkeeping shared by a nursery and everything that refers to it.
pub(crate) struct Core {
    /// This core, for the nurseries opened inside its children to link to.
    me: Weak<Core>,
    /// The nursery whose child was being polled when this one was created; fixed at creation,
    /// even if the nursery is moved out of that child.
    parent: Option<Parent>,
    /// The limit the nursery was built with, for snapshots.
    limit: Option<usize>,
    /// The nursery was asked for a snapshot (or its parent was, when it was created): from
    /// then on, children note when they first wait, for the ages a snapshot shows. Until
    /// then, nothing is spent on it.
    timed: AtomicBool,
    /// How many dropped descendants this nursery adopted and still waits for. Each also counts
    /// in `started` (so `join` waits) but not in `len()`.
    adopted: AtomicU64,
    /// How many children were ever started (the next child's id), plus the `CLOSED` bit.
    /// Only the nursery's owner, which cannot race with `join`, uses a plain `fetch_add`;
    /// handles use a compare-and-swap that fails once `CLOSED` is set.
    started: AtomicU64,
    /// How many children have finished.
    finished: AtomicU64,
    /// `CANCELLED`, `FIRED`, `JOINED`, `DROPPED` and `PANICKED`: set under the lock after `inner` is updated, read
    /// without it.
    flags: AtomicUsize,
    /// Bumped (under the lock) by every `TaskHandle::cancel`. A child looks up its own id
    /// only when this changed since it last looked; otherwise it never takes the lock to poll.
    handle_cancels: AtomicU32,
    /// Notified when the last unfinished child finishes; `join` waits on it.
    idle: Event,
    /// For a `NurserySet`: the results of its children that nobody has read yet (0 for a
    /// nursery). Changed under the set's lock of results; read for `len` and snapshots.
    unread: AtomicUsize,
    /// Notified when the nursery is cancelled or closed; [`Cancelled`] waits on it. Costs
    /// nothing until someone listens.
    stopped: Event,
    /// Everything else, under one lock. See the module's invariants.
    inner: Mutex<Inner>,
}

/// The locked part of [`Core`].
struct Inner {
    /// The pending children and the handle cancellations.
    registry: Registry,
    /// Why the nursery was cancelled, if it was (invariant 3).
    cancel: Option<CancelCause>,
    /// When it was cancelled: graced children count their grace from then.
    cancelled_at: Option<std::time::Instant>,
    /// The armed deadline, if any. Dropped when it fires or when the nursery closes.
    deadline: Option<Deadline>,
    /// Set when the deadline fired: the budget it had.
    fired: Option<Duration>,
    /// Set when the deadline fired while a child was unfinished, or a child was started after
    /// it fired: `join` reports a timeout. Holds the deadline's budget.
    timed_out: Option<Duration>,
    /// The first panic of any child; later ones are dropped.
    panic: Option<Panic>,
    /// The nurseries opened inside this nursery's children, and those it adopted, for
    /// snapshots. Pruned of dead entries when it doubles, so it follows the live ones.
    nested: Vec<adopt::Nested>,
    /// `nested` is pruned when it reaches this length.
    prune_at: usize,
    /// Once this nursery was dropped and adopted: the adopter and the id its adoption counts
    /// under there. Taken exactly once, by whoever sees the last child finish.
    adopter: Option<(Arc<Core>, Id)>,
}

impl Core {
    /// Creates the core of an open, empty nursery.
    pub(crate) fn new(limit: Option<usize>) -> Arc<Core> {
        let parent = tree::current();
        let timed = parent
            .as_ref()
            .is_some_and(|parent| parent.core.timed.load(Ordering::Relaxed));
        let core = Arc::new_cyclic(|me| Core {
            me: me.clone(),
            parent,
            limit,
            timed: AtomicBool::new(timed),
            adopted: AtomicU64::new(0),
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            flags: AtomicUsize::new(0),
            handle_cancels: AtomicU32::new(0),
            idle: Event::new(),
            unread: AtomicUsize::new(0),
            stopped: Event::new(),
            inner: Mutex::new(Inner {
                registry: Registry::default(),
                cancel: None,
                cancelled_at: None,
                deadline: None,
                fired: None,
                timed_out: None,
                panic: None,
                nested: Vec::new(),
                prune_at: adopt::PRUNE_AT_LEAST,
                adopter: None,
            }),
        });
        tree::add(&core);
        if let Some(parent) = &core.parent {
            parent.core.add_nested(&core, Some(parent.child));
        }
        core
    }

    /// The time a child starts to wait, if this nursery keeps time (see `timed`).
    #[inline]
    pub(crate) fn time_now(&self) -> u32 {
        // ORDERING: a hint; a child that misses the first snapshot's store has no age.
        if self.timed.load(Ordering::Relaxed) {
            crate::clock::now_ms()
        } else {
            crate::clock::UNKNOWN
        }
    }

    /// This core, shared.
    pub(crate) fn arc(&self) -> Option<Arc<Core>> {
        self.me.upgrade()
    }

    /// Locks `inner`. No panic happens under this lock, and the state would be consistent if
    /// one did, so poisoning is ignored.
    #[inline]
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of unfinished children.
    pub(crate) fn len(&self) -> usize {
        // ORDERING: a snapshot; `finished` is read first so that the difference never
        // underflows (a child is started before it finishes).
        let finished = self.finished.load(Ordering::Acquire);
        let adopted = self.adopted.load(Ordering::Acquire);
        let started = self.started.load(Ordering::Acquire) & !CLOSED;
        started.saturating_sub(finished).saturating_sub(adopted) as usize
    }

    /// The nursery has been cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `cancel_locked`.
        self.flags.load(Ordering::Acquire) & CANCELLED != 0
    }

    /// The nursery is closed.
    pub(crate) fn is_closed(&self) -> bool {
        // ORDERING: Acquire pairs with the compare-and-swap that sets `CLOSED`.
        self.started.load(Ordering::Acquire) & CLOSED != 0
    }

    /// `join` has returned: every child has finished.
    pub(crate) fn is_joined(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `try_close`, which follows every child's
        // `finish`.
        self.flags.load(Ordering::Acquire) & JOINED != 0
    }

    /// Why the nursery was cancelled, if it was.
    pub(crate) fn cancel_reason(&self) -> Option<CancelCause> {
        self.lock().cancel
    }

    /// Counts a child started by the nursery's owner and returns its id. The owner's nursery
    /// cannot be closed: only `join` and `Drop` close it, and both consume it.
    #[inline]
    pub(crate) fn start_owned(&self) -> Id {
        // ORDERING: AcqRel orders the start before the child's own accesses; `finish` reads
        // it with Acquire.
        let id = self.started.fetch_add(1, Ordering::AcqRel) & !CLOSED;
        self.note_late_start();
        id
    }

    /// Counts a child started through a handle and returns its id, unless the nursery is
    /// closed.
    pub(crate) fn start_shared(&self) -> Result<Id, NurseryClosed> {
        let id = self.count_shared()?;
        self.note_late_start();
        Ok(id)
    }

    /// Counts one more unfinished child unless the nursery is closed, and returns its id.
    fn count_shared(&self) -> Result<Id, NurseryClosed> {
        let mut started = self.started.load(Ordering::Acquire);
        loop {
            if started & CLOSED != 0 {
                return Err(NurseryClosed);
            }
            // ORDERING: as in `start_owned`; the compare-and-swap cannot succeed once `CLOSED`
            // is set (invariant 2).
            match self.started.compare_exchange_weak(
                started,
                started + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(started),
                Err(now) => started = now,
            }
        }
    }

    /// A child started after the deadline fired runs past it (or never runs): `join` reports
    /// a timeout.
    #[inline]
    fn note_late_start(&self) {
        if self.flags.load(Ordering::Acquire) & FIRED != 0 {
            let mut inner = self.lock();
            if inner.timed_out.is_none() {
                inner.timed_out = inner.fired;
            }
        }
    }

    /// The current count of handle cancellations, for a new child.
    #[inline]
    pub(crate) fn handle_cancels(&self) -> u32 {
        // ORDERING: a starting value; a child that misses a concurrent bump is woken by it.
        self.handle_cancels.load(Ordering::Relaxed)
    }

    /// Counts a child as finished once its future has been dropped, and wakes `join` if it
    /// was the last one. `key` is the child's registry key, if it registered; `seen_cancels`
    /// tells whether a handle may have left a cancellation for it.
    #[inline]
    pub(crate) fn finish(&self, id: Id, key: Option<Key>, shielded: bool, seen_cancels: u32) {
        // ORDERING: for `flags`, Relaxed suffices: the cancellation that drained a non-shielded
        // child's entry set `CANCELLED` under the lock before draining, so a child that sees
        // the flag has no entry left to remove. For `handle_cancels`, a stale value makes the
        // child skip the lock while a `TaskHandle::cancel` that raced its end may have left its
        // id in the registry; the handle that asked removes it once it sees the child finished
        // (registry invariant 2), so nothing outlives the child for longer than that.
        let maybe_cancelled = self.handle_cancels.load(Ordering::Relaxed) != seen_cancels;
        let drained = !shielded && self.flags.load(Ordering::Relaxed) & CANCELLED != 0;
        if (key.is_some() && !drained) || maybe_cancelled {
            let waker = self.lock().registry.remove(id, key);
            // The waker is dropped here, after the lock is released (invariant 4).
            drop(waker);
        }
        // ORDERING: AcqRel publishes everything the child did (its recorded error or panic)
        // to whoever sees the count reach `started` with Acquire.
        let finished = self.finished.fetch_add(1, Ordering::AcqRel) + 1;
        if finished == self.started.load(Ordering::Acquire) & !CLOSED {
            self.idle.notify(usize::MAX);
            // ORDERING: of the last child's end (this increment, then this fence, then the
            // load of `DROPPED`) and the nursery's drop (the store of `DROPPED`, then the
            // fence in `find_adopter`, then its load of `finished`), at least one sees the
            // other: otherwise neither releases the adopter, and the adopter's `join` waits
            // forever. Acquire/Release alone allow that (a store-buffering race, found by the
            // loom model `adoption_races_the_parents_close`). Paid only when the nursery
            // becomes empty.
            fence(Ordering::SeqCst);
            if self.flags.load(Ordering::Acquire) & DROPPED != 0 {
                // The last child of a dropped nursery: its adopter stops waiting for it.
                self.release_adopter();
            }
        }
    }

    /// Keeps the first panic of a child for `join`; later ones, and any that arrive after the
    /// nursery closed, are dropped.
    pub(crate) fn record_panic(&self, panic: Panic) {
        let rejected = {
            let mut inner = self.lock();
            if self.is_closed() || inner.panic.is_some() {
                Some(panic)
            } else {
                inner.panic = Some(panic);
                // ORDERING: Release, under the lock, after the panic is stored; read by
                // `panic_pending`, which takes the lock before it takes the panic.
                self.flags.fetch_or(PANICKED, Ordering::Release);
                None
            }
        };
        if let Some(panic) = rejected {
            drop_quietly(panic);
        }
    }

    /// Closes the nursery if no child is unfinished, handing `join` what it reports.
    pub(crate) fn try_close(&self) -> Option<Closing> {
        let mut inner = self.lock();
        let started = self.started.load(Ordering::Acquire);
        if started & CLOSED == 0 {
            if self.finished.load(Ordering::Acquire) != started {
                return None;
            }
            // ORDERING: fails if a handle started a child since the load above; AcqRel makes
            // the close visible to `start_shared` and `is_closed`.
            if self
                .started
                .compare_exchange(
                    started,
                    started | CLOSED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_err()
            {
                return None;
            }
        }
        // ORDERING: Release publishes the end of every child to `is_joined`.
        self.flags.fetch_or(JOINED, Ordering::Release);
        inner.registry.clear_cancelled();
        self.flags.fetch_and(!PANICKED, Ordering::Relaxed);
        let closing = Closing {
            panic: inner.panic.take(),
            timed_out: inner.timed_out,
            deadline: inner.deadline.take(),
        };
        drop(inner);
        self.stopped.notify(usize::MAX);
        Some(closing)
    }

    /// Polls for the moment no child is unfinished, then closes the nursery. `listener` is
    /// the caller's slot for the listener that waits for the last child.
    pub(crate) fn poll_close(
        &self,
        listener: &mut Option<EventListener>,
        cx: &mut Context<'_>,
    ) -> Poll<Closing> {
        loop {
            if let Some(closing) = self.try_close() {
                *listener = None;
                return Poll::Ready(closing);
            }
            match listener.as_mut() {
                // Listen, then check again before waiting: the last child may have finished
                // in between.
                None => *listener = Some(self.idle.listen()),
                Some(waiting) => {
                    futures_lite::ready!(Pin::new(waiting).poll(cx));
                    *listener = None;
                }
            }
        }
    }

    /// The nursery was dropped before `join` finished: cancel the non-shielded children, close
    /// it, and drop what nobody will ever read.
    pub(crate) fn abandon(&self) {
        self.cancel(CancelCause::Dropped);
        let (deadline, panic) = {
            let mut inner = self.lock();
            // ORDERING: Release, read with Acquire by `finish` and by descendants looking
            // for an adopter.
            self.flags.fetch_or(DROPPED, Ordering::Release);
            // ORDERING: AcqRel, as in `try_close`. Nobody else closes this nursery.
            self.started.fetch_or(CLOSED, Ordering::AcqRel);
            self.flags.fetch_and(!PANICKED, Ordering::Relaxed);
            (inner.deadline.take(), inner.panic.take())
        };
        self.stopped.notify(usize::MAX);
        self.find_adopter();
        drop(deadline);
        if let Some(panic) = panic {
            drop_quietly(panic);
        }
    }

    /// A child's panic is kept that nobody has taken yet.
    pub(crate) fn panic_pending(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `record_panic`.
        self.flags.load(Ordering::Acquire) & PANICKED != 0
    }

    /// Takes the first panic of a child, if it is still kept: a set resumes it in `next()`.
    pub(crate) fn take_panic(&self) -> Option<Panic> {
        let mut inner = self.lock();
        self.flags.fetch_and(!PANICKED, Ordering::Relaxed);
        inner.panic.take()
    }

    /// A listener for the moment the last unfinished child finishes.
    pub(crate) fn idle_listener(&self) -> EventListener {
        self.idle.listen()
    }

    /// The results of a set's children that nobody has read yet.
    pub(crate) fn unread(&self) -> usize {
        self.unread.load(Ordering::Acquire)
    }

    /// Counts results of a set's children that arrived (`delta` > 0) or were read or dropped.
    pub(crate) fn add_unread(&self, delta: isize) {
        // ORDERING: a count for `len` and snapshots; the results themselves are under the
        // set's lock.
        if delta >= 0 {
            self.unread.fetch_add(delta as usize, Ordering::Release);
        } else {
            self.unread
                .fetch_sub(delta.unsigned_abs(), Ordering::Release);
        }
    }

    /// A listener for the nursery's cancellation or closing.
    pub(crate) fn stopped_listener(&self) -> EventListener {
        self.stopped.listen()
    }

    /// When the nursery was cancelled, if it was.
    pub(crate) fn cancelled_at(&self) -> Option<std::time::Instant> {
        if !self.is_cancelled() {
            return None;
        }
        self.lock().cancelled_at
    }

    /// Returns `true` if every child has finished.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        tree::remove(self);
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
/// async-task's abort-on-panic guard, or after the panic has nowhere to go). The panic has
/// already reached the panic hook; its payload is dropped too, and only if dropping the payload
/// panics again is that second payload forgotten rather than risk an endless chain.
pub(crate) fn drop_quietly<T>(value: T) {
    if !std::mem::needs_drop::<T>() {
        return;
    }
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if let Err(nested) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(nested);
        }
    }
}
