//! Children in `tracing`: a request's span is the parent of every child it starts, on any
//! executor thread, and each child's span records how the child ended.
//!
//! With the cargo feature `tracing`, every child is polled inside a span of its own (target
//! `smol_nursery`, level `INFO`, name `child`; a scope's body: `scope`) whose parent is the span
//! that was current where the child was started. Its fields: `site` (where it was started),
//! `shielded`, and `outcome`, recorded when it ends: `ok`, `failed`, `panicked` or
//! `cancelled`.
//!
//! One request (`request{id=42}`) builds a page from parts fetched as children of a
//! `NurserySet`, on an executor running on two threads (`executor-1`, `executor-2`):
//!
//! - `user` and `cart` succeed; `cart` prices its items in a nested `scope`, so its span has a
//!   `scope` span and two more `child` spans below it;
//! - `recommendations` fails: its `Err` is a result, the page is served without it, and its
//!   span's outcome is `failed`;
//! - `ads` is slow: once the page has what it needs, the request cancels the set, and the ads'
//!   span's outcome is `cancelled`;
//! - `audit` is shielded (`shielded=true`): the cancellation does not stop it, and `join`
//!   hands back its result.
//!
//! The subscriber is tracing-subscriber's `fmt`, with thread names and a close event for every
//! span: each line shows the span path it was logged in (`request{id=42}:child{..}:`), so the
//! tree can be read off the output, and the close events show each child's `outcome`.
//!
//! Run it with `cargo run --example tracing --features tracing`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{scope, shield, ExecutorRef, NurserySet};
use tracing::{info, info_span, warn, Instrument};
use tracing_subscriber::fmt::format::FmtSpan;

/// A part of the page, as a child returns it.
#[derive(Debug, PartialEq)]
enum Part {
    /// The user's name.
    User(&'static str),
    /// The cart's total, in cents.
    Cart(u32),
    /// An advertisement.
    Ads(&'static str),
    /// The audit record was written.
    Audit,
}

/// The executor threads each child ran on, to show that they were two.
type Threads = Mutex<BTreeSet<String>>;

/// Notes the thread the calling child runs on.
fn note_thread(threads: &Threads) {
    let name = thread::current().name().unwrap_or("unnamed").to_owned();
    threads.lock().unwrap().insert(name);
}

/// Loads the user.
async fn user(threads: &Threads) -> Result<Part, String> {
    note_thread(threads);
    Timer::after(Duration::from_millis(10)).await;
    note_thread(threads);
    info!(name = "ada", "user loaded");
    Ok(Part::User("ada"))
}

/// Prices one item, in cents.
async fn price(item: &'static str, cents: u32, threads: &Threads) -> Result<u32, String> {
    Timer::after(Duration::from_millis(u64::from(cents % 17))).await;
    note_thread(threads);
    info!(item, cents, "priced");
    Ok(cents)
}

/// Loads the cart and prices its items in a nested scope: their spans are children of the
/// scope's body, whose span is a child of the cart's.
async fn cart<'ex>(ex: ExecutorRef<'ex>, threads: &'ex Threads) -> Result<Part, String> {
    note_thread(threads);
    info!(items = 2, "cart loaded, pricing");
    let total = scope(ex, |n| async move {
        let apples = n.start_soon(price("apples", 320, threads)).expect("open");
        let coffee = n.start_soon(price("coffee", 899, threads)).expect("open");
        let total =
            apples.await.map_err(|e| e.to_string())? + coffee.await.map_err(|e| e.to_string())?;
        Ok(total)
    })
    .await
    .map_err(|e| e.to_string())?;
    Ok(Part::Cart(total))
}

/// Asks the recommender, which is down: it never returns a part.
async fn recommendations(threads: &Threads) -> Result<Part, String> {
    note_thread(threads);
    info!("asking the recommender");
    Timer::after(Duration::from_millis(15)).await;
    note_thread(threads);
    Err(String::from("recommender: 503 Service Unavailable"))
}

/// Fetches an advertisement, slowly: the request does not wait for it.
async fn ads(threads: &Threads) -> Result<Part, String> {
    note_thread(threads);
    info!("fetching an ad");
    Timer::after(Duration::from_secs(10)).await;
    Ok(Part::Ads("never shown"))
}

/// Writes the audit record: shielded, it finishes even when the request cancels the rest.
async fn audit(threads: &Threads) -> Result<Part, String> {
    Timer::after(Duration::from_millis(40)).await;
    note_thread(threads);
    info!("audit record written");
    Ok(Part::Audit)
}

/// Handles one request: fetches the page's parts as children of a set, builds the page from
/// those that came, and cancels what is no longer needed. Runs inside the request's span.
async fn handle<'ex>(ex: &Arc<Executor<'ex>>, threads: &'ex Threads) -> Vec<Part> {
    info!("request received");
    // Started inside the request's span (this future is instrumented with it): every
    // child's span is a child of the request's, whatever thread polls it.
    let mut set = NurserySet::new(ex);
    set.start_soon(user(threads));
    set.start_soon(cart(ExecutorRef::from(ex), threads));
    set.start_soon(recommendations(threads));
    set.start_soon(ads(threads));
    set.start_soon(shield(audit(threads)));

    // The page needs the user, the cart and the recommendations (or their error).
    let mut page = Vec::new();
    for _ in 0..3 {
        match set.next().await.expect("three parts come") {
            Ok(part) => {
                info!(?part, "part ready");
                page.push(part);
            }
            Err(error) => warn!(%error, "part missing, the page is served without it"),
        }
    }
    // The ads are too late: cancel them. The shielded audit goes on.
    set.cancel();
    let rest = set.join().await.expect("no unread error");
    info!(?rest, "request done");
    page.extend(rest);
    page
}

fn main() {
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_thread_names(true)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .init();

    // Declared before the executor: the children borrow it.
    let threads = Threads::default();
    let ex = Arc::new(Executor::new());
    let (stop, stopped) = async_channel::unbounded::<()>();

    // Two executor threads run the children; the request is driven from the main thread.
    thread::scope(|s| {
        for name in ["executor-1", "executor-2"] {
            let (ex, stopped) = (&ex, stopped.clone());
            thread::Builder::new()
                .name(name.to_owned())
                .spawn_scoped(s, move || future::block_on(ex.run(stopped.recv())))
                .expect("spawn an executor thread");
        }

        let request = info_span!("request", id = 42);
        let page = future::block_on(handle(&ex, &threads).instrument(request));
        drop(stop);

        // The user, the cart and the audit; no recommendations (failed), no ads (cancelled).
        assert_eq!(page.len(), 3);
        for part in [Part::User("ada"), Part::Cart(1219), Part::Audit] {
            assert!(page.contains(&part), "{part:?} is on the page");
        }
        let threads = threads.lock().unwrap();
        let threads: Vec<&str> = threads.iter().map(String::as_str).collect();
        println!("children ran on: {}", threads.join(", "));
        assert!(threads.iter().all(|name| name.starts_with("executor-")));
    });
}
