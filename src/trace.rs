//! Spans for children (feature `tracing`): every child, and a scope's body, is polled inside a
//! span of its own whose parent is the span that was current where it was started.
//!
//! | | |
//! |---|---|
//! | target | `smol_nursery` |
//! | level | `INFO` |
//! | name | `child` (a scope's body: `scope`) |
//! | fields | `site` (the start site, `file:line:column`), `shielded` (a bool, true for a graced child too), `outcome` (recorded when it ends: `ok`, `failed`, `panicked` or `cancelled`) |
//!
//! A span is kept only when a subscriber is interested in it: with no subscriber, a child
//! holds no span and pays one check of the callsite's interest when it starts. Without the
//! feature, [`Trace`] and [`Parent`] are empty and every method is a no-op: no `tracing` code
//! is compiled.

use std::panic::Location;

/// How a child ended, as its span records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It returned `Ok` (a set's child: its result is an `Ok`).
    Ok,
    /// It returned `Err` (a set's child too).
    Failed,
    /// It panicked.
    Panicked,
    /// It was cancelled.
    Cancelled,
}

impl Outcome {
    /// The value of the span's `outcome` field.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Panicked => "panicked",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// A child's span, if a subscriber is interested in it.
#[derive(Debug)]
pub(crate) struct Trace {
    /// The span; `None` when no subscriber is interested. Boxed: a child without a span
    /// grows by one word, not by a whole `Span`.
    #[cfg(feature = "tracing")]
    span: Option<Box<tracing::Span>>,
}

impl Trace {
    /// The span of a child started at `site`, a child of the current span.
    #[inline]
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn child(site: &'static Location<'static>, shielded: bool) -> Self {
        Trace {
            #[cfg(feature = "tracing")]
            span: boxed(tracing::info_span!(
                target: "smol_nursery",
                "child",
                site = %site,
                shielded,
                outcome = tracing::field::Empty,
            )),
        }
    }

    /// The span of a scope's body opened at `site`, a child of the current span.
    #[inline]
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn body(site: &'static Location<'static>) -> Self {
        Trace {
            #[cfg(feature = "tracing")]
            span: boxed(tracing::info_span!(
                target: "smol_nursery",
                "scope",
                site = %site,
                shielded = false,
                outcome = tracing::field::Empty,
            )),
        }
    }

    /// Runs `poll` inside the span.
    #[inline]
    pub(crate) fn in_span<R>(&self, poll: impl FnOnce() -> R) -> R {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            return span.in_scope(poll);
        }
        poll()
    }

    /// Records how the child ended (`None`: its wrapper recorded it already), and closes the
    /// span: before the child counts as finished, so that no child's span outlives `join`.
    #[inline]
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn ended(&mut self, outcome: Option<Outcome>) {
        #[cfg(feature = "tracing")]
        if let Some(span) = self.span.take() {
            if let Some(outcome) = outcome {
                span.record("outcome", outcome.as_str());
            }
        }
    }
}

/// Records how a set's child ended on the span being polled: its result's outcome.
#[inline]
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn record_current(outcome: Outcome) {
    #[cfg(feature = "tracing")]
    tracing::Span::current().record("outcome", outcome.as_str());
}

/// The span that was current where work was handed over to be started later (`race_ok`'s
/// later attempts), to start it inside.
#[derive(Debug)]
pub(crate) struct Parent {
    /// The span current at the hand-over; `None` when it is no span.
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

impl Parent {
    /// The span current now.
    #[inline]
    pub(crate) fn current() -> Self {
        Parent {
            #[cfg(feature = "tracing")]
            span: interested(tracing::Span::current()),
        }
    }

    /// Runs `start` with this span current.
    #[inline]
    pub(crate) fn in_span<R>(&self, start: impl FnOnce() -> R) -> R {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            return span.in_scope(start);
        }
        start()
    }
}

/// Keeps a span only if a subscriber is interested in it.
#[cfg(feature = "tracing")]
#[inline]
fn interested(span: tracing::Span) -> Option<tracing::Span> {
    (!span.is_disabled()).then_some(span)
}

/// Keeps a span, boxed, only if a subscriber is interested in it.
#[cfg(feature = "tracing")]
#[inline]
fn boxed(span: tracing::Span) -> Option<Box<tracing::Span>> {
    interested(span).map(Box::new)
}
