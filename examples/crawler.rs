//! A crawler: 10 000 simulated fetches, at most 16 at a time, a few of them failing.
//!
//! The nursery is built with `limit(16)`: at most 16 fetches run at once. The producer starts
//! every fetch through `reserve`, which waits for room, so no more than 16 fetches ever exist
//! in memory however fast the producer reads URLs. With `fail_fast(false)`, a failed fetch
//! does not stop the others: `join` reports every failure at the end.
//!
//! Run it with `cargo run --example crawler`.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use easy_parallel::Parallel;
use futures_lite::future;
use smol_nursery::NurseryBuilder;

/// How many URLs to fetch.
const URLS: usize = 10_000;
/// How many fetches run at once.
const LIMIT: usize = 16;

/// Pretends to fetch `url`: a short wait, and every 997th URL fails.
async fn fetch(url: usize) -> Result<usize, String> {
    Timer::after(Duration::from_micros(200 + (url % 7) as u64 * 100)).await;
    if url % 997 == 0 {
        Err(format!(
            "https://example.test/{url}: 503 Service Unavailable"
        ))
    } else {
        Ok(1_000 + url % 500)
    }
}

fn main() {
    let ex = Arc::new(Executor::new());
    let (stop, stopped) = async_channel::unbounded::<()>();
    let done = Arc::new(AtomicUsize::new(0));
    let bytes = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();

    // The executor runs on two threads; the crawl is driven from the first one.
    Parallel::new()
        .add(|| future::block_on(ex.run(stopped.recv())))
        .finish(|| {
            future::block_on(ex.run(async {
                let nursery = NurseryBuilder::new().limit(LIMIT).fail_fast(false).build(&ex);
                let mut most = 0;
                for url in 0..URLS {
                    // Waits while 16 fetches are unfinished.
                    let slot = nursery.reserve().await;
                    most = most.max(nursery.len());
                    let (done, bytes) = (done.clone(), bytes.clone());
                    slot.start_soon(async move {
                        let result = fetch(url).await;
                        if let Ok(size) = &result {
                            bytes.fetch_add(*size, Ordering::Relaxed);
                        }
                        let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if done % 250 == 0 || done == URLS {
                            print!("\r{done:>5} / {URLS} fetched");
                            let _ = std::io::stdout().flush();
                        }
                        result.map(drop)
                    });
                }
                let result = nursery.join().await;
                println!();
                println!(
                    "{} pages, {} kB, in {:.2?}; at most {most} fetches existed at once (limit {LIMIT})",
                    done.load(Ordering::Relaxed),
                    bytes.load(Ordering::Relaxed) / 1000,
                    started.elapsed(),
                );
                match result {
                    Ok(()) => println!("no fetch failed"),
                    Err(err) => {
                        println!("{} fetches failed:", err.errors().len());
                        for error in err.errors() {
                            println!("  {error}");
                        }
                    }
                }
                drop(stop);
            }))
        });
}
