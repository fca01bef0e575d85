//! Snapshots of a nursery tree: what is still running, and where it was started.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// Why a nursery was cancelled, as a [`Snapshot`] reports it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use async_executor::Executor;
/// use smol_nursery::{CancelCause, Nursery};
///
/// let ex = Arc::new(Executor::new());
/// let nursery = Nursery::<()>::new(&ex);
/// let handle = nursery.handle();
/// drop(nursery);
/// assert_eq!(handle.snapshot().cancelled(), Some(CancelCause::Dropped));
/// assert_eq!(CancelCause::Dropped.to_string(), "the nursery was dropped");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelCause {
    /// `cancel()` was called on the nursery or one of its handles.
    Explicit,
    /// A child (or a scope's body) returned `Err` or panicked.
    Failure,
    /// The deadline passed.
    Deadline,
    /// The nursery, or its `join` future, was dropped before `join` finished.
    Dropped,
}

impl fmt::Display for CancelCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelCause::Explicit => "cancel() was called",
            CancelCause::Failure => "a child failed",
            CancelCause::Deadline => "the deadline passed",
            CancelCause::Dropped => "the nursery was dropped",
        })
    }
}

/// The state of a nursery and of the nurseries opened inside its children, each copied at
/// one moment: what [`Nursery::snapshot`](crate::Nursery::snapshot) returns.
///
/// It lists the nursery's unfinished children that have been polled (each with where it was
/// started, whether it is shielded or in its grace period, whether it is being cancelled, and
/// for about how long it has run), and summarizes by count those not yet polled, waiting for
/// admission under a limit, or being cancelled, and reserved slots. Nurseries opened inside a
/// child appear under that child; nurseries adopted after they were dropped appear under the
/// adopter, marked as adopted.
///
/// `Display` renders the tree, indented, one line per nursery and per listed child: what a
/// service prints when asked "what is still running?".
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use async_executor::Executor;
/// use smol_nursery::{shield, Nursery};
///
/// let ex = Arc::new(Executor::new());
/// futures_lite::future::block_on(ex.run(async {
///     let nursery = Nursery::<()>::new(&ex);
///     nursery.start_soon(shield(async {
///         async_io::Timer::after(Duration::from_millis(50)).await;
///         Ok(())
///     }));
///     async_io::Timer::after(Duration::from_millis(5)).await;
///
///     let snapshot = nursery.snapshot();
///     assert_eq!(snapshot.len(), 1);
///     assert!(snapshot.children()[0].is_shielded());
///     println!("{snapshot}");
///     nursery.join().await.unwrap();
/// }));
/// ```
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Why the nursery was cancelled, if it was.
    pub(crate) cancelled: Option<CancelCause>,
    /// How long until the armed deadline, if one is armed.
    pub(crate) deadline: Option<Duration>,
    /// The nursery's limit.
    pub(crate) limit: Option<usize>,
    /// `join` returned.
    pub(crate) joined: bool,
    /// The nursery was adopted by the one whose snapshot lists it.
    pub(crate) adopted: bool,
    /// The unfinished children (`len()`).
    pub(crate) unfinished: usize,
    /// For a set: the results that wait unread (0 for a nursery).
    pub(crate) unread: usize,
    /// The unfinished children that have been polled, by id.
    pub(crate) children: Vec<ChildSnapshot>,
    /// Nurseries adopted, and nurseries opened in a child that is not listed.
    pub(crate) nurseries: Vec<Snapshot>,
}

/// One unfinished child in a [`Snapshot`].
#[derive(Clone, Debug)]
pub struct ChildSnapshot {
    /// The child's id: its rank among the nursery's children, in start order.
    pub(crate) id: u64,
    /// Where it was started.
    pub(crate) location: &'static Location<'static>,
    /// It is shielded.
    pub(crate) shielded: bool,
    /// It is shielded with a grace period, and its nursery was cancelled.
    pub(crate) in_grace: bool,
    /// Its handle cancelled it and it has not stopped yet.
    pub(crate) cancelling: bool,
    /// About how long since it first waited; `None` if that was before its nursery was first
    /// asked for a snapshot.
    pub(crate) running_for: Option<Duration>,
    /// The nurseries opened inside it.
    pub(crate) nurseries: Vec<Snapshot>,
}

impl Snapshot {
    /// Why the nursery was cancelled, if it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::{CancelCause, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = Nursery::<()>::new(&ex);
    /// assert_eq!(nursery.snapshot().cancelled(), None);
    /// nursery.cancel();
    /// assert_eq!(nursery.snapshot().cancelled(), Some(CancelCause::Explicit));
    /// ```
    pub fn cancelled(&self) -> Option<CancelCause> {
        self.cancelled
    }

    /// How long until the nursery's deadline, if one is armed.
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
    /// let nursery = Nursery::<()>::new(&ex);
    /// nursery.cancel_after(Duration::from_secs(60));
    /// assert!(nursery.snapshot().deadline().unwrap() > Duration::from_secs(50));
    /// ```
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The nursery's [`limit`](crate::NurseryBuilder::limit), if it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurseryBuilder;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let nursery = NurseryBuilder::new().limit(8).build::<()>(&ex);
    /// assert_eq!(nursery.snapshot().limit(), Some(8));
    /// ```
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// Whether `join` has returned: a joined nursery shows no children.
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
    /// futures_lite::future::block_on(ex.run(nursery.join())).unwrap();
    /// assert!(handle.snapshot().is_joined());
    /// ```
    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// Whether this nursery was dropped before its `join` finished and adopted by the nursery
    /// whose snapshot lists it.
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
    /// assert!(!nursery.snapshot().is_adopted());
    /// ```
    pub fn is_adopted(&self) -> bool {
        self.adopted
    }

    /// The number of unfinished children, listed or not (as `len()` says).
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
    /// nursery.start_soon(async { Ok(()) });
    /// assert_eq!(nursery.snapshot().len(), 1);
    /// assert!(nursery.snapshot().children().is_empty(), "not polled yet");
    /// ```
    pub fn len(&self) -> usize {
        self.unfinished
    }

    /// Whether no child is unfinished.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::Nursery;
    ///
    /// let ex = Arc::new(Executor::new());
    /// assert!(Nursery::<()>::new(&ex).snapshot().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.unfinished == 0
    }

    /// For a [`NurserySet`](crate::NurserySet): how many results of its children wait unread
    /// (they count in [`len`](crate::NurserySet::len) too, not in this snapshot's
    /// [`len`](Snapshot::len)). Always 0 for a nursery.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use async_executor::Executor;
    /// use smol_nursery::NurserySet;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let set = NurserySet::<u32, ()>::new(&ex);
    /// set.start_soon(async { Ok(1) });
    /// while ex.try_tick() {}
    /// assert_eq!(set.snapshot().unread(), 1);
    /// assert_eq!(set.snapshot().len(), 0, "the child itself has finished");
    /// ```
    pub fn unread(&self) -> usize {
        self.unread
    }

    /// The unfinished children that have been polled, in start order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert_eq!(snapshot.children().len(), 1);
    ///     let _ = child;
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn children(&self) -> &[ChildSnapshot] {
        &self.children
    }

    /// The nurseries this one adopted, and nurseries opened inside children that are not
    /// listed (not polled yet, or being cancelled). Nurseries opened inside a listed child are
    /// under [`ChildSnapshot::nurseries`].
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
    /// assert!(nursery.snapshot().nurseries().is_empty());
    /// ```
    pub fn nurseries(&self) -> &[Snapshot] {
        &self.nurseries
    }
}

impl ChildSnapshot {
    /// The child's id: its rank among its nursery's children, in start order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert_eq!(child.id(), 0, "the first child started");
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where the child was started: the `start_soon`, `start`, `Slot::start_soon` or `scope`
    /// call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert_eq!(child.location().file(), file!());
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether the child is shielded (with or without a grace period).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert!(child.is_shielded());
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn is_shielded(&self) -> bool {
        self.shielded
    }

    /// Whether the child is shielded with a grace period and its nursery was cancelled: it is
    /// counting down its grace.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert!(!child.is_in_grace(), "shielded without a grace period");
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn is_in_grace(&self) -> bool {
        self.in_grace
    }

    /// Whether the child's handle cancelled it and it has not stopped yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert!(!child.is_cancelling());
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn is_cancelling(&self) -> bool {
        self.cancelling
    }

    /// About how long since the child first waited (returned `Pending`), to the millisecond.
    ///
    /// `None` if it was already waiting when its nursery was first asked for a snapshot: a
    /// nursery reads the clock for its children only from its first snapshot on (its nested
    /// nurseries too), so that a nursery nobody inspects pays nothing for it.
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
    ///     let _ = nursery.snapshot(); // the nursery keeps time from now on
    ///     nursery.start_soon(async {
    ///         async_io::Timer::after(Duration::from_millis(50)).await;
    ///         Ok(())
    ///     });
    ///     async_io::Timer::after(Duration::from_millis(20)).await;
    ///     let age = nursery.snapshot().children()[0].running_for().unwrap();
    ///     assert!(age >= Duration::from_millis(10));
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn running_for(&self) -> Option<Duration> {
        self.running_for
    }

    /// The nurseries opened inside this child.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_executor::Executor;
    /// use smol_nursery::{shield, Nursery};
    ///
    /// let ex = Arc::new(Executor::new());
    /// futures_lite::future::block_on(ex.run(async {
    ///     let nursery = Nursery::<()>::new(&ex);
    ///     let _ = nursery.snapshot(); // from now on, children's waits are timed
    ///     nursery.start_soon(shield(async {
    ///         async_io::Timer::after(Duration::from_millis(30)).await;
    ///         Ok(())
    ///     }));
    ///     async_io::Timer::after(Duration::from_millis(10)).await;
    ///     let snapshot = nursery.snapshot();
    ///     let child = &snapshot.children()[0];
    ///     assert!(child.nurseries().is_empty(), "it opened no nursery");
    ///     nursery.join().await.unwrap();
    /// }));
    /// ```
    pub fn nurseries(&self) -> &[Snapshot] {
        &self.nurseries
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, 0)
    }
}

impl Snapshot {
    /// Writes this nursery's line, its children's and its nested nurseries', indented by
    /// `depth` levels.
    fn render(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        write!(f, "{pad}nursery")?;
        if self.adopted {
            f.write_str(" (adopted)")?;
        }
        if self.joined {
            return writeln!(f, ": joined");
        }
        write!(f, ": {} unfinished", self.unfinished)?;
        if self.unread > 0 {
            write!(f, ", {} results unread", self.unread)?;
        }
        if let Some(cause) = self.cancelled {
            write!(f, ", cancelled ({cause})")?;
        }
        if let Some(left) = self.deadline {
            write!(f, ", deadline in {left:.1?}")?;
        }
        if let Some(limit) = self.limit {
            write!(f, ", limit {limit}")?;
        }
        writeln!(f)?;
        for child in &self.children {
            write!(f, "{pad}  #{} {}", child.id, child.location)?;
            if child.in_grace {
                f.write_str(" shielded (in its grace period)")?;
            } else if child.shielded {
                f.write_str(" shielded")?;
            }
            let state = if child.cancelling {
                "cancelling"
            } else {
                "running"
            };
            match child.running_for {
                Some(age) => writeln!(f, ", {state} for {age:.1?}")?,
                None => writeln!(f, ", {state} since before the first snapshot")?,
            }
            for nursery in &child.nurseries {
                nursery.render(f, depth + 2)?;
            }
        }
        let unlisted = self.unfinished.saturating_sub(self.children.len());
        if unlisted > 0 {
            writeln!(
                f,
                "{pad}  and {unlisted} not listed (not polled yet, waiting for room, being cancelled, or reserved slots)"
            )?;
        }
        for nursery in &self.nurseries {
            nursery.render(f, depth + 1)?;
        }
        Ok(())
    }
}
