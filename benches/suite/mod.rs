//! The benchmark suite, shared by `compare` (the system allocator) and `compare_mimalloc`.
//!
//! Every group measures the contenders side by side in one run, for N = 1 000, 100 000 and
//! 1 000 000 children, twice: with criterion (one contender after the other), and interleaved
//! (the contenders take turns, round after round, so that a shared machine's drift hits them
//! alike). `benches/README.md` explains how to read and reproduce the results.
//!
//! The groups of part one (`spawn_join`, `fail_fast`, `two_threads`) are here; the groups of
//! the `start` / `scope` API are in `api.rs`, which is all that must be replaced by an empty
//! list to run this suite on code older than that API (see the README).
//!
//! Environment variables select what runs (criterion's own arguments still apply):
//! - `SMOL_NURSERY_BENCH_GROUPS=spawn_join,start`: only these groups;
//! - `SMOL_NURSERY_BENCH_SIZES=1000,100000`: only these N;
//! - `SMOL_NURSERY_BENCH_PART=interleaved` (or `criterion`): only that part;
//! - `SMOL_NURSERY_BENCH_ROUNDS=21`: rounds of the interleaved part, for every N;
//! - `SMOL_NURSERY_BENCH_ROTATE=1`: each interleaved round starts one contender later, so
//!   that every contender runs first in some rounds (the first one of a round can pay for the
//!   heap the previous round's last contenders left; see the README).

mod api;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::{Executor, Task};
use criterion::{BenchmarkId, Criterion, Throughput};
use futures::stream::{FuturesUnordered, StreamExt};
use futures_lite::future;
use smol_nursery::{shield, Nursery};

/// The children counts every group runs (unless it names its own).
const SIZES: &[usize] = &[1_000, 100_000, 1_000_000];

/// One measurement: runs `contender` with `n` children and returns the time it took.
pub type Measure = fn(&Bench, &str, usize) -> Duration;

/// A group: contenders measured side by side on the same work.
pub struct Group {
    /// The group's name, in criterion's ids and in the interleaved lines.
    pub name: &'static str,
    /// The contenders, in the order they are reported.
    pub contenders: &'static [&'static str],
    /// The ratios the group's targets are stated in: (numerator, denominator).
    pub ratios: &'static [(&'static str, &'static str)],
    /// The threads that run the executor.
    pub threads: usize,
    /// The children counts.
    pub sizes: &'static [usize],
    /// How one contender is measured.
    pub measure: Measure,
    /// The units (children, or snapshots for `snapshot`) an interleaved sample covers at
    /// least: a sample repeats the measurement `sample / n` times.
    pub sample: usize,
}

/// The children an interleaved sample covers at least, in every group of children.
const SAMPLE: usize = 100_000;

/// The groups of part one.
const PART_ONE: &[Group] = &[
    Group {
        name: "spawn_join",
        contenders: &[
            "nursery",
            "nursery_awaited",
            "nursery_shielded",
            "raw_executor",
            "tokio_joinset",
            "futures_unordered",
        ],
        ratios: &[
            ("nursery", "raw_executor"),
            ("nursery_awaited", "raw_executor"),
            ("nursery_shielded", "raw_executor"),
            ("nursery", "tokio_joinset"),
            ("nursery", "futures_unordered"),
        ],
        threads: 1,
        sizes: SIZES,
        measure: Bench::spawn_join,
        sample: SAMPLE,
    },
    Group {
        name: "fail_fast",
        contenders: &[
            "nursery",
            "raw_drop_all",
            "raw_cancel_loop",
            "tokio_abort_all",
        ],
        ratios: &[
            ("nursery", "raw_cancel_loop"),
            ("nursery", "raw_drop_all"),
            ("nursery", "tokio_abort_all"),
        ],
        threads: 1,
        sizes: SIZES,
        measure: Bench::fail_fast,
        sample: SAMPLE,
    },
    Group {
        name: "two_threads",
        contenders: &["nursery", "raw_executor"],
        ratios: &[("nursery", "raw_executor")],
        threads: 2,
        sizes: SIZES,
        measure: Bench::spawn_join,
        sample: SAMPLE,
    },
];

/// What the environment selected.
struct Selection {
    /// `SMOL_NURSERY_BENCH_GROUPS`: the groups to run; all when unset.
    groups: Option<Vec<String>>,
    /// `SMOL_NURSERY_BENCH_SIZES`: the N to run; all when unset.
    sizes: Option<Vec<usize>>,
    /// `SMOL_NURSERY_BENCH_PART`: whether criterion's part runs.
    criterion: bool,
    /// `SMOL_NURSERY_BENCH_PART`: whether the interleaved part runs.
    interleaved: bool,
    /// `SMOL_NURSERY_BENCH_ROUNDS`: the interleaved rounds, for every N.
    rounds: Option<usize>,
    /// `SMOL_NURSERY_BENCH_ROTATE`: whether each round starts one contender later.
    rotate: bool,
}

impl Selection {
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let list =
            |v: String| -> Vec<String> { v.split(',').map(|s| s.trim().to_owned()).collect() };
        let sizes = var("SMOL_NURSERY_BENCH_SIZES").map(|v| {
            list(v)
                .iter()
                .map(|s| {
                    s.replace('_', "")
                        .parse()
                        .expect("SMOL_NURSERY_BENCH_SIZES: numbers")
                })
                .collect()
        });
        let part = var("SMOL_NURSERY_BENCH_PART");
        let (criterion, interleaved) = match part.as_deref() {
            None => (true, true),
            Some("criterion") => (true, false),
            Some("interleaved") => (false, true),
            Some(other) => {
                panic!("SMOL_NURSERY_BENCH_PART: `criterion` or `interleaved`, not {other}")
            }
        };
        let rounds = var("SMOL_NURSERY_BENCH_ROUNDS")
            .map(|v| v.parse().expect("SMOL_NURSERY_BENCH_ROUNDS: a number"));
        Selection {
            groups: var("SMOL_NURSERY_BENCH_GROUPS").map(list),
            sizes,
            criterion,
            interleaved,
            rounds,
            rotate: var("SMOL_NURSERY_BENCH_ROTATE").is_some_and(|v| v != "0"),
        }
    }

    fn group(&self, group: &Group) -> bool {
        self.groups
            .as_ref()
            .map_or(true, |names| names.iter().any(|name| name == group.name))
    }

    fn size(&self, n: usize) -> bool {
        self.sizes.as_ref().map_or(true, |sizes| sizes.contains(&n))
    }
}

/// Runs every group with criterion, then interleaved, naming the results after `alloc`.
pub fn run_all(alloc: &str) {
    let select = Selection::from_env();
    let groups: Vec<&Group> = PART_ONE
        .iter()
        .chain(api::GROUPS)
        .filter(|g| select.group(g))
        .collect();
    for name in select.groups.iter().flatten() {
        if !groups.iter().any(|g| g.name == name) {
            eprintln!("SMOL_NURSERY_BENCH_GROUPS: no group {name} in this suite");
        }
    }
    let benches = [Bench::new(1), Bench::new(2)];
    let bench = |g: &Group| &benches[g.threads - 1];
    // Sizes in increasing order, each with every group that runs it.
    let mut sizes: Vec<usize> = groups
        .iter()
        .flat_map(|g| g.sizes.iter().copied())
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes.retain(|&n| select.size(n));
    let mut c = Criterion::default().configure_from_args();
    if select.criterion {
        for &n in &sizes {
            for g in groups.iter().filter(|g| g.sizes.contains(&n)) {
                criterion_group(&mut c, bench(g), alloc, g, n);
            }
        }
    }
    c.final_summary();
    // `--list`, `--test` (from `cargo test --benches`) and a filter select criterion's part only.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !select.interleaved
        || args
            .iter()
            .any(|arg| arg == "--list" || arg == "--test" || !arg.starts_with('-'))
    {
        return;
    }
    println!("\nInterleaved medians ({alloc} allocator), ns per child:");
    for &n in &sizes {
        for g in groups.iter().filter(|g| g.sizes.contains(&n)) {
            interleaved(bench(g), alloc, g, n, select.rounds, select.rotate);
        }
    }
}

/// Registers one criterion group.
fn criterion_group(c: &mut Criterion, bench: &Bench, alloc: &str, group: &Group, n: usize) {
    let mut g = c.benchmark_group(format!("{alloc}/{}/{n}", group.name));
    g.throughput(Throughput::Elements(n as u64));
    // Enough samples for a stable median on a noisy machine, without running for an hour.
    g.sample_size(match n {
        1_000_000.. => 10,
        100_000.. => 20,
        _ => 50,
    });
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(if n >= 1_000_000 { 10 } else { 4 }));
    let measure = group.measure;
    for &contender in group.contenders {
        g.bench_function(BenchmarkId::from_parameter(contender), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| measure(bench, contender, n)).sum())
        });
    }
    g.finish();
}

/// Runs the contenders in turns, round after round, and prints the medians and ratios.
fn interleaved(
    bench: &Bench,
    alloc: &str,
    group: &Group,
    n: usize,
    rounds: Option<usize>,
    rotate: bool,
) {
    // About 100 000 children per sample, and 11 rounds (7 for a million children).
    let reps = (group.sample / n).max(1);
    let rounds = rounds.unwrap_or(if n >= 1_000_000 { 7 } else { 11 });
    let contenders = group.contenders;
    let mut samples = vec![Vec::new(); contenders.len()];
    for round in 0..rounds {
        let first = if rotate { round % contenders.len() } else { 0 };
        for k in 0..contenders.len() {
            let i = (first + k) % contenders.len();
            let contender = contenders[i];
            let total: Duration = (0..reps)
                .map(|_| (group.measure)(bench, contender, n))
                .sum();
            samples[i].push(total.as_nanos() as f64 / (reps * n) as f64);
        }
    }
    let median = |name: &str| {
        let i = contenders
            .iter()
            .position(|c| *c == name)
            .expect("a contender");
        let mut s = samples[i].clone();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let cells: Vec<String> = contenders
        .iter()
        .map(|c| format!("{c} {:.0}", median(c)))
        .collect();
    let quotients: Vec<String> = group
        .ratios
        .iter()
        .map(|(a, b)| format!("{a}/{b} {:.2}", median(a) / median(b)))
        .collect();
    println!(
        "{alloc}/{}/{n}: {} | {}",
        group.name,
        cells.join(", "),
        quotients.join(", ")
    );
}

/// What the measurements share: an executor (run by `threads` threads) and a tokio runtime.
pub struct Bench {
    ex: Arc<Executor<'static>>,
    tokio: tokio::runtime::Runtime,
    /// Stops the extra executor threads when dropped.
    _stop: async_channel::Sender<()>,
}

impl Bench {
    fn new(threads: usize) -> Self {
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = async_channel::unbounded::<()>();
        for _ in 1..threads {
            let ex = ex.clone();
            let stopped = stopped.clone();
            std::thread::spawn(move || future::block_on(ex.run(stopped.recv())));
        }
        let tokio = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        Bench {
            ex,
            tokio,
            _stop: stop,
        }
    }

    /// Runs `body` on the executor, on the calling thread.
    fn on<T>(&self, body: impl std::future::Future<Output = T>) -> T {
        future::block_on(self.ex.run(body))
    }

    /// Spawn + join of `n` trivial children (each yields once).
    pub(crate) fn spawn_join(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        match contender {
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
            "nursery_awaited" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
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
            }),
            "nursery_shielded" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
                for _ in 0..n {
                    nursery.start_soon(shield(async {
                        future::yield_now().await;
                        Ok(())
                    }));
                }
                nursery.join().await.unwrap();
            }),
            "raw_executor" => self.on(async {
                let tasks: Vec<Task<()>> = (0..n).map(|_| ex.spawn(future::yield_now())).collect();
                for task in tasks {
                    task.await;
                }
            }),
            "tokio_joinset" => self.tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..n {
                    set.spawn(tokio::task::yield_now());
                }
                while let Some(result) = set.join_next().await {
                    result.unwrap();
                }
            }),
            "futures_unordered" => future::block_on(async {
                let mut set: FuturesUnordered<_> = (0..n).map(|_| future::yield_now()).collect();
                while set.next().await.is_some() {}
            }),
            other => unreachable!("no contender {other}"),
        }
        start.elapsed()
    }

    /// Spawns `n` raw tasks that wait forever and polls each once, so that all are pending.
    fn pending_tasks(&self, alive: &Alive, n: usize) -> Vec<Task<()>> {
        let tasks = (0..n)
            .map(|_| self.ex.spawn(pending_child(alive.guard())))
            .collect();
        while self.ex.try_tick() {}
        tasks
    }

    /// `n` pending children, one fails: the time from the failure (or the start of the
    /// cancellation) until every child's future is gone.
    fn fail_fast(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let alive = Alive::default();
        let elapsed = match contender {
            "nursery" => {
                let nursery = Nursery::<&str>::new(ex);
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
                let joined = self.on(nursery.join());
                let elapsed = start.elapsed();
                assert!(joined.is_err());
                elapsed
            }
            "raw_drop_all" => {
                let tasks = self.pending_tasks(&alive, n);
                let start = Instant::now();
                drop(tasks);
                while ex.try_tick() {}
                start.elapsed()
            }
            "raw_cancel_loop" => {
                let tasks = self.pending_tasks(&alive, n);
                let start = Instant::now();
                self.on(async {
                    for task in tasks {
                        task.cancel().await;
                    }
                });
                start.elapsed()
            }
            "tokio_abort_all" => self.tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..n {
                    set.spawn(pending_child(alive.guard()));
                }
                tokio::task::yield_now().await;
                let start = Instant::now();
                set.abort_all();
                while set.join_next().await.is_some() {}
                start.elapsed()
            }),
            other => unreachable!("no contender {other}"),
        };
        assert_eq!(alive.count(), 0, "{contender} left a child alive");
        elapsed
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
