//! Collect the children's values through their handles: in the order they were started, or
//! in the order they finish.
//!
//! 1. Each child prices one item of a basket; after `join`, the handles hand the prices back
//!    in the order the children were started, whatever order they finished in.
//! 2. The same handles in a `futures::stream::FuturesUnordered` yield each result as soon as
//!    its child finishes, while the others still run: what tokio's `JoinSet::join_next` does.
//!    One item has no price; its failure cancels the items still being priced, their handles
//!    say so, and `join` reports the error.
//!
//! The handles only wait for results: the children run in parallel on the executor, not
//! inside the `FuturesUnordered`.
//!
//! Run it with `cargo run --example results`.

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use futures::stream::{FuturesUnordered, StreamExt};
use futures_lite::future;
use smol_nursery::Nursery;

/// Looks up a price in cents, slowly, as a remote service would.
async fn price_of(item: &str) -> Result<u32, String> {
    let (ms, price) = match item {
        "milk" => (10, Some(119)),
        "bread" => (20, Some(250)),
        "truffles" => (30, None),
        "apples" => (40, Some(320)),
        "coffee" => (50, Some(899)),
        _ => (0, None),
    };
    Timer::after(Duration::from_millis(ms)).await;
    price.ok_or_else(|| format!("no price for {item}"))
}

/// Formats cents as units and hundredths.
fn money(cents: u32) -> String {
    format!("{:>3}.{:02}", cents / 100, cents % 100)
}

fn main() {
    let basket = ["coffee", "bread", "milk", "apples"];
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        println!("In the order the children were started:");
        let nursery = Nursery::new(&ex);
        // Children borrow `basket`, which was declared before the executor.
        let handles: Vec<_> = basket
            .iter()
            .map(|item| (item, nursery.start_soon(price_of(item))))
            .collect();
        nursery.join().await.expect("every item has a price");

        let mut total = 0;
        for (item, handle) in handles {
            let cents = handle.await.expect("the child succeeded");
            println!("  {item:<8} {}", money(cents));
            total += cents;
        }
        println!("  {:<8} {}", "total", money(total));

        println!("In the order the children finish:");
        let nursery = Nursery::new(&ex);
        let mut in_order: FuturesUnordered<_> = ["coffee", "truffles", "bread", "apples", "milk"]
            .into_iter()
            .map(|item| {
                let handle = nursery.start_soon(price_of(item));
                async move { (item, handle.await) }
            })
            .collect();
        // Like `JoinSet::join_next`: one result at a time, each as soon as it is there.
        while let Some((item, result)) = in_order.next().await {
            match result {
                Ok(cents) => println!("  {item:<8} {}", money(cents)),
                Err(err) => println!("  {item:<8} {err}"),
            }
        }
        // The handles tell how each child ended; the error itself went to `join`.
        match nursery.join().await {
            Ok(()) => println!("join: Ok"),
            Err(err) => println!("join: {err}"),
        }
    }));
}
