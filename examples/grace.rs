//! Graceful shutdown with a grace period: connections finish the request they are on, but not
//! forever.
//!
//! Five simulated connections each serve a request of a different length. After 50 ms the
//! server shuts down (`cancel()`). Each connection was started as
//! `shield(...).grace(200 ms)`: the shutdown does not interrupt it, it notices the shutdown
//! through `cancelled()` and takes no new request, and it has 200 ms to finish the one it is
//! on. The connection whose request needs a whole second is cut when its grace is over; its
//! handle says `Cancelled`, which is not an error at `join`.
//!
//! Run it with `cargo run --example grace`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{shield, Nursery, TaskError};

/// How long each connection's request takes.
const REQUESTS_MS: [u64; 5] = [20, 80, 150, 190, 1_000];
/// How long a connection may go on once the server shuts down.
const GRACE: Duration = Duration::from_millis(200);

fn main() {
    let ex = Arc::new(Executor::new());
    let start = Instant::now();
    let at = move || format!("{:>4} ms", start.elapsed().as_millis());

    future::block_on(ex.run(async {
        let server = Nursery::<String>::new(&ex);
        let mut connections = Vec::new();
        for (conn, &request_ms) in REQUESTS_MS.iter().enumerate() {
            let shutdown = server.handle().cancelled();
            connections.push(
                server.start_soon(
                    shield(async move {
                        // A request arrives right after the start; it takes `request_ms`.
                        Timer::after(Duration::from_millis(10)).await;
                        println!(
                            "{} connection {conn}: request ({request_ms} ms) begins",
                            at()
                        );
                        Timer::after(Duration::from_millis(request_ms)).await;
                        println!("{} connection {conn}: response sent", at());
                        // Then it would read the next request, unless the server is stopping.
                        shutdown.await;
                        println!("{} connection {conn}: closed cleanly", at());
                        Ok(conn)
                    })
                    .grace(GRACE),
                ),
            );
        }

        Timer::after(Duration::from_millis(50)).await;
        println!("{} server: shutting down, {GRACE:?} of grace", at());
        server.cancel();
        server.join().await.expect("no connection failed");
        println!("{} server: every connection is done", at());

        for (conn, handle) in connections.into_iter().enumerate() {
            match handle.await {
                Ok(_) => println!("connection {conn}: finished inside its grace"),
                Err(TaskError::Cancelled) => println!("connection {conn}: cut after its grace"),
                Err(other) => println!("connection {conn}: {other}"),
            }
        }
    }));
}
