//! The clock for how long a child has waited, in a [`Snapshot`](crate::Snapshot).
//!
//! Reading the time costs about 20 ns, more than a child's whole bookkeeping may grow by, so a
//! nursery reads it only once it has been asked for a snapshot (see `Core::timed`): children
//! that started waiting before that have no age.

use std::sync::OnceLock;
use std::time::Instant;

/// Milliseconds since a fixed, arbitrary origin, wrapping after about 49 days: kept in 32
/// bits so that a pending child's entry stays small. Ages are differences, taken with
/// wrapping arithmetic, so they are right up to that span.
pub(crate) fn now_ms() -> u32 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let now = ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as u32;
    // `UNKNOWN` is reserved.
    now.min(UNKNOWN - 1)
}

/// The age of a child that started waiting before its nursery kept time.
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// The milliseconds from `since` to `now`, both from [`now_ms`].
pub(crate) fn elapsed_ms(since: u32, now: u32) -> u32 {
    now.wrapping_sub(since)
}
