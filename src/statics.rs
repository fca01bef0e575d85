//! `start_soon` and `start` of the nurseries on leaked executors (feature `static`).
//!
//! Every other method is the generic one of [`Nursery`], [`NurseryHandle`] and [`Slot`]; these
//! carry the bounds of their executor kind: `Send + 'static` on a [`StaticExecutorRef`],
//! `'static` on a [`StaticLocalExecutorRef`].

use std::panic::Location;

use crate::child::NoStarter;
use crate::error::NurseryClosed;
use crate::executor::{StaticExecutorRef, StaticLocalExecutorRef};
use crate::handle::NurseryHandle;
use crate::nursery::Nursery;
use crate::shared::Caller;
use crate::shield::IntoChild;
use crate::slot::Slot;
use crate::start::{Ready, Start};
use crate::task::TaskHandle;

impl<E> Nursery<'static, E, StaticExecutorRef> {
    /// Starts a child and returns a handle to its result, as [`Nursery::start_soon`] does; the
    /// child must be `'static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::StaticExecutor;
    /// use smol_nursery::{Nursery, StaticExecutorRef};
    ///
    /// static EX: StaticExecutor = StaticExecutor::new();
    ///
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery: Nursery<'static, (), StaticExecutorRef> = Nursery::new(&EX);
    ///     let child = nursery.start_soon(async { Ok("spawned without a lock") });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Ok("spawned without a lock"));
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'static,
        C::Output: Send + 'static,
        E: Send + 'static,
    {
        self.spawn(child, Location::caller())
    }

    /// Starts a child that says when it is ready, and waits until it does, as
    /// [`Nursery::start`] does; the child must be `'static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::StaticExecutor;
    /// use smol_nursery::{Nursery, StaticExecutorRef};
    ///
    /// static EX: StaticExecutor = StaticExecutor::new();
    ///
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery: Nursery<'static, (), StaticExecutorRef> = Nursery::new(&EX);
    ///     let (port, _child) = nursery
    ///         .start(|ready| async move {
    ///             ready.started(8080_u16);
    ///             Ok(())
    ///         })
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(port, 8080);
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    #[track_caller]
    pub fn start<V, F, C>(&self, make: F) -> Start<V, C::Output, E>
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Error = E>,
        C::Future: Send + 'static,
        C::Output: Send + 'static,
        E: Send + 'static,
        V: Send + 'static,
    {
        Start::new(&self.shared, make, Caller::Owner, Location::caller())
    }
}

impl<E> Nursery<'static, E, StaticLocalExecutorRef> {
    /// Starts a child and returns a handle to its result, as [`Nursery::start_soon`] does; the
    /// child must be `'static` and need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{Nursery, StaticLocalExecutorRef};
    ///
    /// let ex = LocalExecutor::new().leak();
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery: Nursery<'static, (), StaticLocalExecutorRef> = Nursery::new(ex);
    ///     let child = nursery.start_soon(async { Ok(Rc::new(1)) });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(*child.await.unwrap(), 1);
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: 'static,
        C::Output: 'static,
        E: 'static,
    {
        self.spawn(child, Location::caller())
    }

    /// Starts a child that says when it is ready, and waits until it does, as
    /// [`Nursery::start`] does; the child must be `'static` and need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{Nursery, StaticLocalExecutorRef};
    ///
    /// let ex = LocalExecutor::new().leak();
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery: Nursery<'static, (), StaticLocalExecutorRef> = Nursery::new(ex);
    ///     let (name, _child) = nursery
    ///         .start(|ready| async move {
    ///             ready.started(Rc::new("ready"));
    ///             Ok(())
    ///         })
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(*name, "ready");
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    #[track_caller]
    pub fn start<V, F, C>(&self, make: F) -> Start<V, C::Output, E>
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Error = E>,
        C::Future: 'static,
        C::Output: 'static,
        E: 'static,
        V: 'static,
    {
        Start::new(&self.shared, make, Caller::Owner, Location::caller())
    }
}

impl<E> NurseryHandle<'static, E, StaticExecutorRef> {
    /// Starts a child in the nursery, as [`NurseryHandle::start_soon`] does; the child must be
    /// `'static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::StaticExecutor;
    /// use smol_nursery::{Nursery, StaticExecutorRef};
    ///
    /// static EX: StaticExecutor = StaticExecutor::new();
    ///
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery: Nursery<'static, (), StaticExecutorRef> = Nursery::new(&EX);
    ///     let handle = nursery.handle();
    ///     nursery.start_soon(async move {
    ///         handle.start_soon(async { Ok(()) }).expect("open");
    ///         Ok(())
    ///     });
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> Result<TaskHandle<C::Output>, NurseryClosed>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'static,
        C::Output: Send + 'static,
        E: Send + 'static,
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
    /// [`NurseryHandle::start`] does; the child must be `'static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::StaticExecutor;
    /// use smol_nursery::{Nursery, StaticExecutorRef};
    ///
    /// static EX: StaticExecutor = StaticExecutor::new();
    ///
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery: Nursery<'static, (), StaticExecutorRef> = Nursery::new(&EX);
    ///     let handle = nursery.handle();
    ///     let (ready, _child) = handle.start(|r| async move { r.started(1); Ok(()) }).await.unwrap();
    ///     assert_eq!(ready, 1);
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    #[track_caller]
    pub fn start<V, F, C>(&self, make: F) -> Start<V, C::Output, E>
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Error = E>,
        C::Future: Send + 'static,
        C::Output: Send + 'static,
        E: Send + 'static,
        V: Send + 'static,
    {
        Start::new(&self.shared, make, Caller::Handle, Location::caller())
    }
}

impl<E> NurseryHandle<'static, E, StaticLocalExecutorRef> {
    /// Starts a child in the nursery, as [`NurseryHandle::start_soon`] does; the child must be
    /// `'static` and need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{Nursery, StaticLocalExecutorRef};
    ///
    /// let ex = LocalExecutor::new().leak();
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery: Nursery<'static, (), StaticLocalExecutorRef> = Nursery::new(ex);
    ///     let child = nursery.handle().start_soon(async { Ok(Rc::new(2)) }).expect("open");
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(*child.await.unwrap(), 2);
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> Result<TaskHandle<C::Output>, NurseryClosed>
    where
        C: IntoChild<Error = E>,
        C::Future: 'static,
        C::Output: 'static,
        E: 'static,
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
    /// [`NurseryHandle::start`] does; the child must be `'static` and need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{Nursery, StaticLocalExecutorRef};
    ///
    /// let ex = LocalExecutor::new().leak();
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery: Nursery<'static, (), StaticLocalExecutorRef> = Nursery::new(ex);
    ///     let (ready, _child) = nursery
    ///         .handle()
    ///         .start(|r| async move { r.started(Rc::new(3)); Ok(()) })
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(*ready, 3);
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    #[track_caller]
    pub fn start<V, F, C>(&self, make: F) -> Start<V, C::Output, E>
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Error = E>,
        C::Future: 'static,
        C::Output: 'static,
        E: 'static,
        V: 'static,
    {
        Start::new(&self.shared, make, Caller::Handle, Location::caller())
    }
}

impl<E> Slot<'_, 'static, E, StaticExecutorRef> {
    /// Starts a child in the reserved room, as [`Slot::start_soon`] does; the child must be
    /// `'static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::StaticExecutor;
    /// use smol_nursery::{Nursery, NurseryBuilder, StaticExecutorRef};
    ///
    /// static EX: StaticExecutor = StaticExecutor::new();
    ///
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery: Nursery<'static, (), StaticExecutorRef> = NurseryBuilder::new().limit(2).build_on(&EX);
    ///     let child = nursery.reserve().await.start_soon(async { Ok(4) });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(child.await, Ok(4));
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'static,
        C::Output: Send + 'static,
        E: Send + 'static,
    {
        self.room.start_soon(child, Location::caller())
    }
}

impl<E> Slot<'_, 'static, E, StaticLocalExecutorRef> {
    /// Starts a child in the reserved room, as [`Slot::start_soon`] does; the child must be
    /// `'static` and need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{Nursery, NurseryBuilder, StaticLocalExecutorRef};
    ///
    /// let ex = LocalExecutor::new().leak();
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery: Nursery<'static, (), StaticLocalExecutorRef> =
    ///         NurseryBuilder::new().limit(1).build_on(ex);
    ///     let child = nursery.reserve().await.start_soon(async { Ok(Rc::new(5)) });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(*child.await.unwrap(), 5);
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: 'static,
        C::Output: 'static,
        E: 'static,
    {
        self.room.start_soon(child, Location::caller())
    }
}
