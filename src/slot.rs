//! Reserved room under a limit: `reserve`, `try_reserve` and [`Slot`].

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::child::NoStarter;
use crate::error::NurseryClosed;
use crate::limit::Grant;
use crate::registry::Id;
use crate::shared::Shared;
use crate::shield::IntoChild;
use crate::spawn::launch;
use crate::task::TaskHandle;

/// Room for one child in a nursery, reserved by [`reserve`](crate::Nursery::reserve) or
/// [`try_reserve`](crate::Nursery::try_reserve).
///
/// A slot counts as an unfinished child (it counts in `len()`, and the nursery does not close
/// while it exists) and, under a limit, holds one of the limit's places, until it is used by
/// [`start_soon`](Slot::start_soon) or dropped. **Dropping an unused slot gives its room back.**
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::NurseryBuilder;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
///     let slot = nursery.reserve().await;
///     assert!(nursery.try_reserve().is_none(), "the only place is reserved");
///     let child = slot.start_soon(async { Ok(3) });
///     nursery.join().await.unwrap();
///     assert_eq!(child.await, Ok(3));
/// }));
/// ```
#[must_use = "dropping a slot gives its room back without starting a child"]
pub struct Slot<'a, 'ex, E> {
    /// The nursery.
    shared: &'a Arc<Shared<'ex, E>>,
    /// The id the slot's child will have; counted as started.
    id: Id,
    /// The core's count of handle cancellations when the slot was counted.
    seen_cancels: u32,
}

impl<'a, 'ex, E> Slot<'a, 'ex, E> {
    /// Counts a slot that holds a permit of the limit, if there is one. Releases the permit if
    /// the nursery is closed.
    fn count(shared: &'a Arc<Shared<'ex, E>>, owned: bool) -> Result<Self, NurseryClosed> {
        let id = if owned {
            shared.core.start_owned()
        } else {
            match shared.core.start_shared() {
                Ok(id) => id,
                Err(closed) => {
                    shared.release_permit();
                    return Err(closed);
                }
            }
        };
        Ok(Slot {
            shared,
            id,
            seen_cancels: shared.core.handle_cancels(),
        })
    }

    /// Starts a child in the reserved room, as `start_soon` does, without waiting: the slot
    /// holds its place.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, NurseryBuilder};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = NurseryBuilder::new().limit(4).build::<()>(&ex);
    ///     let payment = nursery.reserve().await.start_soon(shield(async { Ok("paid") }));
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(payment.await, Ok("paid"));
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'ex,
        C::Output: Send + 'ex,
        E: Send + 'ex,
    {
        let this = std::mem::ManuallyDrop::new(self);
        launch(
            this.shared,
            child,
            this.id,
            NoStarter,
            true,
            Location::caller(),
        )
    }
}

impl<E> Drop for Slot<'_, '_, E> {
    fn drop(&mut self) {
        self.shared
            .core
            .finish(self.id, None, false, self.seen_cancels);
        self.shared.release_permit();
    }
}

impl<E> fmt::Debug for Slot<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").finish_non_exhaustive()
    }
}

/// The future [`NurseryHandle::reserve`](crate::NurseryHandle::reserve) returns (and
/// [`Nursery::reserve`](crate::Nursery::reserve) awaits): resolves to a [`Slot`] once the
/// nursery's unfinished children plus the slots already handed out are fewer than its limit.
///
/// Waiting `reserve` calls are served in the order they began waiting. Without a limit it is
/// ready at once.
///
/// # Cancel safety
///
/// Cancel safe: dropping it before it resolves gives up its turn, and a place it was just
/// handed goes to the next one waiting.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::NurseryBuilder;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
///     let handle = nursery.handle();
///     let first = handle.try_reserve().unwrap().expect("room for one");
///     let mut waiting = Box::pin(handle.reserve());
///     assert!(futures_lite::future::poll_once(waiting.as_mut()).await.is_none(), "full");
///     drop(first);
///     let slot = waiting.await.unwrap(); // the room freed by `first`
///     slot.start_soon(async { Ok(()) });
///     nursery.join().await.unwrap();
/// }));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Reserve<'a, 'ex, E> {
    /// The nursery.
    shared: &'a Arc<Shared<'ex, E>>,
    /// The caller is the nursery's owner, which cannot race with closing.
    owned: bool,
    /// Its turn among the waiting `reserve` calls, once it had to wait.
    grant: Option<Arc<Grant>>,
    /// It resolved.
    done: bool,
}

impl<'a, 'ex, E> Reserve<'a, 'ex, E> {
    /// A reservation in `shared`'s nursery.
    pub(crate) fn new(shared: &'a Arc<Shared<'ex, E>>, owned: bool) -> Self {
        Reserve {
            shared,
            owned,
            grant: None,
            done: false,
        }
    }
}

/// Reserves a slot now, or returns `None` if the nursery is full.
pub(crate) fn try_reserve<'a, 'ex, E>(
    shared: &'a Arc<Shared<'ex, E>>,
    owned: bool,
) -> Result<Option<Slot<'a, 'ex, E>>, NurseryClosed> {
    if !owned && shared.core.is_closed() {
        return Err(NurseryClosed);
    }
    if let Some(limiter) = &shared.limiter {
        if !limiter.lock().try_take_for_slot(limiter.limit()) {
            return Ok(None);
        }
    }
    Slot::count(shared, owned).map(Some)
}

impl<'a, 'ex, E> Future for Reserve<'a, 'ex, E> {
    type Output = Result<Slot<'a, 'ex, E>, NurseryClosed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "`Reserve` polled after completion");
        let shared = self.shared;
        if !self.owned && shared.core.is_closed() && self.grant.is_none() {
            self.done = true;
            return Poll::Ready(Err(NurseryClosed));
        }
        if let Some(limiter) = &shared.limiter {
            match &self.grant {
                Some(grant) => {
                    if !grant.poll_granted(cx.waker()) {
                        return Poll::Pending;
                    }
                }
                None => {
                    let mut state = limiter.lock();
                    if !state.try_take_for_slot(limiter.limit()) {
                        let grant = Arc::new(Grant::default());
                        grant.poll_granted(cx.waker());
                        state.wait_for_slot(grant.clone());
                        drop(state);
                        self.grant = Some(grant);
                        return Poll::Pending;
                    }
                }
            }
        }
        self.done = true;
        self.grant = None;
        Poll::Ready(Slot::count(shared, self.owned))
    }
}

impl<E> Drop for Reserve<'_, '_, E> {
    fn drop(&mut self) {
        let (Some(grant), Some(limiter)) = (self.grant.take(), &self.shared.limiter) else {
            return;
        };
        if limiter.lock().forget_reserver(&grant) {
            return;
        }
        // It was handed a place, or is being handed one right now.
        if grant.abandon() {
            limiter.release();
        }
    }
}

impl<E> fmt::Debug for Reserve<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("waiting", &self.grant.is_some())
            .finish()
    }
}
