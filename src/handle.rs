//! Handles that start children from anywhere.

use std::fmt;
use std::sync::Arc;

use crate::core::CancelReason;
use crate::error::NurseryClosed;
use crate::shared::Shared;
use crate::shield::IntoChild;
use crate::task::TaskHandle;

/// A cloneable handle to a [`Nursery`](crate::Nursery): children capture it to start
/// siblings, and other tasks or threads use it to start children or cancel the nursery.
///
/// Children started through a handle belong to the nursery: `join` waits for them. A handle
/// does not keep the nursery open: once `join` has returned, or the nursery was dropped,
/// [`start_soon`](NurseryHandle::start_soon) returns [`NurseryClosed`].
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
pub struct NurseryHandle<'ex, E> {
    /// The nursery's shared state.
    shared: Arc<Shared<'ex, E>>,
}

impl<'ex, E> NurseryHandle<'ex, E> {
    /// Wraps the nursery's shared state.
    pub(crate) fn new(shared: Arc<Shared<'ex, E>>) -> Self {
        NurseryHandle { shared }
    }

    /// Starts a child in the nursery, as [`Nursery::start_soon`](crate::Nursery::start_soon)
    /// does, unless the nursery is closed.
    ///
    /// # Errors
    ///
    /// Returns [`NurseryClosed`] once `join` has returned or the nursery was dropped; `child`
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
    pub fn start_soon<C>(&self, child: C) -> Result<TaskHandle<C::Output>, NurseryClosed>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'ex,
        C::Output: Send + 'ex,
        E: Send + 'ex,
    {
        self.shared.start(child, false)
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
        self.shared.core.cancel(CancelReason::Explicit);
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
        self.len() == 0
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

impl<E> Clone for NurseryHandle<'_, E> {
    fn clone(&self) -> Self {
        NurseryHandle {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for NurseryHandle<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NurseryHandle")
            .field("len", &self.shared.core.len())
            .field("cancelled", &self.is_cancelled())
            .field("closed", &self.is_closed())
            .finish()
    }
}
