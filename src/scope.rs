//! `scope`: a nursery whose body is its first child, polled in the caller's task.
//!
//! [`Body`] does the work for any executor kind; the template `scope_form!` makes the public
//! function and future of one form ([`scope`] and [`Scope`] here, `local_scope` and
//! `LocalScope` in `local.rs`).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::shared::End;
use crate::core::drop_quietly;
use crate::error::NurseryError;
use crate::executor::{ExecutorRef, IntoExecutor, Spawner};
use crate::handle::NurseryHandle;
use crate::registry::{Id, Key, Site};
use crate::shared::Shared;
use crate::sync::EventListener;

pin_project! {
    /// A scope's body and nursery, for any executor kind: what the public `Scope` futures run.
    pub(crate) struct Body<E, T, Fut, X: Spawner> {
        // The body's future; `None` once it returned or was dropped.
        #[pin]
        body: Option<Fut>,
        // The nursery; `None` once the scope returned.
        nursery: Option<Arc<Shared<E, X>>>,
        // The body's id as a child of the nursery.
        id: Id,
        // The core's count of handle cancellations when the body last looked.
        seen_cancels: u32,
        // The body's key in the registry, once it returned `Pending`.
        key: Option<Key>,
        // The waker the registry holds for the body.
        waker: Option<Waker>,
        // The body's value, once it returned `Ok`.
        value: Option<T>,
        // The body's future was dropped by a cancellation.
        body_cancelled: bool,
        // Where the scope was opened, for snapshots.
        site: Site,
        // Waits for the last child once the body is done.
        listener: Option<EventListener>,
    }

    impl<'ex, E, T, Fut, X: Spawner> PinnedDrop for Body<E, T, Fut, X> {
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
                nursery.core.finish(*this.id, *this.key, false, *this.seen_cancels);
            }
            nursery.abandon();
        }
    }
}

impl<E, T, Fut, X: Spawner> Body<E, T, Fut, X>
where
    Fut: Future<Output = Result<T, E>>,
{
    /// Counts the body as the nursery's first child and calls it.
    pub(crate) fn new(
        nursery: Arc<Shared<E, X>>,
        body: impl FnOnce(Arc<Shared<E, X>>) -> Fut,
        location: &'static Location<'static>,
    ) -> Self {
        let id = nursery.core.start_owned();
        let seen_cancels = nursery.core.handle_cancels();
        let body = body(nursery.clone());
        Body {
            body: Some(body),
            nursery: Some(nursery),
            id,
            seen_cancels,
            key: None,
            waker: None,
            value: None,
            body_cancelled: false,
            site: Site {
                location,
                graced: false,
            },
            listener: None,
        }
    }
}

impl<E, T, Fut, X: Spawner> Body<E, T, Fut, X>
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
            let end = if core.stop_requested(*this.id, false, this.seen_cancels) {
                cancelled
            } else {
                // The body is a child of its own nursery: nurseries it opens link to it.
                let polled = crate::core::enter(core, *this.id, || {
                    catch_unwind(AssertUnwindSafe(|| body.poll(cx)))
                });
                match polled {
                    Ok(Poll::Pending) => {
                        if this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            return Poll::Pending;
                        }
                        match core.register_body(*this.id, *this.key, cx.waker(), *this.site) {
                            Some(key) => {
                                *this.key = Some(key);
                                *this.waker = Some(cx.waker().clone());
                                return Poll::Pending;
                            }
                            None => cancelled,
                        }
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
            *this.body_cancelled = end.cancelled;
            *this.waker = None;
            // The owner failed: its error or panic cancels the nursery whatever its policy.
            nursery.fail_owner(end);
            core.finish(*this.id, *this.key, false, *this.seen_cancels);
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

impl<E, T, Fut, X: Spawner> Body<E, T, Fut, X> {
    /// For `Debug`: the nursery, and whether the body still runs.
    pub(crate) fn fmt_fields(&self, f: &mut std::fmt::DebugStruct<'_, '_>) {
        f.field("nursery", &self.nursery)
            .field("body_running", &self.body.is_some());
    }
}

/// The public scope function and future of one form: `$scope` and `$Scope` on the executor
/// kind `$Executor` (made from `impl $Into`), whose body gets a `$Handle`. The docs come from
/// the invocation.
macro_rules! scope_form {
    (
        $(#[$fn_doc:meta])*
        pub fn $scope:ident on $Executor:ident from $Into:ident, handle $Handle:ident;
        $(#[$doc:meta])*
        pub struct $Scope:ident;
    ) => {
        $(#[$fn_doc])*
        #[track_caller]
        pub fn $scope<'ex, E, T, F, Fut>(
            executor: impl $Into<'ex>,
            body: F,
        ) -> $Scope<'ex, E, T, Fut>
        where
            F: FnOnce($Handle<'ex, E>) -> Fut,
            Fut: std::future::Future<Output = Result<T, E>>,
        {
            let executor = executor.into_executor();
            $Scope::new(executor, Default::default(), body, std::panic::Location::caller())
        }

        pin_project_lite::pin_project! {
            $(#[$doc])*
            #[must_use = "a scope does nothing unless awaited; dropping it cancels its children"]
            pub struct $Scope<'ex, E, T, Fut> {
                // The body and the nursery.
                #[pin]
                inner: $crate::scope::Body<E, T, Fut, $Executor<'ex>>,
            }
        }

        impl<'ex, E, T, Fut> $Scope<'ex, E, T, Fut>
        where
            Fut: std::future::Future<Output = Result<T, E>>,
        {
            /// Opens the nursery, counts the body as its first child and calls it.
            pub(crate) fn new<F>(
                executor: $Executor<'ex>,
                policy: $crate::shared::Policy,
                body: F,
                location: &'static std::panic::Location<'static>,
            ) -> Self
            where
                F: FnOnce($Handle<'ex, E>) -> Fut,
            {
                let nursery = std::sync::Arc::new($crate::shared::Shared::new(executor, policy));
                let body = |shared| body($Handle::new(shared));
                $Scope {
                    inner: $crate::scope::Body::new(nursery, body, location),
                }
            }
        }

        impl<E, T, Fut> std::future::Future for $Scope<'_, E, T, Fut>
        where
            Fut: std::future::Future<Output = Result<T, E>>,
        {
            type Output = Result<T, $crate::NurseryError<E>>;

            fn poll(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Self::Output> {
                self.project().inner.poll(cx)
            }
        }

        impl<E, T, Fut> std::fmt::Debug for $Scope<'_, E, T, Fut> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut debug = f.debug_struct(stringify!($Scope));
                self.inner.fmt_fields(&mut debug);
                debug.finish()
            }
        }
    };
}
pub(crate) use scope_form;

scope_form! {
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
    pub fn scope on ExecutorRef from IntoExecutor, handle NurseryHandle;
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
    pub struct Scope;
}
