//! Handles that start children from anywhere.
//!
//! One type for both forms, as for the nursery: [`NurseryHandle`] and its local name
//! [`LocalNurseryHandle`]. Only `start_soon` and `start` are written once per form.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::child::NoStarter;
use crate::core::Cancelled;
use crate::error::NurseryClosed;
use crate::executor::{ExecutorKind, ExecutorRef, LocalExecutorRef};
use crate::shared::{Caller, Shared};
use crate::shield::IntoChild;
use crate::slot::{Reserve, Reserving, Slot};
use crate::snapshot::{CancelCause, Snapshot};
use crate::start::{Ready, Start};
use crate::task::TaskHandle;

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
pub struct NurseryHandle<'ex, E, X: ExecutorKind = ExecutorRef<'ex>> {
    /// The nursery's shared state.
    pub(crate) shared: Arc<Shared<E, X>>,
    /// Ties the handle to the nursery's lifetime `'ex`, invariantly.
    lifetime: PhantomData<fn(&'ex ()) -> &'ex ()>,
}

/// A cloneable handle to a [`LocalNursery`](crate::LocalNursery): children capture it to start siblings, as a
/// [`NurseryHandle`](crate::NurseryHandle) does for a [`Nursery`](crate::Nursery).
///
/// It is neither `Send` nor `Sync`.
///
/// # Examples
///
/// ```
/// use async_executor::LocalExecutor;
/// use smol_nursery::{LocalNursery, LocalNurseryHandle};
///
/// fn visit(nursery: &LocalNurseryHandle<'static, ()>, page: u32, depth: u32) {
///     let siblings = nursery.clone();
///     nursery
///         .start_soon(async move {
///             if depth > 0 {
///                 visit(&siblings, page * 2, depth - 1);
///                 visit(&siblings, page * 2 + 1, depth - 1);
///             }
///             Ok(())
///         })
///         .expect("open");
/// }
///
/// let ex: &'static _ = Box::leak(Box::new(LocalExecutor::new()));
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = LocalNursery::new(ex);
///     visit(&nursery.handle(), 1, 3);
///     nursery.join().await.unwrap();
/// }));
/// ```
pub type LocalNurseryHandle<'ex, E> = NurseryHandle<'ex, E, LocalExecutorRef<'ex>>;

impl<'ex, E, X: ExecutorKind> NurseryHandle<'ex, E, X> {
    /// Wraps the nursery's shared state.
    pub(crate) fn new(shared: Arc<Shared<E, X>>) -> Self {
        NurseryHandle {
            shared,
            lifetime: PhantomData,
        }
    }

    /// Waits for room under the nursery's limit and reserves it, as
    /// [`Nursery::reserve`](crate::Nursery::reserve) does.
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
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{NurseryBuilder, NurseryClosed};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = NurseryBuilder::new().limit(2).build::<()>(&ex);
    ///     let handle = nursery.handle();
    ///     let child = handle.reserve().await.unwrap().start_soon(async { Ok(1) });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Ok(1));
    ///     assert_eq!(handle.reserve().await.unwrap_err(), NurseryClosed);
    /// }));
    /// ```
    pub fn reserve(&self) -> Reserve<'_, 'ex, E, X> {
        Reserve::new(Reserving::new(&self.shared, Caller::Handle))
    }

    /// Reserves room for one child if there is some now, as
    /// [`Nursery::try_reserve`](crate::Nursery::try_reserve) does.
    ///
    /// # Errors
    ///
    /// Returns [`NurseryClosed`](crate::NurseryClosed) if the nursery is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
    /// let handle = nursery.handle();
    /// let slot = handle.try_reserve().unwrap().expect("room for one");
    /// assert!(handle.try_reserve().unwrap().is_none());
    /// drop(slot);
    /// ```
    pub fn try_reserve(&self) -> Result<Option<Slot<'_, 'ex, E, X>>, NurseryClosed> {
        crate::slot::try_reserve(&self.shared, Caller::Handle).map(|room| room.map(Slot::new))
    }

    /// Returns the state of the nursery's tree: its unfinished children that have been
    /// polled (where each was started, whether it is shielded or in its grace period, for
    /// about how long it has run), the nurseries opened inside them and those it adopted,
    /// recursively. See [`Snapshot`](crate::Snapshot).
    ///
    /// Each nursery's part is copied at one moment, under its lock, which a child holds only
    /// for as long as such a copy takes. Beyond where each child was started and which
    /// nurseries were opened inside it, nothing is recorded for snapshots until one is asked
    /// for (see the crate docs' "What is still running").
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
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
    pub fn snapshot(&self) -> Snapshot {
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
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use futures_lite::FutureExt;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
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
    pub fn cancelled(&self) -> Cancelled {
        Cancelled::new(self.shared.core.clone())
    }

    /// Cancels the nursery when `duration` has passed, as
    /// [`Nursery::cancel_after`](crate::Nursery::cancel_after) does. Does nothing once the
    /// nursery is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::scope;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let result = scope(&ex, |n| async move {
    ///         n.cancel_after(Duration::from_millis(10));
    ///         async_io::Timer::after(Duration::from_secs(60)).await;
    ///         Ok::<_, ()>(())
    ///     })
    ///     .await;
    ///     assert!(result.unwrap_err().is_timeout());
    /// }));
    /// ```
    pub fn cancel_after(&self, duration: Duration) {
        self.shared.core.cancel_after(duration);
    }

    /// Cancels the nursery at `deadline`, as [`Nursery::cancel_at`](crate::Nursery::cancel_at)
    /// does. Does nothing once the nursery is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, Instant};
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     nursery.handle().cancel_at(Instant::now() + Duration::from_millis(10));
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     assert!(nursery.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    pub fn cancel_at(&self, deadline: Instant) {
        self.shared.core.cancel_at(deadline);
    }

    /// Cancels the nursery, as [`Nursery::cancel`](crate::Nursery::cancel) does. Does nothing
    /// once the nursery is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
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
        self.shared.core.cancel(CancelCause::Explicit);
    }

    /// Returns `true` if the nursery has been cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = Nursery::<()>::new(&ex);
    /// let handle = nursery.handle();
    /// nursery.cancel();
    /// assert!(handle.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.shared.core.is_cancelled()
    }

    /// Returns the number of the nursery's children that have not finished yet, as
    /// [`Nursery::len`](crate::Nursery::len) does; it stays available after `join` consumed
    /// the nursery (and is then 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = Nursery::<()>::new(&ex);
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
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = Nursery::<()>::new(&ex);
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
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = Nursery::<()>::new(&ex);
    /// let handle = nursery.handle();
    /// assert!(!handle.is_closed());
    /// drop(nursery);
    /// assert!(handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.core.is_closed()
    }
}

impl<'ex, E> NurseryHandle<'ex, E> {
    /// Starts a child in the nursery, as [`Nursery::start_soon`](crate::Nursery::start_soon)
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
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{Nursery, NurseryClosed};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     let child = handle.start_soon(async { Ok(5) }).unwrap();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Ok(5));
    ///
    ///     assert_eq!(handle.start_soon(async { Ok(6) }).unwrap_err(), NurseryClosed);
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> Result<TaskHandle<C::Output>, NurseryClosed>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'ex,
        C::Output: Send + 'ex,
        E: Send + 'ex,
    {
        crate::spawn::spawn(
            &self.shared,
            child,
            Caller::Handle,
            NoStarter,
            Location::caller(),
        )
    }

    /// Starts a child that says when it is ready, and waits until it does, as
    /// [`Nursery::start`](crate::Nursery::start) does.
    ///
    /// If the nursery is closed, `make` is dropped uncalled and the future resolves to
    /// [`StartError::Closed`](crate::StartError::Closed).
    ///
    /// # Cancel safety
    ///
    /// As for [`Nursery::start`](crate::Nursery::start): dropping the future before the child
    /// is ready cancels the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{scope, StartError};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let handle = scope(&ex, |n| async move {
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
    pub fn start<V, F, C>(&self, make: F) -> Start<V, C::Output, E>
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Error = E>,
        C::Future: Send + 'ex,
        C::Output: Send + 'ex,
        E: Send + 'ex,
        V: Send + 'ex,
    {
        Start::new(&self.shared, make, Caller::Handle, Location::caller())
    }
}

impl<'ex, E> LocalNurseryHandle<'ex, E> {
    /// Starts a child in the nursery, as [`NurseryHandle::start_soon`] does; the child need not
    /// be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{LocalNursery, NurseryClosed};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     let child = handle.start_soon(async { Ok(5) }).unwrap();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Ok(5));
    ///
    ///     assert_eq!(handle.start_soon(async { Ok(6) }).unwrap_err(), NurseryClosed);
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> Result<TaskHandle<C::Output>, NurseryClosed>
    where
        C: IntoChild<Error = E>,
        C::Future: 'ex,
        C::Output: 'ex,
        E: 'ex,
    {
        crate::spawn::spawn(
            &self.shared,
            child,
            Caller::Handle,
            NoStarter,
            Location::caller(),
        )
    }

    /// Starts a child that says when it is ready, and waits until it does, as
    /// [`NurseryHandle::start`] does; the child, `V`, `T` and `E` need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{local_scope, StartError};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let handle = local_scope(&ex, |n| async move {
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
    pub fn start<V, F, C>(&self, make: F) -> Start<V, C::Output, E>
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Error = E>,
        C::Future: 'ex,
        C::Output: 'ex,
        E: 'ex,
        V: 'ex,
    {
        Start::new(&self.shared, make, Caller::Handle, Location::caller())
    }
}

impl<E, X: ExecutorKind> Clone for NurseryHandle<'_, E, X> {
    fn clone(&self) -> Self {
        NurseryHandle::new(self.shared.clone())
    }
}

impl<E, X: ExecutorKind> fmt::Debug for NurseryHandle<'_, E, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NurseryHandle")
            .field("len", &self.len())
            .field("cancelled", &self.is_cancelled())
            .field("closed", &self.is_closed())
            .finish()
    }
}
