//! Reserved room under a limit: `reserve`, `try_reserve`, [`Slot`] and [`Reserve`].
//!
//! [`Room`] and [`Reserving`] do the work; [`Slot`] and [`Reserve`] wrap them for users, one
//! type each for both forms ([`LocalSlot`] and [`LocalReserve`] name the local ones).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::child::NoStarter;
use crate::error::NurseryClosed;
use crate::executor::{ExecutorKind, ExecutorRef, LocalExecutorRef};
use crate::limit::Grant;
use crate::member::Member;
use crate::shared::{Caller, Shared};
use crate::shield::IntoChild;
use crate::spawn::{launch, Permit, SpawnChild};
use crate::task::TaskHandle;

/// Room for one child, counted as an unfinished child and holding a permit under a limit:
/// what a slot is, for any executor kind.
pub(crate) struct Room<'a, E, X: ExecutorKind> {
    /// The nursery.
    shared: &'a Arc<Shared<E, X>>,
    /// The place, counted as an unfinished child holding a permit; its id is the one the
    /// slot's child will have.
    member: Member,
}

impl<'a, 'ex, E, X: ExecutorKind> Room<'a, E, X> {
    /// Counts a slot that holds a permit of the limit, if there is one. Releases the permit if
    /// the nursery is closed.
    fn count(shared: &'a Arc<Shared<E, X>>, caller: Caller) -> Result<Self, NurseryClosed> {
        let id = match shared.count_child(caller) {
            Ok(id) => id,
            Err(closed) => {
                shared.release_permit();
                return Err(closed);
            }
        };
        Ok(Room {
            shared,
            member: Member::reserved(&shared.core, id),
        })
    }

    /// Starts `child` in this room.
    pub(crate) fn start_soon<C>(
        self,
        child: C,
        location: &'static Location<'static>,
    ) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: 'ex,
        C::Output: 'ex,
        X: SpawnChild<'ex, C, NoStarter>,
    {
        // The child takes the place over: its own wrapper finishes it.
        let this = std::mem::ManuallyDrop::new(self);
        let id = this.member.id();
        launch(this.shared, child, id, NoStarter, Permit::Held, location)
    }
}

impl<E, X: ExecutorKind> Drop for Room<'_, E, X> {
    fn drop(&mut self) {
        self.member.finish(self.shared);
    }
}

/// Takes room at once if there is some: `try_reserve` for any executor kind.
pub(crate) fn try_reserve<'a, E, X: ExecutorKind>(
    shared: &'a Arc<Shared<E, X>>,
    caller: Caller,
) -> Result<Option<Room<'a, E, X>>, NurseryClosed> {
    if caller == Caller::Handle && shared.core.is_closed() {
        return Err(NurseryClosed);
    }
    if let Some(limiter) = &shared.limiter {
        if !limiter.lock().try_take_for_slot(limiter.limit()) {
            return Ok(None);
        }
    }
    Room::count(shared, caller).map(Some)
}

/// Waits for room: the future behind `reserve`, for any executor kind.
pub(crate) struct Reserving<'a, E, X: ExecutorKind> {
    /// The nursery.
    shared: &'a Arc<Shared<E, X>>,
    /// The caller is the nursery's owner, which cannot race with closing.
    caller: Caller,
    /// Its turn among the waiting `reserve` calls, once it had to wait.
    grant: Option<Arc<Grant>>,
    /// It resolved.
    done: bool,
}

impl<'a, E, X: ExecutorKind> Reserving<'a, E, X> {
    /// A reservation in `shared`'s nursery.
    pub(crate) fn new(shared: &'a Arc<Shared<E, X>>, caller: Caller) -> Self {
        Reserving {
            shared,
            caller,
            grant: None,
            done: false,
        }
    }

    /// Polls for room.
    pub(crate) fn poll_room(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Room<'a, E, X>, NurseryClosed>> {
        assert!(!self.done, "`Reserve` polled after completion");
        let shared = self.shared;
        if self.caller == Caller::Handle && shared.core.is_closed() && self.grant.is_none() {
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
        Poll::Ready(Room::count(shared, self.caller))
    }

    /// It waits for its turn.
    pub(crate) fn waiting(&self) -> bool {
        self.grant.is_some()
    }
}

impl<E, X: ExecutorKind> Drop for Reserving<'_, E, X> {
    fn drop(&mut self) {
        let (Some(grant), Some(limiter)) = (self.grant.take(), &self.shared.limiter) else {
            return;
        };
        if limiter.lock().forget_reserver(&grant) {
            return;
        }
        // It was handed a place, or is being handed one right now.
        if grant.abandon() {
            limiter.release(|admit| admit(&self.shared.executor));
        }
    }
}

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
pub struct Slot<'a, 'ex, E, X: ExecutorKind = ExecutorRef<'ex>> {
    /// The room.
    pub(crate) room: Room<'a, E, X>,
    /// Ties the slot to the nursery's lifetime `'ex`, invariantly.
    lifetime: PhantomData<fn(&'ex ()) -> &'ex ()>,
}

/// Room for one child in a [`LocalNursery`](crate::LocalNursery), reserved by
/// [`reserve`](crate::Nursery::reserve) or [`try_reserve`](crate::Nursery::try_reserve): the
/// local counterpart of [`Slot`](crate::Slot). Dropping an unused slot gives its room back.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::NurseryBuilder;
///
/// let ex = Rc::new(LocalExecutor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = NurseryBuilder::new().limit(1).build_local::<()>(&ex);
///     let slot = nursery.reserve().await;
///     assert!(nursery.try_reserve().is_none(), "the only place is reserved");
///     let child = slot.start_soon(async { Ok(Rc::new(3)) });
///     nursery.join().await.unwrap();
///     assert_eq!(*child.await.unwrap(), 3);
/// }));
/// ```
pub type LocalSlot<'a, 'ex, E> = Slot<'a, 'ex, E, LocalExecutorRef<'ex>>;

impl<'a, E, X: ExecutorKind> Slot<'a, '_, E, X> {
    /// Wraps a room.
    pub(crate) fn new(room: Room<'a, E, X>) -> Self {
        Slot {
            room,
            lifetime: PhantomData,
        }
    }
}

impl<'ex, E> Slot<'_, 'ex, E> {
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
        self.room.start_soon(child, Location::caller())
    }
}

impl<'ex, E> LocalSlot<'_, 'ex, E> {
    /// Starts a child in the reserved room, as [`Slot::start_soon`] does; the child need not be
    /// `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{shield, NurseryBuilder};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = NurseryBuilder::new().limit(4).build_local::<()>(&ex);
    ///     let payment = nursery.reserve().await.start_soon(shield(async { Ok("paid") }));
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(payment.await, Ok("paid"));
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: 'ex,
        C::Output: 'ex,
        E: 'ex,
    {
        self.room.start_soon(child, Location::caller())
    }
}

impl<E, X: ExecutorKind> fmt::Debug for Slot<'_, '_, E, X> {
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
pub struct Reserve<'a, 'ex, E, X: ExecutorKind = ExecutorRef<'ex>> {
    /// The reservation.
    inner: Reserving<'a, E, X>,
    /// Ties the future to the nursery's lifetime `'ex`, invariantly.
    lifetime: PhantomData<fn(&'ex ()) -> &'ex ()>,
}

/// The future [`LocalNurseryHandle::reserve`](crate::NurseryHandle::reserve) returns: resolves to a [`LocalSlot`] once
/// there is room under the limit, as [`Reserve`](crate::Reserve) does.
///
/// # Cancel safety
///
/// Cancel safe: dropping it before it resolves gives up its turn, and a place it was just
/// handed goes to the next one waiting.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::NurseryBuilder;
///
/// let ex = Rc::new(LocalExecutor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = NurseryBuilder::new().limit(1).build_local::<()>(&ex);
///     let handle = nursery.handle();
///     let first = handle.try_reserve().unwrap().expect("room for one");
///     let mut waiting = Box::pin(handle.reserve());
///     assert!(futures_lite::future::poll_once(waiting.as_mut()).await.is_none(), "full");
///     drop(first);
///     waiting.await.unwrap().start_soon(async { Ok(()) });
///     nursery.join().await.unwrap();
/// }));
/// ```
pub type LocalReserve<'a, 'ex, E> = Reserve<'a, 'ex, E, LocalExecutorRef<'ex>>;

impl<'a, E, X: ExecutorKind> Reserve<'a, '_, E, X> {
    /// Wraps a reservation.
    pub(crate) fn new(inner: Reserving<'a, E, X>) -> Self {
        Reserve {
            inner,
            lifetime: PhantomData,
        }
    }
}

impl<'a, 'ex, E, X: ExecutorKind> Future for Reserve<'a, 'ex, E, X> {
    type Output = Result<Slot<'a, 'ex, E, X>, NurseryClosed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll_room(cx).map(|room| room.map(Slot::new))
    }
}

impl<E, X: ExecutorKind> fmt::Debug for Reserve<'_, '_, E, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("waiting", &self.inner.waiting())
            .finish()
    }
}
