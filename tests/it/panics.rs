//! A panicking child is a failure like an `Err`: its siblings are cancelled, and `join`
//! resumes the first panic once every child has finished. A destructor that panics while a
//! child's future is dropped is that child's panic, never an abort of the process.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::common::*;
use futures_lite::{future, FutureExt};
use smol_nursery::{shield, Nursery, TaskError};

/// Panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

/// Panics; typed as a child's result so that children can end with it.
fn panic_now(message: &'static str) -> Result<(), &'static str> {
    panic!("{}", message)
}

fn message(panic: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "<unknown>".into()
    }
}

#[test]
fn join_resumes_the_first_panic_after_every_child_finished() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let shielded_done = Count::default();
            let nursery = Nursery::<&str>::new(&ex);
            // The order is forced, not timed: only "first panic" can cancel the nursery, and
            // every later event waits for the cancellation.
            let cancelled = || {
                let handle = nursery.handle();
                async move {
                    while !handle.is_cancelled() {
                        sleep(1).await;
                    }
                }
            };
            let d = shielded_done.clone();
            let wait = cancelled();
            nursery.start_soon(shield(async move {
                wait.await;
                sleep(5).await;
                d.bump();
                Ok(())
            }));
            let wait = cancelled();
            nursery.start_soon(shield(async move {
                wait.await;
                Err::<(), _>("an error, dropped when the panic resumes")
            }));
            let panicking = nursery.start_soon(async {
                sleep(5).await;
                panic_now("first panic")
            });
            nursery.start_soon(async {
                forever::<()>().await;
                panic_now("never: cancelled by the first panic")
            });
            let wait = cancelled();
            nursery.start_soon(shield(async move {
                wait.await;
                panic_now("second panic, dropped")
            }));
            let joined = AssertUnwindSafe(nursery.join()).catch_unwind().await;
            assert_eq!(message(joined.unwrap_err()), "first panic");
            assert_eq!(
                shielded_done.get(),
                1,
                "join resumed the panic before a child finished"
            );
            assert_eq!(panicking.await, Err::<(), _>(TaskError::Panicked));
        });
    }
}

#[test]
fn the_handle_of_a_panicked_child_yields_panicked() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.start_soon(async {
            if true {
                panic!("boom");
            }
            Ok(())
        });
        assert_eq!(handle.await, Err(TaskError::Panicked));
        assert!(AssertUnwindSafe(nursery.join())
            .catch_unwind()
            .await
            .is_err());
    });
}

#[test]
fn a_destructor_panic_during_cancellation_is_that_childs_panic() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = Nursery::new(&ex);
            let victim = nursery.start_soon(async {
                let _bomb = PanicOnDrop("destructor panicked during cancellation");
                forever::<Result<(), &str>>().await
            });
            nursery.start_soon(async {
                sleep(2).await;
                Err::<(), _>("failure that cancels the victim")
            });
            let joined = AssertUnwindSafe(nursery.join()).catch_unwind().await;
            assert_eq!(
                message(joined.unwrap_err()),
                "destructor panicked during cancellation"
            );
            assert_eq!(victim.await, Err(TaskError::Panicked));
        });
    }
}

#[test]
fn a_destructor_panic_after_explicit_cancel_is_reported() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let (armed_tx, armed) = async_channel::bounded::<()>(1);
        let victim = nursery.start_soon(async move {
            let _bomb = PanicOnDrop("bomb");
            armed_tx.send(()).await.unwrap();
            forever::<Result<(), ()>>().await
        });
        // Cancel once the bomb exists (waited for, not timed: Miri runs slowly).
        armed.recv().await.unwrap();
        nursery.cancel();
        let joined = AssertUnwindSafe(nursery.join()).catch_unwind().await;
        assert_eq!(message(joined.unwrap_err()), "bomb");
        assert_eq!(victim.await, Err(TaskError::Panicked));
    });
}

#[test]
fn a_destructor_panic_after_success_turns_the_child_into_a_panic() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.start_soon(async {
            let _bomb = PanicOnDrop("dropped after returning");
            Ok(5)
        });
        let joined = AssertUnwindSafe(nursery.join()).catch_unwind().await;
        assert_eq!(message(joined.unwrap_err()), "dropped after returning");
        assert_eq!(handle.await, Err(TaskError::Panicked));
    });
}

#[test]
fn a_panicking_value_whose_handle_was_dropped_does_not_abort() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        drop(nursery.start_soon(async {
            yields(2).await;
            Ok(PanicOnDrop("value dropped by the executor"))
        }));
        // The value is dropped by async-task inside its abort-on-panic guard: the process
        // survives, and the child itself succeeded.
        assert_eq!(nursery.join().await, Ok(()));
    });
}

#[test]
fn a_destructor_panic_while_the_executor_is_dropped_does_not_abort() {
    watchdog(|| {
        let ex = Arc::new(async_executor::Executor::new());
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.start_soon(async {
            let _bomb = PanicOnDrop("dropped with the executor");
            forever::<Result<(), ()>>().await
        });
        assert!(ex.try_tick());
        drop(ex);
        let joined =
            std::panic::catch_unwind(AssertUnwindSafe(|| future::block_on(nursery.join())));
        assert_eq!(message(joined.unwrap_err()), "dropped with the executor");
        assert_eq!(future::block_on(handle), Err(TaskError::Cancelled));
    });
}

#[test]
fn a_panicking_error_destructor_after_close_does_not_escape() {
    // An error that nobody will read (the nursery was dropped) is dropped quietly.
    run(1, |ex| async move {
        let nursery = Nursery::new(&ex);
        let done = Count::default();
        let d = done.clone();
        nursery.start_soon(shield(async move {
            sleep(5).await;
            d.bump();
            Err::<(), _>(PanicOnDrop("error dropped after the nursery"))
        }));
        drop(nursery);
        while done.get() == 0 {
            sleep(1).await;
        }
        yields(5).await;
    });
}

#[test]
fn the_nursery_stays_usable_after_a_child_panics() {
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        nursery.start_soon(async {
            if true {
                panic!("boom");
            }
            Ok(())
        });
        // The panic cancels the nursery (waited for, not timed: Miri runs slowly).
        nursery.cancelled().await;
        assert!(nursery.is_cancelled());
        // No lock is poisoned: the nursery still answers and still accepts children. (The
        // child counts until its wrapper has finished, just after the cancellation.)
        while !nursery.is_empty() {
            futures_lite::future::yield_now().await;
        }
        let late = handle.start_soon(shield(async { Ok(3) })).unwrap();
        assert!(AssertUnwindSafe(nursery.join())
            .catch_unwind()
            .await
            .is_err());
        assert_eq!(late.await, Ok(3));
    });
}
