//! Long-lived children feed a channel that the parent drains; one failing child stops them all.
//!
//! Three sensors send readings into an `async-channel`. The parent prints readings as they
//! arrive. When the pressure sensor fails, the nursery cancels the other sensors; their
//! senders are dropped with them, the channel closes, the parent's loop ends, and `join`
//! reports the failure.
//!
//! Run it with `cargo run --example queue`.

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::Nursery;

fn main() {
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        let nursery = Nursery::new(&ex);
        let (readings, inbox) = async_channel::bounded::<(&str, u32)>(16);

        for (name, period_ms, fails_after) in [
            ("temperature", 10, None),
            ("humidity", 15, None),
            ("pressure", 20, Some(3)),
        ] {
            let readings = readings.clone();
            nursery.start_soon(async move {
                for n in 1.. {
                    Timer::after(Duration::from_millis(period_ms)).await;
                    if fails_after == Some(n) {
                        return Err(format!("{name} sensor stopped answering"));
                    }
                    if readings.send((name, n)).await.is_err() {
                        break;
                    }
                }
                Ok(())
            });
        }
        // Only the children hold senders now: the channel closes when they are gone.
        drop(readings);

        let mut received = 0;
        while let Ok((sensor, n)) = inbox.recv().await {
            println!("reading #{n} from {sensor}");
            received += 1;
        }
        println!("channel closed after {received} readings");

        match nursery.join().await {
            Ok(()) => println!("join: Ok"),
            Err(err) => println!("join: {err}"),
        }
    }));
}
