//! Structured concurrency for smol.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod child;
mod core;
mod error;
mod executor;
mod handle;
mod nursery;
mod shared;
mod shield;
mod slab;
mod task;

pub use crate::error::{NurseryClosed, NurseryError, TaskError};
pub use crate::executor::ExecutorRef;
pub use crate::handle::NurseryHandle;
pub use crate::nursery::Nursery;
pub use crate::shield::{shield, IntoChild, Shielded};
pub use crate::task::TaskHandle;
