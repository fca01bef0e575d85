//! Rule 28: `race_ok`. The stagger (no second attempt before it, one well within it), a
//! failure starting the next at once, the first `Ok` winning with every loser's future
//! dropped before `race_ok` returns, attempts never taken once one won, every error in failure
//! order, no attempts, `Duration::ZERO`, a huge stagger, a panic, the future dropped, and the
//! local form. Timed tests need async-io's timer, which Miri cannot run.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::{future, FutureExt};
use smol_nursery::{local_race_ok, race_ok};

use crate::common::{run, run_local, sleep, yields, Count, Counter, THREADS};

/// When each attempt started, relative to the race's start.
#[derive(Clone, Default)]
struct Starts(Arc<Mutex<Vec<Duration>>>);

impl Starts {
    fn note(&self, since: Instant) {
        self.0.lock().unwrap().push(since.elapsed());
    }
    fn get(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

/// No second attempt before the stagger has passed; one well within a few staggers.
#[cfg(not(miri))]
#[test]
fn the_next_attempt_starts_after_the_stagger() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let starts = Starts::default();
            let began = Instant::now();
            let attempts = (0..2).map(|i| {
                let starts = starts.clone();
                async move {
                    starts.note(began);
                    if i == 0 {
                        future::pending::<()>().await;
                    }
                    Ok::<_, ()>(i)
                }
            });
            let won = race_ok(&ex, attempts, Duration::from_millis(200)).await;
            assert_eq!(won, Ok(1));
            let starts = starts.get();
            assert_eq!(starts.len(), 2);
            assert!(
                starts[1] >= Duration::from_millis(200),
                "too early: {starts:?}"
            );
            assert!(
                starts[1] < Duration::from_millis(1500),
                "too late: {starts:?}"
            );
        });
    }
}

/// A failure starts the next attempt at once, long before the stagger.
#[cfg(not(miri))]
#[test]
fn a_failure_starts_the_next_attempt_at_once() {
    run(2, |ex| async move {
        let starts = Starts::default();
        let began = Instant::now();
        let attempts = (0..3).map(|i| {
            let starts = starts.clone();
            async move {
                starts.note(began);
                if i < 2 {
                    Err(format!("attempt {i} refused"))
                } else {
                    Ok(i)
                }
            }
        });
        let won = race_ok(&ex, attempts, Duration::from_secs(30)).await;
        assert_eq!(won, Ok(2));
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "waited for the stagger"
        );
        assert_eq!(starts.get().len(), 3);
    });
}

/// The first `Ok` wins; every loser's future has been dropped when `race_ok` returns, and no
/// attempt is taken from the iterator after the win.
#[test]
fn the_first_ok_wins_and_every_loser_is_dropped_first() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let pulls = Count::default();
            let attempts = (0..10).inspect(|_| pulls.bump()).map(|i| {
                let guard = alive.guard();
                async move {
                    let _guard = guard;
                    if i == 2 {
                        yields(3).await;
                        Ok::<_, ()>(i)
                    } else {
                        future::pending().await
                    }
                }
            });
            let won = race_ok(&ex, attempts, Duration::ZERO).await;
            assert_eq!(won.ok(), Some(2));
            assert_eq!(alive.alive(), 0, "a loser outlived race_ok");
            assert_eq!(
                pulls.get(),
                10,
                "Duration::ZERO starts every attempt at once"
            );
        });
    }
}

/// Once an attempt won, the attempts not taken yet are never taken, even while a loser takes
/// longer than the stagger to wind down (the stagger timer must not start another). The loser
/// blocks an executor thread, so the race is polled on a thread of its own.
#[cfg(not(miri))]
#[test]
fn attempts_are_never_taken_once_one_won() {
    run(2, |ex| async move {
        let pulls = Count::default();
        let (done, result) = async_channel::bounded(1);
        let (ex2, counted) = (ex.clone(), pulls.clone());
        std::thread::spawn(move || {
            let attempts = (0..5).inspect(move |_| counted.bump()).map(|i| async move {
                if i == 0 {
                    // Busy past two staggers, then pending until cancelled.
                    std::thread::sleep(Duration::from_millis(400));
                    future::pending::<()>().await;
                }
                Ok::<_, ()>(i)
            });
            let won = future::block_on(race_ok(&ex2, attempts, Duration::from_millis(100)));
            done.send_blocking(won).unwrap();
        });
        let won = result.recv().await.unwrap();
        assert_eq!(won.ok(), Some(1));
        assert_eq!(pulls.get(), 2, "an attempt was taken after the win");
    });
}

/// Every attempt fails: every error, in the order the attempts failed (not the order they
/// started), each with the `race_ok` call as its origin.
#[test]
fn every_error_in_failure_order() {
    run(1, |ex| async move {
        let line = line!() + 1;
        let race = race_ok(
            &ex,
            (0..3).map(|i| async move {
                yields(3 - i).await;
                Err::<(), _>(i)
            }),
            Duration::ZERO,
        );
        let err = race.await.unwrap_err();
        assert_eq!(err.errors(), [2, 1, 0]);
        assert_eq!(err.origins().len(), 3);
        assert!(err.origins().all(|(_, site)| site.line() == line));
    });
}

/// No attempt at all: an error with no error, whose message says so.
#[test]
fn no_attempt_is_an_error_that_says_so() {
    run(1, |ex| async move {
        let none = std::iter::empty::<future::Ready<Result<u8, String>>>();
        let err = race_ok(&ex, none, Duration::from_millis(10))
            .await
            .unwrap_err();
        assert!(err.errors().is_empty());
        assert_eq!(err.to_string(), "race_ok: no attempt was made");
    });
}

/// A stagger too large for an `Instant` starts the next attempt only when one fails.
#[cfg(not(miri))]
#[test]
fn a_huge_stagger_waits_for_a_failure() {
    run(1, |ex| async move {
        let pulls = Count::default();
        let attempts = (0..3).inspect(|_| pulls.bump()).map(|i| async move {
            sleep(20).await;
            if i == 0 {
                Err(())
            } else {
                Ok(i)
            }
        });
        let mut race = Box::pin(race_ok(&ex, attempts, Duration::MAX));
        assert!(future::poll_once(race.as_mut()).await.is_none());
        sleep(5).await;
        assert_eq!(
            pulls.get(),
            1,
            "no timer: the second waits for the first to fail"
        );
        assert_eq!(race.await, Ok(1));
        assert_eq!(pulls.get(), 2);
    });
}

/// Nothing happens until the future is first polled.
#[test]
fn nothing_happens_before_the_first_poll() {
    run(1, |ex| async move {
        let pulls = Count::default();
        let attempts = (0..3)
            .inspect(|_| pulls.bump())
            .map(|i| async move { Ok::<_, ()>(i) });
        let race = race_ok(&ex, attempts, Duration::ZERO);
        yields(3).await;
        assert_eq!(pulls.get(), 0);
        assert!(race.await.is_ok());
    });
}

/// A boxed attempt, for attempts of different types.
type Attempt = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u8, ()>> + Send>>;

/// A panicking attempt cancels the others; its panic is resumed once they have finished, even
/// though another attempt had already won. The panicking attempt blocks its thread until the
/// winner has returned, so the win comes first; it needs a second thread.
#[test]
fn a_panic_is_resumed_even_after_a_win() {
    for threads in [2, 4] {
        run(threads, |ex| async move {
            use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
            let (started, won) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicBool::new(false)),
            );
            let alive = Counter::default();
            let guard = alive.guard();
            let (loser_started, winner) = (started.clone(), won.clone());
            let attempts: Vec<Attempt> = vec![
                Box::pin(async move {
                    // Wins only once the other attempt runs (and so cannot be cancelled
                    // before it panics).
                    while !loser_started.load(SeqCst) {
                        future::yield_now().await;
                    }
                    winner.store(true, SeqCst);
                    Ok(1)
                }),
                Box::pin(async move {
                    let _guard = guard;
                    started.store(true, SeqCst);
                    while !won.load(SeqCst) {
                        std::thread::yield_now();
                    }
                    // Give the race a moment to take the win and cancel the rest.
                    std::thread::sleep(Duration::from_millis(20));
                    std::panic::panic_any("attempt panicked")
                }),
            ];
            let panic = AssertUnwindSafe(race_ok(&ex, attempts, Duration::ZERO))
                .catch_unwind()
                .await
                .expect_err("the panic reaches the caller");
            assert_eq!(*panic.downcast::<&str>().unwrap(), "attempt panicked");
            assert_eq!(alive.alive(), 0);
        });
    }
}

/// Dropping the race's future cancels every started attempt.
#[test]
fn dropping_the_race_cancels_its_attempts() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let attempts: Vec<_> = (0..3).map(|_| alive.forever::<Result<(), ()>>()).collect();
            let mut race = Box::pin(race_ok(&ex, attempts, Duration::ZERO));
            assert!(future::poll_once(race.as_mut()).await.is_none());
            drop(race);
            while alive.alive() > 0 {
                future::yield_now().await;
            }
        });
    }
}

/// The race's future is `Send` when its iterator, attempts and values are.
#[test]
fn the_race_future_is_send() {
    fn send<T: Send>(_: &T) {}
    let ex = Arc::new(async_executor::Executor::new());
    let race = race_ok(&ex, vec![async { Ok::<u8, String>(1) }], Duration::ZERO);
    send(&race);
}

/// The local form races `!Send` attempts on a `LocalExecutor`.
#[cfg(not(miri))]
#[test]
fn local_race_ok_takes_attempts_that_are_not_send() {
    run_local(|ex| async move {
        let tried = Rc::new(Cell::new(0));
        let attempts = (0..3).map(|i| {
            let tried = tried.clone();
            async move {
                tried.set(tried.get() + 1);
                if i < 2 {
                    Err(Rc::new(i))
                } else {
                    Ok(Rc::new("won"))
                }
            }
        });
        let won = local_race_ok(&ex, attempts, Duration::from_secs(60)).await;
        assert_eq!(*won.unwrap(), "won");
        assert_eq!(tried.get(), 3);
    });
}
