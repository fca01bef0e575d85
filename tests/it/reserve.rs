//! `reserve` / `try_reserve` / `Slot`: room reserved under the limit, counted as an
//! unfinished child until it is used or dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::*;
use futures_lite::future;
use smol_nursery::{shield, Nursery, NurseryBuilder, NurseryClosed, TaskError};

#[test]
fn a_producer_through_slots_never_has_more_than_k_children() {
    const CHILDREN: usize = scaled(2_000, 40);
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = NurseryBuilder::new().limit(4).build::<()>(&ex);
            let mut peak = 0;
            for i in 0..CHILDREN {
                let slot = nursery.reserve().await;
                peak = peak.max(nursery.len());
                slot.start_soon(async move {
                    if i % 2 == 0 {
                        future::yield_now().await;
                    }
                    Ok(())
                });
            }
            nursery.join().await.unwrap();
            assert!(peak <= 4, "{peak} children existed at once");
        });
    }
}

#[test]
fn without_a_limit_reserve_is_ready_at_once() {
    run(1, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let slots: Vec<_> = (0..100).map(|_| nursery.try_reserve().unwrap()).collect();
        assert_eq!(nursery.len(), 100, "slots count as unfinished children");
        assert!(future::poll_once(nursery.reserve()).await.is_some());
        drop(slots);
        assert!(nursery.is_empty());
        nursery.join().await.unwrap();
    });
}

#[test]
fn a_slot_keeps_join_waiting_until_used() {
    run(2, |ex| async move {
        let nursery = NurseryBuilder::new().limit(2).build::<()>(&ex);
        let handle = nursery.handle();
        let slot_taken = Arc::new(Mutex::new(None));
        let keeper = slot_taken.clone();
        let user = std::thread::spawn(move || {
            let slot = future::block_on(handle.reserve()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            let child = slot.start_soon(async { Ok("late child") });
            *keeper.lock().unwrap() = Some(child);
        });
        // Give the thread time to reserve; `join` must then wait for the slot's child.
        while handle_len(&nursery) == 0 {
            future::yield_now().await;
        }
        nursery.join().await.unwrap();
        user.join().unwrap();
        let child = slot_taken.lock().unwrap().take().unwrap();
        assert!(
            child.is_finished(),
            "join waited for the child started through the slot"
        );
        assert_eq!(child.await, Ok("late child"));
    });
}

fn handle_len(nursery: &Nursery<'_, ()>) -> usize {
    nursery.len()
}

#[test]
fn a_dropped_slot_frees_its_room() {
    run(1, |ex| async move {
        let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
        let slot = nursery.try_reserve().expect("room");
        assert!(nursery.try_reserve().is_none(), "full");
        let mut waiting = Box::pin(nursery.reserve());
        assert!(future::poll_once(waiting.as_mut()).await.is_none());
        drop(slot);
        let slot = waiting.await;
        drop(slot);
        assert!(nursery.is_empty());
        nursery.join().await.unwrap();
    });
}

#[test]
fn try_reserve_when_full_returns_none_and_reserve_on_a_closed_handle_fails() {
    run(1, |ex| async move {
        let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
        let handle = nursery.handle();
        let _running = nursery.start_soon(async {
            sleep(5).await;
            Ok(())
        });
        assert!(nursery.try_reserve().is_none());
        assert!(handle.try_reserve().unwrap().is_none());
        nursery.join().await.unwrap();
        assert_eq!(handle.try_reserve().unwrap_err(), NurseryClosed);
        assert_eq!(handle.reserve().await.unwrap_err(), NurseryClosed);
    });
}

#[test]
fn waiting_reserves_are_served_in_order() {
    run(1, |ex| async move {
        let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
        let first_slot = nursery.try_reserve().unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let handle = nursery.handle();
        let mut waiters = Vec::new();
        for i in 0..5 {
            let (handle, order) = (handle.clone(), order.clone());
            waiters.push(ex.spawn(async move {
                let slot = handle.reserve().await.unwrap();
                order.lock().unwrap().push(i);
                future::yield_now().await;
                drop(slot);
            }));
            // Each waiter begins waiting before the next one is spawned.
            future::yield_now().await;
        }
        drop(first_slot);
        for waiter in waiters {
            waiter.await;
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
        nursery.join().await.unwrap();
    });
}

#[test]
fn a_reserve_dropped_while_waiting_gives_up_its_turn() {
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = NurseryBuilder::new().limit(1).build::<()>(&ex);
            let slot = nursery.try_reserve().unwrap();
            let mut gave_up = Box::pin(nursery.reserve());
            assert!(future::poll_once(gave_up.as_mut()).await.is_none());
            let mut next = Box::pin(nursery.reserve());
            assert!(future::poll_once(next.as_mut()).await.is_none());
            drop(gave_up);
            drop(slot);
            let slot = next.await;
            drop(slot);
            // And a reserve dropped right after it was handed the room gives it back.
            let slot = nursery.try_reserve().unwrap();
            let mut handed = Box::pin(nursery.reserve());
            assert!(future::poll_once(handed.as_mut()).await.is_none());
            drop(slot);
            drop(handed);
            assert!(nursery.try_reserve().is_some(), "the room came back");
            nursery.join().await.unwrap();
        });
    }
}

#[test]
fn a_cancelled_nurserys_slot_starts_a_child_that_never_runs_unless_shielded() {
    run(1, |ex| async move {
        let nursery = NurseryBuilder::new().limit(2).build::<()>(&ex);
        nursery.cancel();
        let plain = nursery.reserve().await.start_soon(async { Ok(1) });
        let shielded = nursery.reserve().await.start_soon(shield(async { Ok(2) }));
        nursery.join().await.unwrap();
        assert_eq!(plain.await, Err(TaskError::Cancelled));
        assert_eq!(shielded.await, Ok(2));
    });
}

#[test]
fn slots_and_children_share_the_limit_across_threads() {
    const ROUNDS: usize = scaled(500, 20);
    for threads in THREADS {
        run(threads, |ex| async move {
            let nursery = NurseryBuilder::new().limit(3).build::<()>(&ex);
            let now = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let handle = nursery.handle();
            let producers: Vec<_> = (0..2)
                .map(|_| {
                    let (handle, now, peak) = (handle.clone(), now.clone(), peak.clone());
                    std::thread::spawn(move || {
                        for _ in 0..ROUNDS {
                            let slot = future::block_on(handle.reserve()).unwrap();
                            let (now, peak) = (now.clone(), peak.clone());
                            slot.start_soon(async move {
                                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                                peak.fetch_max(running, Ordering::SeqCst);
                                future::yield_now().await;
                                now.fetch_sub(1, Ordering::SeqCst);
                                Ok(())
                            });
                        }
                    })
                })
                .collect();
            while producers.iter().any(|p| !p.is_finished()) {
                sleep(1).await;
            }
            for producer in producers {
                producer.join().unwrap();
            }
            nursery.join().await.unwrap();
            assert!(peak.load(Ordering::SeqCst) <= 3);
        });
    }
}
