//! A child's membership in its nursery, and the steps of its life that the core takes part
//! in, written once for every kind of child: the wrapper the executor runs (`child.rs`), a
//! scope's body (`scope.rs`), and a slot's reserved room (`slot.rs`).
//!
//! A child's life, as the core sees it:
//!
//! 1. It is counted as started (`Core::start_owned` / `start_shared`, which give its id), and
//!    [`Member::new`] notes the core's count of handle cancellations.
//! 2. Before every poll, [`Member::stop_requested`] tells whether it must stop.
//! 3. On its first `Pending`, [`Member::register`] stores its waker so that a cancellation can
//!    wake it (a scope's body, polled by whatever task awaits the scope, refreshes it with
//!    [`Member::register_body`]); if the registry is full, the child wakes itself instead, to
//!    be polled again and try again.
//! 4. Once its future has been dropped, [`Member::finish`] counts it as finished and gives its
//!    permit back under a limit, exactly once.

use std::panic::Location;
use std::task::Waker;

use crate::core::Core;
use crate::executor::ExecutorKind;
use crate::registry::{Id, Key, Registered, Site, Tagged};
use crate::shared::Shared;

/// Whether a child holds a permit of its nursery's limit while it counts as unfinished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holds {
    /// It holds one (if the nursery has a limit): every child and slot.
    Permit,
    /// It holds none: a scope's body, which the limit does not count.
    Nothing,
}

/// What the core knows a child by, and what the child remembers of the core. 24 bytes: the
/// flags live in the top bits of the id, and the registry key takes 32 bits.
#[derive(Debug)]
pub(crate) struct Member {
    /// The child's id in the nursery, with its flags: `Tagged::SHIELDED` (nursery-wide
    /// cancellation does not apply), `Tagged::GRACED` (shielded with a grace period, for
    /// snapshots), `Tagged::HOLDS_PERMIT` (it holds a permit of the limit, which `finish` gives
    /// back) and `Tagged::FINISHED` (it has been counted as finished: nothing is left to do).
    tagged: Tagged,
    /// Where the child was started, for snapshots and the origins of its error.
    location: &'static Location<'static>,
    /// The child's key in the nursery's registry, once its waker is there.
    key: Option<Key>,
    /// The core's count of handle cancellations when the child last looked; a child looks
    /// its own id up only when the count moved.
    seen_cancels: u32,
}

impl Member {
    /// The membership of the child `id`, already counted as started in `core`.
    #[inline]
    pub(crate) fn new(core: &Core, id: Id, shielded: bool, site: Site, holds: Holds) -> Self {
        let mut tagged = Tagged::new(id);
        tagged.set(Tagged::SHIELDED, shielded);
        tagged.set(Tagged::GRACED, site.graced);
        tagged.set(Tagged::HOLDS_PERMIT, holds == Holds::Permit);
        Member {
            tagged,
            location: site.location,
            key: None,
            seen_cancels: core.handle_cancels(),
        }
    }

    /// The membership of a place reserved for a child (a slot), already counted as started
    /// in `core`, holding a permit. It is never polled nor registered: it is finished when the
    /// slot is dropped unused, or handed over to the child started in it.
    #[track_caller]
    pub(crate) fn reserved(core: &Core, id: Id) -> Self {
        let site = Site {
            location: Location::caller(),
            graced: false,
        };
        Member::new(core, id, false, site, Holds::Permit)
    }

    /// The child's id.
    #[inline]
    pub(crate) fn id(&self) -> Id {
        self.tagged.id()
    }

    /// Nursery-wide cancellation does not apply to the child.
    #[inline]
    fn shielded(&self) -> bool {
        self.tagged.has(Tagged::SHIELDED)
    }

    /// Where the child was started.
    #[inline]
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether the child is counted as finished already.
    #[inline]
    pub(crate) fn is_finished(&self) -> bool {
        self.tagged.has(Tagged::FINISHED)
    }

    /// Tells whether the child must stop before it is polled again: the nursery was cancelled
    /// (unless the child is shielded), or its `TaskHandle` asked.
    #[inline]
    pub(crate) fn stop_requested(&mut self, core: &Core) -> bool {
        core.stop_requested(self.id(), self.shielded(), &mut self.seen_cancels)
    }

    /// Stores the waker of a child that returned `Pending`, the first time only (a wrapper is
    /// polled by its own task, whose waker never changes). Returns `false` if the child was
    /// cancelled meanwhile and must stop now instead.
    #[inline]
    pub(crate) fn register(&mut self, core: &Core, waker: &Waker) -> bool {
        if self.key.is_some() {
            return true;
        }
        let registered = core.register(self.id(), waker, self.shielded(), self.site());
        self.listed(registered, waker)
    }

    /// Stores or refreshes the waker of a scope's body, whose waker may change between polls.
    /// Returns `false` if the body was cancelled meanwhile and must stop now instead.
    pub(crate) fn register_body(&mut self, core: &Core, waker: &Waker) -> bool {
        let registered = core.register_body(self.id(), self.key, waker, self.site());
        self.listed(registered, waker)
    }

    /// Keeps the key of a registration; a child the full registry could not list wakes itself,
    /// to be polled again soon (and to try again then). Returns `false` if it must stop.
    #[inline]
    fn listed(&mut self, registered: Registered, waker: &Waker) -> bool {
        match registered {
            Registered::Listed(key) => {
                self.key = Some(key);
                true
            }
            Registered::Unlisted => {
                waker.wake_by_ref();
                true
            }
            Registered::Stopped => false,
        }
    }

    /// Counts the child, whose future has been dropped, as finished, then gives its permit
    /// back: under a limit, the permit passes on only once this child no longer counts, so
    /// that `len()` never exceeds the limit (`join` cannot close meanwhile: a waiting child
    /// counts as unfinished, and the permit goes to it first). Does nothing the second time.
    #[inline]
    pub(crate) fn finish<E, X: ExecutorKind>(&mut self, shared: &Shared<E, X>) {
        if self.is_finished() {
            return;
        }
        self.tagged.set(Tagged::FINISHED, true);
        shared
            .core
            .finish(self.id(), self.key, self.shielded(), self.seen_cancels);
        if self.tagged.has(Tagged::HOLDS_PERMIT) {
            shared.release_permit();
        }
    }

    /// Where the child was started.
    #[inline]
    fn site(&self) -> Site {
        Site {
            location: self.location,
            graced: self.tagged.has(Tagged::GRACED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The membership every child's wrapper carries stays at three words.
    #[test]
    fn a_membership_is_three_words() {
        assert_eq!(std::mem::size_of::<Member>(), 24);
    }

    /// The flags packed in the id read back as they were given, beside an id of 60 bits.
    #[test]
    fn flags_pack_into_the_id() {
        let core = Core::new(None);
        let site = Site {
            location: Location::caller(),
            graced: true,
        };
        let member = Member::new(&core, (1 << 60) - 1, true, site, Holds::Nothing);
        assert_eq!(member.id(), (1 << 60) - 1);
        assert!(member.shielded() && member.site().graced);
        assert!(!member.tagged.has(Tagged::HOLDS_PERMIT) && !member.is_finished());
        let member = Member::new(
            &core,
            3,
            false,
            Site {
                graced: false,
                ..site
            },
            Holds::Permit,
        );
        assert_eq!(member.id(), 3);
        assert!(!member.shielded() && !member.site().graced);
        assert!(member.tagged.has(Tagged::HOLDS_PERMIT));
    }

    /// Children that a full registry cannot list wake themselves instead: they are polled
    /// again and again (each poll tries to register anew), so a cancellation still stops them,
    /// a handle's too, and nobody waits forever.
    #[test]
    fn unlisted_children_still_stop_when_cancelled() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        use async_executor::Executor;
        use futures_lite::future;

        use crate::{Nursery, TaskError};

        let ex = Arc::new(Executor::new());
        let polls = Arc::new(AtomicUsize::new(0));
        future::block_on(ex.run(async {
            let nursery = Nursery::<()>::new(&ex);
            nursery.core().limit_registry(2);
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    let polls = polls.clone();
                    nursery.start_soon(future::poll_fn(move |_| {
                        polls.fetch_add(1, Ordering::Relaxed);
                        std::task::Poll::<Result<(), ()>>::Pending
                    }))
                })
                .collect();
            while polls.load(Ordering::Relaxed) < 50 {
                future::yield_now().await;
            }
            assert_eq!(nursery.core().registry_footprint().1, 2, "two are listed");
            handles[5].cancel();
            while !handles[5].is_finished() {
                future::yield_now().await;
            }
            nursery.cancel();
            assert_eq!(nursery.join().await, Ok(()));
            for handle in handles {
                assert_eq!(handle.await, Err(TaskError::Cancelled));
            }
        }));
    }
}
