//! The nursery tree: which child is being polled on this thread, so that a nursery created
//! during that poll knows its parent.
//!
//! The child wrapper (and a scope, for its body) sets the context for the duration of each
//! poll; a nursery created meanwhile records the core it finds and the child's id. Setting it
//! is two thread-local writes and a restore per poll, and nothing else in a child's life
//! touches it.

use std::cell::Cell;
use std::sync::Arc;

use crate::core::Core;
use crate::registry::Id;

scoped_tls::scoped_thread_local!(
    /// The core of the nursery whose child is being polled on this thread.
    static CURRENT: Core
);

thread_local! {
    /// The id of the child being polled on this thread, beside [`CURRENT`].
    static CHILD: Cell<Id> = const { Cell::new(0) };
}

/// Where a nursery was opened: in which child of which nursery.
#[derive(Clone, Debug)]
pub(crate) struct Parent {
    /// The parent nursery's core.
    pub(crate) core: Arc<Core>,
    /// The child of the parent during whose poll the nursery was created.
    pub(crate) child: Id,
}

/// Runs `poll` as the poll of child `id` of `core`'s nursery.
#[inline]
pub(crate) fn enter<R>(core: &Core, id: Id, poll: impl FnOnce() -> R) -> R {
    let outer = CHILD.with(|child| child.replace(id));
    let result = CURRENT.set(core, poll);
    CHILD.with(|child| child.set(outer));
    result
}

/// The child being polled on this thread, if any: the parent of a nursery created now.
pub(crate) fn current() -> Option<Parent> {
    if !CURRENT.is_set() {
        return None;
    }
    let core = CURRENT.with(Core::arc)?;
    Some(Parent {
        core,
        child: CHILD.with(Cell::get),
    })
}
