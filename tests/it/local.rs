//! What only the local form has: `!Send` children, `!Send` and `!Sync` types, the executors it
//! accepts, and trees that mix both forms. The rules both forms share are in `forms.rs`.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::common::{self, forever, run_local, watchdog, yields};
use async_executor::{Executor, LocalExecutor};
use futures_lite::future;
use smol_nursery::{
    local_scope, shield, LocalExecutorRef, LocalNursery, LocalNurseryHandle, LocalReserve,
    LocalScope, LocalSlot, Nursery, NurseryBuilder, NurseryHandle, Reserve, Scope, Slot, TaskError,
};

/// Tells at run time whether `T` is `Send` / `Sync`: the inherent method wins when the bound
/// holds, the trait's default otherwise.
struct Probe<T: ?Sized>(PhantomData<T>);

trait Fallback {
    fn is_send(&self) -> bool {
        false
    }
    fn is_sync(&self) -> bool {
        false
    }
}

impl<T: ?Sized> Fallback for Probe<T> {}

// Inherent methods exist only when the bounds hold, and then win over the trait's.
impl<T: ?Sized + Send> Probe<T> {
    fn is_send(&self) -> bool {
        true
    }
}

impl<T: ?Sized + Sync> Probe<T> {
    fn is_sync(&self) -> bool {
        true
    }
}

macro_rules! traits_of {
    ($T:ty) => {{
        let probe = Probe::<$T>(PhantomData);
        (probe.is_send(), probe.is_sync())
    }};
}

type Body = future::Ready<Result<(), ()>>;

#[test]
fn the_local_forms_are_neither_send_nor_sync() {
    assert_eq!(traits_of!(LocalNursery<'static, ()>), (false, false));
    assert_eq!(traits_of!(LocalNurseryHandle<'static, ()>), (false, false));
    assert_eq!(traits_of!(LocalSlot<'static, 'static, ()>), (false, false));
    assert_eq!(
        traits_of!(LocalReserve<'static, 'static, ()>),
        (false, false)
    );
    assert_eq!(
        traits_of!(LocalScope<'static, (), (), Body>),
        (false, false)
    );
    assert_eq!(traits_of!(LocalExecutorRef<'static>), (false, false));
    // The probe does tell `Send` and `Sync` apart: the `Send` forms are both.
    assert_eq!(traits_of!(Nursery<'static, ()>), (true, true));
    assert_eq!(traits_of!(NurseryHandle<'static, ()>), (true, true));
    assert_eq!(traits_of!(Slot<'static, 'static, ()>), (true, true));
    assert_eq!(traits_of!(Reserve<'static, 'static, ()>), (true, true));
    assert_eq!(traits_of!(Scope<'static, (), (), Body>), (true, true));
}

#[test]
fn children_hold_rc_and_refcell_across_awaits() {
    run_local(|ex| async move {
        let cache: Rc<RefCell<Vec<u32>>> = Rc::default();
        let nursery = LocalNursery::<()>::new(&ex);
        for i in 0..10 {
            let cache = cache.clone();
            nursery.start_soon(async move {
                let mut entry = Some(i);
                // The Rc and a RefCell borrow taken after it live across await points.
                yields(i as usize % 3).await;
                cache.borrow_mut().extend(entry.take());
                yields(1).await;
                Ok(())
            });
        }
        nursery.join().await.unwrap();
        let mut seen = cache.borrow().clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn start_and_scope_carry_non_send_values() {
    run_local(|ex| async move {
        let inner = ex.clone();
        let total = local_scope(&ex, |n| async move {
            let (counter, _child) = n
                .start(|ready| async move {
                    let counter = Rc::new(Cell::new(0));
                    ready.started(counter.clone());
                    counter.set(counter.get() + 1);
                    Ok(())
                })
                .await
                .map_err(|_| ())?;
            // A nested local scope inside the body: its future need not be Send either.
            let nested = local_scope(&inner, |m: LocalNurseryHandle<'_, ()>| async move {
                let counter = counter.clone();
                m.start_soon(async move {
                    counter.set(counter.get() + 10);
                    Ok(())
                })
                .map_err(|_| ())?;
                Ok(())
            })
            .await;
            assert!(nested.is_ok());
            Ok::<_, ()>(Rc::new(42))
        })
        .await;
        assert_eq!(*total.unwrap(), 42);
    });
}

#[test]
#[cfg_attr(miri, ignore = "leaks the executor on purpose, which Miri reports")]
fn a_static_local_executor_is_accepted() {
    watchdog(|| {
        let ex: &'static LocalExecutor<'static> = Box::leak(Box::new(LocalExecutor::new()));
        let nursery = LocalNursery::<()>::new(ex);
        let child = nursery.start_soon(async { Ok(Rc::new("static")) });
        future::block_on(ex.run(nursery.join())).unwrap();
        assert_eq!(*future::block_on(child).unwrap(), "static");
        let built = NurseryBuilder::new().limit(1).build_local::<()>(ex);
        future::block_on(ex.run(built.join())).unwrap();
    });
}

#[test]
fn children_of_a_dropped_executor_are_dropped_and_their_handles_say_cancelled() {
    watchdog(|| {
        let ex = Rc::new(LocalExecutor::new());
        let nursery = LocalNursery::<()>::new(&ex);
        let dropped = Rc::new(Cell::new(false));
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let flag = Flag(dropped.clone());
        let spawned = nursery.start_soon(shield(async move {
            let _flag = flag;
            forever::<Result<(), ()>>().await
        }));
        drop(ex);
        assert!(dropped.get(), "the executor's drop dropped the child");
        assert_eq!(future::block_on(spawned), Err(TaskError::Cancelled));
        // Started after the executor is gone: dropped unpolled.
        let late = nursery.start_soon(async { Ok(()) });
        assert_eq!(future::block_on(late), Err(TaskError::Cancelled));
        assert!(nursery.is_empty());
    });
}

#[test]
fn a_panicking_destructor_of_a_cancelled_child_is_the_childs_panic() {
    run_local(|ex| async move {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("destructor panicked");
            }
        }
        let nursery = LocalNursery::<()>::new(&ex);
        let (armed_tx, armed) = async_channel::bounded::<()>(1);
        let child = nursery.start_soon(async move {
            let _bomb = Bomb;
            armed_tx.send(()).await.unwrap();
            forever::<Result<(), ()>>().await
        });
        armed.recv().await.unwrap();
        nursery.cancel();
        let join = std::panic::AssertUnwindSafe(nursery.join());
        let panic = futures_lite::FutureExt::catch_unwind(join)
            .await
            .unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"destructor panicked"));
        assert_eq!(child.await, Err(TaskError::Panicked));
    });
}

#[test]
fn a_send_nursery_inside_a_local_child_links_to_the_local_parent() {
    run_local(|ex| async move {
        let shared_ex = Arc::new(Executor::new());
        let (inside_tx, inside) = async_channel::bounded::<()>(1);
        let (release_tx, release) = async_channel::bounded::<()>(1);
        let outer = LocalNursery::<()>::new(&ex);
        let worker_ex = shared_ex.clone();
        outer.start_soon(async move {
            // A nursery on a multi-threaded executor, opened inside a local child.
            let inner = Nursery::<()>::new(&worker_ex);
            inner.start_soon(async move {
                let _ = release.recv().await;
                Ok(())
            });
            inside_tx.send(()).await.unwrap();
            worker_ex.run(inner.join()).await.map_err(drop)
        });
        inside.recv().await.unwrap();
        let snapshot = outer.snapshot();
        let opened = snapshot.children()[0].nurseries();
        assert_eq!(opened.len(), 1, "{snapshot}");
        assert_eq!(opened[0].len(), 1);
        release_tx.send(()).await.unwrap();
        outer.join().await.unwrap();
    });
}

#[test]
fn a_limited_local_nursery_admits_queued_children_in_order() {
    run_local(|ex| async move {
        let order = Rc::new(RefCell::new(Vec::new()));
        let nursery = NurseryBuilder::new().limit(2).build_local::<()>(&ex);
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let order = order.clone();
                nursery.start_soon(async move {
                    order.borrow_mut().push(i);
                    yields(2).await;
                    Ok(i)
                })
            })
            .collect();
        assert_eq!(nursery.len(), 6, "queued children count as unfinished");
        nursery.join().await.unwrap();
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4, 5]);
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.await, Ok(i));
        }
    });
}

#[test]
fn a_send_nursery_dropped_in_a_local_child_is_adopted_by_the_local_parent() {
    run_local(|lex| async move {
        let ex = Arc::new(Executor::new());
        let paid = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (started_tx, started) = async_channel::bounded::<()>(1);
        let outer = LocalNursery::<()>::new(&lex);
        let (inner_ex, flag) = (ex.clone(), paid.clone());
        outer.start_soon(async move {
            let inner = Nursery::<()>::new(&inner_ex);
            inner.start_soon(shield(async move {
                started_tx.send(()).await.unwrap();
                // Long after its nursery is dropped and the local parent's child has ended.
                common::sleep(50).await;
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }));
            started.recv().await.unwrap();
            drop(inner); // its running shielded child is adopted by `outer`
            Ok(())
        });
        // This thread runs both executors: the local one (around this future) and `ex`.
        ex.run(outer.join()).await.unwrap();
        assert!(
            paid.load(std::sync::atomic::Ordering::SeqCst),
            "the local join returned before the adopted child finished"
        );
    });
}
