//! Sets: nurseries whose children's outcomes are results, read in the order children finish.
//!
//! A [`NurserySet`] is a [`Nursery`] plus a queue of results. Each child is wrapped in a
//! [`Deliver`] future that hands the child's `Result` to the queue and reports `Ok(())` to the
//! nursery: so an `Err` is a result, not a failure, while a panic still goes through the
//! nursery's one failure path (it cancels the set). A cancelled child's future is dropped
//! before it returns and adds nothing.
//!
//! # Invariants
//!
//! 1. A result is queued before its child finishes: once the nursery has no unfinished child,
//!    every result there will ever be from the children started so far is in the queue.
//! 2. Under a limit, each unread result holds a permit while `counting` (see `limit.rs`,
//!    invariant 4); `counted` of the queue's oldest results do. Counting stops for good when
//!    `join` is first polled, the set is dropped, or a reader sees a panic, and then every
//!    counted permit is released at once.
//! 3. The core's `unread` count equals the queue's length; both change under `state`'s lock.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{resume_unwind, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::Stream;
use pin_project_lite::pin_project;

use crate::child::Starter;
use crate::core::drop_quietly;
use crate::core::Cancelled;
use crate::error::NurseryError;
use crate::executor::{ExecutorKind, ExecutorRef, IntoExecutor, LocalExecutorRef};
use crate::nursery::Nursery;
use crate::shared::{Caller, End, Policy, Shared};
use crate::shield::IntoChild;
use crate::snapshot::Snapshot;
use crate::spawn::SpawnChild;
use crate::sync::{Event, EventListener, Mutex, MutexGuard, PoisonError};
use crate::trace::Outcome as Traced;

/// A nursery whose children's outcomes are its results, read in the order children finish:
/// tokio's `JoinSet`, with the guarantees of a nursery.
///
/// A child returns `Ok(value)` or `Err(error)`, and either becomes a result that
/// [`next`](NurserySet::next) hands out, oldest first. An `Err` is a result like any other:
/// it cancels nothing. [`join`](NurserySet::join) waits for every child and returns the
/// values nobody read (or the errors among them). Everything else is a nursery's: `cancel` and
/// deadlines, [`shield`](crate::shield) and grace, [`limit`](crate::NurseryBuilder::limit),
/// adoption, snapshots, and a child's panic, which cancels the set and is resumed by `next` or
/// `join` once every child has finished.
///
/// **Dropping a `NurserySet` cancels every non-shielded child**, as dropping a nursery does;
/// unread results are dropped.
///
/// Under a [`limit`](crate::NurseryBuilder::limit), running children *plus unread results* are
/// at most the limit: a slow reader holds the set back, as `buffer_unordered` does, instead of
/// letting results pile up. Children beyond wait unpolled, in start order. From the moment
/// `join` is first polled, the set is dropped, or a child has panicked, unread results no
/// longer count (nothing waits on a reader that will never come).
///
/// `NurserySet` is `Send + Sync` when `T` and `E` are `Send`; [`LocalNurserySet`] is its form
/// for children that are not `Send`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use async_executor::Executor;
/// use smol_nursery::NurseryBuilder;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let mut set = NurseryBuilder::new().limit(4).build_set(&ex);
///     for page in 0..10_u64 {
///         set.start_soon(async move {
///             async_io::Timer::after(Duration::from_millis(10 - page)).await;
///             if page == 7 { Err(format!("page {page}: not found")) } else { Ok(page) }
///         });
///     }
///     let (mut pages, mut errors) = (Vec::new(), Vec::new());
///     while let Some(result) = set.next().await {
///         match result {
///             Ok(page) => pages.push(page),
///             Err(error) => errors.push(error), // an error cancels nothing
///         }
///     }
///     assert_eq!(pages.len(), 9);
///     assert_eq!(errors, ["page 7: not found"]);
///     assert_eq!(set.join().await, Ok(vec![]), "every result was read");
/// }));
/// ```
pub struct NurserySet<'ex, T, E, X: ExecutorKind = ExecutorRef<'ex>> {
    /// The results nobody has read yet. Declared first: dropping the set drops the reader
    /// (which stops counting unread results) before the nursery cancels its children.
    reader: Reader<T, E, X>,
    /// The nursery the children run in; they report `Ok(())` to it, or their panics.
    nursery: Nursery<'ex, E, X>,
    /// What `next` waits on, kept here so that dropping its future loses nothing.
    waiting: Option<(EventListener, EventListener)>,
}

/// A [`NurserySet`] whose children run on an [`async_executor::LocalExecutor`] and need not be
/// `Send`. Every method of `NurserySet` is one of a `LocalNurserySet`, with the same meaning.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use async_executor::LocalExecutor;
/// use smol_nursery::LocalNurserySet;
///
/// let ex = Rc::new(LocalExecutor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let mut set = LocalNurserySet::<Rc<str>, ()>::new(&ex);
///     set.start_soon(async { Ok(Rc::from("not Send")) });
///     assert_eq!(&*set.next().await.unwrap().unwrap(), "not Send");
///     assert!(set.next().await.is_none());
/// }));
/// ```
pub type LocalNurserySet<'ex, T, E> = NurserySet<'ex, T, E, LocalExecutorRef<'ex>>;

/// The results of a set, shared by the set and its children's [`Deliver`] wrappers.
struct Results<T, E, X: ExecutorKind> {
    /// The set's nursery: its limiter (unread results hold permits) and its core (the count
    /// of unread results).
    shared: Arc<Shared<E, X>>,
    /// See the module's invariants.
    state: Mutex<Queue<T, E>>,
    /// Notified when a result arrives.
    arrived: Event,
}

/// The locked part of [`Results`].
struct Queue<T, E> {
    /// Unread results, oldest first, each with its child's start site.
    results: VecDeque<(Result<T, E>, &'static Location<'static>)>,
    /// How many of the oldest results hold a permit of the limit (invariant 2).
    counted: usize,
    /// Unread results count against the limit.
    counting: bool,
    /// Nobody will read any more: results that arrive are dropped.
    closed: bool,
}

impl<T, E, X: ExecutorKind> Results<T, E, X> {
    /// Locks the queue.
    fn lock(&self) -> MutexGuard<'_, Queue<T, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a child's result (invariant 1: its child has not finished yet).
    fn push(&self, result: Result<T, E>, site: &'static Location<'static>) {
        let mut queue = self.lock();
        if queue.closed {
            drop(queue);
            drop(result);
            return;
        }
        if queue.counting {
            if let Some(limiter) = &self.shared.limiter {
                limiter.lock().hold_for_result();
                queue.counted += 1;
            }
        }
        queue.results.push_back((result, site));
        self.shared.core.add_unread(1);
        drop(queue);
        self.arrived.notify(usize::MAX);
    }

    /// Takes the oldest unread result, and gives its permit back.
    fn pop(&self) -> Option<(Result<T, E>, &'static Location<'static>)> {
        let mut queue = self.lock();
        let result = queue.results.pop_front()?;
        self.shared.core.add_unread(-1);
        let counted = queue.counted > 0;
        queue.counted -= usize::from(counted);
        drop(queue);
        if counted {
            self.shared.release_permit();
        }
        Some(result)
    }

    /// From now on unread results do not count against the limit (invariant 2).
    fn stop_counting(&self) {
        let mut queue = self.lock();
        queue.counting = false;
        let counted = std::mem::take(&mut queue.counted);
        drop(queue);
        for _ in 0..counted {
            self.shared.release_permit();
        }
    }

    /// Takes every unread result; with `close`, results that arrive later are dropped.
    fn take_all(&self, close: bool) -> VecDeque<(Result<T, E>, &'static Location<'static>)> {
        let mut queue = self.lock();
        queue.closed |= close;
        let results = std::mem::take(&mut queue.results);
        self.shared.core.add_unread(-(results.len() as isize));
        results
    }
}

/// The set's end of its results: when it is dropped, nobody will read any more.
struct Reader<T, E, X: ExecutorKind> {
    /// The results.
    results: Arc<Results<T, E, X>>,
}

impl<T, E, X: ExecutorKind> Drop for Reader<T, E, X> {
    fn drop(&mut self) {
        self.results.stop_counting();
        drop(self.results.take_all(true));
    }
}

pin_project! {
    /// A set's child: runs the child's future and hands its `Result` to the set's results.
    pub(crate) struct Deliver<F, T, E, X: ExecutorKind> {
        // The child's own future.
        #[pin]
        future: F,
        // Where its result goes.
        results: Arc<Results<T, E, X>>,
        // The child's start site, kept with an error for `origins`.
        site: &'static Location<'static>,
    }
}

impl<F, T, E, X> Future for Deliver<F, T, E, X>
where
    F: Future<Output = Result<T, E>>,
    X: ExecutorKind,
{
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let this = self.project();
        let result = futures_lite::ready!(this.future.poll(cx));
        crate::trace::record_current(match &result {
            Ok(_) => Traced::Ok,
            Err(_) => Traced::Failed,
        });
        this.results.push(result, this.site);
        Poll::Ready(Ok(()))
    }
}

/// Who hears of a set's child's end first: nobody, as for an ordinary child (its result went
/// to the set's results already), but its span's outcome is its result's.
pub(crate) struct Delivers;

impl<E> Starter<E> for Delivers {
    const WATCHES: bool = false;
    const RECORDS_OK: bool = false;
    const HANDLED: bool = false;

    #[inline]
    fn take_end(&self, end: End<E>) -> Option<End<E>> {
        Some(end)
    }
}

/// A child given to a set: the child (a future, or one wrapped in `shield`), to be wrapped in
/// a [`Deliver`] with the set's results.
pub(crate) struct SetChild<C, T, E, X: ExecutorKind> {
    /// The child as the user gave it.
    child: C,
    /// The set's results.
    results: Arc<Results<T, E, X>>,
    /// Where it was started.
    site: &'static Location<'static>,
}

impl<C, T, E, X: ExecutorKind> crate::shield::Sealed for SetChild<C, T, E, X> {}

impl<C, T, E, X> IntoChild for SetChild<C, T, E, X>
where
    C: IntoChild<Output = T, Error = E>,
    X: ExecutorKind,
{
    type Output = ();
    type Error = E;
    type Future = Deliver<C::Future, T, E, X>;

    fn into_child(self) -> (Self::Future, bool) {
        let (future, shielded) = self.child.into_child();
        let deliver = Deliver {
            future,
            results: self.results,
            site: self.site,
        };
        (deliver, shielded)
    }

    fn grace(&self) -> Option<Duration> {
        self.child.grace()
    }
}

impl<'ex, T, E, X: ExecutorKind> NurserySet<'ex, T, E, X> {
    /// Creates an empty set whose children run on `executor`: what
    /// [`Nursery::new`](crate::Nursery::new) takes (the argument fixes the kind: a
    /// `&Rc<LocalExecutor>` makes a [`LocalNurserySet`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let mut set = NurserySet::<_, ()>::new(&ex);
    ///     set.start_soon(async { Ok("fetched") });
    ///     assert_eq!(set.next().await, Some(Ok("fetched")));
    ///     assert_eq!(set.next().await, None);
    /// }));
    /// ```
    pub fn new(executor: impl IntoExecutor<'ex, X>) -> Self {
        NurserySet::with_policy(executor.into_executor(), Policy::default())
    }

    /// A set with the policies of a builder. `fail_fast` does not apply: an `Err` is a result.
    pub(crate) fn with_policy(executor: X, policy: Policy) -> Self {
        let policy = Policy {
            fail_fast: true,
            ..policy
        };
        let nursery = Nursery::with_policy(executor, policy);
        let results = Arc::new(Results {
            shared: nursery.shared.clone(),
            state: Mutex::new(Queue {
                results: VecDeque::new(),
                counted: 0,
                counting: true,
                closed: false,
            }),
            arrived: Event::new(),
        });
        NurserySet {
            reader: Reader { results },
            nursery,
            waiting: None,
        }
    }

    /// Starts `child` in the set, from any kind's `start_soon`.
    pub(crate) fn start_child<C>(&self, child: C, site: &'static Location<'static>)
    where
        C: IntoChild<Output = T, Error = E>,
        C::Future: 'ex,
        T: 'ex,
        E: 'ex,
        X: SpawnChild<'ex, SetChild<C, T, E, X>, Delivers> + 'ex,
    {
        let child = SetChild {
            child,
            results: self.reader.results.clone(),
            site,
        };
        // No handle is built (`Delivers::HANDLED`): the result goes to the set's results. The
        // set's owner cannot find it closed (only `join` and `Drop` close it, and both consume
        // it).
        let spawned =
            crate::spawn::spawn(&self.nursery.shared, child, Caller::Owner, Delivers, site);
        drop(spawned);
    }

    /// Counts a child and wraps it as the executor would run it, without spawning it: for the
    /// loom models, which poll it themselves.
    #[cfg(all(test, smol_nursery_loom))]
    pub(crate) fn model_child<F>(
        &self,
        future: F,
    ) -> crate::child::Child<Deliver<F, T, E, X>, E, Delivers, X>
    where
        F: Future<Output = Result<T, E>>,
    {
        let shared = self.nursery.shared.clone();
        let id = shared.core.start_owned();
        let site = Location::caller();
        let deliver = Deliver {
            future,
            results: self.reader.results.clone(),
            site,
        };
        let site = crate::registry::Site {
            location: site,
            graced: false,
        };
        crate::child::Child::new(deliver, shared, Delivers, id, false, site)
    }

    /// The set's shared state, for the loom models.
    #[cfg(all(test, smol_nursery_loom))]
    pub(crate) fn model_shared(&self) -> &Arc<Shared<E, X>> {
        &self.nursery.shared
    }

    /// Waits for the oldest unread result: `Some(result)`, or `None` once the set has neither
    /// an unfinished child nor an unread result (at once for an empty set; a set given new
    /// children after that yields again).
    ///
    /// # Panics
    ///
    /// If a child panicked, `next` hands out no further result; once every child has
    /// finished, it resumes the first child's panic (unread results are dropped), unless
    /// `join` or an earlier `next` already did. After that the set is an ordinary cancelled
    /// set.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it resolves loses no result; the next call
    /// hands it out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let mut set = NurserySet::<_, ()>::new(&ex);
    ///     for ms in [30, 10, 20] {
    ///         set.start_soon(async move {
    ///             async_io::Timer::after(Duration::from_millis(ms)).await;
    ///             Ok(ms)
    ///         });
    ///     }
    ///     let mut order = Vec::new();
    ///     while let Some(result) = set.next().await {
    ///         order.push(result.unwrap());
    ///     }
    ///     assert_eq!(order, [10, 20, 30]); // the order they finished in
    /// }));
    /// ```
    pub async fn next(&mut self) -> Option<Result<T, E>> {
        futures_lite::future::poll_fn(|cx| self.poll_result(cx)).await
    }

    /// What `next` and `poll_next` do.
    pub(crate) fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        let results = &self.reader.results;
        let core = &self.nursery.shared.core;
        loop {
            // `len()` is read first: a child's panic is kept before the child counts as
            // finished, so once no child is unfinished, every panic is seen below; and a
            // result is queued before its child finishes (invariant 1), so it is seen too.
            let idle = core.is_empty();
            if core.panic_pending() {
                // A child panicked: nothing more is handed out, and no permit waits for a
                // reader any more; the panic is resumed once every child has finished.
                results.stop_counting();
                if idle {
                    if let Some(panic) = core.take_panic() {
                        self.waiting = None;
                        drop_quietly(results.take_all(false));
                        resume_unwind(panic);
                    }
                    // Taken by `join` meanwhile: an ordinary cancelled set from now on.
                    continue;
                }
            } else {
                if let Some((result, _site)) = results.pop() {
                    self.waiting = None;
                    return Poll::Ready(Some(result));
                }
                if idle {
                    self.waiting = None;
                    return Poll::Ready(None);
                }
            }
            match &mut self.waiting {
                // Listen, then look again before waiting: a result or the last end may have
                // come in between.
                None => self.waiting = Some((results.arrived.listen(), core.idle_listener())),
                Some((arrived, idle)) => {
                    let arrived = Pin::new(arrived).poll(cx).is_ready();
                    let idle = Pin::new(idle).poll(cx).is_ready();
                    if !arrived && !idle {
                        return Poll::Pending;
                    }
                    self.waiting = None;
                }
            }
        }
    }

    /// Waits for every child, closes the set, and returns the values of the results nobody
    /// read, in the order their children finished.
    ///
    /// Returns `Err(`[`NurseryError`]`)` instead if an unread result is an `Err`, with every
    /// unread error in the order their children finished (and their
    /// [`origins`](NurseryError::origins)), or if the deadline passed while a child was
    /// unfinished; the values are then dropped. From the moment `join` is first polled, unread
    /// results no longer count against the limit.
    ///
    /// # Panics
    ///
    /// Resumes the first child's panic once every child has finished, unless `next` already
    /// did; unread results are dropped.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the future owns the set, and dropping it drops the set (every
    /// non-shielded child is cancelled, unread results are dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let set = NurserySet::new(&ex);
    ///     set.start_soon(async { Ok::<_, String>(1) });
    ///     set.start_soon(async { Ok(2) });
    ///     let mut values = set.join().await.unwrap();
    ///     values.sort();
    ///     assert_eq!(values, [1, 2]);
    ///
    ///     let set = NurserySet::new(&ex);
    ///     set.start_soon(async { Ok(1) });
    ///     set.start_soon(async { Err(String::from("refused")) });
    ///     assert_eq!(set.join().await.unwrap_err().errors(), ["refused"]);
    /// }));
    /// ```
    pub async fn join(self) -> Result<Vec<T>, NurseryError<E>> {
        let NurserySet {
            reader, nursery, ..
        } = self;
        reader.results.stop_counting();
        let timeout = match nursery.join().await {
            Ok(()) => None,
            Err(error) => error.deadline(),
        };
        let mut values = Vec::new();
        let (mut errors, mut sites) = (Vec::new(), Vec::new());
        for (result, site) in reader.results.take_all(true) {
            match result {
                Ok(value) => values.push(value),
                Err(error) => {
                    errors.push(error);
                    sites.push(site);
                }
            }
        }
        if errors.is_empty() && timeout.is_none() {
            Ok(values)
        } else {
            drop_quietly(values);
            Err(NurseryError::new(errors, sites, timeout))
        }
    }

    /// Cancels every non-shielded child, as [`Nursery::cancel`] does. A cancelled child adds
    /// no result; results already in stay readable.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let mut set = NurserySet::<(), ()>::new(&ex);
    ///     set.start_soon(futures_lite::future::pending());
    ///     set.cancel();
    ///     assert!(set.is_cancelled());
    ///     assert_eq!(set.next().await, None, "the cancelled child added nothing");
    /// }));
    /// ```
    pub fn cancel(&self) {
        self.nursery.cancel();
    }

    /// Cancels the set when `duration` has passed, as [`Nursery::cancel_after`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let set = NurserySet::<(), ()>::new(&ex);
    ///     set.cancel_after(Duration::from_millis(10));
    ///     set.start_soon(futures_lite::future::pending());
    ///     assert!(set.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    pub fn cancel_after(&self, duration: Duration) {
        self.nursery.cancel_after(duration);
    }

    /// Cancels the set at `deadline`, as [`Nursery::cancel_at`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, Instant};
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let mut set = NurserySet::<(), ()>::new(&ex);
    ///     set.cancel_at(Instant::now() + Duration::from_millis(10));
    ///     set.start_soon(futures_lite::future::pending());
    ///     set.cancelled().await;
    ///     assert_eq!(set.next().await, None);
    /// }));
    /// ```
    pub fn cancel_at(&self, deadline: Instant) {
        self.nursery.cancel_at(deadline);
    }

    /// Returns `true` if the set has been cancelled: by [`cancel`](NurserySet::cancel), its
    /// deadline, a child's panic, or dropping.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let set = NurserySet::<(), ()>::new(&ex);
    /// assert!(!set.is_cancelled());
    /// set.cancel();
    /// assert!(set.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.nursery.is_cancelled()
    }

    /// Returns the number of unfinished children plus unread results.
    ///
    /// A child's result is queued just before the child counts as finished, so for that
    /// instant a finishing child counts twice.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let set = NurserySet::<_, ()>::new(&ex);
    /// set.start_soon(async { Ok(1) });
    /// assert_eq!(set.len(), 1); // unfinished
    /// while ex.try_tick() {}
    /// assert_eq!(set.len(), 1); // finished, its result unread
    /// ```
    pub fn len(&self) -> usize {
        self.nursery.len() + self.nursery.shared.core.unread()
    }

    /// Returns `true` if the set has neither an unfinished child nor an unread result:
    /// `len() == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// assert!(NurserySet::<(), ()>::new(&ex).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns a future that resolves once the set has been cancelled or closed, as
    /// [`Nursery::cancelled`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let set = NurserySet::<(), ()>::new(&ex);
    ///     let cancelled = set.cancelled();
    ///     set.cancel();
    ///     cancelled.await;
    /// }));
    /// ```
    pub fn cancelled(&self) -> Cancelled {
        self.nursery.cancelled()
    }

    /// Returns the state of the set's tree, as [`Nursery::snapshot`] does; its
    /// [`unread`](Snapshot::unread) says how many results wait unread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let set = NurserySet::<_, ()>::new(&ex);
    /// set.start_soon(async { Ok(()) });
    /// while ex.try_tick() {}
    /// assert_eq!(set.snapshot().to_string(), "nursery: 0 unfinished, 1 results unread\n");
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        self.nursery.snapshot()
    }
}

impl<'ex, T, E> NurserySet<'ex, T, E> {
    /// Starts a child whose outcome becomes one of the set's results: a future returning
    /// `Result<T, E>`, or one wrapped in [`shield`](crate::shield) (with or without
    /// [`grace`](crate::Shielded::grace)). Like [`Nursery::start_soon`], it returns before the
    /// child runs, and a child started into a cancelled set never runs unless shielded (it adds
    /// no result).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, NurserySet};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let mut set = NurserySet::<&str, ()>::new(&ex);
    ///     set.cancel();
    ///     set.start_soon(async { Ok("never runs") });
    ///     set.start_soon(shield(async { Ok("shielded") }));
    ///     assert_eq!(set.next().await, Some(Ok("shielded")));
    ///     assert_eq!(set.next().await, None);
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C)
    where
        C: IntoChild<Output = T, Error = E>,
        C::Future: Send + 'ex,
        T: Send + 'ex,
        E: Send + 'ex,
    {
        self.start_child(child, Location::caller());
    }
}

impl<'ex, T, E> LocalNurserySet<'ex, T, E> {
    /// Starts a child whose outcome becomes one of the set's results, as
    /// [`NurserySet::start_soon`] does; the child need not be `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use async_executor::LocalExecutor;
    /// use smol_nursery::LocalNurserySet;
    ///
    /// let ex = Rc::new(LocalExecutor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let mut set = LocalNurserySet::<_, ()>::new(&ex);
    ///     let shared = Rc::new(5);
    ///     set.start_soon(async move { Ok(*shared + 1) });
    ///     assert_eq!(set.next().await, Some(Ok(6)));
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C)
    where
        C: IntoChild<Output = T, Error = E>,
        C::Future: 'ex,
        T: 'ex,
        E: 'ex,
    {
        self.start_child(child, Location::caller());
    }
}

/// `poll_next` behaves as [`NurserySet::next`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use futures_lite::StreamExt;
/// use smol_nursery::NurserySet;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let set = NurserySet::<u32, ()>::new(&ex);
///     for i in 0..3 {
///         set.start_soon(async move { Ok(i) });
///     }
///     let mut values: Vec<u32> = set.map(Result::unwrap).collect().await;
///     values.sort();
///     assert_eq!(values, [0, 1, 2]);
/// }));
/// ```
impl<T, E, X: ExecutorKind> Stream for NurserySet<'_, T, E, X> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        self.get_mut().poll_result(cx)
    }
}

impl<T, E, X: ExecutorKind> fmt::Debug for NurserySet<'_, T, E, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NurserySet")
            .field("len", &self.len())
            .field("unread", &self.nursery.shared.core.unread())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
