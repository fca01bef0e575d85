//! The nursery: the owner of a group of children.
//!
//! One type for both forms: [`Nursery`] on an [`ExecutorRef`] (the default) and
//! [`LocalNursery`](crate::LocalNursery) on a [`LocalExecutorRef`]. What does not depend on `Send` is written once,
//! in the generic `impl`; only `start_soon` and `start`, whose bounds differ, are written once
//! per form.

use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;

use crate::child::NoStarter;
use crate::core::Cancelled;
use crate::error::NurseryError;
use crate::executor::{ExecutorKind, ExecutorRef, IntoExecutor, LocalExecutorRef};
use crate::handle::NurseryHandle;
use crate::shared::{Caller, Policy, Shared};
use crate::shield::IntoChild;
use crate::slot::{Reserving, Slot};
use crate::snapshot::{CancelCause, Snapshot};
use crate::spawn::SpawnChild;
use crate::start::{Ready, Start};
use crate::task::TaskHandle;

/// A scope for child tasks: start them with [`start_soon`](Nursery::start_soon), wait for all
/// of them with [`join`](Nursery::join).
///
/// When a child fails (returns `Err` or panics), the nursery cancels every other child that
/// is not [shielded](crate::shield), at once, and `join` reports every error.
///
/// **Dropping a `Nursery` before `join` has finished cancels every non-shielded child**
/// (their futures are dropped at their next await point). Shielded children keep running on
/// the executor and nobody receives their errors; if the nursery was created inside a child of
/// another nursery, that nursery (or the nearest live ancestor) adopts them and its `join`
/// waits for them, otherwise they run on detached. Dropping the future returned by `join` does
/// the same, since it owns the nursery.
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
///     let nursery = Nursery::new(&ex);
///     for i in 0..3 {
///         nursery.start_soon(async move {
///             if i == 2 { Err(format!("child {i} failed")) } else { Ok(()) }
///         });
///     }
///     let err = nursery.join().await.unwrap_err();
///     assert_eq!(err.errors(), ["child 2 failed"]);
/// }));
/// ```
pub struct Nursery<'ex, E, X: ExecutorKind = ExecutorRef<'ex>> {
    /// Shared with handles and children. The nursery is open as long as this value exists
    /// and `join` has not returned: only `join` and `Drop` close it, and both consume it.
    pub(crate) shared: Arc<Shared<E, X>>,
    /// Ties the nursery to the lifetime its children may borrow for, invariantly, as the
    /// executor is.
    lifetime: PhantomData<fn(&'ex ()) -> &'ex ()>,
}

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
///
/// It is [`Nursery`] on the local executor kind: every method of `Nursery` is one of a
/// `LocalNursery`, with the same meaning; `start_soon` and `start` drop the `Send` bounds.
pub type LocalNursery<'ex, E> = Nursery<'ex, E, LocalExecutorRef<'ex>>;

impl<'ex, E, X: ExecutorKind> Nursery<'ex, E, X> {
    /// Creates an empty nursery whose children run on `executor`.
    ///
    /// `executor` is a `&'static Executor<'static>` or a `&Arc<Executor<'ex>>`; see
    /// [`ExecutorRef`](crate::ExecutorRef) for why a plain borrowed executor is not accepted.
    ///
    /// # Examples
    ///
    /// With a `'static` executor, children are `'static`:
    ///
    /// ```
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// static EX: Executor<'static> = Executor::new();
    ///
    /// futures_lite::future::block_on(EX.run(async {
    ///     let nursery = Nursery::<()>::new(&EX);
    ///     let handle = nursery.start_soon(async { Ok(1 + 1) });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(handle.await, Ok(2));
    /// }));
    /// ```
    ///
    /// With an `Arc`'d executor, children may borrow data declared before the executor:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let words = vec!["structured", "concurrency"];
    /// let ex = Arc::new(Executor::new());
    ///
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let handle = nursery.start_soon(async { Ok(words.join(" ")) });
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(handle.await.unwrap(), "structured concurrency");
    /// }));
    /// ```
    pub fn new(executor: impl IntoExecutor<'ex, X>) -> Self {
        Nursery::with_policy(executor.into_executor(), Policy::default())
    }

    /// A nursery with the policies of a [`NurseryBuilder`](crate::NurseryBuilder).
    pub(crate) fn with_policy(executor: X, policy: Policy) -> Self {
        Nursery {
            shared: Arc::new(Shared::new(executor, policy)),
            lifetime: PhantomData,
        }
    }

    /// Starts `child` as the owner, which the nursery's closing cannot race with.
    pub(crate) fn spawn<C>(
        &self,
        child: C,
        location: &'static Location<'static>,
    ) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: 'ex,
        C::Output: 'ex,
        X: SpawnChild<'ex, C, NoStarter>,
    {
        match crate::spawn::spawn(&self.shared, child, Caller::Owner, NoStarter, location) {
            Ok(handle) => handle,
            // Unreachable: only `join` and `Drop` close the nursery, and both consume it.
            Err(_closed) => TaskHandle::never_spawned(),
        }
    }

    /// The nursery's core, for the crate's unit tests.
    #[cfg(test)]
    #[allow(dead_code)]
    pub(crate) fn core(&self) -> &Arc<crate::core::Core> {
        &self.shared.core
    }

    /// Returns a handle that starts children in this nursery from anywhere: from inside its
    /// children, or from other tasks (and, for a `Nursery`, from other threads).
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
    ///         // A child starts a sibling; `join` waits for both.
    ///         handle.start_soon(async { Ok(()) }).unwrap();
    ///         Ok(())
    ///     });
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn handle(&self) -> NurseryHandle<'ex, E, X> {
        NurseryHandle::new(self.shared.clone())
    }

    /// Cancels every non-shielded child: each one's future is dropped at its next await point,
    /// or before it first runs. Children started later are cancelled too, unless shielded.
    ///
    /// This is not an error: if no child failed, `join` returns `Ok(())`. Cancelling twice is
    /// a no-op.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{Nursery, TaskError};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let forever = nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
    ///     nursery.cancel();
    ///     assert!(nursery.is_cancelled());
    ///     assert_eq!(nursery.join().await, Ok(()));
    ///     assert_eq!(forever.await, Err(TaskError::Cancelled));
    /// }));
    /// ```
    pub fn cancel(&self) {
        self.shared.core.cancel(CancelCause::Explicit);
    }

    /// Cancels the nursery when `duration` has passed, as [`cancel_at`](Nursery::cancel_at)
    /// does for `Instant::now() + duration`.
    ///
    /// A duration too large to be added to `Instant::now()` means no deadline.
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
    ///     nursery.cancel_after(Duration::from_millis(10));
    ///     nursery.start_soon(async {
    ///         async_io::Timer::after(Duration::from_secs(60)).await;
    ///         Ok(())
    ///     });
    ///     assert!(nursery.join().await.unwrap_err().is_timeout());
    /// }));
    /// ```
    pub fn cancel_after(&self, duration: std::time::Duration) {
        self.shared.core.cancel_after(duration);
    }

    /// Cancels the nursery at `deadline`, on an [`async_io::Timer`].
    ///
    /// When the deadline passes while a child is unfinished, the nursery is cancelled as by
    /// [`cancel`](Nursery::cancel), and `join` returns an error whose
    /// [`is_timeout`](crate::NurseryError::is_timeout) is `true` (along with any errors of the
    /// children). Shielded children still run to their end. A deadline that has not passed when
    /// the last child finishes costs nothing: `join` does not wait for it.
    ///
    /// The earliest deadline wins: a later one than the one already set is ignored. A deadline
    /// in the past fires at once. If it fires while the nursery has no unfinished child, the
    /// nursery is still cancelled, and a child started after that counts as timed out.
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
    ///     nursery.cancel_at(Instant::now() + Duration::from_secs(3600));
    ///     nursery.start_soon(async { Ok(()) });
    ///     // The children finished long before the deadline: `join` does not wait for it.
    ///     assert_eq!(nursery.join().await, Ok(()));
    /// }));
    /// ```
    pub fn cancel_at(&self, deadline: std::time::Instant) {
        self.shared.core.cancel_at(deadline);
    }

    /// Returns `true` if the nursery has been cancelled: by [`cancel`](Nursery::cancel), a
    /// failed child, or its deadline.
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
    /// assert!(!nursery.is_cancelled());
    /// nursery.cancel();
    /// assert!(nursery.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.shared.core.is_cancelled()
    }

    /// Returns the number of children that have not finished yet.
    ///
    /// A child counts until its future has been dropped, whether it returned, failed, or was
    /// cancelled.
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
    /// let _ = nursery.start_soon(async { Ok(()) });
    /// assert_eq!(nursery.len(), 1);
    /// assert!(ex.try_tick());
    /// assert_eq!(nursery.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.core.len()
    }

    /// Returns `true` if every child has finished (or none was started).
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
    /// assert!(nursery.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.shared.core.is_empty()
    }

    /// Waits until every child has finished, closes the nursery, and reports how it went.
    ///
    /// Returns `Ok(())` if no child failed and the deadline did not pass, and
    /// `Err(`[`NurseryError`](crate::NurseryError)`)` with every error the children returned otherwise. When
    /// `join` returns, every child's future has been dropped: no child code runs any more, and
    /// every [`TaskHandle`](crate::TaskHandle) is finished. A nursery with no children returns at once.
    ///
    /// `join` does not run the children: the executor must be running (for example, `join` is
    /// awaited inside `ex.run(...)`, or, for a `Nursery`, other threads run the executor).
    ///
    /// # Panics
    ///
    /// If a child panicked, `join` resumes the first child's panic, with its own payload, once
    /// every child has finished; the errors collected so far are dropped. (Unlike
    /// [`std::thread::scope`], which panics with a message of its own, the panic that reaches
    /// the joiner is the child's.)
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the future owns the nursery, so dropping it before it completes drops
    /// the nursery. Every non-shielded child is cancelled, shielded children keep running
    /// (adopted by the nearest live ancestor nursery, if any, else detached), and the errors
    /// are lost. This is what happens when `join` loses a race
    /// against a timeout.
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
    ///     let nursery = Nursery::<&str>::new(&ex);
    ///     nursery.start_soon(async {
    ///         async_io::Timer::after(Duration::from_millis(10)).await;
    ///         Ok(())
    ///     });
    ///     assert_eq!(nursery.join().await, Ok(()));
    /// }));
    /// ```
    pub async fn join(self) -> Result<(), NurseryError<E>> {
        self.shared.join().await
    }

    /// Waits for room under the nursery's [`limit`](crate::NurseryBuilder::limit), then
    /// reserves it: the returned [`Slot`] starts one child without waiting.
    ///
    /// It waits until the nursery's unfinished children plus the slots already handed out are
    /// fewer than the limit. Waiting `reserve` calls are served in the order they began
    /// waiting. Without a limit it is ready at once. The slot counts as an unfinished child
    /// (in `len()`, and `join` waits for it) until it is used or dropped. A producer that
    /// starts every child through a slot never has more than the limit's number of children
    /// in memory.
    ///
    /// A child that awaits `reserve` of its own nursery may wait forever for the room it holds
    /// itself.
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
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = NurseryBuilder::new().limit(16).build::<()>(&ex);
    ///     for url in 0..1000 {
    ///         // Waits while 16 fetches are unfinished: at most 16 children exist at once.
    ///         nursery.reserve().await.start_soon(async move { Ok(url) });
    ///     }
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub async fn reserve(&self) -> Slot<'_, 'ex, E, X> {
        let mut reserving = Reserving::new(&self.shared, Caller::Owner);
        match futures_lite::future::poll_fn(|cx| reserving.poll_room(cx)).await {
            Ok(room) => Slot::new(room),
            Err(_closed) => unreachable!("only `join` and `Drop` close the nursery"),
        }
    }

    /// Reserves room for one child if there is some now, as [`reserve`](Nursery::reserve)
    /// would without waiting; returns `None` if the nursery is full (or others are waiting
    /// for room).
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
    /// let slot = nursery.try_reserve().expect("room for one");
    /// assert!(nursery.try_reserve().is_none());
    /// drop(slot);
    /// assert!(nursery.try_reserve().is_some());
    /// ```
    pub fn try_reserve(&self) -> Option<Slot<'_, 'ex, E, X>> {
        let room = crate::slot::try_reserve(&self.shared, Caller::Owner).unwrap_or(None);
        room.map(Slot::new)
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
    ///     let snapshot = nursery.snapshot();
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
    /// (`cancel`, a failure, the deadline), or closed (`join` returned); at once if it already
    /// was.
    ///
    /// The future owns what it needs; see [`NurseryHandle::cancelled`] for the form children
    /// use to wind down on their own.
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
    ///     let nursery = Nursery::<&str>::new(&ex);
    ///     nursery.start_soon(async { Err::<(), _>("disk full") });
    ///     nursery.cancelled().await; // the failure cancelled the nursery
    ///     assert!(nursery.join().await.is_err());
    /// }));
    /// ```
    pub fn cancelled(&self) -> Cancelled {
        Cancelled::new(self.shared.core.clone())
    }
}

impl<'ex, E> Nursery<'ex, E> {
    /// Starts a child and returns a handle to its result. The child is scheduled on the
    /// executor; `start_soon` returns before it runs.
    ///
    /// `child` is a future returning `Result<T, E>`, or one wrapped in [`shield`](crate::shield).
    /// This never fails: the nursery is open until `join`. If the nursery has been cancelled, a
    /// non-shielded child never runs (its handle yields `Err(TaskError::Cancelled)`), while a
    /// shielded one runs and `join` waits for it.
    ///
    /// If the executor has been dropped, `child` is dropped without being polled and its
    /// handle yields `Err(TaskError::Cancelled)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<std::io::Error>::new(&ex);
    ///     let plain = nursery.start_soon(async { Ok("plain") });
    ///     let shielded = nursery.start_soon(shield(async { Ok("shielded") }));
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(plain.await.unwrap(), "plain");
    ///     assert_eq!(shielded.await.unwrap(), "shielded");
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: Send + 'ex,
        C::Output: Send + 'ex,
        E: Send + 'ex,
    {
        self.spawn(child, Location::caller())
    }

    /// Starts a child that says when it is ready, and waits until it does (trio's
    /// `nursery.start`): a server that is listening, a connection that is open.
    ///
    /// `make` is called at once with a [`Ready`](crate::Ready) and returns the child (a future returning
    /// `Result<T, E>`, or one wrapped in [`shield`](crate::shield)); the child is spawned at
    /// once and counted like any other. The returned future resolves when the child calls
    /// [`Ready::started`](crate::Ready::started)`(value)`: `Ok((value, handle))`. From then on the child is an ordinary
    /// child of the nursery.
    ///
    /// Until that call, the child belongs to its starter: if it returns `Err(e)` first, the
    /// future resolves to [`StartError::Failed`](crate::StartError::Failed)`(e)` and the nursery
    /// neither records `e` nor cancels anything; if it panics first, the panic is resumed in
    /// the task awaiting the future; if it returns `Ok` without calling `started`,
    /// [`StartError::Exited`](crate::StartError::Exited); if it is cancelled first (the nursery
    /// was cancelled and it is not shielded),
    /// [`StartError::Cancelled`](crate::StartError::Cancelled). A child that never calls
    /// `started` and never ends keeps the future waiting, as in trio.
    ///
    /// The future borrows neither the nursery nor `make`, and is `Send` when `V`, `T` and `E`
    /// are. `make` itself need not be `Send`.
    ///
    /// Under a [`limit`](crate::NurseryBuilder::limit), the started child waits for room like
    /// any other; a child that awaits `start` of its own nursery may then wait forever for the
    /// room it holds itself.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future (polled or not) before the child is ready cancels that child,
    /// shielded or not; a panic of the child after that goes to the nursery. Once the child is
    /// ready, dropping it cancels nothing.
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
    ///     let nursery = Nursery::<std::io::Error>::new(&ex);
    ///     let (addr, server) = nursery
    ///         .start(|ready| async move {
    ///             let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
    ///             ready.started(listener.local_addr()?);
    ///             let (_stream, _peer) = listener.accept().await?;
    ///             Ok("served one client")
    ///         })
    ///         .await
    ///         .unwrap();
    ///     // The server is listening: a client can connect now.
    ///     let _client = async_net::TcpStream::connect(addr).await.unwrap();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(server.await.unwrap(), "served one client");
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
        Start::new(&self.shared, make, Caller::Owner, Location::caller())
    }
}

impl<'ex, E> LocalNursery<'ex, E> {
    /// Starts a child and returns a handle to its result, as [`Nursery::start_soon`] does; the
    /// child need not be `Send`.
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
    ///     let nursery = LocalNursery::<std::io::Error>::new(&ex);
    ///     let plain = nursery.start_soon(async { Ok("plain") });
    ///     let shielded = nursery.start_soon(shield(async { Ok("shielded") }));
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(plain.await.unwrap(), "plain");
    ///     assert_eq!(shielded.await.unwrap(), "shielded");
    /// }));
    /// ```
    #[track_caller]
    pub fn start_soon<C>(&self, child: C) -> TaskHandle<C::Output>
    where
        C: IntoChild<Error = E>,
        C::Future: 'ex,
        C::Output: 'ex,
        E: 'ex,
    {
        self.spawn(child, Location::caller())
    }

    /// Starts a child that says when it is ready, and waits until it does, as
    /// [`Nursery::start`] does; the child, `V`, `T` and `E` need not be `Send`.
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
    ///     let nursery = LocalNursery::<std::io::Error>::new(&ex);
    ///     let (addr, server) = nursery
    ///         .start(|ready| async move {
    ///             let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
    ///             ready.started(listener.local_addr()?);
    ///             let (_stream, _peer) = listener.accept().await?;
    ///             Ok("served one client")
    ///         })
    ///         .await
    ///         .unwrap();
    ///     // The server is listening: a client can connect now.
    ///     let _client = async_net::TcpStream::connect(addr).await.unwrap();
    ///     nursery.join().await.unwrap();
    ///     assert_eq!(server.await.unwrap(), "served one client");
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
        Start::new(&self.shared, make, Caller::Owner, Location::caller())
    }
}

impl<E, X: ExecutorKind> Drop for Nursery<'_, E, X> {
    fn drop(&mut self) {
        self.shared.abandon();
    }
}

impl<E, X: ExecutorKind> std::fmt::Debug for Nursery<'_, E, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nursery")
            .field("len", &self.len())
            .field("cancelled", &self.shared.core.cancel_reason())
            .finish()
    }
}
