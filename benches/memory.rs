//! Memory: bytes per pending child, the RSS of a long-lived nursery, and the RSS of a
//! producer feeding a limited nursery through `reserve`.
//!
//! `cargo bench --bench memory`. Each measurement runs in a fresh process (this binary runs
//! itself again with `SMOL_NURSERY_MEMORY_MODE` set), reads `VmRSS` from `/proc/self/status`
//! and prints one line; the parent prints the table. Linux only.

use std::process::Command;
use std::sync::Arc;

use async_executor::{Executor, Task};
use futures_lite::future;
use smol_nursery::{Nursery, NurseryBuilder, TaskHandle};

/// Pending children per measurement.
const PENDING: usize = 1_000_000;
/// Short children fed to the long-lived nursery, and the batch size.
const SHORT: usize = 2_000_000;
const BATCH: usize = 10_000;
/// Children fed through `reserve` under a limit, the limit, the times each child yields, and
/// the counts of started children at which the RSS is read.
const RESERVED: usize = 1_000_000;
const RESERVE_LIMIT: usize = 100;
const YIELDS: usize = 3;
const CHECKPOINTS: [usize; 3] = [10_000, 100_000, 1_000_000];

/// The process's resident set, in bytes.
fn rss() -> usize {
    let status =
        std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Runs one measurement in this process and prints `mode value`.
fn measure(mode: &str) {
    let ex = Arc::new(Executor::new());
    // Warm the executor and the allocator up so the baseline includes them.
    future::block_on(ex.run(async { ex.spawn(async {}).await }));
    let before = rss();
    match mode {
        "raw" => {
            let tasks: Vec<Task<()>> = (0..PENDING)
                .map(|_| ex.spawn(future::pending::<()>()))
                .collect();
            while ex.try_tick() {}
            println!("{mode} {}", (rss() - before) as f64 / PENDING as f64);
            drop(tasks);
        }
        "nursery" | "nursery_handles" => {
            let nursery = Nursery::<()>::new(&ex);
            let mut handles: Vec<TaskHandle<()>> = Vec::new();
            if mode == "nursery_handles" {
                handles.reserve(PENDING);
            }
            for _ in 0..PENDING {
                let handle = nursery.start_soon(async {
                    future::pending::<()>().await;
                    Ok(())
                });
                if mode == "nursery_handles" {
                    handles.push(handle);
                }
            }
            while ex.try_tick() {}
            println!("{mode} {}", (rss() - before) as f64 / PENDING as f64);
            nursery.cancel();
            future::block_on(ex.run(nursery.join())).unwrap();
        }
        "long_lived" => {
            let nursery = Nursery::<()>::new(&ex);
            let mut first = 0;
            let mut peak = 0;
            for batch in 0..SHORT / BATCH {
                for _ in 0..BATCH {
                    nursery.start_soon(async {
                        future::yield_now().await;
                        Ok(())
                    });
                }
                while ex.try_tick() {}
                assert!(nursery.is_empty());
                let now = rss();
                if batch == 0 {
                    first = now;
                }
                peak = peak.max(now);
            }
            let last = rss();
            future::block_on(ex.run(nursery.join())).unwrap();
            println!("{mode} {first} {peak} {last}");
        }
        "reserve" => {
            let nursery = NurseryBuilder::new().limit(RESERVE_LIMIT).build::<()>(&ex);
            let mut at = Vec::new();
            let mut peak = 0;
            future::block_on(ex.run(async {
                for started in 1..=RESERVED {
                    nursery.reserve().await.start_soon(async {
                        for _ in 0..YIELDS {
                            future::yield_now().await;
                        }
                        Ok(())
                    });
                    if started % 1_000 == 0 {
                        let now = rss();
                        peak = peak.max(now);
                        if CHECKPOINTS.contains(&started) {
                            at.push(now);
                        }
                    }
                }
                nursery.join().await.unwrap();
            }));
            let after = rss();
            println!(
                "{mode} {before} {} {} {} {peak} {after}",
                at[0], at[1], at[2]
            );
        }
        other => panic!("unknown mode {other}"),
    }
}

fn run_child(mode: &str) -> Vec<f64> {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("SMOL_NURSERY_MEMORY_MODE", mode)
        .output()
        .expect("run the measurement");
    assert!(
        out.status.success(),
        "{mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(mode))
        .expect("a result line");
    line.split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

fn main() {
    if let Ok(mode) = std::env::var("SMOL_NURSERY_MEMORY_MODE") {
        measure(&mode);
        return;
    }
    if std::env::args().any(|a| a == "--list") || !cfg!(target_os = "linux") {
        return;
    }
    let raw = run_child("raw")[0];
    let nursery = run_child("nursery")[0];
    let handles = run_child("nursery_handles")[0];
    println!("| {PENDING} pending children | bytes per child (RSS) | above raw `Task` |");
    println!("|---|---:|---:|");
    println!("| raw `Executor::spawn`, `Task`s kept | {raw:.1} | |");
    println!(
        "| nursery, handles dropped | {nursery:.1} | {:+.1} |",
        nursery - raw
    );
    println!(
        "| nursery, `TaskHandle`s kept | {handles:.1} | {:+.1} |",
        handles - raw
    );
    let long = run_child("long_lived");
    let mib = |b: f64| b / (1024.0 * 1024.0);
    println!();
    println!("| long-lived nursery, {SHORT} short children in batches of {BATCH} | RSS (MiB) |");
    println!("|---|---:|");
    println!("| after the first batch | {:.1} |", mib(long[0]));
    println!("| peak | {:.1} |", mib(long[1]));
    println!("| after the last batch | {:.1} |", mib(long[2]));
    println!(
        "| growth (peak - first batch) | {:.2} |",
        mib(long[1] - long[0])
    );
    let flow = run_child("reserve");
    println!();
    println!(
        "| producer: {RESERVED} children through `reserve`, `limit({RESERVE_LIMIT})`, each yields {YIELDS} times | RSS (MiB) |"
    );
    println!("|---|---:|");
    println!("| before the first child | {:.1} |", mib(flow[0]));
    for (i, started) in CHECKPOINTS.iter().enumerate() {
        println!(
            "| after {started} children started | {:.1} |",
            mib(flow[1 + i])
        );
    }
    println!("| peak (read every 1000 children) | {:.1} |", mib(flow[4]));
    println!("| after `join` | {:.1} |", mib(flow[5]));
    println!(
        "| growth (peak - after 10000 children) | {:.2} |",
        mib(flow[4] - flow[1])
    );
}
