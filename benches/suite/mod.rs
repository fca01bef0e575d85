//! The benchmark suite, shared by `compare` (the system allocator) and `compare_mimalloc`.
//!
//! Every group measures the contenders side by side in one run, for N = 1 000, 100 000 and
//! 1 000 000 children; `benches/README.md` explains how to read and reproduce the results.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::{Executor, Task};
use criterion::{BenchmarkId, Criterion, Throughput};
use futures::stream::{FuturesUnordered, StreamExt};
use futures_lite::future;
use smol_nursery::{shield, Nursery};

/// The children counts every group runs.
pub const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

/// Runs `body` on `ex`, on the calling thread.
fn on<T>(ex: &Executor<'static>, body: impl Future<Output = T>) -> T {
    future::block_on(ex.run(body))
}

/// Times `iters` runs of `once`, which returns the time of its own measured part.
fn repeat(iters: u64, mut once: impl FnMut() -> Duration) -> Duration {
    (0..iters).map(|_| once()).sum()
}

/// Configures a group for `n` children per iteration.
fn sized<'a>(
    c: &'a mut Criterion,
    name: String,
    n: usize,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(n as u64));
    // Enough samples for a stable median on a noisy machine, without running for an hour.
    group.sample_size(if n >= 1_000_000 {
        10
    } else if n >= 100_000 {
        20
    } else {
        50
    });
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 10 } else { 4 }));
    group
}

/// Spawn + join of N trivial children (each yields once).
pub fn spawn_join(c: &mut Criterion, alloc: &str) {
    let ex = Arc::new(Executor::new());
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for n in SIZES {
        let mut group = sized(c, format!("{alloc}/spawn_join/{n}"), n);
        group.bench_function(BenchmarkId::from_parameter("nursery"), |b| {
            b.iter(|| {
                on(&ex, async {
                    let nursery = Nursery::<()>::new(&ex);
                    for _ in 0..n {
                        nursery.start_soon(async {
                            future::yield_now().await;
                            Ok(())
                        });
                    }
                    nursery.join().await.unwrap();
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("nursery_awaited"), |b| {
            b.iter(|| {
                on(&ex, async {
                    let nursery = Nursery::<()>::new(&ex);
                    let handles: Vec<_> = (0..n)
                        .map(|_| {
                            nursery.start_soon(async {
                                future::yield_now().await;
                                Ok(())
                            })
                        })
                        .collect();
                    for handle in handles {
                        handle.await.unwrap();
                    }
                    nursery.join().await.unwrap();
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("nursery_shielded"), |b| {
            b.iter(|| {
                on(&ex, async {
                    let nursery = Nursery::<()>::new(&ex);
                    for _ in 0..n {
                        nursery.start_soon(shield(async {
                            future::yield_now().await;
                            Ok(())
                        }));
                    }
                    nursery.join().await.unwrap();
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("raw_executor"), |b| {
            b.iter(|| {
                on(&ex, async {
                    let tasks: Vec<Task<()>> =
                        (0..n).map(|_| ex.spawn(future::yield_now())).collect();
                    for task in tasks {
                        task.await;
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("tokio_joinset"), |b| {
            b.iter(|| {
                tokio_rt.block_on(async {
                    let mut set = tokio::task::JoinSet::new();
                    for _ in 0..n {
                        set.spawn(tokio::task::yield_now());
                    }
                    while let Some(result) = set.join_next().await {
                        result.unwrap();
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("futures_unordered"), |b| {
            b.iter(|| {
                future::block_on(async {
                    let mut set: FuturesUnordered<_> =
                        (0..n).map(|_| future::yield_now()).collect();
                    while set.next().await.is_some() {}
                })
            })
        });
        group.finish();
    }
}

/// Counts futures that are still alive.
#[derive(Clone, Default)]
struct Alive(Arc<AtomicUsize>);

/// Decrements its counter when dropped.
struct AliveGuard(Arc<AtomicUsize>);

impl Alive {
    fn guard(&self) -> AliveGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        AliveGuard(self.0.clone())
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// A child that waits forever, holding a guard.
async fn pending_child(guard: AliveGuard) {
    let _guard = guard;
    future::pending::<()>().await;
}

/// N pending children, one fails: the time from the failure until everything is gone.
pub fn fail_fast(c: &mut Criterion, alloc: &str) {
    let ex = Arc::new(Executor::new());
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for n in SIZES {
        let mut group = sized(c, format!("{alloc}/fail_fast/{n}"), n);
        group.bench_function(BenchmarkId::from_parameter("nursery"), |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let alive = Alive::default();
                    let nursery = Nursery::<&str>::new(&ex);
                    for _ in 0..n {
                        let guard = alive.guard();
                        nursery.start_soon(async move {
                            pending_child(guard).await;
                            Ok(())
                        });
                    }
                    while ex.try_tick() {}
                    let start = Instant::now();
                    nursery.start_soon(async { Err::<(), _>("fail") });
                    let joined = on(&ex, nursery.join());
                    let elapsed = start.elapsed();
                    assert!(joined.is_err() && alive.count() == 0);
                    elapsed
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("raw_drop_all"), |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let alive = Alive::default();
                    let tasks: Vec<Task<()>> = (0..n)
                        .map(|_| ex.spawn(pending_child(alive.guard())))
                        .collect();
                    while ex.try_tick() {}
                    let start = Instant::now();
                    drop(tasks);
                    while ex.try_tick() {}
                    let elapsed = start.elapsed();
                    assert_eq!(alive.count(), 0);
                    elapsed
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("raw_cancel_loop"), |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let alive = Alive::default();
                    let tasks: Vec<Task<()>> = (0..n)
                        .map(|_| ex.spawn(pending_child(alive.guard())))
                        .collect();
                    while ex.try_tick() {}
                    let start = Instant::now();
                    on(&ex, async {
                        for task in tasks {
                            task.cancel().await;
                        }
                    });
                    let elapsed = start.elapsed();
                    assert_eq!(alive.count(), 0);
                    elapsed
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("tokio_abort_all"), |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let alive = Alive::default();
                    tokio_rt.block_on(async {
                        let mut set = tokio::task::JoinSet::new();
                        for _ in 0..n {
                            set.spawn(pending_child(alive.guard()));
                        }
                        tokio::task::yield_now().await;
                        let start = Instant::now();
                        set.abort_all();
                        while set.join_next().await.is_some() {}
                        let elapsed = start.elapsed();
                        assert_eq!(alive.count(), 0);
                        elapsed
                    })
                })
            })
        });
        group.finish();
    }
}

/// Spawn + join with the executor run by two threads: nursery vs raw.
pub fn two_threads(c: &mut Criterion, alloc: &str) {
    let ex = Arc::new(Executor::new());
    let (stop, stopped) = async_channel::unbounded::<()>();
    let helper = {
        let ex = ex.clone();
        std::thread::spawn(move || future::block_on(ex.run(stopped.recv())))
    };
    for n in SIZES {
        let mut group = sized(c, format!("{alloc}/two_threads/{n}"), n);
        group.bench_function(BenchmarkId::from_parameter("nursery"), |b| {
            b.iter(|| {
                on(&ex, async {
                    let nursery = Nursery::<()>::new(&ex);
                    for _ in 0..n {
                        nursery.start_soon(async {
                            future::yield_now().await;
                            Ok(())
                        });
                    }
                    nursery.join().await.unwrap();
                })
            })
        });
        group.bench_function(BenchmarkId::from_parameter("raw_executor"), |b| {
            b.iter(|| {
                on(&ex, async {
                    let tasks: Vec<Task<()>> =
                        (0..n).map(|_| ex.spawn(future::yield_now())).collect();
                    for task in tasks {
                        task.await;
                    }
                })
            })
        });
        group.finish();
    }
    drop(stop);
    let _ = helper.join();
}
