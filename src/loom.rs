//! Model tests of the core's state machine, run with loom: every interleaving of the atomics,
//! locks, events and thread-locals of `crate::sync`, up to a preemption bound.
//!
//! ```text
//! RUSTFLAGS="--cfg smol_nursery_loom" LOOM_MAX_PREEMPTIONS=4 \
//!     cargo test --release --lib --target-dir target/loom loom -- --nocapture --test-threads=1
//! ```
//!
//! (The cfg is the crate's own: a global `--cfg loom` reaches concurrent-queue, event-listener
//! and async-io, which then do not build; see `Cargo.toml`.) The models drive the core the way
//! `join`, handles, slots and `start` do, on loom threads, without an executor. A child is the
//! wrapper the executor runs (`Child`, with its `Member`) polled by loom's `block_on`, not a
//! copy of it; a child that is counted and ends without running finishes through the same
//! `Member::finish`. Each prints how many interleavings it explored.
//!
//! | model | what it checks |
//! |---|---|
//! | `start_through_a_handle_races_join` | `start_shared` racing `join`'s close: the child is refused or awaited; `join` never returns while it runs |
//! | `cancel_races_a_childs_first_pending` | `cancel` racing a child's `stop_requested` / `register`: the child is woken or refuses to register (a lost wake-up is a loom deadlock) |
//! | `cancel_leaves_a_shielded_child_alone` | a shielded child is neither stopped nor left registered by a racing `cancel` |
//! | `last_finishes_race_joins_listener` | two last `finish`es racing `join`'s listen-then-check: `join` never hangs nor returns early |
//! | `task_handle_cancel_races_the_childs_end` | `cancel_child` racing the child's end, then `forget_cancel`: nothing left in the registry |
//! | `admission_races_finishes_and_a_dropped_reserver` | under `limit(1)`: two children (one queued), a reserver that gives up while waiting: never two at once, every queued child admitted, every permit back |
//! | `start_signal_races_cancellation` | `Ready::started` or the child's cancellation racing the starter's poll: exactly one outcome, the end goes to the starter xor the nursery |
//! | `start_future_dropped_races_the_childs_failure` | the `start` future dropped while the child fails before ready: its error is dropped exactly once |
//! | `adoption_races_the_parents_close` | a nested nursery dropped (adopted) while its shielded child ends and the parent joins: the parent never closes while the adopted child runs. It found a lost adopter release (a store-buffering race), fixed by the `SeqCst` fences in `Core::finish` and `find_adopter` |
//! | `set_result_pushed_while_next_is_dropped` | a set's child delivering its result while the reader polls `next()` once and drops it: the result is handed out by the next `next()`, then `None` |
//! | `set_panic_races_the_readers_emptiness_check` | a set's child panicking while the reader looks for a result: `next()` resumes the panic, never returns `None` (it once read "no child left" before "no panic"; Miri's scheduling found it) |
//! | `set_result_read_while_the_limit_admits` | under `limit(1)`, a set's result read while its child finishes and a queued child waits: the queued child is admitted exactly once, never while the result is unread, and every permit comes back |
//!
//! What they leave out: the executor (async-executor and async-task are not loom-aware; the
//! models poll the wrapper themselves instead of spawning it), panics other than a set's
//! child's, deadlines and grace
//! (the timer is async-io's), the tree's global table of cores (a `std` lock with no yield
//! point inside), and more than three racing parties (the state space grows too fast; the
//! stress test covers the many-party cases at random).

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::sync::Arc;
use std::task::{Context, Poll};

use loom::future::{block_on, AtomicWaker};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Notify;
use loom::thread;

use async_executor::Executor;

use crate::child::{Child, NoStarter, Starter};
use crate::core::Core;
use crate::error::TaskError;
use crate::executor::ExecutorRef;
use crate::limit::{Grant, Limiter};
use crate::member::{Holds, Member};
use crate::registry::{Id, Site};
use crate::set::NurserySet;
use crate::shared::{Caller, End, Policy, Shared};
use crate::snapshot::CancelCause;

/// Runs `model` under loom and prints how many interleavings it explored.
fn check(name: &str, model: impl Fn() + Sync + Send + 'static) {
    let runs = Arc::new(StdAtomicUsize::new(0));
    let counted = runs.clone();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || {
        counted.fetch_add(1, StdOrdering::Relaxed);
        model();
    });
    println!(
        "loom model {name}: {} interleavings explored (preemption bound {:?})",
        runs.load(StdOrdering::Relaxed),
        builder.preemption_bound
    );
}

/// Where a model's children were "started", for the registry.
fn site() -> Site {
    Site {
        location: Location::caller(),
        graced: false,
    }
}

/// `join`: waits for the last child, then closes the nursery.
fn join(core: &Core) {
    let mut listener = None;
    let mut polls = 0;
    block_on(futures_lite::future::poll_fn(|cx| {
        polls += 1;
        assert!(
            polls < 1000,
            "join polled {polls} times: len {}",
            core.len()
        );
        core.poll_close(&mut listener, cx).map(drop)
    }));
}

/// What a model child's own future waits for: `done`, set by someone who then wakes it.
#[derive(Default)]
struct Work {
    done: AtomicBool,
    waker: AtomicWaker,
}

impl Work {
    /// The child's own work ends: it returns at its next poll.
    fn finish(&self) {
        self.done.store(true, Ordering::Release);
        self.waker.wake();
    }
}

/// A model child's own future: pending until its work is done.
struct Working(Arc<Work>);

impl Future for Working {
    type Output = Result<(), ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        self.0.waker.register_by_ref(cx.waker());
        if self.0.done.load(Ordering::Acquire) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }
}

/// The executor the model nurseries name; nothing is ever spawned on it.
static EX: Executor<'static> = Executor::new();

/// A model nursery: the state a `Nursery` shares with its handles and children.
type Model = Arc<Shared<(), ExecutorRef<'static>>>;

/// Opens a model nursery, without a limit.
fn nursery() -> Model {
    Arc::new(Shared::new(ExecutorRef::from(&EX), Policy::default()))
}

/// Runs child `id` in the wrapper the executor runs for it, polled to its end here; returns
/// `true` if it was cancelled.
fn run_child(shared: &Model, id: Id, shielded: bool, work: &Arc<Work>) -> bool {
    let child = Child::new(
        Working(work.clone()),
        shared.clone(),
        NoStarter,
        id,
        shielded,
        site(),
    );
    match block_on(child).take() {
        Ok(()) => false,
        Err(TaskError::Cancelled) => true,
        Err(other) => panic!("the model child ended with {other:?}"),
    }
}

/// Counts child `id` as finished without running it, as a child dropped unpolled is.
fn finish_unpolled(shared: &Model, id: Id, shielded: bool) {
    Member::new(&shared.core, id, shielded, site(), Holds::Permit).finish(shared);
}

/// A start through a handle racing `join`'s close: the child is either refused or awaited,
/// and `join` never returns while it runs.
#[test]
fn loom_start_through_a_handle_races_join() {
    check("start_through_a_handle_races_join", || {
        let shared = nursery();
        let core = shared.core.clone();
        let running = Arc::new(AtomicBool::new(false));
        let handle = {
            let (shared, running) = (shared.clone(), running.clone());
            thread::spawn(move || match shared.count_child(Caller::Handle) {
                Ok(id) => {
                    running.store(true, Ordering::Relaxed);
                    // The child's work, then its end.
                    running.store(false, Ordering::Relaxed);
                    finish_unpolled(&shared, id, false);
                    true
                }
                Err(_closed) => false,
            })
        };
        join(&core);
        assert!(
            !running.load(Ordering::Relaxed),
            "join returned while a child ran"
        );
        let accepted = handle.join().unwrap();
        assert_eq!(core.len(), 0);
        assert!(core.is_closed());
        // A refused start saw the nursery closed; an accepted one was awaited.
        let _ = accepted;
    });
}

/// A cancellation racing a child's first `Pending`: the child is woken, or refuses to
/// register; it never sleeps through the cancellation (loom reports a deadlock if it does).
#[test]
fn loom_cancel_races_a_childs_first_pending() {
    check("cancel_races_a_childs_first_pending", || {
        let shared = nursery();
        let core = shared.core.clone();
        let id = core.start_owned();
        let canceller = {
            let core = core.clone();
            thread::spawn(move || core.cancel(CancelCause::Explicit))
        };
        let never = Arc::new(Work::default());
        assert!(
            run_child(&shared, id, false, &never),
            "only a cancellation ends it"
        );
        canceller.join().unwrap();
        join(&core);
        assert_eq!(core.registry_footprint(), (0, 0));
    });
}

/// A cancellation racing a child that the full registry cannot list: the child wakes itself
/// whenever it returns `Pending` (so it is polled again, as an executor would), and the first
/// poll after the cancellation stops it.
#[test]
fn loom_cancel_reaches_a_child_the_full_registry_could_not_list() {
    /// Counts the wakes of the child's task.
    struct Wakes(AtomicUsize);
    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::AcqRel);
        }
    }

    check(
        "cancel_reaches_a_child_the_full_registry_could_not_list",
        || {
            let shared = nursery();
            let core = shared.core.clone();
            core.limit_registry(0);
            let id = core.start_owned();
            let canceller = {
                let core = core.clone();
                thread::spawn(move || core.cancel(CancelCause::Explicit))
            };
            let never = Arc::new(Work::default());
            let mut child = Box::pin(Child::new(
                Working(never.clone()),
                shared.clone(),
                NoStarter,
                id,
                false,
                site(),
            ));
            let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
            let waker = std::task::Waker::from(wakes.clone());
            let mut cx = Context::from_waker(&waker);
            let stopped = match child.as_mut().poll(&mut cx) {
                Poll::Ready(output) => {
                    assert_eq!(output.take(), Err(TaskError::Cancelled));
                    true
                }
                Poll::Pending => {
                    assert_eq!(
                        wakes.0.load(Ordering::Acquire),
                        1,
                        "an unlisted child wakes itself"
                    );
                    false
                }
            };
            canceller.join().unwrap();
            if !stopped {
                match child.as_mut().poll(&mut cx) {
                    Poll::Ready(output) => assert_eq!(output.take(), Err(TaskError::Cancelled)),
                    Poll::Pending => panic!("polled after the cancellation, it went on"),
                }
            }
            drop(child);
            join(&core);
            assert_eq!(core.registry_footprint(), (0, 0));
        },
    );
}

/// A cancellation racing a shielded child: it is not stopped, and finishes by itself.
#[test]
fn loom_cancel_leaves_a_shielded_child_alone() {
    check("cancel_leaves_a_shielded_child_alone", || {
        let shared = nursery();
        let core = shared.core.clone();
        let id = core.start_owned();
        let work = Arc::new(Work::default());
        let child = {
            let (shared, work) = (shared.clone(), work.clone());
            thread::spawn(move || run_child(&shared, id, true, &work))
        };
        core.cancel(CancelCause::Explicit);
        work.finish();
        assert!(
            !child.join().unwrap(),
            "a shielded child is never cancelled by the nursery"
        );
        join(&core);
        assert_eq!(core.registry_footprint(), (0, 0));
    });
}

/// The last two `finish`es racing `join`'s listener: `join` never hangs.
#[test]
fn loom_last_finishes_race_joins_listener() {
    check("last_finishes_race_joins_listener", || {
        let shared = nursery();
        let core = shared.core.clone();
        let ids = [core.start_owned(), core.start_owned()];
        let finishers: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let shared = shared.clone();
                thread::spawn(move || finish_unpolled(&shared, id, false))
            })
            .collect();
        join(&core);
        assert_eq!(core.len(), 0, "join returned before the last finish");
        for finisher in finishers {
            finisher.join().unwrap();
        }
    });
}

/// `TaskHandle::cancel` racing the child's own end: the child ends (cancelled or not), and
/// once the handle forgets its request nothing is left in the registry.
#[test]
fn loom_task_handle_cancel_races_the_childs_end() {
    check("task_handle_cancel_races_the_childs_end", || {
        let shared = nursery();
        let core = shared.core.clone();
        let id = core.start_owned();
        let work = Arc::new(Work::default());
        let child = {
            let (shared, work) = (shared.clone(), work.clone());
            thread::spawn(move || run_child(&shared, id, false, &work))
        };
        // The handle's `cancel`; the child's own work ends at the same time.
        core.cancel_child(id);
        work.finish();
        let _cancelled = child.join().unwrap();
        // The handle sees the child finished and forgets its request (`forget_request`).
        core.forget_cancel(id);
        assert_eq!(
            core.registry_footprint(),
            (0, 0),
            "a request outlived its child"
        );
        join(&core);
    });
}

/// Admission under `limit(1)`: two children and a reserver compete for the one place, while
/// a waiting reserver is dropped. Never more than one holds the place, every queued child is
/// admitted (no lost hand-over), and at the end every permit is back.
#[test]
fn loom_admission_races_finishes_and_a_dropped_reserver() {
    check("admission_races_finishes_and_a_dropped_reserver", || {
        type Admit = Box<dyn FnOnce() -> bool + Send>;
        let limiter: Arc<Limiter<Admit>> =
            Arc::new(Limiter::new(std::num::NonZeroUsize::new(1).unwrap()));
        let running = Arc::new(AtomicUsize::new(0));
        let children: Vec<_> = (0..2)
            .map(|_| {
                let (limiter, running) = (limiter.clone(), running.clone());
                thread::spawn(move || {
                    let mut state = limiter.lock();
                    if !state.try_take_for_child(limiter.limit()) {
                        let spawned = Arc::new((AtomicBool::new(false), Notify::new()));
                        let spawn = spawned.clone();
                        state.queue(Box::new(move || {
                            spawn.0.store(true, Ordering::Release);
                            spawn.1.notify();
                            true
                        }));
                        drop(state);
                        // Spawned by whoever hands the place over: wait for it (loom's
                        // `Notify` may wake spuriously).
                        while !spawned.0.load(Ordering::Acquire) {
                            spawned.1.wait();
                        }
                    } else {
                        drop(state);
                    }
                    let now = running.fetch_add(1, Ordering::AcqRel) + 1;
                    assert!(now <= 1, "{now} children hold one place");
                    running.fetch_sub(1, Ordering::AcqRel);
                    limiter.release(|admit| admit());
                })
            })
            .collect();
        // A reserver that gives up while it waits (a `Reserve` future dropped).
        let grant = Arc::new(Grant::default());
        let took = {
            let mut state = limiter.lock();
            let took = state.try_take_for_slot(limiter.limit());
            if !took {
                state.wait_for_slot(grant.clone());
            }
            took
        };
        if took {
            limiter.release(|admit| admit());
        } else if !limiter.lock().forget_reserver(&grant) && grant.abandon() {
            // Handed the place as it gave up: it passes the place on.
            limiter.release(|admit| admit());
        }
        for child in children {
            child.join().unwrap();
        }
        assert_eq!(limiter.lock().held(), 0, "a permit was lost");
    });
}

/// `start`'s ready signal racing the child's cancellation and the starter: the starter gets
/// exactly one outcome, and the child's end goes to the starter or to the nursery, never
/// both, never neither.
#[test]
fn loom_start_signal_races_cancellation() {
    check("start_signal_races_cancellation", || {
        let (ready, link, start) = crate::start::model_parts::<u32, (), ()>();
        let ready_first = Arc::new(AtomicBool::new(false));
        let child = {
            let ready_first = ready_first.clone();
            thread::spawn(move || {
                // The child says it is ready, or is cancelled before it could: whichever the
                // interleaving makes it.
                if ready_first.load(Ordering::Acquire) {
                    ready.started(7);
                    None
                } else {
                    drop(ready);
                    let end = End {
                        error: None,
                        panic: None,
                        cancelled: true,
                    };
                    // `None`: the starter took the end; `Some`: it goes to the nursery.
                    Some(Starter::take_end(&link, end).is_none())
                }
            })
        };
        ready_first.store(true, Ordering::Release);
        let outcome = block_on(start);
        let to_starter = child.join().unwrap();
        match (outcome, to_starter) {
            (Ok((7, _)), None) => {}
            (Err(crate::StartError::Cancelled), Some(true)) => {}
            (outcome, to_starter) => panic!(
                "starter got {:?}, the child's end went to the starter: {to_starter:?}",
                outcome.map(|(value, _)| value)
            ),
        }
    });
}

/// Adoption racing the parent's close: a nursery dropped inside the parent's child hands its
/// still-running shielded child to the parent, whose `join` waits for it.
#[test]
fn loom_adoption_races_the_parents_close() {
    check("adoption_races_the_parents_close", || {
        let parent = nursery();
        let child_of_parent = parent.core.start_owned();
        let nested = crate::core::enter(&parent.core, child_of_parent, nursery);
        let shielded = nested.core.start_owned();
        let running = Arc::new(AtomicBool::new(true));

        // The parent's child drops the nested nursery, then ends.
        let dropper = {
            let (parent, nested) = (parent.clone(), nested.clone());
            thread::spawn(move || {
                nested.abandon();
                finish_unpolled(&parent, child_of_parent, false);
            })
        };
        // The nested nursery's shielded child ends by itself.
        let worker = {
            let (nested, running) = (nested.clone(), running.clone());
            thread::spawn(move || {
                running.store(false, Ordering::Release);
                finish_unpolled(&nested, shielded, true);
            })
        };
        join(&parent.core);
        assert!(
            !running.load(Ordering::Acquire),
            "the parent closed while its adopted child ran"
        );
        dropper.join().unwrap();
        worker.join().unwrap();
    });
}

/// A set's result pushed while a reader's `next()` is polled and dropped: the dropped wait
/// loses nothing, the next `next()` hands the result out, then `None`.
#[test]
fn loom_set_result_pushed_while_next_is_dropped() {
    check("set_result_pushed_while_next_is_dropped", || {
        let mut set =
            NurserySet::<u32, (), _>::with_policy(ExecutorRef::from(&EX), Policy::default());
        let work = Arc::new(Work::default());
        let working = Working(work.clone());
        let child = set.model_child(async move { working.await.map(|()| 7) });
        let worker = thread::spawn(move || {
            let output = block_on(child);
            drop(output);
        });
        work.finish();
        // One poll of `next()`, then its future is dropped: a result may or may not be there.
        let first = futures_lite::future::block_on(futures_lite::future::poll_once(set.next()));
        worker.join().unwrap();
        match first {
            Some(result) => assert_eq!(result, Some(Ok(7))),
            None => assert_eq!(
                block_on(set.next()),
                Some(Ok(7)),
                "the dropped wait lost it"
            ),
        }
        assert_eq!(block_on(set.next()), None);
    });
}

/// Under `limit(1)`, a set's result is read while its child finishes and a queued child waits
/// for the place: the queued child is admitted exactly once, only after the result was read,
/// and every permit comes back.
#[test]
fn loom_set_result_read_while_the_limit_admits() {
    check("set_result_read_while_the_limit_admits", || {
        let policy = Policy {
            limit: std::num::NonZeroUsize::new(1),
            fail_fast: true,
        };
        let mut set = NurserySet::<u32, (), _>::with_policy(ExecutorRef::from(&EX), policy);
        let shared = set.model_shared().clone();
        let limiter = shared.limiter.as_ref().unwrap();
        assert!(
            limiter.lock().try_take_for_child(1),
            "the first child takes the place"
        );
        let admitted = Arc::new(AtomicUsize::new(0));
        {
            let (core, admitted) = (Arc::downgrade(&shared.core), admitted.clone());
            let mut state = limiter.lock();
            assert!(!state.try_take_for_child(1), "full");
            state.queue(Box::new(move |_: &ExecutorRef<'static>| {
                let core = core.upgrade().unwrap();
                assert_eq!(core.unread(), 0, "admitted while a result waited unread");
                admitted.fetch_add(1, Ordering::AcqRel);
                true
            }));
        }
        let child = set.model_child(async { Ok(1) });
        let worker = thread::spawn(move || drop(block_on(child)));
        // The reader: takes the result as soon as it is there.
        loop {
            if let Some(Some(result)) =
                futures_lite::future::block_on(futures_lite::future::poll_once(set.next()))
            {
                assert_eq!(result, Ok(1));
                break;
            }
            thread::yield_now();
        }
        worker.join().unwrap();
        // The admitted child (never run here) ends: its permit comes back.
        if admitted.load(Ordering::Acquire) == 1 {
            shared.release_permit();
        }
        assert_eq!(
            admitted.load(Ordering::Acquire),
            1,
            "the queued child was not admitted"
        );
        assert_eq!(limiter.lock().held(), 0, "a permit was lost");
    });
}

/// A set's child panicking while the reader looks for a result: `next()` never returns `None`
/// instead of resuming the panic (it read "no child left" before "no panic" once, and lost
/// the panic; the interleaving Miri found).
#[test]
fn loom_set_panic_races_the_readers_emptiness_check() {
    // The child's panic is planned: keep it off the output of every interleaving.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<u8>() {
            default(info);
        }
    }));
    check("set_panic_races_the_readers_emptiness_check", || {
        let mut set =
            NurserySet::<u32, (), _>::with_policy(ExecutorRef::from(&EX), Policy::default());
        let child = set.model_child(async {
            std::panic::panic_any(7_u8);
            #[allow(unreachable_code)]
            Ok(0)
        });
        let worker = thread::spawn(move || drop(block_on(child)));
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| block_on(set.next())));
        worker.join().unwrap();
        let panic = next.expect_err("the panic was lost: next() returned");
        assert_eq!(*panic.downcast::<u8>().unwrap(), 7);
    });
}

/// Counts the drops of the values it is attached to.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// The `start` future dropped while its child fails before it is ready: the child's error
/// goes to the starter or to the nursery (the starter being gone, it is dropped), exactly
/// once.
#[test]
fn loom_start_future_dropped_races_the_childs_failure() {
    check("start_future_dropped_races_the_childs_failure", || {
        let (ready, link, start) = crate::start::model_parts::<u32, (), Dropped>();
        let drops = Arc::new(AtomicUsize::new(0));
        let child = {
            let drops = drops.clone();
            thread::spawn(move || {
                drop(ready);
                let end = End {
                    error: Some(Dropped(drops)),
                    panic: None,
                    cancelled: false,
                };
                // What the starter does not take goes to the nursery, which drops it here.
                drop(Starter::take_end(&link, end));
            })
        };
        drop(start);
        child.join().unwrap();
        assert_eq!(
            drops.load(Ordering::Acquire),
            1,
            "the error was dropped twice or never"
        );
    });
}
