//! A payment that must finish although the SMS sent beside it failed.
//!
//! Three children run in one nursery: the payment (shielded), an SMS and an e-mail. The SMS
//! gateway fails, which cancels the e-mail at once; the payment is shielded, so it completes,
//! and `join` reports the SMS error.
//!
//! Run it with `cargo run --example payment`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{shield, Nursery};

/// What can go wrong with an order.
#[derive(Debug)]
enum OrderError {
    Sms(&'static str),
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::Sms(why) => write!(f, "SMS failed: {why}"),
        }
    }
}

impl std::error::Error for OrderError {}

/// Prints a line prefixed with the time since the program started.
fn log(start: Instant, line: &str) {
    println!("[{:>4} ms] {line}", start.elapsed().as_millis());
}

/// Prints when the e-mail child is dropped before it finished: that is its cancellation.
struct OnCancel(Instant, &'static str);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if !self.1.is_empty() {
            log(self.0, self.1);
        }
    }
}

fn main() {
    let start = Instant::now();
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        let nursery = Nursery::new(&ex);

        let payment = nursery.start_soon(shield(async move {
            log(start, "payment: charging 42.00 EUR (shielded)");
            Timer::after(Duration::from_millis(120)).await;
            log(start, "payment: card charged");
            Ok("receipt #1001")
        }));

        let sms = nursery.start_soon(async move {
            log(start, "sms: sending the confirmation");
            Timer::after(Duration::from_millis(30)).await;
            log(start, "sms: the gateway answered 503");
            Err::<(), _>(OrderError::Sms("gateway answered 503 Service Unavailable"))
        });

        let email = nursery.start_soon(async move {
            let mut guard = OnCancel(start, "email: cancelled before it was sent");
            log(start, "email: sending the receipt");
            Timer::after(Duration::from_millis(500)).await;
            guard.1 = "";
            log(start, "email: sent");
            Ok(())
        });

        let outcome = nursery.join().await;
        log(start, "join: every child has finished");
        match outcome {
            Ok(()) => println!("join:    Ok"),
            Err(err) => println!("join:    {err}"),
        }
        println!("payment: {:?}", payment.await);
        println!("sms:     {:?}", sms.await);
        println!("email:   {:?}", email.await);
    }));
}
