//! Handles that start children from anywhere.
//!
//! The template `handle_form!` makes the handle of one form of nursery ([`NurseryHandle`]
//! here, `LocalNurseryHandle` in `local.rs`); every method calls code shared by both forms.

use crate::executor::ExecutorRef;
use crate::slot::{Reserve, Slot};

/// The public handle of one form of nursery: `$Handle`, whose reservations are `$Slot` and
/// `$Reserve`, on the executor kind `$Executor`, with the bounds `$($Send)*` on children.
/// The type's docs come from the invocation; the methods' docs are written here, once, for
/// both forms.
macro_rules! handle_form {
    (
        $(#[$doc:meta])*
        pub struct $Handle:ident on $Executor:ident, slots [$Slot:ident, $Reserve:ident],
            bounds [$($Send:tt)*],
            docs [$Nursery:ident, $scope:ident, $Exec:ident in $Ptr:ident from $ptr_path:literal, $build:ident];
    ) => {
        $(#[$doc])*
        pub struct $Handle<'ex, E> {
            /// The nursery's shared state.
            shared: std::sync::Arc<$crate::shared::Shared<E, $Executor<'ex>>>,
        }

        impl<'ex, E> $Handle<'ex, E> {
            /// Wraps the nursery's shared state.
            pub(crate) fn new(
                shared: std::sync::Arc<$crate::shared::Shared<E, $Executor<'ex>>>,
            ) -> Self {
                $Handle { shared }
            }

            #[doc = concat!("Starts a child in the nursery, as [`", stringify!($Nursery), "::start_soon`](crate::", stringify!($Nursery), "::start_soon)")]
            /// does, unless the nursery is closed.
            ///
            /// # Errors
            ///
            /// Returns [`NurseryClosed`](crate::NurseryClosed) once `join` has returned or the nursery was dropped; `child`
            /// is then dropped without being polled.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::{", stringify!($Nursery), ", NurseryClosed};"))]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            ///     let handle = nursery.handle();
            ///     let child = handle.start_soon(async { Ok(5) }).unwrap();
            ///     nursery.join().await.unwrap();
            ///     assert_eq!(child.await, Ok(5));
            ///
            ///     assert_eq!(handle.start_soon(async { Ok(6) }).unwrap_err(), NurseryClosed);
            /// }));
            /// ```
            #[track_caller]
            pub fn start_soon<C>(
                &self,
                child: C,
            ) -> Result<$crate::TaskHandle<C::Output>, $crate::NurseryClosed>
            where
                C: $crate::IntoChild<Error = E>,
                C::Future: $($Send)* 'ex,
                C::Output: $($Send)* 'ex,
                E: $($Send)* 'ex,
            {
                $crate::spawn::spawn(
                    &self.shared,
                    child,
                    false,
                    $crate::child::NoStarter,
                    std::panic::Location::caller(),
                )
            }

            /// Starts a child that says when it is ready, and waits until it does, as
            #[doc = concat!("[`", stringify!($Nursery), "::start`](crate::", stringify!($Nursery), "::start) does.")]
            ///
            /// If the nursery is closed, `make` is dropped uncalled and the future resolves to
            /// [`StartError::Closed`](crate::StartError::Closed).
            ///
            /// # Cancel safety
            ///
            #[doc = concat!("As for [`", stringify!($Nursery), "::start`](crate::", stringify!($Nursery), "::start): dropping the future before the child")]
            /// is ready cancels the child.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::{", stringify!($scope), ", StartError};"))]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let handle = ", stringify!($scope), "(&ex, |n| async move {")]
            ///         let (port, _worker) = n
            ///             .start(|ready| async move {
            ///                 ready.started(4000_u16);
            ///                 Ok(())
            ///             })
            ///             .await
            ///             .expect("the worker is ready");
            ///         assert_eq!(port, 4000);
            ///         Ok::<_, ()>(n)
            ///     })
            ///     .await
            ///     .unwrap();
            ///
            ///     // The scope is over: its handle is closed.
            ///     let late = handle.start(|ready| async move { ready.started(1_u16); Ok(()) }).await;
            ///     assert!(matches!(late, Err(StartError::Closed)));
            /// }));
            /// ```
            #[track_caller]
            pub fn start<V, F, C>(&self, make: F) -> $crate::Start<V, C::Output, E>
            where
                F: FnOnce($crate::Ready<V>) -> C,
                C: $crate::IntoChild<Error = E>,
                C::Future: $($Send)* 'ex,
                C::Output: $($Send)* 'ex,
                E: $($Send)* 'ex,
                V: $($Send)* 'ex,
            {
                $crate::Start::new(&self.shared, make, false, std::panic::Location::caller())
            }

            /// Waits for room under the nursery's limit and reserves it, as
            #[doc = concat!("[`", stringify!($Nursery), "::reserve`](crate::", stringify!($Nursery), "::reserve) does.")]
            ///
            /// # Errors
            ///
            /// Resolves to [`NurseryClosed`](crate::NurseryClosed) if the nursery is closed, or closes while it waits.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: dropping the future before it resolves gives up its turn.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, "use smol_nursery::{NurseryBuilder, NurseryClosed};")]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = NurseryBuilder::new().limit(2).", stringify!($build), "::<()>(&ex);")]
            ///     let handle = nursery.handle();
            ///     let child = handle.reserve().await.unwrap().start_soon(async { Ok(1) });
            ///     nursery.join().await.unwrap();
            ///     assert_eq!(child.await, Ok(1));
            ///     assert_eq!(handle.reserve().await.unwrap_err(), NurseryClosed);
            /// }));
            /// ```
            pub fn reserve(&self) -> $Reserve<'_, 'ex, E> {
                $Reserve::from($crate::slot::Reserving::new(&self.shared, false))
            }

            /// Reserves room for one child if there is some now, as
            #[doc = concat!("[`", stringify!($Nursery), "::try_reserve`](crate::", stringify!($Nursery), "::try_reserve) does.")]
            ///
            /// # Errors
            ///
            /// Returns [`NurseryClosed`](crate::NurseryClosed) if the nursery is closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, "use smol_nursery::NurseryBuilder;")]
            #[doc = concat!("let nursery = NurseryBuilder::new().limit(1).", stringify!($build), "::<()>(&ex);")]
            /// let handle = nursery.handle();
            /// let slot = handle.try_reserve().unwrap().expect("room for one");
            /// assert!(handle.try_reserve().unwrap().is_none());
            /// drop(slot);
            /// ```
            pub fn try_reserve(&self) -> Result<Option<$Slot<'_, 'ex, E>>, $crate::NurseryClosed> {
                $crate::slot::try_reserve(&self.shared, false).map(|room| room.map($Slot::from))
            }

            /// Returns the state of the nursery's tree: its unfinished children that have been
            /// polled (where each was started, whether it is shielded or in its grace period, for
            /// about how long it has run), the nurseries opened inside them and those it adopted,
            /// recursively. See [`Snapshot`](crate::Snapshot).
            ///
            /// Each nursery's part is copied at one moment, under its lock, which a child holds only
            /// for as long as such a copy takes; nothing is recorded for snapshots until one is asked
            /// for, beyond where each child was started.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "use std::time::Duration;\n", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            ///     nursery.start_soon(async {
            ///         async_io::Timer::after(Duration::from_millis(20)).await;
            ///         Ok(())
            ///     });
            ///     async_io::Timer::after(Duration::from_millis(5)).await;
            ///     let snapshot = nursery.handle().snapshot();
            ///     assert_eq!(snapshot.children().len(), 1);
            ///     assert!(snapshot.children()[0].location().file().ends_with(".rs"));
            ///     println!("{snapshot}"); // nursery: 1 unfinished / #0 src/main.rs:9:15, running for ...
            ///     nursery.join().await.unwrap();
            /// }));
            /// ```
            pub fn snapshot(&self) -> $crate::Snapshot {
                self.shared.core.snapshot()
            }

            /// Returns a future that resolves once the nursery has been cancelled, for any reason
            /// (`cancel`, a failure, the deadline, the nursery dropped), or closed; at once if it
            /// already was.
            ///
            /// The future owns what it needs (it does not borrow the handle) and is `Send`, so a
            /// shielded child can race it against its work to finish what it is doing and stop.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use ", $ptr_path, ";")]
            /// use std::time::Duration;
            #[doc = concat!("use async_executor::", stringify!($Exec), ";")]
            /// use futures_lite::FutureExt;
            #[doc = concat!("use smol_nursery::{shield, ", stringify!($Nursery), "};")]
            ///
            #[doc = concat!("let ex = ", stringify!($Ptr), "::new(", stringify!($Exec), "::new());")]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            ///     let stop = nursery.handle().cancelled();
            ///     let worker = nursery.start_soon(shield(async move {
            ///         let mut batches = 0;
            ///         // Work in batches until the nursery winds down, then finish cleanly.
            ///         let work = async {
            ///             loop {
            ///                 async_io::Timer::after(Duration::from_millis(1)).await;
            ///                 batches += 1;
            ///             }
            ///         };
            ///         work.or(stop).await;
            ///         Ok(batches)
            ///     }));
            ///     async_io::Timer::after(Duration::from_millis(20)).await;
            ///     nursery.cancel();
            ///     nursery.join().await.unwrap();
            ///     assert!(worker.await.unwrap() > 0);
            /// }));
            /// ```
            pub fn cancelled(&self) -> $crate::Cancelled {
                $crate::Cancelled::new(self.shared.core.clone())
            }

            /// Cancels the nursery when `duration` has passed, as
            #[doc = concat!("[`", stringify!($Nursery), "::cancel_after`](crate::", stringify!($Nursery), "::cancel_after) does. Does nothing once the")]
            /// nursery is closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "use std::time::Duration;\n", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($scope), ";"))]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let result = ", stringify!($scope), "(&ex, |n| async move {")]
            ///         n.cancel_after(Duration::from_millis(10));
            ///         async_io::Timer::after(Duration::from_secs(60)).await;
            ///         Ok::<_, ()>(())
            ///     })
            ///     .await;
            ///     assert!(result.unwrap_err().is_timeout());
            /// }));
            /// ```
            pub fn cancel_after(&self, duration: std::time::Duration) {
                self.shared.core.cancel_after(duration);
            }

            #[doc = concat!("Cancels the nursery at `deadline`, as [`", stringify!($Nursery), "::cancel_at`](crate::", stringify!($Nursery), "::cancel_at)")]
            /// does. Does nothing once the nursery is closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "use std::time::{Duration, Instant};\n", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            ///     nursery.handle().cancel_at(Instant::now() + Duration::from_millis(10));
            ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
            ///     assert!(nursery.join().await.unwrap_err().is_timeout());
            /// }));
            /// ```
            pub fn cancel_at(&self, deadline: std::time::Instant) {
                self.shared.core.cancel_at(deadline);
            }

            #[doc = concat!("Cancels the nursery, as [`", stringify!($Nursery), "::cancel`](crate::", stringify!($Nursery), "::cancel) does. Does nothing")]
            /// once the nursery is closed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            /// futures_lite::future::block_on(ex.run(async {
            #[doc = concat!("    let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            ///     let handle = nursery.handle();
            ///     nursery.start_soon(async move {
            ///         // Stop everything: the work is done.
            ///         handle.cancel();
            ///         Ok(())
            ///     });
            ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
            ///     assert_eq!(nursery.join().await, Ok(()));
            /// }));
            /// ```
            pub fn cancel(&self) {
                self.shared.core.cancel($crate::CancelCause::Explicit);
            }

            /// Returns `true` if the nursery has been cancelled.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            #[doc = concat!("let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            /// let handle = nursery.handle();
            /// nursery.cancel();
            /// assert!(handle.is_cancelled());
            /// ```
            pub fn is_cancelled(&self) -> bool {
                self.shared.core.is_cancelled()
            }

            /// Returns the number of the nursery's children that have not finished yet, as
            #[doc = concat!("[`", stringify!($Nursery), "::len`](crate::", stringify!($Nursery), "::len) does; it stays available after `join` consumed")]
            /// the nursery (and is then 0).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            #[doc = concat!("let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            /// let handle = nursery.handle();
            /// drop(handle.start_soon(async { Ok(()) }));
            /// assert_eq!(handle.len(), 1);
            /// futures_lite::future::block_on(ex.run(nursery.join())).unwrap();
            /// assert_eq!(handle.len(), 0);
            /// ```
            pub fn len(&self) -> usize {
                self.shared.core.len()
            }

            /// Returns `true` if every child of the nursery has finished (or none was started).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            #[doc = concat!("let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            /// assert!(nursery.handle().is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.shared.core.is_empty()
            }

            /// Returns `true` if the nursery is closed: `join` has returned, or the nursery was
            /// dropped. A closed nursery accepts no more children.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = $crate::nursery::example_prelude!($ptr_path, "", $Exec, $Ptr, concat!("use smol_nursery::", stringify!($Nursery), ";"))]
            #[doc = concat!("let nursery = ", stringify!($Nursery), "::<()>::new(&ex);")]
            /// let handle = nursery.handle();
            /// assert!(!handle.is_closed());
            /// drop(nursery);
            /// assert!(handle.is_closed());
            /// ```
            pub fn is_closed(&self) -> bool {
                self.shared.core.is_closed()
            }
        }

        impl<E> Clone for $Handle<'_, E> {
            fn clone(&self) -> Self {
                $Handle {
                    shared: self.shared.clone(),
                }
            }
        }

        impl<E> std::fmt::Debug for $Handle<'_, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($Handle))
                    .field("len", &self.len())
                    .field("cancelled", &self.is_cancelled())
                    .field("closed", &self.is_closed())
                    .finish()
            }
        }
    };
}
pub(crate) use handle_form;

handle_form! {
    /// A cloneable handle to a [`Nursery`](crate::Nursery): children capture it to start
    /// siblings, and other tasks or threads use it to start children or cancel the nursery.
    ///
    /// Children started through a handle belong to the nursery: `join` waits for them. A handle
    /// does not keep the nursery open: once `join` has returned, or the nursery was dropped,
    /// [`start_soon`](NurseryHandle::start_soon) returns [`NurseryClosed`](crate::NurseryClosed).
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::Executor;
    /// use smol_nursery::{Nursery, NurseryHandle};
    ///
    /// /// Visits a page, then starts a sibling for each link it finds.
    /// fn visit(nursery: &NurseryHandle<'static, String>, page: u32, depth: u32) {
    ///     let siblings = nursery.clone();
    ///     let started = nursery.start_soon(async move {
    ///         if depth > 0 {
    ///             for link in [page * 2, page * 2 + 1] {
    ///                 visit(&siblings, link, depth - 1);
    ///             }
    ///         }
    ///         Ok(page)
    ///     });
    ///     // After `join` the nursery refuses new children; here it is still open.
    ///     assert!(started.is_ok());
    /// }
    ///
    /// static EX: Executor<'static> = Executor::new();
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery = Nursery::new(&EX);
    ///     visit(&nursery.handle(), 1, 3);
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub struct NurseryHandle on ExecutorRef, slots [Slot, Reserve], bounds [Send +],
        docs [Nursery, scope, Executor in Arc from "std::sync::Arc", build];
}
