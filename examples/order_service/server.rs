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

use crate::ledger::{Claim, Ledger, Paid};
use crate::protocol::{self, Read};

/// How long an order's notifications may take.
const NOTIFY_BUDGET: Duration = Duration::from_millis(150);

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
}

/// What the server counts, printed when it exits.
#[derive(Default)]
pub struct Stats {
    pub paid: AtomicUsize,
    pub paid_before: AtomicUsize,
    pub payment_failures: AtomicUsize,
    pub refused: AtomicUsize,
    pub idle_closed: AtomicUsize,
    pub too_long_closed: AtomicUsize,
    pub connections: AtomicUsize,
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
    let (ledger, ledger_thread, recovered) = Ledger::open(&config.ledger)?;
    if recovered.torn_bytes > 0 {
        eprintln!(
            "server: the ledger ended with a torn line ({} bytes, no newline): cut off",
            recovered.torn_bytes
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
        "server: {} orders paid ({} more answered from the ledger), {} payments failed, {} lines refused; \
         connections: {} served, {} closed idle, {} closed for an overlong line; \
         notifications: {} sent, {} failed, {} timed out, {} cancelled",
        count(&stats.paid),
        count(&stats.paid_before),
        count(&stats.payment_failures),
        count(&stats.refused),
        count(&stats.connections),
        count(&stats.idle_closed),
        count(&stats.too_long_closed),
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
/// connection, so that a flood beyond the limit waits in the kernel's backlog.
async fn listen(
    ready: Ready<SocketAddr>,
    service: Service,
    connections: NurseryHandle<'static, io::Error>,
) -> io::Result<()> {
    let listener = TcpListener::bind(service.config.listen.as_str()).await?;
    ready.started(listener.local_addr()?);
    loop {
        let Ok(slot) = connections.reserve().await else {
            return Ok(());
        };
        let (stream, _peer) = listener.accept().await?;
        service.stats.connections.fetch_add(1, Ordering::Relaxed);
        let grace = service.config.grace;
        let connection = connection(service.clone(), stream, connections.clone());
        slot.start_soon(shield(connection).grace(grace));
    }
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
                let paid = ledger
                    .pay(claim, &order.amount)
                    .await
                    .map_err(OrderError::Ledger);
                let counter = match &paid {
                    Ok(Paid::Now) => &stats.paid,
                    Ok(Paid::Before) => &stats.paid_before,
                    Err(_) => &stats.payment_failures,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let reply = match &paid {
                    Ok(_) => format!("paid {}\n", order.id),
                    Err(_) => format!("error payment of {} failed\n", order.id),
                };
                let _ = replies.send(reply).await;
                paid.map(drop)
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
                OrderError::Ledger(err) => eprintln!("server: payment of order {id} failed: {err}"),
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
