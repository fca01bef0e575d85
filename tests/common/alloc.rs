//! A global allocator that counts the bytes in use, for the memory tests. The test binary
//! that needs it (`tests/alloc/`) installs it with `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting the bytes in use.
pub struct Counting;

/// Bytes allocated and not yet freed.
static IN_USE: AtomicIsize = AtomicIsize::new(0);

/// The bytes in use now.
pub fn in_use() -> isize {
    IN_USE.load(Ordering::SeqCst)
}

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}
