//! The benchmark suite with the system allocator (glibc's malloc on Linux).
//!
//! `cargo bench --bench compare`; see `benches/README.md`.

mod suite;

use criterion::Criterion;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    suite::spawn_join(&mut c, "system");
    suite::fail_fast(&mut c, "system");
    suite::two_threads(&mut c, "system");
    c.final_summary();
}
