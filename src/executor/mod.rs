//! The executors nurseries spawn their children on, and the one seam where the two forms of
//! nursery differ.
//!
//! Every public type is generic over its executor kind `X` ([`ExecutorKind`]):
//! [`ExecutorRef`] (the default: an [`Executor`](async_executor::Executor), children must be
//! `Send`) or [`LocalExecutorRef`] (a [`LocalExecutor`](async_executor::LocalExecutor),
//! children need not be). Everything else (the child's wrapper, the core, the limit, `start`,
//! grace, the tree) is one implementation. The kinds differ in exactly two places, both here:
//!
//! - [`Spawn::spawn`]: which futures the executor accepts. `ExecutorRef` implements
//!   `Spawn<F>` only for `F: Send`, so a `Send` bound appears wherever code spawns on it; for
//!   `LocalExecutorRef` every `F` will do. The public methods that spawn (`start_soon`,
//!   `start`, `Slot::start_soon`) are therefore written once per kind, with plain bounds.
//! - [`ExecutorKind::Admit`]: a child waiting, unspawned, for room under a limit is boxed; the
//!   box is `Send` on `ExecutorRef`, which keeps a `Nursery` `Send` and `Sync`.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use async_executor::Task;

use crate::task::Admission;
use crate::task::Output;

/// The kind of executor a nursery runs its children on: [`ExecutorRef`] (children are
/// `Send`) or [`LocalExecutorRef`] (children need not be).
///
/// It is the last type parameter of every nursery type, defaulted to `ExecutorRef`, the way
/// `HashMap<K, V, S = RandomState>` carries its hasher: `LocalNursery<'ex, E>` is
/// `Nursery<'ex, E, LocalExecutorRef<'ex>>`. Users never name it otherwise; the argument of
/// [`Nursery::new`](crate::Nursery::new) fixes it. The trait is sealed.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::{ExecutorKind, LocalNursery, Nursery};
///
/// // One function for both forms: what does not depend on `Send` is written once.
/// fn unfinished<E, X: ExecutorKind>(nursery: &Nursery<'_, E, X>) -> usize {
///     nursery.len()
/// }
///
/// let ex = Rc::new(LocalExecutor::new());
/// let nursery: LocalNursery<'_, ()> = Nursery::new(&ex);
/// assert_eq!(unfinished(&nursery), 0);
/// ```
pub trait ExecutorKind: Clone + sealed::Sealed {
    /// A child waiting for room under a limit, boxed, that spawns it on the executor it is
    /// called with (and tells whether it could).
    #[doc(hidden)]
    type Admit: FnOnce(&Self) -> bool;
}

/// An executor kind that can spawn futures of type `F`.
pub(crate) trait Spawn<'ex, F: Future>: ExecutorKind {
    /// Spawns `future`, or gives it back if the executor has been dropped.
    fn spawn(&self, future: F) -> Result<Task<F::Output>, F>;

    /// Boxes a child that waits for admission under a limit.
    fn defer<T: 'ex>(later: Deferred<F, T>) -> Self::Admit
    where
        F: Future<Output = Output<T>>;
}

/// A child waiting for admission: what to spawn and whom to tell. The executor is the
/// nursery's, handed over at admission (so that a queued child holds no reference of its own).
pub(crate) struct Deferred<F, T> {
    /// The child's wrapper, not yet spawned.
    pub(crate) child: F,
    /// Where its `TaskHandle` waits for the executor's task; `None` if nobody holds one (a
    /// set's child): the task is then detached.
    pub(crate) filled: Option<Arc<Admission<T>>>,
}

impl<F, T> Deferred<F, T> {
    /// Spawns the child and hands its task to its `TaskHandle`. Returns `false` if the
    /// executor is gone; the child is then dropped here, which gives its permit back.
    pub(crate) fn admit<'ex, X>(self, executor: &X) -> bool
    where
        F: Future<Output = Output<T>> + 'ex,
        X: Spawn<'ex, F>,
    {
        let task = executor.spawn(self.child);
        let spawned = task.is_ok();
        match (self.filled, task) {
            (Some(filled), task) => filled.fill(task.ok().map(Task::fallible)),
            (None, Ok(task)) => task.detach(),
            (None, Err(child)) => drop(child),
        }
        spawned
    }
}

/// How a nursery reaches its executor: a `'static` one by reference, or one behind a weak
/// pointer (held weakly so that a child capturing a handle makes no cycle: executor → task →
/// child → handle → executor).
pub(crate) enum Reach<'ex, X, W> {
    /// A `'static` executor. The reference is `&'ex X` with `'ex = 'static`: the only
    /// constructors take `&'static`.
    Static(&'ex X),
    /// An `Arc`'d or `Rc`'d executor.
    Weak(W),
}

impl<X, W: Clone> Clone for Reach<'_, X, W> {
    fn clone(&self) -> Self {
        match self {
            Reach::Static(ex) => Reach::Static(ex),
            Reach::Weak(weak) => Reach::Weak(weak.clone()),
        }
    }
}

/// `std::sync::Weak` and `std::rc::Weak`.
pub(crate) trait WeakRef {
    /// The strong pointer.
    type Strong: Deref;
    /// The strong pointer, if the executor is alive.
    fn upgrade(&self) -> Option<Self::Strong>;
}

impl<T> WeakRef for std::sync::Weak<T> {
    type Strong = Arc<T>;
    fn upgrade(&self) -> Option<Arc<T>> {
        std::sync::Weak::upgrade(self)
    }
}

impl<T> WeakRef for std::rc::Weak<T> {
    type Strong = std::rc::Rc<T>;
    fn upgrade(&self) -> Option<std::rc::Rc<T>> {
        std::rc::Weak::upgrade(self)
    }
}

impl<X, W> Reach<'_, X, W>
where
    W: WeakRef,
    W::Strong: Deref<Target = X>,
{
    /// Calls `spawn` with the executor and `future`, or gives `future` back if the executor
    /// has been dropped.
    pub(super) fn spawn_with<F, R>(
        &self,
        future: F,
        spawn: impl FnOnce(&X, F) -> R,
    ) -> Result<R, F> {
        match self {
            Reach::Static(ex) => Ok(spawn(ex, future)),
            Reach::Weak(weak) => match weak.upgrade() {
                Some(ex) => Ok(spawn(&ex, future)),
                None => Err(future),
            },
        }
    }

    /// How the executor is reached, for `Debug`.
    pub(super) fn form(&self) -> &'static str {
        match self {
            Reach::Static(_) => "static",
            Reach::Weak(weak) if weak.upgrade().is_some() => "shared",
            Reach::Weak(_) => "dropped",
        }
    }
}

/// Keeps [`ExecutorKind`] and [`IntoExecutor`] closed to other implementations.
mod sealed {
    /// Implemented for exactly the types the sealed traits are implemented for.
    pub trait Sealed {}
}

/// What [`Nursery::new`](crate::Nursery::new) (and [`scope`](crate::scope),
/// [`NurseryBuilder::build`](crate::NurseryBuilder::build)...) accept as the executor of a
/// nursery of kind `X`.
///
/// For a [`Nursery`](crate::Nursery) (`X` = [`ExecutorRef`], the default): a
/// `&'static Executor<'static>`, a `&Arc<Executor<'ex>>`, or an `ExecutorRef` made from
/// either. For a [`LocalNursery`](crate::LocalNursery) (`X` = [`LocalExecutorRef`]): a
/// `&Rc<LocalExecutor<'ex>>`, a `&'static LocalExecutor<'static>`, or a `LocalExecutorRef`.
/// The argument alone tells which kind of nursery `Nursery::new` makes.
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
    label = "expected `&Arc<Executor<'_>>` or `&'static Executor<'static>` (for a `LocalNursery`: `&Rc<LocalExecutor<'_>>` or `&'static LocalExecutor<'static>`)",
    note = "put the executor in an `Arc` and pass a reference to it: `let ex = Arc::new(Executor::new()); Nursery::new(&ex)`",
    note = "or use a `static EX: Executor<'static> = Executor::new();` and pass `&EX`",
    note = "for children that are not `Send`: `let ex = Rc::new(LocalExecutor::new()); LocalNursery::new(&ex)`"
)]
pub trait IntoExecutor<'ex, X: ExecutorKind = ExecutorRef<'ex>>: sealed::Sealed {
    /// Converts into the nursery's reference to its executor.
    #[doc(hidden)]
    fn into_executor(self) -> X;
}

/// What [`LocalNursery::new`](crate::LocalNursery::new) accepts as its executor: a
/// `&Rc<LocalExecutor<'ex>>`, a `&'static LocalExecutor<'static>`, or a [`LocalExecutorRef`]
/// made from either. It is [`IntoExecutor`] for the local kind, under a name of its own.
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
pub trait IntoLocalExecutor<'ex>: IntoExecutor<'ex, LocalExecutorRef<'ex>> {}

impl<'ex, T: IntoExecutor<'ex, LocalExecutorRef<'ex>>> IntoLocalExecutor<'ex> for T {}

mod local;
mod send;
#[cfg(feature = "static")]
mod statics;

pub use local::LocalExecutorRef;
pub use send::ExecutorRef;
#[cfg(feature = "static")]
pub use statics::{StaticExecutorRef, StaticLocalExecutorRef};
