//! Sensors feed a channel that a scope's body drains; one failing sensor stops them all.
//!
//! Three sensors send readings into an `async-channel`, each as a child of a `scope`. The
//! body of the scope prints readings as they arrive. When the pressure sensor fails, the
//! nursery cancels the other sensors *and the body*: the body's future is dropped at the
//! `recv` it was waiting on.
//!
//! The channel never closes here, on purpose: the body keeps a sender of its own, so its loop
//! has no end of its own. With a `Nursery` and `join`, the owner would have to notice the
//! failure by itself (a closed channel, a `cancelled()` race); with `scope`, the code that
//! starts the children stops with them.
//!
//! Run it with `cargo run --example queue`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_channel::Sender;
use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{scope, NurseryError};

/// A reading: which sensor, and its sequence number.
type Reading = (&'static str, u32);

/// Prints a line prefixed with the time since the program started.
fn log(start: Instant, line: &str) {
    println!("[{:>4} ms] {line}", start.elapsed().as_millis());
}

/// Reads a sensor every `period`, and fails on reading number `fails_at`, if any.
async fn sensor(
    start: Instant,
    name: &'static str,
    period: Duration,
    fails_at: Option<u32>,
    readings: Sender<Reading>,
) -> Result<(), String> {
    for n in 1.. {
        Timer::after(period).await;
        if fails_at == Some(n) {
            log(start, &format!("{name}: no answer, failing"));
            return Err(format!("{name} sensor stopped answering"));
        }
        // The receiver lives in the scope's body; it is gone only once the scope is being
        // cancelled, and then this child is cancelled too.
        if readings.send((name, n)).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Tells, when the body's future is dropped, that the channel was still open then.
struct BodyGuard {
    start: Instant,
    /// The body's own sender, kept on purpose: the channel cannot close while the body runs.
    _keep_open: Sender<Reading>,
    inbox: async_channel::Receiver<Reading>,
}

impl Drop for BodyGuard {
    fn drop(&mut self) {
        log(
            self.start,
            &format!(
                "body: dropped while waiting for a reading (channel closed: {})",
                self.inbox.is_closed()
            ),
        );
    }
}

fn main() {
    let start = Instant::now();
    let ex = Arc::new(Executor::new());

    // The body borrows this counter from `main`: it is polled in `main`'s task, not spawned.
    let mut received = 0;

    let result: Result<(), NurseryError<String>> = future::block_on(ex.run(scope(&ex, |n| {
        let received = &mut received;
        async move {
            let (readings, inbox) = async_channel::bounded::<Reading>(16);
            for (name, period_ms, fails_at) in [
                ("temperature", 11, None),
                ("humidity", 25, None),
                ("pressure", 20, Some(3)),
            ] {
                let period = Duration::from_millis(period_ms);
                n.start_soon(sensor(start, name, period, fails_at, readings.clone()))
                    .expect("the scope is open while its body runs");
            }
            let guard = BodyGuard {
                start,
                _keep_open: readings,
                inbox,
            };

            // No `while let Ok(..)`: the body holds a sender, so `recv` never fails here.
            loop {
                let (sensor, k) = guard.inbox.recv().await.expect("the body holds a sender");
                log(start, &format!("body: reading #{k} from {sensor}"));
                *received += 1;
            }
        }
    })));

    log(start, &format!("scope returned after {received} readings"));
    match result {
        Ok(()) => println!("scope: Ok (the body returned)"),
        Err(err) => println!("scope: {err}"),
    }
}
