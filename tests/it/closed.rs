//! Starting children into a cancelled nursery, where a plain child never runs, and into a
//! closed one (after `join` returned or the nursery was dropped), where
//! `NurseryHandle::start_soon` returns `NurseryClosed` and drops the future without polling it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::common::{self, *};
use smol_nursery::{shield, Nursery, NurseryClosed, TaskError};

#[test]
fn a_plain_child_started_into_a_cancelled_nursery_never_runs() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let ran = Count::default();
            let alive = Counter::default();
            let nursery = Nursery::<()>::new(&ex);
            nursery.cancel();
            let r = ran.clone();
            let guard = alive.guard();
            let child = nursery.start_soon(async move {
                let _guard = guard;
                r.bump();
                Ok(())
            });
            assert_eq!(nursery.join().await, Ok(()));
            assert_eq!(ran.get(), 0);
            assert_eq!(alive.alive(), 0);
            assert_eq!(child.await, Err(TaskError::Cancelled));
        });
    }
}

#[test]
fn after_join_start_soon_fails_and_drops_the_future_unpolled() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        nursery.join().await.unwrap();
        assert!(handle.is_closed());

        let polled = Count::default();
        let alive = Counter::default();
        let p = polled.clone();
        let guard = alive.guard();
        let result = handle.start_soon(async move {
            let _guard = guard;
            p.bump();
            Ok(())
        });
        assert_eq!(result.unwrap_err(), NurseryClosed);
        assert_eq!(alive.alive(), 0, "the future was kept");
        yields(3).await;
        assert_eq!(polled.get(), 0);
        assert!(handle.start_soon(shield(async { Ok(()) })).is_err());
    });
}

#[test]
fn after_drop_start_soon_fails() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        drop(nursery);
        assert!(handle.is_closed());
        assert!(handle.is_cancelled(), "dropping cancels");
        assert_eq!(
            handle.start_soon(async { Ok(()) }).unwrap_err(),
            NurseryClosed
        );
    });
}

#[test]
fn cancel_after_close_is_a_no_op() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        nursery.join().await.unwrap();
        handle.cancel();
        assert!(!handle.is_cancelled());
    });
}

#[test]
fn nursery_closed_is_a_small_error() {
    fn assert_traits<T: std::error::Error + Clone + Copy + PartialEq + Send + Sync + 'static>() {}
    assert_traits::<NurseryClosed>();
    assert_eq!(
        NurseryClosed.to_string(),
        "starting a task in a closed nursery"
    );
    assert_eq!(format!("{NurseryClosed:?}"), "NurseryClosed");
}

/// A thread outside the executor starts children while `join` closes the nursery: each child
/// is either accepted, and then `join` does not return before it has finished, or refused with
/// `NurseryClosed`, and then its future is dropped without being polled. None is lost.
///
/// The race is arranged, not hoped for. `join` runs on a thread of its own and begins waiting
/// while a busy child keeps the nursery open; the busy child ends once the starter thread has
/// made its first start. Then, each time the nursery becomes empty and `join` is woken to
/// close it, the joining thread holds `join` at a gate until the starter is ready too, and
/// both are let go at once: the next start races the close. A round ends with the first start
/// that loses. A round *hits* the race when it had both outcomes: a start into the empty
/// nursery accepted while `join` was closing it (so `join` had to wait for that child), and a
/// later start refused. The test fails if no round hit.
#[test]
fn start_soon_racing_join_is_accepted_or_refused_never_lost() {
    const ROUNDS: usize = common::scaled(200, 8);
    let mut hits = 0;
    let mut won = 0;
    let mut lost = 0;
    for round in 0..ROUNDS {
        let threads = 1 + round % 4;
        let outcome = run(threads, move |ex| race_join(ex, round as u64));
        won += outcome.won;
        lost += usize::from(outcome.refused);
        hits += usize::from(outcome.won > 0 && outcome.refused);
    }
    println!(
        "start_soon racing join: {hits} of {ROUNDS} rounds hit the race \
         ({won} starts won against the close, {lost} lost)"
    );
    assert!(
        hits > 0,
        "no round had both a start that won against join's close and one that lost: the race \
         was not exercised ({won} starts won, {lost} lost in {ROUNDS} rounds)"
    );
}

/// The most starts one round makes; the round stops earlier at the first refused start.
const RACE_MAX_STARTS: usize = common::scaled(64, 32);

/// How many times a thread of the race spins on a flag before it starts yielding its thread.
const RACE_SPINS: usize = common::scaled(10_000, 10);

/// What one round of `start_soon_racing_join_is_accepted_or_refused_never_lost` saw.
#[derive(Debug)]
struct RaceOutcome {
    /// Starts accepted.
    accepted: usize,
    /// Starts accepted into an empty nursery that `join` was closing.
    won: usize,
    /// The round ended with a refused start.
    refused: bool,
}

/// Where the joining thread and the starter meet before each start.
#[derive(Default)]
struct Gate {
    /// `join` was woken and waits at the gate.
    join_ready: AtomicBool,
    /// The starter lets `join` go.
    go: AtomicBool,
    /// `join` has returned.
    joined: AtomicBool,
    /// The starter has made its last start: `join` no longer waits at the gate.
    open: AtomicBool,
}

/// Spins until `done` returns true, yielding the thread after a while so that a loaded machine
/// keeps moving.
fn spin_until(mut done: impl FnMut() -> bool) {
    let mut spins = 0;
    while !done() {
        spins += 1;
        if spins < RACE_SPINS {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Busy-waits up to about 4 microseconds, on a log scale, so that either side of the race may
/// move first.
fn random_pause(rng: &mut fastrand::Rng) {
    let nanos = match rng.u32(0..=12) {
        0 => return,
        k => 1u64 << k,
    };
    let until = Instant::now() + Duration::from_nanos(nanos);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Wakes the thread that polls `join`, and notes that it was woken.
struct Unpark {
    woken: AtomicBool,
    thread: std::thread::Thread,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `join` to completion on the current thread; after each wake-up, waits at the gate for
/// the starter before polling again.
fn gated_join(nursery: Nursery<'static, ()>, gate: &Gate, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let unpark = Arc::new(Unpark {
        woken: AtomicBool::new(false),
        thread: std::thread::current(),
    });
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut join = std::pin::pin!(nursery.join());
    loop {
        if let Poll::Ready(result) = join.as_mut().poll(&mut cx) {
            gate.joined.store(true, Ordering::SeqCst);
            return result.unwrap();
        }
        while !unpark.woken.swap(false, Ordering::SeqCst) {
            std::thread::park();
        }
        gate.join_ready.store(true, Ordering::SeqCst);
        spin_until(|| gate.go.swap(false, Ordering::SeqCst) || gate.open.load(Ordering::SeqCst));
        random_pause(&mut rng);
    }
}

async fn race_join(ex: Arc<async_executor::Executor<'static>>, seed: u64) -> RaceOutcome {
    let nursery = Nursery::<()>::new(&ex);
    let handle = nursery.handle();
    let ran = Count::default();
    let alive = Counter::default();
    let gate = Arc::new(Gate::default());
    let (release, released) = async_channel::bounded::<()>(1);

    // Keeps the nursery open until the starter has made its first start.
    nursery.start_soon(async move {
        let _ = released.recv().await;
        Ok(())
    });

    let joiner = {
        let (gate, ran) = (gate.clone(), ran.clone());
        std::thread::spawn(move || {
            gated_join(nursery, &gate, seed);
            ran.get()
        })
    };

    let starter = {
        let (ran, alive) = (ran.clone(), alive.clone());
        std::thread::spawn(move || {
            let mut rng = fastrand::Rng::with_seed(!seed);
            let mut outcome = RaceOutcome {
                accepted: 0,
                won: 0,
                refused: false,
            };
            for i in 0..RACE_MAX_STARTS {
                if i > 0 {
                    // Wait until `join` was woken (the nursery is empty) or has returned,
                    // then let it go and race it.
                    spin_until(|| {
                        gate.join_ready.load(Ordering::SeqCst) || gate.joined.load(Ordering::SeqCst)
                    });
                    gate.join_ready.store(false, Ordering::SeqCst);
                    gate.go.store(true, Ordering::SeqCst);
                    random_pause(&mut rng);
                }
                let empty = handle.is_empty();
                let (ran, guard) = (ran.clone(), alive.guard());
                let child = async move {
                    let _guard = guard;
                    ran.bump();
                    Ok(())
                };
                match handle.start_soon(child) {
                    Ok(_) => {
                        outcome.accepted += 1;
                        outcome.won += usize::from(i > 0 && empty);
                    }
                    Err(NurseryClosed) => {
                        outcome.refused = true;
                        break;
                    }
                }
                if i == 0 {
                    // The busy child ends: from now on `join` may close the nursery.
                    release.close();
                }
            }
            // Also when the first start was refused (a bug): then `join` must not hang.
            release.close();
            gate.open.store(true, Ordering::SeqCst);
            outcome
        })
    };

    let outcome = blocking_join(starter).await;
    let ran_when_join_returned = blocking_join(joiner).await;
    assert_eq!(
        ran_when_join_returned, outcome.accepted,
        "join returned before every accepted child had run: {outcome:?}"
    );
    assert_eq!(alive.alive(), 0, "a child future was kept: {outcome:?}");
    yields(3).await;
    assert_eq!(
        ran.get(),
        outcome.accepted,
        "a refused child was polled: {outcome:?}"
    );
    outcome
}

/// Awaits a thread's end without blocking the executor.
async fn blocking_join<T: Send + 'static>(thread: std::thread::JoinHandle<T>) -> T {
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || tx.send_blocking(thread.join().unwrap()).unwrap());
    rx.recv().await.unwrap()
}

#[test]
fn handles_outlive_the_nursery_safely() {
    let ex = Arc::new(async_executor::Executor::new());
    let nursery = Nursery::<()>::new(&ex);
    let handle = nursery.handle();
    let clone = handle.clone();
    drop(nursery);
    drop(ex);
    assert!(clone.is_closed());
    assert!(handle.start_soon(async { Ok(()) }).is_err());
}
