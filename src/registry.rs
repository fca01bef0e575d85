//! The children a cancellation must wake: those that returned `Pending` and have not finished.
//!
//! A child is added the first time it returns `Pending` (a child that finishes in its first
//! poll never is) and removed when it finishes, so the pending entries never outnumber the
//! unfinished children, and starting a child does not touch the registry at all.
//!
//! Entries live in a [`Slab`], found by the key the child keeps; a removed entry's slot is
//! reused by the next one, so the slab's size follows the peak number of pending children.
//! An entry is 32 bytes: the waker, the start site, and the id with the two flags a snapshot
//! shows packed in its top bits ([`Tagged`]). The time a child began to wait is kept beside
//! the slab, and only once the nursery keeps time (it was asked for a snapshot).
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
//! 3. `ages[k]`, where it exists, is the wait time of the entry at slab key `k` if that entry
//!    was inserted since the nursery keeps time; `ages` is empty until then, and only grows
//!    (until the emptied slab is released).
//! 4. The slab never holds more than [`MAX_PENDING`] entries, so that every key fits in 32
//!    bits; a child that finds it full is not listed and wakes itself instead (see
//!    [`Registered::Unlisted`]).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::panic::Location;
use std::task::Waker;

use slab::Slab;

/// A child's id: its position in the order the nursery's children were started. Ids stay
/// below 2^60, which leaves the top bits of a [`Tagged`] id for flags: a nursery starting a
/// child every nanosecond would need 36 years to get there.
pub(crate) type Id = u64;

/// An id with flags in its top four bits ([`Tagged::SHIELDED`] and the others), so that a
/// child's membership and its registry entry spend no padding on booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tagged(u64);

impl Tagged {
    /// Nursery-wide cancellation does not apply to the child.
    pub(crate) const SHIELDED: u64 = 1 << 63;
    /// The child is shielded with a grace period (for snapshots).
    pub(crate) const GRACED: u64 = 1 << 62;
    /// The child holds a permit of the nursery's limit (a membership's flag).
    pub(crate) const HOLDS_PERMIT: u64 = 1 << 61;
    /// The child has been counted as finished (a membership's flag).
    pub(crate) const FINISHED: u64 = 1 << 60;
    /// The bits of the id.
    const ID: u64 = Self::FINISHED - 1;

    /// `id` with no flag set.
    #[inline]
    pub(crate) fn new(id: Id) -> Tagged {
        debug_assert!(id <= Self::ID, "ids stay below 2^60");
        Tagged(id & Self::ID)
    }

    /// The id.
    #[inline]
    pub(crate) fn id(self) -> Id {
        self.0 & Self::ID
    }

    /// Whether `flag` is set.
    #[inline]
    pub(crate) fn has(self, flag: u64) -> bool {
        self.0 & flag != 0
    }

    /// Sets `flag` if `on`.
    #[inline]
    pub(crate) fn set(&mut self, flag: u64, on: bool) {
        if on {
            self.0 |= flag;
        }
    }
}

/// At most this many children are listed at once, so that a key fits in 32 bits: that many
/// waiting children would take hundreds of gigabytes.
const MAX_PENDING: usize = u32::MAX as usize - 1;

/// A child's key in the registry, valid from `insert` to `remove`: its slab key plus one, so
/// that an `Option<Key>` in every child's membership takes four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(NonZeroU32);

impl Key {
    /// The key for slab key `slot`, which is below [`MAX_PENDING`] (invariant 4).
    fn new(slot: usize) -> Key {
        let key = u32::try_from(slot + 1).expect("invariant 4: keys fit in 32 bits");
        Key(NonZeroU32::new(key).expect("slot + 1 is not zero"))
    }

    /// The slab key.
    fn slot(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// What a child's registration came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Registered {
    /// Its waker is listed under this key: a cancellation will wake it.
    Listed(Key),
    /// The registry is full (invariant 4): the child must wake itself, so that it is polled
    /// again soon and sees a cancellation then; it tries to register again at that poll.
    Unlisted,
    /// It was cancelled meanwhile and must stop now.
    Stopped,
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

/// What the registry knows about one pending child: 32 bytes.
struct Entry {
    /// The waker of the child's task; taken out when the child is cancelled, so that it is
    /// woken once for that.
    waker: Option<Waker>,
    /// Where the child was started.
    location: &'static Location<'static>,
    /// The child's id, with `Tagged::SHIELDED` (the nursery-wide cancellation does not apply)
    /// and `Tagged::GRACED` (shielded with a grace period).
    tagged: Tagged,
}

impl Entry {
    /// The child's id.
    fn id(&self) -> Id {
        self.tagged.id()
    }

    /// The nursery-wide cancellation does not apply to this child.
    fn shielded(&self) -> bool {
        self.tagged.has(Tagged::SHIELDED)
    }
}

/// An emptied slab with more slots than this releases them; a smaller one keeps them for reuse.
const SHRINK_ABOVE: usize = 1024;

/// The pending children, and the cancellations asked for through `TaskHandle`s.
pub(crate) struct Registry {
    /// Children that have returned `Pending` and not finished (invariants 1 and 4).
    pending: Slab<Entry>,
    /// When the entry at each slab key began to wait, in milliseconds of [`crate::clock`]
    /// (wrapping), or `clock::UNKNOWN` (invariant 3). Empty until the nursery keeps time.
    ages: Vec<u32>,
    /// The slab key of every pending child, by id: built by the first `cancel`, then
    /// maintained (invariant 1).
    by_id: Option<HashMap<Id, usize>>,
    /// Ids cancelled through their `TaskHandle` whose request nobody consumed yet
    /// (invariant 2).
    cancelled: HashSet<Id>,
    /// At most this many entries at once: [`MAX_PENDING`], or less in tests (invariant 4).
    max_pending: usize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            pending: Slab::new(),
            ages: Vec::new(),
            by_id: None,
            cancelled: HashSet::new(),
            max_pending: MAX_PENDING,
        }
    }
}

impl Registry {
    /// Records the waker of a pending child and returns the child's key, unless the registry
    /// is full (invariant 4). `since_ms` is `clock::UNKNOWN` unless the nursery keeps time.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        id: Id,
        waker: &Waker,
        shielded: bool,
        site: Site,
        since_ms: u32,
    ) -> Registered {
        if self.pending.len() >= self.max_pending {
            return Registered::Unlisted;
        }
        let mut tagged = Tagged::new(id);
        tagged.set(Tagged::SHIELDED, shielded);
        tagged.set(Tagged::GRACED, site.graced);
        let key = self.pending.insert(Entry {
            waker: Some(waker.clone()),
            location: site.location,
            tagged,
        });
        if since_ms != crate::clock::UNKNOWN || key < self.ages.len() {
            if key >= self.ages.len() {
                self.ages.resize(key + 1, crate::clock::UNKNOWN);
            }
            self.ages[key] = since_ms;
        }
        if let Some(by_id) = &mut self.by_id {
            by_id.insert(id, key);
        }
        Registered::Listed(Key::new(key))
    }

    /// Forgets a finished child, unless its entry is already gone (a cancellation of the
    /// whole nursery drains the entries of the children it cancels). The returned waker is
    /// for the caller to drop once the lock is released.
    #[inline]
    pub(crate) fn remove(&mut self, id: Id, key: Option<Key>) -> Option<Waker> {
        self.forget_cancel(id);
        let key = key?.slot();
        if self.pending.get(key)?.id() != id {
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
            .map(|(key, entry)| EntryView {
                id: entry.id(),
                site: Site {
                    location: entry.location,
                    graced: entry.tagged.has(Tagged::GRACED),
                },
                shielded: entry.shielded(),
                cancelling: entry.waker.is_none() || self.cancelled.contains(&entry.id()),
                since_ms: self.ages.get(key).copied().unwrap_or(crate::clock::UNKNOWN),
            })
            .collect()
    }

    /// Replaces the waker of a pending child; returns the old one, for the caller to drop once
    /// the lock is released.
    pub(crate) fn refresh(&mut self, id: Id, key: Key, waker: Waker) -> Option<Waker> {
        match self.pending.get_mut(key.slot()) {
            Some(entry) if entry.id() == id => entry.waker.replace(waker),
            _ => None,
        }
    }

    /// Removes every non-shielded pending child and returns the wakers to wake: those
    /// children stop at their next poll and need no entry any more.
    pub(crate) fn drain_unshielded(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        let by_id = &mut self.by_id;
        self.pending.retain(|_, entry| {
            if entry.shielded() {
                return true;
            }
            if let Some(by_id) = by_id {
                by_id.remove(&entry.id());
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
        let by_id = self.by_id.get_or_insert_with(|| {
            pending
                .iter()
                .map(|(key, entry)| (entry.id(), key))
                .collect()
        });
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

    /// Lists at most `max` children at once, for tests of a full registry.
    #[cfg(test)]
    pub(crate) fn set_max_pending(&mut self, max: usize) {
        self.max_pending = max;
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
            self.release();
        }
    }

    /// Releases the slots of the emptied slab, and of what is kept beside it.
    #[cold]
    fn release(&mut self) {
        self.pending = Slab::new();
        self.ages = Vec::new();
        if let Some(by_id) = &mut self.by_id {
            *by_id = HashMap::new();
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

    /// Inserts a child that must be listed, and returns its key.
    fn listed(registry: &mut Registry, id: Id, shielded: bool, since_ms: u32) -> Key {
        match registry.insert(id, &noop_waker(), shielded, site(), since_ms) {
            Registered::Listed(key) => key,
            other => panic!("child {id} not listed: {other:?}"),
        }
    }

    #[test]
    fn cancel_takes_the_waker_once_and_remove_forgets_the_request() {
        let mut registry = Registry::default();
        let seven = listed(&mut registry, 7, false, crate::clock::UNKNOWN);
        let eight = listed(&mut registry, 8, true, crate::clock::UNKNOWN);
        assert!(
            registry.cancel(7).is_some(),
            "the first cancel builds the index"
        );
        assert!(registry.cancel(7).is_none(), "the waker is taken once");
        let nine = listed(&mut registry, 9, false, crate::clock::UNKNOWN);
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
        let ten = listed(&mut registry, 10, false, crate::clock::UNKNOWN);
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

    /// Entries are 32 bytes; a snapshot still sees each child's id, flags and age.
    #[test]
    fn packed_entries_keep_what_a_snapshot_shows() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        assert_eq!(std::mem::size_of::<Option<Key>>(), 4);
        let mut registry = Registry::default();
        listed(&mut registry, (1 << 60) - 1, true, crate::clock::UNKNOWN);
        assert!(
            registry.ages.is_empty(),
            "no ages until the nursery keeps time"
        );
        let graced = Site {
            location: Location::caller(),
            graced: true,
        };
        assert!(matches!(
            registry.insert(5, &noop_waker(), true, graced, 42),
            Registered::Listed(_)
        ));
        let view = registry.view();
        assert_eq!(view[0].id, (1 << 60) - 1);
        assert!(view[0].shielded && !view[0].site.graced);
        assert_eq!(view[0].since_ms, crate::clock::UNKNOWN);
        assert_eq!(view[1].id, 5);
        assert!(view[1].shielded && view[1].site.graced);
        assert_eq!(view[1].since_ms, 42);
    }

    /// A full registry lists nobody else (the child then wakes itself) until an entry goes.
    #[test]
    fn a_full_registry_lists_nobody_until_an_entry_goes() {
        let mut registry = Registry::default();
        registry.set_max_pending(4);
        let keys: Vec<Key> = (0..4)
            .map(|id| listed(&mut registry, id, false, crate::clock::UNKNOWN))
            .collect();
        assert_eq!(
            registry.insert(99, &noop_waker(), false, site(), crate::clock::UNKNOWN),
            Registered::Unlisted
        );
        assert!(registry.remove(0, Some(keys[0])).is_some());
        assert_eq!(
            listed(&mut registry, 99, false, crate::clock::UNKNOWN),
            keys[0]
        );
    }
}
