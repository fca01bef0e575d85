//! The executor kinds of async-executor's leaked executors (feature `static`):
//! [`StaticExecutorRef`] and [`StaticLocalExecutorRef`].
//!
//! A leaked executor lives for the whole program and spawns without locking its table of
//! active tasks. The kinds accept only `'static` children, which is what lets them call the
//! safe `StaticExecutor::spawn`: the nursery's methods for these kinds (in `statics.rs`) carry
//! `'static` bounds, so no `unsafe` `spawn_scoped` is needed.

use std::future::Future;

use async_executor::{StaticExecutor, StaticLocalExecutor, Task};

use super::{sealed::Sealed, Deferred, ExecutorKind, IntoExecutor, Spawn};
use crate::task::Output;

/// The executor a nursery on a leaked [`StaticExecutor`] starts its children on: made from a
/// `&'static StaticExecutor` (a `static EX: StaticExecutor = StaticExecutor::new();`, or
/// `Executor::leak`). Children must be `Send + 'static`. Requires the feature `static`.
///
/// # Examples
///
/// ```
/// use async_executor::StaticExecutor;
/// use smol_nursery::{Nursery, StaticExecutorRef};
///
/// static EX: StaticExecutor = StaticExecutor::new();
///
/// futures_lite::future::block_on(EX.run(async {
///     let nursery: Nursery<'static, (), StaticExecutorRef> = Nursery::new(&EX);
///     let child = nursery.start_soon(async { Ok(21 * 2) });
///     nursery.join().await.unwrap();
///     assert_eq!(child.await, Ok(42));
/// }));
/// ```
#[derive(Clone, Copy)]
pub struct StaticExecutorRef {
    /// The executor; it is never dropped, so spawning never fails.
    executor: &'static StaticExecutor,
}

/// The executor a nursery on a leaked [`StaticLocalExecutor`] starts its children on: made
/// from a `&'static StaticLocalExecutor`. Children must be `'static`, and need not be `Send`.
/// Requires the feature `static`.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::{Nursery, StaticLocalExecutorRef};
///
/// let ex = LocalExecutor::new().leak();
/// futures_lite::future::block_on(ex.run(async {
///     let nursery: Nursery<'static, (), StaticLocalExecutorRef> = Nursery::new(ex);
///     let child = nursery.start_soon(async { Ok(Rc::new("not Send")) });
///     nursery.join().await.unwrap();
///     assert_eq!(*child.await.unwrap(), "not Send");
/// }));
/// ```
#[derive(Clone, Copy)]
pub struct StaticLocalExecutorRef {
    /// The executor; it is never dropped, so spawning never fails.
    executor: &'static StaticLocalExecutor,
}

impl ExecutorKind for StaticExecutorRef {
    type Admit = Box<dyn FnOnce(&Self) -> bool + Send + 'static>;
}

impl ExecutorKind for StaticLocalExecutorRef {
    type Admit = Box<dyn FnOnce(&Self) -> bool + 'static>;
}

impl<F> Spawn<'static, F> for StaticExecutorRef
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn spawn(&self, future: F) -> Result<Task<F::Output>, F> {
        Ok(self.executor.spawn(future))
    }

    fn defer<T: 'static>(later: Deferred<F, T>) -> Self::Admit
    where
        F: Future<Output = Output<T>>,
    {
        Box::new(move |executor: &Self| later.admit(executor))
    }
}

impl<F> Spawn<'static, F> for StaticLocalExecutorRef
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn spawn(&self, future: F) -> Result<Task<F::Output>, F> {
        Ok(self.executor.spawn(future))
    }

    fn defer<T: 'static>(later: Deferred<F, T>) -> Self::Admit
    where
        F: Future<Output = Output<T>>,
    {
        Box::new(move |executor: &Self| later.admit(executor))
    }
}

impl IntoExecutor<'static, StaticExecutorRef> for &'static StaticExecutor {
    fn into_executor(self) -> StaticExecutorRef {
        StaticExecutorRef { executor: self }
    }
}

impl IntoExecutor<'static, StaticLocalExecutorRef> for &'static StaticLocalExecutor {
    fn into_executor(self) -> StaticLocalExecutorRef {
        StaticLocalExecutorRef { executor: self }
    }
}

impl Sealed for &'static StaticExecutor {}
impl Sealed for &'static StaticLocalExecutor {}
impl Sealed for StaticExecutorRef {}
impl Sealed for StaticLocalExecutorRef {}

impl std::fmt::Debug for StaticExecutorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticExecutorRef")
    }
}

impl std::fmt::Debug for StaticLocalExecutorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticLocalExecutorRef")
    }
}
