//! A minimal slab: a vector of slots with a free list, so that a key stays valid until removed.
//!
//! The nursery keeps one entry per unfinished child. Removing an entry frees its slot for the
//! next child, so the slab's capacity follows the peak number of children alive at once, not the
//! number of children ever started (contract rule 13).

/// One slot of the slab.
enum Slot<T> {
    /// Holds a value.
    Occupied(T),
    /// Free; holds the index of the next free slot (`usize::MAX` ends the list).
    Vacant(usize),
}

/// A vector of slots addressed by stable keys.
pub(crate) struct Slab<T> {
    /// The slots. Invariant: every `Vacant` slot is on the free list exactly once.
    slots: Vec<Slot<T>>,
    /// Index of the first free slot, or `usize::MAX` when every slot is occupied.
    free: usize,
    /// Number of occupied slots.
    len: usize,
}

/// Marks the end of the free list.
const NONE: usize = usize::MAX;

/// An emptied slab with more slots than this releases them; a smaller one keeps them for reuse.
const SHRINK_ABOVE: usize = 1024;

impl<T> Slab<T> {
    /// Creates an empty slab.
    pub(crate) const fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: NONE,
            len: 0,
        }
    }

    /// Number of values in the slab.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of slots, occupied or free: the keys are below this bound.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Stores `value` and returns its key.
    pub(crate) fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        if self.free == NONE {
            self.slots.push(Slot::Occupied(value));
            return self.slots.len() - 1;
        }
        let key = self.free;
        match std::mem::replace(&mut self.slots[key], Slot::Occupied(value)) {
            Slot::Vacant(next) => self.free = next,
            Slot::Occupied(_) => unreachable!("free list points at an occupied slot"),
        }
        key
    }

    /// Returns the value at `key`, if any.
    pub(crate) fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        match self.slots.get_mut(key) {
            Some(Slot::Occupied(value)) => Some(value),
            _ => None,
        }
    }

    /// Removes and returns the value at `key`, if any.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        let slot = self.slots.get_mut(key)?;
        if let Slot::Vacant(_) = slot {
            return None;
        }
        let Slot::Occupied(value) = std::mem::replace(slot, Slot::Vacant(self.free)) else {
            unreachable!()
        };
        self.free = key;
        self.len -= 1;
        if self.len == 0 && self.slots.len() > SHRINK_ABOVE {
            // Nothing is alive after a large peak: give the memory back.
            self.slots = Vec::new();
            self.free = NONE;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn keys_are_reused_and_memory_released() {
        let mut slab = Slab::new();
        let a = slab.insert('a');
        let b = slab.insert('b');
        assert_eq!(slab.remove(a), Some('a'));
        assert_eq!(slab.remove(a), None);
        let c = slab.insert('c');
        assert_eq!(c, a, "a freed slot is reused");
        assert_eq!(slab.get_mut(b), Some(&mut 'b'));
        assert_eq!(slab.len(), 2);
        slab.remove(b);
        slab.remove(c);
        assert_eq!(slab.len(), 0);
        assert_eq!(slab.capacity(), 2, "a small slab keeps its slots");

        let keys: Vec<usize> = (0..2000)
            .map(|i| slab.insert(char::from(b'a' + (i % 26) as u8)))
            .collect();
        for key in keys {
            slab.remove(key);
        }
        assert_eq!(
            slab.capacity(),
            0,
            "an emptied large slab releases its memory"
        );
    }
}
