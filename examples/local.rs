//! A single-threaded program whose children share an `Rc<RefCell<_>>` cache.
//!
//! A `LocalNursery` runs four children on a `LocalExecutor`, under a deadline of 300 ms:
//!
//! - two price lookups fill the shared cache (an `Rc<RefCell<HashMap>>`, which a `Nursery`
//!   could not hold: it is not `Send`);
//! - a shielded checkout waits for both prices, then takes 150 ms to charge the card;
//! - a stock check fails after 60 ms, which cancels the slow lookup still running and would
//!   cancel everything else but the checkout.
//!
//! The checkout finishes although its sibling failed, and `join` reports the failure.
//!
//! Run it with `cargo run --example local`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{shield, LocalNursery};

/// Prices by item, shared by every child of the nursery on this one thread.
type Cache = Rc<RefCell<HashMap<&'static str, u32>>>;

/// Prints a line prefixed with the time since the program started.
fn log(start: Instant, line: &str) {
    println!("[{:>4} ms] {line}", start.elapsed().as_millis());
}

/// Looks up the price of `item` after `ms` and puts it in the cache.
async fn look_up(start: Instant, cache: Cache, item: &'static str, cents: u32, ms: u64) {
    Timer::after(Duration::from_millis(ms)).await;
    cache.borrow_mut().insert(item, cents);
    log(start, &format!("lookup: {item} costs {cents} cents"));
}

fn main() {
    let start = Instant::now();
    let ex = Rc::new(LocalExecutor::new());
    let cache: Cache = Rc::default();

    future::block_on(ex.run(async {
        let nursery = LocalNursery::new(&ex);
        nursery.cancel_after(Duration::from_millis(300));

        let quick = nursery.start_soon({
            let cache = cache.clone();
            async move {
                look_up(start, cache, "book", 1_250, 20).await;
                Ok("book")
            }
        });
        let slow = nursery.start_soon({
            let cache = cache.clone();
            async move {
                look_up(start, cache, "lamp", 3_900, 500).await;
                Ok("lamp")
            }
        });

        let checkout = nursery.start_soon(shield({
            let cache = cache.clone();
            async move {
                // Waits for the book's price, holding the Rc across every await.
                while !cache.borrow().contains_key("book") {
                    Timer::after(Duration::from_millis(5)).await;
                }
                let total: u32 = cache.borrow().values().sum();
                log(
                    start,
                    &format!("checkout: charging {total} cents (shielded)"),
                );
                Timer::after(Duration::from_millis(150)).await;
                log(start, "checkout: card charged");
                Ok("charged")
            }
        }));

        nursery.start_soon(async move {
            Timer::after(Duration::from_millis(60)).await;
            log(start, "stock: warehouse unreachable");
            Err::<&str, _>("stock check failed")
        });

        let result = nursery.join().await;
        log(start, &format!("join: {result:?}"));

        assert_eq!(quick.await, Ok("book"));
        assert!(slow.await.is_err(), "the failure cancelled the slow lookup");
        assert_eq!(checkout.await, Ok("charged"));
        let err = result.unwrap_err();
        assert_eq!(err.errors(), ["stock check failed"]);
        assert!(!err.is_timeout(), "everything ended before the deadline");
        println!("cache after join: {:?}", cache.borrow());
    }));
}
