//! Rule 30 (feature `tracing`): every child and scope body runs in a span of its own, whose
//! parent is the span current where it was started (on any thread), with the fields `site`,
//! `shielded` and `outcome`; `race_ok`'s later attempts are parented at the call. A small
//! recording subscriber, installed once for this test binary, keeps every span.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use smol_nursery::{race_ok, scope, shield, Nursery, NurserySet};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;

use crate::common::{run, yields};

/// One recorded span.
#[derive(Clone, Debug)]
struct Recorded {
    id: u64,
    name: &'static str,
    target: String,
    level: tracing::Level,
    parent: Option<u64>,
    fields: HashMap<String, String>,
    metadata: &'static Metadata<'static>,
    /// Handles to the span still alive; 0 once it closed.
    handles: usize,
}

/// Records every span, its parent (explicit, or the span entered on this thread) and its
/// fields.
#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, Recorded>>,
}

thread_local! {
    /// The spans entered on this thread, innermost last.
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Copies fields into a map, as text.
struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let parent = if attrs.is_root() {
            None
        } else if let Some(parent) = attrs.parent() {
            Some(parent.into_u64())
        } else {
            STACK.with(|stack| stack.borrow().last().copied())
        };
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let metadata = attrs.metadata();
        self.spans.lock().unwrap().insert(
            id,
            Recorded {
                id,
                name: metadata.name(),
                target: metadata.target().to_string(),
                level: *metadata.level(),
                parent,
                fields,
                metadata,
                handles: 1,
            },
        );
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(recorded) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut recorded.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn clone_span(&self, span: &Id) -> Id {
        if let Some(recorded) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            recorded.handles += 1;
        }
        span.clone()
    }

    fn try_close(&self, span: Id) -> bool {
        match self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            Some(recorded) => {
                recorded.handles -= 1;
                recorded.handles == 0
            }
            None => false,
        }
    }

    fn enter(&self, span: &Id) {
        STACK.with(|stack| stack.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, _: &Id) {
        STACK.with(|stack| stack.borrow_mut().pop());
    }

    fn current_span(&self) -> Current {
        match STACK.with(|stack| stack.borrow().last().copied()) {
            Some(id) => {
                let metadata = self.spans.lock().unwrap()[&id].metadata;
                Current::new(Id::from_u64(id), metadata)
            }
            None => Current::none(),
        }
    }
}

/// The recorder, installed as the global default once for this binary (children run on
/// executor threads, which a thread-local default would not reach).
fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<&'static Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static Recorder = Box::leak(Box::default());
        tracing::subscriber::set_global_default(Forward(recorder)).expect("one global default");
        recorder
    })
}

/// Hands everything to the leaked recorder.
struct Forward(&'static Recorder);

impl Subscriber for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        self.0.new_span(attrs)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.0.record(span, values)
    }
    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.0.record_follows_from(span, follows)
    }
    fn clone_span(&self, span: &Id) -> Id {
        self.0.clone_span(span)
    }
    fn try_close(&self, span: Id) -> bool {
        self.0.try_close(span)
    }
    fn event(&self, event: &Event<'_>) {
        self.0.event(event)
    }
    fn enter(&self, span: &Id) {
        self.0.enter(span)
    }
    fn exit(&self, span: &Id) {
        self.0.exit(span)
    }
    fn current_span(&self) -> Current {
        self.0.current_span()
    }
}

/// The spans whose parent is `parent`, with their `site` field.
fn children_of(parent: &tracing::Span) -> Vec<(String, Recorded)> {
    let parent = parent.id().expect("the recorder is interested").into_u64();
    recorder()
        .spans
        .lock()
        .unwrap()
        .values()
        .filter(|span| span.parent == Some(parent))
        .map(|span| (span.fields["site"].clone(), span.clone()))
        .collect()
}

/// A request's span is the parent of every child it starts, on any thread; each child's span
/// has its name, target, level, site and shield, and how it ended.
#[test]
fn children_are_spans_of_the_request_that_started_them() {
    recorder();
    run(2, |ex| async move {
        let request = tracing::info_span!("request", test = "children");
        let nursery = Nursery::<String>::new(&ex);
        let sites = request.in_scope(|| {
            let ok = Location::caller();
            nursery.start_soon(async {
                yields(3).await;
                Ok(())
            });
            let shielded = Location::caller();
            nursery.start_soon(shield(async { Ok(()) }));
            (ok, shielded)
        });
        nursery.join().await.unwrap();
        let spans = children_of(&request);
        assert_eq!(spans.len(), 2, "{spans:#?}");
        for (_, span) in &spans {
            assert_eq!(span.handles, 0, "a child's span outlived join");
            assert_eq!(span.name, "child");
            assert_eq!(span.target, "smol_nursery");
            assert_eq!(span.level, tracing::Level::INFO);
            assert_eq!(span.fields["outcome"], "ok");
        }
        // `Location::caller()` outside a `#[track_caller]` function is the line it is on: the
        // children were started on the next line each.
        let line_after = |loc: &Location<'_>| format!("{}:{}:", loc.file(), loc.line() + 1);
        let shielded: Vec<_> = spans
            .iter()
            .filter(|(site, _)| site.starts_with(&line_after(sites.1)))
            .collect();
        assert_eq!(shielded.len(), 1, "{spans:#?}");
        assert_eq!(shielded[0].1.fields["shielded"], "true");
        assert!(spans
            .iter()
            .any(|(s, _)| s.starts_with(&line_after(sites.0))));
    });
}

/// Failed, panicked and cancelled children are told apart in `outcome`; a set's child whose
/// result is an `Err` is `failed` too; a scope's body is a span named `scope`.
#[test]
fn outcomes_tell_failed_panicked_and_cancelled_apart() {
    recorder();
    run(2, |ex| async move {
        let request = tracing::info_span!("request", test = "outcomes");
        let nursery = smol_nursery::NurseryBuilder::new()
            .fail_fast(false)
            .build::<&str>(&ex);
        let set = NurserySet::<u8, &str>::new(&ex);
        request.in_scope(|| {
            nursery.start_soon(async { Err::<(), _>("failed") });
            nursery.start_soon(async {
                std::panic::panic_any::<_>("panicked");
                #[allow(unreachable_code)]
                Ok::<(), &str>(())
            });
            set.start_soon(async { Err("failed in a set") });
            set.start_soon(async { Ok(1) });
        });
        let cancelled = Nursery::<()>::new(&ex);
        request.in_scope(|| cancelled.start_soon(crate::common::forever::<Result<(), ()>>()));
        yields(4).await;
        cancelled.cancel();
        cancelled.join().await.unwrap();
        let _ = futures_lite::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(nursery.join()))
            .await;
        let _ = set.join().await;
        let body = request.in_scope(|| scope(&ex, |_n| async { Err::<(), _>("body failed") }));
        let _ = body.await;

        let mut outcomes: Vec<(&str, String)> = children_of(&request)
            .iter()
            .map(|(_, span)| (span.name, span.fields["outcome"].clone()))
            .collect();
        outcomes.sort();
        assert_eq!(
            outcomes,
            [
                ("child", "cancelled".to_string()),
                ("child", "failed".to_string()),
                ("child", "failed".to_string()),
                ("child", "ok".to_string()),
                ("child", "panicked".to_string()),
                ("scope", "failed".to_string()),
            ]
        );
    });
}

/// An attempt that `race_ok` starts later, while the race is polled outside the request's
/// span, still has the span current at the `race_ok` call as its parent.
#[test]
fn later_race_attempts_are_children_of_the_span_at_the_call() {
    recorder();
    run(2, |ex| async move {
        let request = tracing::info_span!("request", test = "race");
        let race = request.in_scope(|| {
            race_ok(
                &ex,
                (0..3).map(|i| async move {
                    yields(2).await;
                    if i < 2 {
                        Err(i)
                    } else {
                        Ok(i)
                    }
                }),
                Duration::from_secs(60),
            )
        });
        assert_eq!(race.await.ok(), Some(2));
        let spans = children_of(&request);
        assert_eq!(
            spans.len(),
            3,
            "every attempt, the later ones too: {spans:#?}"
        );
        assert!(spans.iter().all(|(_, span)| span.name == "child"));
    });
}

/// A grandchild started from inside a child, on whichever executor thread polls the child,
/// has the child's span as its parent; a graced child is `shielded`.
#[test]
fn a_grandchild_is_a_span_of_its_parent_child_on_any_thread() {
    recorder();
    for threads in crate::common::THREADS {
        run(threads, move |ex| async move {
            let request = tracing::info_span!("request", test = "grandchild", threads);
            let nursery = Nursery::<()>::new(&ex);
            let handle = nursery.handle();
            request.in_scope(|| {
                nursery.start_soon(
                    shield(async move {
                        yields(2).await;
                        handle.start_soon(async { Ok(()) }).unwrap();
                        Ok(())
                    })
                    .grace(Duration::from_secs(5)),
                )
            });
            nursery.join().await.unwrap();
            let children = children_of(&request);
            assert_eq!(children.len(), 1);
            assert_eq!(
                children[0].1.fields["shielded"], "true",
                "graced counts as shielded"
            );
            let child = children[0].1.id;
            let grandchildren = recorder()
                .spans
                .lock()
                .unwrap()
                .values()
                .filter(|span| span.parent == Some(child))
                .count();
            assert_eq!(grandchildren, 1, "{threads} threads");
        });
    }
}
