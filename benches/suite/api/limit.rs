//! The groups of the limit API: `limit`, `reserve`, and the cost of a `snapshot`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Task;
use async_lock::Semaphore;
use futures::stream::{self, StreamExt};
use futures_lite::future;
use smol_nursery::{Nursery, NurseryBuilder};

use super::super::{pending_child, Alive, Bench};

/// The concurrency limit of `limit` and `reserve`.
pub const LIMIT: usize = 64;

/// The children counts of `limit` and `reserve`.
pub const LIMIT_SIZES: &[usize] = &[1_000, 10_000, 100_000];

/// The pending children of the nursery that `snapshot` inspects.
pub const SNAPSHOT_CHILDREN: usize = 10_000;

/// The snapshots per measurement of `snapshot` (its N), and per interleaved sample.
pub const SNAPSHOTS: &[usize] = &[20];

impl Bench {
    /// `n` children (each yields once) started all at once, at most `LIMIT` running at a
    /// time, then all of them awaited.
    pub(in super::super) fn limit(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        match contender {
            // `start_soon` queues the children beyond the limit unspawned; `join` waits.
            "nursery" => self.on(async {
                let nursery = NurseryBuilder::new().limit(LIMIT).build::<()>(ex);
                for _ in 0..n {
                    nursery.start_soon(async {
                        future::yield_now().await;
                        Ok(())
                    });
                }
                nursery.join().await.unwrap();
            }),
            // Every raw task is spawned at once and takes its permit inside.
            "semaphore_raw" => self.on(async {
                let permits = Arc::new(Semaphore::new(LIMIT));
                let tasks: Vec<Task<()>> = (0..n)
                    .map(|_| {
                        let permits = permits.clone();
                        ex.spawn(async move {
                            let _permit = permits.acquire().await;
                            future::yield_now().await;
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
            }),
            // One task polls at most `LIMIT` of the futures at a time.
            "buffer_unordered" => future::block_on(async {
                let mut children =
                    stream::iter((0..n).map(|_| future::yield_now())).buffer_unordered(LIMIT);
                while children.next().await.is_some() {}
            }),
            // tokio: every task spawned at once into a `JoinSet`, each takes its permit inside.
            "tokio_semaphore" => self.tokio.block_on(async {
                let permits = Arc::new(tokio::sync::Semaphore::new(LIMIT));
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..n {
                    let permits = permits.clone();
                    set.spawn(async move {
                        let _permit = permits.acquire().await.unwrap();
                        tokio::task::yield_now().await;
                    });
                }
                while let Some(result) = set.join_next().await {
                    result.unwrap();
                }
            }),
            other => unreachable!("no contender {other}"),
        }
        start.elapsed()
    }

    /// A producer that starts `n` children (each yields once) one at a time, waiting for room
    /// under `LIMIT` before each, then awaits all of them.
    pub(in super::super) fn reserve(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        match contender {
            "nursery" => self.on(async {
                let nursery = NurseryBuilder::new().limit(LIMIT).build::<()>(ex);
                for _ in 0..n {
                    nursery.reserve().await.start_soon(async {
                        future::yield_now().await;
                        Ok(())
                    });
                }
                nursery.join().await.unwrap();
            }),
            // The permit is taken before the spawn and released when the task ends.
            "semaphore_raw" => self.on(async {
                let permits = Arc::new(Semaphore::new(LIMIT));
                let mut tasks: Vec<Task<()>> = Vec::new();
                for _ in 0..n {
                    let permit = permits.acquire_arc().await;
                    tasks.push(ex.spawn(async move {
                        future::yield_now().await;
                        drop(permit);
                    }));
                }
                for task in tasks {
                    task.await;
                }
            }),
            other => unreachable!("no contender {other}"),
        }
        start.elapsed()
    }

    /// `n` snapshots of a nursery with `SNAPSHOT_CHILDREN` pending children: `snapshot()`
    /// alone, or followed by `to_string()`. Only the snapshots are timed.
    pub(in super::super) fn snapshot(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let alive = Alive::default();
        let nursery = Nursery::<()>::new(ex);
        for _ in 0..SNAPSHOT_CHILDREN {
            let guard = alive.guard();
            nursery.start_soon(async move {
                pending_child(guard).await;
                Ok(())
            });
        }
        while ex.try_tick() {}
        let start = Instant::now();
        let mut listed = 0;
        for _ in 0..n {
            match contender {
                "snapshot" => {
                    let snapshot = nursery.snapshot();
                    listed += snapshot.children().len();
                }
                "snapshot_to_string" => {
                    let text = nursery.snapshot().to_string();
                    listed += text.lines().count() - 1;
                }
                other => unreachable!("no contender {other}"),
            }
        }
        let elapsed = start.elapsed();
        assert_eq!(listed, n * SNAPSHOT_CHILDREN, "{contender}");
        nursery.cancel();
        self.on(nursery.join()).unwrap();
        assert_eq!(alive.count(), 0);
        elapsed
    }
}
