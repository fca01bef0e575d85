//! Two ways to bound a nursery in time; shielded children finish in both.
//!
//! 1. `cancel_after`: the nursery's own deadline. `join` reports a timeout.
//! 2. An outer `async_io::Timer` raced against `join`: when the timer wins, the `join` future
//!    is dropped, which cancels the nursery; shielded children keep running, detached.
//!
//! Run it with `cargo run --example timeout`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{shield, Nursery, TaskHandle};

fn log(start: Instant, line: &str) {
    println!("[{:>4} ms] {line}", start.elapsed().as_millis());
}

/// Starts a slow report (cancelled by the timeout) and a shielded payment (which finishes)
/// in `nursery`, and returns their handles.
fn start_children(
    nursery: &Nursery<'_, String>,
    start: Instant,
    payment_done: &'static str,
) -> (TaskHandle<&'static str>, TaskHandle<&'static str>) {
    let report = nursery.start_soon(async {
        Timer::after(Duration::from_secs(10)).await;
        Ok("report")
    });
    let payment = nursery.start_soon(shield(async move {
        Timer::after(Duration::from_millis(100)).await;
        log(start, payment_done);
        Ok("paid")
    }));
    (report, payment)
}

fn main() {
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        println!("-- 1. a nursery with a 50 ms deadline");
        let start = Instant::now();
        let nursery = Nursery::<String>::new(&ex);
        nursery.cancel_after(Duration::from_millis(50));
        let (report, payment) = start_children(
            &nursery,
            start,
            "payment: done, although the deadline passed",
        );
        match nursery.join().await {
            Ok(()) => log(start, "join: Ok"),
            Err(err) => log(
                start,
                &format!("join: {err} (is_timeout: {})", err.is_timeout()),
            ),
        }
        println!("report:  {:?}", report.await);
        println!("payment: {:?}", payment.await);

        println!("-- 2. join raced against an outer 50 ms timer");
        let start = Instant::now();
        let nursery = Nursery::<String>::new(&ex);
        let (report, payment) = start_children(
            &nursery,
            start,
            "payment: done, detached from the dropped nursery",
        );
        let raced = future::or(async { Some(nursery.join().await) }, async {
            Timer::after(Duration::from_millis(50)).await;
            None
        })
        .await;
        match raced {
            Some(outcome) => log(start, &format!("join finished first: {outcome:?}")),
            None => log(start, "the outer timer won: the join future was dropped"),
        }
        println!("report:  {:?}", report.await);
        println!("payment: {:?}", payment.await);
    }));
}
