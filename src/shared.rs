//! The state a nursery shares with its handles and children.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::child::End;
use crate::core::{drop_quietly, CancelReason, Core};
use crate::executor::ExecutorRef;
use crate::limit::Limiter;

/// What the nursery, its handles and its children's wrappers share.
pub(crate) struct Shared<'ex, E> {
    /// Everything that does not depend on `E`; `TaskHandle`s hold it too.
    pub(crate) core: Arc<Core>,
    /// Where children are spawned.
    pub(crate) executor: ExecutorRef<'ex>,
    /// Admission under `NurseryBuilder::limit`; `None` without a limit, and then nothing in
    /// a child's life touches it.
    pub(crate) limiter: Option<Limiter<'ex>>,
    /// A child's failure cancels its siblings (`NurseryBuilder::fail_fast`).
    fail_fast: bool,
    /// The errors children returned, in order.
    errors: Mutex<Errors<E>>,
}

/// What a nursery's builder decided.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// At most this many children run at once.
    pub(crate) limit: Option<std::num::NonZeroUsize>,
    /// A child's failure cancels its siblings.
    pub(crate) fail_fast: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            limit: None,
            fail_fast: true,
        }
    }
}

/// The errors of a nursery.
struct Errors<E> {
    /// Errors in the order they happened.
    list: Vec<E>,
    /// `join` took the list, or the nursery was dropped: later errors are dropped at once.
    taken: bool,
}

impl<'ex, E> Shared<'ex, E> {
    /// Creates the state of an open, empty nursery.
    pub(crate) fn new(executor: ExecutorRef<'ex>, policy: Policy) -> Self {
        Shared {
            core: Core::new(policy.limit.map(|limit| limit.get())),
            executor,
            limiter: policy.limit.map(Limiter::new),
            fail_fast: policy.fail_fast,
            errors: Mutex::new(Errors {
                list: Vec::new(),
                taken: false,
            }),
        }
    }

    /// The one failure path: keeps a child's error and panic, and cancels the nursery if
    /// there was either and the nursery fails fast. An end with neither (returned, or
    /// cancelled) changes nothing.
    pub(crate) fn fail(&self, end: End<E>) {
        self.fail_as(end, self.fail_fast);
    }

    /// The failure path of a scope's body: the owner failed, which cancels the nursery
    /// whatever its policy.
    pub(crate) fn fail_owner(&self, end: End<E>) {
        self.fail_as(end, true);
    }

    /// Keeps the error and panic of `end`, and cancels if `cancel` says so.
    fn fail_as(&self, end: End<E>, cancel: bool) {
        let failed = cancel && (end.error.is_some() || end.panic.is_some());
        if let Some(error) = end.error {
            self.record_error(error);
        }
        if let Some(panic) = end.panic {
            self.core.record_panic(panic);
        }
        if failed {
            self.core.cancel(CancelReason::Failure);
        }
    }

    /// Records a child's error, or drops it if nobody will read it any more.
    fn record_error(&self, error: E) {
        let rejected = {
            let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
            if errors.taken {
                Some(error)
            } else {
                errors.list.push(error);
                None
            }
        };
        if let Some(error) = rejected {
            drop_quietly(error);
        }
    }

    /// Gives a finished child's permit back, under a limit.
    #[inline]
    pub(crate) fn release_permit(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.release();
        }
    }

    /// Takes the recorded errors; errors recorded later are dropped.
    pub(crate) fn take_errors(&self) -> Vec<E> {
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        errors.taken = true;
        std::mem::take(&mut errors.list)
    }
}

impl<E> fmt::Debug for Shared<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("len", &self.core.len())
            .field("cancelled", &self.core.is_cancelled())
            .field("closed", &self.core.is_closed())
            .finish()
    }
}
