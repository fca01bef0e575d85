//! Rule 27: sets. Results in completion order, errors as results, cancelled children adding
//! nothing, a panic resumed once every child finished, `next` dropped mid-wait losing nothing,
//! the limit counting unread results, `join` returning the unread values or errors, dropping
//! a set. Multi-threaded rules run on 1, 2 and 4 threads.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures_lite::{future, FutureExt, StreamExt};
use smol_nursery::{shield, LocalNurserySet, NurseryBuilder, NurserySet};

use crate::common::{run, run_local, sleep, yields, Count, Counter, THREADS};

/// A gate a child waits at until the test opens it.
fn gate() -> (async_channel::Sender<()>, async_channel::Receiver<()>) {
    async_channel::bounded(1)
}

/// Results come in the order the children finish, not the order they started.
#[test]
fn results_come_in_completion_order() {
    for threads in THREADS {
        run(threads, move |ex| async move {
            let mut set = NurserySet::<usize, ()>::new(&ex);
            let mut gates = Vec::new();
            for i in 0..3 {
                let (open, wait) = gate();
                gates.push(open);
                set.start_soon(async move {
                    wait.recv().await.unwrap();
                    Ok(i)
                });
            }
            for i in [2, 0, 1] {
                gates[i].send(()).await.unwrap();
                assert_eq!(set.next().await, Some(Ok(i)), "{threads} threads");
            }
            assert_eq!(set.next().await, None);
        });
    }
}

/// An `Err` is a result: it cancels nothing, and the other children deliver theirs.
#[test]
fn errors_are_results_and_cancel_nothing() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let mut set = NurserySet::<u32, String>::new(&ex);
            set.start_soon(async { Err(String::from("refused")) });
            for i in 0..4 {
                set.start_soon(async move {
                    sleep(5).await;
                    Ok(i)
                });
            }
            let (mut values, mut errors) = (Vec::new(), Vec::new());
            while let Some(result) = set.next().await {
                match result {
                    Ok(value) => values.push(value),
                    Err(error) => errors.push(error),
                }
            }
            values.sort();
            assert_eq!(values, [0, 1, 2, 3]);
            assert_eq!(errors, ["refused"]);
            assert!(!set.is_cancelled(), "an error cancels nothing");
            assert_eq!(set.join().await, Ok(vec![]));
        });
    }
}

/// The builder's `fail_fast(false)` changes nothing for a set: an `Err` cancels nothing either
/// way.
#[test]
fn fail_fast_does_not_apply_to_sets() {
    run(1, |ex| async move {
        for fail_fast in [true, false] {
            let mut set = NurseryBuilder::new()
                .fail_fast(fail_fast)
                .build_set::<u32, &str>(&ex);
            set.start_soon(async { Err("first") });
            set.start_soon(async {
                yields(3).await;
                Ok(2)
            });
            let results: Vec<_> = (&mut set).collect().await;
            assert_eq!(results.len(), 2, "fail_fast({fail_fast})");
            assert!(!set.is_cancelled());
        }
    });
}

/// A cancelled child adds no result, whether it was running, never polled, or started into a
/// cancelled set; a shielded one still delivers.
#[test]
fn cancelled_children_add_no_result() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let mut set = NurserySet::<&str, ()>::new(&ex);
            set.start_soon(alive.forever());
            set.start_soon(shield(async {
                sleep(10).await;
                Ok("shielded")
            }));
            yields(2).await;
            set.cancel();
            set.start_soon(async { Ok("started after the cancel") });
            assert_eq!(set.next().await, Some(Ok("shielded")));
            assert_eq!(set.next().await, None);
            assert_eq!(alive.alive(), 0);
            assert_eq!(set.join().await, Ok(vec![]));
        });
    }
}

/// `next` returns `None` at once for an empty set, and yields again once the set is given new
/// children.
#[test]
fn an_empty_set_yields_none_then_new_results() {
    run(1, |ex| async move {
        let mut set = NurserySet::<u32, ()>::new(&ex);
        assert_eq!(set.next().await, None);
        assert!(set.is_empty());
        set.start_soon(async { Ok(7) });
        assert_eq!(set.len(), 1);
        assert_eq!(set.next().await, Some(Ok(7)));
        assert_eq!(set.next().await, None);
    });
}

/// A panic cancels the set; `next` hands out no further result and resumes the panic only
/// once every child (here a shielded one still running) has finished; the unread results are
/// dropped; afterwards the set is an ordinary cancelled set.
#[test]
fn a_panic_is_resumed_by_next_once_every_child_finished() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let dropped = Count::default();
            let finished = Arc::new(AtomicUsize::new(0));
            let mut set = NurserySet::<Tracked, ()>::new(&ex);
            let unread = dropped.clone();
            set.start_soon(async move { Ok(Tracked(unread)) });
            yields(4).await;
            let (open, wait) = gate();
            let shielded_done = finished.clone();
            set.start_soon(shield(async move {
                wait.recv().await.unwrap();
                shielded_done.fetch_add(1, Ordering::SeqCst);
                Ok(Tracked(Count::default()))
            }));
            set.start_soon(async { std::panic::panic_any("child panicked") });
            set.cancelled().await;
            // The shielded child still runs: `next` must wait for it.
            let mut next = Box::pin(AssertUnwindSafe(set.next()).catch_unwind());
            assert!(future::poll_once(next.as_mut()).await.is_none());
            open.send(()).await.unwrap();
            let panic = next.await.expect_err("the panic is resumed");
            assert_eq!(*panic.downcast::<&str>().unwrap(), "child panicked");
            assert_eq!(
                finished.load(Ordering::SeqCst),
                1,
                "resumed after every child"
            );
            assert!(dropped.get() >= 1, "the unread results were dropped");
            // An ordinary cancelled set now: nothing left, and `join` does not panic again.
            assert!(set.next().await.is_none());
            assert_eq!(set.join().await.map(|v| v.len()), Ok(0));
        });
    }
}

/// A value that counts its drops.
#[derive(Debug)]
struct Tracked(Count);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.bump();
    }
}

/// A panic not yet resumed by `next` is resumed by `join`, once.
#[test]
fn a_panic_is_resumed_by_join_if_next_did_not() {
    run(2, |ex| async move {
        let set = NurserySet::<u32, ()>::new(&ex);
        set.start_soon(async { Ok(1) });
        set.start_soon(async { std::panic::panic_any(42_u32) });
        let panic = AssertUnwindSafe(set.join())
            .catch_unwind()
            .await
            .expect_err("join resumes the panic");
        assert_eq!(*panic.downcast::<u32>().unwrap(), 42);
    });
}

/// Dropping `next`'s future in a race against a timer loses no result.
#[test]
fn next_dropped_mid_wait_loses_nothing() {
    for threads in THREADS {
        run(threads, |ex| async move {
            const N: u32 = crate::common::scaled(200, 20) as u32;
            let mut set = NurserySet::<u32, ()>::new(&ex);
            for i in 0..N {
                set.start_soon(async move {
                    yields((i % 7) as usize).await;
                    Ok(i)
                });
            }
            let mut seen = Vec::new();
            let mut timeouts = 0;
            loop {
                let next = async { Some(set.next().await) };
                let timer = async {
                    future::yield_now().await;
                    None
                };
                match next.or(timer).await {
                    Some(Some(result)) => seen.push(result.unwrap()),
                    Some(None) => break,
                    None => timeouts += 1,
                }
            }
            seen.sort();
            assert_eq!(seen, (0..N).collect::<Vec<_>>(), "{timeouts} dropped waits");
        });
    }
}

/// Under `limit(2)`, running children plus unread results are at most 2: a slow reader holds
/// the set back; reading one result lets one more child start.
#[test]
fn the_limit_counts_unread_results() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let started = Count::default();
            let mut set = NurseryBuilder::new().limit(2).build_set::<u32, ()>(&ex);
            for i in 0..6 {
                let started = started.clone();
                set.start_soon(async move {
                    started.bump();
                    Ok(i)
                });
            }
            sleep(20).await;
            assert_eq!(
                started.get(),
                2,
                "two results wait unread: nothing else starts"
            );
            assert_eq!(set.snapshot().unread(), 2);
            assert_eq!(set.len(), 6);
            assert_eq!(set.next().await, Some(Ok(0)));
            sleep(20).await;
            assert_eq!(started.get(), 3, "one read, one more started");
            let mut rest: Vec<_> = (&mut set).map(Result::unwrap).collect().await;
            rest.sort();
            assert_eq!(rest, [1, 2, 3, 4, 5]);
            assert_eq!(started.get(), 6);
        });
    }
}

/// From the moment `join` is first polled, unread results stop counting: a set full of
/// unread results does not make `join` wait for a reader.
#[test]
fn join_stops_counting_unread_results() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let set = NurseryBuilder::new().limit(1).build_set::<u32, ()>(&ex);
            for i in 0..5 {
                set.start_soon(async move { Ok(i) });
            }
            assert_eq!(set.join().await, Ok(vec![0, 1, 2, 3, 4]));
        });
    }
}

/// A panic under a limit whose places are held by unread results: `next` stops counting them,
/// so the queued children are admitted (and cancelled, or run if shielded), and the panic
/// is resumed instead of waiting forever.
#[test]
fn a_panic_under_a_full_limit_does_not_wait_for_a_reader() {
    run(2, |ex| async move {
        let ran = Count::default();
        let mut set = NurseryBuilder::new().limit(2).build_set::<u32, ()>(&ex);
        set.start_soon(async { Ok(1) });
        set.start_soon(async {
            yields(5).await;
            std::panic::panic_any("boom")
        });
        let shielded = ran.clone();
        set.start_soon(shield(async move {
            shielded.bump();
            Ok(3)
        }));
        set.start_soon(async { Ok(4) });
        // The panic cancels the set while the first result waits unread, holding a place.
        set.cancelled().await;
        let panic = AssertUnwindSafe(set.next())
            .catch_unwind()
            .await
            .expect_err("the panic");
        assert_eq!(*panic.downcast::<&str>().unwrap(), "boom");
        assert_eq!(
            ran.get(),
            1,
            "the queued shielded child was admitted and ran"
        );
    });
}

/// `join` returns the unread values in completion order; with an unread `Err`, every unread
/// error (in completion order, with their origins) and no value.
#[test]
fn join_returns_the_unread_values_or_errors() {
    run(1, |ex| async move {
        let set = NurserySet::<u32, String>::new(&ex);
        for i in 0..3 {
            set.start_soon(async move {
                yields(3 - i as usize).await;
                Ok(i)
            });
        }
        assert_eq!(set.join().await, Ok(vec![2, 1, 0]));

        let set = NurserySet::<u32, String>::new(&ex);
        let first = line!() + 1;
        set.start_soon(async { Err(String::from("a")) });
        set.start_soon(async { Ok(1) });
        let second = line!() + 1;
        set.start_soon(async {
            yields(2).await;
            Err(String::from("b"))
        });
        let err = set.join().await.unwrap_err();
        assert_eq!(err.errors(), ["a", "b"]);
        let lines: Vec<u32> = err.origins().map(|(_, site)| site.line()).collect();
        assert_eq!(lines, [first, second]);
        assert!(err
            .origins()
            .all(|(_, site)| site.file().ends_with("sets.rs")));
    });
}

/// A deadline that passes while a child is unfinished makes `join` an error with the timeout;
/// the values are dropped.
#[cfg(not(miri))]
#[test]
fn join_reports_a_timeout() {
    run(1, |ex| async move {
        let set = NurserySet::<u32, ()>::new(&ex);
        set.cancel_after(std::time::Duration::from_millis(10));
        set.start_soon(async { Ok(1) });
        set.start_soon(crate::common::forever());
        let err = set.join().await.unwrap_err();
        assert!(err.is_timeout());
        assert!(err.errors().is_empty());
    });
}

/// Dropping a set cancels its non-shielded children, lets a shielded one finish, and drops
/// unread results (and those that arrive later).
#[test]
fn dropping_a_set_cancels_and_drops_unread_results() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let dropped = Count::default();
            let finished = Count::default();
            let set = NurserySet::<Tracked, ()>::new(&ex);
            let unread = dropped.clone();
            set.start_soon(async move { Ok(Tracked(unread)) });
            set.start_soon(alive.forever());
            let (later, done) = (dropped.clone(), finished.clone());
            set.start_soon(shield(async move {
                sleep(10).await;
                done.bump();
                Ok(Tracked(later))
            }));
            sleep(2).await;
            drop(set);
            while finished.get() == 0 || alive.alive() > 0 {
                sleep(1).await;
            }
            yields(4).await;
            assert_eq!(dropped.get(), 2, "the unread result and the late one");
        });
    }
}

/// A set is a `Stream` of its results.
#[test]
fn a_set_is_a_stream() {
    run(1, |ex| async move {
        let set = NurserySet::<u32, ()>::new(&ex);
        for i in 0..4 {
            set.start_soon(async move { Ok(i) });
        }
        let mut values: Vec<u32> = set.map(Result::unwrap).collect().await;
        values.sort();
        assert_eq!(values, [0, 1, 2, 3]);
    });
}

/// `NurserySet` is `Send + Sync`, and so are the futures of `next`, `join` and `cancelled`,
/// when `T` and `E` are `Send`.
#[test]
fn sets_and_their_futures_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let ex = Arc::new(async_executor::Executor::new());
    let mut set = NurserySet::<String, std::io::Error>::new(&ex);
    send_sync(&set);
    send(&set.next());
    send(&set.cancelled());
    send(&set.join());
}

/// The local form: `!Send` results on a `LocalExecutor`, the same rules.
#[test]
fn a_local_set_takes_rc_results() {
    run_local(|ex| async move {
        let mut set = LocalNurserySet::<std::rc::Rc<u32>, ()>::new(&ex);
        for i in 0..3 {
            set.start_soon(async move {
                yields(3 - i as usize).await;
                Ok(std::rc::Rc::new(i))
            });
        }
        let mut order = Vec::new();
        while let Some(result) = set.next().await {
            order.push(*result.unwrap());
        }
        assert_eq!(order, [2, 1, 0]);
        let limited = NurseryBuilder::new()
            .limit(1)
            .build_local_set::<u32, ()>(&ex);
        limited.start_soon(async { Ok(1) });
        limited.start_soon(async { Ok(2) });
        assert_eq!(limited.join().await, Ok(vec![1, 2]));
    });
}
