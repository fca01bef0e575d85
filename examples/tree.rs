//! The nursery tree: a snapshot of what is running, and a payment that no cancellation orphans.
//!
//! A server nursery runs two connections. Each connection opens an order nursery (inside the
//! connection child, so the order nursery's parent is the server) and runs a shielded payment
//! in it. Mid-way, the program prints the server's `snapshot()`: every connection, where it
//! was started, the order nurseries inside them, and the payments. Then a sibling of the
//! connections fails: the server cancels the connections, which drops their order nurseries
//! before their `join` finished. The server *adopts* what they still run, so the shielded
//! payments finish before the server's `join` returns; the program prints one more snapshot
//! to show the adopted nurseries.
//!
//! Run it with `cargo run --example tree`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{shield, Nursery};

fn main() {
    let ex = Arc::new(Executor::new());
    let start = Instant::now();
    let at = move || format!("{:>4} ms", start.elapsed().as_millis());

    future::block_on(ex.run(async {
        let server = Nursery::<String>::new(&ex);
        // A nursery notes how long its children wait only once it has been asked for a
        // snapshot (so that one nobody inspects pays nothing): ask once at the start.
        let _ = server.snapshot();
        for conn in 0..2 {
            let ex = ex.clone();
            server.start_soon(async move {
                let orders = Nursery::<String>::new(&ex);
                orders.start_soon(shield(async move {
                    Timer::after(Duration::from_millis(150 + conn * 50)).await;
                    println!("{} connection {conn}: payment done", at());
                    Ok(())
                }));
                // The connection then waits for its next request.
                orders.start_soon(future::pending::<Result<(), String>>());
                orders.join().await.map_err(|err| err.to_string())
            });
        }
        server.start_soon(async move {
            Timer::after(Duration::from_millis(60)).await;
            println!("{} the database connection is lost", at());
            Err::<(), _>(String::from("database connection lost"))
        });

        Timer::after(Duration::from_millis(30)).await;
        println!("{} snapshot while serving:\n{}", at(), server.snapshot());

        let handle = server.handle();
        let snapshots = ex.spawn(async move {
            Timer::after(Duration::from_millis(90)).await;
            println!(
                "{} snapshot after the failure:\n{}",
                at(),
                handle.snapshot()
            );
        });
        let result = server.join().await;
        println!("{} server joined: {}", at(), result.unwrap_err());
        snapshots.await;
    }));
}
