//! The state a nursery shares with its handles and children.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::child::Child;
use crate::core::{drop_quietly, Core};
use crate::error::NurseryClosed;
use crate::executor::ExecutorRef;
use crate::shield::IntoChild;
use crate::task::TaskHandle;

/// What the nursery, its handles and its children's wrappers share.
pub(crate) struct Shared<'ex, E> {
    /// Everything that does not depend on `E`; `TaskHandle`s hold it too.
    pub(crate) core: Arc<Core>,
    /// Where children are spawned.
    executor: ExecutorRef<'ex>,
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

    /// Starts a child, unless the nursery is closed. `owned` tells that the caller is the
    /// nursery's owner, which cannot race with closing.
    ///
    /// If the executor has been dropped, the child is dropped without being polled and its
    /// handle yields `Err(TaskError::Cancelled)`.
    pub(crate) fn start<C>(
        self: &Arc<Self>,
        child: C,
        owned: bool,
    ) -> Result<TaskHandle<C::Output>, NurseryClosed>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'ex,
        C::Output: Send + 'ex,
        E: Send + 'ex,
    {
        let (future, shielded) = child.into_child();
        let id = if owned {
            self.core.start_owned()
        } else {
            self.core.start_shared()?
        };
        let child = Child::new(future, self.clone(), id, shielded);
        match self.executor.spawn(child) {
            Ok(task) => Ok(TaskHandle::new(task.fallible(), self.core.clone(), id)),
            Err(child) => {
                // The executor is gone. Dropping the unspawned wrapper drops the child's future
                // (a panic there counts as the child's) and removes its entry.
                drop(child);
                Ok(TaskHandle::never_spawned())
            }
        }
    }

    /// Records a child's error, or drops it if nobody will read it any more.
    pub(crate) fn record_error(&self, error: E) {
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
