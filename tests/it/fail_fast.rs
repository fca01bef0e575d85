//! Failing fast: a child's `Err` or panic cancels every non-shielded sibling at once, whether
//! or not the owner is awaiting `join` at that moment.

use crate::common::*;
use smol_nursery::{Nursery, TaskError};

#[test]
fn an_error_cancels_every_sibling() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::new(&ex);
            let mut handles = Vec::new();
            for _ in 0..20 {
                handles.push(nursery.start_soon(alive.forever::<Result<(), &str>>()));
            }
            nursery.start_soon(async {
                sleep(5).await;
                Err::<(), _>("failed")
            });
            let err = nursery.join().await.unwrap_err();
            assert_eq!(err.errors(), &["failed"]);
            assert_eq!(alive.alive(), 0);
            for handle in handles {
                assert_eq!(handle.await, Err(TaskError::Cancelled));
            }
        });
    }
}

#[test]
fn cancellation_happens_even_when_the_owner_is_not_in_join() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::new(&ex);
            nursery.start_soon(alive.forever::<Result<(), &str>>());
            nursery.start_soon(async { Err::<(), _>("failed") });
            // The owner is busy elsewhere; the failure must not wait for `join`.
            // The sibling's future is dropped first, then it is counted as finished: wait for
            // both (on another thread, the count may trail the drop for a moment).
            for _ in 0..5_000 {
                if alive.alive() == 0 && nursery.is_empty() {
                    break;
                }
                sleep(1).await;
            }
            assert!(nursery.is_cancelled());
            assert_eq!(
                alive.alive(),
                0,
                "the sibling was not cancelled before join"
            );
            assert_eq!(nursery.len(), 0);
            assert!(nursery.join().await.is_err());
        });
    }
}

/// Documented choice: a non-shielded child that is cancelled before its first poll never runs.
#[test]
fn a_child_not_yet_polled_never_runs() {
    run(1, |ex| async move {
        let ran = Count::default();
        let nursery = Nursery::new(&ex);
        // On one thread children are polled in the order they were started.
        nursery.start_soon(async { Err::<(), _>("first") });
        let r = ran.clone();
        let second = nursery.start_soon(async move {
            r.bump();
            Ok(())
        });
        assert!(nursery.join().await.is_err());
        assert_eq!(ran.get(), 0);
        assert_eq!(second.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn a_panic_cancels_every_sibling() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::<()>::new(&ex);
            for _ in 0..10 {
                nursery.start_soon(alive.forever::<Result<(), ()>>());
            }
            nursery.start_soon(async {
                sleep(2).await;
                if true {
                    panic!("child panicked");
                }
                Ok(())
            });
            let joined =
                futures_lite::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(nursery.join()))
                    .await;
            assert!(joined.is_err());
            assert_eq!(alive.alive(), 0);
        });
    }
}

#[test]
fn siblings_that_finished_keep_their_results() {
    run(1, |ex| async move {
        let nursery = Nursery::new(&ex);
        let early = nursery.start_soon(async { Ok::<_, &str>(1) });
        nursery.start_soon(async {
            sleep(5).await;
            Err::<(), _>("late")
        });
        assert!(nursery.join().await.is_err());
        assert_eq!(early.await, Ok(1));
    });
}
