//! `join` reports every `Err` a child returned, once each and in the order they happened,
//! shielded children's errors and errors that arrive after the nursery was cancelled included.

use std::fmt;

use crate::common::*;
use smol_nursery::{shield, Nursery, NurseryError};

#[test]
fn every_error_is_reported_in_order_including_shielded_and_late_ones() {
    for threads in THREADS {
        run(threads, |ex| async move {
            // The order is forced, not timed: "first" fails, which cancels the nursery; the
            // first shielded child fails once it sees the cancellation; the second one fails
            // once the first one has finished.
            let nursery = Nursery::new(&ex);
            let handle = nursery.handle();
            let after_cancel = nursery.start_soon(shield(async move {
                while !handle.is_cancelled() {
                    sleep(1).await;
                }
                Err::<(), _>("shielded, after the cancellation")
            }));
            nursery.start_soon(shield(async move {
                assert!(after_cancel.await.is_err());
                Err::<(), _>("shielded, last")
            }));
            nursery.start_soon(async {
                sleep(1).await;
                Err::<(), _>("first")
            });
            nursery.start_soon(async { forever::<Result<(), &str>>().await });
            let err = nursery.join().await.unwrap_err();
            assert_eq!(
                err.errors(),
                &[
                    "first",
                    "shielded, after the cancellation",
                    "shielded, last"
                ]
            );
            assert!(!err.is_timeout());
        });
    }
}

#[test]
fn successful_children_contribute_nothing() {
    run(2, |ex| async move {
        let nursery = Nursery::<&str>::new(&ex);
        for i in 0..20u32 {
            nursery.start_soon(async move { Ok(i) });
        }
        assert_eq!(nursery.join().await, Ok(()));
    });
}

#[test]
fn concurrent_failures_are_all_kept() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::new(&ex);
            for i in 0..16u32 {
                nursery.start_soon(shield(async move {
                    futures_lite::future::yield_now().await;
                    Err::<(), _>(i)
                }));
            }
            let mut errors = nursery.join().await.unwrap_err().into_errors();
            errors.sort();
            assert_eq!(errors, (0..16).collect::<Vec<_>>());
        });
    }
}

#[derive(Debug, PartialEq)]
struct Refused(u16);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "port {} refused", self.0)
    }
}

impl std::error::Error for Refused {}

#[test]
fn nursery_error_displays_count_and_each_error_and_is_an_error() {
    run(1, |ex| async move {
        let nursery = Nursery::new(&ex);
        nursery.start_soon(shield(async { Err::<(), _>(Refused(80)) }));
        nursery.start_soon(shield(async { Err::<(), _>(Refused(443)) }));
        let err: NurseryError<Refused> = nursery.join().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 tasks failed: port 80 refused; port 443 refused"
        );
        let as_error: &dyn std::error::Error = &err;
        assert!(as_error.source().is_none());
        assert_eq!(
            format!("{err:?}"),
            "NurseryError { errors: [Refused(80), Refused(443)], timeout: None }"
        );
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        assert!(boxed.to_string().starts_with("2 tasks failed"));
    });
}

#[test]
fn into_errors_hands_out_owned_errors() {
    run(1, |ex| async move {
        let nursery = Nursery::new(&ex);
        nursery.start_soon(async { Err::<(), _>(std::io::Error::other("gone")) });
        let errors = nursery.join().await.unwrap_err().into_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "gone");
    });
}
