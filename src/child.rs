//! The wrapper that runs one child on the executor.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::core::CancelReason;
use crate::error::TaskError;
use crate::registry::{Id, Key};
use crate::shared::Shared;
use crate::task::Output;

pin_project! {
    /// The future the executor runs for one child.
    ///
    /// It polls the child's future under `catch_unwind`, reports the child's error or panic to
    /// the nursery, and, when the child must stop, drops the child's future inside its own
    /// `poll`, also under `catch_unwind`. The nursery never cancels the executor's task itself:
    /// async-task drops a cancelled task's future inside an abort-on-panic guard, where a
    /// panicking destructor would abort the process.
    // pin-project-lite takes no doc comments on fields: each field's line says what it holds.
    #[project = ChildProj]
    pub(crate) struct Child<'ex, F, E> {
        // The child's future; `None` once it has been dropped.
        #[pin]
        future: Option<F>,
        // The nursery.
        shared: Arc<Shared<'ex, E>>,
        // The child's id in the nursery.
        id: Id,
        // The core's count of handle cancellations when this child last looked.
        seen_cancels: u32,
        // Nursery-wide cancellation does not apply.
        shielded: bool,
        // The child's key in the nursery's registry, once its waker is there.
        key: Option<Key>,
        // The child's future is dropped and it is counted as finished: nothing is left to do.
        finished: bool,
    }

    impl<'ex, F, E> PinnedDrop for Child<'ex, F, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.finished {
                return;
            }
            // The executor dropped this task before the child finished: the executor itself
            // is being dropped. This may run inside async-task's abort-on-panic guard, so a
            // panic of the child's destructor is caught and counted as the child's panic.
            let mut future = this.future;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| future.set(None))) {
                this.shared.core.record_panic(panic);
                this.shared.core.cancel(CancelReason::Failure);
            }
            this.shared.core.finish(*this.id, *this.key, *this.shielded, *this.seen_cancels);
        }
    }
}

impl<'ex, F, E> Child<'ex, F, E> {
    /// Wraps the child `id`, already counted as started.
    pub(crate) fn new(future: F, shared: Arc<Shared<'ex, E>>, id: Id, shielded: bool) -> Self {
        let seen_cancels = shared.core.handle_cancels();
        Child {
            future: Some(future),
            shared,
            id,
            seen_cancels,
            shielded,
            key: None,
            finished: false,
        }
    }
}

impl<'ex, F, T, E> Future for Child<'ex, F, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Output<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output<T>> {
        let mut this = self.project();
        let core = &this.shared.core;

        // A cancelled child is dropped before it is polled again: at its next await point, or
        // before it ever runs.
        if core.stop_requested(*this.id, *this.shielded, this.seen_cancels) {
            return Poll::Ready(end(this, Err(TaskError::Cancelled)));
        }

        let future = match this.future.as_mut().as_pin_mut() {
            Some(future) => future,
            // async-task never polls a task again once it returned `Ready`.
            None => return Poll::Pending,
        };
        let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => {
                if this.key.is_none() {
                    match core.register(*this.id, cx.waker(), *this.shielded) {
                        Some(key) => *this.key = Some(key),
                        None => return Poll::Ready(end(this, Err(TaskError::Cancelled))),
                    }
                }
                return Poll::Pending;
            }
            Ok(Poll::Ready(Ok(value))) => Ok(value),
            Ok(Poll::Ready(Err(error))) => {
                // Fail fast: keep the error, then cancel the siblings.
                this.shared.record_error(error);
                core.cancel(CancelReason::Failure);
                Err(TaskError::Failed)
            }
            Err(panic) => {
                core.record_panic(panic);
                core.cancel(CancelReason::Failure);
                Err(TaskError::Panicked)
            }
        };
        Poll::Ready(end(this, result))
    }
}

/// Drops the child's future, counts it as finished, and builds the output for its handle.
///
/// A panic while the future is dropped counts as the child's panic.
fn end<'ex, F, T, E>(this: ChildProj<'_, 'ex, F, E>, result: Result<T, TaskError>) -> Output<T> {
    let mut future = this.future;
    let output = match catch_unwind(AssertUnwindSafe(|| future.set(None))) {
        Ok(()) => Output::new(result),
        Err(panic) => {
            this.shared.core.record_panic(panic);
            this.shared.core.cancel(CancelReason::Failure);
            // The value, if any, is dropped with the `Output`, whose destructor cannot panic.
            drop(Output::new(result));
            Output::new(Err(TaskError::Panicked))
        }
    };
    *this.finished = true;
    this.shared
        .core
        .finish(*this.id, *this.key, *this.shielded, *this.seen_cancels);
    output
}
