//! The executors of a [`LocalNursery`](crate::LocalNursery): children need not be `Send`.

use async_executor::LocalExecutor;

use super::{Deferred, Reach, Spawn, Spawner};

executor_kind! {
    /// The executor a [`LocalNursery`](crate::LocalNursery) starts its children on: the argument
    /// of [`LocalNursery::new`](crate::LocalNursery::new).
    ///
    /// It is made from one of two things, and nothing else:
    ///
    /// - `&Rc<LocalExecutor<'ex>>`. Children may borrow data declared before the executor.
    /// - `&'static LocalExecutor<'static>`, e.g. from `Box::leak(Box::new(LocalExecutor::new()))`.
    ///   Children must then be `'static`.
    ///
    /// As with [`ExecutorRef`](crate::ExecutorRef), a plain `&LocalExecutor<'ex>` borrowed from a
    /// local variable is rejected at compile time, and the nursery holds an `Rc`'d executor weakly:
    /// if the executor is dropped, every child is dropped with it.
    ///
    /// A `LocalExecutorRef` is neither `Send` nor `Sync`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{LocalExecutorRef, LocalNursery};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let executor: LocalExecutorRef<'_> = LocalExecutorRef::from(&ex);
    /// let on_rc: LocalNursery<'_, ()> = LocalNursery::new(executor);
    ///
    /// let leaked: &'static LocalExecutor<'static> = Box::leak(Box::new(LocalExecutor::new()));
    /// let on_static: LocalNursery<'static, ()> = LocalNursery::new(leaked);
    /// # drop((on_rc, on_static));
    /// ```
    ///
    /// A local executor borrowed by reference does not compile:
    ///
    /// ```compile_fail
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = LocalExecutor::new();
    /// let n = LocalNursery::<()>::new(&ex); // error: `ex` does not live long enough
    /// ```
    pub struct LocalExecutorRef reaches LocalExecutor in rc::Rc;

    /// What [`LocalNursery::new`](crate::LocalNursery::new) accepts as its executor: a
    /// `&Rc<LocalExecutor<'ex>>`, a `&'static LocalExecutor<'static>`, or a [`LocalExecutorRef`]
    /// made from either.
    ///
    /// This trait is sealed, like [`IntoExecutor`](crate::IntoExecutor).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{IntoLocalExecutor, LocalNursery};
    ///
    /// fn nursery_on<'ex>(executor: impl IntoLocalExecutor<'ex>) -> LocalNursery<'ex, String> {
    ///     LocalNursery::new(executor)
    /// }
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = nursery_on(&ex);
    /// # drop(nursery);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "a local nursery cannot run its children on `{Self}`",
        label = "expected `&Rc<LocalExecutor<'_>>` or `&'static LocalExecutor<'static>`",
        note = "put the executor in an `Rc` and pass a reference to it: `let ex = Rc::new(LocalExecutor::new()); LocalNursery::new(&ex)`; for an `Executor` shared by threads, use `Nursery`"
    )]
    pub trait IntoLocalExecutor;

    bounds [];
}
