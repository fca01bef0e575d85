//! The synchronization the core's state machine is built on: `std`'s, or loom's when the
//! crate is built with `--cfg smol_nursery_loom` (see `src/loom.rs`), so that the model tests explore
//! every interleaving of the atomics, locks and thread-locals below.
//!
//! Only what the concurrency arguments of the crate rest on goes through here: the core's
//! counters, flags, lock and events, the limiter and its grants, the `start` signal,
//! admissions, a nursery's errors, and the thread-locals that note the child being polled
//! and the limiter being admitted for. `Arc`, `Weak` and the global table of
//! live cores stay `std`'s (loom has no `Weak`; the table is only read and written under its
//! own lock, with no yield point inside).

#[cfg(not(smol_nursery_loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(not(smol_nursery_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(smol_nursery_loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(smol_nursery_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

pub(crate) use std::sync::PoisonError;

#[cfg(not(smol_nursery_loom))]
pub(crate) use event_listener::{Event, EventListener};

#[cfg(smol_nursery_loom)]
pub(crate) use self::model::{Event, EventListener};

/// Under loom, the events the core waits on: event-listener's are `std`-based and may call a
/// waker while holding their own lock, which a loom thread switch turns into a real
/// deadlock. This one does what the core asks of event-listener (every listener created
/// before `notify(usize::MAX)` is woken; one created after waits for the next), with loom's
/// lock, so that the models also check that the core listens before it checks.
#[cfg(smol_nursery_loom)]
mod model {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::Mutex;

    /// How many times the event was notified, and who waits for the next time.
    #[derive(Default)]
    struct State {
        notified: u64,
        wakers: Vec<Waker>,
    }

    #[derive(Default)]
    pub(crate) struct Event {
        state: Arc<Mutex<State>>,
    }

    pub(crate) struct EventListener {
        state: Arc<Mutex<State>>,
        seen: u64,
    }

    impl Event {
        pub(crate) fn new() -> Event {
            Event::default()
        }

        pub(crate) fn listen(&self) -> EventListener {
            let seen = self.state.lock().unwrap().notified;
            EventListener {
                state: self.state.clone(),
                seen,
            }
        }

        pub(crate) fn notify(&self, _all: usize) {
            let wakers = {
                let mut state = self.state.lock().unwrap();
                state.notified += 1;
                std::mem::take(&mut state.wakers)
            };
            for waker in wakers {
                waker.wake();
            }
        }
    }

    impl Future for EventListener {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut state = self.state.lock().unwrap();
            if state.notified != self.seen {
                return Poll::Ready(());
            }
            state.wakers.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Declares thread-locals: `std`'s (with a `const` initializer), or loom's.
macro_rules! thread_locals {
    ($($(#[$meta:meta])* static $name:ident: $t:ty = $init:expr;)*) => {
        #[cfg(not(smol_nursery_loom))]
        std::thread_local! {
            $($(#[$meta])* static $name: $t = const { $init };)*
        }
        #[cfg(smol_nursery_loom)]
        loom::thread_local! {
            $($(#[$meta])* static $name: $t = $init;)*
        }
    };
}
pub(crate) use thread_locals;
