//! The ledger: an append-only file of paid orders, one `<order-id> <amount>` line each.
//!
//! One thread owns the file. Payments hand it their line and wait; it writes every line that
//! is waiting in one `write` call, `fsync`s the file once for all of them (group commit), and
//! only then tells each payment that its line is durable.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::thread::JoinHandle;

/// A line to append, and where to say that it is durable.
struct Append {
    /// The line, newline included.
    line: String,
    /// Receives the outcome of the write and `fsync` that carried the line.
    done: async_channel::Sender<io::Result<()>>,
}

/// A handle to the ledger thread; cloning it is cheap. The thread ends when every handle is
/// dropped and the lines already handed to it are durable.
#[derive(Clone)]
pub struct Ledger {
    /// The ledger thread's inbox.
    inbox: async_channel::Sender<Append>,
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path` for appending, and starts its thread.
    pub fn open(path: &Path) -> io::Result<(Ledger, JoinHandle<()>)> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let (inbox, appends) = async_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || write_loop(file, appends))?;
        Ok((Ledger { inbox }, thread))
    }

    /// Appends `<order_id> <amount>` and returns once the line is on disk.
    pub async fn append(&self, order_id: &str, amount: &str) -> io::Result<()> {
        let (done, durable) = async_channel::bounded(1);
        let line = format!("{order_id} {amount}\n");
        self.inbox
            .send(Append { line, done })
            .await
            .map_err(|_| io::Error::other("the ledger is closed"))?;
        durable
            .recv()
            .await
            .map_err(|_| io::Error::other("the ledger thread stopped"))?
    }
}

/// Writes batches of lines until every `Ledger` handle is gone.
fn write_loop(mut file: File, appends: async_channel::Receiver<Append>) {
    while let Ok(first) = appends.recv_blocking() {
        let mut batch = vec![first];
        while let Ok(more) = appends.try_recv() {
            batch.push(more);
        }
        let bytes: String = batch.iter().map(|append| append.line.as_str()).collect();
        // One write for the whole batch: with O_APPEND, lines of different payments never
        // interleave, and a line is never split between two writes.
        let outcome = file
            .write_all(bytes.as_bytes())
            .and_then(|()| file.sync_data());
        for append in batch {
            let reply = match &outcome {
                Ok(()) => Ok(()),
                Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
            };
            let _ = append.done.try_send(reply);
        }
    }
}
