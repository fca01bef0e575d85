//! Shielded children, and the trait that lets `start_soon` take a child either plain or shielded.

use std::fmt;
use std::future::Future;
use std::time::Duration;

/// Marks a child that the nursery must never cancel.
///
/// A shielded child is not cancelled when a sibling fails, when [`cancel`] is called, when the
/// deadline passes, or when the nursery is dropped; [`join`] still waits for it, and its own
/// `Err` or panic is reported like any other child's (and cancels its non-shielded siblings).
/// Only its own [`TaskHandle::cancel`] cancels it, because that names it explicitly. Dropping
/// the executor drops it like every other task.
///
/// A shield protects the child as a whole, for as long as it runs: a payment that must not be
/// cut in half although the SMS sent next to it failed. It does not protect anything the child
/// starts in other nurseries.
///
/// [`cancel`]: crate::Nursery::cancel
/// [`join`]: crate::Nursery::join
/// [`TaskHandle::cancel`]: crate::TaskHandle::cancel
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use async_executor::Executor;
/// use smol_nursery::{shield, Nursery, TaskError};
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::new(&ex);
///     let payment = nursery.start_soon(shield(async {
///         async_io::Timer::after(Duration::from_millis(20)).await;
///         Ok("paid")
///     }));
///     let sms = nursery.start_soon(async {
///         async_io::Timer::after(Duration::from_secs(60)).await;
///         Ok("sent")
///     });
///     nursery.start_soon(async { Err::<&str, _>("SMS gateway down") });
///
///     let err = nursery.join().await.unwrap_err();
///     assert_eq!(err.errors(), &["SMS gateway down"]);
///     assert_eq!(payment.await, Ok("paid"));
///     assert_eq!(sms.await, Err(TaskError::Cancelled));
/// }));
/// ```
pub fn shield<F>(future: F) -> Shielded<F>
where
    F: Future,
{
    Shielded {
        future,
        grace: None,
    }
}

/// A child that the nursery never cancels: what [`shield`] returns.
///
/// It is not a future itself; pass it to [`Nursery::start_soon`](crate::Nursery::start_soon)
/// or [`NurseryHandle::start_soon`](crate::NurseryHandle::start_soon).
#[must_use = "a shielded child does nothing until it is passed to `start_soon`"]
pub struct Shielded<F> {
    /// The child's future.
    future: F,
    /// How long the child may go on once its nursery is cancelled; `None`: for as long as it
    /// runs.
    grace: Option<Duration>,
}

impl<F> Shielded<F> {
    /// Returns the future without its shield.
    ///
    /// # Examples
    ///
    /// ```
    /// let shielded = smol_nursery::shield(async { Ok::<_, ()>(7) });
    /// let answer = futures_lite::future::block_on(shielded.into_inner());
    /// assert_eq!(answer, Ok(7));
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }

    /// Limits the shield to a grace period: the child is shielded until its nursery is
    /// cancelled (for any reason, dropping the nursery included), then has `grace` more to
    /// finish by itself. When `grace` has passed, it is cancelled like a child that was never
    /// shielded: its future is dropped at its next await point, and its handle yields
    /// `Err(TaskError::Cancelled)`, which is not an error at `join`.
    ///
    /// The grace is counted from the moment the child can first see the cancellation: when it
    /// happens, or at the child's first poll if the child was started after it. A child waiting
    /// for admission under a [`limit`](crate::NurseryBuilder::limit) counts its grace while it
    /// waits, so it may be cut before it ever runs. The timer is an [`async_io::Timer`], armed
    /// only once the nursery is cancelled, in the child's own task: it works for a child whose
    /// nursery was dropped too.
    ///
    /// `grace(Duration::ZERO)` makes an ordinary, non-shielded child; a duration too large for
    /// an `Instant` means no limit (a plain shield).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use async_io::Timer;
    /// use smol_nursery::{shield, Nursery, TaskError};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let quick = nursery.start_soon(shield(async {
    ///         Timer::after(Duration::from_millis(10)).await; // finishes inside its grace
    ///         Ok("request done")
    ///     }).grace(Duration::from_millis(200)));
    ///     let slow = nursery.start_soon(shield(async {
    ///         Timer::after(Duration::from_secs(60)).await; // cut when its grace is over
    ///         Ok("never")
    ///     }).grace(Duration::from_millis(50)));
    ///     nursery.cancel();
    ///     assert_eq!(nursery.join().await, Ok(()));
    ///     assert_eq!(quick.await, Ok("request done"));
    ///     assert_eq!(slow.await, Err(TaskError::Cancelled));
    /// }));
    /// ```
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }
}

impl<F> fmt::Debug for Shielded<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Shielded");
        if let Some(grace) = &self.grace {
            debug.field("grace", grace);
        }
        debug.finish_non_exhaustive()
    }
}

/// Something [`start_soon`](crate::Nursery::start_soon) accepts as a child: a future that
/// returns `Result<T, E>`, or such a future wrapped in [`shield`].
///
/// This trait is sealed: it is implemented for every `F: Future<Output = Result<T, E>>` and
/// for [`Shielded<F>`], and cannot be implemented elsewhere.
///
/// # Examples
///
/// ```
/// use smol_nursery::{shield, IntoChild};
///
/// fn takes_child<C: IntoChild<Output = u32, Error = String>>(_: C) {}
///
/// takes_child(async { Ok(1) });
/// takes_child(shield(async { Err(String::from("no")) }));
/// ```
pub trait IntoChild: sealed::Sealed {
    /// The value the child returns on success.
    type Output;
    /// The error the child returns on failure.
    type Error;
    /// The future the nursery runs.
    type Future: Future<Output = Result<Self::Output, Self::Error>>;

    /// Splits the child into its future and whether it is shielded.
    #[doc(hidden)]
    fn into_child(self) -> (Self::Future, bool);

    /// The child's grace period, if it is shielded with one.
    #[doc(hidden)]
    fn grace(&self) -> Option<Duration> {
        None
    }
}

impl<F, T, E> IntoChild for F
where
    F: Future<Output = Result<T, E>>,
{
    type Output = T;
    type Error = E;
    type Future = F;

    fn into_child(self) -> (F, bool) {
        (self, false)
    }
}

impl<F, T, E> IntoChild for Shielded<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = T;
    type Error = E;
    type Future = F;

    fn into_child(self) -> (F, bool) {
        (self.future, true)
    }

    fn grace(&self) -> Option<Duration> {
        self.grace
    }
}

pub(crate) use sealed::Sealed;

/// Keeps [`IntoChild`] closed to other implementations.
mod sealed {
    /// Implemented for every future and every [`Shielded`](super::Shielded) (and, inside the
    /// crate, for a set's wrapped child), so that no type outside this crate can implement
    /// `IntoChild`; `IntoChild` itself is implemented only for those that return a `Result`.
    pub trait Sealed {}

    impl<F: std::future::Future> Sealed for F {}
    impl<F> Sealed for super::Shielded<F> {}
}
