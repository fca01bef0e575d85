//! Structured concurrency for smol: nurseries.
//!
//! A [`Nursery`] starts child tasks on an [`async_executor::Executor`] and waits for all of
//! them at [`join`](Nursery::join). When one child fails (returns `Err` or panics), the nursery
//! cancels the others at once, and `join` reports every error. A child wrapped in [`shield`] is
//! never cancelled by the nursery, while `join` still waits for it: the payment that must
//! finish although the SMS sent beside it failed. No child outlives `join`.
//!
//! # Examples
//!
//! The two ways to give a nursery its executor come first. A `'static` executor:
//!
//! ```
//! use async_executor::Executor;
//! use smol_nursery::{shield, Nursery};
//!
//! static EX: Executor<'static> = Executor::new();
//!
//! futures_lite::future::block_on(EX.run(async {
//!     let nursery = Nursery::new(&EX);
//!     let payment = nursery.start_soon(shield(async { Ok::<_, String>("paid") }));
//!     nursery.start_soon(async { Err::<(), _>(String::from("SMS gateway down")) });
//!
//!     let err = nursery.join().await.unwrap_err();
//!     assert_eq!(err.errors(), ["SMS gateway down"]);
//!     assert_eq!(payment.await, Ok("paid"));
//! }));
//! ```
//!
//! Or an executor in an [`Arc`](std::sync::Arc), whose children may borrow anything declared
//! before it:
//!
//! ```
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let prices = vec![3, 4, 5];
//! let ex = Arc::new(Executor::new());
//!
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::<()>::new(&ex);
//!     let handles: Vec<_> = prices
//!         .iter()
//!         .map(|price| nursery.start_soon(async move { Ok(price * 2) }))
//!         .collect();
//!     nursery.join().await.unwrap();
//!
//!     let mut doubled = Vec::new();
//!     for handle in handles {
//!         doubled.push(handle.await.unwrap());
//!     }
//!     assert_eq!(doubled, [6, 8, 10]);
//! }));
//! ```
//!
//! A local `Executor` borrowed by reference is rejected at compile time: see [`ExecutorRef`].
//!
//! # The model
//!
//! *Structured concurrency* means that concurrent work has a scope, the way a block of code
//! has one: the nursery is opened, children are started in it, and the nursery does not end
//! until every child has. Errors flow up to the owner instead of vanishing in a detached task,
//! and nothing keeps running after the owner moved on. The model is Python's trio nurseries
//! (and asyncio's `TaskGroup`).
//!
//! - **Starting.** [`Nursery::start_soon`] schedules a child and returns a [`TaskHandle`]
//!   before the child runs. A child is a future returning `Result<T, E>`; its value comes back
//!   through the handle, its error goes to `join`. Children (or anyone else) start siblings
//!   through a [`NurseryHandle`].
//! - **Failing fast.** When a child returns `Err` or panics, the error is kept and the nursery
//!   is cancelled, whether or not the owner is awaiting `join` at that moment.
//! - **Cancelling** is cooperative and happens at await points: a cancelled child's future is
//!   dropped the next time the executor would poll it, so its destructors run, inside the
//!   nursery's wrapper where a panicking destructor is caught and counted as that child's
//!   panic. Code between two await points is never interrupted. A child that is cancelled
//!   before it first runs never runs at all. [`Nursery::cancel`] cancels on request, and is not
//!   an error; [`TaskHandle::cancel`] cancels one child.
//! - **Shielding.** [`shield`] protects one child from every cancellation of the nursery:
//!   sibling failure, `cancel`, deadline, and dropping the nursery. `join` still waits for it,
//!   and its own errors are reported. Only its own handle can cancel it.
//! - **Deadlines.** [`Nursery::cancel_after`] and [`Nursery::cancel_at`] arm an
//!   [`async_io::Timer`]; when it fires while a child is unfinished, the nursery is cancelled
//!   and `join` reports a timeout ([`NurseryError::is_timeout`]). A deadline that does not
//!   fire costs nothing: `join` returns as soon as the children are done.
//! - **Joining.** [`Nursery::join`] waits until every child has finished and its future has
//!   been dropped, then closes the nursery and returns `Ok(())`, or every error in the order
//!   they happened. If a child panicked, `join` resumes the first child's panic instead, with
//!   that child's own payload, so that `catch_unwind` or a test's `should_panic(expected)` sees
//!   the child's message. ([`std::thread::scope`] waits the same way, but then panics with a
//!   message of its own.)
//! - **Closing.** After `join` (or after the nursery is dropped), the nursery is closed:
//!   [`NurseryHandle::start_soon`] returns [`NurseryClosed`].
//!
//! # Dropping things
//!
//! - **The nursery, or the `join` future**, dropped before `join` finished (say, an outer
//!   timeout won a race against `join`): every non-shielded child is cancelled. Shielded
//!   children keep running on the executor, detached, to completion; their errors and panics
//!   then have nobody to go to and are dropped (a panic has already reached the panic hook).
//! - **A [`TaskHandle`]**: nothing happens to its child. This differs from async-executor's
//!   `Task`, which cancels its task when dropped.
//! - **The executor**: it drops every task, shielded or not. The nursery holds the executor
//!   weakly, so it does not keep it alive; its children count as cancelled, `join` resolves
//!   (run it with `futures_lite::future::block_on`), and children started afterwards are
//!   dropped without running. A destructor that panics while the executor drops it is caught
//!   and reported as that child's panic.
//!
//! # Threads
//!
//! `Nursery` and `NurseryHandle` are `Send + Sync`, and children are `Send`. The executor may
//! be run by any number of threads (`ex.run(...)` on each); children finish on any of them,
//! and a nursery may be cancelled or given children from threads outside the executor.
//!
//! # Compared with the alternatives
//!
//! | | nursery | raw `Task`s | `FuturesUnordered` | tokio's `JoinSet` |
//! |---|---|---|---|---|
//! | children run in parallel on the executor | yes | yes | no: polled inside one task | yes |
//! | a failure cancels the siblings | yes, at once | by hand | by hand | by hand (`abort_all`) |
//! | every error reported in one place | yes, at `join` | by hand | by hand | one at a time from `join_next` |
//! | a child that must not be cancelled | [`shield`] | detach it, and lose track of it | no | spawn it elsewhere |
//! | dropping the owner | cancels, except shielded children | cancels each dropped `Task` | drops every future | aborts every task |
//! | dropping one child's handle | nothing | cancels the task | not applicable | nothing (detaches) |
//! | a panicking destructor during cancellation | that child's panic | aborts the process | unwinds the owner | caught by the runtime |
//! | memory | a few words per *unfinished* child, freed as each finishes | one per `Task` held | one per future | one per task until joined |
//!
//! Raw [`async_executor::Task`]s give the same parallelism, but each one has to be awaited or
//! cancelled by hand, and a `Task` dropped on an error path silently cancels its work.
//! `FuturesUnordered` (from the `futures` crate) runs all its futures inside the one task that
//! polls it, so they never run in parallel and stop when that task stops polling. tokio's
//! `JoinSet` is the closest relative: it aborts its tasks when dropped and hands results out
//! one by one; the nursery adds fail-fast cancellation, shields, deadlines, and a single place
//! where every error and the first panic arrive, on smol's executor.
//!
//! # Guarantees
//!
//! Each guarantee below is checked by the named test (in `tests/`), and all of them at once by
//! `tests/stress.rs::random_trees_keep_every_guarantee`, which runs random trees of children
//! (failing, panicking, sleeping, shielded, cancelling each other, nesting nurseries, under
//! deadlines, foreign cancels and mid-way drops) on executors run by 1, 2 and 4 threads.
//! CI also runs the test suite under Miri, which reports leaked tasks and `Arc` cycles.
//!
//! - When `join` returns, every child's future has been dropped:
//!   `join.rs::every_child_future_is_dropped_before_join_returns`.
//! - No child code runs after `join` returns: `join.rs::no_child_code_runs_after_join`.
//! - A failure cancels the non-shielded siblings at once, even while the owner is not in
//!   `join`: `fail_fast.rs::cancellation_happens_even_when_the_owner_is_not_in_join`.
//! - Every `Err` a child returned is reported once, in order, shielded and late ones included:
//!   `errors.rs::every_error_is_reported_in_order_including_shielded_and_late_ones`.
//! - `join` resumes the first panic only after every child has finished:
//!   `panics.rs::join_resumes_the_first_panic_after_every_child_finished`.
//! - A destructor that panics while its child is cancelled or dropped is that child's panic,
//!   never an abort: `panics.rs::a_destructor_panic_during_cancellation_is_that_childs_panic`,
//!   `panics.rs::a_destructor_panic_while_the_executor_is_dropped_does_not_abort`,
//!   `panics.rs::a_panicking_value_whose_handle_was_dropped_does_not_abort`.
//! - The nursery never cancels a shielded child, and `join` waits for it:
//!   `shield.rs::a_shielded_child_survives_a_sibling_failure`,
//!   `shield.rs::a_shielded_child_survives_explicit_cancel`,
//!   `shield.rs::a_shielded_child_survives_the_deadline`.
//! - Dropping the nursery or its `join` future cancels the non-shielded children, and shielded
//!   ones finish: `dropping.rs::dropping_the_join_future_when_a_timeout_wins_the_race`,
//!   `faults.rs::join_dropped_at_every_await_point`.
//! - Dropping the executor drops every child; `join` and the handles still resolve:
//!   `dropping.rs::dropping_the_executor_drops_every_child_and_join_resolves`.
//! - A child started concurrently with `join` is either awaited by it or refused with
//!   `NurseryClosed`, never lost: `closed.rs::start_soon_racing_join_is_accepted_or_refused_never_lost`.
//! - Deadlines never panic, whatever the duration, and `join` never waits for a timer that has
//!   not fired: `deadlines.rs::duration_max_means_no_deadline`,
//!   `deadlines.rs::a_deadline_that_does_not_fire_costs_nothing_at_join`.
//! - Every handle is finished once `join` has returned:
//!   `handles.rs::every_handle_is_finished_once_join_returned`.
//! - Destructors may call `cancel` and `start_soon` on their own nursery without deadlock:
//!   `faults.rs::destructors_that_call_cancel_and_start_soon_do_not_deadlock`.
//! - A user's panic never leaves a lock poisoned or the nursery unusable:
//!   `faults.rs::a_user_panic_never_leaves_the_nursery_unusable`.
//! - Memory follows the peak number of unfinished children, not the total:
//!   `memory.rs::memory_follows_the_peak_not_the_total`.
//!
//! # Choices this crate makes
//!
//! - A child cancelled before its first poll never runs (asyncio's `TaskGroup` does the
//!   same; trio would run it until its first checkpoint).
//! - A deadline that fires while no child is unfinished still cancels the nursery; `join`
//!   reports a timeout only if a child was unfinished when it fired, or was started after.
//! - `NurseryError` keeps errors in the order they happened; `join` resumes only the first
//!   panic and drops the other ones.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(rust_2018_idioms, warnings))))]

mod builder;
mod child;
mod clock;
mod core;
mod error;
mod executor;
mod grace;
mod handle;
mod limit;
mod nursery;
mod registry;
mod scope;
mod shared;
mod shield;
mod slot;
mod snapshot;
mod spawn;
mod start;
mod task;
mod tree;

pub use crate::builder::NurseryBuilder;
pub use crate::core::Cancelled;
pub use crate::error::{NurseryClosed, NurseryError, TaskError};
pub use crate::executor::{ExecutorRef, IntoExecutor};
pub use crate::handle::NurseryHandle;
pub use crate::nursery::Nursery;
pub use crate::scope::{scope, Scope};
pub use crate::shield::{shield, IntoChild, Shielded};
pub use crate::slot::{Reserve, Slot};
pub use crate::snapshot::{CancelCause, ChildSnapshot, Snapshot};
pub use crate::start::{Ready, Start, StartError};
pub use crate::task::TaskHandle;
