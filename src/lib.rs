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
//! is winding down, so that it can stop at a point of its choosing; a [`NurserySet`] hands out
//! its children's results in the order they finish; [`race_ok`] lets the first success win
//! and awaits every loser; [`NurseryError::origins`] says where each error came from; and the
//! `tracing` feature puts every child in a span of the request that started it.
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
//!   [`NurseryHandle::cancelled`] return a future that resolves once the nursery is cancelled
//!   or closed.
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
//! # Servers: an accept error must not fail the whole tree
//!
//! A child that returns an error fails its nursery fast: its siblings are cancelled and
//! `join` fails. That is right when the listener is gone, and wrong when `accept` fails for a
//! moment: out of descriptors (`EMFILE`, `ENFILE`), of buffers or memory (`ENOBUFS`,
//! `ENOMEM`), or a client gone before it was accepted (`ECONNABORTED`). A listener child that
//! returns these with `?` takes every connection down with it. So decide inside the listener:
//! wait out what means "not now" (trio's `serve_listeners` sleeps 100 ms), logging once per
//! episode, and return only the errors that say the listener is unusable. Keep the
//! connections in a nursery of their own with `fail_fast(false)` (a failed connection cancels
//! nobody) and a `limit` below the descriptor limit, and `reserve` a place before accepting:
//! a flood then waits in the kernel's backlog instead of using up the descriptors.
//! `examples/order_service/server.rs` does this in full, and its `main.rs` fits
//! `--max-connections` to `RLIMIT_NOFILE` at start.
//!
//! ```no_run
//! use std::io;
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use async_net::{TcpListener, TcpStream};
//! use smol_nursery::NurseryBuilder;
//!
//! /// The accept errors after which the listener is unusable (Linux's numbers: `EBADF`,
//! /// `EINVAL`, `ENOTSOCK`); every other one means "not now".
//! fn listener_gone(err: &io::Error) -> bool {
//!     matches!(err.raw_os_error(), Some(9 | 22 | 88))
//! }
//!
//! async fn connection(_stream: TcpStream) -> io::Result<()> {
//!     Ok(())
//! }
//!
//! let ex = Arc::new(Executor::new());
//! let served: io::Result<()> = futures_lite::future::block_on(ex.run(async {
//!     let listener = TcpListener::bind("127.0.0.1:8080").await?;
//!     let connections = NurseryBuilder::new()
//!         .limit(1000) // below RLIMIT_NOFILE, less what the server keeps open
//!         .fail_fast(false)
//!         .build::<io::Error>(&ex);
//!     loop {
//!         let slot = connections.reserve().await;
//!         match listener.accept().await {
//!             Ok((stream, _)) => drop(slot.start_soon(connection(stream))),
//!             Err(err) if listener_gone(&err) => return Err(err),
//!             Err(err) => {
//!                 eprintln!("accept failed, accepting again in 100 ms: {err}");
//!                 drop(slot);
//!                 async_io::Timer::after(Duration::from_millis(100)).await;
//!             }
//!         }
//!     }
//! }));
//! served.unwrap();
//! ```
//!
//! # What is still running: snapshots
//!
//! [`Nursery::snapshot`] (and [`NurseryHandle::snapshot`]) copies the state of a nursery's
//! tree: its unfinished children with where each was started (`start_soon` and its kin are
//! `#[track_caller]`), whether each is shielded or in its grace period, and for about how long
//! it has run; the nurseries opened inside them; and the nurseries it adopted. Its `Display`
//! is an indented tree, what a service prints when it hangs at shutdown. What a nursery keeps
//! for snapshots all along is small: each child's start site, and for a nursery opened inside
//! a child, an entry in its parent's list (taken under the parent's lock when it is created)
//! and in the global table of live nurseries (which adoption needs too). Ages cost nothing
//! until a nursery is first asked for a snapshot; from then on (for it and the nurseries
//! opened inside it) each child also notes when it first waits, so later snapshots show how
//! long.
//!
//! # Results in completion order: sets
//!
//! A [`NurserySet`] is a nursery whose children's outcomes are its results: each child
//! returns `Ok(value)` or `Err(error)`, and [`next`](NurserySet::next) hands the results out
//! in the order the children finish, as tokio's `JoinSet::join_next` does. An `Err` is a
//! result like any other, and cancels nothing; a panic still cancels the set, and is resumed
//! once every child has finished. [`join`](NurserySet::join) waits for every child and returns
//! the values nobody read (tokio's `join_all`), or the unread errors. Under a
//! [`limit`](NurseryBuilder::limit), running children *plus unread results* stay within the
//! limit: a slow reader holds the set back instead of letting results pile up. Dropping a set
//! cancels its children, as dropping a nursery does. `NurserySet` is also a
//! `futures_lite::Stream` of its results.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use smol_nursery::NurseryBuilder;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let mut set = NurseryBuilder::new().limit(8).build_set(&ex);
//!     for url in ["/a", "/b", "/missing", "/c"] {
//!         set.start_soon(async move {
//!             async_io::Timer::after(Duration::from_millis(5)).await;
//!             if url == "/missing" { Err(format!("{url}: 404")) } else { Ok(url.len()) }
//!         });
//!     }
//!     let (mut pages, mut failed) = (0, Vec::new());
//!     while let Some(result) = set.next().await {
//!         match result {
//!             Ok(_bytes) => pages += 1,
//!             Err(error) => failed.push(error), // retry it, log it: nothing was cancelled
//!         }
//!     }
//!     assert_eq!((pages, failed), (3, vec![String::from("/missing: 404")]));
//! }));
//! ```
//!
//! Without a set, a [`TaskHandle`] also resolves as soon as its child has finished, before
//! `join`: the handles of a nursery's children in a `futures::stream::FuturesUnordered` give
//! their results in completion order too. It only waits on the handles: the children still
//! run in parallel on the executor, and a failure still cancels the siblings (their handles
//! then yield [`TaskError::Cancelled`]). `examples/results.rs` shows both orders.
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
//! # The first success: `race_ok`
//!
//! [`race_ok`] runs attempts one after another, staggered, until one succeeds: connect to the
//! first address that answers (happy eyeballs, RFC 8305), ask a second replica when the first
//! is slow (hedged requests). The next attempt starts when the stagger has passed since the
//! last start, or at once when an attempt fails. The first `Ok` wins: every other attempt is
//! cancelled *and awaited* (its future dropped) before `race_ok` returns, and attempts not
//! taken from the iterator yet are never taken. If every attempt fails, the error holds every
//! error in the order they happened. `examples/eyeballs.rs` runs it against local listeners.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_executor::Executor;
//! use smol_nursery::race_ok;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let addresses = ["[::1]:80", "127.0.0.1:80"];
//!     let connected = race_ok(
//!         &ex,
//!         addresses.into_iter().map(|addr| async move {
//!             if addr.starts_with('[') {
//!                 return Err(format!("{addr}: network unreachable"));
//!             }
//!             async_io::Timer::after(Duration::from_millis(10)).await;
//!             Ok(addr)
//!         }),
//!         Duration::from_millis(250),
//!     )
//!     .await;
//!     assert_eq!(connected, Ok("127.0.0.1:80")); // started at once, when IPv6 failed
//! }));
//! ```
//!
//! # Where errors came from: origins
//!
//! [`NurseryError::origins`] pairs each error with the start site of the child that returned
//! it (`start_soon` and its kin are `#[track_caller]`): "connection refused", but from which
//! `start_soon`. The sites are kept only for errors, at no cost to children that succeed.
//!
//! ```
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::new(&ex);
//!     nursery.start_soon(async { Err::<(), _>("connection refused") });
//!     let err = nursery.join().await.unwrap_err();
//!     let (error, site) = err.origins().next().unwrap();
//!     assert_eq!(*error, "connection refused");
//!     assert!(site.file().ends_with(".rs")); // src/main.rs:8:13, say
//! }));
//! ```
//!
//! # Tracing
//!
//! With the cargo feature `tracing` (`smol-nursery = { version = "0.3", features =
//! ["tracing"] }`), every child, and a scope's body, is polled inside a span of its own whose
//! parent is the span that was current where it was started, on whatever thread the child
//! runs: a request's span is an ancestor of all the work it starts. The spans have target
//! `smol_nursery`, level `INFO`, name `child` (a scope's body: `scope`), and the fields `site`
//! (the start site, `file:line:column`), `shielded`, and `outcome` (`ok`, `failed`, `panicked`
//! or `cancelled`, recorded when the child ends; a set's child whose result is an `Err` is
//! `failed`). A span is kept only when a subscriber is interested in it; without the feature
//! no `tracing` code is compiled. `examples/tracing.rs` prints a request's span tree.
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
//!   every remaining child of the dropped nursery has finished. The hand-over takes one step
//!   per dropped nursery between the two (usually none or one), and one atomic count.
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
//! `Nursery`, `NurseryHandle` and `NurserySet` (when `T` and `E` are `Send`) are `Send +
//! Sync`, and children are `Send`. The executor may
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
//! Both forms are one type: the executor kind is the last type parameter of each public type,
//! with a default, the way `HashMap<K, V, S = RandomState>` carries its hasher.
//! `LocalNursery<'ex, E>` is `Nursery<'ex, E, LocalExecutorRef<'ex>>` (and `LocalNurserySet`,
//! `LocalNurseryHandle`, `LocalSlot`, `LocalScope` likewise), and `Nursery::new` takes either
//! executor: the argument fixes the kind. Every method whose meaning does not depend on
//! `Send` is written once; only `start_soon` and `start`, whose bounds differ, are written per
//! kind. A fix to one form is a fix to both. Trees may mix them: a `Nursery` opened inside a
//! `LocalNursery`'s child is its child in snapshots, and adoption works across them.
//!
//! With the cargo feature `static`, nurseries also run on async-executor's leaked executors
//! (`StaticExecutor`, `StaticLocalExecutor`, which spawn without locking their table of
//! tasks): `Nursery::new(&EX)` with a `static EX: StaticExecutor = StaticExecutor::new();`
//! makes a `Nursery<'static, E, StaticExecutorRef>`, whose children are `'static`.
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
//! **A child that borrows a local declared after the executor.** Children may borrow what
//! lives longer than the executor, that is, what was declared *before* it: locals are dropped
//! in reverse order, and the executor drops its tasks (and the children's borrows) when it
//! is dropped. The compiler points at the child's borrow: "`words` does not live long enough
//! ... borrow might be used here, when `ex` is dropped and runs the `Drop` code for type
//! `Arc`". Declare the data first, move it into the child, or use a [`scope`], whose body may
//! borrow anything:
//!
//! ```compile_fail,E0597
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use smol_nursery::Nursery;
//!
//! let ex = Arc::new(Executor::new());
//! let words = vec!["declared", "too", "late"]; // fix: declare it before `ex`
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::<()>::new(&ex);
//!     nursery.start_soon(async { Ok(words.len()) }); // error[E0597]: `words` does not live long enough
//!     nursery.join().await.unwrap();
//! }));
//! ```
//!
//! **Racing a half-read line against `cancelled()`.** `a.or(b)` drops the loser, and
//! futures-lite's `read_line` and `read_until` keep what they have read so far in their own
//! future: when cancellation wins the race, a partly read line is lost. Race only futures
//! that are cancel safe: the `next()` of a stream that keeps its state in itself, such as
//! `AsyncBufReadExt::lines()` (a partly read line stays in the `Lines`), a channel's `recv()`,
//! a [`NurserySet`]'s `next()`, a timer. Or finish the line first and look at
//! [`is_cancelled`](NurseryHandle::is_cancelled) between lines:
//!
//! ```
//! use std::sync::Arc;
//! use async_executor::Executor;
//! use futures_lite::io::BufReader;
//! use futures_lite::{AsyncBufReadExt, FutureExt, StreamExt};
//! use smol_nursery::{shield, Nursery};
//!
//! let ex = Arc::new(Executor::new());
//! futures_lite::future::block_on(ex.run(async {
//!     let nursery = Nursery::<std::io::Error>::new(&ex);
//!     let handle = nursery.handle();
//!     let reader = nursery.start_soon(shield(async move {
//!         let mut lines = BufReader::new(&b"order 1\norder 2\n"[..]).lines();
//!         let mut orders = Vec::new();
//!         loop {
//!             // Cancel safe: a line read halfway stays in `lines` if `cancelled` wins.
//!             let line = async { lines.next().await.transpose() };
//!             let stop = async {
//!                 handle.cancelled().await;
//!                 Ok(None)
//!             };
//!             match line.or(stop).await? {
//!                 Some(line) => orders.push(line),
//!                 None => return Ok(orders), // the end of the input, or winding down
//!             }
//!         }
//!     }));
//!     nursery.join().await.unwrap();
//!     assert_eq!(reader.await.unwrap(), ["order 1", "order 2"]);
//! }));
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
//! **Converting errors by hand for `?`, or dropping them.** Not needed: [`NurseryError<E>`]
//! is a [`std::error::Error`] whenever `E` is `Debug + Display`, so `join().await?` works in a
//! function that returns `Result<_, Box<dyn Error>>`, with `String` or `&str` errors too. A
//! [`StartError<E>`] converts into a `NurseryError<E>` (keeping the child's error), so a server
//! whose `bind` failed in `start` returns that error with `?` instead of an `Ok(())` that
//! hides it; and when `E` is an `Error` (an `io::Error`), a `StartError<E>` is one too, whose
//! `source` is the child's error:
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
//! | results in completion order | [`NurserySet::next`], an `Err` cancelling nothing | by hand (a channel) | yes | `join_next` | no |
//! | every result at the end | [`NurserySet::join`]: the unread values, or the errors | await each `Task` | `collect` | `join_all` | no |
//! | backpressure on unread results | yes: under a limit, unread results hold places | by hand | `buffer_unordered` | no | no |
//! | the first success wins, losers awaited | [`race_ok`], staggered | by hand | by hand | by hand; `abort_all` does not wait | by hand |
//! | where an error came from | [`NurseryError::origins`] | by hand | by hand | `JoinError::id` (a task id, not a place) | no |
//! | a span per child, under the request's | the `tracing` feature | `.instrument` by hand | no | task spans (`tokio_unstable`) | no |
//!
//! What this costs: per child, a nursery takes about 1.4 to 1.5 times the time of a raw
//! `Executor::spawn` awaited by hand (0.45 to 0.85 times tokio's `JoinSet`), and 56 bytes more
//! than a raw task while the child waits. Most of the difference is the list of waiting
//! children that a cancellation wakes. `benches/README.md` in the repository has the figures,
//! measured side by side, and where the time goes. That list holds at most 2³² − 2 children
//! at once (hundreds of gigabytes of them); beyond that, a waiting child wakes itself and is
//! polled again instead of sleeping, so that a cancellation still stops it.
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
//! Sets and races have relatives elsewhere too. Java's `StructuredTaskScope` takes a joiner
//! (`Joiner.allSuccessfulOrThrow`, `anySuccessfulResultOrThrow`, `awaitAll`): a
//! [`NurserySet`] read to its end is the first and the last, [`race_ok`] the second (with a
//! stagger Java leaves out). futures-concurrency's `race_ok` takes the first success of
//! futures polled inside one task, all started at once, and drops the others without
//! waiting for anything; [`race_ok`] runs its attempts as children in parallel, starts them
//! one stagger apart, and returns only once every loser has finished. Swift's task groups
//! give results in completion order (`next()`) like a set, and cancel the remaining children
//! when the group's scope is left, as dropping a set does.
//!
//! # Guarantees
//!
//! What this crate promises, guarantee by guarantee, and the tests that check each one, are
//! listed in `GUARANTEES.md` at the top of the repository. Randomized stress tests, loom
//! models of the core's races, and Miri runs of the test suite check them too.
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
//! - async-executor's leaked executors (`Executor::leak`, `LocalExecutor::leak`) are accepted
//!   under this crate's `static` feature, for `'static` children only: their only way to
//!   spawn a future that is not `'static` is an `unsafe` function, and this crate forbids
//!   `unsafe`. Because the executor kind is a type parameter, the methods of the static kinds
//!   carry `'static` bounds of their own and call the safe `spawn`.
//! - The executor kind is fixed by the argument of `new`, not by a method name: so
//!   `Nursery::new(&ex)` makes a [`LocalNursery`] when `ex` is an `Rc<LocalExecutor>`. The
//!   builder keeps `build` and `build_local` (and adds [`build_on`](NurseryBuilder::build_on)
//!   for any kind), and [`scope`] and [`local_scope`] stay two functions, so that
//!   `build::<MyError>(&ex)` keeps compiling: a function's explicit type arguments cannot skip
//!   one.
//! - A set ignores the builder's `fail_fast`: its children's errors are results.
//! - `race_ok`'s attempts all carry the `race_ok` call as their start site.

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
