//! Policies, set once when a nursery is built.

use std::future::Future;
use std::num::NonZeroUsize;
use std::panic::Location;

use crate::executor::{ExecutorKind, IntoExecutor, IntoLocalExecutor};
use crate::handle::{LocalNurseryHandle, NurseryHandle};
use crate::nursery::{LocalNursery, Nursery};
use crate::scope::{LocalScope, Scope};
use crate::set::{LocalNurserySet, NurserySet};
use crate::shared::Policy;

/// Builds a [`Nursery`] (or a [`scope`](crate::scope)) with policies: a concurrency limit, and
/// whether a failure cancels the siblings. [`build_local`](NurseryBuilder::build_local) and
/// [`local_scope`](NurseryBuilder::local_scope) build the [local](crate::LocalNursery) forms.
///
/// `NurseryBuilder::new()` builds what [`Nursery::new`] builds: no limit, fail fast.
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
///     let nursery = NurseryBuilder::new().limit(2).fail_fast(false).build(&ex);
///     for i in 0..6 {
///         nursery.start_soon(async move { if i == 3 { Err(i) } else { Ok(()) } });
///     }
///     // At most 2 ran at once; the failure of child 3 cancelled nobody.
///     assert_eq!(nursery.join().await.unwrap_err().errors(), [3]);
/// }));
/// ```
#[derive(Debug, Clone)]
pub struct NurseryBuilder {
    /// What the nursery will do.
    policy: Policy,
}

impl Default for NurseryBuilder {
    fn default() -> Self {
        NurseryBuilder::new()
    }
}

impl NurseryBuilder {
    /// A builder for a nursery without a limit that fails fast, as [`Nursery::new`] makes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = NurseryBuilder::new().build::<()>(&ex);
    /// assert!(nursery.is_empty());
    /// ```
    pub fn new() -> Self {
        NurseryBuilder {
            policy: Policy::default(),
        }
    }

    /// At most `limit` children of the nursery run at once (are polled and not yet finished);
    /// shielded children count.
    ///
    /// `start_soon` never blocks and never fails: children beyond the limit wait, unpolled and
    /// unspawned, and are admitted in the order they were started as running ones finish (on
    /// several threads, two children admitted at once may begin in either order). They count
    /// in `len()`. A waiting non-shielded child of a cancelled nursery never runs (its handle
    /// yields `Err(TaskError::Cancelled)`); a waiting shielded one still runs when its turn
    /// comes. A [`scope`](crate::scope)'s body does not count against the limit.
    ///
    /// To keep a producer from queueing children without bound, start them through
    /// [`reserve`](Nursery::reserve), which waits for room.
    ///
    /// A child that awaits [`start`](Nursery::start) or [`reserve`](Nursery::reserve) of its
    /// own nursery may wait forever for the room it holds itself (with `limit(1)`, always).
    ///
    /// # Panics
    ///
    /// Panics if `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// static RUNNING: AtomicUsize = AtomicUsize::new(0);
    /// static PEAK: AtomicUsize = AtomicUsize::new(0);
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = NurseryBuilder::new().limit(3).build::<()>(&ex);
    ///     for _ in 0..20 {
    ///         nursery.start_soon(async {
    ///             let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    ///             PEAK.fetch_max(now, Ordering::SeqCst);
    ///             futures_lite::future::yield_now().await;
    ///             RUNNING.fetch_sub(1, Ordering::SeqCst);
    ///             Ok(())
    ///         });
    ///     }
    ///     assert_eq!(nursery.len(), 20, "waiting children count");
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(PEAK.load(Ordering::SeqCst), 3);
    /// }));
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        match NonZeroUsize::new(limit) {
            Some(limit) => self.policy.limit = Some(limit),
            None => panic!("NurseryBuilder::limit(0): a nursery must be able to run a child"),
        }
        self
    }

    /// Whether a child's failure cancels its siblings (the default, `true`).
    ///
    /// With `fail_fast(false)`, a child's `Err` or panic does not cancel anything: every
    /// child runs to its end, and `join` reports every error (and resumes the first panic once
    /// every child has finished). `cancel()`, deadlines and dropping the nursery still cancel,
    /// and a [`scope`](crate::scope)'s body that fails still cancels the nursery: the owner
    /// failed. Use it for a supervisor: a server whose connections fail independently.
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
    ///     let nursery = NurseryBuilder::new().fail_fast(false).build(&ex);
    ///     nursery.start_soon(async { Err::<(), _>("connection 1 reset") });
    ///     let other = nursery.start_soon(async {
    ///         async_io::Timer::after(std::time::Duration::from_millis(10)).await;
    ///         Ok("connection 2 served")
    ///     });
    ///     let err = nursery.join().await.unwrap_err();
    ///     assert_eq!(err.errors(), ["connection 1 reset"]);
    ///     assert_eq!(other.await, Ok("connection 2 served"));
    /// }));
    /// ```
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.policy.fail_fast = fail_fast;
        self
    }

    /// Builds the nursery on `executor`, as [`Nursery::new`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use async_executor::Executor;
    /// use smol_nursery::{Nursery, NurseryBuilder};
    ///
    /// static EX: Executor<'static> = Executor::new();
    /// let nursery: Nursery<'static, std::io::Error> = NurseryBuilder::new().limit(8).build(&EX);
    /// # drop(nursery);
    /// ```
    pub fn build<'ex, E>(self, executor: impl IntoExecutor<'ex>) -> Nursery<'ex, E> {
        Nursery::with_policy(executor.into_executor(), self.policy)
    }

    /// Builds a [`LocalNursery`](crate::LocalNursery) on `executor`, as [`LocalNursery::new`] does.
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
    ///     let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    ///     for i in 0..3 {
    ///         let order = order.clone();
    ///         nursery.start_soon(async move {
    ///             order.borrow_mut().push(i);
    ///             futures_lite::future::yield_now().await;
    ///             order.borrow_mut().push(i);
    ///             Ok(())
    ///         });
    ///     }
    ///     nursery.join().await.unwrap();
    ///     // One at a time: each child ran to its end before the next began.
    ///     assert_eq!(*order.borrow(), [0, 0, 1, 1, 2, 2]);
    /// }));
    /// ```
    pub fn build_local<'ex, E>(
        self,
        executor: impl IntoLocalExecutor<'ex>,
    ) -> LocalNursery<'ex, E> {
        Nursery::with_policy(executor.into_executor(), self.policy)
    }

    /// Builds a [`NurserySet`] on `executor`, as [`NurserySet::new`] does, with these
    /// policies: under a [`limit`](NurseryBuilder::limit), running children plus unread
    /// results are at most the limit. [`fail_fast`](NurseryBuilder::fail_fast) does not apply
    /// to sets: an `Err` is a result, and cancels nothing.
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
    ///     let mut set = NurseryBuilder::new().limit(2).build_set::<u32, ()>(&ex);
    ///     for i in 0..5 {
    ///         set.start_soon(async move { Ok(i) });
    ///     }
    ///     // Two results wait unread: the other three children have not started.
    ///     while ex.try_tick() {}
    ///     assert_eq!(set.snapshot().unread(), 2);
    ///     assert_eq!(set.len(), 5);
    ///     let mut total = 0;
    ///     while let Some(result) = set.next().await {
    ///         total += result.unwrap();
    ///     }
    ///     assert_eq!(total, 10);
    /// }));
    /// ```
    pub fn build_set<'ex, T, E>(self, executor: impl IntoExecutor<'ex>) -> NurserySet<'ex, T, E> {
        NurserySet::with_policy(executor.into_executor(), self.policy)
    }

    /// Builds a [`LocalNurserySet`] on `executor`, as [`build_set`](NurseryBuilder::build_set)
    /// does for a [`NurserySet`].
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
    ///     let mut set = NurseryBuilder::new().limit(8).build_local_set::<Rc<u32>, ()>(&ex);
    ///     set.start_soon(async { Ok(Rc::new(1)) });
    ///     assert_eq!(*set.next().await.unwrap().unwrap(), 1);
    /// }));
    /// ```
    pub fn build_local_set<'ex, T, E>(
        self,
        executor: impl IntoLocalExecutor<'ex>,
    ) -> LocalNurserySet<'ex, T, E> {
        NurserySet::with_policy(executor.into_executor(), self.policy)
    }

    /// Builds a nursery of any executor kind on `executor`, as [`Nursery::new`] does: the
    /// argument fixes the kind ([`build`](NurseryBuilder::build) and
    /// [`build_local`](NurseryBuilder::build_local) are this method for the two common ones).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::{LocalNursery, NurseryBuilder};
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// let nursery: LocalNursery<'_, ()> = NurseryBuilder::new().limit(2).build_on(&ex);
    /// assert_eq!(nursery.snapshot().limit(), Some(2));
    /// ```
    pub fn build_on<'ex, E, X: ExecutorKind>(
        self,
        executor: impl IntoExecutor<'ex, X>,
    ) -> Nursery<'ex, E, X> {
        Nursery::with_policy(executor.into_executor(), self.policy)
    }

    /// Opens a [`scope`](crate::scope) with these policies.
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
    ///     let fetched = NurseryBuilder::new()
    ///         .limit(4)
    ///         .scope(&ex, |n| async move {
    ///             let mut pages = Vec::new();
    ///             for url in 0..10 {
    ///                 pages.push(n.reserve().await?.start_soon(async move { Ok(url * 100) }));
    ///             }
    ///             let mut total = 0;
    ///             for page in pages {
    ///                 total += page.await.unwrap();
    ///             }
    ///             Ok::<_, smol_nursery::NurseryClosed>(total)
    ///         })
    ///         .await;
    ///     assert_eq!(fetched.unwrap(), 4500);
    /// }));
    /// ```
    #[track_caller]
    pub fn scope<'ex, E, T, F, Fut>(
        self,
        executor: impl IntoExecutor<'ex>,
        body: F,
    ) -> Scope<'ex, E, T, Fut>
    where
        F: FnOnce(NurseryHandle<'ex, E>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        Scope::new(
            executor.into_executor(),
            self.policy,
            body,
            Location::caller(),
        )
    }

    /// Opens a [`local_scope`](crate::local_scope) with these policies.
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
    ///     let result = NurseryBuilder::new()
    ///         .fail_fast(false)
    ///         .local_scope(&ex, |n| async move {
    ///             n.start_soon(async { Err::<(), _>("one failed") }).expect("open");
    ///             let other = n.start_soon(async { Ok(Rc::new("served")) }).expect("open");
    ///             // The failure cancelled nobody: the other child and the body go on.
    ///             Ok(*other.await.unwrap())
    ///         })
    ///         .await;
    ///     assert_eq!(result.unwrap_err().errors(), ["one failed"]);
    /// }));
    /// ```
    #[track_caller]
    pub fn local_scope<'ex, E, T, F, Fut>(
        self,
        executor: impl IntoLocalExecutor<'ex>,
        body: F,
    ) -> LocalScope<'ex, E, T, Fut>
    where
        F: FnOnce(LocalNurseryHandle<'ex, E>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        Scope::new(
            executor.into_executor(),
            self.policy,
            body,
            Location::caller(),
        )
    }
}
