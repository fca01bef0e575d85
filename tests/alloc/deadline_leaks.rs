//! Deadlines leave nothing behind: a nursery whose deadline was armed releases its timer, and
//! the timer's registration with async-io's reactor, when `join` returns, when the deadline
//! fires, when an earlier deadline replaces it, and when the nursery is dropped.
//!
//! The counting global allocator of this binary (`main.rs`, whose tests take turns so that no
//! other test disturbs the count) measures the bytes in use before and after thousands of such
//! nurseries: the difference must stay far below what one leaked nursery per round would add.
//!
//! Not under Miri: deadlines need async-io's reactor, which needs `timerfd_create`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{self, *};
use async_executor::Executor;
use smol_nursery::Nursery;

/// Nurseries per way of ending a deadline, in the measured run.
const ROUNDS: usize = 2_000;

/// The ways a nursery's deadline ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Armed an hour ahead; the child finishes and `join` returns first.
    Joined,
    /// Armed with `cancel_at`, then replaced by an earlier one; `join` returns first.
    Replaced,
    /// Armed an hour ahead; the nursery is dropped before `join`.
    Dropped,
    /// Fires while a child waits forever.
    Fired,
}

/// Runs `rounds` nurseries whose deadline ends as `ending` says.
async fn nurseries(ex: &Arc<Executor<'static>>, ending: Ending, rounds: usize) {
    for _ in 0..rounds {
        let nursery = Nursery::<()>::new(ex);
        match ending {
            Ending::Joined => {
                nursery.cancel_after(Duration::from_secs(3600));
                nursery.start_soon(async { Ok(()) });
                nursery.join().await.unwrap();
            }
            Ending::Replaced => {
                nursery.cancel_at(Instant::now() + Duration::from_secs(7200));
                nursery.cancel_after(Duration::from_secs(3600));
                nursery.start_soon(async {
                    futures_lite::future::yield_now().await;
                    Ok(())
                });
                nursery.join().await.unwrap();
            }
            Ending::Dropped => {
                nursery.cancel_after(Duration::from_secs(3600));
                let child = nursery.start_soon(forever::<Result<(), ()>>());
                drop(nursery);
                // Let the executor drop the cancelled child before the next round, so that
                // its own tables do not grow with the number of rounds.
                assert!(child.await.is_err());
            }
            Ending::Fired => {
                nursery.cancel_after(Duration::from_micros(100));
                nursery.start_soon(forever::<Result<(), ()>>());
                assert!(nursery.join().await.unwrap_err().is_timeout());
            }
        }
    }
}

/// Bytes in use once the executor and the reactor have caught up: async-io removes a dropped
/// timer from its reactor lazily, so the reactor is made to turn a few times first.
async fn settled_in_use() -> isize {
    let mut least = isize::MAX;
    for _ in 0..5 {
        sleep(2).await;
        least = least.min(common::alloc::in_use());
    }
    least
}

#[test]
fn many_nurseries_with_deadlines_do_not_leak_timers() {
    let _alone = crate::measure_alone();
    run(2, |ex| async move {
        let endings = [
            Ending::Joined,
            Ending::Replaced,
            Ending::Dropped,
            Ending::Fired,
        ];
        // Warm-up: the reactor's thread and tables, the executor's queues.
        for ending in endings {
            nurseries(&ex, ending, 100).await;
        }
        for ending in endings {
            let rounds = match ending {
                // Each takes a timer tick: fewer rounds keep the test fast.
                Ending::Fired => ROUNDS / 5,
                _ => ROUNDS,
            };
            let before = settled_in_use().await;
            nurseries(&ex, ending, rounds).await;
            let after = settled_in_use().await;
            let growth = after - before;
            println!("{ending:?}: {growth} bytes more in use after {rounds} nurseries");
            // One leaked nursery is several hundred bytes, one leaked reactor timer entry a
            // few dozen; the allowance is a few bytes per round on top of some slack.
            let allowed = 4096 + 8 * rounds as isize;
            assert!(
                growth < allowed,
                "{ending:?}: {growth} bytes more in use after {rounds} nurseries whose deadline \
                 was armed (allowed: {allowed}): something is kept per nursery"
            );
        }
    });
}
