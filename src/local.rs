//! The local forms: [`LocalNursery`], [`LocalNurseryHandle`], [`LocalSlot`], [`LocalReserve`],
//! [`local_scope`] and [`LocalScope`], for children that are not `Send`.
//!
//! Each is made by the same template as its `Send` counterpart (`nursery_form!`,
//! `handle_form!`, `slot_form!`, `scope_form!`), on the executor kind [`LocalExecutorRef`]
//! and without the `Send` bounds; only the docs below are their own. Every method means what
//! it means on the `Send` form, whose docs say it at length.

use crate::executor::{IntoLocalExecutor, LocalExecutorRef};
use crate::handle::handle_form;
use crate::nursery::nursery_form;
use crate::scope::scope_form;
use crate::slot::slot_form;

nursery_form! {
    /// A [`Nursery`](crate::Nursery) whose children run on an
    /// [`async_executor::LocalExecutor`] and need not be `Send`.
    ///
    /// Everything a `Nursery` does, a `LocalNursery` does the same way: fail fast, shields,
    /// grace, deadlines, `start`, limits and slots, `cancelled()`, adoption, snapshots. Its
    /// children may hold `Rc` and `RefCell` across await points. It is neither `Send` nor
    /// `Sync`, nor are its handle and slots: they stay on the thread that runs the executor.
    ///
    /// # Examples
    ///
    /// Children share an `Rc<RefCell<_>>` cache; one fails, which cancels its sibling, while a
    /// shielded one finishes:
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::collections::HashMap;
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{shield, LocalNursery};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let cache = Rc::new(RefCell::new(HashMap::new()));
    ///     let nursery = LocalNursery::new(&ex);
    ///
    ///     let saved = cache.clone();
    ///     nursery.start_soon(shield(async move {
    ///         futures_lite::future::yield_now().await;
    ///         saved.borrow_mut().insert("payment", "done");
    ///         Ok(())
    ///     }));
    ///     let never = cache.clone();
    ///     nursery.start_soon(async move {
    ///         futures_lite::future::pending::<()>().await;
    ///         never.borrow_mut().insert("sms", "sent");
    ///         Ok(())
    ///     });
    ///     nursery.start_soon(async { Err::<(), _>("sms gateway down") });
    ///
    ///     let err = nursery.join().await.unwrap_err();
    ///     assert_eq!(err.errors(), ["sms gateway down"]);
    ///     assert_eq!(cache.borrow().get("payment"), Some(&"done"));
    ///     assert_eq!(cache.borrow().get("sms"), None);
    /// }));
    /// ```
    pub struct LocalNursery on LocalExecutorRef from IntoLocalExecutor,
        handle LocalNurseryHandle, slot LocalSlot, bounds [];

    /// Creates an empty nursery whose children run on `executor`: a `&Rc<LocalExecutor<'ex>>`
    /// or a `&'static LocalExecutor<'static>` (see [`LocalExecutorRef`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let greeting = String::from("hello");
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.start_soon(async { Ok(greeting.len()) }); // borrows `greeting`
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(handle.await, Ok(5));
    /// }));
    /// ```
    fn new;

    /// Starts a child and returns a handle to its result, as
    /// [`Nursery::start_soon`](crate::Nursery::start_soon) does; the child need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let shared = Rc::new(7);
    ///     let child = nursery.start_soon(async move {
    ///         futures_lite::future::yield_now().await; // the Rc is held across an await
    ///         Ok(*shared * 6)
    ///     });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Ok(42));
    /// }));
    /// ```
    fn start_soon;

    /// Returns a handle that starts children in this nursery and can cancel it, as
    /// [`Nursery::handle`](crate::Nursery::handle) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     nursery.start_soon(async move {
    ///         handle.start_soon(async { Ok(()) }).expect("open while the parent runs");
    ///         Ok(())
    ///     });
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn handle;

    /// Cancels every non-shielded child, as [`Nursery::cancel`](crate::Nursery::cancel) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{LocalNursery, TaskError};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let child = nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     nursery.cancel();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Err(TaskError::Cancelled));
    /// }));
    /// ```
    fn cancel;

    /// Cancels the nursery once `duration` has passed, as
    /// [`Nursery::cancel_after`](crate::Nursery::cancel_after) does: `join` then reports a
    /// timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     nursery.cancel_after(Duration::from_millis(10));
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     assert!(nursery.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    fn cancel_after;

    /// Cancels the nursery at `deadline`, as [`Nursery::cancel_at`](crate::Nursery::cancel_at)
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::time::{Duration, Instant};
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     nursery.cancel_at(Instant::now() + Duration::from_millis(10));
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     assert!(nursery.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    fn cancel_at;

    /// Returns `true` once the nursery has been cancelled, as
    /// [`Nursery::is_cancelled`](crate::Nursery::is_cancelled) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = LocalNursery::<()>::new(&ex);
    /// assert!(!nursery.is_cancelled());
    /// nursery.cancel();
    /// assert!(nursery.is_cancelled());
    /// ```
    fn is_cancelled;

    /// Returns the number of unfinished children, as [`Nursery::len`](crate::Nursery::len)
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     nursery.start_soon(async { Ok(()) });
    ///     assert_eq!(nursery.len(), 1);
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn len;

    /// Returns `true` if the nursery has no unfinished child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// assert!(LocalNursery::<()>::new(&ex).is_empty());
    /// ```
    fn is_empty;

    /// Waits for every child, then reports, as [`Nursery::join`](crate::Nursery::join) does:
    /// `Ok(())`, or every error and the timeout, or the first panic resumed.
    ///
    /// # Panics
    ///
    /// Resumes the first panic of a child, once every child has finished.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the nursery: non-shielded children are cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::new(&ex);
    ///     nursery.start_soon(async { Err::<(), _>("first") });
    ///     nursery.start_soon(async { Err::<(), _>("second") });
    ///     // The first failure cancelled the second child before it ran.
    ///     assert_eq!(nursery.join().await.unwrap_err().errors(), ["first"]);
    /// }));
    /// ```
    fn join;

    /// Starts a child and waits until it reports that it is ready, as
    /// [`Nursery::start`](crate::Nursery::start) does; the closure, the child and the value it
    /// hands back need not be `Send`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the child is ready cancels the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let (inbox, _server) = nursery
    ///         .start(|ready| async move {
    ///             let inbox = Rc::new(RefCell::new(Vec::new()));
    ///             ready.started(inbox.clone()); // an Rc handed back to the starter
    ///             futures_lite::future::yield_now().await;
    ///             inbox.borrow_mut().push("served");
    ///             Ok(())
    ///         })
    ///         .await
    ///         .unwrap();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(*inbox.borrow(), ["served"]);
    /// }));
    /// ```
    fn start;

    /// Waits for room under the nursery's limit and reserves it, as
    /// [`Nursery::reserve`](crate::Nursery::reserve) does.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its turn.
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
    ///     let nursery = NurseryBuilder::new().limit(2).build_local::<()>(&ex);
    ///     for i in 0..5 {
    ///         // Waits here while two children run.
    ///         nursery.reserve().await.start_soon(async move { Ok(i) });
    ///     }
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn reserve;

    /// Reserves room under the limit if there is some now, as
    /// [`Nursery::try_reserve`](crate::Nursery::try_reserve) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = NurseryBuilder::new().limit(1).build_local::<()>(&ex);
    /// let slot = nursery.try_reserve().expect("room for one");
    /// assert!(nursery.try_reserve().is_none());
    /// drop(slot);
    /// assert!(nursery.try_reserve().is_some());
    /// ```
    fn try_reserve;

    /// Returns a snapshot of the nursery's tree, as
    /// [`Nursery::snapshot`](crate::Nursery::snapshot) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     futures_lite::future::yield_now().await;
    ///     assert_eq!(nursery.snapshot().children().len(), 1);
    ///     nursery.cancel();
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn snapshot;

    /// Returns a future that resolves once the nursery is cancelled (or closed), as
    /// [`Nursery::cancelled`](crate::Nursery::cancelled) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{shield, LocalNursery};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let stop = nursery.cancelled();
    ///     let worker = nursery.start_soon(shield(async move {
    ///         stop.await; // winds down by itself
    ///         Ok("flushed")
    ///     }));
    ///     nursery.cancel();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(worker.await, Ok("flushed"));
    /// }));
    /// ```
    fn cancelled;
}

handle_form! {
    /// A cloneable handle to a [`LocalNursery`]: children capture it to start siblings, as a
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
    pub struct LocalNurseryHandle on LocalExecutorRef, slots [LocalSlot, LocalReserve],
        bounds [];

    /// Starts a child, or returns [`NurseryClosed`](crate::NurseryClosed) if the nursery is
    /// closed, as [`NurseryHandle::start_soon`](crate::NurseryHandle::start_soon) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     assert!(handle.start_soon(async { Ok(()) }).is_ok());
    ///     nursery.join().await.unwrap();
    ///     assert!(handle.start_soon(async { Ok(()) }).is_err(), "closed after join");
    /// }));
    /// ```
    fn start_soon;

    /// Starts a child and waits until it is ready, as
    /// [`NurseryHandle::start`](crate::NurseryHandle::start) does.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the child is ready cancels the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     let (port, _child) = handle
    ///         .start(|ready| async move {
    ///             ready.started(8080);
    ///             Ok(())
    ///         })
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(port, 8080);
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn start;

    /// Returns a future that waits for room under the limit and reserves it, as
    /// [`NurseryHandle::reserve`](crate::NurseryHandle::reserve) does.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its turn.
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
    ///     let slot = handle.reserve().await.expect("open");
    ///     slot.start_soon(async { Ok(()) });
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn reserve;

    /// Reserves room under the limit if there is some now, as
    /// [`NurseryHandle::try_reserve`](crate::NurseryHandle::try_reserve) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = NurseryBuilder::new().limit(1).build_local::<()>(&ex);
    /// let handle = nursery.handle();
    /// let slot = handle.try_reserve().unwrap().expect("room for one");
    /// assert!(handle.try_reserve().unwrap().is_none());
    /// drop(slot);
    /// ```
    fn try_reserve;

    /// Returns a snapshot of the nursery's tree, as
    /// [`NurseryHandle::snapshot`](crate::NurseryHandle::snapshot) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = LocalNursery::<()>::new(&ex);
    /// assert!(nursery.handle().snapshot().children().is_empty());
    /// ```
    fn snapshot;

    /// Returns a future that resolves once the nursery is cancelled (or closed), as
    /// [`NurseryHandle::cancelled`](crate::NurseryHandle::cancelled) does. It does not borrow
    /// the handle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let stop = nursery.handle().cancelled();
    ///     nursery.cancel();
    ///     stop.await;
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn cancelled;

    /// Cancels the nursery once `duration` has passed, as
    /// [`NurseryHandle::cancel_after`](crate::NurseryHandle::cancel_after) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     nursery.handle().cancel_after(Duration::from_millis(10));
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     assert!(nursery.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    fn cancel_after;

    /// Cancels the nursery at `deadline`, as
    /// [`NurseryHandle::cancel_at`](crate::NurseryHandle::cancel_at) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::time::{Duration, Instant};
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     nursery.handle().cancel_at(Instant::now() + Duration::from_millis(10));
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     assert!(nursery.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    fn cancel_at;

    /// Cancels every non-shielded child of the nursery, as
    /// [`NurseryHandle::cancel`](crate::NurseryHandle::cancel) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     nursery.start_soon(async move {
    ///         handle.cancel(); // a child stops its siblings
    ///         Ok(())
    ///     });
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    fn cancel;

    /// Returns `true` once the nursery has been cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = LocalNursery::<()>::new(&ex);
    /// let handle = nursery.handle();
    /// nursery.cancel();
    /// assert!(handle.is_cancelled());
    /// ```
    fn is_cancelled;

    /// Returns the number of unfinished children.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = LocalNursery::<()>::new(&ex);
    ///     let handle = nursery.handle();
    ///     nursery.start_soon(async { Ok(()) });
    ///     assert_eq!(handle.len(), 1);
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(handle.len(), 0);
    /// }));
    /// ```
    fn len;

    /// Returns `true` if the nursery has no unfinished child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = LocalNursery::<()>::new(&ex);
    /// assert!(nursery.handle().is_empty());
    /// ```
    fn is_empty;

    /// Returns `true` if the nursery is closed: `join` has returned, or the nursery was
    /// dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNursery;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery = LocalNursery::<()>::new(&ex);
    /// let handle = nursery.handle();
    /// drop(nursery);
    /// assert!(handle.is_closed());
    /// ```
    fn is_closed;
}

slot_form! {
    /// Room for one child in a [`LocalNursery`], reserved by
    /// [`reserve`](LocalNursery::reserve) or [`try_reserve`](LocalNursery::try_reserve): the
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
    pub struct LocalSlot on LocalExecutorRef, bounds [];

    /// Starts a child in the reserved room, as [`Slot::start_soon`](crate::Slot::start_soon)
    /// does; the child need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = NurseryBuilder::new().limit(4).build_local::<()>(&ex);
    ///     let hits = Rc::new(Cell::new(0));
    ///     let counted = hits.clone();
    ///     nursery.reserve().await.start_soon(async move {
    ///         counted.set(counted.get() + 1);
    ///         Ok(())
    ///     });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(hits.get(), 1);
    /// }));
    /// ```
    fn start_soon;

    /// The future [`LocalNurseryHandle::reserve`] returns: resolves to a [`LocalSlot`] once
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
    pub struct LocalReserve;
}

scope_form! {
    /// Opens a [`LocalNursery`], runs `body` in it as its first child, and waits for the body
    /// and every child it started: [`scope`](crate::scope) for children that need not be
    /// `Send`.
    ///
    /// The result, the cancellation of the body and the panics are as for
    /// [`scope`](crate::scope).
    ///
    /// # Panics
    ///
    /// Resumes the first panic of the body or of a child, once every child has finished.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the body and the nursery: every non-shielded child is
    /// cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::local_scope;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let log = RefCell::new(Vec::new());
    ///     let log_ref = &log; // the body may borrow what the caller can
    ///     let joined = local_scope(&ex, |n| async move {
    ///         let words = Rc::new(["structured", "concurrency"]);
    ///         for word in words.iter().copied() {
    ///             n.start_soon(async move { Ok::<_, ()>(word.len()) }).expect("open");
    ///         }
    ///         log_ref.borrow_mut().push("started");
    ///         Ok(words.join(" "))
    ///     })
    ///     .await;
    ///     assert_eq!(joined.unwrap(), "structured concurrency");
    ///     assert_eq!(*log.borrow(), ["started"]);
    /// }));
    /// ```
    pub fn local_scope on LocalExecutorRef from IntoLocalExecutor, handle LocalNurseryHandle;

    /// The future [`local_scope`] returns (and
    /// [`NurseryBuilder::local_scope`](crate::NurseryBuilder::local_scope)).
    ///
    /// Dropping it drops the body, then the nursery.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{local_scope, LocalScope};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let scope: LocalScope<'_, (), (), _> = local_scope(&ex, |n| async move {
    ///         n.cancel();
    ///         futures_lite::future::pending::<Result<(), ()>>().await
    ///     });
    ///     let err = scope.await.unwrap_err();
    ///     assert!(err.is_cancelled());
    /// }));
    /// ```
    pub struct LocalScope;
}
