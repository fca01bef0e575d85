//! Children start children: a crawler over an in-memory site.
//!
//! Each page is visited by one child, which starts a sibling for every link it has not seen
//! yet, through a `NurseryHandle`. `join` waits for all of them, however many were started.
//!
//! Run it with `cargo run --example siblings`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use futures_lite::future;
use smol_nursery::{Nursery, NurseryHandle};

/// The site: each page and the pages it links to.
type Site = BTreeMap<&'static str, Vec<&'static str>>;

/// Visits `page` in a new child, which starts a sibling for each new link.
fn visit<'ex>(
    nursery: &NurseryHandle<'ex, String>,
    site: &'ex Site,
    seen: &'ex Mutex<HashSet<&'static str>>,
    page: &'static str,
    depth: usize,
) {
    if !seen.lock().unwrap().insert(page) {
        return;
    }
    let siblings = nursery.clone();
    let started = nursery.start_soon(async move {
        Timer::after(Duration::from_millis(5)).await;
        let links = site
            .get(page)
            .ok_or_else(|| format!("broken link to {page}"))?;
        println!(
            "{:indent$}{page} (links: {})",
            "",
            links.len(),
            indent = depth * 2
        );
        for link in links {
            visit(&siblings, site, seen, link, depth + 1);
        }
        Ok(())
    });
    // The nursery stays open while a child runs, so this cannot fail here.
    started.expect("the nursery is open");
}

fn main() {
    let site: Site = BTreeMap::from([
        ("/", vec!["/docs", "/blog", "/about"]),
        ("/docs", vec!["/docs/nursery", "/docs/shield", "/"]),
        ("/docs/nursery", vec!["/docs/shield"]),
        ("/docs/shield", vec!["/docs/nursery", "/blog/why"]),
        ("/blog", vec!["/blog/why", "/blog/release"]),
        ("/blog/why", vec!["/docs"]),
        ("/blog/release", vec![]),
        ("/about", vec![]),
    ]);
    let seen = Mutex::new(HashSet::new());
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        let nursery = Nursery::new(&ex);
        visit(&nursery.handle(), &site, &seen, "/", 0);
        match nursery.join().await {
            Ok(()) => println!("crawled {} pages", seen.lock().unwrap().len()),
            Err(err) => println!("crawl failed: {err}"),
        }
    }));
}
