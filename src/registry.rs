//! The children a cancellation must wake: those that returned `Pending` and have not finished.
//!
//! A child is added the first time it returns `Pending` (a child that finishes in its first
//! poll never is) and removed when it finishes, so the registry holds at most one entry per
//! unfinished child (contract rule 13), and starting a child does not touch it at all.
//!
//! Entries live in a slab, found by the key the child keeps. A `TaskHandle` knows only its
//! child's id, so the first `TaskHandle::cancel` of a nursery builds an index from ids to keys,
//! kept up to date from then on; nurseries that never cancel a single child never pay for it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroUsize;
use std::task::Waker;

use crate::slab::Slab;

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

/// What the registry knows about one pending child.
struct Entry {
    /// The waker of the child's task; taken out when the child is cancelled, so that it is
    /// woken once for that.
    waker: Option<Waker>,
    /// The child's id.
    id: Id,
    /// The nursery-wide cancellation does not apply to this child.
    shielded: bool,
}

/// Ids hashed with [`IdHasher`].
type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;

/// The pending children, and the cancellations asked for through `TaskHandle`s.
#[derive(Default)]
pub(crate) struct Registry {
    /// Children that have returned `Pending` and not finished.
    pending: Slab<Entry>,
    /// The slab key of every pending child, by id: built by the first `cancel`, then
    /// maintained.
    by_id: Option<IdMap<usize>>,
    /// Ids cancelled through their `TaskHandle` that their child has not seen yet. A child
    /// removes its id when it sees it or finishes; an id whose child finished in the same
    /// instant may stay until the nursery closes.
    cancelled: HashSet<Id, BuildHasherDefault<IdHasher>>,
}

impl Registry {
    /// Records the waker of a pending child and returns the child's key.
    pub(crate) fn insert(&mut self, id: Id, waker: Waker, shielded: bool) -> Key {
        let key = self.pending.insert(Entry {
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
        if !self.cancelled.is_empty() {
            self.cancelled.remove(&id);
        }
        let key = key?.slot();
        if self.pending.get_mut(key)?.id != id {
            // The slot was drained and reused by another child.
            return None;
        }
        let entry = self.pending.remove(key)?;
        if let Some(by_id) = &mut self.by_id {
            by_id.remove(&id);
        }
        entry.waker
    }

    /// Removes every non-shielded pending child and returns the wakers to wake: those
    /// children stop at their next poll and need no entry any more.
    pub(crate) fn drain_unshielded(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        let by_id = &mut self.by_id;
        self.pending.remove_where(
            |entry| !entry.shielded,
            |entry| {
                if let Some(by_id) = by_id {
                    by_id.remove(&entry.id);
                }
                wakers.extend(entry.waker);
            },
        );
        wakers
    }

    /// Marks one child cancelled; returns its waker if it is pending.
    pub(crate) fn cancel(&mut self, id: Id) -> Option<Waker> {
        self.cancelled.insert(id);
        let pending = &mut self.pending;
        let by_id = self.by_id.get_or_insert_with(|| {
            let mut by_id = IdMap::default();
            for (key, entry) in pending.iter() {
                by_id.insert(entry.id, key);
            }
            by_id
        });
        let key = *by_id.get(&id)?;
        self.pending.get_mut(key)?.waker.take()
    }

    /// Tells whether the child was cancelled through its handle, and forgets the request.
    pub(crate) fn take_cancelled(&mut self, id: Id) -> bool {
        !self.cancelled.is_empty() && self.cancelled.remove(&id)
    }

    /// Forgets every handle cancellation: called when the nursery closes.
    pub(crate) fn clear_cancelled(&mut self) {
        self.cancelled = HashSet::default();
    }
}

/// Hashes ids, which are distinct integers, without SipHash's cost.
///
/// The low bits (which pick the bucket) stay the id itself, so consecutive children land in
/// consecutive buckets; the top seven bits (which hashbrown compares first) are mixed, so
/// that probing does not see every entry as a candidate.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        const TOP: u64 = 0x7f << 57;
        self.0 ^ (self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) & TOP)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let seven = registry.insert(7, noop_waker(), false);
        let eight = registry.insert(8, noop_waker(), true);
        assert!(
            registry.cancel(7).is_some(),
            "the first cancel builds the index"
        );
        assert!(registry.cancel(7).is_none(), "the waker is taken once");
        let nine = registry.insert(9, noop_waker(), false);
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
        let ten = registry.insert(10, noop_waker(), false);
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

    #[test]
    fn consecutive_ids_hash_to_consecutive_low_bits() {
        let hash = |id: u64| {
            let mut h = IdHasher::default();
            h.write_u64(id);
            h.finish()
        };
        assert_eq!(hash(41) & 0xffff, 41);
        assert_eq!(hash(42) & 0xffff, 42);
        assert_ne!(hash(41) >> 57, hash(42) >> 57);
    }
}
