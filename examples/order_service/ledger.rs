//! The ledger: an append-only file of paid orders, one record per line, and the map of the
//! ids it holds to their amounts, which makes every order id an idempotency key.
//!
//! # Records
//!
//! A record is `<order-id> <amount> <crc>\n`, where `<crc>` is the CRC-32 of `<order-id>
//! <amount>` in 8 lowercase hex digits, and the id and amount are as `protocol.rs` writes them
//! (`12.50`, never `12.5`). A line counts as a record only if all of it checks out, so garbage,
//! a line of NUL bytes or two records glued together never read as a payment.
//!
//! # Writing
//!
//! One thread owns the file. Payments hand it their record and wait; it writes every record
//! that is waiting in one `write` call, `fsync`s the file once for all of them (group commit),
//! and only then tells each payment that its record is durable. It knows the length of the
//! file up to its last durable record: a batch whose `write` or `fsync` fails (a full disk) is
//! cut back to that length (`set_len`, then `fsync`) before anything else is appended, and its
//! payments get the error (their ids are freed: the orders may be retried). If the cut fails
//! too, the next batch tries it again first, and fails if it still cannot make it: nothing is
//! ever appended after bytes of a failed batch.
//!
//! # Opening
//!
//! The file is read back: its records are what was already paid (in this run or an earlier
//! one). The bytes after the last newline are a torn record (a crash cut a write short): they
//! are reported and cut off. A complete line that is not a record, or a second record of an
//! id, is damage: opening fails and names the line, unless `repair` is set, which appends the
//! damaged lines to `<ledger>.damaged`, writes the ledger again without them (a new file
//! renamed over the old one) and goes on.
//!
//! # Fault injection
//!
//! [`FailPoint`] (`--fail-writes-after BYTES [--space-back-after N]`) makes the ledger's file
//! system full: it holds `BYTES` bytes more than the ledger had when it was opened. A write
//! that goes past that writes what fits, then fails with `ENOSPC`, as a nearly full disk does.
//! After `N` such failures the space comes back (without `--space-back-after`, never).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use event_listener::Event;

use crate::protocol;

/// A record to append, and where to say that it is durable.
struct Append {
    /// The record, newline included.
    record: String,
    /// Receives the outcome of the write and `fsync` that carried the record.
    done: async_channel::Sender<io::Result<()>>,
}

/// How the ledger is opened.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Move damaged records to `<ledger>.damaged` and go on, instead of refusing to start.
    pub repair: bool,
    /// Simulate a full disk: see [`FailPoint`].
    pub fail_point: Option<FailPoint>,
}

/// Fault injection: the ledger's file system is nearly full.
#[derive(Clone, Copy, Debug)]
pub struct FailPoint {
    /// How many bytes more than the ledger had when it was opened the file system holds.
    pub room: u64,
    /// After how many failed writes the space comes back; `None`: never.
    pub space_back_after: Option<u64>,
}

/// What opening the ledger found.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Orders already paid.
    pub orders: usize,
    /// Bytes of a torn last record that were cut off, if there was one.
    pub torn_bytes: usize,
    /// The damaged lines moved aside by a repair (their line numbers), and where to.
    pub repaired: Option<(Vec<usize>, PathBuf)>,
}

/// A complete line of the ledger that is not a record.
struct Damaged {
    /// Its line number, from 1.
    line: usize,
    /// Its bytes, newline excluded.
    bytes: Vec<u8>,
    /// Why it is not a record.
    reason: String,
}

/// Where one order id stands.
enum Payment {
    /// A payment of this id is being written; the event fires when it is done.
    InFlight(Arc<Event>),
    /// The id is in the ledger, with this amount.
    Paid(String),
}

/// A handle to the ledger; cloning it is cheap. The thread ends when every handle is dropped
/// and the records already handed to it are durable.
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
    /// Already in the ledger, with this amount.
    Paid(String),
    /// Another request of the same id is being paid: wait for it (its event, and the id).
    Waiting(Arc<Event>, String),
    /// This request pays it.
    Owner(InFlight),
}

/// What `Ledger::pay` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Paid {
    /// This call wrote the record.
    Now,
    /// The id was already in the ledger with the same amount (or another connection paid it
    /// meanwhile): nothing was written.
    Before,
    /// The id was already in the ledger with another amount (given): nothing was written.
    Conflict(String),
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path`, loads its records, cuts off a torn
    /// last record, refuses (or, with `options.repair`, moves aside) damaged ones, and starts
    /// the thread that appends.
    pub fn open(path: &Path, options: &Options) -> io::Result<(Ledger, JoinHandle<()>, Recovered)> {
        let mut file = open_for_append(path)?;
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
        let (ids, damaged) = load(&text[..complete]);
        if !damaged.is_empty() {
            if !options.repair {
                return Err(damage_report(path, &damaged));
            }
            let side = repair(path, &text[..complete], &damaged)?;
            recovered.repaired = Some((damaged.iter().map(|d| d.line).collect(), side));
            drop(file);
            file = open_for_append(path)?;
        } else if recovered.torn_bytes > 0 {
            // O_APPEND writes at the end whatever the offset: the length is what counts.
            file.set_len(complete as u64)?;
            file.sync_data()?;
        }
        recovered.orders = ids.len();
        let good_len = file.metadata()?.len();
        let writer = Writer {
            file,
            good_len,
            dirty: false,
            fail_point: options
                .fail_point
                .map(|point| (point, good_len + point.room)),
            episode: None,
        };
        let (inbox, appends) = async_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || writer.run(appends))?;
        let ids = ids
            .into_iter()
            .map(|(id, amount)| (id, Payment::Paid(amount)))
            .collect();
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
            Some(Payment::Paid(amount)) => Claim::Paid(amount.clone()),
            Some(Payment::InFlight(event)) => Claim::Waiting(event.clone(), id.to_owned()),
            None => {
                ids.insert(id.to_owned(), Payment::InFlight(Arc::new(Event::new())));
                Claim::Owner(InFlight {
                    ids: self.ids.clone(),
                    id: id.to_owned(),
                    paid: None,
                })
            }
        }
    }

    /// Pays a claimed order exactly once: appends its record and returns once it is on disk,
    /// unless the id is already in the ledger (with the same amount: `Paid::Before`; with
    /// another: `Paid::Conflict`). A claim that waits for another payment of the same id
    /// looks again once that one is durable (or, if it failed, claims the id and pays).
    pub async fn pay(&self, mut claim: Claim, amount: &str) -> io::Result<Paid> {
        loop {
            match claim {
                Claim::Paid(paid) if paid == amount => return Ok(Paid::Before),
                Claim::Paid(paid) => return Ok(Paid::Conflict(paid)),
                Claim::Owner(guard) => {
                    let outcome = self.append(&guard.id, amount).await;
                    guard.settle(outcome.is_ok().then(|| amount.to_owned()));
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

    /// Appends the record of `order_id` and `amount`, and returns once it is on disk.
    async fn append(&self, order_id: &str, amount: &str) -> io::Result<()> {
        let (done, durable) = async_channel::bounded(1);
        self.inbox
            .send(Append {
                record: record(order_id, amount),
                done,
            })
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
    /// The ledger's ids.
    ids: Arc<Mutex<HashMap<String, Payment>>>,
    /// The id this request pays.
    id: String,
    /// The amount, once it is durably paid.
    paid: Option<String>,
}

impl InFlight {
    /// Records how the payment ended: paid with this amount, or not paid (`None`).
    fn settle(mut self, paid: Option<String>) {
        self.paid = paid;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        let previous = match self.paid.take() {
            Some(amount) => ids.insert(std::mem::take(&mut self.id), Payment::Paid(amount)),
            None => ids.remove(&self.id),
        };
        drop(ids);
        if let Some(Payment::InFlight(event)) = previous {
            event.notify(usize::MAX);
        }
    }
}

/// The record of `id` and `amount`, newline included.
pub fn record(id: &str, amount: &str) -> String {
    let body = format!("{id} {amount}");
    let crc = crc32fast::hash(body.as_bytes());
    format!("{body} {crc:08x}\n")
}

/// Reads a line (newline excluded) as a record: its id and amount if all of it checks out.
fn parse_record(line: &[u8]) -> Result<(String, String), &'static str> {
    let line = std::str::from_utf8(line).map_err(|_| "not UTF-8")?;
    let (body, crc) = line
        .rsplit_once(' ')
        .filter(|(body, crc)| {
            body.contains(' ')
                && crc.len() == 8
                && crc.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
        .ok_or("not a record: `<order-id> <amount> <crc32>`")?;
    if crc != format!("{:08x}", crc32fast::hash(body.as_bytes())) {
        return Err("its checksum does not match");
    }
    let order = protocol::parse(body.as_bytes()).map_err(|_| "not an order")?;
    if format!("{} {}", order.id, order.amount) != body {
        return Err("not written as the ledger writes orders");
    }
    Ok((order.id, order.amount))
}

/// The records of the complete lines in `text`, and the lines that are damaged.
fn load(text: &[u8]) -> (HashMap<String, String>, Vec<Damaged>) {
    let mut ids = HashMap::new();
    let mut first_line = HashMap::new();
    let mut damaged = Vec::new();
    let lines = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() {
        return (ids, damaged);
    }
    for (at, bytes) in lines.split(|&b| b == b'\n').enumerate() {
        let line = at + 1;
        let reason = match parse_record(bytes) {
            Ok((id, _)) if ids.contains_key(&id) => {
                format!(
                    "a second record of order {id} (first at line {})",
                    first_line[&id]
                )
            }
            Ok((id, amount)) => {
                first_line.insert(id.clone(), line);
                ids.insert(id, amount);
                continue;
            }
            Err(reason) => reason.to_owned(),
        };
        damaged.push(Damaged {
            line,
            bytes: bytes.to_vec(),
            reason,
        });
    }
    (ids, damaged)
}

/// The error that refuses a damaged ledger: it names the damaged lines.
fn damage_report(path: &Path, damaged: &[Damaged]) -> io::Error {
    let mut message = format!(
        "the ledger {} is damaged: {} of its lines {} not whole records",
        path.display(),
        damaged.len(),
        if damaged.len() == 1 { "is" } else { "are" },
    );
    for damage in damaged.iter().take(5) {
        message += &format!(
            "\n  line {}: {} ({})",
            damage.line,
            damage.reason,
            shown(&damage.bytes)
        );
    }
    if damaged.len() > 5 {
        message += &format!("\n  and {} more", damaged.len() - 5);
    }
    message += &format!(
        "\nnothing was changed; start with --repair to move the damaged lines to {} and go on",
        side_path(path).display()
    );
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The first 60 bytes of a line, quoted, with anything not printable escaped.
fn shown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(60)];
    let mut text: String = head.escape_ascii().to_string();
    if bytes.len() > head.len() {
        text += "...";
    }
    format!("\"{text}\"")
}

/// Where a repair moves damaged lines: `<ledger>.damaged`.
fn side_path(path: &Path) -> PathBuf {
    let mut side = path.as_os_str().to_owned();
    side.push(".damaged");
    PathBuf::from(side)
}

/// Appends the damaged lines of `text` (each after a `#` line that says where it was and
/// why) to the side file and makes them durable, then writes the ledger again without them
/// (and without a torn last record): a new file, made durable, renamed over the old one.
fn repair(path: &Path, text: &[u8], damaged: &[Damaged]) -> io::Result<PathBuf> {
    let side = side_path(path);
    let mut moved = Vec::new();
    for damage in damaged {
        moved.extend_from_slice(
            format!(
                "# line {} of {}: {}\n",
                damage.line,
                path.display(),
                damage.reason
            )
            .as_bytes(),
        );
        moved.extend_from_slice(&damage.bytes);
        moved.push(b'\n');
    }
    let mut side_file = OpenOptions::new().create(true).append(true).open(&side)?;
    side_file.write_all(&moved)?;
    side_file.sync_all()?;

    let mut kept = Vec::with_capacity(text.len());
    let mut bad = damaged.iter().map(|d| d.line).peekable();
    for (at, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        if bad.peek() == Some(&(at + 1)) {
            bad.next();
        } else {
            kept.extend_from_slice(line);
        }
    }
    let mut new = path.as_os_str().to_owned();
    new.push(".repairing");
    let new = PathBuf::from(new);
    let mut file = File::create(&new)?;
    file.write_all(&kept)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&new, path)?;
    // The rename is durable once the directory is (on Unix; elsewhere a directory cannot be
    // opened to be synced).
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()?;
    }
    Ok(side)
}

/// Opens (creating if needed) the ledger to read it and append to it.
fn open_for_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
}

/// The ledger thread's side of the file.
struct Writer {
    /// The ledger, opened to append.
    file: File,
    /// The length of the file up to its last durable record.
    good_len: u64,
    /// Whether bytes of a failed batch may still be past `good_len` (the cut failed).
    dirty: bool,
    /// The fail point, with the length the "file system" lets the file reach.
    fail_point: Option<(FailPoint, u64)>,
    /// The failing episode under way: failed batches and orders so far.
    episode: Option<(u64, usize)>,
}

impl Writer {
    /// Writes batches of records until every `Ledger` handle is gone.
    fn run(mut self, appends: async_channel::Receiver<Append>) {
        while let Ok(first) = appends.recv_blocking() {
            let mut batch = vec![first];
            while let Ok(more) = appends.try_recv() {
                batch.push(more);
            }
            let bytes: String = batch.iter().map(|append| append.record.as_str()).collect();
            let outcome = self.commit(bytes.as_bytes());
            match &outcome {
                Ok(()) => {
                    if let Some((batches, orders)) = self.episode.take() {
                        eprintln!(
                            "server: ledger writes succeed again, after {batches} failed \
                             batches ({orders} orders answered error, free to be retried)"
                        );
                    }
                }
                Err(err) => {
                    let episode = self.episode.get_or_insert((0, 0));
                    if episode.0 == 0 {
                        eprintln!(
                            "server: ledger write failed: {err}; cut back to its last record \
                             ({} bytes); payments fail until a write succeeds again",
                            self.good_len
                        );
                    }
                    episode.0 += 1;
                    episode.1 += batch.len();
                }
            }
            for append in batch {
                let reply = match &outcome {
                    Ok(()) => Ok(()),
                    Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
                };
                let _ = append.done.try_send(reply);
            }
        }
    }

    /// Appends `bytes` and makes them durable, or fails and cuts the file back to its last
    /// durable record.
    fn commit(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.dirty {
            self.cut_back()?;
        }
        // One write for the whole batch: with O_APPEND, records of different payments never
        // interleave.
        let outcome = self.write(bytes).and_then(|()| self.file.sync_data());
        match outcome {
            Ok(()) => {
                self.good_len += bytes.len() as u64;
                Ok(())
            }
            Err(err) => {
                self.dirty = true;
                if let Err(cut) = self.cut_back() {
                    eprintln!(
                        "server: cutting the ledger back to {} bytes failed: {cut}; tried again \
                         before the next write",
                        self.good_len
                    );
                }
                Err(err)
            }
        }
    }

    /// Cuts the file back to its last durable record, durably.
    fn cut_back(&mut self) -> io::Result<()> {
        self.file.set_len(self.good_len)?;
        self.file.sync_data()?;
        self.dirty = false;
        Ok(())
    }

    /// Writes `bytes`, or what fits of them under the fail point before failing with
    /// `ENOSPC`.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some((point, capacity)) = self.fail_point {
            let room = capacity.saturating_sub(self.good_len) as usize;
            if bytes.len() > room {
                self.file.write_all(&bytes[..room])?;
                // One failure less before the space comes back.
                self.fail_point = match point.space_back_after {
                    Some(left) if left <= 1 => None,
                    Some(left) => Some((
                        FailPoint {
                            space_back_after: Some(left - 1),
                            ..point
                        },
                        capacity,
                    )),
                    None => Some((point, capacity)),
                };
                return Err(no_space());
            }
        }
        self.file.write_all(bytes)
    }
}

/// The error a full disk gives: `ENOSPC` (`ERROR_DISK_FULL` on Windows).
fn no_space() -> io::Error {
    io::Error::from_raw_os_error(if cfg!(windows) { 112 } else { 28 })
}
