//! `start`: a child that tells its starter when it is ready (trio's `nursery.start`).
//!
//! The child is spawned at once and counted like any other. Until it calls
//! [`Ready::started`], it belongs to the task awaiting [`Start`]: its error, its panic, its
//! return without a value and its cancellation go to that task (through the [`Signal`], which
//! is the child's [`Starter`]), not to the nursery. From `started` on, it is an ordinary child.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::panic::{resume_unwind, Location};
use std::pin::Pin;
use std::sync::Arc;

use crate::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::child::Starter;
use crate::core::drop_quietly;
use crate::error::NurseryError;
use crate::shared::{Caller, End, Shared};
use crate::shield::IntoChild;
use crate::spawn::{spawn, SpawnChild};
use crate::task::TaskHandle;

/// Why [`start`](crate::Nursery::start) did not get a value from its child.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{Nursery, StartError};
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::<String>::new(&ex);
///     let started = nursery
///         .start(|_ready: smol_nursery::Ready<u16>| async { Err::<(), _>(String::from("port in use")) })
///         .await;
///     assert_eq!(started.unwrap_err(), StartError::Failed(String::from("port in use")));
///     // The nursery recorded nothing: the error went to the starter.
///     assert_eq!(nursery.join().await, Ok(()));
/// }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartError<E> {
    /// The child returned `Err` before it was ready; the nursery did not record it.
    Failed(E),
    /// The child was cancelled before it was ready (its nursery was cancelled and it was not
    /// shielded, or the executor was dropped).
    Cancelled,
    /// The child returned `Ok` without calling [`Ready::started`].
    Exited,
    /// The nursery was closed: the closure was not called.
    Closed,
}

impl<E: fmt::Display> fmt::Display for StartError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Failed(error) => write!(f, "task failed before it was ready: {error}"),
            StartError::Cancelled => f.write_str("task was cancelled before it was ready"),
            StartError::Exited => f.write_str("task returned without saying it was ready"),
            StartError::Closed => f.write_str("starting a task in a closed nursery"),
        }
    }
}

/// A `StartError` of an [`Error`] is an `Error` whose `source` is the child's error, so that
/// `start(...).await?` works in a function returning `Box<dyn Error>`. (With errors that are
/// not `Error`s, such as `String`s, `?` converts into [`NurseryError`] instead, which is an
/// `Error` whenever its errors print.)
impl<E: Error + 'static> Error for StartError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StartError::Failed(error) => Some(error),
            _ => None,
        }
    }
}

/// A failed start as the error of a whole nursery, so that `start(...).await?` works in a
/// function returning `Result<_, NurseryError<E>>`: `Failed(e)` becomes an error whose
/// [`errors`](NurseryError::errors) are `[e]`; `Cancelled` one whose
/// [`is_cancelled`](NurseryError::is_cancelled) is `true`; `Exited` and `Closed` one with no
/// errors whose message says what happened.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{Nursery, NurseryError};
///
/// async fn serve(nursery: &Nursery<'_, String>) -> Result<u16, NurseryError<String>> {
///     let (port, _server) = nursery
///         .start(|_ready| async { Err::<(), _>(String::from("address in use")) })
///         .await?; // the failed bind is not lost
///     Ok(port)
/// }
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::new(&ex);
///     let err = serve(&nursery).await.unwrap_err();
///     assert_eq!(err.errors(), ["address in use"]);
///     nursery.join().await.unwrap();
/// }));
/// ```
impl<E> From<StartError<E>> for NurseryError<E> {
    /// The error's origin is where it was converted (the `?`): a `StartError` does not keep
    /// its child's start site.
    #[track_caller]
    fn from(error: StartError<E>) -> Self {
        match error {
            StartError::Failed(error) => {
                NurseryError::new(vec![error], vec![Location::caller()], None)
            }
            StartError::Cancelled => {
                NurseryError::noted("task was cancelled before it was ready", true)
            }
            StartError::Exited => {
                NurseryError::noted("task returned without saying it was ready", false)
            }
            StartError::Closed => NurseryError::noted("starting a task in a closed nursery", false),
        }
    }
}

/// What a child started with [`start`](crate::Nursery::start) calls to say it is ready, with
/// the value its starter receives (an address, a port, a connection).
///
/// Until [`started`](Ready::started) is called, the child's error, panic or cancellation goes
/// to the task awaiting `start`. Dropping a `Ready` without calling it changes nothing: `start`
/// then resolves when the child ends.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{Nursery, Ready};
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::<()>::new(&ex);
///     let (port, server) = nursery
///         .start(|ready: Ready<u16>| async move {
///             ready.started(8080); // `start` returns here
///             Ok("served")
///         })
///         .await
///         .unwrap();
///     assert_eq!(port, 8080);
///     nursery.join().await.unwrap();
///     assert_eq!(server.await, Ok("served"));
/// }));
/// ```
pub struct Ready<V> {
    /// Shared with the [`Start`] future and the child's wrapper.
    signal: Arc<Signal<V>>,
}

impl<V> Ready<V> {
    /// Tells the starter that the child is ready, handing it `value`. From now on the child is
    /// an ordinary child of its nursery: its errors and panics go to `join`.
    ///
    /// If the starter is gone (its `start` future was dropped), `value` is dropped.
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
    ///     let (greeting, _child) = nursery
    ///         .start(|ready| async move {
    ///             ready.started("listening");
    ///             Ok(())
    ///         })
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(greeting, "listening");
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn started(self, value: V) {
        let mut state = self.signal.lock();
        if let State::Waiting(waker) = &mut *state {
            let waker = waker.take();
            *state = State::Ready(value);
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        } else {
            drop(state);
            drop(value);
        }
    }
}

impl<V> fmt::Debug for Ready<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waiting = matches!(*self.signal.lock(), State::Waiting(_));
        f.debug_struct("Ready").field("waiting", &waiting).finish()
    }
}

/// The meeting point of a started child, its [`Ready`] and its starter.
pub(crate) struct Signal<V> {
    /// See [`State`]. Never held while user code runs: values are dropped and wakers woken
    /// after the guard is released.
    state: Mutex<State<V>>,
}

/// Where a started child stands.
enum State<V> {
    /// Not ready yet; holds the starter's waker once it has polled.
    Waiting(Option<Waker>),
    /// The child called `started`; the starter has not taken the value yet.
    Ready(V),
    /// The child ended before it was ready; its end is in the [`Link`]'s slot.
    Ended,
    /// The starter took its outcome, or is gone: every later end goes to the nursery.
    Done,
}

impl<V> Signal<V> {
    /// Locks the state; a user's panic never happens under this lock.
    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the child's wrapper and the [`Start`] future share: the signal (which [`Ready`] holds
/// too, and which cannot name `E`) and the slot for an end before ready.
pub(crate) struct Link<V, E> {
    /// The signal.
    signal: Arc<Signal<V>>,
    /// The child's end, if it came before ready; written once, under the signal's lock.
    end: Arc<Mutex<Option<End<E>>>>,
}

impl<V, E> Link<V, E> {
    /// Takes the end written by the child.
    fn take_end(&self) -> Option<End<E>> {
        self.end
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl<V, E> Starter<E> for Link<V, E> {
    fn take_end(&self, end: End<E>) -> Option<End<E>> {
        let mut state = self.signal.lock();
        let State::Waiting(waker) = &mut *state else {
            return Some(end);
        };
        let waker = waker.take();
        *self.end.lock().unwrap_or_else(PoisonError::into_inner) = Some(end);
        *state = State::Ended;
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        None
    }
}

/// The future [`start`](crate::Nursery::start) returns: resolves when the child is ready, with
/// its value and its handle, or with why it never was.
///
/// It borrows neither the nursery nor the handle it came from.
///
/// # Cancel safety
///
/// Dropping it before the child is ready cancels the child, shielded or not; a panic of the
/// child after that goes to the nursery. Once the child called [`Ready::started`], dropping it
/// cancels nothing (the value is dropped, the child goes on as an ordinary child).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{Nursery, Start, TaskError};
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::<()>::new(&ex);
///     // Never polled, then dropped: the child, not ready yet, is cancelled.
///     let starting: Start<u8, (), ()> = nursery.start(|_ready| futures_lite::future::pending());
///     drop(starting);
///     assert_eq!(nursery.join().await, Ok(()));
/// }));
/// # let _ = TaskError::Cancelled;
/// ```
#[must_use = "the child is cancelled if its `start` future is dropped before it is ready"]
pub struct Start<V, T, E> {
    /// The signal and the child's handle; `None` when the nursery was closed, or once the
    /// outcome was returned.
    running: Option<(Link<V, E>, TaskHandle<T>)>,
    /// The nursery was closed when `start` was called.
    closed: bool,
}

impl<V, T, E> Start<V, T, E> {
    /// Calls `make` with a fresh [`Ready`] and spawns the child it returns, unless the
    /// nursery is closed (then `make` is dropped uncalled).
    pub(crate) fn new<'ex, F, C, X>(
        shared: &Arc<Shared<E, X>>,
        make: F,
        caller: Caller,
        location: &'static Location<'static>,
    ) -> Self
    where
        F: FnOnce(Ready<V>) -> C,
        C: IntoChild<Output = T, Error = E>,
        C::Future: 'ex,
        T: 'ex,
        X: SpawnChild<'ex, C, Link<V, E>>,
    {
        if caller == Caller::Handle && shared.core.is_closed() {
            return Start::closed();
        }
        let signal = Arc::new(Signal {
            state: Mutex::new(State::Waiting(None)),
        });
        let end = Arc::new(Mutex::new(None));
        let child = make(Ready {
            signal: signal.clone(),
        });
        let link = Link {
            signal: signal.clone(),
            end: end.clone(),
        };
        match spawn(shared, child, caller, link, location) {
            Ok(handle) => Start {
                running: Some((Link { signal, end }, handle)),
                closed: false,
            },
            Err(_closed) => Start::closed(),
        }
    }

    /// A start refused because the nursery is closed.
    fn closed() -> Self {
        Start {
            running: None,
            closed: true,
        }
    }
}

/// The parts of one `start`, without a nursery or an executor: the child's `Ready`, the
/// child's starter (what its wrapper reports its end to), and the starter's future. For the
/// loom models.
#[cfg(all(test, smol_nursery_loom))]
pub(crate) fn model_parts<V, T, E>() -> (Ready<V>, Link<V, E>, Start<V, T, E>) {
    let signal = Arc::new(Signal {
        state: Mutex::new(State::Waiting(None)),
    });
    let end = Arc::new(Mutex::new(None));
    let link = Link {
        signal: signal.clone(),
        end: end.clone(),
    };
    let start = Start {
        running: Some((
            Link {
                signal: signal.clone(),
                end,
            },
            TaskHandle::never_spawned(),
        )),
        closed: false,
    };
    (Ready { signal }, link, start)
}

impl<V, T, E> Future for Start<V, T, E> {
    type Output = Result<(V, TaskHandle<T>), StartError<E>>;

    /// # Panics
    ///
    /// Resumes the child's panic if it panicked before it was ready. Panics if polled again
    /// after it returned `Ready`.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some((link, _)) = &self.running else {
            assert!(self.closed, "`Start` polled after completion");
            self.closed = false;
            return Poll::Ready(Err(StartError::Closed));
        };
        let mut state = link.signal.lock();
        let taken = match &mut *state {
            State::Waiting(waker) => {
                match waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            State::Done => unreachable!("the outcome is taken once"),
            _ => std::mem::replace(&mut *state, State::Done),
        };
        drop(state);
        let (link, handle) = self.running.take().expect("checked above");
        match taken {
            State::Ready(value) => Poll::Ready(Ok((value, handle))),
            State::Ended => {
                drop(handle);
                let end = link.take_end().expect("an ended child leaves its end");
                if let Some(panic) = end.panic {
                    drop_quietly(end.error);
                    resume_unwind(panic);
                }
                Poll::Ready(Err(match end.error {
                    Some(error) => StartError::Failed(error),
                    None if end.cancelled => StartError::Cancelled,
                    None => StartError::Exited,
                }))
            }
            State::Waiting(_) | State::Done => unreachable!(),
        }
    }
}

impl<V, T, E> Drop for Start<V, T, E> {
    fn drop(&mut self) {
        let Some((link, handle)) = self.running.take() else {
            return;
        };
        let taken = std::mem::replace(&mut *link.signal.lock(), State::Done);
        match taken {
            // Not ready: the child belonged to this future, and goes with it.
            State::Waiting(_) => handle.cancel(),
            State::Ready(value) => drop_quietly(value),
            State::Ended => drop_quietly(link.take_end()),
            State::Done => {}
        }
    }
}

impl<V, T, E> fmt::Debug for Start<V, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Start")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}
