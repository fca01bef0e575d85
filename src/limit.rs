//! Admission under a limit: at most `k` children of a nursery run at once.
//!
//! A nursery built without a limit has no [`Limiter`] and never reaches this module: its
//! children are spawned at once and take no lock here.
//!
//! With a limit, a child takes a *permit* before it is spawned. When none is free, the child
//! is not spawned: its wrapper waits, boxed, in a FIFO queue, and its [`TaskHandle`] waits on an
//! `Admission` (in `task.rs`) for the executor task that admission will create. When a running child ends
//! (or a reserved slot is dropped), its permit passes straight to the first queued child, or
//! else to the first waiting `reserve`, or else goes back. Each step is O(1).
//!
//! # Invariants
//!
//! 1. `held` counts the permits in use: children spawned under the limit and not finished,
//!    plus slots handed out, plus a set's unread results. `held <= limit`, but see 4.
//! 2. The queue is non-empty only while `held == limit`: a freed permit goes to the queue first.
//! 3. Reservers are served only when the queue is empty, in the order they began waiting.
//! 4. A set's unread results hold permits too (`hold_for_result`): `held` may exceed the
//!    limit while a child whose result arrived has not finished yet; a permit released then
//!    goes back instead of on. So running children plus unread results stay at most `limit`.
//!
//! [`TaskHandle`]: crate::TaskHandle

use std::cell::Cell;
use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::task::Waker;

use crate::sync::{thread_locals, Mutex, MutexGuard, PoisonError};

/// The admission state of a nursery with a limit.
///
/// `A` is a queued child (`ExecutorKind::Admit`): called with the nursery's executor, it admits
/// the child (spawns it, holding the permit it was handed) and returns `false` if the executor
/// was gone and the child was dropped instead.
pub(crate) struct Limiter<A> {
    /// At most this many permits are held at once.
    limit: NonZeroUsize,
    /// See the module's invariants. Never held while user code runs: queued children are
    /// admitted, and reservers woken, once the guard is released.
    state: Mutex<LimitState<A>>,
}

/// The locked part of a [`Limiter`].
pub(crate) struct LimitState<A> {
    /// Permits in use (invariant 1).
    held: usize,
    /// Children waiting for a permit, in start order (invariant 2).
    queue: VecDeque<A>,
    /// `reserve` calls waiting for a permit, in the order they began waiting (invariant 3).
    reservers: VecDeque<Arc<Grant>>,
}

thread_locals! {
    /// The address of the limiter this thread is admitting a queued child for, or 0: a permit
    /// of that limiter released meanwhile on this thread is the one being handed over,
    /// returned because the executor is gone and the child was dropped.
    static ADMITTING: Cell<usize> = Cell::new(0);
    /// Set when such a permit came back.
    static RETURNED: Cell<bool> = Cell::new(false);
}

impl<A> Limiter<A> {
    /// A limiter with `limit` permits, all free.
    pub(crate) fn new(limit: NonZeroUsize) -> Self {
        Limiter {
            limit,
            state: Mutex::new(LimitState {
                held: 0,
                queue: VecDeque::new(),
                reservers: VecDeque::new(),
            }),
        }
    }

    /// The limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit.get()
    }

    /// Locks the state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, LimitState<A>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands a freed permit on: to the first queued child (which `admit` admits), else to the
    /// first reserver, else back. Admitting happens after the lock is released.
    pub(crate) fn release(&self, mut admit: impl FnMut(A) -> bool) {
        let me = self as *const Self as usize;
        if ADMITTING.with(Cell::get) == me {
            // The child being admitted on this thread was dropped (the executor is gone): the
            // permit goes back to the loop below, which passes it on.
            RETURNED.with(|returned| returned.set(true));
            return;
        }
        loop {
            let mut state = self.lock();
            if state.held > self.limit() {
                // More are held than the limit allows: a set's finishing child whose result
                // holds a permit of its own (`hold_for_result`). There is no room to hand on.
                state.held -= 1;
                return;
            }
            if let Some(queued) = state.queue.pop_front() {
                drop(state);
                let outer = ADMITTING.with(|admitting| admitting.replace(me));
                RETURNED.with(|returned| returned.set(false));
                let spawned = admit(queued);
                ADMITTING.with(|admitting| admitting.set(outer));
                if spawned && !RETURNED.with(Cell::get) {
                    return;
                }
                continue;
            }
            if let Some(grant) = state.reservers.pop_front() {
                drop(state);
                if grant.give() {
                    return;
                }
                continue;
            }
            state.held -= 1;
            return;
        }
    }
}

impl<A> LimitState<A> {
    /// A result of a set's child arrives while its child still holds a permit: the result
    /// holds one of its own until it is read, and the child's, released when it finishes, is
    /// then not handed on (invariant 4). May make `held` exceed the limit by the finishing
    /// children.
    pub(crate) fn hold_for_result(&mut self) {
        self.held += 1;
    }

    /// Takes a permit for a new child, if one is free and no child waits before it.
    pub(crate) fn try_take_for_child(&mut self, limit: usize) -> bool {
        if self.held < limit && self.queue.is_empty() {
            self.held += 1;
            true
        } else {
            false
        }
    }

    /// Takes a permit for a slot, if the unfinished children plus the slots are below the
    /// limit and no earlier reserver waits.
    pub(crate) fn try_take_for_slot(&mut self, limit: usize) -> bool {
        if self.reservers.is_empty() && self.held + self.queue.len() < limit {
            self.held += 1;
            true
        } else {
            false
        }
    }

    /// Permits in use, for the loom models.
    #[cfg(all(test, smol_nursery_loom))]
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Queues a child until a permit is handed to it.
    pub(crate) fn queue(&mut self, admit: A) {
        self.queue.push_back(admit);
    }

    /// Queues a reserver until a permit is handed to it.
    pub(crate) fn wait_for_slot(&mut self, grant: Arc<Grant>) {
        self.reservers.push_back(grant);
    }

    /// Forgets a reserver that gave up; returns `false` if it was already served.
    pub(crate) fn forget_reserver(&mut self, grant: &Arc<Grant>) -> bool {
        match self.reservers.iter().position(|g| Arc::ptr_eq(g, grant)) {
            Some(at) => {
                self.reservers.remove(at);
                true
            }
            None => false,
        }
    }
}

/// A permit handed to a waiting `reserve`.
#[derive(Default)]
pub(crate) struct Grant {
    /// See [`GrantState`].
    state: Mutex<GrantState>,
}

/// Where a waiting `reserve` stands.
#[derive(Default)]
enum GrantState {
    /// Waiting; holds the waker of the task awaiting `reserve`, once it polled.
    #[default]
    Waiting,
    /// Waiting, with a waker.
    Registered(Waker),
    /// A permit was handed over; the `reserve` future owns it now.
    Granted,
    /// The `reserve` future was dropped while queued: a permit offered now is refused.
    Abandoned,
}

impl Grant {
    /// Locks the state.
    fn lock(&self) -> MutexGuard<'_, GrantState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers a permit; returns `false` if the reserver is gone (the permit stays with the
    /// caller).
    fn give(&self) -> bool {
        let mut state = self.lock();
        let waker = match std::mem::replace(&mut *state, GrantState::Granted) {
            GrantState::Waiting => None,
            GrantState::Registered(waker) => Some(waker),
            GrantState::Abandoned => {
                *state = GrantState::Abandoned;
                return false;
            }
            GrantState::Granted => unreachable!("a permit is offered once"),
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Tells whether a permit was handed over; otherwise keeps `waker` to be woken when it is.
    pub(crate) fn poll_granted(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        match &mut *state {
            GrantState::Granted => true,
            GrantState::Registered(old) if old.will_wake(waker) => false,
            _ => {
                *state = GrantState::Registered(waker.clone());
                false
            }
        }
    }

    /// The reserver gives up; returns `true` if it holds a permit that it must release.
    pub(crate) fn abandon(&self) -> bool {
        let mut state = self.lock();
        matches!(
            std::mem::replace(&mut *state, GrantState::Abandoned),
            GrantState::Granted
        )
    }
}
