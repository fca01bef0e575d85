//! The state a nursery shares with its handles and children.

use std::fmt;
use std::panic::resume_unwind;
use std::panic::Location;
use std::sync::Arc;

use crate::sync::{Mutex, PoisonError};

use crate::core::{drop_quietly, Closing, Core, Panic};
use crate::error::{NurseryClosed, NurseryError};
use crate::executor::ExecutorKind;
use crate::limit::Limiter;
use crate::registry::Id;
use crate::snapshot::CancelCause;

/// What the nursery, its handles and its children's wrappers share. `X` is the executor kind
/// (`ExecutorRef` or `LocalExecutorRef`).
pub(crate) struct Shared<E, X: ExecutorKind> {
    /// Everything that does not depend on `E`; `TaskHandle`s hold it too.
    pub(crate) core: Arc<Core>,
    /// Where children are spawned.
    pub(crate) executor: X,
    /// Admission under `NurseryBuilder::limit`; `None` without a limit, and then nothing in
    /// a child's life touches it.
    pub(crate) limiter: Option<Limiter<X::Admit>>,
    /// A child's failure cancels its siblings (`NurseryBuilder::fail_fast`).
    fail_fast: bool,
    /// The errors children returned, in order.
    errors: Mutex<Errors<E>>,
}

/// How a child ended, as far as anyone but its handle cares.
pub(crate) struct End<E> {
    /// The `Err` the child returned.
    pub(crate) error: Option<E>,
    /// The child's panic, or its destructor's.
    pub(crate) panic: Option<Panic>,
    /// The child was cancelled (its future dropped before it returned).
    pub(crate) cancelled: bool,
}

impl<E> End<E> {
    /// A child that returned `Ok`.
    #[inline]
    pub(crate) fn new() -> Self {
        End {
            error: None,
            panic: None,
            cancelled: false,
        }
    }
}

/// Who starts a child or reserves room for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The nursery's owner (the `Nursery`, or a scope for its body), which cannot race with
    /// closing: only `join` and `Drop` close the nursery, and both consume the owner.
    Owner,
    /// A handle, which finds the nursery closed once `join` returned or it was dropped.
    Handle,
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
    /// The start site of the child that returned each error, in the same order.
    sites: Vec<&'static Location<'static>>,
    /// `join` took the list, or the nursery was dropped: later errors are dropped at once.
    taken: bool,
}

impl<E, X: ExecutorKind> Shared<E, X> {
    /// Creates the state of an open, empty nursery.
    pub(crate) fn new(executor: X, policy: Policy) -> Self {
        Shared {
            core: Core::new(policy.limit.map(|limit| limit.get())),
            executor,
            limiter: policy.limit.map(Limiter::new),
            fail_fast: policy.fail_fast,
            errors: Mutex::new(Errors {
                list: Vec::new(),
                sites: Vec::new(),
                taken: false,
            }),
        }
    }

    /// The one failure path: keeps a child's error and panic, and cancels the nursery if
    /// there was either and the nursery fails fast. An end with neither (returned, or
    /// cancelled) changes nothing.
    pub(crate) fn fail(&self, end: End<E>, site: &'static Location<'static>) {
        self.fail_as(end, site, self.fail_fast);
    }

    /// The failure path of a scope's body: the owner failed, which cancels the nursery
    /// whatever its policy.
    pub(crate) fn fail_owner(&self, end: End<E>, site: &'static Location<'static>) {
        self.fail_as(end, site, true);
    }

    /// Keeps the error (with the start site of the child that returned it) and the panic of
    /// `end`, and cancels if `cancel` says so.
    fn fail_as(&self, end: End<E>, site: &'static Location<'static>, cancel: bool) {
        let failed = cancel && (end.error.is_some() || end.panic.is_some());
        if let Some(error) = end.error {
            self.record_error(error, site);
        }
        if let Some(panic) = end.panic {
            self.core.record_panic(panic);
        }
        if failed {
            self.core.cancel(CancelCause::Failure);
        }
    }

    /// Records a child's error, or drops it if nobody will read it any more.
    fn record_error(&self, error: E, site: &'static Location<'static>) {
        let rejected = {
            let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
            if errors.taken {
                Some(error)
            } else {
                errors.list.push(error);
                errors.sites.push(site);
                None
            }
        };
        if let Some(error) = rejected {
            drop_quietly(error);
        }
    }

    /// Counts a new child, unless a handle finds the nursery closed.
    pub(crate) fn count_child(&self, caller: Caller) -> Result<Id, NurseryClosed> {
        match caller {
            Caller::Owner => Ok(self.core.start_owned()),
            Caller::Handle => self.core.start_shared(),
        }
    }

    /// Gives a finished child's permit back, under a limit.
    #[inline]
    pub(crate) fn release_permit(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.release(|admit| admit(&self.executor));
        }
    }

    /// Waits for every child, closes the nursery and reports: what `join` does.
    pub(crate) async fn join(&self) -> Result<(), NurseryError<E>> {
        let mut listener = None;
        let closing =
            futures_lite::future::poll_fn(|cx| self.core.poll_close(&mut listener, cx)).await;
        self.conclude(closing)
    }

    /// What `join` reports once the nursery closed: resumes the first panic, or returns every
    /// error and the timeout.
    pub(crate) fn conclude(&self, closing: Closing) -> Result<(), NurseryError<E>> {
        drop(closing.deadline);
        let (errors, sites) = self.take_errors();
        if let Some(panic) = closing.panic {
            drop_quietly(errors);
            resume_unwind(panic);
        }
        if errors.is_empty() && closing.timed_out.is_none() {
            Ok(())
        } else {
            Err(NurseryError::new(errors, sites, closing.timed_out))
        }
    }

    /// What dropping the nursery's owner does unless `join` finished: cancels the
    /// non-shielded children, closes the nursery, and drops the errors nobody will read.
    pub(crate) fn abandon(&self) {
        if self.core.is_closed() {
            return;
        }
        self.core.abandon();
        drop_quietly(self.take_errors().0);
    }

    /// Takes the recorded errors and their children's start sites; errors recorded later
    /// are dropped.
    pub(crate) fn take_errors(&self) -> (Vec<E>, Vec<&'static Location<'static>>) {
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        errors.taken = true;
        (
            std::mem::take(&mut errors.list),
            std::mem::take(&mut errors.sites),
        )
    }
}

impl<E, X: ExecutorKind> fmt::Debug for Shared<E, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("len", &self.core.len())
            .field("cancelled", &self.core.is_cancelled())
            .field("closed", &self.core.is_closed())
            .finish()
    }
}
