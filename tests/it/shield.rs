//! A shielded child is never cancelled by the nursery (not by a sibling's failure, `cancel`,
//! the deadline, or dropping the nursery), and `join` waits for it; its own errors and panics
//! are reported, and only its own task handle can cancel it.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use crate::common::*;
use futures_lite::FutureExt;
use smol_nursery::{shield, Nursery, TaskError};

#[test]
fn a_shielded_child_survives_a_sibling_failure() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::new(&ex);
            let payment = nursery.start_soon(shield(async {
                sleep(30).await;
                Ok("paid")
            }));
            let sms = nursery.start_soon(async {
                sleep(1).await;
                Err::<&str, _>("sms failed")
            });
            let err = nursery.join().await.unwrap_err();
            assert_eq!(err.errors(), &["sms failed"]);
            assert_eq!(payment.await, Ok("paid"));
            assert_eq!(sms.await, Err(TaskError::Failed));
        });
    }
}

#[test]
fn a_shielded_child_survives_explicit_cancel() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let shielded = nursery.start_soon(shield(async {
                sleep(20).await;
                Ok(1)
            }));
            let plain = nursery.start_soon(async {
                sleep(20).await;
                Ok(2)
            });
            nursery.cancel();
            assert_eq!(nursery.join().await, Ok(()));
            assert_eq!(shielded.await, Ok(1));
            assert_eq!(plain.await, Err(TaskError::Cancelled));
        });
    }
}

#[test]
#[cfg_attr(miri, ignore = "deadlines need async-io's reactor (timerfd_create)")]
fn a_shielded_child_survives_the_deadline() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            nursery.cancel_after(Duration::from_millis(5));
            let shielded = nursery.start_soon(shield(async {
                sleep(40).await;
                Ok("finished")
            }));
            let err = nursery.join().await.unwrap_err();
            assert!(err.is_timeout());
            assert_eq!(shielded.await, Ok("finished"));
        });
    }
}

#[test]
fn a_shielded_childs_error_is_reported_and_cancels_plain_siblings() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::new(&ex);
            let plain = nursery.start_soon(alive.forever::<Result<(), &str>>());
            nursery.start_soon(shield(async {
                sleep(2).await;
                Err::<(), _>("payment declined")
            }));
            let err = nursery.join().await.unwrap_err();
            assert_eq!(err.errors(), &["payment declined"]);
            assert_eq!(alive.alive(), 0);
            assert_eq!(plain.await, Err(TaskError::Cancelled));
        });
    }
}

#[test]
fn a_shielded_childs_panic_is_resumed_by_join() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let plain = nursery.start_soon(forever::<Result<(), ()>>());
        nursery.start_soon(shield(async {
            sleep(2).await;
            if true {
                panic!("shielded panic");
            }
            Ok(())
        }));
        assert!(AssertUnwindSafe(nursery.join())
            .catch_unwind()
            .await
            .is_err());
        assert_eq!(plain.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn a_shielded_child_is_cancelled_through_its_own_handle() {
    run(2, |ex| async move {
        let alive = Counter::default();
        let nursery = Nursery::<()>::new(&ex);
        let guard = alive.guard();
        let shielded = nursery.start_soon(shield(async move {
            let _guard = guard;
            forever::<Result<(), ()>>().await
        }));
        sleep(2).await;
        nursery.cancel();
        sleep(2).await;
        assert_eq!(
            alive.alive(),
            1,
            "nursery-wide cancel reached a shielded child"
        );
        shielded.cancel();
        assert_eq!(nursery.join().await, Ok(()));
        assert_eq!(alive.alive(), 0);
        assert_eq!(shielded.await, Err(TaskError::Cancelled));
    });
}

#[test]
fn a_shielded_child_started_into_a_cancelled_nursery_runs() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel();
        let shielded = nursery.start_soon(shield(async {
            sleep(5).await;
            Ok("ran")
        }));
        assert_eq!(nursery.join().await, Ok(()));
        assert_eq!(shielded.await, Ok("ran"));
    });
}

#[test]
fn shielded_into_inner_drops_the_shield() {
    let inner = shield(async { Ok::<_, ()>(1) }).into_inner();
    assert_eq!(futures_lite::future::block_on(inner), Ok(1));
    assert_eq!(
        format!("{:?}", shield(async { Ok::<(), ()>(()) })),
        "Shielded { .. }"
    );
}
