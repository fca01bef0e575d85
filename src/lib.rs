//! Structured concurrency for smol: nurseries.
//!
//! A [`Nursery`] starts child tasks on an [`async_executor::Executor`] and waits for all of
//! them at [`join`](Nursery::join). When one child fails (returns `Err` or panics), the nursery
//! cancels the others at once, and `join` reports every error. A child wrapped in [`shield`] is
//! never cancelled by the nursery, while `join` still waits for it: the payment that must
//! finish although the SMS sent beside it failed. No child outlives `join`.
//!
//! Around that core: [`scope`] runs a body that stops with its children;
//! [`start`](Nursery::start) waits until a child says it is ready (a server that is
//! listening); [`cancelled`](NurseryHandle::cancelled) tells a shielded child that the nursery
//! is winding down, so that it can stop at a point of its choosing.
//!
//! # Examples
//!
//! The two ways to give a nursery its executor come first. In both, `join` is awaited inside
//! `ex.run(...)`: `join` waits for the children but does not run them, so the executor must
//! be running while it waits (here on this thread; other threads running `ex.run` do as well).
//! A `'static` executor:
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
//! A local `Executor` borrowed by reference is rejected at compile time: see [`ExecutorRef`]
//! and [Common mistakes](#common-mistakes).
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
//!   through a [`NurseryHandle`]. [`Nursery::start`] starts a child and waits until it is
//!   ready (see [below](#starting-a-child-that-reports-readiness)).
//! - **Failing fast.** When a child returns `Err` or panics, the error is kept and the nursery
//!   is cancelled, whether or not the owner is awaiting `join` at that moment.
//! - **Cancelling** is cooperative and happens at await points: a cancelled child's future is
//!   dropped the next time the executor would poll it, so its destructors run, inside the
//!   nursery's wrapper where a panicking destructor is caught and counted as that child's
//!   panic. Code between two await points is never interrupted. A child that is cancelled
//!   before it first runs never runs at all. [`Nursery::cancel`] cancels on request, and is not
//!   an error; [`TaskHandle::cancel`] cancels one child. [`Nursery::cancelled`] and
//!   [`NurseryHandle::cancelled`] return a future that resolves once the nursery is cancelled.
//! - **Shielding.** [`shield`] protects one child from every cancellation of the nursery:
//!   sibling failure, `cancel`, deadline, and dropping the nursery. `join` still waits for it,
//!   and its own errors are reported. Only its own handle can cancel it.
//! - **Deadlines.** [`Nursery::cancel_after`] and [`Nursery::cancel_at`] (also on
//!   [`NurseryHandle`]) arm an [`async_io::Timer`]; when it fires while a child is unfinished,
//!   the nursery is cancelled and `join` reports a timeout ([`NurseryError::is_timeout`]). A
//!   deadline that does not fire costs nothing: `join` returns as soon as the children are
//!   done.
//! - **Joining.** [`Nursery::join`] waits until every child has finished and its future has
//!   been dropped, then closes the nursery and returns `Ok(())`, or every error in the order
//!   they happened. If a child panicked, `join` resumes the first child's panic instead, with
//!   that child's own payload, so that `catch_unwind` or a test's `should_panic(expected)` sees
//!   the child's message. ([`std::thread::scope`] waits the same way, but then panics with a
//!   message of its own.)
//! - **Closing.** After `join` (or after the nursery is dropped), the nursery is closed:
//!   [`NurseryHandle::start_soon`] returns [`NurseryClosed`].
//!
//! # Scopes
//!
//! [`scope`] opens a nursery, runs a body in it as its first child, and returns when the body
//! and every child have finished: `Ok` with the body's value, or the [`NurseryError`]. The
//! body gets a [`NurseryHandle`] to start children with. It is polled inside the task that
//! awaits the scope, never spawned, so it may borrow anything the caller can. It is not
//! shielded: when a child fails, the deadline passes or `cancel()` is called, the body's
//! future is dropped at its next await point, like any other child's.
//!
//! Which one to use:
//!
//! - `scope` when the code that starts the children must stop with them: a loop that hands
//!   out work, a request handler whose sub-requests failed. Nothing has to tell it to stop.
//! - `Nursery` and `join` when the owner must not be cancelled: a failure cancels the
//!   children, and the owner goes on by itself (it may log, clean up, or wait for
//!   [`cancelled`](Nursery::cancelled)) until it chooses to `join`.
//!
//! A body that feeds jobs to children is dropped at the await where the failure finds it:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use smol_nursery::scope;
//!
//! let ex = Arc::new(Executor::new());
//! let mut started = 0;
//!
//! futures_lite::future::block_on(ex.run(async {
//!     let started = &mut started; // the body borrows from the caller
//!     let result = scope(&ex, |n| async move {
//!         for job in 1..=100 {
//!             n.start_soon(async move {
//!                 if job == 3 {
//!                     return Err(format!("job {job} failed"));
//!                 }
//!                 Ok(())
//!             })
//!             .expect("open while the body runs");
//!             *started += 1;
//!             async_io::Timer::after(Duration::from_millis(5)).await; // job 3 fails here
//!         }
//!         Ok("all jobs started")
//!     })
//!     .await;
//!     assert_eq!(result.unwrap_err().errors(), ["job 3 failed"]);
//! }));
//! assert_eq!(started, 3);
//! ```
//!
//! An owner keeps running after the failure, and decides when to `join`:
//!
//! ```
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::new(&ex);
//!     nursery.start_soon(async { Err::<(), _>("disk full") });
//!
//!     nursery.cancelled().await; // the failure cancelled the children, not the owner
//!     let cleaned_up = true; // ... the owner's own work ...
//!
//!     assert_eq!(nursery.join().await.unwrap_err().errors(), ["disk full"]);
//!     assert!(cleaned_up);
//! }));
//! ```
//!
//! The order of precedence of a scope's results (panic, errors, cancelled, value) is
//! described at [`scope`]; [`NurseryError::is_cancelled`] tells a body cancelled by `cancel()`.
//!
//! # Starting a child that reports readiness
//!
//! [`Nursery::start`] (and [`NurseryHandle::start`]) is trio's `nursery.start`: it spawns a
//! child and waits until the child calls [`Ready::started`] with a value (the address it
//! listens on, the sender of the channel it serves), then returns that value and the child's
//! [`TaskHandle`]. Until then the child belongs to its starter: an error, a return without
//! `started`, or a cancellation comes back from `start` as a [`StartError`], a panic is
//! resumed in the starter, and the nursery records nothing. From `started` on, it is an
//! ordinary child. A service that cannot start is its starter's problem, which may retry; a
//! service that fails later fails the nursery. `examples/server.rs` starts a TCP server this
//! way.
//!
//! ```
//! use std::sync::Arc;
//! use async_channel::Sender;
//! use async_executor::Executor;
//! use smol_nursery::{Nursery, Ready, StartError};
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::<String>::new(&ex);
//!
//!     // A service that hands its starter the sender of its inbox once it is ready.
//!     let (inbox, adder) = nursery
//!         .start(|ready: Ready<Sender<u32>>| async move {
//!             let (sender, receiver) = async_channel::unbounded();
//!             ready.started(sender);
//!             let mut sum = 0;
//!             while let Ok(n) = receiver.recv().await {
//!                 sum += n;
//!             }
//!             Ok(sum)
//!         })
//!         .await
//!         .expect("the adder is ready");
//!     for n in 1..=4 {
//!         inbox.send(n).await.unwrap();
//!     }
//!     drop(inbox); // the adder's loop ends
//!
//!     // A child that fails before it is ready fails its `start`, not the nursery.
//!     let refused = nursery
//!         .start(|_ready: Ready<()>| async { Err::<(), _>(String::from("port in use")) })
//!         .await;
//!     assert_eq!(refused.unwrap_err(), StartError::Failed(String::from("port in use")));
//!
//!     assert_eq!(nursery.join().await, Ok(()));
//!     assert_eq!(adder.await, Ok(10));
//! }));
//! ```
//!
//! # Graceful wind-down
//!
//! [`shield`] keeps the nursery from cancelling a child; [`NurseryHandle::cancelled`] tells
//! the child that the nursery is being cancelled (for any reason, or closed), so that it can
//! stop by itself at a point of its choosing: between two requests, after flushing a buffer,
//! after saying goodbye to a client. A shielded child that races `cancelled()` against
//! waiting for its next piece of work (with [`futures_lite::FutureExt::or`], say) finishes
//! the piece it is on and returns, while its non-shielded siblings are dropped at once. `join`
//! waits for it. A shielded child that never looks at `cancelled()` runs to its end.
//! `examples/server.rs` stops an echo server this way.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use futures_lite::FutureExt;
//! use smol_nursery::{shield, Nursery, TaskError};
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::<()>::new(&ex);
//!     let (jobs, queue) = async_channel::unbounded::<u32>();
//!     let handle = nursery.handle();
//!     let worker = nursery.start_soon(shield(async move {
//!         let mut done = Vec::new();
//!         loop {
//!             // `or` prefers its first future: the jobs already queued are done before the
//!             // worker stops. Put `cancelled()` first to stop as soon as possible instead.
//!             let next = async { queue.recv().await.ok() }.or(async {
//!                 handle.cancelled().await;
//!                 None
//!             });
//!             let Some(job) = next.await else { break };
//!             async_io::Timer::after(Duration::from_millis(5)).await; // shielded: never cut
//!             done.push(job);
//!         }
//!         Ok(done)
//!     }));
//!     let ticker = nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
//!
//!     for job in 1..=3 {
//!         jobs.send(job).await.unwrap();
//!     }
//!     nursery.cancel(); // `jobs` is still open: only the cancellation stops the worker
//!     nursery.join().await.unwrap();
//!
//!     assert_eq!(worker.await, Ok(vec![1, 2, 3]));
//!     assert_eq!(ticker.await, Err(TaskError::Cancelled));
//!     drop(jobs);
//! }));
//! ```
//!
//! # Policies: limits, reserved room, and failures that cancel nothing
//!
//! [`NurseryBuilder`] sets a nursery's policies once, when it is built:
//!
//! - **[`limit(k)`](NurseryBuilder::limit)**: at most `k` children run at once. `start_soon`
//!   still never blocks: children beyond the limit wait, unspawned and unpolled, and are
//!   admitted in start order as running ones finish. Use it when the children are already
//!   in hand (a list of files) and memory is not the concern.
//! - **[`reserve`](Nursery::reserve) / [`try_reserve`](Nursery::try_reserve)**: wait for (or
//!   ask for) room under the limit first, then start the child through the [`Slot`]. A
//!   producer that starts every child through a slot never holds more than `k` children in
//!   memory: use it when children come from a stream that is faster than they finish (a
//!   crawler's URLs, a server's connections). Go's `errgroup.SetLimit` and `TryGo` are the same
//!   two tools.
//! - **[`fail_fast(false)`](NurseryBuilder::fail_fast)**: a child's failure cancels nobody;
//!   `join` reports every error at the end. Use it for a supervisor whose children fail
//!   independently (Kotlin's `supervisorScope`); keep the default when the children are parts
//!   of one job that is worthless once one part failed.
//!
//! ```
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::NurseryBuilder;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let crawler = NurseryBuilder::new().limit(16).fail_fast(false).build(&ex);
//!     for url in 0..200 {
//!         crawler.reserve().await.start_soon(async move {
//!             if url % 97 == 0 { Err(format!("{url}: 503")) } else { Ok(()) }
//!         });
//!     }
//!     let err = crawler.join().await.unwrap_err();
//!     assert_eq!(err.errors(), ["0: 503", "97: 503", "194: 503"]);
//! }));
//! ```
//!
//! A child that awaits `start` or `reserve` of its own limited nursery can wait forever for
//! the room it holds itself: start such grandchildren in a nursery of their own.
//!
//! # Graceful shutdown with a grace period
//!
//! A shield protects a child for as long as it runs; at shutdown that can be too long.
//! [`shield(fut).grace(d)`](Shielded::grace) protects it until the nursery is cancelled
//! (for any reason, dropping included), then gives it `d` more to finish by itself; after
//! that it is cancelled like any child, which is not an error. Together with
//! [`cancelled()`](NurseryHandle::cancelled), a connection finishes the request it is on, takes
//! no new one, and is cut if it takes too long:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use async_io::Timer;
//! use smol_nursery::{shield, Nursery, TaskError};
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let server = Nursery::<()>::new(&ex);
//!     let mut connections = Vec::new();
//!     for request_ms in [10, 500] {
//!         let stopping = server.handle().cancelled();
//!         connections.push(server.start_soon(shield(async move {
//!             Timer::after(Duration::from_millis(request_ms)).await; // the request in progress
//!             stopping.await; // then no new request once the server stops
//!             Ok(())
//!         }).grace(Duration::from_millis(100))));
//!     }
//!     server.cancel();
//!     server.join().await.unwrap();
//!     assert_eq!(connections.remove(0).await, Ok(()));
//!     assert_eq!(connections.remove(0).await, Err(TaskError::Cancelled)); // cut after 100 ms
//! }));
//! ```
//!
//! The `grace` example shows it with printed timings, and the `crawler` example the policies.
//!
//! # What is still running: snapshots
//!
//! [`Nursery::snapshot`] (and [`NurseryHandle::snapshot`]) copies the state of a nursery's
//! tree: its unfinished children with where each was started (`start_soon` and its kin are
//! `#[track_caller]`), whether each is shielded or in its grace period, and for about how long
//! it has run; the nurseries opened inside them; and the nurseries it adopted. Its `Display`
//! is an indented tree, what a service prints when it hangs at shutdown. Nothing is recorded
//! for it beyond each child's start site until a nursery is first asked for a snapshot; from
//! then on (for it and the nurseries opened inside it) each child also notes when it first
//! waits, so later snapshots show how long. Nothing is built until a snapshot is asked for.
//!
//! # Results in completion order
//!
//! A [`TaskHandle`] resolves as soon as its child has finished, before `join`. To take the
//! results in the order the children finish, as tokio's `JoinSet::join_next` gives them, put
//! the handles in a `futures::stream::FuturesUnordered`. It only waits on the handles: the
//! children still run in parallel on the executor, and a failure still cancels the siblings
//! (their handles then yield [`TaskError::Cancelled`]). `examples/results.rs` shows both
//! orders.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use futures::stream::{FuturesUnordered, StreamExt};
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::<()>::new(&ex);
//!     let mut handles: FuturesUnordered<_> = [30, 10, 20]
//!         .into_iter()
//!         .map(|ms| {
//!             nursery.start_soon(async move {
//!                 async_io::Timer::after(Duration::from_millis(ms)).await;
//!                 Ok(ms)
//!             })
//!         })
//!         .collect();
//!
//!     let mut finished = Vec::new();
//!     while let Some(result) = handles.next().await {
//!         finished.push(result.unwrap());
//!     }
//!     assert_eq!(finished, [10, 20, 30]);
//!     nursery.join().await.unwrap();
//! }));
//! ```
//!
//! # Dropping things
//!
//! - **The nursery, or the `join` future**, dropped before `join` finished (say, an outer
//!   timeout won a race against `join`, or the child it lived in was cancelled): every
//!   non-shielded child is cancelled. Shielded children keep running to completion (graced
//!   ones until their grace is over); their errors and panics then have nobody to go to and
//!   are dropped (a panic has already reached the panic hook).
//! - **Adoption: no orphans.** A nursery created while a child of another nursery is being
//!   polled (in the child's body, or in a `scope` inside it) has that nursery as its parent,
//!   fixed at creation. When it is dropped before its `join` finished, the nearest ancestor
//!   that was not dropped *adopts* what it still runs: that ancestor's `join` waits until
//!   every remaining child of the dropped nursery has finished. The hand-over costs O(1).
//!   Adopted work does not count in the adopter's `len()` or against its limit, and the
//!   adopter's cancellation, deadline and failures do not touch it (a shield stays a shield);
//!   its errors and panics are dropped as above. If the ancestor's `join` has already
//!   returned, or there is no ancestor (a nursery created in `main`), nobody adopts and the
//!   shielded children run on, detached. So a shielded payment inside an order nursery,
//!   inside a connection child that a failure cancelled, still finishes before the server's
//!   `join` returns:
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use async_io::Timer;
//! use smol_nursery::{shield, Nursery};
//!
//! static PAID: AtomicBool = AtomicBool::new(false);
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let server = Nursery::<&str>::new(&ex);
//!     let inner = ex.clone();
//!     server.start_soon(async move {
//!         // The connection: its order nursery runs a shielded payment.
//!         let orders = Nursery::<&str>::new(&inner);
//!         orders.start_soon(shield(async {
//!             Timer::after(Duration::from_millis(50)).await;
//!             PAID.store(true, Ordering::SeqCst);
//!             Ok(())
//!         }));
//!         orders.join().await.map_err(|_| "orders failed")
//!     });
//!     server.start_soon(async {
//!         Timer::after(Duration::from_millis(5)).await;
//!         Err::<(), _>("a sibling failed") // cancels the connection and its order nursery
//!     });
//!     assert!(server.join().await.is_err());
//!     assert!(PAID.load(Ordering::SeqCst), "the server's join waited for the payment");
//! }));
//! ```
//!
//! - **The [`Scope`] future**, dropped before it finished: the body is dropped first, then the
//!   nursery, as above.
//! - **A [`Start`] future**, dropped before its child called [`Ready::started`]: that child is
//!   cancelled, shielded or not. Dropped after: nothing happens to the child (the value is
//!   dropped).
//! - **A [`TaskHandle`]**: nothing happens to its child. This differs from async-executor's
//!   `Task`, which cancels its task when dropped.
//! - **A [`Cancelled`] future**: nothing happens.
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
//! # One thread: `LocalNursery`
//!
//! A program that runs on one thread (a GUI or game loop, a thread-per-core server, code full
//! of `Rc<RefCell<_>>`) uses [`LocalNursery`] on an [`async_executor::LocalExecutor`]: the
//! same nursery, whose children need not be `Send`. Every method of [`Nursery`],
//! [`NurseryHandle`], [`Slot`] and [`scope`] exists on [`LocalNursery`],
//! [`LocalNurseryHandle`], [`LocalSlot`] and [`local_scope`] under the same name and with the
//! same meaning; [`NurseryBuilder::build_local`] and [`NurseryBuilder::local_scope`] apply the
//! policies. [`TaskHandle`], [`Ready`], [`StartError`], [`NurseryError`] and [`shield`] are
//! shared. The local types are neither `Send` nor `Sync`.
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use async_executor::LocalExecutor;
//! use smol_nursery::{shield, LocalNursery};
//!
//! let ex = Rc::new(LocalExecutor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let log = Rc::new(RefCell::new(Vec::new()));
//!     let nursery = LocalNursery::new(&ex);
//!     let payment_log = log.clone();
//!     nursery.start_soon(shield(async move {
//!         futures_lite::future::yield_now().await;
//!         payment_log.borrow_mut().push("paid"); // an Rc held across an await
//!         Ok(())
//!     }));
//!     nursery.start_soon(async { Err::<(), _>("sms failed") });
//!     assert_eq!(nursery.join().await.unwrap_err().errors(), ["sms failed"]);
//!     assert_eq!(*log.borrow(), ["paid"]);
//! }));
//! ```
//!
//! Both forms are one implementation: the core, the child's wrapper, limits, `start`, grace
//! and the tree are generic over the executor, and each public type of either form is made
//! from one template, so a fix to one is a fix to both. Trees may mix them: a `Nursery` opened
//! inside a `LocalNursery`'s child is its child in snapshots, and adoption works across them.
//!
//! # Common mistakes
//!
//! **Not running the executor.** `join` waits for the children; it does not run them.
//! `futures_lite::future::block_on(nursery.join())` alone hangs as soon as a child has to run,
//! because nothing runs the executor. Await `join` inside `ex.run(...)`, or while other threads
//! run the executor:
//!
//! ```
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(Executor::new());
//! let nursery = Nursery::<()>::new(&ex);
//! let child = nursery.start_soon(async { Ok("ran") });
//! // Not `block_on(nursery.join())`: that would wait for a child that nobody runs.
//! futures_lite::future::block_on(ex.run(nursery.join())).unwrap();
//! assert!(child.is_finished());
//! ```
//!
//! **A local `&Executor`.** The compiler says "`ex` does not live long enough ... argument
//! requires that `ex` is borrowed for `'static`": the only plain reference a nursery takes is a
//! `&'static Executor<'static>` (see [`ExecutorRef`] for why). Put the executor in an `Arc`,
//! or make it a `static`:
//!
//! ```compile_fail,E0597
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let ex = Executor::new();
//! let nursery = Nursery::<()>::new(&ex); // error[E0597]: `ex` does not live long enough
//! # drop(nursery);
//! ```
//!
//! **An `Arc<LocalExecutor>`.** The compiler says "a nursery cannot run its children on
//! `&Arc<LocalExecutor<'_>>`": children are `Send` and run on an [`async_executor::Executor`],
//! which any thread may run. Use an `Executor`:
//!
//! ```compile_fail,E0277
//! use std::sync::Arc;
//! use async_executor::LocalExecutor;
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(LocalExecutor::new());
//! let nursery = Nursery::<()>::new(&ex); // error[E0277]: a nursery cannot run its children on ...
//! # drop(nursery);
//! ```
//!
//! **An error type that nothing fixes.** When every child returns `Ok`, nothing tells the
//! compiler what the nursery's error type `E` is: it says "type annotations needed for
//! `Nursery<'_, _>`" (E0283). Name it: `Nursery::<MyError>::new(&ex)`. In a scope, the body's
//! `Ok::<_, MyError>(value)` does the same.
//!
//! ```compile_fail,E0283
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::new(&ex); // error[E0283]: type annotations needed
//!     nursery.start_soon(async { Ok(1) });
//!     nursery.join().await.unwrap();
//! }));
//! ```
//!
//! **Converting errors by hand for `?`.** Not needed: [`NurseryError<E>`] is a
//! [`std::error::Error`] whenever `E` is `Debug + Display`, so `join().await?` works in a
//! function that returns `Result<_, Box<dyn Error>>`, with `String` or `&str` errors too:
//!
//! ```
//! use std::error::Error;
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! fn run() -> Result<(), Box<dyn Error>> {
//!     let ex = Arc::new(Executor::new());
//!     futures_lite::future::block_on(ex.run(async {
//!         let nursery = Nursery::new(&ex);
//!         nursery.start_soon(async { Err::<(), _>("disk full") });
//!         nursery.join().await?;
//!         Ok(())
//!     }))
//! }
//!
//! assert_eq!(run().unwrap_err().to_string(), "1 task failed: disk full");
//! ```
//!
//! # Compared with the alternatives
//!
//! | | nursery | raw `Task`s | `FuturesUnordered` | tokio's `JoinSet` | moro's `async_scope!` |
//! |---|---|---|---|---|---|
//! | children run in parallel on the executor | yes | yes | no: polled inside one task | yes | no: polled inside the scope's own future, on one task |
//! | children may borrow | what was declared before the executor (a [`scope`]'s body: anything) | what was declared before the executor | anything | nothing: `'static` | anything |
//! | a failure cancels the siblings | yes, at once | by hand | by hand | by hand (`abort_all`) | by hand (`terminate`, or `or_cancel` on a `Result`) |
//! | the code that started the children stops with them | with [`scope`] | by hand | by hand | by hand | yes, on `terminate` |
//! | every error reported in one place | yes, at `join` | by hand | by hand | one at a time from `join_next` | the first, passed to `terminate`, is the scope's value |
//! | a child that must not be cancelled | [`shield`] | detach it, and lose track of it | no | spawn it outside the set (`tokio::spawn`) | no |
//! | a child that says when it is ready | [`start`](Nursery::start) | by hand (a channel) | by hand | by hand | by hand |
//! | at most `k` at once, with backpressure | [`limit`](NurseryBuilder::limit), [`reserve`](Nursery::reserve) | a semaphore by hand | `buffer_unordered` | a semaphore by hand | by hand |
//! | failures that cancel nobody | [`fail_fast(false)`](NurseryBuilder::fail_fast) | yes | yes | yes | yes |
//! | a bounded grace at shutdown | [`grace`](Shielded::grace) | by hand | no | by hand | no |
//! | a dropped inner group's work still awaited | yes: adoption | no | not applicable | no (aborted) | not applicable |
//! | what is still running, and where it started | [`snapshot`](Nursery::snapshot) | no | no | no (tokio-console, separately) | no |
//! | dropping the owner | cancels, except shielded children | cancels each dropped `Task` | drops every future | aborts every task, without waiting for them | drops every child |
//! | dropping one child's handle | nothing | cancels the task | no per-future handle | no per-task handle; dropping an `AbortHandle` does nothing | nothing: the child runs on, its result is dropped |
//! | a panicking destructor during cancellation | that child's panic | aborts the process | unwinds the owner | caught; `join_next` returns it as a panic `JoinError` | unwinds the owner |
//! | memory | a few words per *unfinished* child, freed as each finishes | one per `Task` held | one per future | one per task until joined | one boxed future per child, freed as each finishes |
//! | `!Send` children on one thread | [`LocalNursery`], with every feature above | `LocalExecutor::spawn` | yes | `spawn_local` on a `LocalSet` | yes |
//!
//! Raw [`async_executor::Task`]s give the same parallelism, but each one has to be awaited or
//! cancelled by hand, and a `Task` dropped on an error path silently cancels its work.
//! `FuturesUnordered` (from the `futures` crate) runs all its futures inside the one task that
//! polls it, so they never run in parallel and stop when that task stops polling. tokio's
//! `JoinSet` is the closest relative: it aborts its tasks when dropped and hands results out
//! one by one; the nursery adds fail-fast cancellation, shields, deadlines, and a single place
//! where every error and the first panic arrive, on smol's executor (and gives results in
//! completion order too, [as shown above](#results-in-completion-order)). moro's
//! `async_scope!` is the closest to [`scope`]: its children may borrow anything, because they
//! are polled inside the scope's own future, on one task, like `FuturesUnordered`; so they
//! never run in parallel, and a failure stops them only through `terminate`. trio's
//! `nursery.start` is the model of [`start`](Nursery::start); none of the others has it, and
//! done by hand with a channel, a child's failure before it is ready goes to whoever joins,
//! not to the starter.
//!
//! # Guarantees
//!
//! Each guarantee has a number that stays the same from one release to the next, so that
//! tests, issues and commits can cite it (a guarantee that is dropped leaves its number
//! unused). Each is checked by the named tests (in `tests/it/`; `memory.rs` in `tests/alloc/`,
//! `stress.rs` in `tests/`). G1 to G15 are also checked all at once by
//! `stress.rs::random_trees_keep_every_guarantee`, which runs random trees of
//! children (failing, panicking, sleeping, shielded, cancelling each other, nesting nurseries,
//! under deadlines, foreign cancels and mid-way drops) on executors run by 1, 2 and 4 threads,
//! and on a local executor with `LocalNursery`.
//! CI also runs the test suite under Miri, which reports leaked tasks and `Arc` cycles.
//!
//! - **G1.** When `join` returns, every child's future has been dropped:
//!   `join.rs::every_child_future_is_dropped_before_join_returns`.
//! - **G2.** No child code runs after `join` returns: `join.rs::no_child_code_runs_after_join`.
//! - **G3.** A failure cancels the non-shielded siblings at once, even while the owner is not
//!   in `join`: `fail_fast.rs::cancellation_happens_even_when_the_owner_is_not_in_join`.
//! - **G4.** Every `Err` a child returned is reported once, in order, shielded and late ones
//!   included: `errors.rs::every_error_is_reported_in_order_including_shielded_and_late_ones`.
//! - **G5.** `join` resumes the first panic only after every child has finished:
//!   `panics.rs::join_resumes_the_first_panic_after_every_child_finished`.
//! - **G6.** A destructor that panics while its child is cancelled or dropped is that child's
//!   panic, never an abort: `panics.rs::a_destructor_panic_during_cancellation_is_that_childs_panic`,
//!   `panics.rs::a_destructor_panic_while_the_executor_is_dropped_does_not_abort`,
//!   `panics.rs::a_panicking_value_whose_handle_was_dropped_does_not_abort`.
//! - **G7.** The nursery never cancels a shielded child, and `join` waits for it:
//!   `shield.rs::a_shielded_child_survives_a_sibling_failure`,
//!   `shield.rs::a_shielded_child_survives_explicit_cancel`,
//!   `shield.rs::a_shielded_child_survives_the_deadline`.
//! - **G8.** Dropping the nursery or its `join` future cancels the non-shielded children, and
//!   shielded ones finish: `dropping.rs::dropping_the_join_future_when_a_timeout_wins_the_race`,
//!   `faults.rs::join_dropped_at_every_await_point`.
//! - **G9.** Dropping the executor drops every child; `join` and the handles still resolve:
//!   `dropping.rs::dropping_the_executor_drops_every_child_and_join_resolves`.
//! - **G10.** A child started concurrently with `join` is either awaited by it or refused with
//!   `NurseryClosed`, never lost:
//!   `closed.rs::start_soon_racing_join_is_accepted_or_refused_never_lost`.
//! - **G11.** Deadlines never panic, whatever the duration, and `join` never waits for a timer
//!   that has not fired: `deadlines.rs::duration_max_means_no_deadline`,
//!   `deadlines.rs::a_deadline_that_does_not_fire_costs_nothing_at_join`.
//! - **G12.** Every handle is finished once `join` has returned:
//!   `handles.rs::every_handle_is_finished_once_join_returned`.
//! - **G13.** Destructors may call `cancel` and `start_soon` on their own nursery without
//!   deadlock: `faults.rs::destructors_that_call_cancel_and_start_soon_do_not_deadlock`.
//! - **G14.** A user's panic never leaves a lock poisoned or the nursery unusable:
//!   `faults.rs::a_user_panic_never_leaves_the_nursery_unusable`.
//! - **G15.** Memory follows the peak number of unfinished children, not the total:
//!   `memory.rs::memory_follows_the_peak_not_the_total`.
//! - **G16.** A scope returns only once its body and every child have finished, and the
//!   handle its body got is closed then:
//!   `scope.rs::a_scope_waits_for_its_children_and_returns_the_bodys_value`,
//!   `scope.rs::the_handle_is_closed_after_the_scope_returned`.
//! - **G17.** A scope's body is polled in the caller's task (it may borrow from the caller),
//!   and is dropped at its next await point when the nursery is cancelled (failure,
//!   deadline, `cancel()`): `scope.rs::the_body_may_borrow_from_the_caller`,
//!   `scope.rs::the_body_is_cancelled_at_its_next_await_when_a_child_fails`,
//!   `scope.rs::a_deadline_set_through_the_handle_is_a_timeout`,
//!   `scope.rs::a_cancel_from_a_child_cancels_the_body`.
//! - **G18.** A scope's result follows the documented precedence: the first panic, then every
//!   error (the body's own in order with the children's), then `is_cancelled` for a body
//!   dropped by `cancel()`, then the body's value, which a body that returned always keeps:
//!   `scope.rs::a_body_panic_is_resumed_after_every_child_finished`,
//!   `scope.rs::the_bodys_error_is_recorded_in_order_and_cancels_the_children`,
//!   `scope.rs::an_explicit_cancel_makes_is_cancelled_true`,
//!   `scope.rs::a_body_that_returned_keeps_its_value_even_after_cancel`.
//! - **G19.** Dropping a scope future drops the body and cancels the non-shielded children;
//!   scope futures are `Send` and nest inside children:
//!   `scope.rs::dropping_the_scope_future_drops_the_body_and_cancels_the_children`,
//!   `scope.rs::scopes_nest_inside_children_on_a_multi_threaded_executor`.
//! - **G20.** `start` resolves with the child's value and handle once the child called
//!   `started`; the child counts for `join` from the moment `start` was called:
//!   `start.rs::ready_hands_the_value_and_the_handle_to_the_starter`.
//! - **G21.** Before it is ready, a child's error, panic, return, cancellation and destructor
//!   panic go to its starter, and the nursery records and cancels nothing:
//!   `start.rs::an_error_before_ready_goes_to_the_starter_only`,
//!   `start.rs::a_panic_before_ready_is_resumed_in_the_starter`,
//!   `start.rs::returning_without_ready_is_exited`,
//!   `start.rs::a_cancellation_before_ready_is_cancelled`,
//!   `start.rs::a_destructor_panic_while_cancelled_before_ready_goes_to_the_starter`.
//! - **G22.** Dropping a `start` future before the child is ready cancels that child, shielded
//!   or not; after, it cancels nothing, and the child's errors and panics go to the nursery;
//!   ready racing a cancellation gives exactly one outcome:
//!   `start.rs::dropping_start_before_ready_cancels_the_child_even_shielded`,
//!   `start.rs::dropping_start_after_ready_cancels_nothing`,
//!   `start.rs::errors_and_panics_after_ready_go_to_the_nursery`,
//!   `start.rs::ready_racing_a_cancellation_gives_exactly_one_outcome`.
//! - **G23.** `start` on a closed nursery returns `StartError::Closed` and never calls its
//!   closure: `start.rs::start_through_a_closed_handle_does_not_call_the_closure`.
//! - **G24.** `cancelled()` resolves once the nursery is cancelled, for any reason, or closed,
//!   at once if it already was, and wakes up across threads:
//!   `cancelled.rs::resolves_on_an_explicit_cancel`, `cancelled.rs::resolves_on_a_failure`,
//!   `cancelled.rs::resolves_when_the_deadline_fires`,
//!   `cancelled.rs::resolves_when_the_nursery_is_dropped`,
//!   `cancelled.rs::resolves_once_the_nursery_is_closed_by_join`,
//!   `cancelled.rs::resolves_at_once_when_already_cancelled`,
//!   `cancelled.rs::wakes_up_when_another_thread_cancels`.
//! - **G25.** A shielded child that races `cancelled()` winds down by itself, and `join` waits
//!   for it: `cancelled.rs::a_shielded_child_winds_down_on_its_own`.
//! - **G26.** Under `limit(k)`, never more than `k` children run at once (shielded ones
//!   count), waiting children are admitted in start order, count in `len()` and are not
//!   polled, and a cancelled nursery never runs its waiting non-shielded children:
//!   `limit.rs::never_more_than_k_children_run_at_once`,
//!   `limit.rs::waiting_children_are_admitted_in_start_order`,
//!   `limit.rs::waiting_children_count_in_len_and_are_not_polled`,
//!   `limit.rs::a_cancelled_nursery_never_runs_its_waiting_children_but_runs_shielded_ones`.
//! - **G27.** A slot counts as an unfinished child until used or dropped, a dropped slot frees
//!   its room, waiting `reserve` calls are served in order, and a producer through slots
//!   never holds more than `k` children:
//!   `reserve.rs::a_slot_keeps_join_waiting_until_used`,
//!   `reserve.rs::a_dropped_slot_frees_its_room`,
//!   `reserve.rs::waiting_reserves_are_served_in_order`,
//!   `reserve.rs::a_producer_through_slots_never_has_more_than_k_children`.
//! - **G28.** A graced child is never cut before its grace has passed, is cut once it has
//!   (not an error), and its grace works for a dropped nursery and while it waits for room:
//!   `grace.rs::a_child_past_its_grace_is_cut_and_that_is_no_error`,
//!   `grace.rs::a_child_that_finishes_inside_its_grace_keeps_its_value`,
//!   `grace.rs::grace_works_when_the_nursery_was_dropped`,
//!   `grace.rs::a_graced_child_waiting_for_admission_counts_its_grace_while_it_waits`.
//! - **G29.** With `fail_fast(false)`, failures cancel nobody and every error is reported; a
//!   scope body's own failure still cancels:
//!   `fail_fast_off.rs::errors_cancel_nobody_and_are_all_reported`,
//!   `fail_fast_off.rs::a_panic_cancels_nobody_and_is_resumed_after_all_finished`,
//!   `fail_fast_off.rs::a_failing_scope_body_still_cancels`.
//! - **G30.** No orphans: a nursery dropped inside a child is adopted by the nearest live
//!   ancestor, whose `join` waits for it, through any number of levels; a joined ancestor,
//!   or none, adopts nothing: `tree.rs::a_shielded_payment_inside_a_cancelled_connection_finishes_before_the_outer_join`,
//!   `tree.rs::adoption_goes_through_two_levels_of_dropped_nurseries`,
//!   `tree.rs::adopted_work_does_not_count_in_len_and_its_errors_do_not_reach_the_adopter`,
//!   `tree.rs::a_parent_already_joined_adopts_nothing`,
//!   `tree.rs::nurseries_created_outside_any_child_have_no_parent`; and at random,
//!   `stress.rs::random_trees_keep_every_guarantee` checks after every `join` that nothing of
//!   a nursery nested in it still runs.
//! - **G31.** A snapshot shows each kind of child, can be taken from any thread at any time,
//!   and shows nothing for a joined nursery:
//!   `tree.rs::a_snapshot_shows_running_shielded_graced_cancelling_and_waiting_children`,
//!   `tree.rs::a_snapshot_can_be_taken_from_another_thread_while_children_come_and_go`,
//!   `tree.rs::a_closed_nurserys_snapshot_shows_nothing_running`.
//! - **G32.** A `TaskHandle::cancel` racing its child's end leaves nothing behind in a
//!   long-lived nursery (unit test `task::tests::handle_cancels_racing_finishes_leave_the_registry_flat`).
//! - **G33.** The local form keeps every guarantee that does not involve threads: each rule
//!   is one test body run on both forms (`forms.rs`, modules `send` and `local`: join,
//!   fail fast, every error, panics, cancel, deadlines, shields, dropping, starting into a
//!   cancelled nursery, closed handles, task handles, release as children finish, scopes,
//!   builder scopes, `start`, `cancelled()`, grace, limits and slots, `fail_fast(false)`,
//!   adoption, snapshots).
//! - **G34.** `LocalNursery`, its handle, slots, `reserve` and scope futures are neither
//!   `Send` nor `Sync`, and children may hold `Rc` and `RefCell` across awaits:
//!   `local.rs::the_local_forms_are_neither_send_nor_sync`,
//!   `local.rs::children_hold_rc_and_refcell_across_awaits`,
//!   `local.rs::start_and_scope_carry_non_send_values`; a cancelled local child's panicking
//!   destructor is that child's panic, not an abort:
//!   `local.rs::a_panicking_destructor_of_a_cancelled_child_is_the_childs_panic`. Trees may
//!   mix the forms: `local.rs::a_send_nursery_inside_a_local_child_links_to_the_local_parent`,
//!   `local.rs::a_send_nursery_dropped_in_a_local_child_is_adopted_by_the_local_parent`.
//! - **G35.** The core's races are model-checked with loom (`src/loom.rs`, every interleaving
//!   up to 4 preemptions): a start racing `join`'s close, a cancellation racing a child's
//!   first `Pending`, the last `finish`es racing `join`'s listener, `TaskHandle::cancel`
//!   racing the child's end, admission under a limit racing finishes and a dropped reserver,
//!   `start`'s ready signal racing cancellation and a dropped `start` future, and adoption
//!   racing the parent's close.
//! - **G36.** Random trees keep G1–G15, G20, G21, G26, G28, G30 and G31 on both forms:
//!   `stress.rs::random_trees_keep_every_guarantee` runs them on 1, 2 and 4 threads and on a
//!   local executor, with scopes, `start`, `reserve`, grace (never cut before its grace),
//!   limits (never more than `k` at once), adoption and snapshots.
//!
//! # Choices this crate makes
//!
//! - A child cancelled before its first poll never runs (asyncio's `TaskGroup` does the
//!   same; trio would run it until its first checkpoint).
//! - A deadline that fires while no child is unfinished still cancels the nursery; `join`
//!   reports a timeout only if a child was unfinished when it fired, or was started after.
//! - `NurseryError` keeps errors in the order they happened; `join` resumes only the first
//!   panic and drops the other ones.
//! - A scope's body is a child like the others: it is not shielded, and a failure anywhere
//!   drops it. An owner that must outlive its children's failures is a `Nursery`.
//! - A child that never calls [`Ready::started`] and never ends keeps `start` waiting, as in
//!   trio.
//! - async-executor's leaked executors (`Executor::leak`, `LocalExecutor::leak`, behind its
//!   `static` feature) are not accepted: their only way to spawn a future that is not
//!   `'static` is an `unsafe` function, and this crate forbids `unsafe`. A
//!   `static EX: Executor<'static> = Executor::new();` or a `Box::leak`ed `LocalExecutor`
//!   gives children the same `'static` lifetime.

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
#[cfg(all(test, smol_nursery_loom))]
mod loom;
mod member;
mod nursery;
mod race;
mod registry;
mod scope;
mod set;
mod shared;
mod shield;
mod slot;
mod snapshot;
mod spawn;
mod start;
#[cfg(feature = "static")]
mod statics;
mod sync;
mod task;
mod trace;

pub use crate::builder::NurseryBuilder;
pub use crate::core::Cancelled;
pub use crate::error::{NurseryClosed, NurseryError, TaskError};
pub use crate::executor::{
    ExecutorKind, ExecutorRef, IntoExecutor, IntoLocalExecutor, LocalExecutorRef,
};
#[cfg(feature = "static")]
pub use crate::executor::{StaticExecutorRef, StaticLocalExecutorRef};
pub use crate::handle::{LocalNurseryHandle, NurseryHandle};
pub use crate::nursery::{LocalNursery, Nursery};
pub use crate::race::{local_race_ok, race_ok, RaceOk};
pub use crate::scope::{local_scope, scope, LocalScope, Scope};
pub use crate::set::{LocalNurserySet, NurserySet};
pub use crate::shield::{shield, IntoChild, Shielded};
pub use crate::slot::{LocalReserve, LocalSlot, Reserve, Slot};
pub use crate::snapshot::{CancelCause, ChildSnapshot, Snapshot};
pub use crate::start::{Ready, Start, StartError};
pub use crate::task::TaskHandle;
