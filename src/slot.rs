//! Reserved room under a limit: `reserve`, `try_reserve`, [`Slot`] and [`Reserve`].
//!
//! [`Room`] and [`Reserving`] do the work for any executor kind; the template
//! `slot_form!` wraps them in the public types of one form ([`Slot`] and [`Reserve`] here,
//! `LocalSlot` and `LocalReserve` in `local.rs`).

use std::panic::Location;

use std::sync::Arc;
use std::task::{Context, Poll};

use crate::child::NoStarter;
use crate::error::NurseryClosed;
use crate::executor::{ExecutorRef, Spawner};
use crate::limit::Grant;
use crate::registry::Id;
use crate::shared::Shared;
use crate::shield::IntoChild;
use crate::spawn::{launch, SpawnChild};
use crate::task::TaskHandle;

/// Room for one child, counted as an unfinished child and holding a permit under a limit:
/// what a slot is, for any executor kind.
pub(crate) struct Room<'a, E, X: Spawner> {
    /// The nursery.
    shared: &'a Arc<Shared<E, X>>,
    /// The id the slot's child will have; counted as started.
    id: Id,
    /// The core's count of handle cancellations when the slot was counted.
    seen_cancels: u32,
}

impl<'a, 'ex, E, X: Spawner> Room<'a, E, X> {
    /// Counts a slot that holds a permit of the limit, if there is one. Releases the permit if
    /// the nursery is closed.
    fn count(shared: &'a Arc<Shared<E, X>>, owned: bool) -> Result<Self, NurseryClosed> {
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
        Ok(Room {
            shared,
            id,
            seen_cancels: shared.core.handle_cancels(),
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
        let this = std::mem::ManuallyDrop::new(self);
        launch(this.shared, child, this.id, NoStarter, true, location)
    }
}

impl<E, X: Spawner> Drop for Room<'_, E, X> {
    fn drop(&mut self) {
        self.shared
            .core
            .finish(self.id, None, false, self.seen_cancels);
        self.shared.release_permit();
    }
}

/// Takes room at once if there is some: `try_reserve` for any executor kind.
pub(crate) fn try_reserve<'a, E, X: Spawner>(
    shared: &'a Arc<Shared<E, X>>,
    owned: bool,
) -> Result<Option<Room<'a, E, X>>, NurseryClosed> {
    if !owned && shared.core.is_closed() {
        return Err(NurseryClosed);
    }
    if let Some(limiter) = &shared.limiter {
        if !limiter.lock().try_take_for_slot(limiter.limit()) {
            return Ok(None);
        }
    }
    Room::count(shared, owned).map(Some)
}

/// Waits for room: the future behind `reserve`, for any executor kind.
pub(crate) struct Reserving<'a, E, X: Spawner> {
    /// The nursery.
    shared: &'a Arc<Shared<E, X>>,
    /// The caller is the nursery's owner, which cannot race with closing.
    owned: bool,
    /// Its turn among the waiting `reserve` calls, once it had to wait.
    grant: Option<Arc<Grant>>,
    /// It resolved.
    done: bool,
}

impl<'a, E, X: Spawner> Reserving<'a, E, X> {
    /// A reservation in `shared`'s nursery.
    pub(crate) fn new(shared: &'a Arc<Shared<E, X>>, owned: bool) -> Self {
        Reserving {
            shared,
            owned,
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
        Poll::Ready(Room::count(shared, self.owned))
    }

    /// It waits for its turn.
    pub(crate) fn waiting(&self) -> bool {
        self.grant.is_some()
    }
}

impl<E, X: Spawner> Drop for Reserving<'_, E, X> {
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

/// The public `Slot` and `Reserve` of one form of nursery: `$Slot` and `$Reserve` on the
/// executor kind `$Executor`, with the bounds `$($Send)*` on children. The types' docs come
/// from the invocation; `start_soon`'s are written here, once, for both forms.
macro_rules! slot_form {
    (
        $(#[$slot_doc:meta])*
        pub struct $Slot:ident on $Executor:ident, bounds [$($Send:tt)*],
            docs [$Nursery:ident, $Handle:ident, $Exec:ident in $Ptr:ident from $ptr_path:literal, $build:ident];
        $(#[$reserve_doc:meta])*
        pub struct $Reserve:ident;
    ) => {
        $(#[$slot_doc])*
        #[must_use = "dropping a slot gives its room back without starting a child"]
        pub struct $Slot<'a, 'ex, E> {
            /// The room, for any executor kind.
            room: $crate::slot::Room<'a, E, $Executor<'ex>>,
        }

        impl<'a, 'ex, E> $Slot<'a, 'ex, E> {
            /// Starts a child in the reserved room, as `start_soon` does, without waiting: the slot
            /// holds its place.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, "use smol_nursery::{shield, NurseryBuilder};")]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = NurseryBuilder::new().limit(4).", stringify!($build), "::<()>(&ex);")]
            ///     let payment = nursery.reserve().await.start_soon(shield(async { Ok("paid") }));
            ///     nursery.join().await.unwrap();
            ///     assert_eq!(payment.await, Ok("paid"));
            /// }));
            /// ```
            #[track_caller]
            pub fn start_soon<C>(self, child: C) -> $crate::TaskHandle<C::Output>
            where
                C: $crate::IntoChild<Error = E>,
                C::Future: $($Send)* 'ex,
                C::Output: $($Send)* 'ex,
                E: $($Send)* 'ex,
            {
                self.room.start_soon(child, std::panic::Location::caller())
            }
        }

        impl<'a, 'ex, E> From<$crate::slot::Room<'a, E, $Executor<'ex>>> for $Slot<'a, 'ex, E> {
            fn from(room: $crate::slot::Room<'a, E, $Executor<'ex>>) -> Self {
                $Slot { room }
            }
        }

        impl<E> std::fmt::Debug for $Slot<'_, '_, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Slot)).finish_non_exhaustive()
            }
        }

        $(#[$reserve_doc])*
        #[must_use = "futures do nothing unless awaited"]
        pub struct $Reserve<'a, 'ex, E> {
            /// The reservation, for any executor kind.
            inner: $crate::slot::Reserving<'a, E, $Executor<'ex>>,
        }

        impl<'a, 'ex, E> From<$crate::slot::Reserving<'a, E, $Executor<'ex>>>
            for $Reserve<'a, 'ex, E>
        {
            fn from(inner: $crate::slot::Reserving<'a, E, $Executor<'ex>>) -> Self {
                $Reserve { inner }
            }
        }

        impl<'a, 'ex, E> std::future::Future for $Reserve<'a, 'ex, E> {
            type Output = Result<$Slot<'a, 'ex, E>, $crate::NurseryClosed>;

            fn poll(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Self::Output> {
                self.inner.poll_room(cx).map(|room| room.map($Slot::from))
            }
        }

        impl<E> std::fmt::Debug for $Reserve<'_, '_, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Reserve))
                    .field("waiting", &self.inner.waiting())
                    .finish()
            }
        }
    };
}
pub(crate) use slot_form;

slot_form! {
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
    pub struct Slot on ExecutorRef, bounds [Send +],
        docs [Nursery, NurseryHandle, Executor in Arc from "std::sync::Arc", build];
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
    pub struct Reserve;
}
