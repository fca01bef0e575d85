//! A coarse monotonic clock, for how long a child has run in a [`Snapshot`](crate::Snapshot).
//!
//! Reading it happens once per child that returns `Pending` (when it is registered), so it must
//! be cheap: on Linux it is `CLOCK_MONOTONIC_COARSE` (a few nanoseconds, a few milliseconds of
//! resolution); elsewhere, and under Miri, `Instant::now()`.

/// Milliseconds since an arbitrary, fixed origin.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn now_ms() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    (now.tv_sec as u64) * 1000 + (now.tv_nsec as u64) / 1_000_000
}

/// Milliseconds since an arbitrary, fixed origin.
#[cfg(not(all(target_os = "linux", not(miri))))]
pub(crate) fn now_ms() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;

    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as u64
}
