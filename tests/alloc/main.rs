//! The tests that measure the bytes in use, with the counting global allocator of
//! `common/alloc.rs`: one binary, apart from the other tests, so that only these tests
//! allocate under the count. The test harness still runs them on parallel threads, so each
//! takes its turn with [`measure_alone`] for the whole of its measurement.

#[path = "../common/mod.rs"]
mod common;

// Not under Miri: deadlines need async-io's reactor, which needs `timerfd_create`.
#[cfg(not(miri))]
mod deadline_leaks;
mod memory;

use std::sync::{Mutex, MutexGuard, PoisonError};

#[global_allocator]
static ALLOCATOR: common::alloc::Counting = common::alloc::Counting;

/// Held by the test that is measuring.
static MEASURING: Mutex<()> = Mutex::new(());

/// Waits until no other test of this binary is measuring, and keeps the others waiting until
/// the guard is dropped (a failed test's panic leaves the lock usable).
fn measure_alone() -> MutexGuard<'static, ()> {
    MEASURING.lock().unwrap_or_else(PoisonError::into_inner)
}
