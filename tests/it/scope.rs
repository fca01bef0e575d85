//! `scope`: the body is the nursery's first child, polled in the caller's task, cancelled with
//! the nursery; the result's precedence is panic, then errors or timeout, then cancelled, then
//! the body's value.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::common::*;
use futures_lite::future;
use smol_nursery::{scope, shield, NurseryBuilder, NurseryClosed, NurseryHandle, TaskError};

#[test]
fn the_body_is_cancelled_at_its_next_await_when_a_child_fails() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let body = Counter::default();
            let guard = body.guard();
            let reached = Arc::new(AtomicBool::new(false));
            let after = reached.clone();
            let result = scope(&ex, |n| async move {
                let _guard = guard;
                n.start_soon(async { Err::<(), _>("sensor offline") })
                    .expect("open");
                sleep(60_000).await;
                after.store(true, Ordering::SeqCst);
                Ok::<_, &str>("never")
            })
            .await;
            assert_eq!(result.unwrap_err().errors(), ["sensor offline"]);
            assert!(
                !reached.load(Ordering::SeqCst),
                "the body ran past its await"
            );
            assert_eq!(body.alive(), 0, "the body's future was dropped");
        });
    }
}

impl From<NurseryClosed> for Failure {
    fn from(_: NurseryClosed) -> Self {
        Failure("closed")
    }
}

#[derive(Debug, PartialEq)]
struct Failure(&'static str);

impl From<&'static str> for Failure {
    fn from(s: &'static str) -> Self {
        Failure(s)
    }
}

#[test]
fn the_bodys_error_is_recorded_in_order_and_cancels_the_children() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let children = Counter::default();
            let forever = children.forever::<Result<(), Failure>>();
            // Without fail-fast, the first child's error cancels nothing, so the order of the
            // three errors is fixed; the body's own error still cancels the nursery.
            let result = NurseryBuilder::new()
                .fail_fast(false)
                .scope(&ex, |n: NurseryHandle<'static, Failure>| async move {
                    let first = n.start_soon(async { Err::<(), _>(Failure("child first")) })?;
                    let late = n.cancelled();
                    n.start_soon(shield(async move {
                        late.await;
                        Err::<(), _>(Failure("shielded, after"))
                    }))?;
                    n.start_soon(forever)?;
                    assert_eq!(first.await, Err(TaskError::Failed));
                    assert!(
                        !n.is_cancelled(),
                        "fail_fast(false): a child's error cancels nothing"
                    );
                    Err::<(), _>(Failure("body"))
                })
                .await;
            let errors: Vec<_> = result.unwrap_err().into_errors();
            assert_eq!(
                errors,
                [
                    Failure("child first"),
                    Failure("body"),
                    Failure("shielded, after")
                ]
            );
            assert_eq!(
                children.alive(),
                0,
                "the body's error cancelled the children"
            );
        });
    }
}

#[test]
fn a_failing_body_alone_cancels_its_children() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let children = Counter::default();
            let forever = children.forever::<Result<(), &str>>();
            let shielded_done = Arc::new(AtomicBool::new(false));
            let done = shielded_done.clone();
            let result = scope(&ex, |n| async move {
                let cancelled = n.start_soon(forever).expect("open");
                n.start_soon(shield(async move {
                    sleep(20).await;
                    done.store(true, Ordering::SeqCst);
                    Ok(())
                }))
                .expect("open");
                future::yield_now().await;
                cancelled.cancel(); // no effect on the result: a handle cancel is no error
                Err::<(), _>("body failed")
            })
            .await;
            assert_eq!(result.unwrap_err().errors(), ["body failed"]);
            assert_eq!(children.alive(), 0);
            assert!(
                shielded_done.load(Ordering::SeqCst),
                "scope waited for the shield"
            );
        });
    }
}

#[test]
fn a_body_panic_is_resumed_after_every_child_finished() {
    for threads in THREADS {
        let finished = Arc::new(AtomicBool::new(false));
        let done = finished.clone();
        let panic = catch_unwind(AssertUnwindSafe(|| {
            run(threads, |ex| async move {
                scope(&ex, |n| async move {
                    n.start_soon(shield(async move {
                        sleep(20).await;
                        done.store(true, Ordering::SeqCst);
                        Ok::<_, ()>(())
                    }))
                    .unwrap();
                    future::yield_now().await;
                    panic!("body blew up");
                    #[allow(unreachable_code)]
                    Ok(())
                })
                .await
            })
        }))
        .unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"body blew up"));
        assert!(
            finished.load(Ordering::SeqCst),
            "the shielded child finished first"
        );
    }
}

#[test]
fn a_child_panic_cancels_the_body_and_is_resumed() {
    let body = Counter::default();
    let guard = body.guard();
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run(2, |ex| async move {
            scope(&ex, |n| async move {
                let _guard = guard;
                n.start_soon(async {
                    panic!("child blew up");
                    #[allow(unreachable_code)]
                    Ok::<(), ()>(())
                })
                .unwrap();
                future::pending::<()>().await;
                Ok(())
            })
            .await
        })
    }))
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"child blew up"));
    assert_eq!(body.alive(), 0);
}

#[test]
fn an_explicit_cancel_makes_is_cancelled_true() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let children = Counter::default();
            let forever = children.forever::<Result<(), ()>>();
            let result = scope(&ex, |n| async move {
                n.start_soon(forever).unwrap();
                n.cancel();
                future::yield_now().await;
                Ok::<&str, ()>("unreachable")
            })
            .await;
            let err = result.unwrap_err();
            assert!(err.is_cancelled());
            assert!(!err.is_timeout());
            assert!(err.errors().is_empty());
            assert_eq!(children.alive(), 0);
        });
    }
}

#[test]
fn a_cancel_from_a_child_cancels_the_body() {
    run(2, |ex| async move {
        let result = scope(&ex, |n| async move {
            let canceller = n.clone();
            n.start_soon(async move {
                sleep(5).await;
                canceller.cancel();
                Ok::<_, ()>(())
            })
            .unwrap();
            future::pending::<()>().await;
            Ok(())
        })
        .await;
        assert!(result.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_body_that_returned_keeps_its_value_even_after_cancel() {
    run(1, |ex| async move {
        let children = Counter::default();
        let forever = children.forever::<Result<(), ()>>();
        let result = scope(&ex, |n| async move {
            n.start_soon(forever).unwrap();
            n.cancel();
            Ok::<_, ()>(7)
        })
        .await;
        assert_eq!(result, Ok(7));
        assert_eq!(children.alive(), 0);
    });
}

#[test]
fn a_scope_waits_for_its_children_and_returns_the_bodys_value() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let finished = Count::default();
            let count = finished.clone();
            let value = scope(&ex, |n| async move {
                let (go, gate) = async_channel::bounded::<()>(1);
                for _ in 0..10 {
                    let count = count.clone();
                    let gate = gate.clone();
                    n.start_soon(async move {
                        let _ = gate.recv().await;
                        sleep(5).await;
                        count.bump();
                        Ok::<_, ()>(())
                    })
                    .unwrap();
                }
                assert_eq!(n.len(), 11, "the body counts in len()");
                drop(go);
                Ok("done")
            })
            .await;
            assert_eq!(value, Ok("done"));
            assert_eq!(finished.get(), 10);
        });
    }
}

#[test]
fn the_body_may_borrow_from_the_caller() {
    run(1, |ex| async move {
        let mut local = vec![1, 2, 3];
        let borrowed = &mut local;
        let sum = scope(&ex, |n| async move {
            n.start_soon(async { Ok::<_, ()>(()) }).unwrap();
            borrowed.push(4);
            Ok::<_, ()>(borrowed.iter().sum::<i32>())
        })
        .await;
        assert_eq!(sum, Ok(10));
        assert_eq!(local, [1, 2, 3, 4]);
    });
}

#[test]
fn the_handle_is_closed_after_the_scope_returned() {
    run(1, |ex| async move {
        let handle = scope(&ex, |n| async move { Ok::<_, ()>(n) }).await.unwrap();
        assert!(handle.is_closed());
        assert_eq!(
            handle.start_soon(async { Ok(()) }).unwrap_err(),
            NurseryClosed
        );
    });
}

#[test]
fn dropping_the_scope_future_drops_the_body_and_cancels_the_children() {
    run(2, |ex| async move {
        let counter = Counter::default();
        let (body_guard, child) = (counter.guard(), counter.forever::<Result<(), ()>>());
        let shielded_done = Arc::new(AtomicBool::new(false));
        let done = shielded_done.clone();
        let (started_tx, started) = async_channel::bounded::<()>(1);
        let scope_future = scope(&ex, |n| async move {
            let _guard = body_guard;
            n.start_soon(child).unwrap();
            n.start_soon(shield(async move {
                sleep(20).await;
                done.store(true, Ordering::SeqCst);
                Ok(())
            }))
            .unwrap();
            started_tx.send(()).await.unwrap();
            future::pending::<()>().await;
            Ok(())
        });
        let timeout = async {
            started.recv().await.unwrap();
            None
        };
        assert!(future::or(async { Some(scope_future.await) }, timeout)
            .await
            .is_none());
        // The body is dropped at once; the child at its next poll.
        while counter.alive() > 0 {
            future::yield_now().await;
        }
        while !shielded_done.load(Ordering::SeqCst) {
            sleep(1).await;
        }
    });
}

#[test]
fn scopes_nest_inside_children_on_a_multi_threaded_executor() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    run(2, |ex| async move {
        let inner_ex = ex.clone();
        let result = scope(&ex, |outer: NurseryHandle<'static, String>| async move {
            let child = outer
                .start_soon(async move {
                    // A scope inside a child: the child's future must be Send.
                    let inner = assert_send(scope(&inner_ex, |inner| async move {
                        let a = inner.start_soon(async { Ok(1) }).unwrap();
                        let b = inner.start_soon(async { Ok(2) }).unwrap();
                        Ok::<_, String>(a.await.unwrap() + b.await.unwrap())
                    }));
                    inner.await.map_err(|e| e.to_string())
                })
                .unwrap();
            Ok(child.await)
        })
        .await;
        assert_eq!(result, Ok(Ok(3)));
    });
}

#[test]
fn nested_scopes_cancel_from_the_outside_in() {
    run(2, |ex| async move {
        let inner_body = Counter::default();
        let guard = inner_body.guard();
        let ex2 = ex.clone();
        let result = scope(&ex, |outer| async move {
            outer
                .start_soon(async { Err::<(), _>(String::from("outer child failed")) })
                .unwrap();
            let inner = scope(&ex2, |inner| async move {
                let _guard = guard;
                inner
                    .start_soon(future::pending::<Result<(), String>>())
                    .unwrap();
                future::pending::<()>().await;
                Ok::<_, String>(())
            });
            inner.await.map_err(|e| e.to_string())
        })
        .await;
        assert_eq!(result.unwrap_err().errors(), ["outer child failed"]);
        assert_eq!(inner_body.alive(), 0);
    });
}

#[test]
fn a_childs_handle_cancel_does_not_touch_the_result() {
    run(1, |ex| async move {
        let result = scope(&ex, |n| async move {
            let h = n.start_soon(future::pending::<Result<(), ()>>()).unwrap();
            h.cancel();
            assert_eq!(h.await, Err(TaskError::Cancelled));
            Ok::<_, ()>("fine")
        })
        .await;
        assert_eq!(result, Ok("fine"));
    });
}

#[cfg(not(miri))] // async-io's timer needs the reactor
#[test]
fn a_deadline_set_through_the_handle_is_a_timeout() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let result = scope(&ex, |n| async move {
                n.cancel_after(std::time::Duration::from_millis(10));
                n.start_soon(future::pending::<Result<(), ()>>()).unwrap();
                async_io::Timer::after(std::time::Duration::from_secs(60)).await;
                Ok(())
            })
            .await;
            let err = result.unwrap_err();
            assert!(err.is_timeout());
            assert!(!err.is_cancelled());
        });
    }
}
