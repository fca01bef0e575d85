//! The children a cancellation must wake: those that returned `Pending` and have not finished.
//!
//! A child is added the first time it returns `Pending` (a child that finishes in its first
//! poll never is) and removed when it finishes, so the pending entries never outnumber the
//! unfinished children, and starting a child does not touch the registry at all.
//!
//! Entries live in a [`Slab`], found by the key the child keeps; a removed entry's slot is
//! reused by the next one, so the slab's size follows the peak number of pending children.
//! A `TaskHandle` knows only its child's id, so the first `TaskHandle::cancel` of a nursery
//! builds an index from ids to keys, kept up to date from then on; nurseries that never cancel
//! a single child never pay for it.
//!
//! # Invariants
//!
//! 1. `pending` holds one entry per child that returned `Pending`, has not finished, and was
//!    not drained by a nursery-wide cancellation; `by_id`, once built, indexes exactly those.
//! 2. `cancelled` holds the id of every child cancelled through its `TaskHandle` whose request
//!    has not been consumed yet. Whoever learns first that the child is done removes it: the
//!    child itself (when it sees the request, or at `finish` when it saw the request counter
//!    move), else the handle that asked (when it sees the child finished, or through the waker
//!    it leaves on the task when it is dropped first). So an id outlives its child only until
//!    the handle that asked is polled or dropped after the child's end (a dropped handle's
//!    waker fires when the task completes), and never past the moment `join` returns.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::panic::Location;
use std::task::Waker;

use slab::Slab;

/// A child's id: its position in the order the nursery's children were started.
pub(crate) type Id = u64;

/// A child's key in the registry, valid from `insert` to `remove`: its slab key plus one, so
/// that an `Option<Key>` in every child's wrapper takes one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(NonZeroUsize);

impl Key {
    /// The key for slab key `slot`.
    fn new(slot: usize) -> Key {
        Key(NonZeroUsize::MIN.saturating_add(slot))
    }

    /// The slab key.
    fn slot(self) -> usize {
        self.0.get() - 1
    }
}

/// Where a child was started and how it is shielded: what a snapshot shows of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Site {
    /// The `start_soon` (or `start`, `Slot::start_soon`, `scope`) call that started it.
    pub(crate) location: &'static Location<'static>,
    /// It is shielded with a grace period.
    pub(crate) graced: bool,
}

/// What a snapshot copies of one pending child.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryView {
    /// The child's id.
    pub(crate) id: Id,
    /// Where it was started.
    pub(crate) site: Site,
    /// It is shielded.
    pub(crate) shielded: bool,
    /// Its handle cancelled it, and it has not stopped yet.
    pub(crate) cancelling: bool,
    /// When it first returned `Pending` ([`crate::clock`]), or `clock::UNKNOWN`.
    pub(crate) since_ms: u32,
}

/// What the registry knows about one pending child. Its fields are stored flat, so that the
/// bools pack together and the whole entry stays at 40 bytes in the slab.
struct Entry {
    /// Where the child was started.
    location: &'static Location<'static>,
    /// It is shielded with a grace period.
    graced: bool,
    /// When it first returned `Pending`, in milliseconds of [`crate::clock`] (wrapping), or
    /// `clock::UNKNOWN`.
    since_ms: u32,
    /// The waker of the child's task; taken out when the child is cancelled, so that it is
    /// woken once for that.
    waker: Option<Waker>,
    /// The child's id.
    id: Id,
    /// The nursery-wide cancellation does not apply to this child.
    shielded: bool,
}

/// An emptied slab with more slots than this releases them; a smaller one keeps them for reuse.
const SHRINK_ABOVE: usize = 1024;

/// The pending children, and the cancellations asked for through `TaskHandle`s.
#[derive(Default)]
pub(crate) struct Registry {
    /// Children that have returned `Pending` and not finished (invariant 1).
    pending: Slab<Entry>,
    /// The slab key of every pending child, by id: built by the first `cancel`, then
    /// maintained (invariant 1).
    by_id: Option<HashMap<Id, usize>>,
    /// Ids cancelled through their `TaskHandle` whose request nobody consumed yet
    /// (invariant 2).
    cancelled: HashSet<Id>,
}

impl Registry {
    /// Records the waker of a pending child and returns the child's key.
    pub(crate) fn insert(
        &mut self,
        id: Id,
        waker: Waker,
        shielded: bool,
        site: Site,
        since_ms: u32,
    ) -> Key {
        let key = self.pending.insert(Entry {
            location: site.location,
            graced: site.graced,
            since_ms,
            waker: Some(waker),
            id,
            shielded,
        });
        if let Some(by_id) = &mut self.by_id {
            by_id.insert(id, key);
        }
        Key::new(key)
    }

    /// Forgets a finished child, unless its entry is already gone (a cancellation of the
    /// whole nursery drains the entries of the children it cancels). The returned waker is
    /// for the caller to drop once the lock is released.
    pub(crate) fn remove(&mut self, id: Id, key: Option<Key>) -> Option<Waker> {
        self.forget_cancel(id);
        let key = key?.slot();
        if self.pending.get(key)?.id != id {
            // The slot was drained and reused by another child.
            return None;
        }
        let entry = self.pending.remove(key);
        if let Some(by_id) = &mut self.by_id {
            by_id.remove(&id);
        }
        self.shrink_if_empty();
        entry.waker
    }

    /// Copies what a snapshot shows of every pending child.
    pub(crate) fn view(&self) -> Vec<EntryView> {
        self.pending
            .iter()
            .map(|(_, entry)| EntryView {
                id: entry.id,
                site: Site {
                    location: entry.location,
                    graced: entry.graced,
                },
                shielded: entry.shielded,
                cancelling: entry.waker.is_none() || self.cancelled.contains(&entry.id),
                since_ms: entry.since_ms,
            })
            .collect()
    }

    /// Replaces the waker of a pending child; returns the old one, for the caller to drop once
    /// the lock is released.
    pub(crate) fn refresh(&mut self, id: Id, key: Key, waker: Waker) -> Option<Waker> {
        match self.pending.get_mut(key.slot()) {
            Some(entry) if entry.id == id => entry.waker.replace(waker),
            _ => None,
        }
    }

    /// Removes every non-shielded pending child and returns the wakers to wake: those
    /// children stop at their next poll and need no entry any more.
    pub(crate) fn drain_unshielded(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        let by_id = &mut self.by_id;
        self.pending.retain(|_, entry| {
            if entry.shielded {
                return true;
            }
            if let Some(by_id) = by_id {
                by_id.remove(&entry.id);
            }
            wakers.extend(entry.waker.take());
            false
        });
        self.shrink_if_empty();
        wakers
    }

    /// Marks one child cancelled; returns its waker if it is pending.
    pub(crate) fn cancel(&mut self, id: Id) -> Option<Waker> {
        self.cancelled.insert(id);
        let pending = &self.pending;
        let by_id = self
            .by_id
            .get_or_insert_with(|| pending.iter().map(|(key, entry)| (entry.id, key)).collect());
        let key = *by_id.get(&id)?;
        self.pending.get_mut(key)?.waker.take()
    }

    /// Tells whether the child was cancelled through its handle, and forgets the request.
    pub(crate) fn take_cancelled(&mut self, id: Id) -> bool {
        !self.cancelled.is_empty() && self.cancelled.remove(&id)
    }

    /// Forgets the handle's request for a child that has finished.
    #[inline]
    pub(crate) fn forget_cancel(&mut self, id: Id) {
        if !self.cancelled.is_empty() {
            self.cancelled.remove(&id);
            if self.cancelled.is_empty() && self.cancelled.capacity() > SHRINK_ABOVE {
                self.cancelled = HashSet::new();
            }
        }
    }

    /// Forgets every handle cancellation: called when the nursery closes.
    pub(crate) fn clear_cancelled(&mut self) {
        self.cancelled = HashSet::new();
    }

    /// How many requests and entries the registry holds, for tests of its memory.
    #[cfg(test)]
    pub(crate) fn footprint(&self) -> (usize, usize) {
        (self.cancelled.len(), self.pending.len())
    }

    /// Releases the slots of an emptied slab that grew large: memory follows the current peak.
    #[inline]
    fn shrink_if_empty(&mut self) {
        if self.pending.is_empty() && self.pending.capacity() > SHRINK_ABOVE {
            self.pending = Slab::new();
            if let Some(by_id) = &mut self.by_id {
                *by_id = HashMap::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            location: Location::caller(),
            graced: false,
        }
    }

    fn noop_waker() -> Waker {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        Waker::from(std::sync::Arc::new(Noop))
    }

    #[test]
    fn cancel_takes_the_waker_once_and_remove_forgets_the_request() {
        let mut registry = Registry::default();
        let seven = registry.insert(7, noop_waker(), false, site(), 0);
        let eight = registry.insert(8, noop_waker(), true, site(), 0);
        assert!(
            registry.cancel(7).is_some(),
            "the first cancel builds the index"
        );
        assert!(registry.cancel(7).is_none(), "the waker is taken once");
        let nine = registry.insert(9, noop_waker(), false, site(), 0);
        assert!(registry.cancel(9).is_some(), "the index is maintained");
        assert!(registry.remove(7, Some(seven)).is_none());
        assert!(
            !registry.take_cancelled(7),
            "removing a child forgets its request"
        );
        assert_eq!(
            registry.drain_unshielded().len(),
            0,
            "8 is shielded, 9 was taken"
        );
        let ten = registry.insert(10, noop_waker(), false, site(), 0);
        assert_eq!(ten, nine, "the drained slot is reused");
        assert!(
            registry.remove(9, Some(nine)).is_none(),
            "another child's entry is kept"
        );
        assert!(registry.remove(10, Some(ten)).is_some());
        assert!(registry.remove(8, Some(eight)).is_some());
        assert!(registry.cancel(11).is_none(), "a child that is not pending");
        assert!(registry.take_cancelled(11));
        assert!(!registry.take_cancelled(11));
    }
}
