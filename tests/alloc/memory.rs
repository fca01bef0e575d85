//! A long-lived nursery releases what it keeps for a child as soon as that child finishes:
//! its memory follows the peak number of unfinished children, not the number ever started.
//!
//! The counting global allocator of this binary (`main.rs`, whose tests take turns so that no
//! other test disturbs the count) measures the bytes in use while one nursery receives many
//! batches of short children: the amount must not grow with the number of children started.

use crate::common::{self, *};
use smol_nursery::Nursery;

#[test]
fn memory_follows_the_peak_not_the_total() {
    const BATCH: usize = common::scaled(1_000, 50);
    const BATCHES: usize = common::scaled(200, 5);
    let _alone = crate::measure_alone();
    run(2, |ex| async move {
        let nursery = Nursery::<()>::new(&ex);
        let mut after_first = 0;
        for batch in 0..BATCHES {
            for _ in 0..BATCH {
                // Handles are dropped: the nursery itself must not keep anything per child.
                nursery.start_soon(async {
                    futures_lite::future::yield_now().await;
                    Ok(())
                });
            }
            while !nursery.is_empty() {
                futures_lite::future::yield_now().await;
            }
            let in_use = common::alloc::in_use();
            if batch == 2 {
                after_first = in_use;
            } else if batch > 2 {
                let growth = in_use - after_first;
                assert!(
                    growth < 256 * 1024,
                    "memory grew by {growth} bytes after {} children",
                    (batch + 1) * BATCH
                );
            }
        }
        nursery.join().await.unwrap();
    });
}
