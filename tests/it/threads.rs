//! Executors run by several threads: children finish on any of them, and the nursery may be
//! cancelled or given children from threads outside the executor.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{self, *};
use smol_nursery::{shield, Nursery, TaskError};

#[test]
fn children_run_and_finish_on_every_thread() {
    for threads in [2, 4] {
        run(threads, move |ex| async move {
            let seen = Arc::new(Mutex::new(HashSet::new()));
            let nursery = Nursery::<()>::new(&ex);
            for _ in 0..common::scaled(400, 20) {
                let seen = seen.clone();
                nursery.start_soon(async move {
                    sleep(1).await;
                    // Block the thread briefly so the others pick up work.
                    std::thread::sleep(Duration::from_micros(200));
                    seen.lock().unwrap().insert(std::thread::current().id());
                    Ok(())
                });
            }
            nursery.join().await.unwrap();
            assert!(!seen.lock().unwrap().is_empty());
        });
    }
}

#[test]
fn fail_fast_across_threads_leaves_nothing_alive() {
    for threads in THREADS {
        for round in 0..common::scaled(20, 1) as u64 {
            run(threads, move |ex| async move {
                let alive = Counter::default();
                let nursery = Nursery::new(&ex);
                for i in 0..common::scaled(200, 120) as u64 {
                    let guard = alive.guard();
                    nursery.start_soon(async move {
                        let _guard = guard;
                        yields((i % 5) as usize).await;
                        if i == 100 + round {
                            return Err(i);
                        }
                        forever::<Result<(), u64>>().await
                    });
                }
                let err = nursery.join().await.unwrap_err();
                assert_eq!(err.errors(), &[100 + round]);
                assert_eq!(alive.alive(), 0);
            });
        }
    }
}

#[test]
fn cancel_from_a_foreign_thread() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::<()>::new(&ex);
            for _ in 0..50 {
                let guard = alive.guard();
                nursery.start_soon(async move {
                    let _guard = guard;
                    loop {
                        futures_lite::future::yield_now().await;
                    }
                    #[allow(unreachable_code)]
                    Ok(())
                });
            }
            let shielded = nursery.start_soon(shield(async {
                sleep(10).await;
                Ok(())
            }));
            let handle = nursery.handle();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                handle.cancel();
            });
            assert_eq!(nursery.join().await, Ok(()));
            assert_eq!(alive.alive(), 0);
            assert_eq!(shielded.await, Ok(()));
        });
    }
}

#[test]
fn foreign_threads_start_children_while_join_waits() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let finished = Count::default();
            let nursery = Nursery::<()>::new(&ex);
            let handle = nursery.handle();
            let (release, released) = async_channel::bounded::<()>(1);
            // Keeps the nursery open until the foreign threads are done starting children.
            nursery.start_soon(async move {
                let _ = released.recv().await;
                Ok(())
            });
            let starters: Vec<_> = (0..4)
                .map(|_| {
                    let handle = handle.clone();
                    let finished = finished.clone();
                    std::thread::spawn(move || {
                        for _ in 0..common::scaled(100, 5) {
                            let f = finished.clone();
                            handle
                                .start_soon(async move {
                                    futures_lite::future::yield_now().await;
                                    f.bump();
                                    Ok(())
                                })
                                .unwrap();
                        }
                    })
                })
                .collect();
            std::thread::spawn(move || {
                for starter in starters {
                    starter.join().unwrap();
                }
                release.send_blocking(()).unwrap();
            });
            nursery.join().await.unwrap();
            assert_eq!(finished.get(), 4 * common::scaled(100, 5));
        });
    }
}

#[test]
fn a_child_blocking_its_thread_delays_join_but_not_cancellation() {
    for threads in [2, 4] {
        run(threads, |ex| async move {
            let alive = Counter::default();
            let nursery = Nursery::new(&ex);
            let blocker = nursery.start_soon(async {
                std::thread::sleep(Duration::from_millis(50));
                Ok::<_, &str>("unblocked")
            });
            nursery.start_soon(alive.forever::<Result<&str, &str>>());
            nursery.start_soon(async {
                sleep(5).await;
                Err::<(), _>("fail while a thread is blocked")
            });
            let err = nursery.join().await.unwrap_err();
            assert_eq!(err.errors(), &["fail while a thread is blocked"]);
            assert_eq!(alive.alive(), 0);
            // The blocked child never reached an await point after the failure: it returned.
            assert!(matches!(
                blocker.await,
                Ok("unblocked") | Err(TaskError::Cancelled)
            ));
        });
    }
}

#[test]
fn handle_cancel_from_another_thread() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::<()>::new(&ex);
            let victim = Arc::new(nursery.start_soon(forever::<Result<(), ()>>()));
            let v = victim.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(3));
                v.cancel();
            });
            assert_eq!(nursery.join().await, Ok(()));
            assert!(victim.is_finished());
        });
    }
}
