//! The nursery tree: a nursery opened inside a child knows its parent; a nursery dropped before
//! its `join` finished is adopted by the nearest live ancestor, whose `join` waits for what it
//! still runs; snapshots show the tree.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use futures_lite::future;
use smol_nursery::{scope, shield, CancelCause, Nursery, NurseryBuilder, TaskError};

/// The orphan scenario: a shielded payment inside an order nursery, inside a connection child
/// that a sibling's failure cancels. The outer `join` must wait for the payment.
#[test]
fn a_shielded_payment_inside_a_cancelled_connection_finishes_before_the_outer_join() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let paid = Arc::new(AtomicBool::new(false));
            let flag = paid.clone();
            let inner_ex = ex.clone();
            let server = Nursery::<&str>::new(&ex);
            let (paying_tx, paying) = async_channel::bounded::<()>(1);
            server.start_soon(async move {
                // The connection opens an order nursery and runs the payment in it.
                let orders = Nursery::<&str>::new(&inner_ex);
                orders.start_soon(shield(async move {
                    paying_tx.send(()).await.unwrap();
                    sleep(60).await;
                    flag.store(true, Ordering::SeqCst);
                    Ok(())
                }));
                orders.join().await.map_err(|_| "orders failed")
            });
            server.start_soon(async move {
                // Fails once the payment runs (waited for, not timed: Miri runs slowly).
                let _ = paying.recv().await;
                Err::<(), _>("a sibling of the connection failed")
            });
            let err = server.join().await.unwrap_err();
            assert_eq!(err.errors(), ["a sibling of the connection failed"]);
            assert!(
                paid.load(Ordering::SeqCst),
                "the outer join returned while the payment was running"
            );
        });
    }
}

#[test]
fn adoption_goes_through_two_levels_of_dropped_nurseries() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let done = Arc::new(AtomicBool::new(false));
            let flag = done.clone();
            let (ex1, ex2) = (ex.clone(), ex.clone());
            let (running_tx, running) = async_channel::bounded::<()>(1);
            let top = Nursery::<()>::new(&ex);
            let middle_child = top.start_soon(async move {
                let middle = Nursery::<()>::new(&ex1);
                middle.start_soon(async move {
                    let bottom = Nursery::<()>::new(&ex2);
                    bottom.start_soon(shield(async move {
                        running_tx.send(()).await.unwrap();
                        sleep(50).await;
                        flag.store(true, Ordering::SeqCst);
                        Ok(())
                    }));
                    bottom.join().await.map_err(drop)
                });
                middle.join().await.map_err(drop)
            });
            // Cancel once the grandchild runs (waited for, not timed: Miri runs slowly).
            running.recv().await.unwrap();
            middle_child.cancel();
            top.join().await.unwrap();
            assert!(
                done.load(Ordering::SeqCst),
                "top's join waited for the grandchild"
            );
        });
    }
}

#[test]
fn adopted_work_does_not_count_in_len_and_its_errors_do_not_reach_the_adopter() {
    run(2, |ex| async move {
        let inner_ex = ex.clone();
        let top = Nursery::<&str>::new(&ex);
        let handle = top.handle();
        let (adopted_tx, adopted) = async_channel::bounded::<()>(1);
        let (opened_tx, opened) = async_channel::bounded::<()>(1);
        let child = top.start_soon(async move {
            let inner = Nursery::<&str>::new(&inner_ex);
            inner.start_soon(shield(async move {
                let _ = adopted.recv().await;
                Err::<(), _>("a late error of an adopted nursery")
            }));
            opened_tx.send(()).await.unwrap();
            future::pending::<()>().await;
            Ok(())
        });
        opened.recv().await.unwrap();
        child.cancel();
        while !handle.is_empty() {
            sleep(1).await;
        }
        assert_eq!(handle.len(), 0, "adopted work is not in len()");
        assert!(!handle.is_cancelled());
        let snapshot = handle.snapshot();
        assert_eq!(snapshot.nurseries().len(), 1);
        assert!(snapshot.nurseries()[0].is_adopted());
        assert_eq!(snapshot.nurseries()[0].len(), 1);
        drop(adopted_tx);
        assert_eq!(top.join().await, Ok(()), "the adopted error was dropped");
    });
}

#[cfg(not(miri))] // grace and deadlines run on async-io's timers, which need the reactor
#[test]
fn adoption_with_grace_children_waits_for_the_grace_only() {
    run(2, |ex| async move {
        let inner_ex = ex.clone();
        let top = Nursery::<()>::new(&ex);
        let cut = Counter::default();
        let guard = cut.guard();
        let child = top.start_soon(async move {
            let inner = Nursery::<()>::new(&inner_ex);
            inner.start_soon(
                shield(async move {
                    let _guard = guard;
                    sleep(60_000).await;
                    Ok(())
                })
                .grace(Duration::from_millis(30)),
            );
            future::pending::<()>().await;
            Ok(())
        });
        sleep(5).await;
        child.cancel();
        let started = std::time::Instant::now();
        top.join().await.unwrap();
        assert_eq!(
            cut.alive(),
            0,
            "join returned after the graced child was cut"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn a_parent_already_joined_adopts_nothing() {
    run(2, |ex| async move {
        let inner_ex = ex.clone();
        let top = Nursery::<()>::new(&ex);
        let (give, take) = async_channel::bounded(1);
        top.start_soon(async move {
            // A nursery created in the child, moved out of it: it keeps its parent.
            give.send(Nursery::<()>::new(&inner_ex)).await.unwrap();
            Ok(())
        });
        let moved = take.recv().await.unwrap();
        top.join().await.unwrap();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        moved.start_soon(shield(async move {
            sleep(20).await;
            flag.store(true, Ordering::SeqCst);
            Ok(())
        }));
        drop(moved);
        // Nobody adopts: the shielded child runs on, detached.
        assert!(!finished.load(Ordering::SeqCst));
        while !finished.load(Ordering::SeqCst) {
            sleep(2).await;
        }
    });
}

#[test]
fn nurseries_created_outside_any_child_have_no_parent() {
    run(1, |ex| async move {
        let top = Nursery::<()>::new(&ex);
        let sibling = Nursery::<()>::new(&ex);
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        sibling.start_soon(shield(async move {
            sleep(30).await;
            flag.store(true, Ordering::SeqCst);
            Ok(())
        }));
        drop(sibling);
        top.join().await.unwrap();
        assert!(
            !finished.load(Ordering::SeqCst),
            "top did not adopt its sibling"
        );
        assert!(top_snapshot_is_flat(&ex));
        while !finished.load(Ordering::SeqCst) {
            sleep(2).await;
        }
    });
}

fn top_snapshot_is_flat(ex: &Arc<async_executor::Executor<'static>>) -> bool {
    Nursery::<()>::new(ex).snapshot().nurseries().is_empty()
}

#[test]
fn a_scope_inside_a_child_links_to_the_childs_nursery() {
    run(2, |ex| async move {
        let inner_ex = ex.clone();
        let top = Nursery::<()>::new(&ex);
        let handle = top.handle();
        let (inside_tx, inside) = async_channel::bounded::<()>(1);
        let (release_tx, release) = async_channel::bounded::<()>(1);
        top.start_soon(async move {
            scope(&inner_ex, |n| async move {
                n.start_soon(async move {
                    let _ = release.recv().await;
                    Ok(())
                })
                .unwrap();
                inside_tx.send(()).await.unwrap();
                Ok::<_, ()>(())
            })
            .await
            .map_err(drop)
        });
        inside.recv().await.unwrap();
        sleep(2).await;
        let snapshot = handle.snapshot();
        let child = &snapshot.children()[0];
        assert_eq!(child.nurseries().len(), 1, "{snapshot}");
        let nested = &child.nurseries()[0];
        assert!(!nested.is_adopted());
        assert!(!nested.is_empty());
        drop(release_tx);
        top.join().await.unwrap();
    });
}

#[cfg(not(miri))] // grace and deadlines run on async-io's timers, which need the reactor
#[test]
fn a_snapshot_shows_running_shielded_graced_cancelling_and_waiting_children() {
    run(1, |ex| async move {
        let nursery = NurseryBuilder::new().limit(4).build::<()>(&ex);
        let (_hold, gate) = async_channel::bounded::<()>(1);
        let wait = move || {
            let gate = gate.clone();
            async move {
                let _ = gate.recv().await;
                Ok(())
            }
        };
        let plain = nursery.start_soon(wait());
        nursery.start_soon(shield(wait()));
        nursery.start_soon(shield(wait()).grace(Duration::from_secs(60)));
        nursery.start_soon(wait());
        // Two more wait for room under the limit.
        nursery.start_soon(wait());
        nursery.start_soon(wait());
        nursery.cancel_after(Duration::from_secs(3600));
        future::yield_now().await;
        future::yield_now().await;

        plain.cancel(); // cancelling until it is polled again
        let snapshot = nursery.snapshot();
        assert_eq!(snapshot.len(), 6);
        assert_eq!(snapshot.limit(), Some(4));
        assert!(snapshot.deadline().unwrap() > Duration::from_secs(3000));
        assert_eq!(snapshot.cancelled(), None);
        let children = snapshot.children();
        assert_eq!(children.len(), 4, "{snapshot}");
        assert_eq!(
            children.iter().map(|c| c.id()).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert!(children[0].is_cancelling());
        assert!(!children[0].is_shielded());
        assert!(children[1].is_shielded() && !children[1].is_in_grace());
        assert!(children[2].is_shielded() && !children[2].is_in_grace());
        assert!(children
            .iter()
            .all(|c| c.location().file().ends_with("tree.rs")));
        let text = snapshot.to_string();
        assert!(text.contains("6 unfinished"), "{text}");
        assert!(text.contains("limit 4"), "{text}");
        assert!(text.contains("2 not listed"), "{text}");

        nursery.cancel();
        future::yield_now().await;
        let snapshot = nursery.snapshot();
        assert_eq!(snapshot.cancelled(), Some(CancelCause::Explicit));
        let graced = snapshot.children().iter().find(|c| c.id() == 2).unwrap();
        assert!(graced.is_in_grace(), "{snapshot}");
        assert!(snapshot.to_string().contains("in its grace period"));
        drop(_hold);
        nursery.join().await.unwrap();
    });
}

#[test]
fn a_snapshot_can_be_taken_from_another_thread_while_children_come_and_go() {
    const CHILDREN: usize = scaled(2_000, 30);
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let taken = Count::default();
        let counted = taken.clone();
        let watcher = std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                let snapshot = handle.snapshot();
                assert!(snapshot.children().len() <= snapshot.len(), "{snapshot}");
                let _ = snapshot.to_string();
                counted.bump();
            }
        });
        for i in 0..CHILDREN {
            nursery.start_soon(async move {
                if i % 2 == 0 {
                    future::yield_now().await;
                }
                Ok(())
            });
            if i % 64 == 0 {
                future::yield_now().await;
            }
        }
        while !nursery.is_empty() || taken.get() < 3 {
            future::yield_now().await;
        }
        stop.store(true, Ordering::SeqCst);
        watcher.join().unwrap();
        nursery.join().await.unwrap();
    });
}

#[test]
fn a_closed_nurserys_snapshot_shows_nothing_running() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        nursery.start_soon(async { Ok(()) });
        nursery.join().await.unwrap();
        let snapshot = handle.snapshot();
        assert!(snapshot.is_joined());
        assert!(snapshot.is_empty());
        assert!(snapshot.children().is_empty());
        assert!(snapshot.to_string().contains("joined"));
    });
}

#[test]
fn a_dropped_nurserys_snapshot_still_shows_what_it_runs() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let handle = nursery.handle();
        let (_hold, gate) = async_channel::bounded::<()>(1);
        nursery.start_soon(shield(async move {
            let _ = gate.recv().await;
            Ok(())
        }));
        future::yield_now().await;
        drop(nursery);
        let snapshot = handle.snapshot();
        assert_eq!(snapshot.cancelled(), Some(CancelCause::Dropped));
        assert_eq!(snapshot.children().len(), 1);
        assert!(snapshot.children()[0].is_shielded());
        assert_eq!(TaskError::Cancelled.to_string(), "task was cancelled");
    });
}

#[test]
fn snapshots_are_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<smol_nursery::Snapshot>();
}
