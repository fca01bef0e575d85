//! Spawning: the one place that puts a child on an executor.
//!
//! Everything below it (the wrapper, the core, the registry) runs the same whatever the
//! executor; everything above it (nursery, handles, `start`, slots) calls [`spawn`] or
//! [`launch`]. Here too a child is given its grace adapter and, under a limit, waits for
//! admission. The executor kind `X` is generic: [`SpawnChild`] says that it can spawn the
//! wrappers a child `C` may be put in, which for `ExecutorRef` means that they are `Send`.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::Instant;

use crate::child::{Child, Starter};
use crate::error::NurseryClosed;
use crate::executor::{Deferred, Spawn};
use crate::grace::Graced;
use crate::registry::{Id, Site};
use crate::shared::{Caller, Shared};
use crate::shield::IntoChild;
use crate::task::Admission;
use crate::task::TaskHandle;

/// An executor kind that can spawn the child `C` started with the starter `S`, with or without
/// a grace period.
pub(crate) trait SpawnChild<'ex, C: IntoChild, S: Starter<C::Error>>:
    Spawn<'ex, Child<C::Future, C::Error, S, Self>>
    + Spawn<'ex, Child<Graced<C::Future>, C::Error, S, Self>>
{
}

impl<'ex, C, S, X> SpawnChild<'ex, C, S> for X
where
    C: IntoChild,
    S: Starter<C::Error>,
    X: Spawn<'ex, Child<C::Future, C::Error, S, X>>
        + Spawn<'ex, Child<Graced<C::Future>, C::Error, S, X>>,
{
}

/// Whether a child being launched still has to take a permit of the nursery's limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Permit {
    /// It must take one (or wait for one) before it is spawned.
    Take,
    /// It holds one already: it comes from a slot.
    Held,
}

/// Counts and launches a child, unless a handle finds the nursery closed; `starter` hears of
/// the child's end before the nursery does.
pub(crate) fn spawn<'ex, C, E, S, X>(
    shared: &Arc<Shared<E, X>>,
    child: C,
    caller: Caller,
    starter: S,
    location: &'static Location<'static>,
) -> Result<TaskHandle<C::Output>, NurseryClosed>
where
    C: IntoChild<Error = E>,
    C::Future: 'ex,
    C::Output: 'ex,
    S: Starter<E>,
    X: SpawnChild<'ex, C, S>,
{
    let id = shared.count_child(caller)?;
    Ok(launch(shared, child, id, starter, Permit::Take, location))
}

/// Launches a child already counted as `id`; `permit` tells whether it holds a permit of the
/// nursery's limit already (it comes from a slot).
///
/// If the executor has been dropped, the child is dropped without being polled (its starter
/// hears it was cancelled) and its handle yields `Err(TaskError::Cancelled)`.
pub(crate) fn launch<'ex, C, E, S, X>(
    shared: &Arc<Shared<E, X>>,
    child: C,
    id: Id,
    starter: S,
    permit: Permit,
    location: &'static Location<'static>,
) -> TaskHandle<C::Output>
where
    C: IntoChild<Error = E>,
    C::Future: 'ex,
    C::Output: 'ex,
    S: Starter<E>,
    X: SpawnChild<'ex, C, S>,
{
    let grace = child.grace();
    let (future, shielded) = child.into_child();
    let site = |graced| Site { location, graced };
    match grace {
        // No grace at all: an ordinary child.
        Some(grace) if grace.is_zero() => {
            place(shared, id, starter, false, site(false), permit, |_| future)
        }
        Some(grace) if Instant::now().checked_add(grace).is_some() => {
            let core = shared.core.clone();
            place(
                shared,
                id,
                starter,
                true,
                site(true),
                permit,
                move |queued: bool| Graced::new(future, core, id, grace, queued.then(Instant::now)),
            )
        }
        // No grace, or one too long to count: as shielded as `shielded` says.
        _ => place(shared, id, starter, shielded, site(false), permit, |_| {
            future
        }),
    }
}

/// Wraps the future `make` builds and spawns it, or queues it for admission under the limit.
/// `make` is told whether the child waits for admission (only a graced child reads the clock
/// then: a queued child's grace counts from the moment it began to wait).
fn place<'ex, F, T, E, S, X>(
    shared: &Arc<Shared<E, X>>,
    id: Id,
    starter: S,
    shielded: bool,
    site: Site,
    permit: Permit,
    make: impl FnOnce(bool) -> F,
) -> TaskHandle<T>
where
    F: Future<Output = Result<T, E>> + 'ex,
    T: 'ex,
    S: Starter<E>,
    X: Spawn<'ex, Child<F, E, S, X>>,
{
    if let (Some(limiter), Permit::Take) = (&shared.limiter, permit) {
        let mut state = limiter.lock();
        if !state.try_take_for_child(limiter.limit()) {
            // No permit: the child waits, unspawned, for the first one freed.
            let admission = S::HANDLED.then(|| Arc::new(Admission::new()));
            let child = Child::new(make(true), shared.clone(), starter, id, shielded, site);
            state.queue(X::defer(Deferred {
                child,
                filled: admission.clone(),
            }));
            drop(state);
            return match admission {
                Some(admission) => TaskHandle::queued(admission, shared.core.clone(), id),
                None => TaskHandle::unused(),
            };
        }
    }
    let child = Child::new(make(false), shared.clone(), starter, id, shielded, site);
    match shared.executor.spawn(child) {
        Ok(task) if !S::HANDLED => {
            task.detach();
            TaskHandle::unused()
        }
        Ok(task) => TaskHandle::new(task.fallible(), shared.core.clone(), id),
        Err(child) => {
            // The executor is gone. Dropping the unspawned wrapper drops the child's future
            // (a panic there counts as the child's) and counts it as finished.
            drop(child);
            TaskHandle::never_spawned()
        }
    }
}
