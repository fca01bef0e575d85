//! `start`: the child belongs to its starter until it calls `Ready::started`; after that it
//! is an ordinary child.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::common::*;
use futures_lite::{future, FutureExt};
use smol_nursery::{scope, shield, Nursery, Ready, StartError, TaskError};

#[test]
fn ready_hands_the_value_and_the_handle_to_the_starter() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let (value, handle) = nursery
                .start(|ready: Ready<u32>| async move {
                    ready.started(7);
                    sleep(5).await;
                    Ok("after ready")
                })
                .await
                .unwrap();
            assert_eq!(value, 7);
            assert_eq!(handle.await, Ok("after ready"));
            nursery.join().await.unwrap();
        });
    }
}

#[test]
fn an_error_before_ready_goes_to_the_starter_only() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let sibling = Counter::default();
            let nursery = Nursery::<&str>::new(&ex);
            nursery.start_soon(sibling.forever::<Result<(), &str>>());
            let result = nursery
                .start(|_ready: Ready<()>| async { Err::<(), _>("bind failed") })
                .await;
            assert_eq!(result.unwrap_err(), StartError::Failed("bind failed"));
            assert!(!nursery.is_cancelled(), "nothing was cancelled");
            assert_eq!(sibling.alive(), 1);
            nursery.cancel();
            assert_eq!(nursery.join().await, Ok(()), "nothing was recorded");
        });
    }
}

#[test]
fn a_panic_before_ready_is_resumed_in_the_starter() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let start = nursery.start(|_ready: Ready<()>| async {
                future::yield_now().await;
                panic!("bind exploded");
                #[allow(unreachable_code)]
                Ok(())
            });
            let caught = AssertUnwindSafe(start).catch_unwind().await;
            let panic = caught.unwrap_err();
            assert_eq!(panic.downcast_ref::<&str>(), Some(&"bind exploded"));
            assert!(!nursery.is_cancelled());
            assert_eq!(nursery.join().await, Ok(()), "the nursery recorded nothing");
        });
    }
}

#[test]
fn returning_without_ready_is_exited() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let result = nursery.start(|_ready: Ready<u8>| async { Ok(()) }).await;
        assert_eq!(result.unwrap_err(), StartError::Exited);
        nursery.join().await.unwrap();
    });
}

#[test]
fn a_ready_dropped_unused_resolves_when_the_child_ends() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let result = nursery
            .start(|ready: Ready<u8>| async move {
                drop(ready);
                sleep(5).await;
                Ok(())
            })
            .await;
        assert_eq!(result.unwrap_err(), StartError::Exited);
        nursery.join().await.unwrap();
    });
}

#[test]
fn a_cancellation_before_ready_is_cancelled() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let child = Counter::default();
            let guard = child.guard();
            let start = nursery.start(|_ready: Ready<()>| async move {
                let _guard = guard;
                future::pending::<Result<(), ()>>().await
            });
            nursery.cancel();
            assert_eq!(start.await.unwrap_err(), StartError::Cancelled);
            assert_eq!(child.alive(), 0);
            assert_eq!(nursery.join().await, Ok(()));
        });
    }
}

#[test]
fn a_shielded_start_child_survives_the_cancellation_and_becomes_ready() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let start = nursery.start(|ready| {
            shield(async move {
                sleep(10).await;
                ready.started("up");
                Ok(1)
            })
        });
        nursery.cancel();
        let (value, handle) = start.await.unwrap();
        assert_eq!(value, "up");
        nursery.join().await.unwrap();
        assert_eq!(handle.await, Ok(1));
    });
}

#[test]
fn a_destructor_panic_while_cancelled_before_ready_goes_to_the_starter() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("destructor exploded");
        }
    }
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let start = nursery.start(|_ready: Ready<()>| async move {
            let _bomb = PanicOnDrop;
            future::pending::<Result<(), ()>>().await
        });
        // Let the child reach its await point, then cancel it.
        let start = async move {
            future::yield_now().await;
            nursery.cancel();
            let caught = AssertUnwindSafe(start).catch_unwind().await;
            (nursery, caught)
        };
        let (nursery, caught) = start.await;
        let panic = caught.unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"destructor exploded"));
        assert_eq!(nursery.join().await, Ok(()), "the nursery recorded nothing");
    });
}

#[test]
fn errors_and_panics_after_ready_go_to_the_nursery() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<&str>::new(&ex);
            let sibling = Counter::default();
            nursery.start_soon(sibling.forever::<Result<(), &str>>());
            let ((), handle) = nursery
                .start(|ready| async move {
                    ready.started(());
                    sleep(5).await;
                    Err::<(), _>("failed after ready")
                })
                .await
                .unwrap();
            assert_eq!(handle.await, Err(TaskError::Failed));
            assert_eq!(
                nursery.join().await.unwrap_err().errors(),
                ["failed after ready"]
            );
            assert_eq!(sibling.alive(), 0, "the failure cancelled the sibling");
        });
    }
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run(2, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let _ = nursery
                .start(|ready| async move {
                    ready.started(());
                    future::yield_now().await;
                    panic!("panicked after ready");
                    #[allow(unreachable_code)]
                    Ok(())
                })
                .await
                .unwrap();
            nursery.join().await
        })
    }))
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"panicked after ready"));
}

#[test]
fn dropping_start_before_ready_cancels_the_child_even_shielded() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let plain = Counter::default();
            let shielded = Counter::default();
            let (plain_guard, shielded_guard) = (plain.guard(), shielded.guard());
            // Never polled.
            drop(nursery.start(|_ready: Ready<()>| async move {
                let _guard = plain_guard;
                future::pending::<Result<(), ()>>().await
            }));
            // Polled once, then dropped.
            let mut start = Box::pin(nursery.start(|_ready: Ready<()>| {
                shield(async move {
                    let _guard = shielded_guard;
                    future::pending::<Result<(), ()>>().await
                })
            }));
            assert!(future::poll_once(start.as_mut()).await.is_none());
            drop(start);
            assert_eq!(nursery.join().await, Ok(()));
            assert_eq!(plain.alive() + shielded.alive(), 0);
        });
    }
}

#[test]
fn a_panic_after_the_start_future_was_dropped_goes_to_the_nursery() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("dropped after its starter left");
        }
    }
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run(1, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let mut start = Box::pin(nursery.start(|_ready: Ready<()>| async move {
                let _bomb = PanicOnDrop;
                future::pending::<Result<(), ()>>().await
            }));
            assert!(future::poll_once(start.as_mut()).await.is_none());
            future::yield_now().await;
            drop(start);
            nursery.join().await
        })
    }))
    .unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"dropped after its starter left")
    );
}

#[test]
fn dropping_start_after_ready_cancels_nothing() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let finished = Arc::new(AtomicBool::new(false));
        let done = finished.clone();
        let (readied_tx, readied) = async_channel::bounded::<()>(1);
        let start = nursery.start(|ready| async move {
            ready.started(String::from("value nobody takes"));
            readied_tx.send(()).await.unwrap();
            sleep(5).await;
            done.store(true, Ordering::SeqCst);
            Ok(())
        });
        readied.recv().await.unwrap();
        drop(start);
        nursery.join().await.unwrap();
        assert!(finished.load(Ordering::SeqCst));
    });
}

#[test]
fn ready_racing_a_cancellation_gives_exactly_one_outcome() {
    const ROUNDS: usize = scaled(300, 40);
    for threads in THREADS {
        run(threads, move |ex| async move {
            let (mut ready, mut cancelled) = (0, 0);
            for _ in 0..ROUNDS {
                let nursery = Nursery::<()>::new(&ex);
                let handle = nursery.handle();
                let (before_ready, before_cancel) = (fastrand::usize(0..3), fastrand::usize(0..3));
                let start = nursery.start(move |ready| async move {
                    for _ in 0..before_ready {
                        future::yield_now().await;
                    }
                    ready.started(());
                    future::yield_now().await;
                    Ok(())
                });
                nursery.start_soon(async move {
                    for _ in 0..before_cancel {
                        future::yield_now().await;
                    }
                    handle.cancel();
                    Ok(())
                });
                match start.await {
                    Ok(((), _)) => ready += 1,
                    Err(StartError::Cancelled) => cancelled += 1,
                    Err(other) => panic!("unexpected outcome {other:?}"),
                }
                assert_eq!(nursery.join().await, Ok(()));
            }
            assert_eq!(ready + cancelled, ROUNDS);
            eprintln!("{threads} threads: {ready} ready, {cancelled} cancelled");
            assert!(ready > 0 && cancelled > 0, "the race was never close");
        });
    }
}

#[test]
fn start_through_a_closed_handle_does_not_call_the_closure() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        nursery.join().await.unwrap();
        let called = Arc::new(AtomicBool::new(false));
        let flag = called.clone();
        let result = handle
            .start(move |ready: Ready<()>| {
                flag.store(true, Ordering::SeqCst);
                async move {
                    ready.started(());
                    Ok(())
                }
            })
            .await;
        assert_eq!(result.unwrap_err(), StartError::Closed);
        assert!(!called.load(Ordering::SeqCst));
    });
}

#[test]
fn a_server_started_in_a_scope_hands_out_its_address() {
    run(2, |ex| async move {
        let result = scope(&ex, |n| async move {
            let (tx, rx) = async_channel::unbounded::<u32>();
            let (sender, _server) = n
                .start(move |ready| async move {
                    ready.started(tx);
                    rx.recv().await.map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| format!("{e:?}"))?;
            sender.send(42).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        })
        .await;
        assert_eq!(result, Ok(()));
    });
}

#[test]
fn the_start_future_is_send_and_the_closure_need_not_be() {
    fn assert_send<T: Send>(_: &T) {}
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let not_send = std::rc::Rc::new(5);
        let start = nursery.start(move |ready: Ready<i32>| {
            let value = *not_send;
            async move {
                ready.started(value);
                Ok(())
            }
        });
        assert_send(&start);
        assert_eq!(start.await.unwrap().0, 5);
        nursery.join().await.unwrap();
    });
}

#[test]
fn start_error_displays_and_is_an_error() {
    let failed: StartError<std::io::Error> = StartError::Failed(std::io::Error::other("in use"));
    assert_eq!(
        failed.to_string(),
        "task failed before it was ready: in use"
    );
    let as_error: &dyn std::error::Error = &failed;
    assert_eq!(as_error.source().unwrap().to_string(), "in use");
    assert_eq!(
        StartError::<std::io::Error>::Closed.to_string(),
        "starting a task in a closed nursery"
    );
    assert_eq!(
        StartError::<std::io::Error>::Cancelled.to_string(),
        "task was cancelled before it was ready"
    );
    assert_eq!(
        StartError::<std::io::Error>::Exited.to_string(),
        "task returned without saying it was ready"
    );
}
