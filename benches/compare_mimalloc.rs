//! The benchmark suite with mimalloc as the global allocator.
//!
//! tokio allocates each task 128-byte aligned, which glibc's malloc serves slowly; running the
//! same suite under mimalloc shows how much of a difference is the allocator's.
//! `cargo bench --bench compare_mimalloc`; see `benches/README.md`. Linux only: mimalloc is a
//! dev-dependency on Linux only (it builds C code); elsewhere this bench prints a note.

#[cfg(target_os = "linux")]
mod suite;

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(target_os = "linux")]
fn main() {
    suite::run_all("mimalloc");
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("compare_mimalloc runs on Linux only; `cargo bench --bench compare` runs anywhere");
}
