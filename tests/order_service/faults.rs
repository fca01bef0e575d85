//! The order service against the faults of a real machine, each one reproduced with the real
//! binary: a descriptor limit (set for the child process, or lowered under it while it runs),
//! a full disk (the ledger's fail point: `ENOSPC` after N bytes), a damaged ledger, and an
//! order id reused with another amount.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::{binary, connect, ledger_path, read_reply, record, stop_and_read, Server};

/// Clients that connect at once to a server limited to 128 descriptors.
const CLIENTS: usize = 300;

/// Raises this process's own descriptor limit to its hard limit: the tests below hold
/// hundreds of connections.
fn raise_own_descriptor_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

/// `CLIENTS` clients connect at once, each sends one order and reads its reply: every one of
/// them must be `paid`.
fn crowd(server: &Server, prefix: &str) {
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let address = server.address;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let barrier = barrier.clone();
            let id = format!("{prefix}{n}");
            std::thread::spawn(move || {
                barrier.wait();
                let mut stream = connect(address);
                stream.write_all(format!("{id} 1.00\n").as_bytes()).unwrap();
                (id, read_reply(&mut stream))
            })
        })
        .collect();
    for client in clients {
        let (id, reply) = client.join().unwrap();
        assert_eq!(reply, format!("paid {id}"), "stderr:\n{}", server.stderr());
    }
}

#[test]
fn with_128_descriptors_300_clients_are_all_served() {
    raise_own_descriptor_limit();
    let path = ledger_path("descriptors");
    // `ulimit -n` sets the soft and the hard limit: the server cannot raise it again.
    let mut command = Command::new("bash");
    command
        .args(["-c", "ulimit -n 128 && exec \"$0\" \"$@\""])
        .arg(binary())
        .args(["--listen", "127.0.0.1:0", "--ledger"])
        .arg(&path);
    let server = Server::spawn(&mut command);
    let started = Instant::now();
    crowd(&server, "fd");
    println!(
        "{CLIENTS} clients at once against a server with 128 descriptors: all paid in {:?}",
        started.elapsed()
    );
    let (lines, stderr) = stop_and_read(server, &path);
    println!("{stderr}");
    assert_eq!(lines.len(), CLIENTS);
    // The limit kept the server under its descriptors: accept never even failed.
    assert!(
        stderr.contains("--max-connections 1024 lowered to ")
            && stderr.contains("the descriptor limit (RLIMIT_NOFILE) is 128")
            && stderr.contains(" 0 accept errors backed off"),
        "{stderr}"
    );
}

/// The lowest descriptor number that process `pid` has free.
#[cfg(target_os = "linux")]
fn lowest_free_descriptor(pid: u32) -> u64 {
    let open: std::collections::HashSet<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    (0..).find(|fd| !open.contains(fd)).unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn out_of_descriptors_accept_backs_off_and_the_server_keeps_serving() {
    use rustix::process::{getrlimit, prlimit, Pid, Resource, Rlimit};
    let path = ledger_path("emfile");
    let server = Server::start(&path, &[]);
    // Ten connections, each known to be accepted (its order is answered).
    let mut open: Vec<TcpStream> = (0..10)
        .map(|n| {
            let mut stream = server.connect();
            stream.write_all(format!("held{n} 1\n").as_bytes()).unwrap();
            assert_eq!(read_reply(&mut stream), format!("paid held{n}"));
            stream
        })
        .collect();

    // Then the server's descriptors run out: its soft limit drops to the lowest descriptor
    // it has free (a leak elsewhere in a process, or an operator's `prlimit`, does the same).
    let pid = Pid::from_raw(server.process.id() as i32).unwrap();
    let hard = getrlimit(Resource::Nofile).maximum;
    let limit = lowest_free_descriptor(server.process.id());
    prlimit(
        Some(pid),
        Resource::Nofile,
        Rlimit {
            current: Some(limit),
            maximum: hard,
        },
    )
    .unwrap();
    let mut waiting = server.connect();
    waiting.write_all(b"waiting 2\n").unwrap();
    server.wait_for_stderr("accept failed: Too many open files");

    // The connections already open are served meanwhile.
    open[0].write_all(b"meanwhile 3\n").unwrap();
    assert_eq!(read_reply(&mut open[0]), "paid meanwhile");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !server.stderr().contains("accepting again, after"),
        "{}",
        server.stderr()
    );

    // Two connections close: their descriptors are free, the waiting client is accepted
    // (and one is left, so that the next accept does not fail at once).
    open.truncate(open.len() - 2);
    assert_eq!(read_reply(&mut waiting), "paid waiting");
    server.wait_for_stderr("accepting again, after ");
    let (lines, stderr) = stop_and_read(server, &path);
    println!("{stderr}");
    assert_eq!(lines.len(), 12);
    assert!(stderr.contains("12 orders paid"), "{stderr}");
    let episode = stderr
        .lines()
        .filter(|line| line.contains("accept failed"))
        .count();
    assert_eq!(episode, 1, "one log line per episode:\n{stderr}");
    assert!(!stderr.contains("0 accept errors backed off"), "{stderr}");
}

/// Sends `line` on `stream` and returns the reply.
fn ask_on(stream: &mut TcpStream, line: &str) -> String {
    stream.write_all(format!("{line}\n").as_bytes()).unwrap();
    read_reply(stream)
}

/// Sends `line` on `stream`, prints it with its reply, and returns the reply.
fn ask_and_show(stream: &mut TcpStream, line: &str) -> String {
    let reply = ask_on(stream, line);
    println!("> {line}\n< {reply}");
    reply
}

#[test]
fn a_full_disk_fails_the_batch_cuts_it_back_and_pays_again_once_space_is_back() {
    let path = ledger_path("full-disk");
    let first = record("ok1", "10.00");
    // Room for the first record and 10 bytes of the next: that one is written half-way.
    let room = (first.len() + 10).to_string();
    let server = Server::start(
        &path,
        &["--fail-writes-after", &room, "--space-back-after", "2"],
    );
    let mut stream = server.connect();
    assert_eq!(ask_and_show(&mut stream, "ok1 10"), "paid ok1");
    assert_eq!(
        ask_and_show(&mut stream, "disk1 12.34"),
        "error payment of disk1 failed, not paid: No space left on device (os error 28)"
    );
    // The half-written record is gone before anything else is appended.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    assert!(ask_and_show(&mut stream, "disk2 5").starts_with("error payment of disk2 failed"));
    // The space is back (after two failed writes): orders are paid again, the failed ones
    // may be retried.
    assert_eq!(ask_and_show(&mut stream, "back1 1.00"), "paid back1");
    assert_eq!(ask_and_show(&mut stream, "disk1 12.34"), "paid disk1");
    drop(stream);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}\n{stderr}");
    println!("{stderr}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        first.clone() + &record("back1", "1.00") + &record("disk1", "12.34")
    );
    assert_eq!(
        stderr.matches("ledger write failed").count(),
        1,
        "one log line per episode:\n{stderr}"
    );
    assert!(
        stderr.contains("ledger writes succeed again, after 2 failed batches (2 orders"),
        "{stderr}"
    );

    // After a restart the ledger reads back whole: three orders, and disk2 is not one.
    let server = Server::start(&path, &[]);
    assert_eq!(server.ask(b"disk2 5\n"), "paid disk2");
    assert_eq!(server.ask(b"back1 1\n"), "paid back1");
    let (lines, stderr) = stop_and_read(server, &path);
    assert!(
        stderr.contains("3 orders already in the ledger"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 4);
}

#[test]
fn a_full_disk_under_load_loses_no_acknowledged_order_and_glues_no_record() {
    let path = ledger_path("full-disk-load");
    // Room for about 100 records; space back after 20 failed batches.
    let server = Server::start(
        &path,
        &["--fail-writes-after", "2500", "--space-back-after", "20"],
    );
    let address = server.address;
    let clients: Vec<_> = (0..8)
        .map(|client| {
            std::thread::spawn(move || {
                let mut stream = connect(address);
                let mut failures = 0;
                for n in 0..60 {
                    // Each order is sent until it is paid: a failed payment may be retried.
                    loop {
                        let reply = ask_on(&mut stream, &format!("load{client}-{n} 2.50"));
                        if reply == format!("paid load{client}-{n}") {
                            break;
                        }
                        assert!(reply.starts_with("error payment of"), "{reply}");
                        failures += 1;
                    }
                }
                failures
            })
        })
        .collect();
    let failures: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    let (lines, stderr) = stop_and_read(server, &path);
    println!("480 orders of 8 clients with a full disk for 20 failed batches: {failures} payments failed and were retried");
    assert!(failures >= 20, "{failures} failures:\n{stderr}");
    // Every order was acknowledged, so every one stands once, whole, in the ledger.
    assert_eq!(lines.len(), 480);
}

/// Runs the server on `ledger` with `args` until it exits (at most 10 s, then it is killed).
fn run_until_exit(ledger: &Path, args: &[&str]) -> (Option<ExitStatus>, Output) {
    let mut child = Command::new(binary())
        .args(["--listen", "127.0.0.1:0", "--ledger"])
        .arg(ledger)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, child.wait_with_output().unwrap())
}

/// A ledger with five good records, a garbage line (line 3) and a line of NUL bytes (line 5)
/// between them, and a torn last record.
fn damaged_ledger(path: &Path) -> Vec<u8> {
    let mut text = Vec::new();
    text.extend(record("g1", "1.00").bytes());
    text.extend(record("g2", "2.00").bytes());
    text.extend(b"this is not an order at all\n");
    text.extend(record("g3", "3.00").bytes());
    text.extend([0; 24]);
    text.push(b'\n');
    text.extend(record("g4", "4.00").bytes());
    text.extend(record("g5", "5.00").bytes());
    text.extend(b"g6 6.0");
    std::fs::write(path, &text).unwrap();
    text
}

#[test]
fn a_damaged_ledger_stops_the_server_naming_the_lines() {
    let path = ledger_path("damaged");
    let text = damaged_ledger(&path);
    let (status, output) = run_until_exit(&path, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stderr}");
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "the server did not refuse the ledger:\n{stderr}"
    );
    assert!(
        stderr.contains("is damaged: 2 of its lines are not whole records")
            && stderr.contains("line 3: ")
            && stderr.contains("(\"this is not an order at all\")")
            && stderr.contains("line 5: ")
            && stderr.contains("--repair"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "it never listened");
    assert_eq!(std::fs::read(&path).unwrap(), text, "nothing was changed");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn repair_moves_damaged_records_to_a_side_file_and_goes_on() {
    let path = ledger_path("repair");
    damaged_ledger(&path);
    let server = Server::start(&path, &["--repair"]);
    let side = format!("{}.damaged", path.display());
    server.wait_for_stderr("5 orders already in the ledger");
    let stderr = server.stderr();
    assert!(
        stderr.contains(&format!(
            "repair: 2 damaged line(s) of the ledger (line 3, 5) moved to {side}"
        )),
        "{stderr}"
    );
    assert_eq!(server.ask(b"g2 2\n"), "paid g2");
    assert_eq!(server.ask(b"new1 7\n"), "paid new1");
    let (lines, stderr) = stop_and_read(server, &path);
    println!("{stderr}");
    let mut ids: Vec<&str> = lines.keys().map(String::as_str).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["g1", "g2", "g3", "g4", "g5", "new1"]);
    // The side file holds both damaged lines, byte for byte, each after a line that says
    // where it was.
    let moved = std::fs::read(&side).unwrap();
    let moved_lines: Vec<&[u8]> = moved.split(|&b| b == b'\n').collect();
    assert!(moved_lines[0].starts_with(b"# line 3 of "), "{moved:?}");
    assert_eq!(moved_lines[1], b"this is not an order at all");
    assert!(moved_lines[2].starts_with(b"# line 5 of "), "{moved:?}");
    assert_eq!(moved_lines[3], [0; 24]);
    let _ = std::fs::remove_file(&side);
}

#[test]
fn a_reused_key_with_another_amount_is_a_conflict() {
    let path = ledger_path("conflict");
    let server = Server::start(&path, &[]);
    let mut stream = server.connect();
    assert_eq!(ask_and_show(&mut stream, "conf1 10.00"), "paid conf1");
    assert_eq!(
        ask_and_show(&mut stream, "conf1 99.00"),
        "error conflict: conf1 was paid 10.00"
    );
    // The same amount written another way is the same order.
    assert_eq!(ask_and_show(&mut stream, "conf1 10"), "paid conf1");
    assert_eq!(ask_and_show(&mut stream, "conf1 010.0"), "paid conf1");
    drop(stream);

    // At once, on 16 connections, with two amounts: one of them is paid, and every request
    // with the other is a conflict naming it.
    let address = server.address;
    let askers: Vec<_> = (0..16)
        .map(|n| {
            std::thread::spawn(move || {
                let amount = if n % 2 == 0 { "5.00" } else { "6.00" };
                let mut stream = connect(address);
                (amount, ask_on(&mut stream, &format!("race {amount}")))
            })
        })
        .collect();
    let replies: Vec<(&str, String)> = askers.into_iter().map(|a| a.join().unwrap()).collect();
    let winner = replies
        .iter()
        .find(|(_, reply)| reply == "paid race")
        .map(|(amount, _)| *amount)
        .expect("one amount is paid");
    for (amount, reply) in &replies {
        if *amount == winner {
            assert_eq!(reply, "paid race");
        } else {
            assert_eq!(reply, &format!("error conflict: race was paid {winner}"));
        }
    }
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}\n{stderr}");

    // After a restart, the conflict is found in the ledger.
    let server = Server::start(&path, &[]);
    assert_eq!(
        server.ask(b"conf1 99\n"),
        "error conflict: conf1 was paid 10.00"
    );
    let (lines, stderr) = stop_and_read(server, &path);
    assert!(stderr.contains(", 1 conflicts,"), "{stderr}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines["conf1"], "10.00");
    assert_eq!(lines["race"], winner);
}
