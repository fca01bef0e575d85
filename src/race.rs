//! `race_ok`: the first success wins; every other attempt is cancelled and awaited.
//!
//! A [`RaceOk`] runs its attempts as children of a [`NurserySet`] and reads their results as
//! they come: a failure starts the next attempt at once, the stagger timer starts one when it
//! fires, and the first `Ok` cancels the set. The race ends only when the set has nothing
//! left: every started attempt has finished (its future dropped), and a panic, which the set
//! resumes once its children are done, reaches the caller even after a win.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use pin_project_lite::pin_project;

use crate::error::NurseryError;
use crate::executor::{
    ExecutorKind, ExecutorRef, IntoExecutor, IntoLocalExecutor, LocalExecutorRef,
};
use crate::set::{Delivers, NurserySet, SetChild};
use crate::shared::Policy;
use crate::spawn::SpawnChild;
use crate::trace::Parent;

/// Runs `attempts` one after another, staggered, until one succeeds: happy eyeballs
/// (RFC 8305), hedged requests, the first replica that answers.
///
/// Nothing happens until the returned future is first polled. Then it takes the first attempt
/// from the iterator and starts it as a child on `executor` (what
/// [`Nursery::new`](crate::Nursery::new) takes); it takes and starts the next one when
/// `stagger` has passed since the last start, or as soon as an attempt fails (one new attempt
/// per failure), whichever comes first. The first attempt to return `Ok(value)` wins: every
/// other attempt is cancelled, attempts not yet taken from the iterator are never taken, and
/// the future resolves to `Ok(value)` once every started attempt has finished (its future
/// dropped). If every attempt fails, it resolves to `Err(`[`NurseryError`]`)` with every error
/// in the order the attempts failed, each with the `race_ok` call as its
/// [origin](NurseryError::origins); with no attempt at all, to an error with no error whose
/// message says that no attempt was made.
///
/// `Duration::ZERO` starts every attempt at once (with an endless iterator, the future then
/// never returns); a stagger too large for an `Instant` starts the next attempt only when one
/// fails.
///
/// # Panics
///
/// A panicking attempt cancels the others, and its panic is resumed once they have finished,
/// even if another attempt had already won.
///
/// # Cancel safety
///
/// Dropping the future cancels every started attempt, as dropping a nursery does.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use async_executor::Executor;
/// use smol_nursery::race_ok;
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let replicas = [("slow", 200), ("down", 0), ("fast", 10)];
///     let answer = race_ok(
///         &ex,
///         replicas.iter().map(|&(name, ms)| async move {
///             if ms == 0 {
///                 return Err(format!("{name}: refused"));
///             }
///             async_io::Timer::after(Duration::from_millis(ms)).await;
///             Ok(name)
///         }),
///         Duration::from_millis(50),
///     )
///     .await;
///     // "slow" started first, "down" failed at 50 ms and started "fast" at once.
///     assert_eq!(answer, Ok("fast"));
/// }));
/// ```
#[track_caller]
pub fn race_ok<'ex, A, F, T, E>(
    executor: impl IntoExecutor<'ex>,
    attempts: A,
    stagger: Duration,
) -> RaceOk<'ex, A::IntoIter, T, E>
where
    A: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'ex,
    T: Send + 'ex,
    E: Send + 'ex,
{
    RaceOk::new(executor.into_executor(), attempts.into_iter(), stagger)
}

/// Runs `attempts` on a [`LocalExecutor`](async_executor::LocalExecutor) until one succeeds,
/// as [`race_ok`] does; the attempts need not be `Send`.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
/// use async_executor::LocalExecutor;
/// use smol_nursery::local_race_ok;
///
/// let ex = Rc::new(LocalExecutor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let won = local_race_ok(
///         &ex,
///         (0..3).map(|i| async move {
///             if i < 2 { Err(i) } else { Ok(Rc::new("third time")) }
///         }),
///         Duration::from_secs(1),
///     )
///     .await;
///     assert_eq!(*won.unwrap(), "third time");
/// }));
/// ```
#[track_caller]
pub fn local_race_ok<'ex, A, F, T, E>(
    executor: impl IntoLocalExecutor<'ex>,
    attempts: A,
    stagger: Duration,
) -> RaceOk<'ex, A::IntoIter, T, E, LocalExecutorRef<'ex>>
where
    A: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'ex,
    T: 'ex,
    E: 'ex,
{
    RaceOk::new(executor.into_executor(), attempts.into_iter(), stagger)
}

pin_project! {
    /// The future [`race_ok`] and [`local_race_ok`] return.
    ///
    /// Dropping it cancels every started attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{race_ok, RaceOk};
    ///
    /// let ex = Arc::new(Executor::new());
    /// let race: RaceOk<'_, _, u8, String> =
    ///     race_ok(&ex, Vec::<std::future::Ready<Result<u8, String>>>::new(), Duration::ZERO);
    /// let err = futures_lite::future::block_on(ex.run(race)).unwrap_err();
    /// assert_eq!(err.to_string(), "race_ok: no attempt was made");
    /// ```
    #[must_use = "a race does nothing unless awaited"]
    #[project = RaceOkProj]
    pub struct RaceOk<'ex, I, T, E, X: ExecutorKind = ExecutorRef<'ex>> {
        // The executor, until the first poll opens the set.
        executor: Option<X>,
        // The attempts' set, from the first poll until the race ends.
        set: Option<NurserySet<'ex, T, E, X>>,
        // The attempts not taken yet; `None` once exhausted or won.
        attempts: Option<I>,
        // How long to wait after a start before starting the next attempt.
        stagger: Duration,
        // Fires when the next attempt is due; `None` when none will be started on time.
        timer: Option<Timer>,
        // The errors of the attempts that failed, in order.
        errors: Vec<E>,
        // The first success, held until every started attempt has finished.
        winner: Option<T>,
        // How many attempts were started.
        started: usize,
        // Where `race_ok` was called: the start site of every attempt.
        site: &'static Location<'static>,
        // The span current at the `race_ok` call, the parent of every attempt's span.
        parent: Parent,
    }
}

impl<'ex, I, T, E, X: ExecutorKind> RaceOk<'ex, I, T, E, X> {
    /// A race of `attempts` on `executor`, not started yet.
    #[track_caller]
    fn new(executor: X, attempts: I, stagger: Duration) -> Self {
        RaceOk {
            executor: Some(executor),
            set: None,
            attempts: Some(attempts),
            stagger,
            timer: None,
            errors: Vec::new(),
            winner: None,
            started: 0,
            site: Location::caller(),
            parent: Parent::current(),
        }
    }
}

impl<'ex, I, T, E, X: ExecutorKind> RaceOk<'ex, I, T, E, X> {
    /// What `poll` does, for any executor kind.
    fn poll_race<F>(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, NurseryError<E>>>
    where
        I: Iterator<Item = F>,
        F: Future<Output = Result<T, E>> + 'ex,
        T: 'ex,
        E: 'ex,
        X: SpawnChild<'ex, SetChild<F, T, E, X>, Delivers> + 'ex,
    {
        let mut this = self.project();
        if this.set.is_none() {
            let executor = this
                .executor
                .take()
                .expect("`RaceOk` polled after completion");
            *this.set = Some(NurserySet::with_policy(executor, Policy::default()));
            start_next(&mut this);
        }
        loop {
            let set = this.set.as_mut().expect("`RaceOk` polled after completion");
            match set.poll_result(cx) {
                Poll::Ready(Some(Ok(value))) => {
                    if this.winner.is_none() {
                        // The first success: nothing more is taken, the rest is cancelled.
                        *this.winner = Some(value);
                        *this.attempts = None;
                        *this.timer = None;
                        set.cancel();
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    if this.winner.is_none() {
                        this.errors.push(error);
                        start_next(&mut this);
                    }
                }
                Poll::Ready(None) => {
                    if this.winner.is_none() && start_next(&mut this) {
                        continue;
                    }
                    // Every started attempt has finished.
                    *this.set = None;
                    if let Some(value) = this.winner.take() {
                        return Poll::Ready(Ok(value));
                    }
                    if *this.started == 0 {
                        return Poll::Ready(Err(NurseryError::noted(
                            "race_ok: no attempt was made",
                            false,
                        )));
                    }
                    let errors = std::mem::take(this.errors);
                    let sites = vec![*this.site; errors.len()];
                    return Poll::Ready(Err(NurseryError::new(errors, sites, None)));
                }
                Poll::Pending => {
                    let due = match this.timer.as_mut() {
                        Some(timer) => Pin::new(timer).poll(cx).is_ready(),
                        None => false,
                    };
                    if !due {
                        return Poll::Pending;
                    }
                    start_next(&mut this);
                }
            }
        }
    }
}

/// Takes the next attempt and starts it (every remaining one with a zero stagger), and arms
/// the stagger timer; returns `false` if no attempt was left.
fn start_next<'ex, I, F, T, E, X>(this: &mut RaceOkProj<'_, 'ex, I, T, E, X>) -> bool
where
    I: Iterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'ex,
    T: 'ex,
    E: 'ex,
    X: ExecutorKind + SpawnChild<'ex, SetChild<F, T, E, X>, Delivers> + 'ex,
{
    let mut any = false;
    loop {
        let Some(attempt) = this.attempts.as_mut().and_then(Iterator::next) else {
            *this.attempts = None;
            *this.timer = None;
            return any;
        };
        let set = this
            .set
            .as_ref()
            .expect("the set is open while attempts start");
        this.parent.in_span(|| set.start_child(attempt, this.site));
        *this.started += 1;
        any = true;
        if !this.stagger.is_zero() {
            *this.timer = Instant::now().checked_add(*this.stagger).map(Timer::at);
            return true;
        }
    }
}

impl<'ex, I, F, T, E> Future for RaceOk<'ex, I, T, E>
where
    I: Iterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'ex,
    T: Send + 'ex,
    E: Send + 'ex,
{
    type Output = Result<T, NurseryError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_race(cx)
    }
}

impl<'ex, I, F, T, E> Future for RaceOk<'ex, I, T, E, LocalExecutorRef<'ex>>
where
    I: Iterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'ex,
    T: 'ex,
    E: 'ex,
{
    type Output = Result<T, NurseryError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_race(cx)
    }
}

impl<I, T, E, X: ExecutorKind> fmt::Debug for RaceOk<'_, I, T, E, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceOk")
            .field("started", &self.started)
            .field("failed", &self.errors.len())
            .field("won", &self.winner.is_some())
            .finish()
    }
}
