//! The nursery's deadline: one `async_io::Timer`, armed by `cancel_after` / `cancel_at`, that
//! cancels the nursery when it fires.
//!
//! The timer lives in the core's locked state and is registered with a waker that holds the
//! core weakly, so an armed deadline neither keeps the nursery alive nor makes `join` wait: it
//! is dropped when it fires or when the nursery closes.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use crate::sync::Ordering;
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use async_io::Timer;

use super::{Core, FIRED};
use crate::snapshot::CancelCause;

/// An armed deadline.
pub(crate) struct Deadline {
    /// When it fires.
    pub(super) at: Instant,
    /// How far ahead it was set, for error messages.
    budget: Duration,
    /// The timer, registered with a [`DeadlineWaker`]. Dropping it deregisters it.
    timer: Timer,
}

/// Wakes the nursery when its deadline timer fires. Holds the core weakly: the timer lives in
/// the core, so a strong reference would be a cycle.
struct DeadlineWaker(Weak<Core>);

impl Wake for DeadlineWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(core) = self.0.upgrade() {
            core.deadline_woke();
        }
    }
}

impl Core {
    /// Cancels the nursery when `duration` has passed; a duration too large for an `Instant`
    /// means no deadline.
    pub(crate) fn cancel_after(self: &Arc<Self>, duration: Duration) {
        if let Some(at) = Instant::now().checked_add(duration) {
            self.set_deadline(at, duration);
        }
    }

    /// Cancels the nursery at `deadline`.
    pub(crate) fn cancel_at(self: &Arc<Self>, deadline: Instant) {
        let budget = deadline.saturating_duration_since(Instant::now());
        self.set_deadline(deadline, budget);
    }

    /// Arms the deadline at `at`, unless an earlier one is armed or has fired, or the nursery
    /// is closed. `budget` is how far ahead of now it was asked for.
    fn set_deadline(self: &Arc<Self>, at: Instant, budget: Duration) {
        let replaced;
        let fired = {
            let mut inner = self.lock();
            if self.is_closed() || inner.fired.is_some() {
                return;
            }
            if inner.deadline.as_ref().is_some_and(|d| d.at <= at) {
                return;
            }
            replaced = inner.deadline.replace(Deadline {
                at,
                budget,
                timer: Timer::at(at),
            });
            let waker = Waker::from(Arc::new(DeadlineWaker(Arc::downgrade(self))));
            let deadline = inner.deadline.as_mut().expect("just armed");
            // Registers the waker with the reactor (async-io calls no waker from here).
            Pin::new(&mut deadline.timer)
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        };
        drop(replaced);
        if fired {
            self.fire_deadline();
        }
    }

    /// Called by the timer's waker.
    fn deadline_woke(&self) {
        let due = {
            let inner = self.lock();
            inner
                .deadline
                .as_ref()
                .is_some_and(|d| Instant::now() >= d.at)
        };
        if due {
            self.fire_deadline();
        }
    }

    /// The deadline passed: cancel the nursery for that reason, and remember whether it cut
    /// a child short.
    fn fire_deadline(&self) {
        let mut inner = self.lock();
        if self.is_closed() || inner.fired.is_some() {
            return;
        }
        let Some(deadline) = inner.deadline.take() else {
            return;
        };
        inner.fired = Some(deadline.budget);
        if !self.is_empty() {
            inner.timed_out = inner.fired;
        }
        // ORDERING: Release publishes `inner.fired` to `note_late_start`.
        self.flags.fetch_or(FIRED, Ordering::Release);
        self.cancel_locked(inner, CancelCause::Deadline);
        drop(deadline);
    }
}
