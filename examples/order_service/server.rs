//! The server: which nursery runs what, and which part-two feature does which job.
//!
//! ```text
//! server nursery ─┬─ listener (started with `start`: hands back its bound address)
//! │               │    reserve a place under the limit, then accept, then start:
//! │               └─ signals              SIGTERM/SIGINT: shut down; SIGUSR1: print a snapshot
//! connections nursery, limit(--max-connections), fail_fast(false)
//!                 └─ connection: shield(...).grace(--grace-ms), a `scope` whose body reads
//!                      ├─ reply writer (shielded)
//!                      └─ order (one per valid line): a `scope`, deadline 150 ms
//!                           ├─ payment (shielded): exactly once, `fsync`ed, then `paid <id>`
//!                           ├─ email
//!                           └─ SMS
//! ```
//!
//! - **`start`**: the listener binds inside its child and hands the address back to `serve`,
//!   which prints it only once the socket exists.
//! - **`limit` + `reserve`**: the listener takes a place in the connections nursery *before*
//!   it accepts, so that beyond `--max-connections` a flood waits in the kernel's backlog,
//!   not in this process's memory.
//! - **`fail_fast(false)`**: a connection that fails (a reset socket) cancels nobody else.
//! - **`cancelled()`**: at SIGTERM the signal child cancels both nurseries. Each connection
//!   body races its next read against `connections.cancelled()`, stops reading, and cancels
//!   its own orders' notifications; it needs no hand-written shutdown event.
//! - **`shield(...).grace(...)`**: a connection finishes the orders it already read (their
//!   payments and replies) within its grace; past it, it is cut.
//! - **`scope`**: a connection is a body (the read loop) that must stop with its orders, and
//!   an order is a body that starts its three children under one deadline.
//! - **Adoption**: a cancelled order drops its nursery while its payment still runs; the
//!   payment, shielded, is adopted by the connection's nursery (or, if the connection was cut
//!   after its grace, by the connections nursery), whose `join` waits for it. So an order
//!   needs no shield of its own (the old server shielded whole connections from the accept
//!   loop's cancellation; now they live in a nursery of their own). Still needed: the
//!   payment's shield (a failed notification cancels its order's nursery), the writer's
//!   (it must send the replies of payments that finish after the connection cancelled its
//!   orders) and the connection's (for its grace).
//! - **Snapshots**: SIGUSR1 prints both nurseries' trees to stderr: every connection and
//!   order in flight, where it was started, for how long.
//! - **Idle deadline**: a connection that sends nothing for `--idle-ms` is answered
//!   `error idle ...` and closed (a slowloris holds a place for that long at most).
//! - **Accept errors**: the listener is a child of the server nursery, which fails fast, so
//!   an error it returns ends the server. It returns only the errors that say the listener
//!   itself is gone (`EBADF`, `ENOTSOCK`, `EINVAL`, `EOPNOTSUPP`, `EFAULT`); the others
//!   (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, `ECONNABORTED`, ...) mean "not now": it keeps
//!   its reserved place, waits 100 ms and accepts again, logging once when such an episode
//!   starts and once, with its count, when it ends. The connections already open are served
//!   all along.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use async_net::{TcpListener, TcpStream};
use async_signal::{Signal, Signals};
use futures_lite::{future, AsyncWriteExt, StreamExt};
use smol_nursery::{
    scope, shield, Cancelled, Nursery, NurseryBuilder, NurseryClosed, NurseryHandle, Ready,
    StartError,
};

use crate::ledger::{self, Claim, Ledger, Paid};
use crate::protocol::{self, Read};

/// How long an order's notifications may take.
const NOTIFY_BUDGET: Duration = Duration::from_millis(150);

/// How long the listener waits after an accept error that means "not now" (trio's
/// `serve_listeners` waits as long).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The server's settings, from the command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: String,
    /// The ledger file.
    pub ledger: std::path::PathBuf,
    /// How long a connection may go on after SIGTERM to finish the orders it read.
    pub grace: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// A connection silent for this long is closed.
    pub idle: Duration,
    /// How the ledger is opened: repair, fault injection.
    pub ledger_options: ledger::Options,
}

/// What the server counts, printed when it exits.
#[derive(Default)]
pub struct Stats {
    pub paid: AtomicUsize,
    pub paid_before: AtomicUsize,
    pub conflicts: AtomicUsize,
    pub payment_failures: AtomicUsize,
    pub refused: AtomicUsize,
    pub idle_closed: AtomicUsize,
    pub too_long_closed: AtomicUsize,
    pub connections: AtomicUsize,
    pub accept_errors: AtomicUsize,
    pub notifications_sent: AtomicUsize,
    pub notifications_failed: AtomicUsize,
    pub notifications_timed_out: AtomicUsize,
    pub notifications_cancelled: AtomicUsize,
}

/// Why an order's nursery failed.
#[derive(Debug)]
enum OrderError {
    /// The ledger could not be written: the payment failed.
    Ledger(io::Error),
    /// The id was paid before with another amount: the order is refused.
    Conflict,
    /// A notification could not be delivered (which one).
    Notification(&'static str),
}

/// What every task of the server shares.
#[derive(Clone)]
struct Service {
    ex: Arc<Executor<'static>>,
    ledger: Ledger,
    stats: Arc<Stats>,
    config: Arc<Config>,
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub fn run(config: Config) -> io::Result<()> {
    // Signals are caught before the address is printed: a client that reads the address may
    // send SIGTERM at once. Windows has no SIGTERM to catch, only Ctrl-C (SIGINT).
    #[cfg(unix)]
    let signals = Signals::new([Signal::Term, Signal::Int, Signal::Usr1])?;
    #[cfg(not(unix))]
    let signals = Signals::new([Signal::Int])?;
    let (ledger, ledger_thread, recovered) = Ledger::open(&config.ledger, &config.ledger_options)?;
    if recovered.torn_bytes > 0 {
        eprintln!(
            "server: the ledger ended with a torn record ({} bytes, no newline): cut off",
            recovered.torn_bytes
        );
    }
    if let Some((lines, side)) = &recovered.repaired {
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        eprintln!(
            "server: repair: {} damaged line(s) of the ledger (line {}) moved to {}",
            lines.len(),
            lines.join(", "),
            side.display()
        );
    }
    eprintln!("server: {} orders already in the ledger", recovered.orders);
    let service = Service {
        ex: Arc::new(Executor::new()),
        ledger,
        stats: Arc::default(),
        config: Arc::new(config),
    };

    let (stop, stopped) = async_channel::bounded::<()>(1);
    let helper = {
        let ex = service.ex.clone();
        std::thread::spawn(move || future::block_on(ex.run(stopped.recv())))
    };
    let outcome = future::block_on(service.ex.run(serve(service.clone(), signals)));
    drop(stop);
    let _ = helper.join();
    let stats = service.stats.clone();
    drop(service);
    let _ = ledger_thread.join();

    let count = |n: &AtomicUsize| n.load(Ordering::SeqCst);
    println!(
        "server: {} orders paid ({} more answered from the ledger), {} conflicts, {} payments failed, \
         {} lines refused; connections: {} served, {} closed idle, {} closed for an overlong line, \
         {} accept errors backed off; notifications: {} sent, {} failed, {} timed out, {} cancelled",
        count(&stats.paid),
        count(&stats.paid_before),
        count(&stats.conflicts),
        count(&stats.payment_failures),
        count(&stats.refused),
        count(&stats.connections),
        count(&stats.idle_closed),
        count(&stats.too_long_closed),
        count(&stats.accept_errors),
        count(&stats.notifications_sent),
        count(&stats.notifications_failed),
        count(&stats.notifications_timed_out),
        count(&stats.notifications_cancelled),
    );
    outcome
}

/// The server: the listener and signal children, and the connections.
async fn serve(service: Service, signals: Signals) -> io::Result<()> {
    let server = Nursery::<io::Error>::new(&service.ex);
    let connections = NurseryBuilder::new()
        .limit(service.config.max_connections)
        .fail_fast(false)
        .build::<io::Error>(&service.ex);

    let accepting = connections.handle();
    let listening = service.clone();
    let address = match server
        .start(|ready| listen(ready, listening, accepting))
        .await
    {
        Ok((address, _listener)) => address,
        Err(StartError::Failed(err)) => return Err(err),
        Err(err) => {
            return Err(io::Error::other(format!(
                "the listener did not start: {err}"
            )))
        }
    };
    println!("listening on {address}");

    server.start_soon(watch_signals(
        signals,
        server.handle(),
        connections.handle(),
    ));
    let served = server.join().await;
    let drained = connections.join().await;
    served
        .and(drained)
        .map_err(|err| io::Error::other(err.to_string()))
}

/// Binds, says where, then accepts until cancelled: a place under the limit first, then the
/// connection, so that a flood beyond the limit waits in the kernel's backlog. An accept
/// error that means "not now" is waited out (see the module docs); only one that says the
/// listener is gone is returned, and ends the server.
async fn listen(
    ready: Ready<SocketAddr>,
    service: Service,
    connections: NurseryHandle<'static, io::Error>,
) -> io::Result<()> {
    let listener = TcpListener::bind(service.config.listen.as_str()).await?;
    ready.started(listener.local_addr()?);
    let mut pressure = Pressure::default();
    loop {
        let Ok(slot) = connections.reserve().await else {
            return Ok(());
        };
        let stream = loop {
            match listener.accept().await {
                Ok((stream, _peer)) => break stream,
                Err(err) if listener_gone(&err) => {
                    eprintln!("server: the listener failed: {err}");
                    return Err(err);
                }
                Err(err) => {
                    service.stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                    pressure.failed(&err);
                    Timer::after(ACCEPT_BACKOFF).await;
                }
            }
        };
        pressure.ended();
        service.stats.connections.fetch_add(1, Ordering::Relaxed);
        let grace = service.config.grace;
        let connection = connection(service.clone(), stream, connections.clone());
        slot.start_soon(shield(connection).grace(grace));
    }
}

/// An episode of accept errors that mean "not now": logged when it starts, and with its count
/// when an accept succeeds again (or the listener stops first).
#[derive(Default)]
struct Pressure {
    /// When the episode under way started, and how many accepts failed in it.
    episode: Option<(std::time::Instant, usize)>,
}

impl Pressure {
    /// An accept failed with an error that means "not now".
    fn failed(&mut self, err: &io::Error) {
        match &mut self.episode {
            Some((_, failures)) => *failures += 1,
            None => {
                eprintln!(
                    "server: accept failed: {err}; accepting again every {} ms until it passes, \
                     the open connections are served meanwhile",
                    ACCEPT_BACKOFF.as_millis()
                );
                self.episode = Some((std::time::Instant::now(), 1));
            }
        }
    }

    /// An accept succeeded: the episode under way, if any, is over.
    fn ended(&mut self) {
        if let Some((since, failures)) = self.episode.take() {
            eprintln!(
                "server: accepting again, after {failures} failed accepts over {} ms",
                since.elapsed().as_millis()
            );
        }
    }
}

impl Drop for Pressure {
    fn drop(&mut self) {
        if let Some((since, failures)) = self.episode.take() {
            eprintln!(
                "server: the listener stopped during an episode of {failures} failed accepts \
                 over {} ms",
                since.elapsed().as_millis()
            );
        }
    }
}

/// Whether an accept error says that the listener itself is gone (a closed or invalid
/// socket), rather than "not now" (out of descriptors, buffers or memory; a connection
/// aborted before it was accepted; a network that is down for a moment).
#[cfg(unix)]
fn listener_gone(err: &io::Error) -> bool {
    use rustix::io::Errno;
    Errno::from_io_error(err).is_some_and(|errno| {
        [
            Errno::BADF,
            Errno::NOTSOCK,
            Errno::INVAL,
            Errno::OPNOTSUPP,
            Errno::FAULT,
        ]
        .contains(&errno)
    })
}

/// Whether an accept error says that the listener itself is gone: without errno values, the
/// kinds that stand for an invalid or unsupported socket.
#[cfg(not(unix))]
fn listener_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
    )
}

/// SIGTERM or SIGINT: cancels the server (its listener stops accepting) and the connections
/// (each one stops reading and gets its grace). SIGUSR1: prints what is running.
async fn watch_signals(
    mut signals: Signals,
    server: NurseryHandle<'static, io::Error>,
    connections: NurseryHandle<'static, io::Error>,
) -> io::Result<()> {
    while let Some(signal) = signals.next().await {
        let signal = signal?;
        #[cfg(unix)]
        if signal == Signal::Usr1 {
            eprint!(
                "server: snapshot (SIGUSR1)\n{}{}server: end of snapshot\n",
                server.snapshot(),
                connections.snapshot()
            );
            continue;
        }
        eprintln!("server: {signal:?} received, shutting down");
        break;
    }
    connections.cancel();
    server.cancel();
    Ok(())
}

/// One connection: a scope whose body reads orders until EOF, an error, the idle deadline or
/// shutdown, then waits for every order it started.
async fn connection(
    service: Service,
    stream: TcpStream,
    connections: NurseryHandle<'static, io::Error>,
) -> io::Result<()> {
    let ex = service.ex.clone();
    let outcome = scope(&ex, |conn| async move {
        let (replies, outbox) = async_channel::unbounded::<String>();
        // The writer ends when every reply sender is gone, that is, when the body and every
        // payment of this connection are done; shielded, so that it outlives the orders'
        // cancellation at shutdown.
        let mut writer = stream.clone();
        conn.start_soon(shield(async move {
            let mut client_gone = false;
            while let Ok(reply) = outbox.recv().await {
                if !client_gone && writer.write_all(reply.as_bytes()).await.is_err() {
                    client_gone = true;
                }
            }
            let _ = writer.close().await;
            Ok(())
        }))
        .map_err(closed)?;

        let mut reader = futures_lite::io::BufReader::with_capacity(protocol::MAX_LINE, stream);
        let mut stop = std::pin::pin!(connections.cancelled());
        let mut stopping = false;
        let idle = service.config.idle;
        loop {
            let read = future::or(
                async { Some(protocol::read_line(&mut reader).await) },
                future::or(
                    async {
                        (&mut stop).await;
                        None
                    },
                    async {
                        Timer::after(idle).await;
                        Some(Err(io::ErrorKind::TimedOut.into()))
                    },
                ),
            )
            .await;
            let line = match read {
                // Shutdown: stop reading; the orders already read go on (notifications
                // are cancelled below, payments finish).
                None => {
                    stopping = true;
                    break;
                }
                Some(Ok(Read::Line(line))) => line,
                Some(Ok(Read::Eof)) => break,
                Some(Ok(Read::TooLong)) => {
                    service
                        .stats
                        .too_long_closed
                        .fetch_add(1, Ordering::Relaxed);
                    let _ = replies.send("error line too long\n".into()).await;
                    // Closing a socket with unread bytes resets it, which may destroy the
                    // reply in flight: discard (never buffer) what still comes, for a second.
                    let stop = connections.cancelled();
                    conn.start_soon(discard(reader, Duration::from_secs(1), stop))
                        .map_err(closed)?;
                    break;
                }
                Some(Err(err)) if err.kind() == io::ErrorKind::TimedOut => {
                    service.stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                    let reply = format!("error idle for {} ms\n", idle.as_millis());
                    let _ = replies.send(reply).await;
                    break;
                }
                Some(Err(_reset)) => break,
            };
            match protocol::parse(&line) {
                Ok(order) => {
                    // Claimed here, in the order the lines came: the first request of an id
                    // pays it, later ones wait for it.
                    let claim = service.ledger.claim(&order.id);
                    let started = conn.start_soon(place_order(
                        service.clone(),
                        order,
                        claim,
                        replies.clone(),
                    ));
                    started.map_err(closed)?;
                }
                Err(refused) => {
                    service.stats.refused.fetch_add(1, Ordering::Relaxed);
                    let _ = replies.send(format!("error {refused}\n")).await;
                }
            }
        }
        if stopping {
            // Shutdown: the orders' notifications stop now; their payments, shielded, are
            // adopted by this connection's nursery and finish.
            conn.cancel();
        }
        Ok::<_, io::Error>(())
    })
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(err) if err.is_cancelled() => Ok(()),
        Err(err) => Err(io::Error::other(err.to_string())),
    }
}

/// Reads and drops whatever the client still sends, until it closes, `limit` has passed, or
/// the server shuts down.
async fn discard(
    mut reader: futures_lite::io::BufReader<TcpStream>,
    limit: Duration,
    stop: Cancelled,
) -> io::Result<()> {
    use futures_lite::AsyncBufReadExt;
    let drain = async {
        loop {
            let used = match reader.fill_buf().await {
                Ok([]) | Err(_) => return,
                Ok(bytes) => bytes.len(),
            };
            reader.consume(used);
        }
    };
    let deadline = async {
        Timer::after(limit).await;
    };
    future::or(drain, future::or(deadline, stop)).await;
    Ok(())
}

/// The error a closed nursery gives: only possible once the connection is over.
fn closed(_: NurseryClosed) -> io::Error {
    io::Error::other("the connection's nursery is closed")
}

/// One order: the shielded payment and two notifications, under one deadline.
async fn place_order(
    service: Service,
    order: protocol::Order,
    claim: Claim,
    replies: async_channel::Sender<String>,
) -> io::Result<()> {
    let ex = service.ex.clone();
    let stats = service.stats.clone();
    let id = order.id.clone();
    let outcome = scope(&ex, |nursery| async move {
        nursery.cancel_after(NOTIFY_BUDGET);
        let Service { ledger, stats, .. } = service.clone();
        nursery
            .start_soon(shield(async move {
                let paid = ledger.pay(claim, &order.amount).await;
                let counter = match &paid {
                    Ok(Paid::Now) => &stats.paid,
                    Ok(Paid::Before) => &stats.paid_before,
                    Ok(Paid::Conflict(_)) => &stats.conflicts,
                    Err(_) => &stats.payment_failures,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let reply = match &paid {
                    Ok(Paid::Now | Paid::Before) => format!("paid {}\n", order.id),
                    Ok(Paid::Conflict(amount)) => {
                        format!("error conflict: {} was paid {amount}\n", order.id)
                    }
                    Err(err) => format!("error payment of {} failed, not paid: {err}\n", order.id),
                };
                let _ = replies.send(reply).await;
                match paid {
                    Ok(Paid::Now | Paid::Before) => Ok(()),
                    // Fails the order: its notifications are cancelled, nothing is sent.
                    Ok(Paid::Conflict(_)) => Err(OrderError::Conflict),
                    Err(err) => Err(OrderError::Ledger(err)),
                }
            }))
            .map_err(|_| OrderError::Notification("closed"))?;
        for kind in ["email", "sms"] {
            nursery
                .start_soon(notification(service.clone(), kind))
                .map_err(|_| OrderError::Notification("closed"))?;
        }
        Ok(())
    })
    .await;

    if let Err(err) = outcome {
        if err.is_timeout() {
            stats
                .notifications_timed_out
                .fetch_add(1, Ordering::Relaxed);
        }
        for error in err.errors() {
            match error {
                // The ledger logs its failures once per episode; each order only if asked.
                OrderError::Ledger(err) => {
                    if std::env::var_os("ORDER_SERVICE_VERBOSE").is_some() {
                        eprintln!("server: payment of order {id} failed: {err}");
                    }
                }
                OrderError::Conflict => {}
                OrderError::Notification(kind) => {
                    stats.notifications_failed.fetch_add(1, Ordering::Relaxed);
                    if std::env::var_os("ORDER_SERVICE_VERBOSE").is_some() {
                        eprintln!("server: {kind} of order {id} failed");
                    }
                }
            }
        }
    }
    // A failed notification is the order's business, not the connection's: other orders go on.
    Ok(())
}

/// Sends a simulated notification: it takes a random time, and one in ten fails.
async fn notification(service: Service, kind: &'static str) -> Result<(), OrderError> {
    /// Counts the notification as cancelled if it is dropped unfinished (a sibling failed,
    /// the deadline passed, or the server is shutting down).
    struct Unfinished<'a>(&'a Stats, bool);
    impl Drop for Unfinished<'_> {
        fn drop(&mut self) {
            if !self.1 {
                self.0
                    .notifications_cancelled
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let mut guard = Unfinished(&service.stats, false);
    Timer::after(Duration::from_millis(fastrand::u64(5..=200))).await;
    guard.1 = true;
    if fastrand::u8(0..10) == 0 {
        return Err(OrderError::Notification(kind));
    }
    service
        .stats
        .notifications_sent
        .fetch_add(1, Ordering::Relaxed);
    Ok(())
}
