//! The executors nurseries spawn their children on, and the one seam where the two forms of
//! nursery differ.
//!
//! [`Nursery`](crate::Nursery) spawns on an [`ExecutorRef`] (children must be `Send`),
//! [`LocalNursery`](crate::LocalNursery) on a [`LocalExecutorRef`] (children need not be).
//! Everything else — the child's wrapper, the core, the limit, `start`, grace, the tree — is one
//! implementation, generic over the executor kind `X`. The kinds differ in exactly two places,
//! both here:
//!
//! - [`Spawn::spawn`]: which futures the executor accepts. `ExecutorRef` implements
//!   `Spawn<F>` only for `F: Send`, so a `Send` bound appears wherever code spawns on it; for
//!   `LocalExecutorRef` every `F` will do.
//! - [`Spawner::Admit`]: a child waiting, unspawned, for room under a limit is boxed; the box
//!   is `Send` on `ExecutorRef`, which keeps a `Nursery` `Send` and `Sync`.
//!
//! The public types of each form are generated from one template each (`nursery_form!` in
//! `nursery.rs`, `handle_form!`, `slot_form!`, `scope_form!`, `builder_form!`, and
//! `executor_kind!` below), so their signatures show plain bounds (`C::Future: Send + 'ex` on `Nursery`, `C::Future: 'ex` on
//! `LocalNursery`) and never this module's traits.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use async_executor::Task;

use crate::task::Admission;
use crate::task::Output;

/// A kind of executor reference: what a nursery of that kind holds to spawn its children.
pub(crate) trait Spawner: Clone + Sized {
    /// A child waiting for room under a limit, boxed, that spawns it when called (and tells
    /// whether it could).
    type Admit: FnOnce() -> bool;
}

/// An executor kind that can spawn futures of type `F`.
pub(crate) trait Spawn<'ex, F: Future>: Spawner {
    /// Spawns `future`, or gives it back if the executor has been dropped.
    fn spawn(&self, future: F) -> Result<Task<F::Output>, F>;

    /// Boxes a child that waits for admission under a limit.
    fn defer<T: 'ex>(later: Deferred<F, Self, T>) -> Self::Admit
    where
        F: Future<Output = Output<T>>;
}

/// A child waiting for admission: what to spawn, where, and whom to tell.
pub(crate) struct Deferred<F, X, T> {
    /// The executor it will be spawned on.
    pub(crate) executor: X,
    /// The child's wrapper, not yet spawned.
    pub(crate) child: F,
    /// Where its `TaskHandle` waits for the executor's task.
    pub(crate) filled: Arc<Admission<T>>,
}

impl<F, X, T> Deferred<F, X, T> {
    /// Spawns the child and hands its task to its `TaskHandle`. Returns `false` if the
    /// executor is gone; the child is then dropped here, which gives its permit back.
    pub(crate) fn admit<'ex>(self) -> bool
    where
        F: Future<Output = Output<T>> + 'ex,
        X: Spawn<'ex, F>,
    {
        let task = self.executor.spawn(self.child).map(Task::fallible);
        let spawned = task.is_ok();
        self.filled.fill(task.ok());
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
    fn spawn_with<F, R>(&self, future: F, spawn: impl FnOnce(&X, F) -> R) -> Result<R, F> {
        match self {
            Reach::Static(ex) => Ok(spawn(ex, future)),
            Reach::Weak(weak) => match weak.upgrade() {
                Some(ex) => Ok(spawn(&ex, future)),
                None => Err(future),
            },
        }
    }

    /// How the executor is reached, for `Debug`.
    fn form(&self) -> &'static str {
        match self {
            Reach::Static(_) => "static",
            Reach::Weak(weak) if weak.upgrade().is_some() => "shared",
            Reach::Weak(_) => "dropped",
        }
    }
}

/// Keeps [`IntoExecutor`] and [`IntoLocalExecutor`] closed to other implementations.
mod sealed {
    /// Implemented for exactly the types the two traits are implemented for.
    pub trait Sealed {}
}

/// One executor kind: the struct `$Ref` that reaches a `$Executor` (`'static`, or through a
/// `std::$m::$Rc`), the sealed trait `$Into` that `new` takes, the conversions into it, and
/// its `Spawner` and `Spawn` implementations, whose futures and queued children carry the
/// bounds `$($Send)*`. Docs and attributes come from the invocation.
macro_rules! executor_kind {
    (
        $(#[$ref_meta:meta])*
        pub struct $Ref:ident reaches $Executor:ident in $m:ident::$Rc:ident;
        $(#[$into_meta:meta])*
        pub trait $Into:ident;
        bounds [$($Send:tt)*];
    ) => {
        $(#[$ref_meta])*
        #[derive(Clone)]
        pub struct $Ref<'ex> {
            /// How the executor is reached.
            reach: Reach<'ex, $Executor<'ex>, std::$m::Weak<$Executor<'ex>>>,
        }

        impl<'ex> Spawner for $Ref<'ex> {
            type Admit = Box<dyn FnOnce() -> bool + $($Send)* 'ex>;
        }

        impl<'ex, F> Spawn<'ex, F> for $Ref<'ex>
        where
            F: std::future::Future + $($Send)* 'ex,
            F::Output: $($Send)* 'ex,
        {
            fn spawn(&self, future: F) -> Result<async_executor::Task<F::Output>, F> {
                self.reach.spawn_with(future, |ex, future| ex.spawn(future))
            }

            fn defer<T: 'ex>(later: Deferred<F, Self, T>) -> Self::Admit
            where
                F: std::future::Future<Output = crate::task::Output<T>>,
            {
                Box::new(move || later.admit())
            }
        }

        $(#[$into_meta])*
        pub trait $Into<'ex>: super::sealed::Sealed {
            /// Converts into the nursery's reference to its executor.
            #[doc(hidden)]
            fn into_executor(self) -> $Ref<'ex>;
        }

        impl From<&'static $Executor<'static>> for $Ref<'static> {
            fn from(ex: &'static $Executor<'static>) -> Self {
                $Ref {
                    reach: Reach::Static(ex),
                }
            }
        }

        impl<'ex> From<&std::$m::$Rc<$Executor<'ex>>> for $Ref<'ex> {
            fn from(ex: &std::$m::$Rc<$Executor<'ex>>) -> Self {
                $Ref {
                    reach: Reach::Weak(std::$m::$Rc::downgrade(ex)),
                }
            }
        }

        impl $Into<'static> for &'static $Executor<'static> {
            fn into_executor(self) -> $Ref<'static> {
                $Ref::from(self)
            }
        }

        impl<'ex> $Into<'ex> for &std::$m::$Rc<$Executor<'ex>> {
            fn into_executor(self) -> $Ref<'ex> {
                $Ref::from(self)
            }
        }

        impl<'ex> $Into<'ex> for $Ref<'ex> {
            fn into_executor(self) -> $Ref<'ex> {
                self
            }
        }

        impl super::sealed::Sealed for &'static $Executor<'static> {}
        impl<'ex> super::sealed::Sealed for &std::$m::$Rc<$Executor<'ex>> {}
        impl<'ex> super::sealed::Sealed for $Ref<'ex> {}

        impl std::fmt::Debug for $Ref<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($Ref))
                    .field(&self.reach.form())
                    .finish()
            }
        }
    };
}

mod local;
mod send;

pub use local::{IntoLocalExecutor, LocalExecutorRef};
pub use send::{ExecutorRef, IntoExecutor};
