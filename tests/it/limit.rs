//! `NurseryBuilder::limit`: at most `k` children run at once; the others wait, unpolled, and
//! are admitted in start order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::*;
use futures_lite::future;
use smol_nursery::{scope, shield, NurseryBuilder, TaskError};

/// Counts the children running now and the most that ever ran at once.
#[derive(Clone, Default)]
struct HighWater {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl HighWater {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

#[test]
fn never_more_than_k_children_run_at_once() {
    const CHILDREN: usize = scaled(400, 30);
    for threads in THREADS {
        for k in [1, 3, 8] {
            run(threads, move |ex| async move {
                let water = HighWater::default();
                let nursery = NurseryBuilder::new().limit(k).build::<()>(&ex);
                for i in 0..CHILDREN {
                    let water = water.clone();
                    let child = async move {
                        water.enter();
                        for _ in 0..(i % 3) {
                            future::yield_now().await;
                        }
                        water.leave();
                        Ok(())
                    };
                    // Shielded children count too.
                    if i % 5 == 0 {
                        nursery.start_soon(shield(child));
                    } else {
                        nursery.start_soon(child);
                    }
                }
                nursery.join().await.unwrap();
                assert!(
                    water.peak() <= k,
                    "{} ran at once under limit({k})",
                    water.peak()
                );
                assert!(water.peak() >= 1);
            });
        }
    }
}

#[test]
fn waiting_children_are_admitted_in_start_order() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let order = Arc::new(Mutex::new(Vec::new()));
            let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
            for i in 0..20 {
                let order = order.clone();
                nursery.start_soon(async move {
                    order.lock().unwrap().push(i);
                    future::yield_now().await;
                    Ok(())
                });
            }
            nursery.join().await.unwrap();
            assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
        });
    }
}

#[test]
fn waiting_children_count_in_len_and_are_not_polled() {
    run(1, |ex| async move {
        let polled = Count::default();
        let nursery = NurseryBuilder::new().limit(2).build::<()>(&ex);
        let (go, gate) = async_channel::bounded::<()>(1);
        for _ in 0..5 {
            let (polled, gate) = (polled.clone(), gate.clone());
            nursery.start_soon(async move {
                polled.bump();
                let _ = gate.recv().await;
                Ok(())
            });
        }
        assert_eq!(nursery.len(), 5);
        while polled.get() < 2 {
            future::yield_now().await;
        }
        for _ in 0..10 {
            future::yield_now().await;
        }
        assert_eq!(polled.get(), 2, "the waiting children were not polled");
        assert_eq!(nursery.len(), 5);
        drop(go);
        nursery.join().await.unwrap();
        assert_eq!(polled.get(), 5);
    });
}

#[test]
fn a_cancelled_nursery_never_runs_its_waiting_children_but_runs_shielded_ones() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let ran = Count::default();
            let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
            let blocker = Counter::default();
            nursery.start_soon(blocker.forever::<Result<(), ()>>());
            let mut plain = Vec::new();
            let mut shielded = Vec::new();
            for i in 0..10 {
                let ran = ran.clone();
                let child = async move {
                    ran.bump();
                    Ok(i)
                };
                if i % 2 == 0 {
                    plain.push(nursery.start_soon(child));
                } else {
                    shielded.push(nursery.start_soon(shield(child)));
                }
            }
            nursery.cancel();
            nursery.join().await.unwrap();
            assert_eq!(ran.get(), 5, "only the shielded waiting children ran");
            for handle in plain {
                assert_eq!(handle.await, Err(TaskError::Cancelled));
            }
            for handle in shielded {
                assert!(handle.await.is_ok());
            }
        });
    }
}

#[test]
#[should_panic(expected = "NurseryBuilder::limit(0)")]
fn limit_zero_panics_with_a_clear_message() {
    let _ = NurseryBuilder::new().limit(0);
}

#[test]
fn handles_of_waiting_children_work() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
            let first = nursery.start_soon(async {
                sleep(5).await;
                Ok(1)
            });
            let waiting = nursery.start_soon(async { Ok(2) });
            let cancelled = nursery.start_soon(async { Ok(3) });
            let dropped = nursery.start_soon(async { Ok(4) });
            assert!(!waiting.is_finished());
            cancelled.cancel();
            drop(dropped);
            assert_eq!(waiting.await, Ok(2), "awaiting a waiting child's handle");
            assert_eq!(cancelled.await, Err(TaskError::Cancelled));
            nursery.join().await.unwrap();
            assert!(first.is_finished());
            assert_eq!(first.await, Ok(1));
        });
    }
}

#[test]
fn the_scope_body_does_not_count_against_the_limit() {
    run(2, |ex| async move {
        let result = NurseryBuilder::new()
            .limit(1)
            .scope(&ex, |n| async move {
                let child = n.start_soon(async { Ok::<_, ()>(5) }).unwrap();
                // With the body counted, the child could never run and this would hang.
                Ok(child.await.unwrap())
            })
            .await;
        assert_eq!(result, Ok(5));
    });
}

#[test]
fn a_failure_under_a_limit_cancels_the_waiting_children() {
    run(2, |ex| async move {
        let ran = Count::default();
        let counted = ran.clone();
        let result = NurseryBuilder::new()
            .limit(2)
            .scope(&ex, |n| async move {
                n.start_soon(async {
                    sleep(2).await;
                    Err::<(), _>("boom")
                })
                .unwrap();
                for _ in 0..20 {
                    let ran = counted.clone();
                    n.start_soon(async move {
                        ran.bump();
                        sleep(1_000).await;
                        Ok(())
                    })
                    .unwrap();
                }
                Ok(())
            })
            .await;
        assert_eq!(result.unwrap_err().errors(), ["boom"]);
        assert!(
            ran.get() <= 1,
            "{} waiting children ran after the failure",
            ran.get()
        );
    });
}

#[test]
fn dropping_the_executor_drops_waiting_children_too() {
    let counter = Counter::default();
    let ex = Arc::new(async_executor::Executor::new());
    let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
    let handles: Vec<_> = (0..100)
        .map(|_| nursery.start_soon(counter.forever::<Result<(), ()>>()))
        .collect();
    assert!(ex.try_tick());
    drop(ex);
    assert_eq!(
        counter.alive(),
        0,
        "every child, waiting or running, was dropped"
    );
    future::block_on(nursery.join()).unwrap();
    for handle in handles {
        assert_eq!(future::block_on(handle), Err(TaskError::Cancelled));
    }
}

#[test]
fn scope_without_limit_is_unaffected() {
    run(1, |ex| async move {
        let value = scope(&ex, |n| async move {
            let h = n.start_soon(async { Ok::<_, ()>(1) }).unwrap();
            Ok(h.await.unwrap())
        })
        .await;
        assert_eq!(value, Ok(1));
    });
}
