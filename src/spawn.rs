//! Spawning: the one place that puts a child on an executor.
//!
//! Everything below it (the wrapper, the core, the registry) runs the same whatever the
//! executor; everything above it (nursery, handles, `start`, slots) calls [`spawn`].

use std::sync::Arc;

use crate::child::{Child, Starter};
use crate::error::NurseryClosed;
use crate::shared::Shared;
use crate::shield::IntoChild;
use crate::task::TaskHandle;

/// Counts and spawns a child, unless the nursery is closed. `owned` tells that the caller is
/// the nursery's owner, which cannot race with closing; `starter` hears of the child's end
/// before the nursery does.
///
/// If the executor has been dropped, the child is dropped without being polled (its starter
/// hears it was cancelled) and its handle yields `Err(TaskError::Cancelled)`.
pub(crate) fn spawn<'ex, C, E, S>(
    shared: &Arc<Shared<'ex, E>>,
    child: C,
    owned: bool,
    starter: S,
) -> Result<TaskHandle<C::Output>, NurseryClosed>
where
    C: IntoChild<Error = E>,
    C::Future: Send + 'ex,
    C::Output: Send + 'ex,
    E: Send + 'ex,
    S: Starter<E> + Send + 'ex,
{
    let (future, shielded) = child.into_child();
    let id = if owned {
        shared.core.start_owned()
    } else {
        shared.core.start_shared()?
    };
    let child = Child::new(future, shared.clone(), starter, id, shielded);
    match shared.executor.spawn(child) {
        Ok(task) => Ok(TaskHandle::new(task.fallible(), shared.core.clone(), id)),
        Err(child) => {
            // The executor is gone. Dropping the unspawned wrapper drops the child's future
            // (a panic there counts as the child's) and counts it as finished.
            drop(child);
            Ok(TaskHandle::never_spawned())
        }
    }
}
