//! `join` returns only when every child has finished and its future has been dropped, so no
//! child code runs after it; an empty nursery joins at once.

use std::time::{Duration, Instant};

use crate::common::*;
use futures_lite::future;
use smol_nursery::Nursery;

#[test]
fn empty_nursery_joins_at_once_without_running_the_executor() {
    watchdog(|| {
        let ex = std::sync::Arc::new(async_executor::Executor::new());
        let nursery = Nursery::<()>::new(&ex);
        assert!(nursery.is_empty());
        assert_eq!(future::block_on(nursery.join()), Ok(()));
    });
}

#[test]
fn join_waits_for_every_child() {
    for threads in THREADS {
        let finished = Count::default();
        let f = finished.clone();
        run(threads, move |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            for i in 0..50u64 {
                let f = f.clone();
                nursery.start_soon(async move {
                    sleep(i % 7).await;
                    yields(3).await;
                    f.bump();
                    Ok(())
                });
            }
            assert_eq!(nursery.join().await, Ok(()));
            assert_eq!(f.get(), 50, "join returned before every child finished");
        });
        assert_eq!(finished.get(), 50);
    }
}

#[test]
fn every_child_future_is_dropped_before_join_returns() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::<&str>::new(&ex);
            for i in 0..40u64 {
                let guard = alive.guard();
                nursery.start_soon(async move {
                    let _guard = guard;
                    sleep(i % 5).await;
                    if i == 20 {
                        return Err("fail");
                    }
                    Ok(())
                });
            }
            let _ = nursery.join().await;
            assert_eq!(alive.alive(), 0, "a child's future outlived join");
        });
    }
}

#[test]
fn no_child_code_runs_after_join() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let steps = Count::default();
            let nursery = Nursery::<()>::new(&ex);
            for _ in 0..8 {
                let steps = steps.clone();
                nursery.start_soon(async move {
                    loop {
                        steps.bump();
                        future::yield_now().await;
                    }
                    #[allow(unreachable_code)]
                    Ok(())
                });
            }
            sleep(5).await;
            nursery.cancel();
            nursery.join().await.unwrap();
            let after_join = steps.get();
            sleep(20).await;
            assert_eq!(steps.get(), after_join, "a child ran after join returned");
        });
    }
}

#[test]
fn len_counts_unfinished_children() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        assert_eq!(nursery.len(), 0);
        let (tx, rx) = async_channel::bounded::<()>(1);
        nursery.start_soon(async move {
            rx.recv().await.unwrap();
            Ok(())
        });
        nursery.start_soon(async { Ok(()) });
        assert_eq!(nursery.len(), 2);
        assert!(!nursery.is_empty());
        yields(3).await;
        assert_eq!(nursery.len(), 1, "the finished child no longer counts");
        tx.send(()).await.unwrap();
        yields(3).await;
        assert!(nursery.is_empty());
        nursery.join().await.unwrap();
    });
}

#[test]
fn join_returns_promptly_once_children_finish() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.start_soon(async {
            sleep(10).await;
            Ok(())
        });
        let start = Instant::now();
        nursery.join().await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn join_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let ex = std::sync::Arc::new(async_executor::Executor::new());
    let nursery = Nursery::<String>::new(&ex);
    let join = nursery.join();
    assert_send(&join);
    assert_eq!(future::block_on(join), Ok(()));
}

#[test]
fn join_can_run_in_a_spawned_task() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let done = Count::default();
        let d = done.clone();
        nursery.start_soon(async move {
            sleep(5).await;
            d.bump();
            Ok(())
        });
        let joiner = ex.spawn(nursery.join());
        assert_eq!(joiner.await, Ok(()));
        assert_eq!(done.get(), 1);
    });
}
