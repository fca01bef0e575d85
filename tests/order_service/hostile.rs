//! The order service against hostile clients, over real sockets, against the real binary:
//! malformed, negative, non-finite, too precise and overlong amounts; bad ids; a 10 MB line
//! without a newline; invalid UTF-8; 2 000 idle connections beside 8 well-behaved clients;
//! repeated order ids, one after the other and at once; a torn ledger record left by a crash;
//! and a connection limit that makes a flood wait in the kernel's backlog.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{connect, ledger, ledger_path, read_reply, record, stop_and_read, Server};

/// The most resident memory the server may use while it holds 2 000 idle connections and
/// serves 8 clients. Measured on the development machine (debug build, as `cargo test`
/// builds it): about 5 MiB before the connections, 11 MiB with them (roughly 3 KiB per
/// connection: its task, nursery, buffer of 1 KiB and socket); the bound leaves room for a
/// slower allocator.
const RSS_BOUND_KIB: u64 = 32 * 1024;

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let path = ledger_path("bad-input");
    let server = Server::start(&path, &[]);
    let cases: &[(&[u8], &str)] = &[
        (b"x1 abc\n", "error bad amount"),
        (b"x2 -5\n", "error bad amount"),
        (b"x3 1e309\n", "error bad amount"),
        (b"x4 inf\n", "error bad amount"),
        (b"x5 NaN\n", "error bad amount"),
        (b"x6 12.345\n", "error bad amount"),
        (b"x7 0\n", "error bad amount"),
        (b"x8 0.00\n", "error bad amount"),
        (b"x9 1000000.01\n", "error bad amount"),
        (b"x10 99999999999999999999999999\n", "error bad amount"),
        (b"x11 12.\n", "error bad amount"),
        (b"x12 .5\n", "error bad amount"),
        (b"x13 +5\n", "error bad amount"),
        (b"bad/id 10\n", "error bad order id"),
        (b"caf\xc3\xa9 10\n", "error bad order id"),
        (
            b"a-very-long-id-a-very-long-id-a-very-long-id-a-very-long-id-65chr 10\n",
            "error bad order id",
        ),
        (b"onlyonefield\n", "error malformed order"),
        (b"x14 10 extra\n", "error malformed order"),
        (b"\n", "error malformed order"),
        (b"\xff\xfe\xfd 10\n", "error invalid utf-8"),
    ];
    for (line, expected) in cases {
        let reply = server.ask(line);
        assert!(
            reply.starts_with(expected),
            "{:?} was answered {reply:?}, not {expected:?}",
            String::from_utf8_lossy(line)
        );
    }
    // Valid edge cases are accepted, in a normalized form.
    assert_eq!(server.ask(b"ok-1 1000000.00\n"), "paid ok-1");
    assert_eq!(server.ask(b"ok_2 0.01\r\n"), "paid ok_2");
    assert_eq!(server.ask(b"ok3 007.5\n"), "paid ok3");
    let id64 = "i".repeat(64);
    assert_eq!(
        server.ask(format!("{id64} 5\n").as_bytes()),
        format!("paid {id64}")
    );

    // After an invalid line the connection goes on: the next order on it is served.
    let mut stream = server.connect();
    stream.write_all(b"\xc3\x28 1\nafter-utf8 2\n").unwrap();
    assert_eq!(read_reply(&mut stream), "error invalid utf-8");
    assert_eq!(read_reply(&mut stream), "paid after-utf8");
    drop(stream);

    let (lines, _) = stop_and_read(server, &path);
    let mut ids: Vec<&str> = lines.keys().map(String::as_str).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["after-utf8", id64.as_str(), "ok-1", "ok3", "ok_2"]);
    assert_eq!(lines["ok-1"], "1000000.00");
    assert_eq!(lines["ok3"], "7.50");
}

#[test]
fn an_overlong_line_is_refused_without_being_buffered() {
    let path = ledger_path("overlong");
    let server = Server::start(&path, &[]);
    let before = server.rss_kib();
    let mut stream = server.connect();
    let mut writer = stream.try_clone().unwrap();
    // 10 MB without a newline, written from a thread: the server stops reading at 1 KiB.
    let writing = std::thread::spawn(move || {
        let chunk = vec![b'7'; 64 * 1024];
        let mut written = 0;
        for _ in 0..160 {
            match writer.write_all(&chunk) {
                Ok(()) => written += chunk.len(),
                Err(_) => break,
            }
        }
        written
    });
    assert_eq!(read_reply(&mut stream), "error line too long");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the connection is closed after the error");
    let written = writing.join().unwrap();
    let after = server.rss_kib();
    println!("a {written}-byte line without a newline: server RSS {before} KiB before, {after} KiB after");
    assert!(
        after < before + 4 * 1024,
        "the server grew from {before} KiB to {after} KiB on a {written}-byte line"
    );
    // The server goes on serving.
    assert_eq!(server.ask(b"after-overlong 3\n"), "paid after-overlong");
    let (lines, _) = stop_and_read(server, &path);
    assert_eq!(lines.len(), 1);
}

#[test]
fn repeated_order_ids_are_paid_once() {
    let path = ledger_path("repeated");
    let server = Server::start(&path, &[]);
    // One after the other, on one connection.
    let mut stream = server.connect();
    stream.write_all(b"twice 10\ntwice 10\ntwice 99\n").unwrap();
    // Replies come as the orders finish: the two that wait for the first may swap.
    let mut replies: Vec<String> = (0..3).map(|_| read_reply(&mut stream)).collect();
    replies.sort();
    assert_eq!(
        replies,
        [
            "error conflict: twice was paid 10.00",
            "paid twice",
            "paid twice"
        ]
    );
    drop(stream);
    // At once, on 16 connections.
    let address = server.address;
    let askers: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(address).unwrap();
                stream.write_all(b"racing 25.00\n").unwrap();
                read_reply(&mut stream)
            })
        })
        .collect();
    for asker in askers {
        assert_eq!(asker.join().unwrap(), "paid racing");
    }
    let (status, _) = server.stop();
    assert!(status.success(), "{status}");
    let lines = ledger(&path);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines["twice"], "10.00", "the first amount is the one paid");

    // After a restart, a repeated id is answered from the ledger and not written again.
    let server = Server::start(&path, &[]);
    assert_eq!(server.ask(b"twice 10\n"), "paid twice");
    let (lines, stderr) = stop_and_read(server, &path);
    assert!(
        stderr.contains("2 orders already in the ledger"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 2);
}

#[test]
fn a_torn_last_record_is_reported_and_cut_off() {
    let path = ledger_path("torn");
    let torn = &record("paid-3", "30.00")[..12];
    let good = record("paid-1", "10.00") + &record("paid-2", "20.00");
    std::fs::write(&path, good.clone() + torn).unwrap();
    let server = Server::start(&path, &[]);
    assert_eq!(server.ask(b"paid-2 20.00\n"), "paid paid-2");
    assert_eq!(server.ask(b"paid-3 30.00\n"), "paid paid-3");
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}");
    assert!(stderr.contains("torn record (12 bytes"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        good + &record("paid-3", "30.00")
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn idle_connections_do_not_starve_well_behaved_clients() {
    let path = ledger_path("idle");
    let server = Server::start(&path, &["--idle-ms", "2000", "--max-connections", "4096"]);
    let baseline = server.rss_kib();
    let idle: Vec<TcpStream> = (0..2_000).map(|_| server.connect()).collect();
    // Eight clients, each with 50 orders one after the other, while the idle ones sit there.
    let address = server.address;
    let started = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|client| {
            std::thread::spawn(move || {
                let mut stream = connect(address);
                let mut slowest = Duration::ZERO;
                for n in 0..50 {
                    let asked = Instant::now();
                    stream
                        .write_all(format!("w{client}-{n} 1.50\n").as_bytes())
                        .unwrap();
                    assert_eq!(read_reply(&mut stream), format!("paid w{client}-{n}"));
                    slowest = slowest.max(asked.elapsed());
                }
                slowest
            })
        })
        .collect();
    let mut peak_rss = server.rss_kib();
    let slowest: Vec<Duration> = clients
        .into_iter()
        .map(|client| client.join().unwrap())
        .collect();
    peak_rss = peak_rss.max(server.rss_kib());
    let served_in = started.elapsed();
    let slowest = slowest.into_iter().max().unwrap();
    println!(
        "400 orders of 8 clients beside 2 000 idle connections: {served_in:?}, slowest reply {slowest:?}; \
         server RSS {baseline} KiB before, {peak_rss} KiB with the idle connections"
    );
    assert!(slowest < Duration::from_secs(1), "a reply took {slowest:?}");
    assert!(
        peak_rss < RSS_BOUND_KIB,
        "the server's RSS reached {peak_rss} KiB (bound {RSS_BOUND_KIB} KiB)"
    );

    // The idle connections are answered and closed after the idle deadline.
    let mut closed = 0;
    for mut stream in idle.into_iter().take(20) {
        let reply = read_reply(&mut stream);
        assert_eq!(reply, "error idle for 2000 ms");
        closed += 1;
    }
    assert_eq!(closed, 20);
    let (lines, _) = stop_and_read(server, &path);
    assert_eq!(lines.len(), 400);
}

#[test]
fn beyond_the_connection_limit_a_flood_waits_in_the_backlog() {
    let path = ledger_path("limit");
    let server = Server::start(&path, &["--max-connections", "4", "--idle-ms", "800"]);
    let idle: Vec<TcpStream> = (0..4).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(100));
    // The fifth connection is accepted by the kernel, not by the server: its order waits
    // until an idle one is closed.
    let asked = Instant::now();
    assert_eq!(server.ask(b"fifth 1\n"), "paid fifth");
    let waited = asked.elapsed();
    println!("beyond --max-connections 4: the fifth client's order was answered after {waited:?}");
    assert!(
        waited >= Duration::from_millis(500),
        "served after {waited:?}, before any place was free"
    );
    drop(idle);
    stop_and_read(server, &path);
}

#[test]
fn sigterm_with_orders_in_flight_exits_0_and_keeps_every_acknowledged_order() {
    let path = ledger_path("sigterm");
    let server = Server::start(&path, &["--grace-ms", "2000"]);
    let address = server.address;
    let clients: Vec<_> = (0..8)
        .map(|client| {
            std::thread::spawn(move || {
                let mut stream = connect(address);
                let mut acked = Vec::new();
                for n in 0.. {
                    if stream
                        .write_all(format!("s{client}-{n} 2\n").as_bytes())
                        .is_err()
                    {
                        break;
                    }
                    let reply = read_reply(&mut stream);
                    match reply.strip_prefix("paid ") {
                        Some(id) => acked.push(id.to_owned()),
                        None => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let stopping = Instant::now();
    let (status, _) = server.stop();
    let shutdown = stopping.elapsed();
    println!("SIGTERM with 8 clients mid-order: the server exited after {shutdown:?}");
    assert!(status.success(), "{status}");
    assert!(
        shutdown < Duration::from_secs(3),
        "shutdown took {shutdown:?}"
    );
    let lines = ledger(&path);
    let mut acked = 0;
    for client in clients {
        for id in client.join().unwrap() {
            assert!(
                lines.contains_key(&id),
                "acknowledged order {id} is not in the ledger"
            );
            acked += 1;
        }
    }
    assert!(acked > 0);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn bad_flags_are_refused_at_start_with_exit_2() {
    for args in [
        &["--max-connections", "0"][..],
        &["--idle-ms", "0"],
        &["--grace-ms", "soon"],
        &["--clients", "-3"],
        &["--crash"],
        &["--no-such-flag"],
        &["--fail-writes-after", "lots"],
        &["--space-back-after", "2"],
        &["--fail-writes-after", "10", "--space-back-after", "0"],
        &["--demo", "--repair"],
    ] {
        let output = Command::new(super::binary())
            .args(args)
            .output()
            .expect("run the server");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.is_empty(), "{args:?} was refused without a message");
    }
}
