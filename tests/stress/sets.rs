//! Randomized stress of sets (rule 27) on 1, 2 and 4 threads: random children (values, errors,
//! shielded ones, ones that only a cancellation ends, rare panics), random limits, a reader
//! that drops `next()` mid-wait at random, and a random end (read to the end then `join`,
//! `join` mid-way, `cancel` then drain, or drop). Every round checks that no result is handed
//! out twice, that every child that returned a value or an error is handed out exactly once
//! (by `next` or by `join`) unless the set was dropped or panicked, that under `limit(k)` the
//! running children plus the unread results never exceed `k`, and that no child's future is
//! alive once the round is over.
//!
//! `STRESS_SOAK_SECS=<s>` keeps running fresh seeds for a quarter of that (at most 30 s);
//! otherwise 1 000 rounds per thread count (2 under Miri).

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::{future, FutureExt};
use smol_nursery::{shield, NurseryBuilder, NurserySet};

use crate::common::{run, Counter};

/// What a round's children did, shared with the checks.
#[derive(Default)]
struct Record {
    /// Ids of the children that returned (a value or an error).
    returned: Mutex<HashSet<u32>>,
    /// Children running now.
    running: AtomicUsize,
}

/// How the round ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    ReadAllThenJoin,
    JoinMidway,
    CancelThenDrain,
    Drop,
}

/// Plays one round; returns whether a panic was planned and resumed.
fn round(seed: u64, threads: usize) -> bool {
    run(threads, move |ex| async move {
        let mut rng = fastrand::Rng::with_seed(seed);
        let limit = (rng.u8(0..3) > 0).then(|| rng.usize(1..5));
        let children = rng.u32(1..40);
        let ending = [
            Ending::ReadAllThenJoin,
            Ending::JoinMidway,
            Ending::CancelThenDrain,
            Ending::Drop,
        ][rng.usize(0..4)];
        let panics = rng.u8(0..10) == 0;
        if crate::env("STRESS_SEED") == Some(seed) {
            eprintln!(
                "seed {seed}: limit {limit:?}, {children} children, {ending:?}, panics {panics}"
            );
        }
        let record = Arc::new(Record::default());
        let alive = Counter::default();
        let mut set: NurserySet<u32, u32> = match limit {
            Some(k) => NurseryBuilder::new().limit(k).build_set(&ex),
            None => NurserySet::new(&ex),
        };
        for id in 0..children {
            let (record, guard) = (record.clone(), alive.guard());
            // A child that only a cancellation ends (kind 0) only where the round cancels.
            let cancels = matches!(ending, Ending::CancelThenDrain | Ending::Drop);
            let kind = if cancels {
                rng.u8(0..10)
            } else {
                rng.u8(1..10)
            };
            let yields = rng.usize(0..6);
            let child = async move {
                let _guard = guard;
                record.running.fetch_add(1, Ordering::SeqCst);
                let _running = Decrement(&record.running);
                for _ in 0..yields {
                    future::yield_now().await;
                }
                match kind {
                    // Ends only when cancelled.
                    0 => future::pending().await,
                    1 | 2 => {
                        record.returned.lock().unwrap().insert(id);
                        Err(id)
                    }
                    _ => {
                        record.returned.lock().unwrap().insert(id);
                        Ok(id)
                    }
                }
            };
            if kind == 9 {
                set.start_soon(shield(child));
            } else {
                set.start_soon(child);
            }
        }
        if panics {
            set.start_soon(async {
                future::yield_now().await;
                std::panic::panic_any(crate::PlannedPanic)
            });
        }
        // Reads, with random dropped waits, until the ending's moment.
        let mut seen = HashSet::new();
        let mut most = 0;
        let stop_after = match ending {
            Ending::ReadAllThenJoin => u32::MAX,
            _ => rng.u32(0..children + 1),
        };
        let mut read = 0;
        let mut panicked = false;
        if matches!(ending, Ending::CancelThenDrain) && stop_after == 0 {
            set.cancel();
        }
        // Children that only a cancellation ends may hold every place: give up reading when
        // nothing has come for a long while.
        let mut idle = 0;
        while read < stop_after && idle < 2_000 {
            if let Some(k) = limit {
                // Unread first, then running: the sum cannot overstate.
                let unread = set.snapshot().unread();
                let running = record.running.load(Ordering::SeqCst);
                most = most.max(unread + running);
                assert!(
                    unread + running <= k,
                    "seed {seed}: {running} running + {unread} unread > limit {k}"
                );
            }
            let next = async { Some(set.next().await) };
            let wait = async {
                future::yield_now().await;
                None
            };
            let raced = next.or(wait);
            match AssertUnwindSafe(raced).catch_unwind().await {
                Err(_panic) => {
                    panicked = true;
                    break;
                }
                Ok(None) => idle += 1,
                Ok(Some(None)) => break,
                Ok(Some(Some(result))) => {
                    let id = result.unwrap_or_else(|id| id);
                    assert!(seen.insert(id), "seed {seed}: result {id} handed out twice");
                    read += 1;
                    idle = 0;
                    if matches!(ending, Ending::CancelThenDrain) && read == stop_after {
                        set.cancel();
                    }
                }
            }
        }
        let mut complete = !panicked;
        match ending {
            Ending::Drop => {
                drop(set);
                complete = false;
            }
            Ending::CancelThenDrain if !panicked => {
                set.cancel();
                loop {
                    match AssertUnwindSafe(set.next()).catch_unwind().await {
                        Ok(Some(result)) => {
                            let id = result.unwrap_or_else(|id| id);
                            assert!(seen.insert(id), "seed {seed}: result {id} handed out twice");
                        }
                        Ok(None) => break,
                        Err(_) => {
                            complete = false;
                            break;
                        }
                    }
                }
                let rest = AssertUnwindSafe(set.join()).catch_unwind().await;
                complete &= collect(seed, rest, &mut seen);
            }
            _ => {
                let rest = AssertUnwindSafe(set.join()).catch_unwind().await;
                complete &= collect(seed, rest, &mut seen);
            }
        }
        // Every child's future is dropped once the set is joined or, dropped, has wound down.
        let deadline = Instant::now() + Duration::from_secs(20);
        while alive.alive() > 0 {
            assert!(
                Instant::now() < deadline,
                "seed {seed}: a child outlived the round"
            );
            future::yield_now().await;
        }
        if complete {
            let returned = record.returned.lock().unwrap();
            let lost: Vec<_> = returned.difference(&seen).collect();
            assert!(
                lost.is_empty(),
                "seed {seed} ({ending:?}): results lost: {lost:?}"
            );
        }
        panics
    })
}

/// Adds what `join` returned to `seen`; returns `false` if it panicked.
fn collect(
    seed: u64,
    joined: std::thread::Result<Result<Vec<u32>, smol_nursery::NurseryError<u32>>>,
    seen: &mut HashSet<u32>,
) -> bool {
    match joined {
        Err(_panic) => false,
        Ok(joined) => {
            let ids = match joined {
                Ok(values) => values,
                // With an unread error, `join` drops the values: only the errors are reported.
                Err(error) => {
                    for &id in error.errors() {
                        assert!(seen.insert(id), "seed {seed}: result {id} handed out twice");
                    }
                    return false;
                }
            };
            for id in ids {
                assert!(seen.insert(id), "seed {seed}: result {id} handed out twice");
            }
            true
        }
    }
}

/// Decrements a counter when dropped.
struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn random_sets_lose_no_result() {
    crate::quiet_planned_panics();
    let started = Instant::now();
    let soak = crate::env("STRESS_SOAK_SECS").map(|secs| Duration::from_secs((secs / 4).min(30)));
    let rounds_each = crate::env("STRESS_ROUNDS").unwrap_or(if cfg!(miri) { 2 } else { 1_000 });
    let (mut rounds, mut panics) = (0u64, 0u64);
    let mut seed = crate::env("STRESS_SEED").unwrap_or(0);
    loop {
        for threads in crate::common::THREADS {
            match std::panic::catch_unwind(|| round(seed, threads)) {
                Ok(panicked) => panics += u64::from(panicked),
                Err(failure) => {
                    eprintln!("stress of sets: seed {seed} on {threads} threads failed");
                    std::panic::resume_unwind(failure);
                }
            }
            rounds += 1;
        }
        seed += 1;
        let done = match soak {
            Some(soak) => started.elapsed() >= soak,
            None => seed >= rounds_each,
        };
        if done {
            break;
        }
    }
    println!(
        "stress of sets: {rounds} rounds ({panics} with a panic) in {:.1?}",
        started.elapsed()
    );
    assert!(cfg!(miri) || panics > 0, "no round had a panic");
}
