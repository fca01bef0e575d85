//! Collect the children's values through their handles.
//!
//! Each child prices one item of a basket; the handles hand the prices back in the order the
//! children were started, whatever order they finished in.
//!
//! Run it with `cargo run --example results`.

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::Nursery;

/// Looks up a price, slowly, as a remote service would.
async fn price_of(item: &str) -> Result<u32, String> {
    Timer::after(Duration::from_millis(10 * item.len() as u64)).await;
    match item {
        "apples" => Ok(320),
        "bread" => Ok(250),
        "coffee" => Ok(899),
        "milk" => Ok(119),
        other => Err(format!("no price for {other}")),
    }
}

fn main() {
    let basket = ["coffee", "bread", "milk", "apples"];
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
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
            println!("{item:<8} {:>3}.{:02}", cents / 100, cents % 100);
            total += cents;
        }
        println!("{:<8} {:>3}.{:02}", "total", total / 100, total % 100);
    }));
}
