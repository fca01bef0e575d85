//! The groups of part three: `set` (results in completion order through a `NurserySet`) and
//! `race` (`race_ok` against a hand-written race).
//!
//! To run the suite on code that predates part three, delete this file and the lines of
//! `api.rs` that name `sets` (see `benches/README.md`).

use std::time::{Duration, Instant};

use async_executor::Task;
use futures::stream::{FuturesUnordered, StreamExt};
use futures_lite::future;
use smol_nursery::{race_ok, Nursery, NurserySet, TaskHandle};

use super::super::{Bench, Group, SAMPLE, SIZES};
use super::sum_below;

/// `set`: `n` children (each yields once, then returns its index), their results taken in the
/// order they complete.
pub const SET: Group = Group {
    name: "set",
    contenders: &[
        "nursery_set",
        "tokio_joinset",
        "handles_unordered",
        "nursery",
    ],
    ratios: &[
        ("nursery_set", "tokio_joinset"),
        ("nursery_set", "handles_unordered"),
        ("nursery_set", "nursery"),
    ],
    threads: 1,
    sizes: SIZES,
    measure: Bench::set,
    sample: SAMPLE,
};

/// `race`: `n / ATTEMPTS` races of `ATTEMPTS` attempts each, one after the other; the figures
/// are per attempt offered (a race's time / `ATTEMPTS`).
pub const RACE: Group = Group {
    name: "race",
    contenders: &["race_ok", "hand_written", "race_ok_stagger"],
    ratios: &[("race_ok", "hand_written"), ("race_ok_stagger", "race_ok")],
    threads: 1,
    sizes: SIZES,
    measure: Bench::race,
    sample: SAMPLE,
};

/// The attempts of one race.
const ATTEMPTS: usize = 8;

/// The attempt that wins (the third): it yields once, then succeeds.
const WINNER: usize = 2;

/// Attempt `i` of a race: those before the winner fail at once, the winner yields once and
/// succeeds with its index, those after it wait forever (until they are cancelled).
async fn attempt(i: usize) -> Result<usize, usize> {
    match i {
        i if i < WINNER => Err(i),
        WINNER => {
            future::yield_now().await;
            Ok(i)
        }
        _ => future::pending().await,
    }
}

impl Bench {
    /// `n` children (each yields once, then returns its index) whose results are taken in the
    /// order they complete.
    pub(in super::super) fn set(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let start = Instant::now();
        let sum = match contender {
            // `NurserySet::start_soon`, then `next` until `None`, then `join` (nothing left).
            "nursery_set" => self.on(async {
                let mut set = NurserySet::<usize, ()>::new(ex);
                for i in 0..n {
                    set.start_soon(async move {
                        future::yield_now().await;
                        Ok(i)
                    });
                }
                let mut sum = 0;
                while let Some(result) = set.next().await {
                    sum += result.unwrap();
                }
                assert!(set.join().await.unwrap().is_empty());
                sum
            }),
            // tokio's `JoinSet::spawn` + `join_next` on a current-thread runtime.
            "tokio_joinset" => self.tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..n {
                    set.spawn(async move {
                        tokio::task::yield_now().await;
                        i
                    });
                }
                let mut sum = 0;
                while let Some(result) = set.join_next().await {
                    sum += result.unwrap();
                }
                sum
            }),
            // What a set replaces: a nursery's `TaskHandle`s in a `FuturesUnordered`, drained
            // with `next`, then `join`.
            "handles_unordered" => self.on(async {
                let nursery = Nursery::<()>::new(ex);
                let mut children: FuturesUnordered<TaskHandle<usize>> = FuturesUnordered::new();
                for i in 0..n {
                    children.push(nursery.start_soon(async move {
                        future::yield_now().await;
                        Ok(i)
                    }));
                }
                let mut sum = 0;
                while let Some(result) = children.next().await {
                    sum += result.unwrap();
                }
                nursery.join().await.unwrap();
                sum
            }),
            // For reference: a nursery's spawn + join, no result taken.
            "nursery" => {
                self.on(async {
                    let nursery = Nursery::<()>::new(ex);
                    for _ in 0..n {
                        nursery.start_soon(async {
                            future::yield_now().await;
                            Ok(())
                        });
                    }
                    nursery.join().await.unwrap();
                });
                sum_below(n)
            }
            other => unreachable!("no contender {other}"),
        };
        let elapsed = start.elapsed();
        assert_eq!(sum, sum_below(n), "{contender}");
        elapsed
    }

    /// `n / ATTEMPTS` races one after the other, each of `ATTEMPTS` attempts: two fail at
    /// once, the third yields once and wins, the other five wait until they are cancelled.
    pub(in super::super) fn race(&self, contender: &str, n: usize) -> Duration {
        let ex = &self.ex;
        let races = n / ATTEMPTS;
        let start = Instant::now();
        let won = match contender {
            // Every attempt started at once (`Duration::ZERO`); the losers cancelled and
            // awaited before `race_ok` returns.
            "race_ok" => self.on(async {
                let mut won = 0;
                for _ in 0..races {
                    won += race_ok(ex, (0..ATTEMPTS).map(attempt), Duration::ZERO)
                        .await
                        .unwrap();
                }
                won
            }),
            // The same race with a stagger that never passes: an attempt is started when the
            // previous one fails (three starts, each arming the stagger's timer); the five
            // after the winner are never taken.
            "race_ok_stagger" => self.on(async {
                let mut won = 0;
                for _ in 0..races {
                    won += race_ok(ex, (0..ATTEMPTS).map(attempt), Duration::from_secs(3600))
                        .await
                        .unwrap();
                }
                won
            }),
            // By hand: `ATTEMPTS` raw tasks send their results through a channel; the first
            // `Ok` wins, and every task is then cancelled and awaited (`Task::cancel`, which
            // returns once the task's future is dropped).
            "hand_written" => self.on(async {
                let mut won = 0;
                for _ in 0..races {
                    let (send, receive) = async_channel::bounded(ATTEMPTS);
                    let tasks: Vec<Task<()>> = (0..ATTEMPTS)
                        .map(|i| {
                            let send = send.clone();
                            ex.spawn(async move {
                                let result = attempt(i).await;
                                let _ = send.send(result).await;
                            })
                        })
                        .collect();
                    drop(send);
                    let mut errors = Vec::new();
                    let mut winner = None;
                    while let Ok(result) = receive.recv().await {
                        match result {
                            Ok(value) => {
                                winner = Some(value);
                                break;
                            }
                            Err(error) => errors.push(error),
                        }
                    }
                    for task in tasks {
                        task.cancel().await;
                    }
                    assert_eq!(errors.len(), WINNER);
                    won += winner.expect("an attempt wins");
                }
                won
            }),
            other => unreachable!("no contender {other}"),
        };
        let elapsed = start.elapsed();
        assert_eq!(won, races * WINNER, "{contender}");
        elapsed
    }
}
