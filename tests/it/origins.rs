//! Rule 29: `NurseryError::origins` yields each error with the start site of the child that
//! returned it, in the order of `errors()`, with the same length; and a failed `start`
//! composes with `?`.

use std::error::Error;
use std::io;

use smol_nursery::{scope, Nursery, NurseryBuilder, NurseryError, StartError};

use crate::common::{run, yields};

/// A child that fails with `what`.
async fn fails(what: &str) -> Result<(), String> {
    Err(what.to_string())
}

/// Every way of starting a child records its own call as the origin of the child's error:
/// `start_soon`, a handle's `start_soon`, `Slot::start_soon`, and `start` (failing after it is
/// ready); in the order the errors happened.
#[test]
fn origins_name_each_start_site_in_error_order() {
    run(2, |ex| async move {
        let nursery = NurseryBuilder::new()
            .fail_fast(false)
            .limit(8)
            .build::<String>(&ex);
        let handle = nursery.handle();
        let mut lines = Vec::new();

        lines.push(line!() + 1);
        nursery.start_soon(fails("start_soon"));
        yields(4).await;
        lines.push(line!() + 1);
        handle.start_soon(fails("handle")).unwrap();
        yields(4).await;
        let slot = nursery.reserve().await;
        lines.push(line!() + 1);
        slot.start_soon(fails("slot"));
        yields(4).await;
        lines.push(line!() + 2);
        let (_, _child) = nursery
            .start(|ready| async move {
                ready.started(());
                yields(2).await;
                Err::<(), _>(String::from("start"))
            })
            .await
            .unwrap();
        let err = nursery.join().await.unwrap_err();

        assert_eq!(err.errors(), ["start_soon", "handle", "slot", "start"]);
        assert_eq!(err.origins().len(), err.errors().len());
        let origin_lines: Vec<u32> = err.origins().map(|(_, site)| site.line()).collect();
        assert_eq!(origin_lines, lines);
        for (error, site) in err.origins() {
            assert!(site.file().ends_with("origins.rs"), "{error}: {site}");
        }
    });
}

/// A scope's body failing has the `scope` call as its origin; a nursery without errors has
/// none. (Not under Miri: the deadline needs async-io's reactor.)
#[cfg(not(miri))]
#[test]
fn a_scope_body_error_comes_from_the_scope_call() {
    run(1, |ex| async move {
        let line = line!() + 1;
        let err = scope(&ex, |_n| async { Err::<(), _>("body") })
            .await
            .unwrap_err();
        let origins: Vec<_> = err.origins().map(|(e, site)| (*e, site.line())).collect();
        assert_eq!(origins, [("body", line)]);

        let nursery = Nursery::<()>::new(&ex);
        nursery.cancel_after(std::time::Duration::ZERO);
        nursery.start_soon(crate::common::forever::<Result<(), ()>>());
        if let Err(err) = nursery.join().await {
            assert_eq!(err.origins().count(), 0, "a timeout alone has no origin");
        }
    });
}

/// A failed `start` goes into a function returning `NurseryError<E>` with `?`, keeping the
/// child's error.
#[test]
fn a_failed_start_converts_into_a_nursery_error() {
    async fn serve(nursery: &Nursery<'_, String>) -> Result<u16, NurseryError<String>> {
        let (port, _) = nursery
            .start(|_ready| async { Err::<(), _>(String::from("address in use")) })
            .await?;
        Ok(port)
    }
    run(1, |ex| async move {
        let nursery = Nursery::new(&ex);
        let err = serve(&nursery).await.unwrap_err();
        assert_eq!(err.errors(), ["address in use"]);
        assert_eq!(err.origins().len(), 1);
        nursery.join().await.unwrap();

        let cancelled: NurseryError<String> = StartError::Cancelled.into();
        assert!(cancelled.is_cancelled());
        assert_eq!(
            cancelled.to_string(),
            "task was cancelled before it was ready"
        );
        let exited: NurseryError<String> = StartError::Exited.into();
        assert!(!exited.is_cancelled() && exited.errors().is_empty());
        assert_eq!(
            exited.to_string(),
            "task returned without saying it was ready"
        );
        let closed: NurseryError<String> = StartError::Closed.into();
        assert_eq!(closed.to_string(), "starting a task in a closed nursery");
    });
}

/// A failed `start` of an `io::Error` goes into `Box<dyn Error>` with `?`, its source the
/// child's error; with `String` errors, through `NurseryError`.
#[test]
fn a_failed_start_converts_into_a_boxed_error() {
    async fn serve(nursery: &Nursery<'_, io::Error>) -> Result<u16, Box<dyn Error + Send + Sync>> {
        let (port, _) = nursery
            .start(|_ready| async { Err::<(), _>(io::Error::other("address in use")) })
            .await?;
        Ok(port)
    }
    async fn serve_strings(
        nursery: &Nursery<'_, String>,
    ) -> Result<u16, Box<dyn Error + Send + Sync>> {
        let start = nursery.start(|_ready| async { Err::<(), _>(String::from("in use")) });
        let (port, _) = start.await.map_err(NurseryError::from)?;
        Ok(port)
    }
    run(1, |ex| async move {
        let nursery = Nursery::new(&ex);
        let err = serve(&nursery).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "task failed before it was ready: address in use"
        );
        assert_eq!(err.source().unwrap().to_string(), "address in use");
        nursery.join().await.unwrap();

        let nursery = Nursery::new(&ex);
        let err = serve_strings(&nursery).await.unwrap_err();
        assert_eq!(err.to_string(), "1 task failed: in use");
        nursery.join().await.unwrap();
    });
}
