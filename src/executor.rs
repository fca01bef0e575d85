//! The executor a nursery spawns its children on.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Weak};

use async_executor::{Executor, Task};

/// The executor a [`Nursery`](crate::Nursery) starts its children on: the argument of
/// [`Nursery::new`](crate::Nursery::new).
///
/// It is made from one of two things, and nothing else:
///
/// - `&'static Executor<'static>`, e.g. a `static EX: Executor<'static> = Executor::new();`.
///   Children must then be `'static`.
/// - `&Arc<Executor<'ex>>` (or the `Arc` itself). Children may borrow data that lives
///   longer than the executor, that is, data declared before it.
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
pub struct ExecutorRef<'ex> {
    /// How the executor is reached.
    inner: Inner<'ex>,
}

/// The two accepted forms.
enum Inner<'ex> {
    /// A `'static` executor. The reference is `&'ex Executor<'ex>` with `'ex = 'static`: the
    /// only constructor takes `&'static Executor<'static>`.
    Static(&'ex Executor<'ex>),
    /// An `Arc`'d executor, held weakly so that children capturing a handle do not keep the
    /// executor alive through a cycle (executor → task → child → handle → executor).
    Shared(Weak<Executor<'ex>>),
}

impl<'ex> ExecutorRef<'ex> {
    /// Spawns `future`, or returns it if the executor has been dropped.
    pub(crate) fn spawn<F>(&self, future: F) -> Result<Task<F::Output>, F>
    where
        F: Future + Send + 'ex,
        F::Output: Send + 'ex,
    {
        match &self.inner {
            Inner::Static(ex) => Ok(ex.spawn(future)),
            Inner::Shared(weak) => match weak.upgrade() {
                Some(ex) => Ok(ex.spawn(future)),
                None => Err(future),
            },
        }
    }
}

impl From<&'static Executor<'static>> for ExecutorRef<'static> {
    fn from(ex: &'static Executor<'static>) -> Self {
        ExecutorRef {
            inner: Inner::Static(ex),
        }
    }
}

impl<'ex> From<&Arc<Executor<'ex>>> for ExecutorRef<'ex> {
    fn from(ex: &Arc<Executor<'ex>>) -> Self {
        ExecutorRef {
            inner: Inner::Shared(Arc::downgrade(ex)),
        }
    }
}

impl fmt::Debug for ExecutorRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let form = match &self.inner {
            Inner::Static(_) => "static",
            Inner::Shared(weak) if weak.strong_count() > 0 => "shared",
            Inner::Shared(_) => "dropped",
        };
        f.debug_tuple("ExecutorRef").field(&form).finish()
    }
}
