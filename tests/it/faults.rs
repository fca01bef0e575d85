//! Faults and misuse: panics racing cancellation, destructors that call back into their own
//! nursery, and `join` dropped at every await point.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{self, *};
use futures_lite::{future, FutureExt};
use smol_nursery::{shield, Nursery, NurseryHandle, TaskError};

/// Panics with this payload; typed as a child's result.
fn boom() -> Result<(), ()> {
    std::panic::panic_any("planned")
}

#[test]
fn a_panic_in_a_child_while_another_thread_cancels() {
    for threads in [2, 4] {
        for round in 0..common::scaled(20, 1) as u64 {
            run(threads, move |ex| async move {
                let alive = Counter::default();
                let nursery = Nursery::<()>::new(&ex);
                for i in 0..32u64 {
                    let guard = alive.guard();
                    nursery.start_soon(async move {
                        let _guard = guard;
                        yields(((i + round) % 7) as usize).await;
                        if (i + round) % 5 == 0 {
                            return boom();
                        }
                        forever::<Result<(), ()>>().await
                    });
                }
                let handle = nursery.handle();
                let canceller = std::thread::spawn(move || {
                    for _ in 0..50 {
                        handle.cancel();
                        std::thread::yield_now();
                    }
                });
                let joined = AssertUnwindSafe(nursery.join()).catch_unwind().await;
                // Either a child panicked before the cancellation reached it (join resumes
                // that panic), or the cancellation came first (join is Ok).
                if let Err(panic) = joined {
                    assert_eq!(panic.downcast_ref::<&str>(), Some(&"planned"));
                }
                assert_eq!(alive.alive(), 0);
                canceller.join().unwrap();
            });
        }
    }
}

/// Calls back into its own nursery when dropped.
struct CallsBack {
    handle: NurseryHandle<'static, ()>,
    started: Count,
}

impl Drop for CallsBack {
    fn drop(&mut self) {
        self.handle.cancel();
        let started = self.started.clone();
        // The dropping child is still unfinished, so the nursery is open and `join` waits for
        // this new child too. A shielded child runs although the nursery is cancelled.
        let late = self.handle.start_soon(shield(async move {
            started.bump();
            Ok(())
        }));
        assert!(
            late.is_ok(),
            "the nursery closed before the dropping child finished"
        );
        let _ = self.handle.len();
        let _ = self.handle.is_closed();
    }
}

#[test]
fn destructors_that_call_cancel_and_start_soon_do_not_deadlock() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let started = Count::default();
            let nursery = Nursery::<()>::new(&ex);
            for i in 0..8u64 {
                let guard = CallsBack {
                    handle: nursery.handle(),
                    started: started.clone(),
                };
                nursery.start_soon(async move {
                    let _guard = guard;
                    sleep(i % 3).await;
                    if i == 5 {
                        forever::<()>().await;
                    }
                    Ok(())
                });
            }
            assert_eq!(nursery.join().await, Ok(()));
            assert_eq!(
                started.get(),
                8,
                "join returned before the children started by destructors"
            );
        });
    }
}

/// Cancels its own child when dropped, through the child's own handle.
#[test]
fn a_destructor_that_cancels_its_own_handle() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let slot: Arc<std::sync::Mutex<Option<smol_nursery::TaskHandle<()>>>> = Arc::default();
        struct CancelOwn(Arc<std::sync::Mutex<Option<smol_nursery::TaskHandle<()>>>>);
        impl Drop for CancelOwn {
            fn drop(&mut self) {
                if let Some(handle) = self.0.lock().unwrap().as_ref() {
                    handle.cancel();
                }
            }
        }
        let guard = CancelOwn(slot.clone());
        let handle = nursery.start_soon(async move {
            let _guard = guard;
            sleep(2).await;
            Ok(())
        });
        *slot.lock().unwrap() = Some(handle);
        assert_eq!(nursery.join().await, Ok(()));
        let handle = slot.lock().unwrap().take().unwrap();
        assert_eq!(handle.await, Ok(()));
    });
}

#[test]
fn join_dropped_at_every_await_point() {
    for threads in THREADS {
        for polls in 0..common::scaled(12, 3) {
            run(threads, move |ex| async move {
                let alive = Counter::default();
                let done = Count::default();
                let nursery = Nursery::<&str>::new(&ex);
                let mut plain = Vec::new();
                for i in 0..4u64 {
                    let guard = alive.guard();
                    plain.push(nursery.start_soon(async move {
                        let _guard = guard;
                        sleep(i).await;
                        yields(2).await;
                        if i == 3 {
                            return Err("late failure");
                        }
                        Ok(())
                    }));
                }
                let d = done.clone();
                let shielded = nursery.start_soon(shield(async move {
                    sleep(3).await;
                    d.bump();
                    Ok(())
                }));
                let mut join = Box::pin(nursery.join());
                for _ in 0..polls {
                    if future::poll_once(&mut join).await.is_some() {
                        break;
                    }
                    sleep(1).await;
                }
                drop(join);
                // Every plain child ends (finished or cancelled), the shielded one finishes.
                for handle in plain {
                    assert!(matches!(
                        handle.await,
                        Ok(()) | Err(TaskError::Cancelled) | Err(TaskError::Failed)
                    ));
                }
                assert_eq!(shielded.await, Ok(()));
                assert_eq!(done.get(), 1);
                assert_eq!(alive.alive(), 0);
            });
        }
    }
}

#[test]
fn a_user_panic_never_leaves_the_nursery_unusable() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("destructor");
            }
        }
    }
    run(2, |ex| async move {
        let nursery = Nursery::new(&ex);
        let handle = nursery.handle();
        // A panic while polling, a panic while dropping, an error whose destructor panics
        // after nobody can read it, and a value whose destructor panics after its handle was
        // dropped.
        nursery.start_soon(shield(async {
            sleep(1).await;
            boom().map_err(|()| PanicOnDrop)
        }));
        nursery.start_soon(shield(async {
            let _bomb = PanicOnDrop;
            sleep(2).await;
            Ok::<(), PanicOnDrop>(())
        }));
        drop(nursery.start_soon(shield(async {
            sleep(3).await;
            Ok::<_, PanicOnDrop>(PanicOnDrop)
        })));
        while !nursery.is_empty() {
            sleep(1).await;
        }
        // Every lock is still usable, from the nursery and its handles.
        assert!(nursery.is_cancelled());
        assert_eq!(nursery.len(), 0);
        let later = handle.start_soon(shield(async { Ok(7) })).unwrap();
        let joined = AssertUnwindSafe(nursery.join()).catch_unwind().await;
        assert!(joined.is_err(), "the first panic is resumed");
        assert_eq!(later.await, Ok(7));
        assert!(handle.is_closed());
        handle.cancel();
        assert!(handle.start_soon(async { Ok(()) }).is_err());
    });
}

#[test]
fn a_nursery_outlives_a_panicking_joiner_thread() {
    // The owner thread panics while holding the nursery: dropping it during unwinding cancels
    // the children without a second panic.
    let ex = Arc::new(async_executor::Executor::new());
    let alive = Counter::default();
    let guard = alive.guard();
    let ex2 = ex.clone();
    let owner = std::thread::spawn(move || {
        let nursery = Nursery::<()>::new(&ex2);
        nursery.start_soon(async move {
            let _guard = guard;
            forever::<Result<(), ()>>().await
        });
        while ex2.try_tick() {}
        panic!("owner failed");
    });
    assert!(owner.join().is_err());
    while ex.try_tick() {}
    assert_eq!(alive.alive(), 0);
    std::thread::sleep(Duration::from_millis(1));
}
