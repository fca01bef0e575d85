//! A crawler on a `NurserySet`: 300 simulated fetches, at most 16 at a time, results read as
//! they come by a deliberately slow reader, and a failed fetch retried once.
//!
//! - **Results as they come.** Every fetch is started into one set built with `limit(16)`;
//!   `while let Some(result) = set.next().await` hands out each page (or error) in the order
//!   the fetches finish.
//! - **A retry.** An `Err` is a result like any other: it cancels nothing, and it is the
//!   fetch's own error value, so it says which URL failed. A fetch that fails is started again
//!   into the same set, once; a second failure is reported at the end.
//! - **Backpressure.** Under a limit, running fetches *plus results nobody has read yet* are
//!   at most the limit. The reader here takes 2 ms per page, slower than the fetches produce
//!   them: results pile up to the limit and no further, and the next fetch starts only when
//!   the reader takes one. The example samples `set.snapshot().unread()` and counts the
//!   fetches in flight itself, prints the most it saw, and checks it never exceeded 16.
//!
//! The executor runs on two threads; the crawl is driven from the first one. It takes about a
//! second, checks its own claims with `assert!`s, and prints a short summary.
//!
//! Run it with `cargo run --example crawler`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use easy_parallel::Parallel;
use futures_lite::future;
use smol_nursery::NurseryBuilder;

/// How many URLs to fetch.
const URLS: usize = 300;
/// How many fetches run, plus results wait unread, at once.
const LIMIT: usize = 16;
/// How long the reader takes over each page: slower than the fetches, on purpose.
const READ: Duration = Duration::from_millis(2);

/// A fetched page.
#[derive(Debug)]
struct Page {
    /// Which URL it is.
    url: usize,
    /// Its size in bytes.
    bytes: usize,
    /// The attempt that fetched it: 1, or 2 after a retry.
    attempt: u32,
}

/// A fetch that failed: it carries its URL, so the reader knows what to retry.
#[derive(Debug)]
struct FetchError {
    /// Which URL failed.
    url: usize,
    /// Which attempt failed: 1, or 2 after a retry.
    attempt: u32,
    /// The HTTP status the server answered.
    status: u16,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = match self.status {
            503 => "Service Unavailable",
            _ => "Gateway Timeout",
        };
        write!(
            f,
            "https://example.test/{}: {} {reason} (attempt {})",
            self.url, self.status, self.attempt
        )
    }
}

impl std::error::Error for FetchError {}

/// Counts the fetches in flight: one more while it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts one more fetch in flight, until the guard is dropped.
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Pretends to fetch `url`: a wait of 1 to 4 ms. Every 50th URL answers 503 the first time
/// and succeeds when retried; every 150th times out every time.
///
/// `in_flight` counts it from its first poll until it returns, which is before its result
/// reaches the set.
async fn fetch(url: usize, attempt: u32, in_flight: Arc<AtomicUsize>) -> Result<Page, FetchError> {
    let _in_flight = InFlight::new(&in_flight);
    Timer::after(Duration::from_millis(1 + (url % 4) as u64)).await;
    if url % 150 == 0 {
        Err(FetchError {
            url,
            attempt,
            status: 504,
        })
    } else if url % 50 == 0 && attempt == 1 {
        Err(FetchError {
            url,
            attempt,
            status: 503,
        })
    } else {
        Ok(Page {
            url,
            bytes: 1_000 + url % 500,
            attempt,
        })
    }
}

fn main() {
    let ex = Arc::new(Executor::new());
    let (stop, stopped) = async_channel::unbounded::<()>();
    let started = Instant::now();

    Parallel::new()
        .add(|| future::block_on(ex.run(stopped.recv())))
        .finish(|| {
            future::block_on(ex.run(async {
                let in_flight = Arc::new(AtomicUsize::new(0));
                let mut set = NurseryBuilder::new().limit(LIMIT).build_set(&ex);
                // Starting never waits: fetches beyond the limit wait unpolled, in order.
                for url in 0..URLS {
                    set.start_soon(fetch(url, 1, in_flight.clone()));
                }
                println!("{} fetches started, at most {LIMIT} at a time", set.len());

                // How many times each URL was fetched, and the URLs that failed for good.
                let mut fetched = vec![0_u32; URLS];
                let mut failed = Vec::new();
                let (mut pages, mut bytes, mut retried) = (0, 0, 0);
                let (mut most_unread, mut most_held) = (0, 0);
                loop {
                    // Unread results first: only this reader takes them, so the count can only
                    // grow until `in_flight` is read, and the sum never overstates.
                    let unread = set.snapshot().unread();
                    let held = unread + in_flight.load(Ordering::SeqCst);
                    most_unread = most_unread.max(unread);
                    most_held = most_held.max(held);
                    assert!(
                        held <= LIMIT,
                        "{held} fetches and results held, limit {LIMIT}"
                    );

                    let Some(result) = set.next().await else {
                        break;
                    };
                    match result {
                        Ok(page) => {
                            fetched[page.url] += 1;
                            pages += 1;
                            bytes += page.bytes;
                            if page.attempt > 1 {
                                println!("  retry of /{} succeeded", page.url);
                            }
                        }
                        // The error is the fetch's own: it says which URL to fetch again.
                        Err(error) if error.attempt == 1 => {
                            println!("  {error}: retrying");
                            retried += 1;
                            set.start_soon(fetch(error.url, 2, in_flight.clone()));
                        }
                        Err(error) => {
                            println!("  {error}: giving up");
                            failed.push(error.url);
                        }
                    }
                    // The slow reader: parsing the page, say.
                    Timer::after(READ).await;
                }
                // Every result was read: there is nothing left to join.
                let rest = set.join().await.expect("every error was read by `next`");
                assert!(rest.is_empty());

                println!(
                    "{pages} pages, {} kB, {retried} retried, {} failed, in {:.2?}",
                    bytes / 1000,
                    failed.len(),
                    started.elapsed(),
                );
                println!(
                    "backpressure: at most {most_unread} results waited unread, \
                     at most {most_held} fetches + unread results at once (limit {LIMIT})"
                );

                // Every URL was fetched exactly once, or failed after its retry.
                for (url, &times) in fetched.iter().enumerate() {
                    if url % 150 == 0 {
                        assert_eq!(times, 0, "/{url} cannot be fetched");
                        assert!(failed.contains(&url), "/{url} was given up");
                    } else {
                        assert_eq!(times, 1, "/{url} fetched once");
                    }
                }
                assert_eq!(retried, URLS.div_ceil(50));
                assert_eq!(failed.len(), URLS.div_ceil(150));
                assert_eq!(pages + failed.len(), URLS);
                // The limit held, and the slow reader really was the bottleneck.
                assert!(most_held <= LIMIT);
                assert!(most_unread > 1, "results waited for the slow reader");
                drop(stop);
            }))
        });
}
