//! The local forms: [`LocalNursery`], [`LocalNurseryHandle`], [`LocalSlot`], [`LocalReserve`],
//! [`local_scope`] and [`LocalScope`], for children that are not `Send`.
//!
//! Each is made by the same template as its `Send` counterpart (`nursery_form!`,
//! `handle_form!`, `slot_form!`, `scope_form!`), on the executor kind [`LocalExecutorRef`]
//! and without the `Send` bounds. The methods' docs are the templates' own, shared with the
//! `Send` form (their examples use this form's names); only the type-level docs below, and
//! `LocalNursery::new`'s, are written here.

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
        handle LocalNurseryHandle, slot LocalSlot, bounds [],
        docs [LocalExecutor in Rc from "std::rc::Rc", build_local];

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
        bounds [],
        docs [LocalNursery, local_scope, LocalExecutor in Rc from "std::rc::Rc", build_local];
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
    pub struct LocalSlot on LocalExecutorRef, bounds [],
        docs [LocalNursery, LocalNurseryHandle, LocalExecutor in Rc from "std::rc::Rc", build_local];

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
