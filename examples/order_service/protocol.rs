//! The wire protocol: what a client may send, what the server answers, and how a line is read
//! without trusting its sender.
//!
//! A request is one line, `<order-id> <amount>\n` (a `\r` before the newline is ignored):
//!
//! - the id, 1 to 64 characters of `[A-Za-z0-9_-]`, is the order's idempotency key;
//! - the amount is a positive decimal with at most two decimals, at most 1 000 000.00
//!   (`12`, `12.5`, `0.01`; not `-5`, `1e3`, `12.345`, `0`, `inf`).
//!
//! Each request gets one answer line: `paid <order-id>` once the order is durably in the
//! ledger (again, if it already was with the same amount: `10` and `10.00` are the same
//! order), or `error <reason>`: among them `error conflict: <order-id> was paid <amount>` for
//! an id already paid with another amount, and `error payment of <order-id> failed, not paid:
//! <why>` when the ledger could not be written (the order may be sent again). Nothing else is
//! ever written to the ledger. A line longer than 1 KiB is answered `error line too long` and the connection
//! is closed without reading the rest of it; so is a connection that stays silent for the
//! idle deadline (`error idle ...`).

use std::fmt;
use std::io;

use futures_lite::{AsyncBufRead, AsyncBufReadExt};

/// The longest line accepted, newline excluded.
pub const MAX_LINE: usize = 1024;

/// The longest order id.
const MAX_ID: usize = 64;

/// The largest amount, in cents.
const MAX_CENTS: u64 = 100_000_000;

/// A valid order.
#[derive(Debug)]
pub struct Order {
    /// The idempotency key.
    pub id: String,
    /// The amount as the ledger writes it: `<units>.<cents>`, two decimals.
    pub amount: String,
}

/// Why a request line was refused; its `Display` is the reason in `error <reason>`.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not two fields separated by white space.
    Malformed,
    /// The id is empty, too long, or has a character outside `[A-Za-z0-9_-]`.
    BadId,
    /// The amount is not a positive decimal with at most two decimals, or is too large.
    BadAmount,
    /// The line is not UTF-8.
    NotUtf8,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::Malformed => "malformed order: expected `<order-id> <amount>`",
            Refused::BadId => "bad order id: 1 to 64 characters of A-Z a-z 0-9 _ -",
            Refused::BadAmount => {
                "bad amount: a positive decimal with at most two decimals, at most 1000000.00"
            }
            Refused::NotUtf8 => "invalid utf-8",
        })
    }
}

/// Parses and validates one request line (without its newline).
pub fn parse(line: &[u8]) -> Result<Order, Refused> {
    let line = std::str::from_utf8(line).map_err(|_| Refused::NotUtf8)?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut fields = line.split_ascii_whitespace();
    let (Some(id), Some(amount), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(Refused::Malformed);
    };
    let id_ok = id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !id_ok {
        return Err(Refused::BadId);
    }
    let cents = cents(amount).ok_or(Refused::BadAmount)?;
    Ok(Order {
        id: id.to_owned(),
        amount: format!("{}.{:02}", cents / 100, cents % 100),
    })
}

/// The amount in cents, if it is a positive decimal with at most two decimals and at most
/// `MAX_CENTS`.
fn cents(amount: &str) -> Option<u64> {
    let (units, decimals) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(units) || (amount.contains('.') && !digits(decimals)) || decimals.len() > 2 {
        return None;
    }
    // At most 9 digits of units: anything longer is over the bound, and cannot overflow.
    let units = units.trim_start_matches('0');
    if units.len() > 9 {
        return None;
    }
    let units: u64 = if units.is_empty() {
        0
    } else {
        units.parse().ok()?
    };
    let decimals: u64 = format!("{decimals:0<2}").parse().ok()?;
    let cents = units * 100 + decimals;
    (1..=MAX_CENTS).contains(&cents).then_some(cents)
}

/// One read from a connection.
pub enum Read {
    /// A complete line, newline excluded.
    Line(Vec<u8>),
    /// The line grew past `MAX_LINE` bytes: what came of it was dropped, not kept.
    TooLong,
    /// The client closed the connection (a last line without its newline is dropped: it is
    /// an order the client never finished sending).
    Eof,
}

/// Reads one line of at most `MAX_LINE` bytes, buffering no more than that.
///
/// # Cancel safety
///
/// Cancel safe at a line boundary only: dropped mid-line, the part already read is lost.
pub async fn read_line(reader: &mut (impl AsyncBufRead + Unpin)) -> io::Result<Read> {
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Read::Eof);
        }
        if let Some(at) = available.iter().position(|&b| b == b'\n') {
            if line.len() + at > MAX_LINE {
                return Ok(Read::TooLong);
            }
            line.extend_from_slice(&available[..at]);
            reader.consume(at + 1);
            return Ok(Read::Line(line));
        }
        if line.len() + available.len() > MAX_LINE {
            return Ok(Read::TooLong);
        }
        line.extend_from_slice(available);
        let used = available.len();
        reader.consume(used);
    }
}
