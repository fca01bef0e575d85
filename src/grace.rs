//! Grace periods: a shielded child that gets a bounded time to finish once its nursery is
//! cancelled.
//!
//! Only children started with `shield(fut).grace(d)` are wrapped in [`Graced`]; every other
//! child is spawned as it is, so the feature costs nothing to those who do not use it. The
//! child wrapper treats a graced child as shielded; this adapter watches the
//! nursery, arms an `async_io::Timer` once the nursery is cancelled, and when the timer fires
//! asks the nursery to cancel this one child by its id, as its `TaskHandle` would.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use pin_project_lite::pin_project;

use crate::core::Core;
use crate::registry::Id;
use crate::sync::EventListener;

/// Where a graced child stands.
enum Phase {
    /// The nursery is not cancelled yet; listening for it once the child has been polled.
    Watching(Option<EventListener>),
    /// The nursery is cancelled; the grace ends when this timer fires.
    Counting(Timer),
    /// The grace is too long to count: a plain shield from now on.
    Unbounded,
    /// The grace is over and the child asked to be cancelled.
    Cut,
}

pin_project! {
    /// A graced child's future.
    pub(crate) struct Graced<F> {
        // The child's own future.
        #[pin]
        future: F,
        // The nursery's core.
        core: Arc<Core>,
        // The child's id, to cancel it when its grace is over.
        id: Id,
        // The grace period.
        grace: Duration,
        // When the child started to wait for admission under a limit: its grace counts from
        // then if the nursery was cancelled while it waited.
        queued_at: Option<Instant>,
        // See `Phase`.
        phase: Phase,
    }
}

impl<F> Graced<F> {
    /// Wraps the child `id` with a grace of `grace`; `queued_at` tells when it began to wait
    /// for admission under a limit, if it did.
    pub(crate) fn new(
        future: F,
        core: Arc<Core>,
        id: Id,
        grace: Duration,
        queued_at: Option<Instant>,
    ) -> Self {
        Graced {
            future,
            core,
            id,
            grace,
            queued_at,
            phase: Phase::Watching(None),
        }
    }
}

impl<F: Future> Future for Graced<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        loop {
            match this.phase {
                Phase::Watching(listener) => {
                    if let Some(cancelled_at) = this.core.cancelled_at() {
                        // The grace counts from when this child could first see the
                        // cancellation: now, or while it waited for admission.
                        let seen = match *this.queued_at {
                            Some(queued_at) => cancelled_at.max(queued_at),
                            None => Instant::now(),
                        };
                        *this.phase = match seen.checked_add(*this.grace) {
                            Some(end) => Phase::Counting(Timer::at(end)),
                            None => Phase::Unbounded,
                        };
                        continue;
                    }
                    match listener {
                        None => *listener = Some(this.core.stopped_listener()),
                        Some(waiting) => match Pin::new(waiting).poll(cx) {
                            Poll::Ready(()) => *listener = None,
                            Poll::Pending => break,
                        },
                    }
                }
                Phase::Counting(timer) => {
                    if Pin::new(timer).poll(cx).is_pending() {
                        break;
                    }
                    *this.phase = Phase::Cut;
                    this.core.cancel_child(*this.id);
                }
                Phase::Unbounded => break,
                // The child's wrapper drops this future before it polls it again.
                Phase::Cut => return Poll::Pending,
            }
        }
        this.future.poll(cx)
    }
}
