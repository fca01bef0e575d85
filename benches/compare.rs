//! The benchmark suite with the system allocator (glibc's malloc on Linux).
//!
//! `cargo bench --bench compare`; see `benches/README.md`.

mod suite;

fn main() {
    suite::run_all("system");
}
