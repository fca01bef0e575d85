//! Helpers shared by the integration tests: a watchdog, executors run by N threads, and
//! drop counters.
#![allow(dead_code)]

pub mod alloc;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use async_executor::Executor;
use easy_parallel::Parallel;
use futures_lite::future;

/// How long any single test may take before the watchdog fails it. Miri runs the tests a
/// thousand times slower, and its clock advances with the work it interprets.
pub const WATCHDOG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 30 });

/// Scales a count of rounds or children down under Miri.
pub const fn scaled(normal: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        normal
    }
}

/// Runs `f` on its own thread and fails the test if it does not finish within `WATCHDOG`, so
/// that a hang fails fast instead of stalling CI. A panic inside `f` is resumed here.
pub fn watchdog<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(());
        result
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join().unwrap() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("watchdog: the test hung for {WATCHDOG:?}"),
    }
}

/// Runs `make(ex)` to completion on a fresh `'static` executor run by `threads` threads (the
/// calling thread included), under the watchdog.
pub fn run<T, Fut>(
    threads: usize,
    make: impl FnOnce(Arc<Executor<'static>>) -> Fut + Send + 'static,
) -> T
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    watchdog(move || {
        let ex = Arc::new(Executor::new());
        let fut = make(ex.clone());
        run_with(&ex, threads, fut)
    })
}

/// Runs `fut` on `ex`, with `threads - 1` extra threads running `ex` until `fut` is done.
pub fn run_with<'a, T: Send>(
    ex: &Arc<Executor<'a>>,
    threads: usize,
    fut: impl Future<Output = T> + Send,
) -> T {
    let (stop, stopped) = async_channel::unbounded::<()>();
    let (_, result) = Parallel::new()
        .each(1..threads.max(1), |_| {
            future::block_on(ex.run(stopped.recv()))
        })
        .finish(|| {
            let result = future::block_on(ex.run(fut));
            drop(stop);
            result
        });
    result
}

/// The thread counts every multi-threaded test runs with.
pub const THREADS: [usize; 3] = [1, 2, 4];

/// Counts values that are alive: `Alive::new` increments, dropping decrements.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// A guard that counts as alive until dropped.
    pub fn guard(&self) -> Alive {
        self.0.fetch_add(1, Ordering::SeqCst);
        Alive(self.0.clone())
    }

    /// A future that holds a guard and never completes: a child that only a cancellation
    /// (or the executor's drop) ends, counted until its future is dropped.
    pub fn forever<T>(&self) -> impl Future<Output = T> + Send + 'static {
        let guard = self.guard();
        async move {
            let _guard = guard;
            future::pending().await
        }
    }

    /// How many guards are alive.
    pub fn alive(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Alive until dropped.
#[derive(Debug)]
pub struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A plain event counter.
#[derive(Clone, Debug, Default)]
pub struct Count(Arc<AtomicUsize>);

impl Count {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Sleeps on an `async_io::Timer`.
///
/// Miri cannot run async-io's reactor (it needs `timerfd_create`), so under Miri this yields
/// to the executor until the time has passed instead.
pub async fn sleep(ms: u64) {
    if cfg!(miri) {
        let until = std::time::Instant::now() + Duration::from_millis(ms);
        while std::time::Instant::now() < until {
            future::yield_now().await;
        }
    } else {
        async_io::Timer::after(Duration::from_millis(ms)).await;
    }
}

/// A future that never completes: cancelled children sit here.
pub async fn forever<T>() -> T {
    future::pending().await
}

/// Yields to the executor `n` times.
pub async fn yields(n: usize) {
    for _ in 0..n {
        future::yield_now().await;
    }
}

/// Runs `make(ex)` to completion on a fresh `'static` local executor, on one thread, under
/// the watchdog: what `run` is to a `Nursery`, for a `LocalNursery`.
pub fn run_local<T, Fut>(
    make: impl FnOnce(std::rc::Rc<async_executor::LocalExecutor<'static>>) -> Fut + Send + 'static,
) -> T
where
    T: Send + 'static,
    Fut: Future<Output = T> + 'static,
{
    watchdog(move || {
        let ex = std::rc::Rc::new(async_executor::LocalExecutor::new());
        let fut = make(ex.clone());
        future::block_on(ex.run(fut))
    })
}

/// Runs `make(ex)` on a fresh `'static` executor run by this thread alone: the `Send` form's
/// counterpart of `run_local`, for test bodies shared by both forms.
pub fn run_single<T, Fut>(make: impl FnOnce(Arc<Executor<'static>>) -> Fut + Send + 'static) -> T
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    run(1, make)
}

/// The path of an example's binary, built (or brought up to date) here: `cargo test --test
/// <name>` does not build examples, and a stale binary would test old code.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let profile_dir = deps.parent().unwrap();
    let release = profile_dir.file_name().is_some_and(|dir| dir == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build.args(["build", "--quiet", "--example", name]);
    if release {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "cargo build --example {name} failed");
    profile_dir.join("examples").join(name)
}
