//! The groups of the `start` / `scope` API: `start`, `scope` and `join_next`; those of
//! the limit API (`limit`, `reserve`, `snapshot`), in `api/limit.rs`; and that of the local
//! form (`local`), in `api/local.rs`; those of part three (`set`, `race`), in `api/sets.rs`.
//!
//! To run the suite on code that predates this API (part one, commit `c5a8670`), replace this
//! file with `pub const GROUPS: &[super::Group] = &[];`; on code that predates part three,
//! delete `api/sets.rs` and the lines below that name `sets` (see `benches/README.md`).

use std::time::{Duration, Instant};

use async_executor::Task;
use futures::stream::{FuturesUnordered, StreamExt};
use futures_lite::future;
use smol_nursery::{scope, Nursery, TaskHandle};

use super::{Bench, Group, SAMPLE, SIZES};

mod limit;
mod local;
mod sets; // part three
#[cfg(feature = "static")]
mod statics;

use limit::{LIMIT_SIZES, SNAPSHOTS};

/// The groups, run after those of part one.
pub const GROUPS: &[Group] = &[
    Group {
        name: "start",
        contenders: &["nursery", "nursery_awaited", "raw_channel"],
        ratios: &[
            ("nursery", "raw_channel"),
            ("nursery_awaited", "raw_channel"),
        ],
        threads: 1,
        sizes: SIZES,
        measure: Bench::start,
        sample: SAMPLE,
    },
    Group {
        name: "scope",
        contenders: &["scope", "nursery"],
        ratios: &[("scope", "nursery")],
        threads: 1,
        sizes: SIZES,
        measure: Bench::scope,
        sample: SAMPLE,
    },
    Group {
        name: "join_next",
        contenders: &["nursery", "raw_executor", "tokio_joinset"],
        ratios: &[("nursery", "tokio_joinset"), ("nursery", "raw_executor")],
        threads: 1,
        sizes: SIZES,
        measure: Bench::join_next,
        sample: SAMPLE,
    },
    Group {
        name: "limit",
        contenders: &[
            "nursery",
            "semaphore_raw",
            "buffer_unordered",
            "tokio_semaphore",
        ],
        ratios: &[
            ("nursery", "semaphore_raw"),
            ("nursery", "buffer_unordered"),
            ("nursery", "tokio_semaphore"),
        ],
        threads: 1,
        sizes: LIMIT_SIZES,
        measure: Bench::limit,
        sample: SAMPLE,
    },
    Group {
        name: "reserve",
        contenders: &["nursery", "semaphore_raw"],
        ratios: &[("nursery", "semaphore_raw")],
        threads: 1,
        sizes: LIMIT_SIZES,
        measure: Bench::reserve,
        sample: SAMPLE,
    },
    #[cfg(feature = "static")]
    Group {
        name: "static",
        contenders: &[
            "static_nursery",
            "raw_static_executor",
            "nursery",
            "raw_executor",
        ],
        ratios: &[
            ("static_nursery", "nursery"),
            ("static_nursery", "raw_static_executor"),
            ("nursery", "raw_executor"),
        ],
        threads: 1,
        sizes: SIZES,
        measure: Bench::statics,
        sample: SAMPLE,
    },
    Group {
        name: "local",
        contenders: &[
            "local_nursery",
            "raw_local_executor",
            "tokio_joinset_local",
            "nursery",
        ],
        ratios: &[
            ("local_nursery", "raw_local_executor"),
            ("local_nursery", "tokio_joinset_local"),
            ("local_nursery", "nursery"),
        ],
        threads: 1,
        sizes: SIZES,
        measure: Bench::local,
        sample: SAMPLE,
    },
    // N is the number of snapshots, each of a nursery with 10 000 pending children; the
    // figures are per snapshot.
    Group {
        name: "snapshot",
        contenders: &["snapshot", "snapshot_to_string"],
        ratios: &[],
        threads: 1,
        sizes: SNAPSHOTS,
        measure: Bench::snapshot,
        sample: 20,
    },
    sets::SET,  // part three
    sets::RACE, // part three
];

/// The sum of the values `0..n`, which every contender of `start` and `join_next` adds up.
fn sum_below(n: usize) -> usize {
    n * (n - 1) / 2
}

impl Bench {
    /// `n` children started one after the other, each awaited until it is ready (it hands its
    /// starter its index, then returns), then all of them joined.
    fn start(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        let sum = match contender {
            // `start`, the handle dropped, then `join`.
            "nursery" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
                let mut sum = 0;
                for i in 0..n {
                    let (value, _child) = nursery
                        .start(move |ready| async move {
                            ready.started(i);
                            Ok(())
                        })
                        .await
                        .unwrap();
                    sum += value;
                }
                nursery.join().await.unwrap();
                sum
            }),
            // `start`, every handle kept and awaited, then `join`.
            "nursery_awaited" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
                let mut children = Vec::new();
                let mut sum = 0;
                for i in 0..n {
                    let (value, child) = nursery
                        .start(move |ready| async move {
                            ready.started(i);
                            Ok(())
                        })
                        .await
                        .unwrap();
                    sum += value;
                    children.push(child);
                }
                for child in children {
                    child.await.unwrap();
                }
                nursery.join().await.unwrap();
                sum
            }),
            // The hand-written equivalent: a raw task sends its ready value through a oneshot
            // channel, the starter awaits it; then every task is awaited.
            "raw_channel" => self.on(async {
                let mut tasks: Vec<Task<()>> = Vec::new();
                let mut sum = 0;
                for i in 0..n {
                    let (ready, started) = async_channel::bounded(1);
                    tasks.push(ex.spawn(async move {
                        ready.send(i).await.unwrap();
                    }));
                    sum += started.recv().await.unwrap();
                }
                for task in tasks {
                    task.await;
                }
                sum
            }),
            other => unreachable!("no contender {other}"),
        };
        let elapsed = start.elapsed();
        assert_eq!(sum, sum_below(n), "{contender}");
        elapsed
    }

    /// `n` trivial children (each yields once) started from a scope's body, vs from a
    /// nursery's owner followed by `join`.
    fn scope(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        match contender {
            "scope" => self.on(async {
                scope(ex, |nursery| async move {
                    for _ in 0..n {
                        nursery
                            .start_soon(async {
                                future::yield_now().await;
                                Ok(())
                            })
                            .unwrap();
                    }
                    Ok::<_, ()>(())
                })
                .await
                .unwrap();
            }),
            "nursery" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
                for _ in 0..n {
                    nursery.start_soon(async {
                        future::yield_now().await;
                        Ok(())
                    });
                }
                nursery.join().await.unwrap();
            }),
            other => unreachable!("no contender {other}"),
        }
        start.elapsed()
    }

    /// `n` children (each yields once, then returns its index) whose results are taken in
    /// the order they complete.
    fn join_next(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        let sum = match contender {
            // The `TaskHandle`s in a `FuturesUnordered`, drained with `next`; then `join`.
            "nursery" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
                let mut children: FuturesUnordered<TaskHandle<usize>> = FuturesUnordered::new();
                for i in 0..n {
                    children.push(nursery.start_soon(async move {
                        future::yield_now().await;
                        Ok(i)
                    }));
                }
                let mut sum = 0;
                while let Some(result) = children.next().await {
                    sum += result.unwrap();
                }
                nursery.join().await.unwrap();
                sum
            }),
            // The same with raw `Task`s.
            "raw_executor" => self.on(async {
                let mut tasks: FuturesUnordered<Task<usize>> = FuturesUnordered::new();
                for i in 0..n {
                    tasks.push(ex.spawn(async move {
                        future::yield_now().await;
                        i
                    }));
                }
                let mut sum = 0;
                while let Some(value) = tasks.next().await {
                    sum += value;
                }
                sum
            }),
            "tokio_joinset" => self.tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..n {
                    set.spawn(async move {
                        tokio::task::yield_now().await;
                        i
                    });
                }
                let mut sum = 0;
                while let Some(result) = set.join_next().await {
                    sum += result.unwrap();
                }
                sum
            }),
            other => unreachable!("no contender {other}"),
        };
        let elapsed = start.elapsed();
        assert_eq!(sum, sum_below(n), "{contender}");
        elapsed
    }
}
