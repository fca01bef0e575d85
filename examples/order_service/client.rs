//! The demo: runs the server as a child process, drives it with concurrent clients, stops it
//! with SIGTERM partway, and checks the ledger against the acknowledgements.

use std::collections::HashMap;
use std::error::Error;
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use async_net::TcpStream;
use futures_lite::{future, AsyncBufReadExt, AsyncWriteExt, StreamExt};
use smol_nursery::Nursery;

/// Concurrent client connections.
const CONNECTIONS: usize = 8;
/// Orders each connection sends, unless the server stops first.
const ORDERS_PER_CONNECTION: usize = 1_000;
/// Orders a connection may have sent and not yet seen acknowledged.
const WINDOW: usize = 8;
/// A connection sends at most one order per this interval: the offered load is 8 000 orders/s,
/// slow enough that notifications (5 to 200 ms, 150 ms budget) finish, fail and time out
/// before the shutdown.
const PACE: Duration = Duration::from_millis(1);

/// What the clients observed.
#[derive(Default)]
struct Observed {
    /// Orders written to a socket.
    sent: AtomicUsize,
    /// Acknowledged orders, with their latency.
    acks: Mutex<Vec<(String, Duration)>>,
    /// When the first order was sent and the last acknowledgement arrived.
    span: Mutex<Option<(Instant, Instant)>>,
}

/// Runs the whole demo; fails if the server misbehaved or the ledger disagrees with the acks.
pub fn demo(ledger_path: &Path) -> Result<(), Box<dyn Error>> {
    // A fresh ledger each run, so that every order id in it belongs to this run.
    match std::fs::remove_file(ledger_path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err.into()),
        _ => {}
    }
    let mut server = Command::new(std::env::current_exe()?)
        .args(["--listen", "127.0.0.1:0", "--ledger"])
        .arg(ledger_path)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut server_out = BufReader::new(server.stdout.take().ok_or("no server stdout")?);
    let mut first = String::new();
    server_out.read_line(&mut first)?;
    let address: SocketAddr = first
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line from the server: {first:?}"))?
        .parse()?;
    let rest_of_output = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = server_out.read_to_string(&mut rest);
        rest
    });

    let total = CONNECTIONS * ORDERS_PER_CONNECTION;
    let observed = Arc::new(Observed::default());
    let ex = Arc::new(Executor::new());
    let pid = server.id();
    let mut sigterm_at = None;
    let driven = future::block_on(ex.run(async {
        let nursery = Nursery::<io::Error>::new(&ex);
        for connection in 0..CONNECTIONS {
            nursery.start_soon(client(ex.clone(), address, connection, observed.clone()));
        }
        // Stop the server partway: once about 40% of the orders are acknowledged.
        let watched = observed.clone();
        let stopper = nursery.start_soon(async move {
            while watched.acks.lock().unwrap().len() < total * 2 / 5 {
                Timer::after(Duration::from_millis(1)).await;
            }
            let pid = rustix::process::Pid::from_raw(pid as i32)
                .ok_or_else(|| io::Error::other("bad pid"))?;
            rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
            Ok::<_, io::Error>(Instant::now())
        });
        let joined = nursery.join().await;
        (joined, stopper.await)
    }));
    let (joined, stopped) = driven;
    joined?;
    if let Ok(at) = stopped {
        sigterm_at = Some(at);
    }
    let status = server.wait()?;
    let exited = Instant::now();
    let server_summary = rest_of_output
        .join()
        .map_err(|_| "server output thread panicked")?;

    // Check the ledger against the acknowledgements.
    let ledger = std::fs::read_to_string(ledger_path)?;
    let mut in_ledger: HashMap<&str, usize> = HashMap::new();
    for line in ledger.split_inclusive('\n') {
        let well_formed = line.ends_with('\n')
            && matches!(line.trim_end().split(' ').collect::<Vec<_>>()[..], [id, amount]
                if id.starts_with('c') && amount.parse::<f64>().is_ok());
        if !well_formed {
            return Err(format!("torn or malformed ledger line: {line:?}").into());
        }
        *in_ledger
            .entry(line.split(' ').next().unwrap_or_default())
            .or_default() += 1;
    }
    let acks = observed.acks.lock().unwrap();
    for (id, _) in acks.iter() {
        match in_ledger.get(id.as_str()) {
            Some(1) => {}
            Some(n) => return Err(format!("order {id} stands {n} times in the ledger").into()),
            None => {
                return Err(format!("acknowledged order {id} is missing from the ledger").into())
            }
        }
    }
    if let Some((order, n)) = in_ledger.iter().find(|(_, n)| **n > 1) {
        return Err(format!("order {order} stands {n} times in the ledger").into());
    }

    let mut latencies: Vec<Duration> = acks.iter().map(|(_, latency)| *latency).collect();
    latencies.sort();
    let percentile = |p: usize| {
        latencies.get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
    };
    let (first_sent, last_ack) = observed
        .span
        .lock()
        .unwrap()
        .ok_or("no order was acknowledged")?;
    let elapsed = last_ack.duration_since(first_sent).as_secs_f64();
    println!(
        "demo: {} orders sent over {CONNECTIONS} connections (of {total} planned); SIGTERM after {} acknowledgements",
        observed.sent.load(Ordering::SeqCst),
        total * 2 / 5
    );
    println!(
        "demo: {} acknowledged, {} in the ledger; every acknowledged order stands exactly once, no line is torn",
        acks.len(),
        in_ledger.len()
    );
    let shutdown = sigterm_at.map(|at| exited.duration_since(at));
    println!(
        "demo: server exited with {status}, {} ms after SIGTERM",
        shutdown.map_or(0, |d| d.as_millis())
    );
    println!(
        "demo: throughput {:.0} orders/s (offered: {} per second); latency p50 {:.1} ms, p99 {:.1} ms",
        acks.len() as f64 / elapsed,
        CONNECTIONS as u128 * 1000 / PACE.as_millis().max(1),
        percentile(50).map_or(0.0, |d| d.as_secs_f64() * 1e3),
        percentile(99).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    print!("{server_summary}");

    if !status.success() {
        return Err(format!("the server exited with {status}").into());
    }
    if shutdown.is_some_and(|d| d > Duration::from_secs(2)) {
        return Err("the server took more than 2 s to shut down".into());
    }
    Ok(())
}

/// One client connection: sends orders with at most `WINDOW` unacknowledged, and reads the
/// acknowledgements until the server closes the connection.
async fn client(
    ex: Arc<Executor<'static>>,
    address: SocketAddr,
    connection: usize,
    observed: Arc<Observed>,
) -> io::Result<()> {
    let stream = TcpStream::connect(address).await?;
    let sent_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let (tokens, window) = async_channel::bounded::<()>(WINDOW);
    for _ in 0..WINDOW {
        let _ = tokens.try_send(());
    }

    let nursery = Nursery::<io::Error>::new(&ex);
    let mut writer = stream.clone();
    let sent = sent_at.clone();
    let counts = observed.clone();
    nursery.start_soon(async move {
        for n in 0..ORDERS_PER_CONNECTION {
            // Wait for room in the window; the window closes when the server is gone.
            if window.recv().await.is_err() {
                break;
            }
            Timer::after(PACE).await;
            let amount = format!("{}.{:02}", fastrand::u32(1..500), fastrand::u32(0..100));
            let line = format!("c{connection}-{n} {amount}\n");
            let now = Instant::now();
            sent.lock().unwrap().push(now);
            counts.span.lock().unwrap().get_or_insert((now, now));
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            counts.sent.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    });

    let mut lines = futures_lite::io::BufReader::new(stream).lines();
    while let Some(line) = lines.next().await {
        let Ok(line) = line else { break };
        let Some(id) = line.strip_prefix("paid ") else {
            eprintln!("demo: unexpected reply {line:?}");
            continue;
        };
        let n: usize = id
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let now = Instant::now();
        let latency = sent_at
            .lock()
            .unwrap()
            .get(n)
            .map_or(Duration::ZERO, |at| now - *at);
        println!("ack {id}");
        observed.acks.lock().unwrap().push((id.to_owned(), latency));
        if let Some((_, last)) = observed.span.lock().unwrap().as_mut() {
            *last = now;
        }
        let _ = tokens.try_send(());
    }
    // The server is gone: close the window so that the sender stops waiting for room.
    tokens.close();
    nursery
        .join()
        .await
        .map_err(|err| io::Error::other(err.to_string()))
}
