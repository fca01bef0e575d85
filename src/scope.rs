//! `scope`: a nursery whose body is its first child, polled in the caller's task.
//!
//! [`Body`] does the work; [`Scope`] is the public future of both forms, made by [`scope`] and
//! [`local_scope`] (and the builder's methods of the same names).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::core::drop_quietly;
use crate::error::NurseryError;
use crate::executor::{
    ExecutorKind, ExecutorRef, IntoExecutor, IntoLocalExecutor, LocalExecutorRef,
};
use crate::handle::{LocalNurseryHandle, NurseryHandle};
use crate::member::{Holds, Member};
use crate::registry::Site;
use crate::shared::End;
use crate::shared::{Policy, Shared};
use crate::sync::EventListener;
use crate::trace::{Outcome as Traced, Trace};

pin_project! {
    /// A scope's body and nursery, for any executor kind: what the public `Scope` futures run.
    pub(crate) struct Body<E, T, Fut, X: ExecutorKind> {
        // The body's future; `None` once it returned or was dropped.
        #[pin]
        body: Option<Fut>,
        // The nursery; `None` once the scope returned.
        nursery: Option<Arc<Shared<E, X>>>,
        // The body's membership as a child of the nursery (it holds no permit).
        member: Member,
        // The waker the registry holds for the body.
        waker: Option<Waker>,
        // The body's value, once it returned `Ok`.
        value: Option<T>,
        // The body's future was dropped by a cancellation.
        body_cancelled: bool,
        // Waits for the last child once the body is done.
        listener: Option<EventListener>,
        // The body's span (feature `tracing`; empty without it).
        trace: Trace,
    }

    impl<'ex, E, T, Fut, X: ExecutorKind> PinnedDrop for Body<E, T, Fut, X> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let Some(nursery) = this.nursery.take() else {
                return;
            };
            if this.body.is_some() {
                // Dropped mid-way: the body goes first (its destructor may still use its
                // handle), then the nursery cancels the children as a dropped nursery does.
                let mut body = this.body;
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body.set(None))) {
                    drop_quietly(panic);
                }
                this.trace.ended(Some(Traced::Cancelled));
                this.member.finish(&nursery);
            }
            nursery.abandon();
        }
    }
}

impl<E, T, Fut, X: ExecutorKind> Body<E, T, Fut, X>
where
    Fut: Future<Output = Result<T, E>>,
{
    /// Counts the body as the nursery's first child and calls it.
    pub(crate) fn new(
        nursery: Arc<Shared<E, X>>,
        body: impl FnOnce(Arc<Shared<E, X>>) -> Fut,
        location: &'static Location<'static>,
    ) -> Self {
        let site = Site {
            location,
            graced: false,
        };
        let id = nursery.core.start_owned();
        let member = Member::new(&nursery.core, id, false, site, Holds::Nothing);
        let trace = Trace::body(location);
        let body = body(nursery.clone());
        Body {
            trace,
            body: Some(body),
            nursery: Some(nursery),
            member,
            waker: None,
            value: None,
            body_cancelled: false,
            listener: None,
        }
    }
}

impl<E, T, Fut, X: ExecutorKind> Body<E, T, Fut, X>
where
    Fut: Future<Output = Result<T, E>>,
{
    /// Polls the body, then waits for the children: what the scope's future does.
    pub(crate) fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, NurseryError<E>>> {
        let mut this = self.project();
        let nursery = this
            .nursery
            .as_ref()
            .expect("`Scope` polled after completion");
        let core = &nursery.core;

        if let Some(body) = this.body.as_mut().as_pin_mut() {
            let cancelled = End {
                error: None,
                panic: None,
                cancelled: true,
            };
            let end = if this.member.stop_requested(core) {
                cancelled
            } else {
                // The body is a child of its own nursery: nurseries it opens link to it.
                let polled = this.trace.in_span(|| {
                    crate::core::enter(core, this.member.id(), || {
                        catch_unwind(AssertUnwindSafe(|| body.poll(cx)))
                    })
                });
                match polled {
                    Ok(Poll::Pending) => {
                        if this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            return Poll::Pending;
                        }
                        if this.member.register_body(core, cx.waker()) {
                            *this.waker = Some(cx.waker().clone());
                            return Poll::Pending;
                        }
                        cancelled
                    }
                    Ok(Poll::Ready(Ok(value))) => {
                        *this.value = Some(value);
                        End {
                            cancelled: false,
                            ..cancelled
                        }
                    }
                    Ok(Poll::Ready(Err(error))) => End {
                        error: Some(error),
                        cancelled: false,
                        panic: None,
                    },
                    Err(panic) => End {
                        panic: Some(panic),
                        cancelled: false,
                        error: None,
                    },
                }
            };
            let mut end = end;
            let mut body = this.body.as_mut();
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body.set(None))) {
                match end.panic {
                    Some(_) => drop_quietly(panic),
                    None => end.panic = Some(panic),
                }
            }
            let traced = match &end {
                End { panic: Some(_), .. } => Traced::Panicked,
                End { error: Some(_), .. } => Traced::Failed,
                End { cancelled, .. } if *cancelled => Traced::Cancelled,
                _ => Traced::Ok,
            };
            this.trace.ended(Some(traced));
            *this.body_cancelled = end.cancelled;
            *this.waker = None;
            // The owner failed: its error or panic cancels the nursery whatever its policy.
            nursery.fail_owner(end, this.member.location());
            this.member.finish(nursery);
        }

        let closing = futures_lite::ready!(core.poll_close(this.listener, cx));
        let nursery = this.nursery.take().expect("checked above");
        let result = nursery.conclude(closing);
        drop(nursery);
        Poll::Ready(match result {
            Err(error) => Err(error),
            Ok(()) if *this.body_cancelled => Err(NurseryError::cancelled()),
            Ok(()) => Ok(this
                .value
                .take()
                .expect("a body that was not cancelled returned a value")),
        })
    }
}

impl<E, T, Fut, X: ExecutorKind> Body<E, T, Fut, X> {
    /// For `Debug`: the nursery, and whether the body still runs.
    pub(crate) fn fmt_fields(&self, f: &mut std::fmt::DebugStruct<'_, '_>) {
        f.field("nursery", &self.nursery)
            .field("body_running", &self.body.is_some());
    }
}

/// Opens a nursery, runs `body` in it as its first child, and waits for the body and every
/// child it started.
///
/// `body` is called at once with a [`NurseryHandle`] of the new nursery; the future it returns
/// is polled inside the task that awaits `scope` (never spawned), so it may borrow anything
/// the caller can. The children it starts run on `executor` and are `'ex`, as with
/// [`Nursery::new`](crate::Nursery::new).
///
/// The body is a non-shielded child: when the nursery is cancelled before the body returns (a
/// child failed, the deadline passed, `cancel()` was called from anywhere), the body's future
/// is dropped at its next await point. It counts in `len()` and for deadlines.
///
/// The result, in order of precedence:
/// 1. if the body or a child panicked, the first panic is resumed once every child finished;
/// 2. if an error was recorded (the body's own `Err` is recorded in order with the children's,
///    and cancels them) or the deadline cut work short, `Err(NurseryError)` with every error;
/// 3. if the body was cancelled by `cancel()` with no error,
///    `Err(e)` with [`e.is_cancelled()`](NurseryError::is_cancelled);
/// 4. otherwise `Ok` with the body's value: a body that returned keeps its value, even if it
///    called `cancel()` right before returning.
///
/// After the scope has returned, the handle the body got is closed.
///
/// **When to use `scope`, when `Nursery` + `join`**: `scope` when the code that starts the
/// children must stop with them (a loop that feeds children and must end when one fails);
/// `Nursery` when the owner must go on by itself until it chooses to `join` (a server's accept
/// loop that outlives its connections' failures is a child, not an owner).
///
/// # Panics
///
/// Resumes the first panic of the body or of a child, once every child has finished.
///
/// # Cancel safety
///
/// Dropping the future drops the body and the nursery: every non-shielded child is cancelled,
/// shielded ones run on, detached (as when a [`Nursery`](crate::Nursery) is dropped).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use async_executor::Executor;
/// use smol_nursery::scope;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let total = scope(&ex, |n| async move {
///         let a = n.start_soon(async { Ok(20) }).expect("open");
///         let b = n.start_soon(async { Ok(22) }).expect("open");
///         Ok::<_, String>(a.await.unwrap() + b.await.unwrap())
///     })
///     .await;
///     assert_eq!(total, Ok(42));
///
///     // A failing child cancels the body at its next await point.
///     let failed = scope(&ex, |n| async move {
///         n.start_soon(async { Err::<(), _>("sensor offline") }).expect("open");
///         async_io::Timer::after(Duration::from_secs(60)).await;
///         Ok("never")
///     })
///     .await;
///     assert_eq!(failed.unwrap_err().errors(), ["sensor offline"]);
/// }));
/// ```
#[track_caller]
pub fn scope<'ex, E, T, F, Fut>(executor: impl IntoExecutor<'ex>, body: F) -> Scope<'ex, E, T, Fut>
where
    F: FnOnce(NurseryHandle<'ex, E>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    Scope::new(
        executor.into_executor(),
        Policy::default(),
        body,
        Location::caller(),
    )
}

/// Opens a [`LocalNursery`](crate::LocalNursery), runs `body` in it as its first child, and waits for the body
/// and every child it started: [`scope`](crate::scope) for children that need not be
/// `Send`.
///
/// The result, the cancellation of the body and the panics are as for
/// [`scope`](crate::scope).
///
/// # Panics
///
/// Resumes the first panic of the body or of a child, once every child has finished.
///
/// # Cancel safety
///
/// Dropping the future drops the body and the nursery: every non-shielded child is
/// cancelled.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::local_scope;
///
/// let ex = Rc::new(LocalExecutor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let log = RefCell::new(Vec::new());
///     let log_ref = &log; // the body may borrow what the caller can
///     let joined = local_scope(&ex, |n| async move {
///         let words = Rc::new(["structured", "concurrency"]);
///         for word in words.iter().copied() {
///             n.start_soon(async move { Ok::<_, ()>(word.len()) }).expect("open");
///         }
///         log_ref.borrow_mut().push("started");
///         Ok(words.join(" "))
///     })
///     .await;
///     assert_eq!(joined.unwrap(), "structured concurrency");
///     assert_eq!(*log.borrow(), ["started"]);
/// }));
/// ```
#[track_caller]
pub fn local_scope<'ex, E, T, F, Fut>(
    executor: impl IntoLocalExecutor<'ex>,
    body: F,
) -> LocalScope<'ex, E, T, Fut>
where
    F: FnOnce(LocalNurseryHandle<'ex, E>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    Scope::new(
        executor.into_executor(),
        Policy::default(),
        body,
        Location::caller(),
    )
}

pin_project! {
    /// The future [`scope`] returns.
    ///
    /// It is `Send` when the body's future, `T` and `E` are, so scopes nest inside children.
    /// Dropping it drops the body, then the nursery (see [`scope`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{scope, Nursery};
    ///
    /// fn assert_send<T: Send>(_: &T) {}
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let outer = Nursery::<String>::new(&ex);
    ///     let inner_ex = ex.clone();
    ///     outer.start_soon(async move {
    ///         // A scope inside a child: its future is Send, as a child must be.
    ///         let nested = scope(&inner_ex, |n| async move {
    ///             n.start_soon(async { Ok::<_, String>(()) }).expect("open");
    ///             Ok::<_, String>(1)
    ///         });
    ///         assert_send(&nested);
    ///         nested.await.map(drop).map_err(|e| e.to_string())
    ///     });
    ///     outer.join().await.unwrap();
    /// }));
    /// ```
    #[must_use = "a scope does nothing unless awaited; dropping it cancels its children"]
    pub struct Scope<'ex, E, T, Fut, X: ExecutorKind = ExecutorRef<'ex>> {
        // The body and the nursery.
        #[pin]
        body: Body<E, T, Fut, X>,
        // Ties the scope to the lifetime its children may borrow for, invariantly.
        lifetime: PhantomData<fn(&'ex ()) -> &'ex ()>,
    }
}

/// The future [`local_scope`] returns (and
/// [`NurseryBuilder::local_scope`](crate::NurseryBuilder::local_scope)).
///
/// Dropping it drops the body, then the nursery.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::{local_scope, LocalScope};
///
/// let ex = Rc::new(LocalExecutor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let scope: LocalScope<'_, (), (), _> = local_scope(&ex, |n| async move {
///         n.cancel();
///         futures_lite::future::pending::<Result<(), ()>>().await
///     });
///     let err = scope.await.unwrap_err();
///     assert!(err.is_cancelled());
/// }));
/// ```
pub type LocalScope<'ex, E, T, Fut> = Scope<'ex, E, T, Fut, LocalExecutorRef<'ex>>;

impl<'ex, E, T, Fut, X: ExecutorKind> Scope<'ex, E, T, Fut, X>
where
    Fut: Future<Output = Result<T, E>>,
{
    /// Opens the nursery on `executor` with `policy` and makes the body.
    pub(crate) fn new<F>(
        executor: X,
        policy: Policy,
        body: F,
        location: &'static Location<'static>,
    ) -> Self
    where
        F: FnOnce(NurseryHandle<'ex, E, X>) -> Fut,
    {
        let nursery = Arc::new(Shared::new(executor, policy));
        let body = |shared| body(NurseryHandle::new(shared));
        Scope {
            body: Body::new(nursery, body, location),
            lifetime: PhantomData,
        }
    }
}

impl<E, T, Fut, X: ExecutorKind> Future for Scope<'_, E, T, Fut, X>
where
    Fut: Future<Output = Result<T, E>>,
{
    type Output = Result<T, NurseryError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().body.poll(cx)
    }
}

impl<E, T, Fut, X: ExecutorKind> fmt::Debug for Scope<'_, E, T, Fut, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Scope");
        self.body.fmt_fields(&mut debug);
        debug.finish()
    }
}
