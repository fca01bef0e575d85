//! The order service example against the real binary, in one test binary: the demos (`demo`),
//! hostile clients (`hostile`) and the faults of a real machine (`faults`: out of
//! descriptors, a full disk, a damaged ledger, a reused key). This file holds what they
//! share: the server as a child process, connections, replies and the ledger's records.
#![cfg(all(unix, not(miri)))]

#[path = "../common/mod.rs"]
mod common;

mod demo;
mod faults;
mod hostile;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A fresh ledger path for `name`.
fn ledger_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "smol-nursery-orders-{name}-{}.ledger",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// The order service binary, built for this test run.
fn binary() -> PathBuf {
    common::example_binary("order_service")
}

/// The server as a child process, stopped with SIGTERM when dropped.
struct Server {
    process: Child,
    address: SocketAddr,
    /// What the server wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
    /// The threads that read stderr, and stdout after the address (they end when the server
    /// does); the second returns what it read: the server's summary.
    readers: Option<(JoinHandle<()>, JoinHandle<String>)>,
}

impl Server {
    /// Starts the server on `ledger` with `args`.
    fn start(ledger: &Path, args: &[&str]) -> Server {
        let mut command = Command::new(binary());
        command
            .args(["--listen", "127.0.0.1:0", "--ledger"])
            .arg(ledger)
            .args(args);
        Server::spawn(&mut command)
    }

    /// Starts `command` (the server, perhaps behind a shell that sets its limits) and waits
    /// for its address.
    fn spawn(command: &mut Command) -> Server {
        let mut process = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = {
            let stderr = stderr.clone();
            let mut pipe = BufReader::new(process.stderr.take().unwrap());
            std::thread::spawn(move || {
                let mut line = String::new();
                while pipe.read_line(&mut line).unwrap_or(0) > 0 {
                    stderr.lock().unwrap().push_str(&line);
                    line.clear();
                }
            })
        };
        let mut stdout = BufReader::new(process.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let address = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = process.kill();
                let _ = process.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "unexpected first line {first:?}; stderr:\n{}",
                    stderr.lock().unwrap()
                )
            })
            .parse()
            .unwrap();
        // Keep reading stdout so that the server never blocks on a full pipe.
        let stdout_reader = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            rest
        });
        Server {
            process,
            address,
            stderr,
            readers: Some((stderr_reader, stdout_reader)),
        }
    }

    fn connect(&self) -> TcpStream {
        connect(self.address)
    }

    /// Sends `line` (newline included) on a fresh connection and returns the reply line.
    fn ask(&self, line: &[u8]) -> String {
        let mut stream = self.connect();
        stream.write_all(line).unwrap();
        read_reply(&mut stream)
    }

    /// What the server wrote on stderr so far.
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (at most 20 s) until the server has written `text` on stderr.
    fn wait_for_stderr(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.stderr().contains(text) {
            assert!(
                Instant::now() < deadline,
                "the server never said {text:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id()))
            .expect("/proc/<pid>/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Sends SIGTERM and returns the exit status, and everything the server wrote on stderr
    /// followed by its summary (what it wrote on stdout after its address).
    fn stop(mut self) -> (ExitStatus, String) {
        let pid = rustix::process::Pid::from_raw(self.process.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = self.process.wait().unwrap();
        let (stderr_reader, stdout_reader) = self.readers.take().unwrap();
        stderr_reader.join().unwrap();
        let summary = stdout_reader.join().unwrap();
        (status, self.stderr() + &summary)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A connection to `address` whose reads give up after 20 s.
fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Stops the server, checks that it exited 0, and returns the ledger's records and what the
/// server wrote on stderr, then its summary; the ledger file is removed.
fn stop_and_read(server: Server, path: &Path) -> (HashMap<String, String>, String) {
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}\n{stderr}");
    let lines = ledger(path);
    let _ = std::fs::remove_file(path);
    (lines, stderr)
}

/// Reads one reply line, without its newline.
fn read_reply(stream: &mut TcpStream) -> String {
    let mut reply = Vec::new();
    let mut byte = [0];
    while stream.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        reply.push(byte[0]);
    }
    String::from_utf8(reply).expect("replies are UTF-8")
}

/// The ledger record of `id` and `amount`, as the server writes it: `<id> <amount> <crc>\n`,
/// the CRC-32 of `<id> <amount>` in 8 lowercase hex digits.
fn record(id: &str, amount: &str) -> String {
    let body = format!("{id} {amount}");
    format!("{body} {:08x}\n", crc32fast::hash(body.as_bytes()))
}

/// The ledger's records as (id, amount), each checked to be whole (well formed, its checksum
/// right) and its id unique.
fn ledger(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "a torn last line");
    let mut lines = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [id, amount, _] = fields[..] else {
            panic!("not a record: {line:?}");
        };
        assert_eq!(
            record(id, amount),
            format!("{line}\n"),
            "a record whose checksum does not match"
        );
        assert!(
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "a bad id in the ledger: {line:?}"
        );
        let (units, cents) = amount.split_once('.').expect("two decimals");
        assert!(
            cents.len() == 2
                && units
                    .bytes()
                    .chain(cents.bytes())
                    .all(|b| b.is_ascii_digit()),
            "a bad amount in the ledger: {line:?}"
        );
        assert!(
            lines.insert(id.to_owned(), amount.to_owned()).is_none(),
            "order {id} stands twice in the ledger"
        );
    }
    lines
}
