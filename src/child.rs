//! The wrapper that runs one child on the executor, and where a child's end is reported.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::core::{drop_quietly, Panic};
use crate::error::TaskError;
use crate::executor::ExecutorKind;
use crate::member::{Holds, Member};
use crate::registry::{Id, Site};
use crate::shared::{End, Shared};
use crate::task::Output;
use crate::trace::{Outcome as Traced, Trace};

/// Who hears of a child's end first: the task awaiting `start`, while the child has not said
/// it is ready. Whatever the starter does not take goes to the nursery.
pub(crate) trait Starter<E> {
    /// Whether there is a starter at all: an ordinary child's end is reported only if it
    /// failed, and costs nothing otherwise.
    const WATCHES: bool = true;

    /// Whether the child's own `Ok` is how it ended, for its span: not for a set's child, whose
    /// wrapper records its result's outcome itself.
    const RECORDS_OK: bool = true;

    /// Whether anyone will hold the child's `TaskHandle`: not for a set's child, whose result
    /// goes to the set. Without one, spawning builds no handle (no clone of the core, no
    /// admission under a limit) and detaches the executor's task at once.
    const HANDLED: bool = true;

    /// Takes `end` if the starter is still waiting for the child; hands it back otherwise.
    fn take_end(&self, end: End<E>) -> Option<End<E>>;
}

/// The starter of an ordinary child: there is none, every end goes to the nursery.
pub(crate) struct NoStarter;

impl<E> Starter<E> for NoStarter {
    const WATCHES: bool = false;

    #[inline]
    fn take_end(&self, end: End<E>) -> Option<End<E>> {
        Some(end)
    }
}

/// How the child's own future ended, before it is dropped.
enum Outcome<T, E> {
    /// It returned `Ok`.
    Returned(T),
    /// It returned `Err`.
    Failed(E),
    /// It panicked.
    Panicked(Panic),
    /// It was cancelled.
    Cancelled,
}

pin_project! {
    /// The future the executor runs for one child.
    ///
    /// It polls the child's future under `catch_unwind`, and when the child must stop, drops
    /// the child's future inside its own `poll`, also under `catch_unwind`. Every end goes
    /// through one path, [`end`]: the starter first, then the nursery. The nursery never
    /// cancels the executor's task itself: async-task drops a cancelled task's future inside
    /// an abort-on-panic guard, where a panicking destructor would abort the process.
    // pin-project-lite takes no doc comments on fields: each field's line says what it holds.
    #[project = ChildProj]
    pub(crate) struct Child<F, E, S, X>
    where
        S: Starter<E>,
        X: ExecutorKind,
    {
        // The child's future; `None` once it has been dropped.
        #[pin]
        future: Option<F>,
        // The nursery.
        shared: Arc<Shared<E, X>>,
        // Who hears of the child's end before the nursery.
        starter: S,
        // Its membership: id, registry key, shield, start site, and whether it finished.
        member: Member,
        // Its span (feature `tracing`; empty without it).
        trace: Trace,
    }

    impl<F, E, S, X> PinnedDrop for Child<F, E, S, X>
    where
        S: Starter<E>,
        X: ExecutorKind,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.member.is_finished() {
                return;
            }
            // The executor dropped this task before the child finished: the executor itself
            // is being dropped. This may run inside async-task's abort-on-panic guard, so a
            // panic of the child's destructor is caught and counted as the child's panic.
            let mut future = this.future;
            let panic = catch_unwind(AssertUnwindSafe(|| future.set(None))).err();
            let end = End { error: None, cancelled: panic.is_none(), panic };
            this.trace.ended(Some(if end.cancelled { Traced::Cancelled } else { Traced::Panicked }));
            report(this.shared, this.starter, this.member, end);
            this.member.finish(this.shared);
        }
    }
}

impl<F, E, S: Starter<E>, X: ExecutorKind> Child<F, E, S, X> {
    /// Wraps the child `id`, already counted as started, which holds a permit under a limit.
    pub(crate) fn new(
        future: F,
        shared: Arc<Shared<E, X>>,
        starter: S,
        id: Id,
        shielded: bool,
        site: Site,
    ) -> Self {
        let trace = Trace::child(site.location, shielded || site.graced);
        let member = Member::new(&shared.core, id, shielded, site, Holds::Permit);
        Child {
            future: Some(future),
            shared,
            starter,
            member,
            trace,
        }
    }
}

impl<F, T, E, S, X> Future for Child<F, E, S, X>
where
    F: Future<Output = Result<T, E>>,
    S: Starter<E>,
    X: ExecutorKind,
{
    type Output = Output<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output<T>> {
        let mut this = self.project();
        let core = &this.shared.core;

        // A cancelled child is dropped before it is polled again: at its next await point, or
        // before it ever runs.
        if this.member.stop_requested(core) {
            return Poll::Ready(end(this, Outcome::Cancelled));
        }

        let future = match this.future.as_mut().as_pin_mut() {
            Some(future) => future,
            // async-task never polls a task again once it returned `Ready`.
            None => return Poll::Pending,
        };
        // Nurseries created during this poll have this nursery as their parent.
        let polled = this.trace.in_span(|| {
            crate::core::enter(core, this.member.id(), || {
                catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
            })
        });
        let outcome = match polled {
            Ok(Poll::Pending) if this.member.register(core, cx.waker()) => return Poll::Pending,
            // Cancelled while it was being polled.
            Ok(Poll::Pending) => Outcome::Cancelled,
            Ok(Poll::Ready(Ok(value))) => Outcome::Returned(value),
            Ok(Poll::Ready(Err(error))) => Outcome::Failed(error),
            Err(panic) => Outcome::Panicked(panic),
        };
        Poll::Ready(end(this, outcome))
    }
}

/// The one way a child ends: drops its future (a panic there counts as the child's panic),
/// reports the end, counts the child as finished, and builds the output for its handle.
fn end<F, T, E, S, X>(mut this: ChildProj<'_, F, E, S, X>, outcome: Outcome<T, E>) -> Output<T>
where
    S: Starter<E>,
    X: ExecutorKind,
{
    let drop_panic = {
        let mut future = this.future.as_mut();
        catch_unwind(AssertUnwindSafe(|| future.set(None))).err()
    };
    let (mut result, mut end) = match outcome {
        // The common ends, which nobody but a starter needs to hear of, build nothing more.
        Outcome::Returned(value) if !S::WATCHES && drop_panic.is_none() => {
            return finish_quietly(this, Ok(value));
        }
        Outcome::Cancelled if !S::WATCHES && drop_panic.is_none() => {
            return finish_quietly(this, Err(TaskError::Cancelled));
        }
        Outcome::Returned(value) => (Ok(value), End::new()),
        Outcome::Failed(error) => (
            Err(TaskError::Failed),
            End {
                error: Some(error),
                ..End::new()
            },
        ),
        Outcome::Panicked(panic) => (
            Err(TaskError::Panicked),
            End {
                panic: Some(panic),
                ..End::new()
            },
        ),
        Outcome::Cancelled => (
            Err(TaskError::Cancelled),
            End {
                cancelled: true,
                ..End::new()
            },
        ),
    };
    if let Some(panic) = drop_panic {
        // A value is dropped with its `Output`, whose destructor cannot panic.
        drop(Output::new(std::mem::replace(
            &mut result,
            Err(TaskError::Panicked),
        )));
        match end.panic {
            Some(_) => drop_quietly(panic),
            None => end.panic = Some(panic),
        }
    }
    report(this.shared, this.starter, this.member, end);
    finish_quietly(this, result)
}

/// Counts the child, whose future is dropped, as finished, and builds its handle's output.
#[inline]
fn finish_quietly<F, T, E, S, X>(
    this: ChildProj<'_, F, E, S, X>,
    result: Result<T, TaskError>,
) -> Output<T>
where
    S: Starter<E>,
    X: ExecutorKind,
{
    let traced = match &result {
        // A set's child records its result's outcome itself.
        Ok(_) if !S::RECORDS_OK => None,
        Ok(_) => Some(Traced::Ok),
        Err(TaskError::Failed) => Some(Traced::Failed),
        Err(TaskError::Panicked) => Some(Traced::Panicked),
        Err(TaskError::Cancelled) => Some(Traced::Cancelled),
    };
    this.trace.ended(traced);
    this.member.finish(this.shared);
    Output::new(result)
}

/// Hands a child's end to its starter, or else to the nursery.
#[inline]
fn report<E, S, X>(shared: &Shared<E, X>, starter: &S, member: &Member, end: End<E>)
where
    S: Starter<E>,
    X: ExecutorKind,
{
    if !S::WATCHES && end.error.is_none() && end.panic.is_none() {
        // An ordinary child that returned or was cancelled: nobody needs to hear of it.
        return;
    }
    if let Some(end) = starter.take_end(end) {
        shared.fail(end, member.location());
    }
}
