//! The executors of a [`Nursery`](crate::Nursery): children are `Send`.

use std::sync::{Arc, Weak};

use async_executor::{Executor, Task};

use super::{sealed::Sealed, Deferred, ExecutorKind, IntoExecutor, Reach, Spawn};
use crate::task::Output;

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
/// A child that opens a nursery or a [`scope`](crate::scope) of its own needs the executor
/// too: move a clone of the `Arc` into it, or an `ExecutorRef`, which is `Clone` and holds the
/// executor weakly (a borrowed `&Arc` does not live long enough for a child):
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{scope, ExecutorRef, Nursery};
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::<()>::new(&ex);
///     let inner = ExecutorRef::from(&ex);
///     let total = nursery.start_soon(async move {
///         scope(inner, |n| async move {
///             let half = n.start_soon(async { Ok(21) }).expect("open");
///             Ok::<_, ()>(half.await.unwrap() * 2)
///         })
///         .await
///         .map_err(|_| ())
///     });
///     nursery.join().await.unwrap();
///     assert_eq!(total.await, Ok(42));
/// }));
/// ```
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
#[derive(Clone)]
pub struct ExecutorRef<'ex> {
    /// How the executor is reached.
    reach: Reach<'ex, Executor<'ex>, Weak<Executor<'ex>>>,
}

impl<'ex> ExecutorKind for ExecutorRef<'ex> {
    type Admit = Box<dyn FnOnce(&Self) -> bool + Send + 'ex>;
}

impl<'ex, F> Spawn<'ex, F> for ExecutorRef<'ex>
where
    F: std::future::Future + Send + 'ex,
    F::Output: Send + 'ex,
{
    fn spawn(&self, future: F) -> Result<Task<F::Output>, F> {
        self.reach.spawn_with(future, |ex, future| ex.spawn(future))
    }

    fn defer<T: 'ex>(later: Deferred<F, T>) -> Self::Admit
    where
        F: std::future::Future<Output = Output<T>>,
    {
        Box::new(move |executor: &Self| later.admit(executor))
    }
}

impl From<&'static Executor<'static>> for ExecutorRef<'static> {
    fn from(ex: &'static Executor<'static>) -> Self {
        ExecutorRef {
            reach: Reach::Static(ex),
        }
    }
}

impl<'ex> From<&Arc<Executor<'ex>>> for ExecutorRef<'ex> {
    fn from(ex: &Arc<Executor<'ex>>) -> Self {
        ExecutorRef {
            reach: Reach::Weak(Arc::downgrade(ex)),
        }
    }
}

impl IntoExecutor<'static, ExecutorRef<'static>> for &'static Executor<'static> {
    fn into_executor(self) -> ExecutorRef<'static> {
        ExecutorRef::from(self)
    }
}

impl<'ex> IntoExecutor<'ex, ExecutorRef<'ex>> for &Arc<Executor<'ex>> {
    fn into_executor(self) -> ExecutorRef<'ex> {
        ExecutorRef::from(self)
    }
}

impl<'ex> IntoExecutor<'ex, ExecutorRef<'ex>> for ExecutorRef<'ex> {
    fn into_executor(self) -> ExecutorRef<'ex> {
        self
    }
}

impl Sealed for &'static Executor<'static> {}
impl Sealed for &Arc<Executor<'_>> {}
impl Sealed for ExecutorRef<'_> {}

impl std::fmt::Debug for ExecutorRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ExecutorRef")
            .field(&self.reach.form())
            .finish()
    }
}
