//! `shield(fut).grace(d)`: shielded until the nursery is cancelled, then `d` more to finish.
//! The grace timer is an `async_io::Timer`, so these tests need the reactor (not under Miri).

use std::time::{Duration, Instant};

use crate::common::*;
use futures_lite::future;
use smol_nursery::{shield, Nursery, NurseryBuilder, TaskError};

const MS: Duration = Duration::from_millis(1);

#[test]
fn a_child_that_finishes_inside_its_grace_keeps_its_value() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let child = nursery.start_soon(
                shield(async {
                    sleep(20).await;
                    Ok("finished")
                })
                .grace(500 * MS),
            );
            nursery.cancel();
            nursery.join().await.unwrap();
            assert_eq!(child.await, Ok("finished"));
        });
    }
}

#[test]
fn a_child_past_its_grace_is_cut_and_that_is_no_error() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let alive = Counter::default();
            let guard = alive.guard();
            let child = nursery.start_soon(
                shield(async move {
                    let _guard = guard;
                    sleep(60_000).await;
                    Ok(())
                })
                .grace(30 * MS),
            );
            sleep(5).await;
            let cancelled_at = Instant::now();
            nursery.cancel();
            nursery.join().await.unwrap();
            let took = cancelled_at.elapsed();
            assert!(took >= 30 * MS, "cut after {took:?}, before its grace");
            assert!(took < 5_000 * MS, "cut only after {took:?}");
            assert_eq!(child.await, Err(TaskError::Cancelled));
            assert_eq!(alive.alive(), 0);
        });
    }
}

#[test]
fn a_child_started_after_the_cancellation_gets_its_whole_grace() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel();
        sleep(50).await;
        let started = Instant::now();
        let child = nursery.start_soon(
            shield(async {
                sleep(10).await;
                Ok("done")
            })
            .grace(40 * MS),
        );
        let cut = nursery.start_soon(shield(future::pending::<Result<(), ()>>()).grace(40 * MS));
        nursery.join().await.unwrap();
        assert!(started.elapsed() >= 40 * MS);
        assert_eq!(child.await, Ok("done"));
        assert_eq!(cut.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn grace_zero_is_a_plain_child_and_duration_max_a_plain_shield() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let plain =
            nursery.start_soon(shield(future::pending::<Result<(), ()>>()).grace(Duration::ZERO));
        let shielded = nursery.start_soon(
            shield(async {
                sleep(30).await;
                Ok(1)
            })
            .grace(Duration::MAX),
        );
        nursery.cancel();
        nursery.join().await.unwrap();
        assert_eq!(plain.await, Err(TaskError::Cancelled));
        assert_eq!(shielded.await, Ok(1));
    });
}

#[test]
fn grace_works_when_the_nursery_was_dropped() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let finished = Count::default();
        let cut = Counter::default();
        let (done, guard) = (finished.clone(), cut.guard());
        nursery.start_soon(
            shield(async move {
                sleep(10).await;
                done.bump();
                Ok(())
            })
            .grace(300 * MS),
        );
        nursery.start_soon(
            shield(async move {
                let _guard = guard;
                sleep(60_000).await;
                Ok(())
            })
            .grace(20 * MS),
        );
        drop(nursery);
        let deadline = Instant::now() + 5_000 * MS;
        while (finished.get() == 0 || cut.alive() > 0) && Instant::now() < deadline {
            sleep(2).await;
        }
        assert_eq!(
            finished.get(),
            1,
            "the detached child finished inside its grace"
        );
        assert_eq!(cut.alive(), 0, "the detached child past its grace was cut");
    });
}

#[test]
fn a_graced_child_waiting_for_admission_counts_its_grace_while_it_waits() {
    run(2, |ex| async move {
        let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
        // The only place is held by a shielded child for 100 ms.
        nursery.start_soon(shield(async {
            sleep(100).await;
            Ok(())
        }));
        let ran = Count::default();
        let polled = ran.clone();
        let waiting = nursery.start_soon(
            shield(async move {
                polled.bump();
                Ok(())
            })
            .grace(20 * MS),
        );
        nursery.cancel();
        nursery.join().await.unwrap();
        assert_eq!(
            waiting.await,
            Err(TaskError::Cancelled),
            "cut before it ever ran"
        );
        assert_eq!(ran.get(), 0);
    });
}

#[test]
fn a_handle_can_still_cancel_a_graced_child() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let child = nursery
            .start_soon(shield(future::pending::<Result<(), ()>>()).grace(Duration::from_secs(60)));
        future::yield_now().await;
        child.cancel();
        nursery.join().await.unwrap();
        assert_eq!(child.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn a_graced_child_errors_are_reported() {
    run(2, |ex| async move {
        let nursery = Nursery::<&str>::new(&ex);
        nursery.start_soon(
            shield(async {
                sleep(5).await;
                Err::<(), _>("graced child failed")
            })
            .grace(Duration::from_secs(10)),
        );
        nursery.cancel();
        assert_eq!(
            nursery.join().await.unwrap_err().errors(),
            ["graced child failed"]
        );
    });
}

#[test]
fn graced_children_are_debuggable() {
    let child = shield(async { Ok::<(), ()>(()) }).grace(Duration::from_secs(1));
    assert_eq!(format!("{child:?}"), "Shielded { grace: 1s, .. }");
}
