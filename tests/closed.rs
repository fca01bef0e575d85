//! Starting children into a cancelled nursery, where a plain child never runs, and into a
//! closed one (after `join` returned or the nursery was dropped), where
//! `NurseryHandle::start_soon` returns `NurseryClosed` and drops the future without polling it.

mod common;

use std::sync::Arc;

use common::*;
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

/// A foreign thread starting children while `join` closes the nursery: each child is either
/// accepted, in which case `join` waited for it, or refused with `NurseryClosed`.
#[test]
fn start_soon_racing_join_is_accepted_or_refused_never_lost() {
    for round in 0..common::scaled(200, 4) {
        let threads = 1 + round % 4;
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let handle = nursery.handle();
            let finished = Count::default();
            let f = finished.clone();
            let starter = std::thread::spawn(move || {
                let mut accepted = 0;
                for _ in 0..50 {
                    let f = f.clone();
                    match handle.start_soon(async move {
                        f.bump();
                        Ok(())
                    }) {
                        Ok(_) => accepted += 1,
                        Err(NurseryClosed) => break,
                    }
                }
                accepted
            });
            nursery.join().await.unwrap();
            let done_at_join = finished.get();
            let accepted = blocking_join(starter).await;
            assert_eq!(
                done_at_join, accepted,
                "an accepted child was not awaited by join"
            );
        });
    }
}

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
