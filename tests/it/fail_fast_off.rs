//! `NurseryBuilder::fail_fast(false)`: a child's failure cancels nobody; every error is
//! reported, and the first panic is resumed once every child has finished.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::common::*;
use smol_nursery::{shield, NurseryBuilder, TaskError};

#[test]
fn errors_cancel_nobody_and_are_all_reported() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = NurseryBuilder::new().fail_fast(false).build(&ex);
            let mut ok = Vec::new();
            for i in 0..10 {
                ok.push(nursery.start_soon(async move {
                    sleep(1 + i).await;
                    if i % 3 == 0 {
                        Err(format!("child {i}"))
                    } else {
                        Ok(i)
                    }
                }));
            }
            assert!(!nursery.is_cancelled());
            let err = nursery.join().await.unwrap_err();
            let mut errors = err.into_errors();
            errors.sort();
            assert_eq!(errors, ["child 0", "child 3", "child 6", "child 9"]);
            for (i, handle) in ok.into_iter().enumerate() {
                let expected = if i % 3 == 0 {
                    Err(TaskError::Failed)
                } else {
                    Ok(i as u64)
                };
                assert_eq!(handle.await, expected);
            }
        });
    }
}

#[test]
fn a_panic_cancels_nobody_and_is_resumed_after_all_finished() {
    for threads in THREADS {
        let finished = Count::default();
        let done = finished.clone();
        let panic = catch_unwind(AssertUnwindSafe(|| {
            run(threads, move |ex| async move {
                let nursery = NurseryBuilder::new().fail_fast(false).build::<()>(&ex);
                nursery.start_soon(async {
                    panic!("one connection panicked");
                    #[allow(unreachable_code)]
                    Ok(())
                });
                for _ in 0..5 {
                    let done = done.clone();
                    nursery.start_soon(async move {
                        sleep(10).await;
                        done.bump();
                        Ok(())
                    });
                }
                nursery.join().await
            })
        }))
        .unwrap_err();
        assert_eq!(
            panic.downcast_ref::<&str>(),
            Some(&"one connection panicked")
        );
        assert_eq!(finished.get(), 5, "the siblings ran to their end");
    }
}

#[test]
fn cancel_still_cancels() {
    run(2, |ex| async move {
        let nursery = NurseryBuilder::new().fail_fast(false).build::<()>(&ex);
        let counter = Counter::default();
        let plain = nursery.start_soon(counter.forever::<Result<(), ()>>());
        let shielded = nursery.start_soon(shield(async {
            sleep(5).await;
            Ok(())
        }));
        nursery.cancel();
        nursery.join().await.unwrap();
        assert_eq!(plain.await, Err(TaskError::Cancelled));
        assert_eq!(shielded.await, Ok(()));
        assert_eq!(counter.alive(), 0);
    });
}

#[cfg(not(miri))] // async-io's timer needs the reactor
#[test]
fn deadlines_still_cancel() {
    run(2, |ex| async move {
        let nursery = NurseryBuilder::new().fail_fast(false).build::<()>(&ex);
        nursery.cancel_after(std::time::Duration::from_millis(10));
        nursery.start_soon(futures_lite::future::pending::<Result<(), ()>>());
        assert!(nursery.join().await.unwrap_err().is_timeout());
    });
}

#[test]
fn dropping_still_cancels() {
    run(1, |ex| async move {
        let nursery = NurseryBuilder::new().fail_fast(false).build::<()>(&ex);
        let counter = Counter::default();
        nursery.start_soon(counter.forever::<Result<(), ()>>());
        futures_lite::future::yield_now().await;
        drop(nursery);
        while counter.alive() > 0 {
            futures_lite::future::yield_now().await;
        }
    });
}

#[test]
fn a_failing_scope_body_still_cancels() {
    run(2, |ex| async move {
        let counter = Counter::default();
        let forever = counter.forever::<Result<(), &str>>();
        let result = NurseryBuilder::new()
            .fail_fast(false)
            .scope(&ex, |n| async move {
                n.start_soon(forever).unwrap();
                n.start_soon(async { Err::<(), _>("a child failed: nothing cancelled") })
                    .unwrap();
                sleep(5).await;
                assert!(!n.is_cancelled());
                Err::<(), _>("the body failed")
            })
            .await;
        assert_eq!(
            result.unwrap_err().errors(),
            ["a child failed: nothing cancelled", "the body failed"]
        );
        assert_eq!(counter.alive(), 0);
    });
}
