//! Handles to single children.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use crate::sync::{AtomicBool, Mutex, MutexGuard, Ordering, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use async_executor::FallibleTask;

use crate::core::{drop_quietly, Core};
use crate::error::TaskError;
use crate::registry::Id;

/// What a child's task returns to its [`TaskHandle`].
///
/// If the handle was dropped before the child finished, async-task drops this value inside
/// its abort-on-panic guard; the `Drop` below keeps a panicking destructor of `T` from
/// aborting the process there.
pub(crate) struct Output<T> {
    /// The result; `None` once the handle has taken it.
    result: Option<Result<T, TaskError>>,
}

impl<T> Output<T> {
    /// Wraps a child's result.
    pub(crate) fn new(result: Result<T, TaskError>) -> Self {
        Output {
            result: Some(result),
        }
    }
}

impl<T> Output<T> {
    /// Takes the result, for the loom models (the handle takes it in its `poll`).
    #[cfg(all(test, smol_nursery_loom))]
    pub(crate) fn take(mut self) -> Result<T, TaskError> {
        self.result.take().expect("taken once")
    }
}

impl<T> Drop for Output<T> {
    fn drop(&mut self) {
        if let Some(result) = self.result.take() {
            drop_quietly(result);
        }
    }
}

/// A handle to one child of a nursery: await it for the child's value.
///
/// **Dropping a `TaskHandle` does nothing to its child**: the child keeps running and the
/// nursery still waits for it (unlike async-executor's `Task`, which cancels its task when
/// dropped). To stop one child, call [`cancel`](TaskHandle::cancel).
///
/// Awaiting the handle yields `Ok(value)` if the child returned `Ok(value)`, and
/// `Err(`[`TaskError`]`)` if it returned `Err`, panicked, or was cancelled. The error or
/// panic itself goes to [`Nursery::join`](crate::Nursery::join), not here.
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
///     let handles: Vec<_> = (1..=3).map(|i| nursery.start_soon(async move { Ok(i * 10) })).collect();
///     nursery.join().await.unwrap();
///
///     let mut values = Vec::new();
///     for handle in handles {
///         values.push(handle.await.unwrap());
///     }
///     assert_eq!(values, [10, 20, 30]);
/// }));
/// ```
pub struct TaskHandle<T> {
    /// The executor task running the child; `None` if the child was never spawned, is still
    /// waiting for admission, or the result was already returned.
    task: Option<FallibleTask<Output<T>>>,
    /// Where the task appears once a child that waits for admission under a limit is
    /// admitted; `None` once the handle took it, and for children spawned at once.
    admission: Option<Arc<Admission<T>>>,
    /// The nursery's core and the child's id, for `cancel` and `is_finished`; `None` if the
    /// child was never spawned.
    child: Option<(Arc<Core>, Id)>,
    /// The result was already returned.
    done: bool,
    /// `cancel` was called: once the child has finished, this handle makes sure the request
    /// does not stay in the registry (registry invariant 2).
    requested: AtomicBool,
}

impl<T> TaskHandle<T> {
    /// A handle to a spawned child.
    pub(crate) fn new(task: FallibleTask<Output<T>>, core: Arc<Core>, id: Id) -> Self {
        TaskHandle {
            task: Some(task),
            admission: None,
            child: Some((core, id)),
            done: false,
            requested: AtomicBool::new(false),
        }
    }

    /// A handle to a child that waits for admission under a limit.
    pub(crate) fn queued(admission: Arc<Admission<T>>, core: Arc<Core>, id: Id) -> Self {
        TaskHandle {
            task: None,
            admission: Some(admission),
            child: Some((core, id)),
            done: false,
            requested: AtomicBool::new(false),
        }
    }

    /// Takes the task of an admitted child out of its admission. Returns `false` while the
    /// child still waits (then `waker`, if given, is woken when it is admitted).
    fn admitted(&mut self, waker: Option<&Waker>) -> bool {
        let Some(admission) = &self.admission else {
            return true;
        };
        let mut state = admission.lock();
        match &mut *state {
            AdmissionState::Waiting(slot) => {
                if let Some(waker) = waker {
                    if !slot.as_ref().is_some_and(|old| old.will_wake(waker)) {
                        *slot = Some(waker.clone());
                    }
                }
                return false;
            }
            AdmissionState::Spawned(_) => {
                if let AdmissionState::Spawned(task) =
                    std::mem::replace(&mut *state, AdmissionState::Gone)
                {
                    self.task = Some(task);
                }
            }
            AdmissionState::Gone | AdmissionState::Detached => {}
        }
        drop(state);
        self.admission = None;
        true
    }

    /// The handle of a child whose result goes elsewhere (a set's), which nobody holds: it
    /// refers to nothing and its `Drop` does nothing.
    pub(crate) fn unused() -> Self {
        Self::never_spawned()
    }

    /// A handle to a child that was never spawned because the executor is gone.
    pub(crate) fn never_spawned() -> Self {
        TaskHandle {
            task: None,
            admission: None,
            child: None,
            done: false,
            requested: AtomicBool::new(false),
        }
    }

    /// Cancels this one child, even if it is shielded: its future is dropped at its next await
    /// point (or before it first runs), and awaiting this handle then yields
    /// `Err(TaskError::Cancelled)`.
    ///
    /// This is not a failure: the nursery and the child's siblings are not affected. Does
    /// nothing if the child has already finished. The handle can still be awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{Nursery, TaskError};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let slow = nursery.start_soon(async {
    ///         async_io::Timer::after(Duration::from_secs(60)).await;
    ///         Ok(())
    ///     });
    ///     let fast = nursery.start_soon(async { Ok(1) });
    ///
    ///     slow.cancel();
    ///     assert_eq!(nursery.join().await, Ok(()));
    ///     assert_eq!(slow.await, Err(TaskError::Cancelled));
    ///     assert_eq!(fast.await, Ok(1));
    /// }));
    /// ```
    pub fn cancel(&self) {
        if self.is_finished() {
            return;
        }
        if let Some((core, id)) = &self.child {
            core.cancel_child(*id);
            // ORDERING: only this handle reads it, from `poll` or `drop`, which `&mut` orders
            // after this call.
            self.requested.store(true, Ordering::Relaxed);
        }
    }

    /// The child has finished: forget this handle's cancellation request, if it made one.
    fn forget_request(&self) {
        if self.requested.load(Ordering::Relaxed) {
            if let Some((core, id)) = &self.child {
                core.forget_cancel(*id);
            }
        }
    }

    /// Returns `true` if the child has finished: it returned, failed, panicked, or was
    /// cancelled and its future dropped.
    ///
    /// Once [`join`](crate::Nursery::join) has returned this is `true` for every handle of the
    /// nursery, and awaiting the handle does not wait for anything else.
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
    ///     let handle = nursery.start_soon(async { Ok(()) });
    ///     assert!(!handle.is_finished(), "start_soon returns before the child runs");
    ///
    ///     nursery.join().await.unwrap();
    ///     assert!(handle.is_finished());
    /// }));
    /// ```
    pub fn is_finished(&self) -> bool {
        if let Some(admission) = &self.admission {
            let finished = match &*admission.lock() {
                AdmissionState::Waiting(_) | AdmissionState::Detached => false,
                AdmissionState::Spawned(task) => task.is_finished(),
                AdmissionState::Gone => true,
            };
            return finished
                || self
                    .child
                    .as_ref()
                    .is_some_and(|(core, _)| core.is_joined());
        }
        if self.done || self.task.as_ref().map_or(true, |task| task.is_finished()) {
            return true;
        }
        // The wrapper counts the child as finished before the executor task completes: once
        // `join` returned, the task may lag a moment behind, but the child has finished.
        self.child
            .as_ref()
            .map_or(true, |(core, _)| core.is_joined())
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, TaskError>;

    /// # Panics
    ///
    /// Panics if polled again after it returned `Ready`.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "`TaskHandle` polled after completion");
        if !self.admitted(Some(cx.waker())) {
            return Poll::Pending;
        }
        let result = match &mut self.task {
            None => Err(TaskError::Cancelled),
            Some(task) => match Pin::new(task).poll(cx) {
                Poll::Pending => return Poll::Pending,
                // The executor was dropped before the child's task completed.
                Poll::Ready(None) => Err(TaskError::Cancelled),
                Poll::Ready(Some(mut output)) => output
                    .result
                    .take()
                    .expect("a child's output is taken once"),
            },
        };
        self.done = true;
        self.task = None;
        self.forget_request();
        Poll::Ready(result)
    }
}

impl<T> Drop for TaskHandle<T> {
    fn drop(&mut self) {
        // Detach rather than drop: dropping an async-executor task cancels it, and a handle
        // must not affect its child.
        // ORDERING: `&mut self`: nothing races with this read.
        if self.admission.is_none() && !self.requested.load(Ordering::Relaxed) {
            // The common case: a spawned child that this handle never cancelled.
            if let Some(task) = self.task.take() {
                task.detach();
            }
            return;
        }
        if let Some(admission) = &self.admission {
            let mut state = admission.lock();
            if let AdmissionState::Waiting(_) = &*state {
                // The task is detached when it is created; the child consumes its own
                // cancellation request, if any, when it is first polled.
                *state = AdmissionState::Detached;
                return;
            }
        }
        self.admitted(None);
        let Some(mut task) = self.task.take() else {
            return;
        };
        if self.requested.load(Ordering::Relaxed) {
            if let Some((core, id)) = &self.child {
                // The child may have ended without seeing this handle's request. Once its task
                // completes, the waker left here forgets the request (async-task wakes the
                // task's awaiter on completion, whether or not the task is detached).
                let waker = Waker::from(Arc::new(ForgetRequest(Arc::downgrade(core), *id)));
                if let Poll::Ready(output) =
                    Pin::new(&mut task).poll(&mut Context::from_waker(&waker))
                {
                    drop(output);
                    core.forget_cancel(*id);
                    return;
                }
            }
        }
        task.detach();
    }
}

/// Forgets a handle's cancellation request when the child's task completes after its handle
/// was dropped. Holds the core weakly: the nursery may be long gone by then.
struct ForgetRequest(Weak<Core>, Id);

impl Wake for ForgetRequest {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(core) = self.0.upgrade() {
            core.forget_cancel(self.1);
        }
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Where a queued child's handle finds the executor task once the child is admitted.
pub(crate) struct Admission<T> {
    /// See [`AdmissionState`].
    state: Mutex<AdmissionState<T>>,
}

/// Where a queued child stands, as its handle sees it.
pub(crate) enum AdmissionState<T> {
    /// Not admitted; holds the waker of the task awaiting the handle, once it polled.
    Waiting(Option<Waker>),
    /// Admitted: the handle takes the task.
    Spawned(FallibleTask<Output<T>>),
    /// Never spawned (the executor is gone), or the handle took the task.
    Gone,
    /// The handle was dropped: the task is detached as soon as it exists.
    Detached,
}

impl<T> Admission<T> {
    /// A queued child's admission.
    pub(crate) fn new() -> Self {
        Admission {
            state: Mutex::new(AdmissionState::Waiting(None)),
        }
    }

    /// Locks the state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, AdmissionState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The child was spawned (`Some`) or dropped (`None`): tell the handle.
    pub(crate) fn fill(&self, task: Option<FallibleTask<Output<T>>>) {
        let mut state = self.lock();
        let waker = match &mut *state {
            AdmissionState::Waiting(waker) => waker.take(),
            AdmissionState::Detached => {
                drop(state);
                if let Some(task) = task {
                    task.detach();
                }
                return;
            }
            AdmissionState::Spawned(_) | AdmissionState::Gone => {
                unreachable!("a child is admitted once")
            }
        };
        *state = match task {
            Some(task) => AdmissionState::Spawned(task),
            None => AdmissionState::Gone,
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use async_executor::Executor;
    use easy_parallel::Parallel;
    use futures_lite::future;

    use crate::Nursery;

    /// Handle cancellations racing their children's ends leave nothing behind in a long-lived
    /// nursery: half of the handles are awaited after `cancel`, half are dropped at once.
    #[test]
    fn handle_cancels_racing_finishes_leave_the_registry_flat() {
        const CHILDREN: u64 = if cfg!(miri) { 200 } else { 1_000_000 };
        let ex = Arc::new(Executor::new());
        let nursery = Nursery::<()>::new(&ex);
        let core = nursery.core().clone();
        let stop = AtomicBool::new(false);
        let mut peak = (0, 0);
        Parallel::new()
            .add(|| {
                future::block_on(ex.run(async {
                    while !stop.load(Ordering::Acquire) {
                        future::yield_now().await;
                    }
                }))
            })
            .finish(|| {
                for i in 0..CHILDREN {
                    let handle = nursery.start_soon(async move {
                        // Some children finish in their first poll, some after one `Pending`.
                        if i % 3 == 0 {
                            future::yield_now().await;
                        }
                        Ok(i)
                    });
                    // Let the executor thread reach the child about now.
                    for _ in 0..(i % 64) {
                        std::hint::spin_loop();
                    }
                    handle.cancel();
                    if i % 2 == 0 {
                        let _ = future::block_on(handle);
                    } else {
                        drop(handle);
                    }
                    if i % 4096 == 0 {
                        let (requests, entries) = core.registry_footprint();
                        peak = (peak.0.max(requests), peak.1.max(entries));
                        // Dropped handles' children may still be queued on the executor.
                        while nursery.len() > 1024 {
                            std::thread::yield_now();
                        }
                    }
                }
                while !nursery.is_empty() {
                    std::thread::yield_now();
                }
                // A request may outlive its child for the moment between the child's end and
                // its task's completion, when the waker left by its dropped handle fires.
                let waited = std::time::Instant::now();
                while core.registry_footprint() != (0, 0)
                    && waited.elapsed() < std::time::Duration::from_secs(10)
                {
                    std::thread::yield_now();
                }
                let left = core.registry_footprint();
                stop.store(true, Ordering::Release);
                assert_eq!(left, (0, 0), "requests and entries left behind");
                assert!(
                    peak.0 <= 2048 && peak.1 <= 2048,
                    "the registry grew to {peak:?} while at most 1024 children were unfinished"
                );
            });
        future::block_on(ex.run(nursery.join())).unwrap();
    }
}
