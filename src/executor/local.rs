//! The executors of a [`LocalNursery`](crate::LocalNursery): children need not be `Send`.

use std::rc::{Rc, Weak};

use async_executor::{LocalExecutor, Task};

use super::{sealed::Sealed, Deferred, ExecutorKind, IntoExecutor, Reach, Spawn};
use crate::task::Output;

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
#[derive(Clone)]
pub struct LocalExecutorRef<'ex> {
    /// How the executor is reached.
    reach: Reach<'ex, LocalExecutor<'ex>, Weak<LocalExecutor<'ex>>>,
}

impl<'ex> ExecutorKind for LocalExecutorRef<'ex> {
    type Admit = Box<dyn FnOnce(&Self) -> bool + 'ex>;
}

impl<'ex, F> Spawn<'ex, F> for LocalExecutorRef<'ex>
where
    F: std::future::Future + 'ex,
    F::Output: 'ex,
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

impl From<&'static LocalExecutor<'static>> for LocalExecutorRef<'static> {
    fn from(ex: &'static LocalExecutor<'static>) -> Self {
        LocalExecutorRef {
            reach: Reach::Static(ex),
        }
    }
}

impl<'ex> From<&Rc<LocalExecutor<'ex>>> for LocalExecutorRef<'ex> {
    fn from(ex: &Rc<LocalExecutor<'ex>>) -> Self {
        LocalExecutorRef {
            reach: Reach::Weak(Rc::downgrade(ex)),
        }
    }
}

impl IntoExecutor<'static, LocalExecutorRef<'static>> for &'static LocalExecutor<'static> {
    fn into_executor(self) -> LocalExecutorRef<'static> {
        LocalExecutorRef::from(self)
    }
}

impl<'ex> IntoExecutor<'ex, LocalExecutorRef<'ex>> for &Rc<LocalExecutor<'ex>> {
    fn into_executor(self) -> LocalExecutorRef<'ex> {
        LocalExecutorRef::from(self)
    }
}

impl<'ex> IntoExecutor<'ex, LocalExecutorRef<'ex>> for LocalExecutorRef<'ex> {
    fn into_executor(self) -> LocalExecutorRef<'ex> {
        self
    }
}

impl Sealed for &'static LocalExecutor<'static> {}
impl Sealed for &Rc<LocalExecutor<'_>> {}
impl Sealed for LocalExecutorRef<'_> {}

impl std::fmt::Debug for LocalExecutorRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LocalExecutorRef")
            .field(&self.reach.form())
            .finish()
    }
}
