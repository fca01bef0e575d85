//! Children start siblings through a `NurseryHandle`, and `join` waits for those too;
//! nurseries nest, a nested nursery's failure is its owner child's error, and cancelling the
//! outer nursery drops the inner one with its child.

use std::sync::Arc;

use crate::common::*;
use async_executor::Executor;
use smol_nursery::{Nursery, NurseryHandle, TaskError};

fn spawn_tree(handle: NurseryHandle<'static, String>, depth: u32, count: Count) {
    let h = handle.clone();
    handle
        .start_soon(async move {
            count.bump();
            sleep(1).await;
            if depth > 0 {
                spawn_tree(h.clone(), depth - 1, count.clone());
                spawn_tree(h, depth - 1, count);
            }
            Ok(())
        })
        .expect("the nursery is open while a child runs");
}

#[test]
fn join_waits_for_children_started_by_children() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let count = Count::default();
            let nursery = Nursery::new(&ex);
            spawn_tree(nursery.handle(), 6, count.clone());
            nursery.join().await.unwrap();
            assert_eq!(
                count.get(),
                127,
                "a full binary tree of depth 6 has 127 nodes"
            );
        });
    }
}

#[test]
fn a_grandchild_failure_cancels_the_whole_nursery() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::new(&ex);
            nursery.start_soon(alive.forever::<Result<(), String>>());
            let handle = nursery.handle();
            nursery.start_soon(async move {
                handle
                    .start_soon(async {
                        sleep(2).await;
                        Err::<(), _>(String::from("grandchild failed"))
                    })
                    .unwrap();
                Ok(())
            });
            let err = nursery.join().await.unwrap_err();
            assert_eq!(err.errors(), ["grandchild failed"]);
            assert_eq!(alive.alive(), 0);
        });
    }
}

#[test]
fn nested_nurseries_propagate_failure_as_the_childs_error() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let outer = Nursery::<String>::new(&ex);
            let inner_ex = ex.clone();
            let sibling = outer.start_soon(forever::<Result<(), String>>());
            outer.start_soon(async move {
                let inner = Nursery::new(&inner_ex);
                inner.start_soon(async { Err::<(), _>("inner failure") });
                inner.start_soon(forever::<Result<(), &str>>());
                inner
                    .join()
                    .await
                    .map_err(|e| format!("inner nursery: {e}"))
            });
            let err = outer.join().await.unwrap_err();
            assert_eq!(
                err.errors(),
                ["inner nursery: 1 task failed: inner failure"]
            );
            assert_eq!(sibling.await, Err(TaskError::Cancelled));
        });
    }
}

#[test]
fn cancelling_the_outer_nursery_cancels_an_inner_one_through_drop() {
    run(2, |ex| async move {
        let alive = Counter::default();
        let outer = Nursery::<()>::new(&ex);
        let inner_ex = ex.clone();
        let a = alive.clone();
        outer.start_soon(async move {
            let inner = Nursery::<()>::new(&inner_ex);
            let guard = a.guard();
            inner.start_soon(async move {
                let _guard = guard;
                forever::<Result<(), ()>>().await
            });
            inner.join().await.map_err(|_| ())
        });
        // Waits for the inner child to exist (waited for, not timed: Miri runs slowly).
        while alive.alive() == 0 {
            futures_lite::future::yield_now().await;
        }
        assert_eq!(alive.alive(), 1);
        outer.cancel();
        outer.join().await.unwrap();
        // The inner join future was dropped with the outer child, which cancels the inner
        // nursery; its child is dropped on the executor's next turn.
        for _ in 0..5_000 {
            if alive.alive() == 0 {
                break;
            }
            sleep(1).await;
        }
        assert_eq!(alive.alive(), 0);
    });
}

#[test]
fn children_borrow_data_declared_before_an_arc_executor() {
    watchdog(|| {
        let log = std::sync::Mutex::new(Vec::new());
        let ex = Arc::new(Executor::new());
        let result = run_with(&ex, 2, async {
            let nursery = Nursery::<()>::new(&ex);
            let handle = nursery.handle();
            let log = &log;
            nursery.start_soon(async move {
                log.lock().unwrap().push("parent");
                handle
                    .start_soon(async move {
                        log.lock().unwrap().push("sibling");
                        Ok(())
                    })
                    .unwrap();
                Ok(())
            });
            nursery.join().await
        });
        assert_eq!(result, Ok(()));
        drop(ex);
        assert_eq!(log.into_inner().unwrap(), ["parent", "sibling"]);
    });
}

static EX: Executor<'static> = Executor::new();

#[test]
fn children_start_siblings_on_a_static_executor() {
    watchdog(|| {
        let count = Count::default();
        let c = count.clone();
        futures_lite::future::block_on(EX.run(async move {
            let nursery = Nursery::new(&EX);
            spawn_tree(nursery.handle(), 3, c);
            nursery.join().await.unwrap();
        }));
        assert_eq!(count.get(), 15);
    });
}
