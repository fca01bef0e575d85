//! The server: one nursery for the whole service, one per connection, one per order.
//!
//! ```text
//! server nursery ─┬─ signal watcher      SIGINT/SIGTERM: begin the shutdown
//!                 ├─ accept loop         cancelled at shutdown: stop accepting
//!                 └─ connection (shielded, one per client)
//!                      connection nursery ─┬─ reply writer (shielded)
//!                                          └─ order (one per line read)
//!                                               order nursery, deadline 150 ms ─┬─ payment (shielded)
//!                                                                               ├─ email
//!                                                                               └─ SMS
//! ```
//!
//! A failing or slow notification fails or times out its order's nursery, which cancels the
//! other notification but never the shielded payment. At shutdown the accept loop is
//! cancelled, connections stop reading, every order cancels its notifications, and the
//! payments already running finish: they write the ledger and reply before the process exits.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use async_net::{TcpListener, TcpStream};
use async_signal::{Signal, Signals};
use event_listener::Event;
use futures_lite::{future, AsyncBufReadExt, AsyncWriteExt, StreamExt};
use smol_nursery::{shield, Nursery, NurseryError};

use crate::ledger::Ledger;

/// How long an order's notifications may take.
const NOTIFY_BUDGET: Duration = Duration::from_millis(150);

/// What the server counts, printed when it exits.
#[derive(Default)]
pub struct Stats {
    pub paid: AtomicUsize,
    pub payment_failures: AtomicUsize,
    pub notifications_sent: AtomicUsize,
    pub notifications_failed: AtomicUsize,
    pub notifications_timed_out: AtomicUsize,
    pub notifications_cancelled_at_shutdown: AtomicUsize,
}

/// The shutdown signal: set once, awaited by everything that must react to it.
#[derive(Default)]
pub struct Shutdown {
    started: AtomicBool,
    event: Event,
}

impl Shutdown {
    fn begin(&self) {
        self.started.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    fn is_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    async fn wait(&self) {
        loop {
            if self.is_started() {
                return;
            }
            let listener = self.event.listen();
            if self.is_started() {
                return;
            }
            listener.await;
        }
    }
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
    shutdown: Arc<Shutdown>,
    stats: Arc<Stats>,
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub fn run(listen: &str, ledger_path: &std::path::Path) -> io::Result<()> {
    // Signals are caught before the address is printed: a client that reads the address may
    // send SIGTERM at once. Windows has no SIGTERM to catch, only Ctrl-C (SIGINT).
    #[cfg(unix)]
    let signals = Signals::new([Signal::Term, Signal::Int])?;
    #[cfg(not(unix))]
    let signals = Signals::new([Signal::Int])?;
    let listener = future::block_on(TcpListener::bind(listen))?;
    let address: SocketAddr = listener.local_addr()?;
    let (ledger, ledger_thread) = Ledger::open(ledger_path)?;
    let service = Service {
        ex: Arc::new(Executor::new()),
        ledger,
        shutdown: Arc::default(),
        stats: Arc::default(),
    };
    println!("listening on {address}");

    let (stop, stopped) = async_channel::bounded::<()>(1);
    let helper = {
        let ex = service.ex.clone();
        std::thread::spawn(move || future::block_on(ex.run(stopped.recv())))
    };
    let outcome = future::block_on(service.ex.run(serve(service.clone(), listener, signals)));
    drop(stop);
    let _ = helper.join();
    let stats = service.stats.clone();
    drop(service);
    let _ = ledger_thread.join();

    let count = |n: &AtomicUsize| n.load(Ordering::SeqCst);
    println!(
        "server: {} orders paid, {} payments failed; notifications: {} sent, {} failed, {} timed out, {} cancelled at shutdown",
        count(&stats.paid),
        count(&stats.payment_failures),
        count(&stats.notifications_sent),
        count(&stats.notifications_failed),
        count(&stats.notifications_timed_out),
        count(&stats.notifications_cancelled_at_shutdown),
    );
    outcome.map_err(|err| io::Error::other(err.to_string()))
}

/// The server nursery: the signal watcher, the accept loop and the connections.
async fn serve(
    service: Service,
    listener: TcpListener,
    mut signals: Signals,
) -> Result<(), NurseryError<io::Error>> {
    let server = Nursery::<io::Error>::new(&service.ex);
    let handle = server.handle();

    let shutdown = service.shutdown.clone();
    let on_signal = handle.clone();
    server.start_soon(async move {
        if let Some(signal) = signals.next().await {
            eprintln!("server: {:?} received, shutting down", signal?);
        }
        shutdown.begin();
        // Cancels the accept loop; connections are shielded and stop on their own.
        on_signal.cancel();
        Ok(())
    });

    server.start_soon(async move {
        loop {
            let (stream, _peer) = listener.accept().await?;
            let connection = connection(service.clone(), stream);
            if handle.start_soon(shield(connection)).is_err() {
                return Ok(());
            }
        }
    });

    server.join().await
}

/// One connection: reads orders until EOF or shutdown, and waits for every order it started.
async fn connection(service: Service, stream: TcpStream) -> io::Result<()> {
    let nursery = Nursery::<io::Error>::new(&service.ex);
    let (replies, outbox) = async_channel::unbounded::<String>();

    // The writer is shielded and ends only when every reply sender is gone, that is, when
    // every order of this connection has finished: no reply of a paid order is lost to a
    // cancellation.
    let mut writer = stream.clone();
    nursery.start_soon(shield(async move {
        let mut client_gone = false;
        while let Ok(reply) = outbox.recv().await {
            if !client_gone && writer.write_all(reply.as_bytes()).await.is_err() {
                client_gone = true;
            }
        }
        let _ = writer.close().await;
        Ok(())
    }));

    let mut lines = futures_lite::io::BufReader::new(stream).lines();
    loop {
        let next = future::or(async { Some(lines.next().await) }, async {
            service.shutdown.wait().await;
            None
        })
        .await;
        let line = match next {
            // Shutdown: stop reading; a line cut in half is an order nobody was told about.
            None => break,
            Some(None) | Some(Some(Err(_))) => break,
            Some(Some(Ok(line))) => line,
        };
        let mut fields = line.split_whitespace();
        let (Some(id), Some(amount), None) = (fields.next(), fields.next(), fields.next()) else {
            let _ = replies
                .send(format!("error malformed order: {line:?}\n"))
                .await;
            continue;
        };
        nursery.start_soon(order(
            service.clone(),
            id.to_owned(),
            amount.to_owned(),
            replies.clone(),
        ));
    }
    drop(replies);
    nursery
        .join()
        .await
        .map_err(|err| io::Error::other(err.to_string()))
}

/// One order: the shielded payment and two notifications, under one deadline.
async fn order(
    service: Service,
    id: String,
    amount: String,
    replies: async_channel::Sender<String>,
) -> io::Result<()> {
    let nursery = Nursery::<OrderError>::new(&service.ex);
    nursery.cancel_after(NOTIFY_BUDGET);

    let Service { ledger, stats, .. } = service.clone();
    let payment_id = id.clone();
    nursery.start_soon(shield(async move {
        ledger
            .append(&payment_id, &amount)
            .await
            .map_err(OrderError::Ledger)?;
        stats.paid.fetch_add(1, Ordering::SeqCst);
        let _ = replies.send(format!("paid {payment_id}\n")).await;
        Ok(())
    }));
    nursery.start_soon(notification(service.clone(), "email"));
    nursery.start_soon(notification(service.clone(), "sms"));

    // At shutdown, cancel what is not shielded; the payment still finishes.
    let cancel = nursery.handle();
    let outcome = future::or(nursery.join(), async {
        service.shutdown.wait().await;
        cancel.cancel();
        future::pending().await
    })
    .await;

    if let Err(err) = outcome {
        let stats = &service.stats;
        if err.is_timeout() {
            stats.notifications_timed_out.fetch_add(1, Ordering::SeqCst);
        }
        for error in err.errors() {
            match error {
                OrderError::Ledger(err) => {
                    stats.payment_failures.fetch_add(1, Ordering::SeqCst);
                    eprintln!("server: payment of order {id} failed: {err}");
                }
                OrderError::Notification(kind) => {
                    stats.notifications_failed.fetch_add(1, Ordering::SeqCst);
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
    /// Counts the notification as cancelled at shutdown if it is dropped unfinished then.
    struct Unfinished {
        service: Service,
        finished: bool,
    }
    impl Drop for Unfinished {
        fn drop(&mut self) {
            if !self.finished && self.service.shutdown.is_started() {
                let stats = &self.service.stats;
                stats
                    .notifications_cancelled_at_shutdown
                    .fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let mut guard = Unfinished {
        service,
        finished: false,
    };
    Timer::after(Duration::from_millis(fastrand::u64(5..=200))).await;
    guard.finished = true;
    if fastrand::u8(0..10) == 0 {
        return Err(OrderError::Notification(kind));
    }
    guard
        .service
        .stats
        .notifications_sent
        .fetch_add(1, Ordering::SeqCst);
    Ok(())
}
