//! Dropping things: dropping the nursery or its `join` future cancels the plain children and
//! leaves the shielded ones running, detached; dropping a task handle does nothing to its
//! child; dropping the executor drops every child, and `join` and the handles still resolve.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use async_executor::Executor;
use futures_lite::future;
use smol_nursery::{shield, Nursery, TaskError};

#[test]
fn dropping_the_nursery_cancels_plain_children_and_detaches_shielded_ones() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let finished = Count::default();
            let nursery = Nursery::<()>::new(&ex);
            let plain = nursery.start_soon(alive.forever::<Result<(), ()>>());
            let f = finished.clone();
            let shielded = nursery.start_soon(shield(async move {
                sleep(20).await;
                f.bump();
                Ok("detached but finished")
            }));
            sleep(2).await;
            drop(nursery);
            assert_eq!(plain.await, Err(TaskError::Cancelled));
            assert_eq!(alive.alive(), 0);
            assert_eq!(shielded.await, Ok("detached but finished"));
            assert_eq!(finished.get(), 1);
        });
    }
}

#[test]
fn dropping_the_join_future_when_a_timeout_wins_the_race() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::<()>::new(&ex);
            let plain = nursery.start_soon(alive.forever::<Result<(), ()>>());
            let shielded = nursery.start_soon(shield(async {
                sleep(30).await;
                Ok("payment done")
            }));
            let outer = future::or(async { Some(nursery.join().await) }, async {
                sleep(5).await;
                None
            });
            assert!(outer.await.is_none(), "the outer timeout should win");
            assert_eq!(plain.await, Err(TaskError::Cancelled));
            assert_eq!(alive.alive(), 0);
            assert_eq!(shielded.await, Ok("payment done"));
        });
    }
}

#[test]
fn dropping_a_task_handle_does_nothing_to_its_child() {
    run(2, |ex| async move {
        let finished = Count::default();
        let nursery = Nursery::<()>::new(&ex);
        let f = finished.clone();
        drop(nursery.start_soon(async move {
            sleep(5).await;
            f.bump();
            Ok(())
        }));
        nursery.join().await.unwrap();
        assert_eq!(finished.get(), 1);
    });
}

#[test]
fn errors_after_the_nursery_was_dropped_are_dropped() {
    run(1, |ex| async move {
        let errors = Counter::default();
        let nursery = Nursery::new(&ex);
        let e = errors.clone();
        let shielded = nursery.start_soon(shield(async move {
            sleep(5).await;
            Err::<(), _>(e.guard())
        }));
        let e = errors.clone();
        nursery.start_soon(async move { Err::<(), _>(e.guard()) });
        yields(2).await;
        drop(nursery);
        assert_eq!(
            errors.alive(),
            0,
            "errors recorded before the drop are dropped with it"
        );
        assert_eq!(shielded.await, Err(TaskError::Failed));
        assert_eq!(
            errors.alive(),
            0,
            "an error nobody can read is dropped at once"
        );
    });
}

#[test]
fn dropping_an_unjoined_nursery_after_its_children_finished_is_quiet() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.start_soon(async { Ok(1) });
        yields(3).await;
        drop(nursery);
        assert_eq!(handle.await, Ok(1));
    });
}

#[test]
fn dropping_the_executor_drops_every_child_and_join_resolves() {
    watchdog(|| {
        let alive = Counter::default();
        let ex = Arc::new(Executor::new());
        let nursery = Nursery::<()>::new(&ex);
        let mut handles = Vec::new();
        for i in 0..6 {
            let guard = alive.guard();
            let child = async move {
                let _guard = guard;
                forever::<Result<(), ()>>().await
            };
            handles.push(if i % 2 == 0 {
                nursery.start_soon(child)
            } else {
                nursery.start_soon(shield(child))
            });
        }
        while ex.try_tick() {}
        assert_eq!(alive.alive(), 6);
        drop(ex);
        assert_eq!(
            alive.alive(),
            0,
            "dropping the executor drops shielded children too"
        );
        assert!(nursery.is_empty());
        // A child started now has no executor: it is dropped unpolled.
        let guard = alive.guard();
        let late = nursery.start_soon(async move {
            let _guard = guard;
            Ok(())
        });
        assert_eq!(alive.alive(), 0);
        assert_eq!(future::block_on(nursery.join()), Ok(()));
        assert!(late.is_finished());
        assert_eq!(future::block_on(late), Err(TaskError::Cancelled));
        for handle in handles {
            assert!(handle.is_finished());
            assert_eq!(future::block_on(handle), Err(TaskError::Cancelled));
        }
    });
}

#[test]
fn dropping_the_executor_while_join_waits_on_another_thread() {
    watchdog(|| {
        let ex = Arc::new(Executor::new());
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.start_soon(forever::<Result<(), ()>>());
        while ex.try_tick() {}
        let joiner = std::thread::spawn(move || future::block_on(nursery.join()));
        std::thread::sleep(Duration::from_millis(20));
        drop(ex);
        assert_eq!(joiner.join().unwrap(), Ok(()));
        assert_eq!(future::block_on(handle), Err(TaskError::Cancelled));
    });
}
