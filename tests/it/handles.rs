//! Task handles: a handle yields its child's value, or `Cancelled`, `Failed` or `Panicked`;
//! it is finished once `join` has returned; cancelling through it stops that one child (even a
//! shielded one) and is not an error of the nursery.

use std::panic::AssertUnwindSafe;

use crate::common::*;
use futures_lite::FutureExt;
use smol_nursery::{shield, Nursery, TaskError, TaskHandle};

#[test]
fn handles_yield_values_and_each_kind_of_error() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::new(&ex);
            let ok = nursery.start_soon(async { Ok(String::from("value")) });
            assert_eq!(ok.await, Ok(String::from("value")));
            let cancelled = nursery.start_soon(forever::<Result<String, &str>>());
            let failed = nursery.start_soon(shield(async {
                sleep(1).await;
                Err::<String, _>("no")
            }));
            let handle = nursery.handle();
            let panicked = nursery.start_soon(shield(async move {
                while !handle.is_cancelled() {
                    sleep(1).await;
                }
                if true {
                    panic!("boom");
                }
                Ok(String::new())
            }));
            assert_eq!(failed.await, Err(TaskError::Failed));
            assert_eq!(cancelled.await, Err(TaskError::Cancelled));
            assert_eq!(panicked.await, Err(TaskError::Panicked));
            assert!(AssertUnwindSafe(nursery.join())
                .catch_unwind()
                .await
                .is_err());
        });
    }
}

#[test]
fn every_handle_is_finished_once_join_returned() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::new(&ex);
            let mut handles = Vec::new();
            for i in 0..64u64 {
                handles.push(nursery.start_soon(async move {
                    sleep(i % 4).await;
                    if i == 40 {
                        Err("one fails")
                    } else {
                        Ok(i)
                    }
                }));
            }
            assert!(nursery.join().await.is_err());
            for handle in &handles {
                assert!(handle.is_finished());
            }
            for handle in handles {
                let _ = handle.await;
            }
        });
    }
}

#[test]
fn cancelling_one_child_is_not_an_error_and_spares_its_siblings() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let victim = nursery.start_soon(forever::<Result<u8, ()>>());
            let sibling = nursery.start_soon(async {
                sleep(10).await;
                Ok(2)
            });
            victim.cancel();
            victim.cancel();
            assert_eq!(nursery.join().await, Ok(()));
            assert!(victim.is_finished());
            assert_eq!(victim.await, Err(TaskError::Cancelled));
            assert_eq!(sibling.await, Ok(2));
        });
    }
}

#[test]
fn cancelling_a_finished_child_does_nothing() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let done = nursery.start_soon(async { Ok(1) });
        yields(3).await;
        assert!(done.is_finished());
        done.cancel();
        // A later child that reuses the slot is not affected.
        let later = nursery.start_soon(async {
            sleep(2).await;
            Ok(2)
        });
        done.cancel();
        assert_eq!(nursery.join().await, Ok(()));
        assert_eq!(done.await, Ok(1));
        assert_eq!(later.await, Ok(2));
    });
}

#[test]
fn a_child_cancelled_before_it_runs_never_runs() {
    run(1, |ex| async move {
        let ran = Count::default();
        let nursery = Nursery::<()>::new(&ex);
        let r = ran.clone();
        let child = nursery.start_soon(async move {
            r.bump();
            Ok(())
        });
        child.cancel();
        nursery.join().await.unwrap();
        assert_eq!(ran.get(), 0);
        assert_eq!(child.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn a_child_can_await_a_siblings_handle() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let first = nursery.start_soon(async {
            sleep(3).await;
            Ok(20)
        });
        let second = nursery.start_soon(async move { Ok(first.await.unwrap() + 1) });
        nursery.join().await.unwrap();
        assert_eq!(second.await, Ok(21));
    });
}

#[test]
fn awaiting_a_handle_before_join_does_not_hang() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.start_soon(async {
            sleep(3).await;
            Ok("early")
        });
        assert_eq!(handle.await, Ok("early"));
        nursery.join().await.unwrap();
    });
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_a_handle_after_completion_panics() {
    let ex = std::sync::Arc::new(async_executor::Executor::new());
    let nursery = Nursery::<()>::new(&ex);
    let mut handle = nursery.start_soon(async { Ok(1) });
    while ex.try_tick() {}
    let first = futures_lite::future::block_on(futures_lite::future::poll_once(&mut handle));
    assert_eq!(first, Some(Ok(1)));
    let _ = futures_lite::future::block_on(futures_lite::future::poll_once(&mut handle));
}

#[test]
fn task_handles_are_send_and_debug() {
    fn assert_send<T: Send + std::fmt::Debug + Unpin>() {}
    assert_send::<TaskHandle<String>>();
    let ex = std::sync::Arc::new(async_executor::Executor::new());
    let nursery = Nursery::<()>::new(&ex);
    let handle = nursery.start_soon(async { Ok(()) });
    assert_eq!(format!("{handle:?}"), "TaskHandle { finished: false }");
    while ex.try_tick() {}
    assert_eq!(format!("{handle:?}"), "TaskHandle { finished: true }");
}
