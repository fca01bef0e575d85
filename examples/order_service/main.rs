//! An order service that shows why nurseries matter: a payment is never lost to a failed
//! notification, a timeout, or a shutdown.
//!
//! ```text
//! cargo run --release --example order_service -- --demo --ledger /tmp/orders.ledger
//! cargo run --release --example order_service -- --listen 127.0.0.1:7878 --ledger orders.ledger
//! ```
//!
//! The server reads orders as text lines (`<order-id> <amount>`) over TCP. For each order it
//! runs, in a nursery of its own, the payment (shielded: it appends the order to the ledger,
//! `fsync`s it, and replies `paid <order-id>`) and two notifications (e-mail and SMS,
//! simulated with timers, which sometimes fail or miss the order's 150 ms deadline). On SIGINT
//! or SIGTERM it stops accepting, cancels everything that is not shielded, lets the payments in
//! flight finish, and exits 0.
//!
//! `--demo` starts the server as a child process, offers it 8 000 orders over 8 connections,
//! sends it SIGTERM partway, prints `ack <order-id>` for every `paid` reply, and checks that every
//! acknowledged order stands exactly once in the ledger. (Unix only: it sends SIGTERM. The
//! server alone builds everywhere; on Windows it shuts down on Ctrl-C.)

#[cfg(unix)]
mod client;
mod ledger;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

/// Parsed command line.
struct Args {
    listen: String,
    ledger: Option<PathBuf>,
    demo: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:0".into(),
        ledger: None,
        demo: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" => args.listen = it.next().ok_or("--listen needs an address")?,
            "--ledger" => args.ledger = Some(it.next().ok_or("--ledger needs a path")?.into()),
            "--demo" => args.demo = true,
            "-h" | "--help" => {
                return Err("usage: order_service [--listen ADDR] [--ledger PATH] [--demo]".into());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let outcome = if args.demo {
        demo(args.ledger)
    } else {
        let ledger = args.ledger.unwrap_or_else(|| "orders.ledger".into());
        server::run(&args.listen, &ledger).map_err(Into::into)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("order_service: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The demo, which stops the server with SIGTERM.
#[cfg(unix)]
fn demo(ledger: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let ledger = ledger.unwrap_or_else(|| std::env::temp_dir().join("smol-nursery-demo.ledger"));
    client::demo(&ledger)
}

/// Without Unix signals there is no SIGTERM to stop the server with.
#[cfg(not(unix))]
fn demo(_ledger: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    Err("--demo runs on Unix only: it stops the server with SIGTERM".into())
}
