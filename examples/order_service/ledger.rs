//! The ledger: an append-only file of paid orders, one `<order-id> <amount>` line each, and
//! the set of ids it holds, which makes every order id an idempotency key.
//!
//! One thread owns the file. Payments hand it their line and wait; it writes every line that
//! is waiting in one `write` call, `fsync`s the file once for all of them (group commit), and
//! only then tells each payment that its line is durable.
//!
//! On open, the file is read back: its ids are what was already paid (in this run or an
//! earlier one). A last line without its newline is what a crash (or a full disk) left
//! half-written; it is reported and cut off before anything is appended.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use event_listener::Event;

/// A line to append, and where to say that it is durable.
struct Append {
    /// The line, newline included.
    line: String,
    /// Receives the outcome of the write and `fsync` that carried the line.
    done: async_channel::Sender<io::Result<()>>,
}

/// What opening the ledger found.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Orders already paid.
    pub orders: usize,
    /// Bytes of a torn last line that were cut off, if there was one.
    pub torn_bytes: usize,
}

/// Where one order id stands.
enum Payment {
    /// A payment of this id is being written; the event fires when it is done.
    InFlight(Arc<Event>),
    /// The id is in the ledger.
    Paid,
}

/// A handle to the ledger; cloning it is cheap. The thread ends when every handle is dropped
/// and the lines already handed to it are durable.
#[derive(Clone)]
pub struct Ledger {
    /// The ledger thread's inbox.
    inbox: async_channel::Sender<Append>,
    /// Every id paid or being paid. Ids whose payment failed are removed, so they may be
    /// retried.
    ids: Arc<Mutex<HashMap<String, Payment>>>,
}

/// Where a request's order id stands: see [`Ledger::claim`].
pub enum Claim {
    /// Already in the ledger.
    Paid,
    /// Another request of the same id is being paid: wait for it (its event, and the id).
    Waiting(Arc<Event>, String),
    /// This request pays it.
    Owner(InFlight),
}

/// What `Ledger::pay` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Paid {
    /// This call wrote the line.
    Now,
    /// The id was already in the ledger (or another connection paid it meanwhile): nothing
    /// was written.
    Before,
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path`, loads its ids, cuts off a torn last
    /// line, and starts the thread that appends.
    pub fn open(path: &Path) -> io::Result<(Ledger, JoinHandle<()>, Recovered)> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        let complete = text
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let mut recovered = Recovered {
            torn_bytes: text.len() - complete,
            ..Recovered::default()
        };
        if recovered.torn_bytes > 0 {
            // O_APPEND writes at the end whatever the offset: the length is what counts.
            file.set_len(complete as u64)?;
            file.sync_data()?;
            file.seek(SeekFrom::End(0))?;
        }
        let mut ids = HashMap::new();
        for line in text[..complete].split(|&b| b == b'\n') {
            let id = line.split(|&b| b == b' ').next().unwrap_or_default();
            if let (Ok(id), false) = (std::str::from_utf8(id), id.is_empty()) {
                ids.insert(id.to_owned(), Payment::Paid);
            }
        }
        recovered.orders = ids.len();
        let (inbox, appends) = async_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || write_loop(file, appends))?;
        let ledger = Ledger {
            inbox,
            ids: Arc::new(Mutex::new(ids)),
        };
        Ok((ledger, thread, recovered))
    }

    /// Claims order `id`: it is already paid, or another payment of it is in flight, or this
    /// claim now owns its payment. Claims are taken in the order the requests were read, so
    /// that of two requests with the same id on one connection, the first one pays.
    pub fn claim(&self, id: &str) -> Claim {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        match ids.get(id) {
            Some(Payment::Paid) => Claim::Paid,
            Some(Payment::InFlight(event)) => Claim::Waiting(event.clone(), id.to_owned()),
            None => {
                ids.insert(id.to_owned(), Payment::InFlight(Arc::new(Event::new())));
                Claim::Owner(InFlight {
                    ids: self.ids.clone(),
                    id: id.to_owned(),
                    paid: false,
                })
            }
        }
    }

    /// Pays a claimed order exactly once: appends `<id> <amount>` and returns once the line
    /// is on disk, unless the id is already in the ledger. A claim that waits for another
    /// payment of the same id reports `Paid::Before` once that one is durable (or, if it
    /// failed, claims the id again and pays).
    pub async fn pay(&self, mut claim: Claim, amount: &str) -> io::Result<Paid> {
        loop {
            match claim {
                Claim::Paid => return Ok(Paid::Before),
                Claim::Owner(guard) => {
                    let outcome = self.append(&guard.id, amount).await;
                    guard.settle(outcome.is_ok());
                    return outcome.map(|()| Paid::Now);
                }
                Claim::Waiting(event, id) => {
                    // Registered before looking again, so that the end is not missed.
                    let listener = event.listen();
                    let in_flight = matches!(
                        self.ids
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .get(&id),
                        Some(Payment::InFlight(current)) if Arc::ptr_eq(current, &event)
                    );
                    if in_flight {
                        listener.await;
                    }
                    claim = self.claim(&id);
                }
            }
        }
    }

    /// Appends `<order_id> <amount>` and returns once the line is on disk.
    async fn append(&self, order_id: &str, amount: &str) -> io::Result<()> {
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

/// An id whose payment this request owns. Settled (or dropped, if the request never pays:
/// it was cancelled first), it marks the id paid or frees it, and wakes whoever waits on it.
pub struct InFlight {
    ids: Arc<Mutex<HashMap<String, Payment>>>,
    id: String,
    paid: bool,
}

impl InFlight {
    fn settle(mut self, paid: bool) {
        self.paid = paid;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        let previous = if self.paid {
            ids.insert(std::mem::take(&mut self.id), Payment::Paid)
        } else {
            ids.remove(&self.id)
        };
        drop(ids);
        if let Some(Payment::InFlight(event)) = previous {
            event.notify(usize::MAX);
        }
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
