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
///
/// The compiler reports this one as "`ex` does not live long enough ... argument requires that
/// `ex` is borrowed for `'static`": the only plain reference accepted is a `'static` one.
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
pub trait IntoExecutor<'ex>: sealed::Sealed {
    /// Converts into the nursery's reference to its executor.
    #[doc(hidden)]
    fn into_executor(self) -> ExecutorRef<'ex>;
}

impl IntoExecutor<'static> for &'static Executor<'static> {
    fn into_executor(self) -> ExecutorRef<'static> {
        ExecutorRef::from(self)
    }
}

impl<'ex> IntoExecutor<'ex> for &Arc<Executor<'ex>> {
    fn into_executor(self) -> ExecutorRef<'ex> {
        ExecutorRef::from(self)
    }
}

impl<'ex> IntoExecutor<'ex> for ExecutorRef<'ex> {
    fn into_executor(self) -> ExecutorRef<'ex> {
        self
    }
}

/// Keeps [`IntoExecutor`] closed to other implementations.
mod sealed {
    use std::sync::Arc;

    use async_executor::Executor;

    /// Implemented for exactly the types `IntoExecutor` is implemented for.
    pub trait Sealed {}

    impl Sealed for &'static Executor<'static> {}
    impl<'ex> Sealed for &Arc<Executor<'ex>> {}
    impl<'ex> Sealed for super::ExecutorRef<'ex> {}
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
