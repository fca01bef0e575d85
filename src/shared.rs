//! The state a nursery shares with its handles and children.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::child::End;
use crate::core::{drop_quietly, CancelReason, Core};
use crate::executor::ExecutorRef;

/// What the nursery, its handles and its children's wrappers share.
pub(crate) struct Shared<'ex, E> {
    /// Everything that does not depend on `E`; `TaskHandle`s hold it too.
    pub(crate) core: Arc<Core>,
    /// Where children are spawned.
    pub(crate) executor: ExecutorRef<'ex>,
    /// The errors children returned, in order.
    errors: Mutex<Errors<E>>,
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
    pub(crate) fn new(executor: ExecutorRef<'ex>) -> Self {
        Shared {
            core: Core::new(),
            executor,
            errors: Mutex::new(Errors {
                list: Vec::new(),
                taken: false,
            }),
        }
    }

    /// The one failure path: keeps a child's error and panic, and cancels the nursery if
    /// there was either. An end with neither (returned, or cancelled) changes nothing.
    pub(crate) fn fail(&self, end: End<E>) {
        let failed = end.error.is_some() || end.panic.is_some();
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
