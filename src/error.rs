//! The errors a nursery reports.

use std::error::Error;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// How a child ended, when it did not return `Ok`: what awaiting its [`TaskHandle`] yields.
///
/// The error value or panic payload itself is not here: it goes to [`Nursery::join`], which
/// reports every error of every child in one place.
///
/// [`TaskHandle`]: crate::TaskHandle
/// [`Nursery::join`]: crate::Nursery::join
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
///     let nursery = Nursery::new(&ex);
///     let failing = nursery.start_soon(async { Err::<(), _>("no route to host") });
///     assert_eq!(failing.await, Err(TaskError::Failed));
///
///     let err = nursery.join().await.unwrap_err();
///     assert_eq!(err.errors(), &["no route to host"]);
/// }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskError {
    /// The child was cancelled (by the nursery, its deadline, or its handle) and its future
    /// was dropped before it returned; or the executor was dropped before it finished.
    Cancelled,
    /// The child returned `Err`; the error went to [`Nursery::join`](crate::Nursery::join).
    Failed,
    /// The child panicked, or its future panicked while being dropped; the first panic of a
    /// nursery is resumed by [`Nursery::join`](crate::Nursery::join).
    Panicked,
}

impl TaskError {
    /// Returns `true` if the child was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use smol_nursery::TaskError;
    ///
    /// assert!(TaskError::Cancelled.is_cancelled());
    /// assert!(!TaskError::Failed.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        *self == TaskError::Cancelled
    }

    /// Returns `true` if the child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use smol_nursery::TaskError;
    ///
    /// assert!(TaskError::Panicked.is_panic());
    /// assert!(!TaskError::Cancelled.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        *self == TaskError::Panicked
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskError::Cancelled => "task was cancelled",
            TaskError::Failed => "task returned an error",
            TaskError::Panicked => "task panicked",
        })
    }
}

impl Error for TaskError {}

/// The error [`NurseryHandle::start_soon`](crate::NurseryHandle::start_soon) returns once the
/// nursery is closed: `join` has returned, or the [`Nursery`](crate::Nursery) was dropped.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{Nursery, NurseryClosed};
///
/// let ex = Arc::new(Executor::new());
/// let nursery = Nursery::<()>::new(&ex);
/// let handle = nursery.handle();
/// futures_lite::future::block_on(ex.run(nursery.join())).unwrap();
///
/// let late = handle.start_soon(async { Ok(()) });
/// assert_eq!(late.unwrap_err(), NurseryClosed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NurseryClosed;

impl fmt::Display for NurseryClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("starting a task in a closed nursery")
    }
}

impl Error for NurseryClosed {}

/// Why [`Nursery::join`](crate::Nursery::join) failed: every error the children returned, in
/// the order they happened, and whether the deadline passed.
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
///     nursery.start_soon(async { Err::<(), _>("disk full") });
///
///     let err = nursery.join().await.unwrap_err();
///     assert_eq!(err.errors(), &["disk full"]);
///     assert!(!err.is_timeout());
///     assert_eq!(err.to_string(), "1 task failed: disk full");
/// }));
/// ```
#[derive(Clone)]
pub struct NurseryError<E> {
    /// Every `Err` returned by a child, in the order they happened.
    errors: Vec<E>,
    /// The start site of the child that returned each error, in the same order.
    sites: Vec<&'static Location<'static>>,
    /// The deadline's budget, if the deadline passed while a child was unfinished.
    timeout: Option<Duration>,
    /// A scope's body was cancelled by `cancel()` before it returned, and nothing failed; or
    /// a child started with `start` was cancelled before it was ready.
    cancelled: bool,
    /// What the error says when it holds no error: why a child started with `start` never
    /// became ready (a [`StartError`](crate::StartError) other than `Failed`), or that a
    /// [`race_ok`](crate::race_ok) had no attempt to make.
    note: Option<&'static str>,
}

impl<E> NurseryError<E> {
    /// Builds the error; `join` never builds one with no errors and no timeout.
    pub(crate) fn new(
        errors: Vec<E>,
        sites: Vec<&'static Location<'static>>,
        timeout: Option<Duration>,
    ) -> Self {
        debug_assert_eq!(errors.len(), sites.len());
        NurseryError {
            errors,
            sites,
            timeout,
            cancelled: false,
            note: None,
        }
    }

    /// The error of a scope whose body was cancelled with no error and no timeout.
    pub(crate) fn cancelled() -> Self {
        NurseryError {
            errors: Vec::new(),
            sites: Vec::new(),
            timeout: None,
            cancelled: true,
            note: None,
        }
    }

    /// An error that holds no error and says `why`: a child started with `start` that never
    /// became ready without failing, or a race with no attempt.
    pub(crate) fn noted(why: &'static str, cancelled: bool) -> Self {
        NurseryError {
            errors: Vec::new(),
            sites: Vec::new(),
            timeout: None,
            cancelled,
            note: Some(why),
        }
    }

    /// Returns `true` if this is a [`scope`](crate::scope) whose body was cancelled by
    /// `cancel()` before it returned, while no child failed and no deadline passed, or the
    /// conversion of a [`StartError::Cancelled`](crate::StartError::Cancelled). Always `false`
    /// for [`Nursery::join`](crate::Nursery::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::scope;
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let result = scope(&ex, |n| async move {
    ///         n.cancel();
    ///         futures_lite::future::yield_now().await; // the body is dropped here
    ///         Ok::<_, String>("unreachable")
    ///     })
    ///     .await;
    ///     let err = result.unwrap_err();
    ///     assert!(err.is_cancelled());
    ///     assert_eq!(err.to_string(), "the scope was cancelled before its body finished");
    /// }));
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// The errors the children returned, in the order they happened.
    ///
    /// Empty when the nursery failed only because its deadline passed.
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
    ///     // A shielded child is not cancelled by its sibling's failure, and its own error is
    ///     // reported too.
    ///     nursery.start_soon(smol_nursery::shield(async {
    ///         async_io::Timer::after(std::time::Duration::from_millis(10)).await;
    ///         Err::<(), _>("second")
    ///     }));
    ///     nursery.start_soon(async { Err::<(), _>("first") });
    ///
    ///     let err = nursery.join().await.unwrap_err();
    ///     assert_eq!(err.errors(), &["first", "second"]);
    /// }));
    /// ```
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// Returns each error with where the child that returned it was started: the
    /// `#[track_caller]` location of its `start_soon` (or `start`, `Slot::start_soon`,
    /// `scope` for a scope's body, the `race_ok` call for every attempt of a race), in the
    /// order of [`errors`](NurseryError::errors), with the same length.
    ///
    /// The sites are kept only for errors: a child that does not fail costs nothing more.
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
    ///     let line = line!() + 1;
    ///     nursery.start_soon(async { Err::<(), _>("connection refused") });
    ///
    ///     let err = nursery.join().await.unwrap_err();
    ///     for (error, site) in err.origins() {
    ///         println!("{site}: {error}"); // src/main.rs:9:13: connection refused
    ///         assert_eq!(site.line(), line);
    ///     }
    ///     assert_eq!(err.origins().len(), err.errors().len());
    /// }));
    /// ```
    pub fn origins(
        &self,
    ) -> impl ExactSizeIterator<Item = (&E, &'static Location<'static>)> + DoubleEndedIterator + '_
    {
        self.errors.iter().zip(self.sites.iter().copied())
    }

    /// Takes the errors out, in the order they happened.
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
    ///     nursery.start_soon(async { Err::<(), _>(String::from("boom")) });
    ///
    ///     let errors: Vec<String> = nursery.join().await.unwrap_err().into_errors();
    ///     assert_eq!(errors, ["boom"]);
    /// }));
    /// ```
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }

    /// Returns `true` if the deadline set by [`cancel_after`] or [`cancel_at`] passed before
    /// every child had finished.
    ///
    /// [`cancel_after`]: crate::Nursery::cancel_after
    /// [`cancel_at`]: crate::Nursery::cancel_at
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
    ///
    ///     let err = nursery.join().await.unwrap_err();
    ///     assert!(err.is_timeout());
    ///     assert!(err.errors().is_empty());
    /// }));
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.timeout.is_some()
    }

    /// How far ahead the deadline was set, if it passed before every child had finished.
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
    ///     let nursery = Nursery::<String>::new(&ex);
    ///     nursery.cancel_after(Duration::from_millis(5));
    ///     nursery.start_soon(async {
    ///         async_io::Timer::after(Duration::from_secs(60)).await;
    ///         Ok(())
    ///     });
    ///
    ///     let err = nursery.join().await.unwrap_err();
    ///     assert_eq!(err.deadline(), Some(Duration::from_millis(5)));
    ///     assert_eq!(err.to_string(), "deadline of 5ms passed");
    /// }));
    /// ```
    pub fn deadline(&self) -> Option<Duration> {
        self.timeout
    }
}

/// Two errors are equal when they hold equal errors in the same order, the same timeout, and
/// say the same; where the errors came from is not compared.
impl<E: PartialEq> PartialEq for NurseryError<E> {
    fn eq(&self, other: &Self) -> bool {
        self.errors == other.errors
            && self.timeout == other.timeout
            && self.cancelled == other.cancelled
            && self.note == other.note
    }
}

impl<E: Eq> Eq for NurseryError<E> {}

impl<E: fmt::Debug> fmt::Debug for NurseryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("NurseryError");
        debug
            .field("errors", &self.errors)
            .field("timeout", &self.timeout);
        if self.cancelled {
            debug.field("cancelled", &true);
        }
        if let Some(why) = self.note {
            debug.field("note", &why);
        }
        debug.finish()
    }
}

impl<E: fmt::Display> fmt::Display for NurseryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = self.note {
            return f.write_str(why);
        }
        if self.cancelled {
            return f.write_str("the scope was cancelled before its body finished");
        }
        if let Some(budget) = self.timeout {
            write!(f, "deadline of {budget:?} passed")?;
            if !self.errors.is_empty() {
                f.write_str(", and ")?;
            }
        }
        match self.errors.len() {
            0 => Ok(()),
            n => {
                let tasks = if n == 1 { "task" } else { "tasks" };
                write!(f, "{n} {tasks} failed")?;
                for (i, error) in self.errors.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    write!(f, "{error}")?;
                }
                Ok(())
            }
        }
    }
}

/// Any error type that can be printed makes `NurseryError` an [`Error`], so that
/// `join().await?` works in a function returning `Box<dyn Error>` even when the children's
/// errors are `String`s or `&str`s.
impl<E: fmt::Debug + fmt::Display> Error for NurseryError<E> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_timeout_count_and_each_error() {
        let err = NurseryError::new(
            vec!["a", "b"],
            vec![Location::caller(); 2],
            Some(Duration::from_millis(1500)),
        );
        assert_eq!(
            err.to_string(),
            "deadline of 1.5s passed, and 2 tasks failed: a; b"
        );
        let err = NurseryError::new(vec!["a"], vec![Location::caller()], None);
        assert_eq!(err.to_string(), "1 task failed: a");
        let err = NurseryError::<&str>::new(vec![], vec![], Some(Duration::from_secs(2)));
        assert_eq!(err.to_string(), "deadline of 2s passed");
    }
}
