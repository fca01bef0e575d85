//! `cancelled()`: resolves once the nursery is cancelled, for any reason, or closed.

use std::sync::Arc;

use crate::common::*;
use futures_lite::future;
use smol_nursery::{shield, Nursery};

/// Polls `fut` once and tells whether it is still pending.
async fn pending<F: std::future::Future>(fut: &mut std::pin::Pin<Box<F>>) -> bool {
    future::poll_once(fut.as_mut()).await.is_none()
}

#[test]
fn resolves_on_an_explicit_cancel() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let mut stopping = Box::pin(nursery.cancelled());
        assert!(pending(&mut stopping).await);
        nursery.handle().cancel();
        stopping.await;
        nursery.join().await.unwrap();
    });
}

#[test]
fn resolves_on_a_failure() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<&str>::new(&ex);
            let stopping = nursery.handle().cancelled();
            nursery.start_soon(async {
                sleep(2).await;
                Err::<(), _>("failed")
            });
            stopping.await;
            assert!(nursery.is_cancelled());
            assert!(nursery.join().await.is_err());
        });
    }
}

#[cfg(not(miri))] // async-io's timer needs the reactor
#[test]
fn resolves_when_the_deadline_fires() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(std::time::Duration::from_millis(10));
        nursery.start_soon(future::pending::<Result<(), ()>>());
        nursery.cancelled().await;
        assert!(nursery.join().await.unwrap_err().is_timeout());
    });
}

#[test]
fn resolves_when_the_nursery_is_dropped() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let stopping = nursery.handle().cancelled();
        drop(nursery);
        stopping.await;
    });
}

#[test]
fn resolves_once_the_nursery_is_closed_by_join() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        let mut stopping = Box::pin(handle.cancelled());
        assert!(pending(&mut stopping).await);
        nursery.join().await.unwrap();
        assert!(!handle.is_cancelled(), "join does not cancel");
        stopping.await;
        // And at once afterwards.
        handle.cancelled().await;
    });
}

#[test]
fn resolves_at_once_when_already_cancelled() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel();
        assert!(future::poll_once(nursery.cancelled()).await.is_some());
        nursery.join().await.unwrap();
    });
}

#[test]
fn wakes_up_when_another_thread_cancels() {
    const ROUNDS: usize = scaled(200, 5);
    for threads in THREADS {
        run(threads, |ex| async move {
            for _ in 0..ROUNDS {
                let nursery = Nursery::<()>::new(&ex);
                let handle = nursery.handle();
                let stopping = handle.cancelled();
                let canceller = std::thread::spawn(move || handle.cancel());
                stopping.await;
                canceller.join().unwrap();
                nursery.join().await.unwrap();
            }
        });
    }
}

#[test]
fn a_shielded_child_winds_down_on_its_own() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<&str>::new(&ex);
            let stop = nursery.handle().cancelled();
            let lines = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let served = lines.clone();
            let connection = nursery.start_soon(shield(async move {
                let serve = async {
                    loop {
                        sleep(1).await;
                        served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                };
                future::or(serve, stop).await;
                Ok("closed cleanly")
            }));
            nursery.start_soon(async {
                sleep(10).await;
                Err::<(), _>("the listener failed")
            });
            assert_eq!(
                nursery.join().await.unwrap_err().errors(),
                ["the listener failed"]
            );
            assert_eq!(connection.await, Ok("closed cleanly"));
            assert!(lines.load(std::sync::atomic::Ordering::SeqCst) > 0);
        });
    }
}

#[test]
fn the_handles_future_owns_what_it_needs() {
    fn assert_send_static<T: Send + 'static>(t: T) -> T {
        t
    }
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let stopping = assert_send_static(nursery.handle().cancelled());
        let debug = format!("{stopping:?}");
        assert!(debug.contains("cancelled: false"), "{debug}");
        nursery.cancel();
        stopping.await;
        nursery.join().await.unwrap();
    });
}
