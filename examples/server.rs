//! An echo server that stops gracefully: every connection finishes the line it is on.
//!
//! - The accept loop is started with `start`: it binds `127.0.0.1:0` and hands the address it
//!   got to `main` through `ready.started(addr)`, so the clients connect only once the server
//!   is listening.
//! - Each connection is a shielded child of the server's nursery. Between two lines it races
//!   `cancelled()` against reading the next line; once the nursery is cancelled it says
//!   goodbye and closes. A line it is working on is not cut short: the shield keeps the
//!   nursery from dropping it mid-way.
//! - Three clients talk to it: alice says two lines and hangs up; bob asks for a slow report,
//!   and the stop comes while the server is working on it; carol says hello and waits.
//! - `main` stops the server with `cancel()`: the accept loop (not shielded) is dropped at
//!   once, and `join` waits for the connections to wind down.
//!
//! Run it with `cargo run --example server`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_channel::Sender;
use async_executor::Executor;
use async_io::Timer;
use async_net::{TcpListener, TcpStream};
use futures_lite::io::BufReader;
use futures_lite::{future, AsyncBufReadExt, AsyncWriteExt, FutureExt};
use smol_nursery::{shield, Nursery, NurseryHandle, Ready};

/// Prints a line prefixed with the time since the program started.
macro_rules! log {
    ($start:expr, $($line:tt)*) => {
        println!("[{:>4} ms] {}", $start.elapsed().as_millis(), format_args!($($line)*))
    };
}

/// How long the server works on a line: lines that start with "slow" take a while.
fn work_time(line: &str) -> Duration {
    if line.starts_with("slow") {
        Duration::from_millis(200)
    } else {
        Duration::from_millis(10)
    }
}

/// Tells when the accept loop's future is dropped: the nursery cancelled it.
struct Listening(Instant, SocketAddr);

impl Drop for Listening {
    fn drop(&mut self) {
        log!(self.0, "server: stopped listening on {}", self.1);
    }
}

/// Binds, says where, then accepts connections and starts each one as a shielded child.
async fn accept_loop(
    start: Instant,
    ready: Ready<SocketAddr>,
    nursery: NurseryHandle<'_, io::Error>,
) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let _listening = Listening(start, addr);
    ready.started(addr); // `start` returns in `main` here

    loop {
        let (stream, peer) = listener.accept().await?;
        log!(start, "server: connection from {peer}");
        let conn = nursery.clone();
        nursery
            .start_soon(shield(async move {
                // One connection's trouble is logged, not the whole server's failure.
                if let Err(err) = connection(start, stream, peer, conn).await {
                    log!(start, "server: {peer}: {err}");
                }
                Ok(())
            }))
            .expect("the nursery is open while its accept loop runs");
    }
}

/// Echoes lines until the client hangs up or the server stops.
async fn connection(
    start: Instant,
    stream: TcpStream,
    peer: SocketAddr,
    nursery: NurseryHandle<'_, io::Error>,
) -> io::Result<()> {
    let mut reader = BufReader::new(stream.clone());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        // Waiting for a line is where the connection may stop. `or` prefers its first future,
        // so a client that never pauses cannot keep a stopping server busy.
        let stop = async {
            nursery.cancelled().await;
            None
        };
        let next = async { Some(reader.read_line(&mut line).await) };
        match stop.or(next).await {
            None => {
                log!(start, "server: {peer}: stopping, saying goodbye");
                writer.write_all(b"server shutting down, goodbye\n").await?;
                return Ok(());
            }
            Some(read) => {
                if read? == 0 {
                    log!(start, "server: {peer}: hung up");
                    return Ok(());
                }
            }
        }

        // From here to the reply, the line is served in full, even if the server is stopping.
        let line = line.trim_end();
        Timer::after(work_time(line)).await;
        writer.write_all(format!("{line}\n").as_bytes()).await?;
        let note = if nursery.is_cancelled() {
            " (the server is stopping, but this line was under way)"
        } else {
            ""
        };
        log!(start, "server: {peer}: echoed {line:?}{note}");
    }
}

/// What each client says: the pause before each line (ms), and the line.
const ALICE: &[(u64, &str)] = &[(0, "hello from alice"), (30, "how are you?")];
const BOB: &[(u64, &str)] = &[(0, "hello from bob"), (60, "slow: the quarterly report")];
const CAROL: &[(u64, &str)] = &[(0, "hi, carol here")];

/// A client: connects, says its lines (each after a pause) and reads each echo; then hangs
/// up, or listens until the server closes the connection. It tells `main` through `said_last`
/// when its last line is sent.
async fn client(
    start: Instant,
    addr: SocketAddr,
    name: &'static str,
    lines: &'static [(u64, &'static str)],
    hang_up: bool,
    said_last: Sender<()>,
) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    log!(start, "{name}: connected from {}", stream.local_addr()?);
    let mut reader = BufReader::new(stream.clone());
    let mut writer = stream;

    for (i, &(pause_ms, line)) in lines.iter().enumerate() {
        Timer::after(Duration::from_millis(pause_ms)).await;
        log!(start, "{name}: says {line:?}");
        writer.write_all(format!("{line}\n").as_bytes()).await?;
        if i + 1 == lines.len() {
            let _ = said_last.send(()).await;
        }
        let mut echo = String::new();
        if reader.read_line(&mut echo).await? == 0 {
            log!(start, "{name}: the server closed the connection");
            return Ok(());
        }
        log!(start, "{name}: got {:?} back", echo.trim_end());
    }
    if hang_up {
        log!(start, "{name}: hangs up");
        return Ok(());
    }
    loop {
        let mut said = String::new();
        if reader.read_line(&mut said).await? == 0 {
            log!(start, "{name}: the server closed the connection");
            return Ok(());
        }
        log!(start, "{name}: the server says {:?}", said.trim_end());
    }
}

fn main() {
    let start = Instant::now();
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        let server = Nursery::<io::Error>::new(&ex);
        let handle = server.handle();
        let (addr, accept) = server
            .start(|ready| accept_loop(start, ready, handle))
            .await
            .expect("the server binds 127.0.0.1:0");
        log!(start, "main: the server is listening on {addr}");

        // Each client tells `main` when it has sent its last line; a client that fails
        // before that drops its sender, so `main` never waits for it in vain.
        let (said_last, last_lines) = async_channel::unbounded();
        let clients = Nursery::<io::Error>::new(&ex);
        for (name, lines, hang_up) in [
            ("alice", ALICE, true),
            ("bob", BOB, false),
            ("carol", CAROL, false),
        ] {
            clients.start_soon(client(start, addr, name, lines, hang_up, said_last.clone()));
        }
        drop(said_last);

        // Stop while bob's report is being worked on (it takes 200 ms) and carol is waiting.
        for _ in 0..3 {
            if last_lines.recv().await.is_err() {
                break;
            }
        }
        Timer::after(Duration::from_millis(50)).await;
        log!(start, "main: stopping the server");
        server.cancel();

        let served = server.join().await;
        log!(start, "main: the server stopped: {served:?}");
        log!(start, "main: the accept loop ended with {:?}", accept.await);
        let talked = clients.join().await;
        log!(start, "main: every client is done: {talked:?}");
    }));
}
