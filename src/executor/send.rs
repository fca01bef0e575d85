//! The executors of a [`Nursery`](crate::Nursery): children are `Send`.

use async_executor::Executor;

use super::{Deferred, Reach, Spawn, Spawner};

executor_kind! {
    /// The executor a [`Nursery`](crate::Nursery) starts its children on: the argument of
    /// [`Nursery::new`](crate::Nursery::new).
    ///
    /// It is made from one of these, and nothing else:
    ///
    /// - `&'static Executor<'static>`, e.g. a `static EX: Executor<'static> = Executor::new();`.
    ///   Children must then be `'static`.
    /// - `&Arc<Executor<'ex>>`. Children may borrow data that lives longer than the executor,
    ///   that is, data declared before it.
    ///
    /// A plain `&Executor<'ex>` borrowed from a local variable is rejected at compile time. The
    /// executor is invariant in `'ex` and runs its tasks' destructors when it is dropped, so a
    /// child that captures a [`NurseryHandle`](crate::NurseryHandle) (which must be able to reach
    /// the executor) would make the executor borrow itself. Put the executor in an `Arc` instead.
    ///
    /// The nursery holds the executor weakly: it does not keep an `Arc`'d executor alive. If the
    /// executor is dropped, every child is dropped with it (see the crate docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{ExecutorRef, Nursery};
    ///
    /// static EX: Executor<'static> = Executor::new();
    /// let on_static: Nursery<'static, ()> = Nursery::new(&EX);
    ///
    /// let ex = Arc::new(Executor::new());
    /// let executor: ExecutorRef<'_> = ExecutorRef::from(&ex);
    /// let on_arc: Nursery<'_, ()> = Nursery::new(executor);
    /// # drop((on_static, on_arc));
    /// ```
    ///
    /// A local executor borrowed by reference does not compile:
    ///
    /// ```compile_fail
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Executor::new();
    /// let n = Nursery::<()>::new(&ex); // error: `ex` does not live long enough
    /// ```
    ///
    /// The compiler reports this one as "`ex` does not live long enough ... argument requires that
    /// `ex` is borrowed for `'static`": the only plain reference accepted is a `'static` one.
    pub struct ExecutorRef reaches Executor in sync::Arc;

    /// What [`Nursery::new`](crate::Nursery::new) accepts as its executor: a
    /// `&'static Executor<'static>`, a `&Arc<Executor<'ex>>`, or an [`ExecutorRef`] made from
    /// either.
    ///
    /// This trait is sealed. It exists so that passing anything else names the fix in the
    /// compiler's error instead of a bare "trait bound not satisfied".
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{IntoExecutor, Nursery};
    ///
    /// fn nursery_on<'ex>(executor: impl IntoExecutor<'ex>) -> Nursery<'ex, std::io::Error> {
    ///     Nursery::new(executor)
    /// }
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = nursery_on(&ex);
    /// # drop(nursery);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "a nursery cannot run its children on `{Self}`",
        label = "expected `&Arc<Executor<'_>>` or `&'static Executor<'static>`",
        note = "put the executor in an `Arc` and pass a reference to it: `let ex = Arc::new(Executor::new()); Nursery::new(&ex)`",
        note = "or use a `static EX: Executor<'static> = Executor::new();` and pass `&EX`"
    )]
    pub trait IntoExecutor;

    bounds [Send +];
}
