//! Happy eyeballs (RFC 8305) with `race_ok`: connect to the first of several addresses that
//! answers, trying them one after another, 250 ms apart, and cancel the rest.
//!
//! Four local addresses (127.0.0.1, ports chosen by the system), tried in this order:
//!
//! 1. **never answers**: a listener nobody accepts on. The system completes the connection,
//!    but the greeting never comes.
//! 2. **refuses**: a port that was bound, then closed. The connection is refused at once.
//! 3. **slow**: accepts, and sends its greeting after 600 ms.
//! 4. **fast**: accepts, and sends its greeting at once.
//!
//! An attempt is "connect, then read the greeting line". `race_ok` starts attempt 1 at once and
//! the next one whenever 250 ms have passed since the last start, or as soon as an attempt
//! fails: attempt 2 starts at 250 ms and is refused, which starts attempt 3 at once; attempt 4
//! starts 250 ms later, at 500 ms, and wins, long before the slow server would have answered.
//! Attempts 1 and 3 are then cancelled, and `race_ok` returns only once their futures have
//! been dropped. Each attempt holds a guard that prints and records when the attempt ends
//! (returned, or cancelled: its future dropped); the example checks that every loser had
//! ended before `race_ok` returned.
//!
//! A second race tries only the two addresses that never succeed, each with a 300 ms patience:
//! every attempt fails, and the error holds every attempt's error in the order they failed.
//! Each error is the attempt's own value, so it says which address failed; the
//! [`origins`](smol_nursery::NurseryError::origins) of a race all point at the `race_ok` call.
//!
//! It takes about a second. Run it with `cargo run --example eyeballs`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use async_net::{TcpListener, TcpStream};
use futures_lite::io::BufReader;
use futures_lite::{future, AsyncBufReadExt, AsyncWriteExt};
use smol_nursery::{race_ok, Nursery};

/// How long `race_ok` waits after starting an attempt before starting the next one.
const STAGGER: Duration = Duration::from_millis(250);
/// How long the slow server waits before sending its greeting.
const SLOW: Duration = Duration::from_millis(600);

/// An address to try, named after what its server does.
#[derive(Clone, Copy, Debug)]
struct Server {
    /// What the server does: "never answers", "refuses", "slow" or "fast".
    name: &'static str,
    /// Where it listens (or listened).
    addr: SocketAddr,
}

/// A connection whose server has greeted us: what the race is for.
#[derive(Debug)]
struct Connection {
    /// The server that answered.
    server: &'static str,
    /// The open connection, ready for the rest of the protocol.
    stream: TcpStream,
    /// The server's greeting line.
    greeting: String,
}

/// An attempt that failed. It carries the address, which the I/O error alone does not say.
#[derive(Debug)]
struct AttemptError {
    /// The server tried.
    server: Server,
    /// What went wrong.
    error: io::Error,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.server.addr, self.server.name, self.error
        )
    }
}

impl std::error::Error for AttemptError {}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// It connected and read the greeting.
    Answered,
    /// It returned an error.
    Failed,
    /// Its future was dropped before it returned: `race_ok` cancelled it.
    Cancelled,
}

/// When one attempt started, and when and how it ended.
#[derive(Clone, Copy, Debug)]
struct Record {
    /// When it started.
    started: Instant,
    /// When and how it ended; `None` while it runs.
    ended: Option<(Instant, How)>,
}

/// When a race's attempts started and ended, relative to the program's start.
struct Timeline {
    /// When the program started.
    start: Instant,
    /// Each attempt's record, by number.
    attempts: Mutex<Vec<Record>>,
}

impl Timeline {
    /// An empty timeline, relative to `start`.
    fn new(start: Instant) -> Self {
        Timeline {
            start,
            attempts: Mutex::new(Vec::new()),
        }
    }

    /// Prints a line prefixed with the time of `at` since the program started.
    fn log(&self, at: Instant, line: &str) {
        println!(
            "[{:>4} ms] {line}",
            at.duration_since(self.start).as_millis()
        );
    }

    /// The attempts' starts and ends, by number.
    fn attempts(&self) -> Vec<Record> {
        self.attempts.lock().unwrap().clone()
    }
}

/// Held by an attempt for as long as it runs: records its start, and its end when dropped,
/// whether the attempt returned or was cancelled.
struct Guard<'a> {
    /// Where to record.
    timeline: &'a Timeline,
    /// The attempt's number, from 1.
    number: usize,
    /// The server it tries.
    server: Server,
    /// How it ended; `Cancelled` until the attempt returns.
    how: How,
    /// What to print when it ends.
    why: String,
}

impl<'a> Guard<'a> {
    /// Records the start of attempt `number` on `server`.
    fn start(timeline: &'a Timeline, number: usize, server: Server) -> Self {
        let now = Instant::now();
        timeline.attempts.lock().unwrap().push(Record {
            started: now,
            ended: None,
        });
        let line = format!("attempt {number} starts: {} ({})", server.addr, server.name);
        timeline.log(now, &line);
        Guard {
            timeline,
            number,
            server,
            how: How::Cancelled,
            why: String::from("its future was dropped"),
        }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        self.timeline.attempts.lock().unwrap()[self.number - 1].ended = Some((now, self.how));
        let line = format!(
            "attempt {} ends ({}): {:?}, {}",
            self.number, self.server.name, self.how, self.why
        );
        self.timeline.log(now, &line);
    }
}

/// One attempt: connects to `server` and reads its greeting, giving up after `patience`.
async fn attempt(
    timeline: &Timeline,
    number: usize,
    server: Server,
    patience: Duration,
) -> Result<Connection, AttemptError> {
    let mut guard = Guard::start(timeline, number, server);
    let timeout = async {
        Timer::after(patience).await;
        Err(io::Error::new(io::ErrorKind::TimedOut, "no greeting"))
    };
    let result = future::or(connect(timeline, number, server), timeout)
        .await
        .map_err(|error| AttemptError { server, error });
    (guard.how, guard.why) = match &result {
        Ok(connection) => (How::Answered, format!("greeting {:?}", connection.greeting)),
        Err(error) => (How::Failed, error.error.to_string()),
    };
    result
}

/// Connects to `server` and reads its greeting line.
async fn connect(timeline: &Timeline, number: usize, server: Server) -> io::Result<Connection> {
    let stream = TcpStream::connect(server.addr).await?;
    let line = format!("attempt {number} connected, waits for the greeting");
    timeline.log(Instant::now(), &line);
    let mut greeting = String::new();
    BufReader::new(stream.clone())
        .read_line(&mut greeting)
        .await?;
    if greeting.is_empty() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Connection {
        server: server.name,
        stream,
        greeting: greeting.trim_end().to_owned(),
    })
}

/// A server: accepts connections one at a time and greets each after `delay`.
async fn serve(listener: TcpListener, delay: Duration, greeting: &str) -> io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        Timer::after(delay).await;
        // The client may be gone (cancelled): that is no error of the server's.
        let _ = stream.write_all(format!("{greeting}\r\n").as_bytes()).await;
    }
}

/// Binds a listener on a port the system chooses.
async fn listen() -> io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

fn main() -> io::Result<()> {
    // Declared before the executor: the attempts borrow them.
    let start = Instant::now();
    let first = Timeline::new(start);
    let second = Timeline::new(start);
    let ex = Arc::new(Executor::new());

    future::block_on(ex.run(async {
        // Never accepted: connections complete in its backlog and wait there.
        let silent = listen().await?;
        let slow = listen().await?;
        let fast = listen().await?;
        // Bound, then closed (last, so the other listeners cannot get its port): connecting
        // is refused.
        let refusing = listen().await?.local_addr()?;
        let servers = [
            Server {
                name: "never answers",
                addr: silent.local_addr()?,
            },
            Server {
                name: "refuses",
                addr: refusing,
            },
            Server {
                name: "slow",
                addr: slow.local_addr()?,
            },
            Server {
                name: "fast",
                addr: fast.local_addr()?,
            },
        ];
        let running = Nursery::new(&ex);
        running.start_soon(serve(slow, SLOW, "hello from slow"));
        running.start_soon(serve(fast, Duration::ZERO, "hello from fast"));

        println!("race 1: {} addresses, {STAGGER:?} apart", servers.len());
        let attempts = servers
            .iter()
            .enumerate()
            .map(|(i, &server)| attempt(&first, i + 1, server, Duration::from_secs(2)));
        let won = race_ok(&ex, attempts, STAGGER).await;
        let returned = Instant::now();
        let connection = won.expect("the fast server answers");
        first.log(
            returned,
            &format!(
                "race_ok returned: connected to {} ({}), greeting {:?}",
                connection.stream.peer_addr()?,
                connection.server,
                connection.greeting
            ),
        );

        // The fast server won; every other attempt had ended before race_ok returned.
        assert_eq!(connection.server, "fast");
        assert_eq!(connection.stream.peer_addr()?, servers[3].addr);
        let attempts = first.attempts();
        assert_eq!(attempts.len(), 4, "every address was tried");
        let mut losers = Vec::new();
        for (i, record) in attempts.iter().enumerate() {
            let (ended, how) = record
                .ended
                .expect("every attempt ended before race_ok returned");
            assert!(ended <= returned);
            if i != 3 {
                losers.push(format!("{}: {how:?}", servers[i].name).to_lowercase());
            }
        }
        let how: Vec<How> = attempts.iter().map(|a| a.ended.unwrap().1).collect();
        assert_eq!(
            how,
            [How::Cancelled, How::Failed, How::Cancelled, How::Answered]
        );
        // The stagger, and a failure starting the next attempt at once.
        let started: Vec<Instant> = attempts.iter().map(|a| a.started).collect();
        assert!(started[1] - started[0] >= STAGGER);
        assert!(started[2] - started[1] < STAGGER / 2);
        assert!(started[3] - started[2] >= STAGGER);
        println!(
            "every loser ended before race_ok returned: {}",
            losers.join(", ")
        );

        println!();
        println!("race 2: only the addresses that never succeed, 300 ms patience each");
        let hopeless = [servers[0], servers[1]];
        let attempts = hopeless
            .iter()
            .enumerate()
            .map(|(i, &server)| attempt(&second, i + 1, server, Duration::from_millis(300)));
        let line = line!() + 1;
        let err = race_ok(&ex, attempts, STAGGER).await.unwrap_err();
        println!("race_ok failed: {err}");
        for (error, site) in err.origins() {
            println!("  {error}  (started at {site})");
            assert_eq!(
                site.line(),
                line,
                "every attempt's origin is the race_ok call"
            );
        }
        // In the order they failed: refused at 250 ms, out of patience at 300 ms.
        let failed: Vec<&str> = err.errors().iter().map(|e| e.server.name).collect();
        assert_eq!(failed, ["refuses", "never answers"]);
        assert!(second.attempts().iter().all(|a| a.ended.is_some()));

        drop(silent);
        running.cancel();
        running.join().await.expect("the servers did not fail");
        println!("done in {:?}", start.elapsed());
        assert!(start.elapsed() < Duration::from_secs(5));
        Ok(())
    }))
}
