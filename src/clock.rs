//! The clock for how long a child has waited, in a [`Snapshot`](crate::Snapshot).
//!
//! Reading the time costs about 20 ns, more than a child's whole bookkeeping may grow by, so a
//! nursery reads it only once it has been asked for a snapshot (see `Core::timed`): children
//! that started waiting before that have no age.

use std::sync::OnceLock;
use std::time::Instant;

/// Milliseconds since a fixed, arbitrary origin.
pub(crate) fn now_ms() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// The age of a child that started waiting before its nursery kept time.
pub(crate) const UNKNOWN: u64 = u64::MAX;
