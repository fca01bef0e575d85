//! Adoption: a nursery dropped before its `join` finished hands what it still runs to the
//! nearest ancestor that was not dropped, whose `join` then waits for it.
//!
//! The hand-over walks up from the dropped nursery to the nearest ancestor that was not
//! dropped (one step per dropped nursery between them, usually none), then: the adopter counts the dropped nursery as one more unfinished
//! "child" (in `started`, so that its `join` waits, and in `adopted`, so that `len()` leaves
//! it out), and the dropped nursery keeps the adopter and that id. When the dropped nursery's
//! last child finishes, that one finish counts the adoption as finished. Nothing about the
//! adopted children reaches the adopter: not their errors, not their panics, not its
//! cancellation.

use std::sync::{Arc, Weak};

use crate::sync::{fence, Ordering};

use super::{Core, DROPPED};
use crate::registry::Id;

/// `Inner::nested` is first pruned at this length.
pub(super) const PRUNE_AT_LEAST: usize = 16;

/// A nursery opened inside one of this nursery's children, or adopted by it.
pub(super) struct Nested {
    /// Its core; dead entries are pruned.
    pub(super) core: Weak<Core>,
    /// The child it was opened in; `None` if it was adopted.
    pub(super) child: Option<Id>,
}

impl Core {
    /// Records a nursery opened inside child `child` of this one (or adopted, if `None`), for
    /// snapshots. Amortized O(1): dead entries are pruned whenever the list doubles.
    pub(super) fn add_nested(&self, core: &Arc<Core>, child: Option<Id>) {
        // Cores upgraded while pruning are dropped after the lock is released: the last
        // reference to one may be among them.
        let mut seen = Vec::new();
        let mut inner = self.lock();
        if inner.nested.len() >= inner.prune_at {
            inner.nested.retain(|nested| {
                let Some(core) = nested.core.upgrade() else {
                    return false;
                };
                let live = core.is_live();
                seen.push(core);
                live
            });
            inner.prune_at = (inner.nested.len() * 2).max(PRUNE_AT_LEAST);
        }
        inner.nested.push(Nested {
            core: Arc::downgrade(core),
            child,
        });
        drop(inner);
        drop(seen);
    }

    /// The nursery was dropped (before `join` finished).
    pub(crate) fn is_dropped(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `abandon`.
        self.flags.load(Ordering::Acquire) & DROPPED != 0
    }

    /// The nursery may still run something: it was not joined, and if it was dropped, a child
    /// is still unfinished.
    pub(super) fn is_live(&self) -> bool {
        if self.is_joined() {
            return false;
        }
        !self.is_dropped() || !self.is_empty_all()
    }

    /// No child at all is unfinished, adopted ones included.
    pub(super) fn is_empty_all(&self) -> bool {
        let finished = self.finished.load(Ordering::Acquire);
        self.started.load(Ordering::Acquire) & !super::CLOSED == finished
    }

    /// Called once the nursery was dropped: hands what it still runs to the nearest ancestor
    /// that was not dropped, if that one's `join` has not returned.
    pub(super) fn find_adopter(&self) {
        let Some(me) = self.arc() else {
            return;
        };
        let mut ancestor = self.parent.as_ref().map(|parent| parent.core.clone());
        while let Some(core) = ancestor {
            if !core.is_dropped() {
                // ORDERING: counted in `started` first, then in `adopted`: in between, `len()`
                // counts the adoption once too often, never once too few (a snapshot never
                // lists more children than it counts).
                if let Ok(id) = core.count_shared() {
                    core.adopted.fetch_add(1, Ordering::AcqRel);
                    core.add_nested(&me, None);
                    self.lock().adopter = Some((core, id));
                    // The last child may have finished before the adopter was stored. The
                    // fence pairs with the one in `Core::finish`: see there.
                    fence(Ordering::SeqCst);
                    if self.is_empty_all() {
                        self.release_adopter();
                    }
                }
                return;
            }
            ancestor = core.parent.as_ref().map(|parent| parent.core.clone());
        }
    }

    /// The dropped nursery has no unfinished child left: its adopter stops waiting for it.
    pub(super) fn release_adopter(&self) {
        let Some((adopter, id)) = self.lock().adopter.take() else {
            return;
        };
        // ORDERING: as in `find_adopter`, the other way round.
        adopter.adopted.fetch_sub(1, Ordering::AcqRel);
        adopter.finish(id, None, false, adopter.handle_cancels());
    }
}
