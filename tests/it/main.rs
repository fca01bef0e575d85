//! The integration tests, one module per behaviour, built as one test binary (as in cargo's own
//! `tests/testsuite/`): one binary compiles and links once, where a binary per file linked the
//! crate and its dependencies some twenty times. Run one module with `cargo test --test it
//! join::`, one test with its full name, e.g. `cargo test --test it
//! join::no_child_code_runs_after_join`.
//!
//! Elsewhere in `tests/`, each a binary of its own: `stress.rs` (the randomized stress test,
//! which CI also runs alone in release), `alloc/` (the tests that count allocations with a
//! global allocator of their own) and the order service's tests.

#[path = "../common/mod.rs"]
mod common;

mod cancelled;
mod closed;
mod contract;
// Not under Miri: deadlines need async-io's reactor, which needs `timerfd_create`.
#[cfg(not(miri))]
mod deadlines;
mod dropping;
mod errors;
mod fail_fast;
mod fail_fast_off;
mod faults;
mod forms;
// Not under Miri: the grace timer is an `async_io::Timer`, which needs the reactor.
#[cfg(not(miri))]
mod grace;
mod handles;
mod join;
mod limit;
mod local;
mod origins;
mod panics;
mod race;
mod reserve;
mod scope;
mod sets;
mod shield;
mod siblings;
// Rule 30: needs the `tracing` feature (`cargo test --features tracing`).
#[cfg(feature = "tracing")]
mod spans;
mod start;
mod threads;
mod tree;
