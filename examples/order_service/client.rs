//! The demos: run the server as a child process, drive it with concurrent clients (and, with
//! `--hostile`, hostile ones beside them), stop it with SIGTERM (or kill it with SIGKILL and
//! start it again), and check the ledger against what the clients saw.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use async_net::TcpStream;
use futures_lite::{future, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};
use rustix::process::Signal;
use smol_nursery::{Nursery, NurseryBuilder};

use crate::ledger;

/// Orders each client offers.
const ORDERS_PER_CLIENT: usize = 1_000;
/// Orders a connection may have sent and not yet seen acknowledged.
const WINDOW: usize = 8;
/// A connection sends at most one order per this interval.
const PACE: Duration = Duration::from_millis(1);
/// Idle connections the hostile load holds open.
const IDLE_CONNECTIONS: usize = 2_000;

/// What the demo was asked to do.
pub struct Options {
    pub ledger: PathBuf,
    pub clients: usize,
    pub crash: bool,
    pub hostile: bool,
    /// Passed on to the server (`--grace-ms` and the like).
    pub server_args: Vec<String>,
}

/// One order: its id and amount.
type Order = (String, String);

/// What the clients observed.
#[derive(Default)]
struct Observed {
    /// Orders written to a socket.
    sent: AtomicUsize,
    /// Ids written to a socket, and when (the last time, if resent).
    sent_at: Mutex<HashMap<String, Instant>>,
    /// Acknowledged orders, with their latency.
    acks: Mutex<HashMap<String, Duration>>,
    /// When the first order was sent and the last acknowledgement arrived.
    span: Mutex<Option<(Instant, Instant)>>,
    /// Replies that were neither `paid` for an order of ours nor expected errors.
    unexpected: AtomicUsize,
}

impl Observed {
    fn acked(&self) -> usize {
        self.acks.lock().unwrap().len()
    }
}

/// How the server ended: its status, its summary and the snapshots it printed.
type Exited = (std::process::ExitStatus, String, Vec<Vec<String>>);

/// The server, running as a child process.
struct Server {
    process: Child,
    address: SocketAddr,
    /// Everything it printed on stdout after its address.
    stdout: JoinHandle<String>,
    /// Its stderr, echoed as it comes, and the snapshots it printed, one per SIGUSR1.
    stderr: JoinHandle<Vec<Vec<String>>>,
}

impl Server {
    fn start(options: &Options) -> Result<Server, Box<dyn Error>> {
        let mut process = Command::new(std::env::current_exe()?)
            .args(["--listen", "127.0.0.1:0", "--ledger"])
            .arg(&options.ledger)
            .args(&options.server_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdout = BufReader::new(process.stdout.take().ok_or("no server stdout")?);
        let stderr = BufReader::new(process.stderr.take().ok_or("no server stderr")?);
        let stderr = std::thread::spawn(move || {
            let mut snapshots = Vec::new();
            let mut snapshot: Option<Vec<String>> = None;
            for line in stderr.lines().map_while(Result::ok) {
                if line == "server: snapshot (SIGUSR1)" {
                    snapshot = Some(Vec::new());
                } else if line == "server: end of snapshot" {
                    snapshots.extend(snapshot.take());
                } else if let Some(lines) = &mut snapshot {
                    lines.push(line);
                } else {
                    println!("{line}");
                }
            }
            snapshots
        });
        let mut first = String::new();
        stdout.read_line(&mut first)?;
        let address: SocketAddr = first
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from the server: {first:?}"))?
            .parse()?;
        let stdout = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            rest
        });
        Ok(Server {
            process,
            address,
            stdout,
            stderr,
        })
    }

    fn signal(&self, signal: Signal) -> io::Result<()> {
        let pid = rustix::process::Pid::from_raw(self.process.id() as i32)
            .ok_or_else(|| io::Error::other("bad pid"))?;
        rustix::process::kill_process(pid, signal)?;
        Ok(())
    }

    /// Waits for the server to exit; returns its status, its summary and its snapshots.
    fn wait(mut self) -> Result<Exited, Box<dyn Error>> {
        let status = self.process.wait()?;
        let summary = self.stdout.join().map_err(|_| "stdout thread panicked")?;
        let snapshots = self.stderr.join().map_err(|_| "stderr thread panicked")?;
        Ok((status, summary, snapshots))
    }
}

/// The orders of every client: `c<client>-<n>`, with a random amount kept for resends.
fn plan(clients: usize) -> Vec<Vec<Order>> {
    (0..clients)
        .map(|client| {
            (0..ORDERS_PER_CLIENT)
                .map(|n| {
                    let amount = format!("{}.{:02}", fastrand::u32(1..500), fastrand::u32(0..100));
                    (format!("c{client}-{n}"), amount)
                })
                .collect()
        })
        .collect()
}

/// Runs the demo the options ask for.
pub fn demo(options: &Options) -> Result<(), Box<dyn Error>> {
    // A fresh ledger each run, so that every order id in it belongs to this run.
    match std::fs::remove_file(&options.ledger) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err.into()),
        _ => {}
    }
    if options.crash {
        crash_demo(options)
    } else {
        shutdown_demo(options)
    }
}

/// The plain demo: a snapshot at 20% of the orders, SIGTERM at 40%, then the checks.
fn shutdown_demo(options: &Options) -> Result<(), Box<dyn Error>> {
    let server = Server::start(options)?;
    let orders = plan(options.clients);
    let total: usize = orders.iter().map(Vec::len).sum();
    let observed = Arc::new(Observed::default());
    let ex = Arc::new(Executor::new());
    let address = server.address;
    let hostile = Arc::new(Hostility::default());
    let sigterm_at: Result<Instant, Box<dyn Error>> = run_with_helper(&ex, async {
        let nursery = Nursery::<io::Error>::new(&ex);
        if options.hostile {
            nursery.start_soon(hostile_load(ex.clone(), address, hostile.clone()));
            // The well-behaved clients start once the hostile load is in full swing.
            while !hostile.in_full_swing() {
                Timer::after(Duration::from_millis(10)).await;
            }
            println!("demo: hostile load in full swing: {IDLE_CONNECTIONS} idle connections open, garbage, overlong lines and duplicates flowing");
        }
        let clients = Nursery::<io::Error>::new(&ex);
        for orders in orders {
            clients.start_soon(client(address, orders, observed.clone()));
        }
        // Two snapshots: the second shows for how long what was running at the first has run.
        for share in [5, 4] {
            while observed.acked() < total / share {
                Timer::after(Duration::from_millis(1)).await;
            }
            server.signal(Signal::USR1)?;
        }
        while observed.acked() < total * 2 / 5 {
            Timer::after(Duration::from_millis(1)).await;
        }
        server.signal(Signal::TERM)?;
        let at = Instant::now();
        clients.join().await?;
        hostile.stop.store(true, Ordering::SeqCst);
        nursery.join().await?;
        Ok(at)
    });
    let sigterm_at = Some(sigterm_at?);
    let (status, summary, snapshots) = server.wait()?;
    let exited = Instant::now();

    let in_ledger = check_ledger(&options.ledger, &observed, None)?;
    let acks = observed.acks.lock().unwrap();
    println!(
        "demo: {} orders sent over {} connections (of {total} planned); SIGTERM after {} acknowledgements",
        observed.sent.load(Ordering::SeqCst),
        options.clients,
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
    print_latency(&observed, &acks, options.clients);
    if let Some(snapshot) = snapshots.last() {
        println!(
            "demo: the server's second snapshot (SIGUSR1 at {} acknowledgements, {} lines), first lines:",
            total / 4,
            snapshot.len()
        );
        for line in snapshot.iter().take(8) {
            println!("  | {line}");
        }
        println!("demo: and the first lines that say for how long:");
        for line in snapshot
            .iter()
            .filter(|l| l.contains("running for"))
            .take(6)
        {
            println!("  | {line}");
        }
    }
    if options.hostile {
        hostile.report();
    }
    print!("{summary}");

    if !status.success() {
        return Err(format!("the server exited with {status}").into());
    }
    if shutdown.is_some_and(|d| d > Duration::from_secs(5)) {
        return Err("the server took more than 5 s to shut down".into());
    }
    if observed.unexpected.load(Ordering::SeqCst) > 0 {
        return Err("the server sent unexpected replies".into());
    }
    if options.hostile {
        hostile.check()?;
    }
    Ok(())
}

/// The crash demo: SIGKILL at 40%, a restart on the same ledger, every order not acknowledged
/// sent again, then the checks.
fn crash_demo(options: &Options) -> Result<(), Box<dyn Error>> {
    let orders = plan(options.clients);
    let total: usize = orders.iter().map(Vec::len).sum();
    let observed = Arc::new(Observed::default());
    let ex = Arc::new(Executor::new());

    // Before the crash.
    let server = Server::start(options)?;
    let address = server.address;
    let killed_after = run_with_helper(&ex, async {
        let clients = Nursery::<io::Error>::new(&ex);
        for orders in orders.clone() {
            let observed = observed.clone();
            clients.start_soon(async move {
                // The connection breaks at the kill: that is expected here.
                let _ = client(address, orders, observed).await;
                Ok(())
            });
        }
        while observed.acked() < total * 2 / 5 {
            Timer::after(Duration::from_millis(1)).await;
        }
        server.signal(Signal::KILL)?;
        let killed_after = observed.acked();
        clients.join().await?;
        Ok::<_, Box<dyn Error>>(killed_after)
    })?;
    let (status, _, _) = server.wait()?;
    let sent_before: HashSet<String> = observed.sent_at.lock().unwrap().keys().cloned().collect();
    let acked_before: HashSet<String> = observed.acks.lock().unwrap().keys().cloned().collect();
    let on_disk_at_crash = ledger_ids(&options.ledger)?;
    println!(
        "crash: server killed ({status}) after {killed_after} acknowledgements; {} orders sent, {} acknowledged, {} lines in the ledger",
        sent_before.len(),
        acked_before.len(),
        on_disk_at_crash.len(),
    );

    // After the restart: every order not acknowledged, resent or sent for the first time.
    let server = Server::start(options)?;
    let address = server.address;
    let remaining: Vec<Vec<Order>> = orders
        .iter()
        .map(|orders| {
            orders
                .iter()
                .filter(|(id, _)| !acked_before.contains(id))
                .cloned()
                .collect()
        })
        .collect();
    let resent: HashSet<&String> = remaining
        .iter()
        .flatten()
        .map(|(id, _)| id)
        .filter(|id| sent_before.contains(*id))
        .collect();
    let paid_unacked = resent
        .iter()
        .filter(|id| on_disk_at_crash.contains(**id))
        .count();
    run_with_helper(&ex, async {
        let clients = Nursery::<io::Error>::new(&ex);
        for orders in remaining.clone() {
            clients.start_soon(client(address, orders, observed.clone()));
        }
        while observed.acked() < total {
            Timer::after(Duration::from_millis(1)).await;
        }
        server.signal(Signal::TERM)?;
        clients.join().await?;
        Ok::<_, Box<dyn Error>>(())
    })?;
    let (status, summary, _) = server.wait()?;

    let all: HashSet<String> = orders.iter().flatten().map(|(id, _)| id.clone()).collect();
    let in_ledger = check_ledger(&options.ledger, &observed, Some(&all))?;
    println!(
        "crash: after the restart, {} resent (sent before the crash, never acknowledged; {paid_unacked} of them \
         were paid before the crash and answered from the ledger), {} sent for the first time",
        resent.len(),
        remaining.iter().map(Vec::len).sum::<usize>() - resent.len(),
    );
    println!(
        "crash: {} of {total} orders acknowledged, {} in the ledger: every order stands exactly once, none lost after an ack, none paid twice",
        observed.acked(),
        in_ledger.len()
    );
    print!("{summary}");
    if !status.success() {
        return Err(format!("the restarted server exited with {status}").into());
    }
    Ok(())
}

/// Runs `body` on `ex` with a second thread running it too.
fn run_with_helper<T>(
    ex: &Arc<Executor<'static>>,
    body: impl std::future::Future<Output = T>,
) -> T {
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let helper = {
        let ex = ex.clone();
        std::thread::spawn(move || future::block_on(ex.run(stopped.recv())))
    };
    let result = future::block_on(ex.run(body));
    drop(stop);
    let _ = helper.join();
    result
}

/// The ids in the ledger, each once; fails on a repeated id, a torn line or a record whose
/// checksum does not match.
fn ledger_ids(path: &Path) -> Result<HashSet<String>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut ids = HashSet::new();
    for line in text.split_inclusive('\n') {
        let fields: Vec<&str> = line.trim_end().split(' ').collect();
        let well_formed = matches!(fields[..], [id, amount, _] if ledger::record(id, amount) == line
            && amount.parse::<f64>().is_ok_and(|a| a > 0.0));
        if !well_formed {
            return Err(format!("torn or malformed ledger line: {line:?}").into());
        }
        if !ids.insert(fields[0].to_owned()) {
            return Err(format!("order {} stands twice in the ledger", fields[0]).into());
        }
    }
    Ok(ids)
}

/// Checks that every acknowledged order (and, if given, every one of `all`) stands exactly
/// once in the ledger, and that it holds nothing else but hostile duplicates.
fn check_ledger(
    path: &Path,
    observed: &Observed,
    all: Option<&HashSet<String>>,
) -> Result<HashSet<String>, Box<dyn Error>> {
    let ids = ledger_ids(path)?;
    for id in observed.acks.lock().unwrap().keys() {
        if !ids.contains(id) {
            return Err(format!("acknowledged order {id} is missing from the ledger").into());
        }
    }
    if let Some(all) = all {
        if let Some(missing) = all.iter().find(|id| !ids.contains(*id)) {
            return Err(format!("order {missing} is missing from the ledger").into());
        }
    }
    if let Some(stranger) = ids
        .iter()
        .find(|id| !id.starts_with('c') && !id.starts_with("dup-"))
    {
        return Err(format!("the ledger holds an order nobody sent: {stranger}").into());
    }
    Ok(ids)
}

fn print_latency(observed: &Observed, acks: &HashMap<String, Duration>, clients: usize) {
    let mut latencies: Vec<Duration> = acks.values().copied().collect();
    latencies.sort();
    let percentile = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let elapsed = observed.span.lock().unwrap().map_or(0.0, |(first, last)| {
        last.duration_since(first).as_secs_f64()
    });
    println!(
        "demo: throughput {:.0} orders/s (offered: {} per second); latency p50 {:.1} ms, p99 {:.1} ms",
        acks.len() as f64 / elapsed.max(1e-9),
        clients as u128 * 1000 / PACE.as_millis().max(1),
        percentile(50),
        percentile(99),
    );
}

/// One client connection: sends `orders` with at most `WINDOW` unacknowledged, and reads the
/// acknowledgements until all came or the server closed the connection.
async fn client(
    address: SocketAddr,
    orders: Vec<Order>,
    observed: Arc<Observed>,
) -> io::Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let stream = TcpStream::connect(address).await?;
    let (tokens, window) = async_channel::bounded::<()>(WINDOW);
    for _ in 0..WINDOW {
        let _ = tokens.try_send(());
    }
    let expected: HashSet<String> = orders.iter().map(|(id, _)| id.clone()).collect();

    let mut writer = stream.clone();
    let counts = observed.clone();
    let sender = async move {
        for (id, amount) in orders {
            // Wait for room in the window; the window closes when the server is gone.
            if window.recv().await.is_err() {
                break;
            }
            Timer::after(PACE).await;
            let line = format!("{id} {amount}\n");
            let now = Instant::now();
            counts.sent_at.lock().unwrap().insert(id, now);
            counts.span.lock().unwrap().get_or_insert((now, now));
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            counts.sent.fetch_add(1, Ordering::SeqCst);
        }
    };
    let receiver = async {
        let mut left = expected.len();
        let mut lines = futures_lite::io::BufReader::new(stream).lines();
        while let Some(Ok(line)) = lines.next().await {
            let Some(id) = line
                .strip_prefix("paid ")
                .filter(|id| expected.contains(*id))
            else {
                eprintln!("demo: unexpected reply {line:?}");
                observed.unexpected.fetch_add(1, Ordering::SeqCst);
                continue;
            };
            let now = Instant::now();
            let sent = observed.sent_at.lock().unwrap().get(id).copied();
            println!("ack {id}");
            observed
                .acks
                .lock()
                .unwrap()
                .insert(id.to_owned(), sent.map_or(Duration::ZERO, |at| now - at));
            if let Some((_, last)) = observed.span.lock().unwrap().as_mut() {
                *last = now;
            }
            let _ = tokens.try_send(());
            left -= 1;
            if left == 0 {
                break;
            }
        }
        // The server is gone (or everything is acknowledged): the sender stops waiting.
        tokens.close();
    };
    future::zip(sender, receiver).await;
    Ok(())
}

/// What the hostile clients did and saw.
#[derive(Default)]
struct Hostility {
    /// Set when the demo is over.
    stop: AtomicBool,
    /// Idle connections opened (and reopened after the server closed them).
    idle_opened: AtomicUsize,
    /// Idle connections the server closed with `error idle`.
    idle_closed: AtomicUsize,
    /// Bad lines sent, and `error` replies received for them.
    bad_sent: AtomicUsize,
    bad_refused: AtomicUsize,
    /// Overlong lines sent, and `error line too long` replies.
    overlong_sent: AtomicUsize,
    overlong_refused: AtomicUsize,
    /// Duplicate orders sent, and `paid` replies received for them.
    duplicates_sent: AtomicUsize,
    duplicates_paid: AtomicUsize,
}

impl Hostility {
    fn in_full_swing(&self) -> bool {
        let n = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        n(&self.idle_opened) >= IDLE_CONNECTIONS
            && n(&self.bad_refused) > 0
            && n(&self.overlong_refused) > 0
            && n(&self.duplicates_paid) > 0
    }

    fn report(&self) {
        let n = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        println!(
            "hostile: {} idle connections opened, {} closed idle by the server; {} bad lines, {} refused; \
             {} overlong lines, {} refused; {} duplicate orders, {} answered paid",
            n(&self.idle_opened),
            n(&self.idle_closed),
            n(&self.bad_sent),
            n(&self.bad_refused),
            n(&self.overlong_sent),
            n(&self.overlong_refused),
            n(&self.duplicates_sent),
            n(&self.duplicates_paid),
        );
    }

    fn check(&self) -> Result<(), Box<dyn Error>> {
        let n = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        if n(&self.bad_refused) < n(&self.bad_sent) / 2 || n(&self.bad_sent) == 0 {
            return Err("the bad lines were not refused".into());
        }
        if n(&self.overlong_refused) == 0 {
            return Err("no overlong line was refused".into());
        }
        Ok(())
    }
}

/// Lines the server must refuse, each with an `error` reply.
const BAD_LINES: &[&[u8]] = &[
    b"x1 abc\n",
    b"x2 -5\n",
    b"x3 1e309\n",
    b"x4 12.345\n",
    b"x5 0\n",
    b"x6 inf\n",
    b"x7 NaN\n",
    b"x8 1000000.01\n",
    b"x9 99999999999999999999999\n",
    b"bad/id 10\n",
    b"an-id-that-is-much-too-long-for-the-server-to-accept-as-an-order-id-at-all 10\n",
    b"onlyonefield\n",
    b"x10 1 extra\n",
    b"\xff\xfe 10\n",
    b"\n",
];

/// Hostile clients beside the well-behaved ones, until `hostility.stop`: idle connections,
/// garbage, overlong lines, and repeated order ids.
async fn hostile_load(
    ex: Arc<Executor<'static>>,
    address: SocketAddr,
    hostility: Arc<Hostility>,
) -> io::Result<()> {
    let nursery = NurseryBuilder::new()
        .fail_fast(false)
        .build::<io::Error>(&ex);
    for _ in 0..IDLE_CONNECTIONS {
        let hostility = hostility.clone();
        nursery.start_soon(async move {
            // Holds a silent connection; reopens it when the server closes it.
            while !hostility.stop.load(Ordering::SeqCst) {
                let Ok(mut stream) = TcpStream::connect(address).await else {
                    Timer::after(Duration::from_millis(100)).await;
                    continue;
                };
                hostility.idle_opened.fetch_add(1, Ordering::SeqCst);
                let mut reply = String::new();
                let closed = future::or(
                    async {
                        let _ = stream.read_to_string(&mut reply).await;
                        true
                    },
                    async {
                        while !hostility.stop.load(Ordering::SeqCst) {
                            Timer::after(Duration::from_millis(50)).await;
                        }
                        false
                    },
                )
                .await;
                if closed && reply.starts_with("error idle") {
                    hostility.idle_closed.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok(())
        });
    }
    nursery.start_soon(repeat(hostility.clone(), Duration::from_millis(20), {
        let hostility = hostility.clone();
        move || garbage(address, hostility.clone())
    }));
    nursery.start_soon(repeat(hostility.clone(), Duration::from_millis(200), {
        let hostility = hostility.clone();
        move || overlong(address, hostility.clone())
    }));
    let rounds = Arc::new(AtomicUsize::new(0));
    nursery.start_soon(repeat(hostility.clone(), Duration::from_millis(50), {
        let hostility = hostility.clone();
        move || {
            duplicates(
                address,
                hostility.clone(),
                rounds.fetch_add(1, Ordering::SeqCst),
            )
        }
    }));
    nursery
        .join()
        .await
        .map_err(|err| io::Error::other(err.to_string()))
}

/// Runs `round` again and again, `pause` apart, until the demo is over. A round that fails
/// (the server is shutting down and refuses connections) is not the demo's failure.
async fn repeat<F: std::future::Future<Output = io::Result<()>>>(
    hostility: Arc<Hostility>,
    pause: Duration,
    mut round: impl FnMut() -> F,
) -> io::Result<()> {
    while !hostility.stop.load(Ordering::SeqCst) {
        let _ = round().await;
        Timer::after(pause).await;
    }
    Ok(())
}

/// Sends every bad line on one connection and counts the `error` replies.
async fn garbage(address: SocketAddr, hostility: Arc<Hostility>) -> io::Result<()> {
    let mut stream = TcpStream::connect(address).await?;
    for line in BAD_LINES {
        stream.write_all(line).await?;
    }
    hostility
        .bad_sent
        .fetch_add(BAD_LINES.len(), Ordering::SeqCst);
    let mut lines = futures_lite::io::BufReader::new(stream).lines();
    for _ in 0..BAD_LINES.len() {
        match lines.next().await {
            Some(Ok(line)) if line.starts_with("error ") => {
                hostility.bad_refused.fetch_add(1, Ordering::SeqCst);
            }
            _ => break,
        }
    }
    Ok(())
}

/// Sends 10 MB without a newline and expects `error line too long`.
async fn overlong(address: SocketAddr, hostility: Arc<Hostility>) -> io::Result<()> {
    let chunk = vec![b'9'; 64 * 1024];
    let mut stream = TcpStream::connect(address).await?;
    hostility.overlong_sent.fetch_add(1, Ordering::SeqCst);
    let mut reader = stream.clone();
    let write = async {
        // The server stops reading long before the end.
        for _ in 0..160 {
            if stream.write_all(&chunk).await.is_err() {
                break;
            }
        }
    };
    let read = async {
        let mut reply = String::new();
        let _ = reader.read_to_string(&mut reply).await;
        reply
    };
    let ((), reply) = future::zip(write, read).await;
    if reply.starts_with("error line too long") {
        hostility.overlong_refused.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}

/// The same order id three times in a row on one connection, and another on three
/// connections at once: each is answered `paid`, and the ledger holds each id once.
async fn duplicates(
    address: SocketAddr,
    hostility: Arc<Hostility>,
    round: usize,
) -> io::Result<()> {
    let id = format!("dup-{round}");
    let mut stream = TcpStream::connect(address).await?;
    let line = format!("{id} 10.00\n{id} 10.00\n{id} 10.00\n");
    stream.write_all(line.as_bytes()).await?;
    hostility.duplicates_sent.fetch_add(3, Ordering::SeqCst);
    let mut lines = futures_lite::io::BufReader::new(stream).lines();
    for _ in 0..3 {
        if let Some(Ok(reply)) = lines.next().await {
            if reply == format!("paid {id}") {
                hostility.duplicates_paid.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let id = format!("dup-{round}-concurrent");
    let answer = || async {
        let mut stream = TcpStream::connect(address).await?;
        stream.write_all(format!("{id} 10.00\n").as_bytes()).await?;
        hostility.duplicates_sent.fetch_add(1, Ordering::SeqCst);
        let mut reply = String::new();
        futures_lite::io::BufReader::new(stream)
            .read_line(&mut reply)
            .await?;
        if reply.trim_end() == format!("paid {id}") {
            hostility.duplicates_paid.fetch_add(1, Ordering::SeqCst);
        }
        io::Result::Ok(())
    };
    let _ = future::zip(future::zip(answer(), answer()), answer()).await;
    Ok(())
}
