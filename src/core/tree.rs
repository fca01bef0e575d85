//! The nursery tree: which child is being polled on this thread, so that a nursery created
//! during that poll knows its parent.
//!
//! The child wrapper (and a scope, for its body) notes, for the duration of each poll, the
//! address of its nursery's core and its own id in a plain thread-local cell: a store and a
//! restore per poll, no atomic (callgrind: about 6 instructions a poll; `scoped-tls`, tried
//! first, cost about 94). A nursery created meanwhile
//! looks the address up in [`CORES`], the table of live cores, to link to its parent: that
//! costs a lock per nursery created or dropped, never per child.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::sync::thread_locals;

use super::Core;
use crate::registry::Id;

thread_locals! {
    /// The address of the core whose child is being polled on this thread (0 when none), and
    /// that child's id.
    static CURRENT: Cell<(usize, Id)> = Cell::new((0, 0));
}

/// Every live core, by address, so that a nursery created during a child's poll can reach its
/// parent from the address [`CURRENT`] holds. A core is added when it is created and removed
/// when it is dropped, before its memory can be reused.
static CORES: Mutex<Option<HashMap<usize, Weak<Core>>>> = Mutex::new(None);

/// Where a nursery was opened: in which child of which nursery.
#[derive(Clone, Debug)]
pub(crate) struct Parent {
    /// The parent nursery's core.
    pub(crate) core: Arc<Core>,
    /// The child of the parent during whose poll the nursery was created.
    pub(crate) child: Id,
}

/// The address that identifies `core` in [`CORES`] and [`CURRENT`].
fn address(core: &Core) -> usize {
    core as *const Core as usize
}

/// Runs `poll` as the poll of child `id` of `core`'s nursery. `poll` must not unwind (the
/// wrappers run it under `catch_unwind`), or the note would outlive it.
#[inline]
pub(crate) fn enter<R>(core: &Core, id: Id, poll: impl FnOnce() -> R) -> R {
    let outer = CURRENT.with(|current| current.replace((address(core), id)));
    let result = poll();
    CURRENT.with(|current| current.set(outer));
    result
}

/// The child being polled on this thread, if any: the parent of a nursery created now.
pub(crate) fn current() -> Option<Parent> {
    let (address, child) = CURRENT.with(Cell::get);
    if address == 0 {
        return None;
    }
    let cores = CORES.lock().unwrap_or_else(PoisonError::into_inner);
    let core = cores.as_ref()?.get(&address)?.upgrade()?;
    drop(cores);
    Some(Parent { core, child })
}

/// Adds a new core to the table of live cores.
pub(crate) fn add(core: &Arc<Core>) {
    let mut cores = CORES.lock().unwrap_or_else(PoisonError::into_inner);
    cores
        .get_or_insert_with(HashMap::new)
        .insert(address(core), Arc::downgrade(core));
}

/// Removes a core that is being dropped from the table of live cores.
pub(crate) fn remove(core: &Core) {
    let stale = {
        let mut cores = CORES.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = cores
            .as_mut()
            .and_then(|cores| cores.remove(&address(core)));
        if cores.as_ref().is_some_and(HashMap::is_empty) {
            *cores = None;
        }
        stale
    };
    // The weak reference is dropped once the lock is released.
    drop(stale);
}
