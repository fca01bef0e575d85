//! The rules of parts one and two that do not involve threads, written once and run on both
//! forms: `Nursery` on an `Executor` run by one thread, and `LocalNursery` on a
//! `LocalExecutor`. Each body names the form only through the macro's parameters.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{self, forever, run_local, run_single, sleep, yields, Count, Counter};
use smol_nursery::{
    local_scope, scope, shield, LocalNursery, Nursery, NurseryBuilder, NurseryClosed, StartError,
    TaskError,
};

/// A child that panics with `message` as its payload.
async fn panics<T, E>(message: &'static str) -> Result<T, E> {
    std::panic::panic_any(message)
}

macro_rules! behaviours {
    ($form:ident: $N:ident, $scope:ident, $build:ident, $builder_scope:ident, $run:ident) => {
        mod $form {
            use super::*;

            /// Rule 1: `join` waits for every child, however it ends.
            #[test]
            fn join_waits_for_every_child() {
                $run(|ex| async move {
                    let done = Count::default();
                    let n = $N::<()>::new(&ex);
                    for i in 0..5 {
                        let done = done.clone();
                        n.start_soon(async move {
                            yields(i).await;
                            done.bump();
                            Ok(())
                        });
                    }
                    n.join().await.unwrap();
                    assert_eq!(done.get(), 5);
                });
            }

            /// Rules 2 and 3: an `Err` cancels the siblings at once; `join` reports it.
            #[test]
            fn a_failure_cancels_the_siblings_and_join_reports_it() {
                $run(|ex| async move {
                    let alive = Counter::default();
                    let n = $N::new(&ex);
                    let sibling = n.start_soon(alive.forever::<Result<(), &str>>());
                    n.start_soon(async {
                        yields(2).await;
                        Err::<(), _>("boom")
                    });
                    let err = n.join().await.unwrap_err();
                    assert_eq!(err.errors(), ["boom"]);
                    assert_eq!(alive.alive(), 0, "the sibling's future was dropped");
                    assert_eq!(sibling.await, Err(TaskError::Cancelled));
                });
            }

            /// Rule 3 with rule 21: every error, in the order the children failed.
            #[test]
            fn every_error_is_reported_in_order() {
                $run(|ex| async move {
                    let n = NurseryBuilder::new().fail_fast(false).$build(&ex);
                    for i in [3usize, 1, 2] {
                        n.start_soon(async move {
                            yields(i).await;
                            Err::<(), _>(i)
                        });
                    }
                    assert_eq!(n.join().await.unwrap_err().into_errors(), [1, 2, 3]);
                });
            }

            /// Rule 4: a panic cancels the siblings and is resumed by `join` after every child
            /// finished, shielded ones included.
            #[test]
            fn a_panic_is_resumed_after_every_child_finished() {
                $run(|ex| async move {
                    let paid = Arc::new(AtomicBool::new(false));
                    let flag = paid.clone();
                    let n = $N::<()>::new(&ex);
                    n.start_soon(shield(async move {
                        yields(10).await;
                        flag.store(true, Ordering::SeqCst);
                        Ok(())
                    }));
                    n.start_soon(panics::<(), ()>("child panicked"));
                    let join = AssertUnwindSafe(n.join());
                    let panic = futures_lite::FutureExt::catch_unwind(join)
                        .await
                        .unwrap_err();
                    assert_eq!(panic.downcast_ref::<&str>(), Some(&"child panicked"));
                    assert!(
                        paid.load(Ordering::SeqCst),
                        "join resumed before the shield ended"
                    );
                });
            }

            /// Rule 5: `cancel()` is not an error; the handle says the child was cancelled.
            #[test]
            fn an_explicit_cancel_is_not_an_error() {
                $run(|ex| async move {
                    let n = $N::<()>::new(&ex);
                    let child = n.start_soon(forever::<Result<(), ()>>());
                    yields(1).await;
                    n.cancel();
                    assert!(n.is_cancelled());
                    n.join().await.unwrap();
                    assert_eq!(child.await, Err(TaskError::Cancelled));
                });
            }

            /// Rule 6: a deadline that fires is a timeout; work done before it is kept.
            #[cfg_attr(miri, ignore = "async-io's timer needs the reactor")]
            #[test]
            fn a_deadline_cancels_and_join_reports_a_timeout() {
                $run(|ex| async move {
                    let n = $N::<()>::new(&ex);
                    n.cancel_after(Duration::from_millis(20));
                    let quick = n.start_soon(async { Ok(1) });
                    let slow = n.start_soon(forever::<Result<i32, ()>>());
                    let err = n.join().await.unwrap_err();
                    assert!(err.is_timeout());
                    assert_eq!(quick.await, Ok(1));
                    assert_eq!(slow.await, Err(TaskError::Cancelled));
                });
            }

            /// Rule 7: a shielded child survives a failure, a cancel and a deadline, and
            /// `join` waits for it.
            #[test]
            fn a_shielded_child_is_never_cancelled() {
                $run(|ex| async move {
                    let n = $N::new(&ex);
                    let payment = n.start_soon(shield(async {
                        yields(20).await;
                        Ok("paid")
                    }));
                    n.start_soon(async { Err::<&str, _>("sms failed") });
                    yields(3).await;
                    n.cancel();
                    let err = n.join().await.unwrap_err();
                    assert_eq!(err.errors(), ["sms failed"]);
                    assert_eq!(payment.await, Ok("paid"));
                });
            }

            /// Rule 8: dropping the nursery cancels the non-shielded children; shielded ones
            /// run on, detached.
            #[test]
            fn dropping_the_nursery_cancels_all_but_the_shielded() {
                $run(|ex| async move {
                    let alive = Counter::default();
                    let (dropped_tx, dropped) = async_channel::bounded::<()>(1);
                    let n = $N::<()>::new(&ex);
                    let plain = n.start_soon(alive.forever::<Result<(), ()>>());
                    let shielded = n.start_soon(shield(async move {
                        // Runs on after the nursery is gone.
                        let _ = dropped.recv().await;
                        Ok("finished, detached")
                    }));
                    yields(1).await;
                    drop(n);
                    drop(dropped_tx);
                    assert_eq!(plain.await, Err(TaskError::Cancelled));
                    assert_eq!(alive.alive(), 0);
                    assert_eq!(shielded.await, Ok("finished, detached"));
                });
            }

            /// Rule 9: a non-shielded child started into a cancelled nursery never runs; a
            /// shielded one does.
            #[test]
            fn a_cancelled_nursery_runs_only_shielded_newcomers() {
                $run(|ex| async move {
                    let ran = Count::default();
                    let n = $N::<()>::new(&ex);
                    n.cancel();
                    let counted = ran.clone();
                    let plain = n.start_soon(async move {
                        counted.bump();
                        Ok(())
                    });
                    let counted = ran.clone();
                    let shielded = n.start_soon(shield(async move {
                        counted.bump();
                        Ok(())
                    }));
                    n.join().await.unwrap();
                    assert_eq!(plain.await, Err(TaskError::Cancelled));
                    assert_eq!(shielded.await, Ok(()));
                    assert_eq!(ran.get(), 1);
                });
            }

            /// Rules 10 and 12: children start siblings through a handle and `join` waits
            /// for them; after `join` the handle is closed.
            #[test]
            fn children_start_siblings_and_the_handle_closes_at_join() {
                $run(|ex| async move {
                    let done = Count::default();
                    let n = $N::<()>::new(&ex);
                    let handle = n.handle();
                    let siblings = handle.clone();
                    let counted = done.clone();
                    n.start_soon(async move {
                        for _ in 0..3 {
                            let counted = counted.clone();
                            siblings
                                .start_soon(async move {
                                    yields(3).await;
                                    counted.bump();
                                    Ok(())
                                })
                                .expect("open while a child runs");
                        }
                        Ok(())
                    });
                    n.join().await.unwrap();
                    assert_eq!(done.get(), 3);
                    assert!(handle.is_closed());
                    assert_eq!(
                        handle.start_soon(async { Ok(()) }).err(),
                        Some(NurseryClosed)
                    );
                });
            }

            /// Rule 11: what a handle yields for each end.
            #[test]
            fn task_handles_yield_value_failure_panic_or_cancel() {
                $run(|ex| async move {
                    let n = NurseryBuilder::new().fail_fast(false).$build(&ex);
                    let ok = n.start_soon(async { Ok(1) });
                    let failed = n.start_soon(async { Err::<i32, _>("no") });
                    let panicked = n.start_soon(panics::<i32, &str>("oops"));
                    let cancelled = n.start_soon(forever::<Result<i32, &str>>());
                    let stopper = n.handle();
                    n.start_soon(async move {
                        yields(3).await;
                        stopper.cancel();
                        Ok(0)
                    });
                    let join = AssertUnwindSafe(n.join());
                    assert!(futures_lite::FutureExt::catch_unwind(join).await.is_err());
                    assert_eq!(ok.await, Ok(1));
                    assert_eq!(failed.await, Err(TaskError::Failed));
                    assert_eq!(panicked.await, Err(TaskError::Panicked));
                    assert_eq!(cancelled.await, Err(TaskError::Cancelled));
                });
            }

            /// Rule 13: finished children are released as they finish.
            #[test]
            fn finished_children_leave_the_count() {
                $run(|ex| async move {
                    let n = $N::<()>::new(&ex);
                    for _ in 0..common::scaled(1000, 50) {
                        n.start_soon(async { Ok(()) }).await.unwrap();
                    }
                    assert_eq!(n.len(), 0);
                    n.join().await.unwrap();
                });
            }

            /// Rule 15: the body's value; a failing child cancels the body at its next await.
            #[test]
            fn a_scope_returns_the_bodys_value_or_is_cancelled_by_a_child() {
                $run(|ex| async move {
                    let total = $scope(&ex, |n| async move {
                        let a = n.start_soon(async { Ok(20) }).unwrap();
                        let b = n.start_soon(async { Ok(22) }).unwrap();
                        Ok::<_, String>(a.await.unwrap() + b.await.unwrap())
                    })
                    .await;
                    assert_eq!(total, Ok(42));

                    let reached = Arc::new(AtomicBool::new(false));
                    let flag = reached.clone();
                    let failed = $scope(&ex, |n| async move {
                        n.start_soon(async { Err::<(), _>("sensor offline") })
                            .unwrap();
                        forever::<()>().await;
                        flag.store(true, Ordering::SeqCst);
                        Ok(())
                    })
                    .await;
                    assert_eq!(failed.unwrap_err().errors(), ["sensor offline"]);
                    assert!(!reached.load(Ordering::SeqCst));
                });
            }

            /// Rule 15 with the builder: a scope under a limit.
            #[test]
            fn a_builder_scope_applies_its_policy() {
                $run(|ex| async move {
                    let running = Arc::new(AtomicUsize::new(0));
                    let peak = Arc::new(AtomicUsize::new(0));
                    let (r, p) = (running.clone(), peak.clone());
                    let result = NurseryBuilder::new()
                        .limit(2)
                        .$builder_scope(&ex, |n| async move {
                            for _ in 0..6 {
                                let (r, p) = (r.clone(), p.clone());
                                n.start_soon(async move {
                                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                                    p.fetch_max(now, Ordering::SeqCst);
                                    yields(3).await;
                                    r.fetch_sub(1, Ordering::SeqCst);
                                    Ok(())
                                })?;
                            }
                            Ok::<_, NurseryClosed>(())
                        })
                        .await;
                    assert!(result.is_ok());
                    assert_eq!(peak.load(Ordering::SeqCst), 2);
                });
            }

            /// Rule 16: `start` hands back the value; a child that fails or exits before it
            /// is ready says so.
            #[test]
            fn start_hands_back_the_value_or_why_not() {
                $run(|ex| async move {
                    let n = NurseryBuilder::new().fail_fast(false).$build(&ex);
                    let (port, server) = n
                        .start(|ready| async move {
                            ready.started(8080);
                            yields(2).await;
                            Ok("served")
                        })
                        .await
                        .unwrap();
                    assert_eq!(port, 8080);
                    let failed = n
                        .start(|_ready: smol_nursery::Ready<u16>| async { Err::<&str, _>("bind") });
                    assert_eq!(failed.await.unwrap_err(), StartError::Failed("bind"));
                    let exited = n.start(|_ready: smol_nursery::Ready<u16>| async { Ok("") });
                    assert_eq!(exited.await.unwrap_err(), StartError::Exited);
                    // Failures before ready belong to the starter: the nursery records nothing.
                    n.join().await.unwrap();
                    assert_eq!(server.await, Ok("served"));
                });
            }

            /// Rule 17: `cancelled()` resolves once the nursery is cancelled; a shielded child
            /// winds down by itself.
            #[test]
            fn cancelled_lets_a_shielded_child_wind_down() {
                $run(|ex| async move {
                    let n = $N::<()>::new(&ex);
                    let stop = n.handle().cancelled();
                    let worker = n.start_soon(shield(async move {
                        stop.await;
                        Ok("flushed")
                    }));
                    yields(2).await;
                    n.cancel();
                    n.join().await.unwrap();
                    assert_eq!(worker.await, Ok("flushed"));
                });
            }

            /// Rule 18: a graced child is cut once its grace has passed after a cancel, and
            /// one that finishes inside its grace keeps its value.
            #[cfg_attr(miri, ignore = "async-io's timer needs the reactor")]
            #[test]
            fn grace_cuts_a_child_only_after_its_grace() {
                $run(|ex| async move {
                    let n = $N::<()>::new(&ex);
                    let quick = n.start_soon(
                        shield(async {
                            sleep(20).await;
                            Ok("finished in grace")
                        })
                        .grace(Duration::from_secs(10)),
                    );
                    let slow = n.start_soon(
                        shield(forever::<Result<&str, ()>>()).grace(Duration::from_millis(20)),
                    );
                    yields(1).await;
                    let cancelled_at = std::time::Instant::now();
                    n.cancel();
                    n.join().await.unwrap();
                    assert!(cancelled_at.elapsed() >= Duration::from_millis(20));
                    assert_eq!(quick.await, Ok("finished in grace"));
                    assert_eq!(slow.await, Err(TaskError::Cancelled));
                });
            }

            /// Rules 19 and 20: at most `k` run at once; a slot holds a place until used or
            /// dropped.
            #[test]
            fn a_limit_bounds_the_running_children_and_slots_hold_places() {
                $run(|ex| async move {
                    let n = NurseryBuilder::new().limit(2).$build::<()>(&ex);
                    let slot = n.reserve().await;
                    let second = n.try_reserve().expect("room for a second");
                    assert!(n.try_reserve().is_none(), "both places are held");
                    drop(second);
                    let running = Arc::new(AtomicUsize::new(0));
                    let peak = Arc::new(AtomicUsize::new(0));
                    for _ in 0..8 {
                        let (r, p) = (running.clone(), peak.clone());
                        n.start_soon(async move {
                            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                            p.fetch_max(now, Ordering::SeqCst);
                            yields(2).await;
                            r.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        });
                    }
                    yields(4).await;
                    assert_eq!(peak.load(Ordering::SeqCst), 1, "the slot holds one place");
                    slot.start_soon(async { Ok(()) });
                    // Both places are free again: two children run at once (with one place
                    // only, this would hang and the watchdog would fail the test).
                    let both = Arc::new(AtomicUsize::new(0));
                    for _ in 0..2 {
                        let both = both.clone();
                        n.start_soon(async move {
                            both.fetch_add(1, Ordering::SeqCst);
                            while both.load(Ordering::SeqCst) < 2 {
                                futures_lite::future::yield_now().await;
                            }
                            Ok(())
                        });
                    }
                    n.join().await.unwrap();
                });
            }

            /// Rule 20 on a handle: a waiting `reserve` gets the place a dropped slot frees.
            #[test]
            fn a_waiting_reserve_gets_the_place_a_slot_frees() {
                $run(|ex| async move {
                    let n = NurseryBuilder::new().limit(1).$build::<()>(&ex);
                    let handle = n.handle();
                    let first = handle.try_reserve().unwrap().expect("room for one");
                    let mut waiting = Box::pin(handle.reserve());
                    assert!(futures_lite::future::poll_once(waiting.as_mut())
                        .await
                        .is_none());
                    drop(first);
                    let slot = waiting.await.unwrap();
                    slot.start_soon(async { Ok(()) });
                    n.join().await.unwrap();
                });
            }

            /// Rule 21: with `fail_fast(false)` a failure cancels nobody.
            #[test]
            fn without_fail_fast_a_failure_cancels_nobody() {
                $run(|ex| async move {
                    let n = NurseryBuilder::new().fail_fast(false).$build(&ex);
                    n.start_soon(async { Err::<&str, _>("connection 1 reset") });
                    let other = n.start_soon(async {
                        yields(5).await;
                        Ok("connection 2 served")
                    });
                    assert_eq!(n.join().await.unwrap_err().errors(), ["connection 1 reset"]);
                    assert_eq!(other.await, Ok("connection 2 served"));
                });
            }

            /// Rule 24: a nursery dropped inside a child hands its shielded children to the
            /// parent, whose `join` waits for them.
            #[test]
            fn a_nursery_dropped_in_a_child_is_adopted_by_the_parent() {
                $run(|ex| async move {
                    let paid = Arc::new(AtomicBool::new(false));
                    let flag = paid.clone();
                    let inner_ex = ex.clone();
                    let (started_tx, started) = async_channel::bounded::<()>(1);
                    let outer = $N::<()>::new(&ex);
                    outer.start_soon(async move {
                        let inner = $N::<()>::new(&inner_ex);
                        inner.start_soon(shield(async move {
                            started_tx.send(()).await.unwrap();
                            yields(20).await;
                            flag.store(true, Ordering::SeqCst);
                            Ok(())
                        }));
                        let _ = started.recv().await;
                        drop(inner); // the shielded payment is adopted by `outer`
                        Ok(())
                    });
                    outer.join().await.unwrap();
                    assert!(
                        paid.load(Ordering::SeqCst),
                        "join returned before the payment"
                    );
                });
            }

            /// Rule 25: a snapshot shows the running children, shields and where they were
            /// started.
            #[test]
            fn a_snapshot_shows_the_running_children() {
                $run(|ex| async move {
                    let n = $N::<()>::new(&ex);
                    n.start_soon(forever::<Result<(), ()>>());
                    n.start_soon(shield(forever::<Result<(), ()>>()));
                    yields(1).await;
                    let snapshot = n.snapshot();
                    assert_eq!(snapshot.len(), 2);
                    let shielded: Vec<_> = snapshot
                        .children()
                        .iter()
                        .filter(|c| c.is_shielded())
                        .collect();
                    assert_eq!(shielded.len(), 1);
                    assert!(shielded[0].location().file().ends_with("forms.rs"));
                    assert!(snapshot.to_string().contains("forms.rs"));
                    drop(n);
                });
            }
        }
    };
}

behaviours!(send: Nursery, scope, build, scope, run_single);
behaviours!(local: LocalNursery, local_scope, build_local, local_scope, run_local);
