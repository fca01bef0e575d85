//! The public API checked as code: the exported names, the signature of each public method
//! (written out as type annotations, so that a changed signature fails to compile), the traits
//! users rely on (`Send`, `Sync`, `Debug`, `Clone`, `Copy`, `Error`), the three variants of
//! `TaskError`, and the `Debug` output. Each method is also called once and does what the crate
//! documentation says.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use async_executor::Executor;
use smol_nursery::{
    shield, Nursery, NurseryClosed, NurseryError, NurseryHandle, Shielded, TaskError, TaskHandle,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn debug<T: Debug>() {}

#[test]
fn public_types_have_the_promised_traits() {
    send_sync::<Nursery<'static, String>>();
    send_sync::<NurseryHandle<'static, String>>();
    send::<TaskHandle<String>>();
    debug::<Nursery<'static, ()>>();
    debug::<NurseryHandle<'static, ()>>();
    debug::<TaskHandle<()>>();
    debug::<TaskError>();
    debug::<NurseryError<String>>();
    debug::<NurseryClosed>();
    debug::<Shielded<std::future::Ready<Result<(), ()>>>>();
    fn clone<T: Clone>() {}
    clone::<NurseryHandle<'static, ()>>();
    fn copy_eq<T: Copy + PartialEq + std::error::Error>() {}
    copy_eq::<NurseryClosed>();
    copy_eq::<TaskError>();
    fn error<T: std::error::Error>() {}
    error::<NurseryError<std::io::Error>>();
}

static EX: Executor<'static> = Executor::new();

#[test]
fn the_public_api_compiles_and_works_as_documented() {
    watchdog(|| {
        // A 'static executor.
        let n = Nursery::new(&EX);
        let h: TaskHandle<u8> = n.start_soon(async { Ok::<u8, String>(1) });
        let h2: TaskHandle<u8> = n.start_soon(shield(async { Ok(2) }));
        let nh: NurseryHandle<'static, String> = n.handle();
        let r: Result<TaskHandle<u8>, NurseryClosed> = nh.start_soon(async { Ok(3) });
        let r2: Result<TaskHandle<u8>, NurseryClosed> = nh.start_soon(shield(async { Ok(4) }));
        if !cfg!(miri) {
            // Deadlines need async-io's reactor, which Miri cannot run (timerfd_create).
            n.cancel_after(Duration::from_secs(60));
            n.cancel_at(Instant::now() + Duration::from_secs(60));
        }
        assert!(!n.is_cancelled() && !nh.is_cancelled() && !nh.is_closed());
        assert_eq!(n.len(), 4);
        assert!(!n.is_empty());
        let joined: Result<(), NurseryError<String>> =
            futures_lite::future::block_on(EX.run(n.join()));
        assert_eq!(joined, Ok(()));
        assert!(nh.is_closed());
        for (handle, expected) in [(h, 1), (h2, 2), (r.unwrap(), 3), (r2.unwrap(), 4)] {
            assert!(handle.is_finished());
            assert_eq!(futures_lite::future::block_on(handle), Ok(expected));
        }

        // An Arc'd executor, with children borrowing data declared before it.
        let greeting = String::from("hello");
        let ex = Arc::new(Executor::new());
        let n = Nursery::<std::io::Error>::new(&ex);
        let nh = n.handle();
        let h = n.start_soon(async { Ok(greeting.len()) });
        let greeting = &greeting;
        n.start_soon(async move {
            nh.start_soon(async move { Ok(greeting.as_str()) }).unwrap();
            nh.cancel();
            Ok(())
        });
        n.cancel();
        assert_eq!(
            futures_lite::future::block_on(ex.run(n.join())).map_err(|e| e.errors().len()),
            Ok(())
        );
        // Both children were cancelled before they ran.
        assert_eq!(futures_lite::future::block_on(h), Err(TaskError::Cancelled));
    });
}

#[test]
fn task_error_variants_are_the_three_promised() {
    for e in [TaskError::Cancelled, TaskError::Failed, TaskError::Panicked] {
        match e {
            TaskError::Cancelled => assert!(e.is_cancelled()),
            TaskError::Failed => assert!(!e.is_cancelled() && !e.is_panic()),
            TaskError::Panicked => assert!(e.is_panic()),
        }
        let _: &dyn std::error::Error = &e;
    }
    assert_eq!(TaskError::Cancelled.to_string(), "task was cancelled");
}

#[test]
fn debug_output_is_small() {
    let ex = Arc::new(Executor::new());
    let n = Nursery::<()>::new(&ex);
    assert_eq!(format!("{n:?}"), "Nursery { len: 0, cancelled: None }");
    n.cancel();
    assert_eq!(
        format!("{n:?}"),
        "Nursery { len: 0, cancelled: Some(Explicit) }"
    );
    assert_eq!(
        format!("{:?}", n.handle()),
        "NurseryHandle { len: 0, cancelled: true, closed: false }"
    );
}
