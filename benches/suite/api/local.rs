//! The group of the local form: spawn + join of `n` children on one thread, with a
//! `LocalNursery`, raw `LocalExecutor::spawn`, and tokio's `JoinSet::spawn_local` on a
//! `LocalSet`.

use std::rc::Rc;
use std::time::{Duration, Instant};

use async_executor::{LocalExecutor, Task};
use futures_lite::future;
use smol_nursery::LocalNursery;

use super::super::Bench;

thread_local! {
    /// The local executor every measurement runs on (`Bench` is shared by the groups and
    /// holds only what is `Send`).
    static LOCAL: Rc<LocalExecutor<'static>> = Rc::new(LocalExecutor::new());
}

impl Bench {
    /// Spawn + join of `n` trivial children (each yields once) on one thread.
    pub(in super::super) fn local(&self, contender: &str, n: usize) -> Duration {
        let ex = LOCAL.with(Rc::clone);
        let local_set = tokio::task::LocalSet::new();
        let start = Instant::now();
        match contender {
            "local_nursery" => future::block_on(ex.run(async {
                let nursery = LocalNursery::<()>::new(&ex);
                for _ in 0..n {
                    nursery.start_soon(async {
                        future::yield_now().await;
                        Ok(())
                    });
                }
                nursery.join().await.unwrap();
            })),
            "raw_local_executor" => future::block_on(ex.run(async {
                let tasks: Vec<Task<()>> = (0..n).map(|_| ex.spawn(future::yield_now())).collect();
                for task in tasks {
                    task.await;
                }
            })),
            "tokio_joinset_local" => self.tokio.block_on(local_set.run_until(async {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..n {
                    set.spawn_local(tokio::task::yield_now());
                }
                while let Some(result) = set.join_next().await {
                    result.unwrap();
                }
            })),
            // The `Send` form on the same thread, for reference.
            "nursery" => return self.spawn_join("nursery", n),
            other => unreachable!("no contender {other}"),
        }
        start.elapsed()
    }
}
