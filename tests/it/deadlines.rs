//! Deadlines (`cancel_after`, `cancel_at`) on an `async_io::Timer`: when one passes while a
//! child is unfinished, the nursery is cancelled and `join` reports a timeout; the earliest
//! deadline wins; one that does not fire costs nothing at `join`; no duration panics.
//!
//! Not under Miri: deadlines need async-io's reactor, which needs `timerfd_create`.

use std::time::{Duration, Instant};

use crate::common::*;
use smol_nursery::{shield, Nursery, TaskError};

#[test]
fn cancel_after_cancels_and_reports_a_timeout() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::<()>::new(&ex);
            nursery.cancel_after(Duration::from_millis(10));
            let guard = alive.guard();
            let slow = nursery.start_soon(async move {
                let _guard = guard;
                sleep(60_000).await;
                Ok(())
            });
            let start = Instant::now();
            let err = nursery.join().await.unwrap_err();
            assert!(err.is_timeout());
            assert!(err.errors().is_empty());
            assert_eq!(err.deadline(), Some(Duration::from_millis(10)));
            assert!(start.elapsed() < Duration::from_secs(10));
            assert_eq!(alive.alive(), 0);
            assert_eq!(slow.await, Err(TaskError::Cancelled));
        });
    }
}

#[test]
fn the_deadline_fires_while_the_owner_is_not_in_join() {
    run(2, |ex| async move {
        let alive = Counter::default();
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(Duration::from_millis(5));
        nursery.start_soon(alive.forever::<Result<(), ()>>());
        for _ in 0..5_000 {
            if alive.alive() == 0 {
                break;
            }
            sleep(1).await;
        }
        assert!(nursery.is_cancelled());
        assert_eq!(alive.alive(), 0);
        assert!(nursery.join().await.unwrap_err().is_timeout());
    });
}

#[test]
fn a_deadline_that_does_not_fire_costs_nothing_at_join() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(Duration::from_secs(3600));
        nursery.start_soon(async {
            sleep(2).await;
            Ok(())
        });
        let start = Instant::now();
        assert_eq!(nursery.join().await, Ok(()));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "join waited for the timer"
        );
    });
}

#[test]
fn the_earliest_deadline_wins() {
    for (first, second) in [(3_600_000, 10), (10, 3_600_000)] {
        run(1, move |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            nursery.cancel_after(Duration::from_millis(first));
            nursery.cancel_after(Duration::from_millis(second));
            nursery.start_soon(forever::<Result<(), ()>>());
            let start = Instant::now();
            let err = nursery.join().await.unwrap_err();
            assert!(err.is_timeout());
            assert_eq!(err.deadline(), Some(Duration::from_millis(10)));
            assert!(start.elapsed() < Duration::from_secs(10));
        });
    }
}

#[test]
fn duration_max_means_no_deadline() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(Duration::MAX);
        nursery.cancel_after(Duration::from_secs(u64::MAX));
        nursery.start_soon(async {
            sleep(2).await;
            Ok(())
        });
        assert!(!nursery.is_cancelled());
        assert_eq!(nursery.join().await, Ok(()));
    });
}

#[test]
fn zero_and_past_deadlines_fire_at_once() {
    for past in [false, true] {
        run(1, move |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let child = nursery.start_soon(forever::<Result<(), ()>>());
            if past {
                nursery.cancel_at(
                    Instant::now()
                        .checked_sub(Duration::from_secs(1))
                        .unwrap_or_else(Instant::now),
                );
            } else {
                nursery.cancel_after(Duration::ZERO);
            }
            assert!(nursery.is_cancelled());
            let err = nursery.join().await.unwrap_err();
            assert!(err.is_timeout());
            assert_eq!(err.deadline(), Some(Duration::ZERO));
            assert_eq!(child.await, Err(TaskError::Cancelled));
        });
    }
}

/// Documented choice: a deadline that fires while no child is unfinished is not a timeout by
/// itself, but it cancels the nursery, and a child started afterwards counts as timed out.
#[test]
fn a_deadline_that_fires_with_no_children_cancels_but_is_not_a_timeout() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(Duration::ZERO);
        assert!(nursery.is_cancelled());
        assert_eq!(nursery.join().await, Ok(()));

        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(Duration::ZERO);
        let late = nursery.start_soon(async { Ok(()) });
        assert!(nursery.join().await.unwrap_err().is_timeout());
        assert_eq!(late.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn a_timeout_is_reported_with_the_childrens_errors() {
    run(2, |ex| async move {
        let nursery = Nursery::new(&ex);
        nursery.cancel_after(Duration::from_millis(10));
        nursery.start_soon(shield(async {
            sleep(30).await;
            Err::<(), _>("payment failed late")
        }));
        let err = nursery.join().await.unwrap_err();
        assert!(err.is_timeout());
        assert_eq!(err.errors(), &["payment failed late"]);
        assert_eq!(
            err.to_string(),
            "deadline of 10ms passed, and 1 task failed: payment failed late"
        );
    });
}

#[test]
fn a_deadline_after_an_explicit_cancel_still_reports_a_running_child() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.start_soon(shield(async {
            sleep(30).await;
            Ok(())
        }));
        nursery.cancel();
        nursery.cancel_after(Duration::from_millis(5));
        let err = nursery.join().await.unwrap_err();
        assert!(
            err.is_timeout(),
            "the deadline passed while the shielded child ran"
        );
    });
}
