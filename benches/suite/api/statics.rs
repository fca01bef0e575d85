//! The group of the leaked executors (feature `static`): spawn + join of `n` children on one
//! thread, with a nursery on a `StaticExecutor` and one on an `Arc<Executor>`, beside raw
//! `spawn` on each. Run it with `cargo bench --features static`.

use std::time::{Duration, Instant};

use async_executor::{StaticExecutor, Task};
use futures_lite::future;
use smol_nursery::{Nursery, StaticExecutorRef};

use super::super::Bench;

/// The leaked executor every measurement of the group runs on.
static EX: StaticExecutor = StaticExecutor::new();

impl Bench {
    /// Spawn + join of `n` trivial children (each yields once) on one thread.
    pub(in super::super) fn statics(&self, contender: &str, n: usize) -> Duration {
        let start = Instant::now();
        match contender {
            "static_nursery" => future::block_on(EX.run(async {
                let nursery: Nursery<'static, (), StaticExecutorRef> = Nursery::new(&EX);
                for _ in 0..n {
                    nursery.start_soon(async {
                        future::yield_now().await;
                        Ok(())
                    });
                }
                nursery.join().await.unwrap();
            })),
            "raw_static_executor" => future::block_on(EX.run(async {
                let tasks: Vec<Task<()>> = (0..n).map(|_| EX.spawn(future::yield_now())).collect();
                for task in tasks {
                    task.await;
                }
            })),
            "nursery" | "raw_executor" => return self.spawn_join(contender, n),
            other => unreachable!("no contender {other}"),
        }
        start.elapsed()
    }
}
