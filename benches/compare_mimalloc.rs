//! The benchmark suite with mimalloc as the global allocator.
//!
//! tokio allocates each task 128-byte aligned, which glibc's malloc serves slowly; running the
//! same suite under mimalloc shows how much of a difference is the allocator's.
//! `cargo bench --bench compare_mimalloc`; see `benches/README.md`.

mod suite;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    suite::run_all("mimalloc");
}
