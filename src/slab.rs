//! A minimal slab: a vector of slots with a free list, so that a key stays valid until removed.
//!
//! The nursery's registry keeps one entry per pending child here. Removing an entry frees its
//! slot for the next one, so the slab's size follows the peak number of pending children, not
//! the number of children ever started (contract rule 13).

/// One slot of the slab.
enum Slot<T> {
    /// Holds a value.
    Occupied(T),
    /// Free; holds the next free slot (`NONE` ends the list).
    Vacant(usize),
}

/// A vector of slots addressed by stable keys.
pub(crate) struct Slab<T> {
    /// The slots. Invariant: every vacant slot is on the free list exactly once.
    slots: Vec<Slot<T>>,
    /// The first free slot, or `NONE` when every slot is occupied.
    free: usize,
    /// Number of occupied slots.
    len: usize,
}

/// Marks the end of the free list.
const NONE: usize = usize::MAX;

/// An emptied slab with more slots than this releases them; a smaller one keeps them for reuse.
const SHRINK_ABOVE: usize = 1024;

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: NONE,
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value` and returns its key.
    pub(crate) fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        let key = self.free;
        match self.slots.get_mut(key) {
            Some(slot) => {
                if let Slot::Vacant(next) = *slot {
                    self.free = next;
                }
                *slot = Slot::Occupied(value);
                key
            }
            None => {
                self.slots.push(Slot::Occupied(value));
                self.slots.len() - 1
            }
        }
    }

    /// Returns the value at `key`, if any.
    pub(crate) fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        match self.slots.get_mut(key)? {
            Slot::Occupied(value) => Some(value),
            Slot::Vacant(_) => None,
        }
    }

    /// Removes and returns the value at `key`, if any.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        let slot = self.slots.get_mut(key)?;
        if let Slot::Vacant(_) = slot {
            return None;
        }
        let Slot::Occupied(value) = std::mem::replace(slot, Slot::Vacant(self.free)) else {
            return None;
        };
        self.free = key;
        self.len -= 1;
        if self.len == 0 && self.slots.len() > SHRINK_ABOVE {
            // Nothing is pending after a large peak: give the memory back.
            *self = Slab::default();
        }
        Some(value)
    }

    /// Iterates over the keys and values.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(key, slot)| match slot {
                Slot::Occupied(value) => Some((key, value)),
                Slot::Vacant(_) => None,
            })
    }

    /// Removes every value for which `remove` returns `true`, handing each to `removed`.
    pub(crate) fn remove_where(
        &mut self,
        mut remove: impl FnMut(&T) -> bool,
        mut removed: impl FnMut(T),
    ) {
        for (key, slot) in self.slots.iter_mut().enumerate() {
            if matches!(slot, Slot::Occupied(value) if remove(value)) {
                if let Slot::Occupied(value) = std::mem::replace(slot, Slot::Vacant(self.free)) {
                    self.free = key;
                    self.len -= 1;
                    removed(value);
                }
            }
        }
        if self.len == 0 && self.slots.len() > SHRINK_ABOVE {
            *self = Slab::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn keys_are_reused_and_memory_released() {
        let mut slab = Slab::default();
        let a = slab.insert('a');
        let b = slab.insert('b');
        assert_eq!(slab.remove(a), Some('a'));
        assert_eq!(slab.remove(a), None);
        let c = slab.insert('c');
        assert_eq!(c, a, "a freed slot is reused");
        assert_eq!(slab.get_mut(b), Some(&mut 'b'));
        assert_eq!(slab.iter().count(), 2);
        slab.remove(b);
        slab.remove(c);
        assert_eq!(slab.slots.len(), 2, "a small slab keeps its slots");

        let keys: Vec<usize> = (0..2000)
            .map(|i| slab.insert(char::from(b'a' + (i % 26) as u8)))
            .collect();
        for key in keys {
            slab.remove(key);
        }
        assert_eq!(
            slab.slots.len(),
            0,
            "an emptied large slab releases its memory"
        );

        let keys: Vec<usize> = (0..10).map(|i| slab.insert(char::from(b'0' + i))).collect();
        let mut removed = String::new();
        slab.remove_where(|c| c.to_digit(10).unwrap() % 2 == 0, |c| removed.push(c));
        assert_eq!(removed, "02468");
        assert_eq!(slab.iter().count(), 5);
        assert_eq!(slab.get_mut(keys[3]), Some(&mut '3'));
        let reused = slab.insert('x');
        assert!(
            keys.iter().step_by(2).any(|&k| k == reused),
            "a drained slot is reused"
        );
    }
}
