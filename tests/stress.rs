//! Randomized stress: random trees of children on executors run by 1, 2 and 4 threads, and
//! on a `LocalExecutor` with `LocalNursery` (the same tree code, made for both forms by the
//! `forms!` macro below).
//!
//! Every round is generated from a seed. Children succeed, fail, panic, sleep on
//! `async_io::Timer`, block their thread, are shielded, cancel themselves or siblings through
//! their handles, cancel the nursery, start siblings, and open nested nurseries; nurseries get
//! random deadlines, cancels from foreign threads, limits (1 to 3) and `fail_fast(false)`, and
//! some are dropped mid-way (their `join` loses a race against a timer). Under a limit, the
//! most children that ever ran at once must not exceed it. Some children are started with
//! `start` and say they are ready at a random step (or never): their failures before ready
//! must reach the task awaiting `start`, never `join`, and every `start` must resolve. A thread
//! of its own takes snapshots of the whole tree while the round runs (on the local executor, a
//! task of its own). Some nurseries are `scope`s whose body starts the children and then
//! returns, fails, panics or cancels its nursery; some children under a limit are started
//! through `reserve`; some shielded children have a grace period, and one cut must have been
//! cut after its grace (measured from the last moment it saw its nursery not cancelled), never
//! before. After every `join` the round checks that no child future of
//! that nursery, nor of any nursery nested in it (dropped nested nurseries are adopted), is
//! alive, that the nursery is closed and empty, and that every error returned by a child is
//! reported exactly once. At the end of the round, every shielded child must have
//! run to its end (unless its own handle cancelled it), and no child future may be left.
//!
//! Besides its random tree, every round runs a small scripted part (`Planner::rare_scenarios`)
//! that makes sure of the scenarios the random trees produce too rarely to count on: a nursery
//! dropped mid-way, a sibling it refuses, and a timeout (under Miri, whose run is short, an
//! error and a panic too). At the end, every scenario the summary counts must have happened on
//! every thread count, or the test fails and names it. Errors and panics are left to the random
//! trees, so a change that made the rounds trivial would fail the test.
//!
//! `stress/sets.rs` stresses sets the same way: see its module docs.
//!
//! - `STRESS_SEED=<n>` runs that one seed (the failure message prints it); one seed need not
//!   show every scenario;
//! - `STRESS_ROUNDS=<n>` sets the rounds per slot (1, 2, 4 threads, local; default 300, 2 under
//!   Miri);
//! - `STRESS_SOAK_SECS=<s>` keeps running fresh seeds for that long: the long soak.

mod common;
// Sets: results lost, handed out twice, or held past the limit.
#[path = "stress/sets.rs"]
mod sets;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::{future, FutureExt};
use smol_nursery::{shield, NurseryBuilder, Ready, StartError, TaskHandle};

/// How long one round may take before it counts as a hang.
const ROUND_WATCHDOG: Duration = Duration::from_secs(60);

/// A xorshift64* generator: small, seedable, reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// How a child ends, if it is not cancelled first.
#[derive(Clone, Copy, Debug)]
enum End {
    Ok,
    Err,
    Panic,
}

/// One thing a child does before it ends.
#[derive(Clone, Debug)]
enum Step {
    Sleep(u64),
    Yield(u32),
    Block(u64),
    StartSibling(ChildPlan),
    Nested(NurseryPlan),
    CancelSibling(usize),
    CancelSelf,
    CancelNursery,
    /// Waits until the nursery is closed, then starts this sibling, which must be refused.
    StartAfterClose(ChildPlan),
}

/// What one child does.
#[derive(Clone, Debug)]
struct ChildPlan {
    id: u32,
    shielded: bool,
    /// Left out of the nursery's table of handles, so that no sibling cancels it.
    hidden: bool,
    steps: Vec<Step>,
    end: End,
    /// Started with `start` instead of `start_soon`: the child calls `ready.started(())`
    /// before this step (`steps.len()`: right before its end; more: never). Until then its
    /// failure goes to the task awaiting `start`, not to `join`.
    ready_at: Option<usize>,
    /// With `shielded`: `shield(...).grace(..)` of this many milliseconds.
    grace_ms: Option<u64>,
    /// Started by the nursery's owner through `reserve` (only under a limit).
    via_reserve: bool,
}

/// What one nursery does.
#[derive(Clone, Debug)]
struct NurseryPlan {
    id: u32,
    children: Vec<ChildPlan>,
    deadline_ms: Option<u64>,
    foreign_cancel_ms: Option<u64>,
    drop_after_ms: Option<u64>,
    /// `NurseryBuilder::limit`: at most this many children run at once.
    limit: Option<usize>,
    /// `NurseryBuilder::fail_fast`.
    fail_fast: bool,
    /// What `join` must report, for the nurseries of `Planner::rare_scenarios`.
    expect: Option<Expect>,
    /// A `scope` instead of a nursery and `join`: its body starts the children, yields, and
    /// then ends this way (its id is that of the nursery).
    scope: Option<BodyEnd>,
}

/// How a scope's body ends, if it is not cancelled first.
#[derive(Clone, Copy, Debug)]
enum BodyEnd {
    Returns,
    Fails,
    Panics,
    /// Cancels its own nursery, then waits: it is dropped at that await.
    Cancels,
}

/// What `join` of a scripted nursery must report.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Timeout,
    Error,
    Panic,
    /// A scope whose body cancelled its nursery.
    Cancelled,
}

/// Builds random plans with unique ids.
struct Planner {
    rng: Rng,
    next_id: u32,
    budget: u32,
}

impl Planner {
    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn nursery(&mut self, depth: u32) -> NurseryPlan {
        let id = self.id();
        let count = if depth == 0 {
            2 + self.rng.below(7)
        } else {
            1 + self.rng.below(4)
        };
        let limit = self.rng.percent(25).then(|| 1 + self.rng.below(3) as usize);
        let mut children: Vec<_> = (0..count).map(|_| self.child(depth)).collect();
        if limit.is_some() {
            for child in &mut children {
                child.via_reserve = child.ready_at.is_none() && self.rng.percent(50);
            }
        }
        if depth == 0 {
            children.push(self.rare_scenarios());
        }
        NurseryPlan {
            id,
            children,
            // Miri cannot run async-io's reactor, which deadlines need.
            deadline_ms: (self.rng.percent(20) && !cfg!(miri)).then(|| self.rng.below(15)),
            foreign_cancel_ms: self.rng.percent(10).then(|| self.rng.below(10)),
            drop_after_ms: self.rng.percent(10).then(|| self.rng.below(10)),
            limit,
            fail_fast: !self.rng.percent(20),
            expect: None,
            scope: self.rng.percent(25).then(|| match self.rng.below(4) {
                0 => BodyEnd::Returns,
                1 => BodyEnd::Fails,
                2 => BodyEnd::Panics,
                _ => BodyEnd::Cancels,
            }),
        }
    }

    /// A child that makes sure the round has the scenarios random trees produce too rarely
    /// to be counted on: a nursery dropped before its `join` finished, a sibling refused by
    /// it, and (outside Miri) a timeout. Under Miri, which runs only two rounds per thread
    /// count, an error and a panic reported by `join` are made sure of too. The child is
    /// shielded and hidden from its siblings, so that neither the random tree nor its
    /// nursery's fate can cut it short, and it runs small nested nurseries one after another:
    ///
    /// - one whose only child is shielded and waits until the nursery is closed, so its `join`
    ///   cannot finish and always loses the race against the drop timer; once the nursery is
    ///   dropped, that child starts a sibling, which must be refused;
    /// - a scope under `limit(1)` whose children are started through `reserve` and with
    ///   `start`, and whose body cancels its own nursery;
    /// - one with a 1 ms deadline and a shielded child with a 2 ms grace that sleeps for a
    ///   minute, so the deadline fires while the child is unfinished, the child is cut after
    ///   its grace, and `join` must report a timeout;
    /// - under Miri, one whose child returns `Err` and one whose child panics.
    ///
    /// Each of them is checked as it happens: a refused start that is accepted, or a `join`
    /// that does not report what it must, is a violation.
    fn rare_scenarios(&mut self) -> ChildPlan {
        let plain = |id, steps, end| ChildPlan {
            id,
            shielded: false,
            hidden: false,
            steps,
            end,
            ready_at: None,
            grace_ms: None,
            via_reserve: false,
        };
        let scripted = |id, children, deadline_ms, drop_after_ms, expect| NurseryPlan {
            id,
            children,
            deadline_ms,
            foreign_cancel_ms: None,
            drop_after_ms,
            limit: None,
            fail_fast: true,
            expect,
            scope: None,
        };
        let refused = plain(self.id(), Vec::new(), End::Ok);
        let late_starter = ChildPlan {
            shielded: true,
            ..plain(self.id(), vec![Step::StartAfterClose(refused)], End::Ok)
        };
        let mut steps = vec![Step::Nested(scripted(
            self.id(),
            vec![late_starter],
            None,
            Some(0),
            None,
        ))];
        // A scope whose body cancels its own nursery, and one fed through `reserve`.
        let reserved = ChildPlan {
            via_reserve: true,
            ..plain(self.id(), vec![Step::Yield(1)], End::Ok)
        };
        // Started with `start`, ready at once (or cancelled first by the body).
        let readied = ChildPlan {
            ready_at: Some(0),
            hidden: true,
            ..plain(self.id(), vec![Step::Yield(1)], End::Ok)
        };
        let mut cancelling = scripted(
            self.id(),
            vec![reserved, readied],
            None,
            None,
            Some(Expect::Cancelled),
        );
        cancelling.scope = Some(BodyEnd::Cancels);
        cancelling.limit = Some(1);
        steps.push(Step::Nested(cancelling));
        if !cfg!(miri) {
            // Shielded with a 2 ms grace: cut 2 ms after the deadline fires.
            let sleeper = ChildPlan {
                shielded: true,
                grace_ms: Some(2),
                ..plain(self.id(), vec![Step::Sleep(60_000)], End::Ok)
            };
            steps.push(Step::Nested(scripted(
                self.id(),
                vec![sleeper],
                Some(1),
                None,
                Some(Expect::Timeout),
            )));
        } else {
            for (end, expect) in [(End::Err, Expect::Error), (End::Panic, Expect::Panic)] {
                let child = plain(self.id(), Vec::new(), end);
                steps.push(Step::Nested(scripted(
                    self.id(),
                    vec![child],
                    None,
                    None,
                    Some(expect),
                )));
            }
        }
        ChildPlan {
            shielded: true,
            hidden: true,
            ..plain(self.id(), steps, End::Ok)
        }
    }

    fn child(&mut self, depth: u32) -> ChildPlan {
        let id = self.id();
        let shielded = self.rng.percent(20);
        let mut steps = Vec::new();
        for _ in 0..self.rng.below(5) {
            let roll = self.rng.below(100);
            let step = match roll {
                0..=29 => Step::Sleep(self.rng.below(4)),
                30..=49 => Step::Yield(1 + self.rng.below(4) as u32),
                50..=54 => Step::Block(self.rng.below(300)),
                55..=66 if self.budget > 0 => {
                    self.budget -= 1;
                    Step::StartSibling(self.child(depth))
                }
                67..=74 if depth < 2 && self.budget > 0 => {
                    self.budget -= 1;
                    Step::Nested(self.nursery(depth + 1))
                }
                75..=83 => Step::CancelSibling(self.rng.below(16) as usize),
                84..=87 => Step::CancelSelf,
                88..=92 => Step::CancelNursery,
                _ => Step::Yield(1),
            };
            steps.push(step);
        }
        let end = match self.rng.below(100) {
            0..=69 => End::Ok,
            70..=91 => End::Err,
            _ => End::Panic,
        };
        // Some children are started with `start`; they are not in the table of handles, so
        // they cannot cancel themselves through one.
        let ready_at = self
            .rng
            .percent(15)
            .then(|| self.rng.below(steps.len() as u64 + 2) as usize);
        if ready_at.is_some() {
            for step in &mut steps {
                if matches!(step, Step::CancelSelf) {
                    *step = Step::Yield(1);
                }
            }
        }
        // Some shielded children get a grace period (it needs the reactor: not under Miri);
        // some of them sleep past it.
        let grace_ms = (shielded && !cfg!(miri) && self.rng.percent(40)).then(|| {
            if self.rng.percent(50) {
                steps.push(Step::Sleep(5 + self.rng.below(10)));
            }
            1 + self.rng.below(6)
        });
        ChildPlan {
            id,
            shielded,
            hidden: ready_at.is_some(),
            steps,
            end,
            ready_at,
            grace_ms,
            via_reserve: false,
        }
    }
}

/// The payload of a panic the plan asked for; any other panic is a failed check.
#[derive(Debug)]
struct PlannedPanic;

/// What a round observed, shared by all its children.
#[derive(Default)]
struct Ledger {
    inner: Mutex<LedgerInner>,
}

#[derive(Default)]
struct LedgerInner {
    /// Child futures alive, per nursery.
    alive: HashMap<u32, usize>,
    /// Child futures alive in the whole round.
    total_alive: usize,
    /// Children that have been polled and whose future is not dropped yet, per nursery, and
    /// the most there ever were at once.
    running: HashMap<u32, (usize, usize)>,
    /// Ids of the children that returned `Err`, per nursery, in order.
    returned: HashMap<u32, Vec<u32>>,
    /// Children whose own handle was cancelled, or that a dropped (so closed) nursery
    /// refused: a shield does not protect them.
    handle_cancelled: Vec<u32>,
    /// Children being started right now: if their future is dropped meanwhile, the nursery
    /// refused them (it was dropped; a running child never sees a joined nursery).
    starting: Vec<u32>,
    /// Children started with `start` whose `start` has not resolved yet.
    starts_pending: usize,
    /// Failed checks, with what went wrong.
    violations: Vec<String>,
    /// Counts for the summary.
    stats: Stats,
}

/// What a run did, for the summary line.
#[derive(Default, Clone, Copy, Debug)]
struct Stats {
    nurseries: u64,
    children: u64,
    errors: u64,
    panics: u64,
    timeouts: u64,
    dropped: u64,
    refused: u64,
    scopes: u64,
    bodies_cancelled: u64,
    reserved: u64,
    starts: u64,
    limited: u64,
    graced_in_grace: u64,
    graced_cut: u64,
    snapshots: u64,
}

impl Stats {
    fn add(&mut self, other: Stats) {
        self.nurseries += other.nurseries;
        self.children += other.children;
        self.errors += other.errors;
        self.panics += other.panics;
        self.timeouts += other.timeouts;
        self.dropped += other.dropped;
        self.refused += other.refused;
        self.scopes += other.scopes;
        self.bodies_cancelled += other.bodies_cancelled;
        self.reserved += other.reserved;
        self.starts += other.starts;
        self.limited += other.limited;
        self.graced_in_grace += other.graced_in_grace;
        self.graced_cut += other.graced_cut;
        self.snapshots += other.snapshots;
    }

    /// What `Planner::rare_scenarios` adds to the scenario counts of `rounds` rounds (each of
    /// them is checked as it happens).
    fn rare_scenarios(rounds: u64) -> Stats {
        let (miri, not_miri) = if cfg!(miri) { (rounds, 0) } else { (0, rounds) };
        Stats {
            errors: miri,
            panics: miri,
            timeouts: not_miri,
            dropped: rounds,
            refused: rounds,
            scopes: rounds,
            bodies_cancelled: rounds,
            reserved: rounds,
            starts: rounds,
            graced_cut: not_miri,
            ..Stats::default()
        }
    }

    fn minus(self, other: Stats) -> Stats {
        Stats {
            nurseries: self.nurseries.saturating_sub(other.nurseries),
            children: self.children.saturating_sub(other.children),
            errors: self.errors.saturating_sub(other.errors),
            panics: self.panics.saturating_sub(other.panics),
            timeouts: self.timeouts.saturating_sub(other.timeouts),
            dropped: self.dropped.saturating_sub(other.dropped),
            refused: self.refused.saturating_sub(other.refused),
            scopes: self.scopes.saturating_sub(other.scopes),
            bodies_cancelled: self.bodies_cancelled.saturating_sub(other.bodies_cancelled),
            reserved: self.reserved.saturating_sub(other.reserved),
            starts: self.starts.saturating_sub(other.starts),
            graced_cut: self.graced_cut.saturating_sub(other.graced_cut),
            ..self
        }
    }

    /// Every scenario a run must have shown, with its count. Deadlines need async-io's
    /// reactor, which Miri cannot run: there are no timeouts under Miri.
    fn scenarios(&self) -> Vec<(&'static str, u64)> {
        let mut scenarios = vec![
            ("a nursery", self.nurseries),
            ("a child", self.children),
            ("an error reported by join", self.errors),
            ("a panic resumed by join", self.panics),
            ("a nursery dropped before its join finished", self.dropped),
            ("a sibling refused by a dropped nursery", self.refused),
            ("a scope", self.scopes),
            ("a scope body cancelled", self.bodies_cancelled),
            ("a child started through reserve", self.reserved),
            ("a start resolved", self.starts),
            ("a nursery under a limit", self.limited),
            ("a snapshot taken while the round ran", self.snapshots),
        ];
        if !cfg!(miri) {
            scenarios.push(("a timeout reported by join", self.timeouts));
            scenarios.push((
                "a graced child that finished in its grace",
                self.graced_in_grace,
            ));
            scenarios.push(("a graced child cut after its grace", self.graced_cut));
        }
        scenarios
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} nurseries ({} scopes, {} bodies cancelled; {} under a limit), {} children \
             ({} through reserve, {} starts resolved; graced: {} finished in their grace, {} cut \
             after it), {} errors reported, {} panics resumed, {} timeouts, {} nurseries dropped \
             mid-way, {} siblings refused by dropped nurseries, {} snapshots",
            self.nurseries,
            self.scopes,
            self.bodies_cancelled,
            self.limited,
            self.children,
            self.reserved,
            self.starts,
            self.graced_in_grace,
            self.graced_cut,
            self.errors,
            self.panics,
            self.timeouts,
            self.dropped,
            self.refused,
            self.snapshots
        )
    }
}

impl Ledger {
    fn with<R>(&self, f: impl FnOnce(&mut LedgerInner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Counts a child future of `nursery` as alive until dropped.
struct AliveGuard {
    ledger: Arc<Ledger>,
    nursery: u32,
}

impl AliveGuard {
    fn new(ledger: &Arc<Ledger>, nursery: u32) -> Self {
        ledger.with(|l| {
            *l.alive.entry(nursery).or_default() += 1;
            l.total_alive += 1;
            l.stats.children += 1;
        });
        AliveGuard {
            ledger: ledger.clone(),
            nursery,
        }
    }
}

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.ledger.with(|l| {
            *l.alive.get_mut(&self.nursery).unwrap() -= 1;
            l.total_alive -= 1;
        });
    }
}

/// Counts a child of `nursery` as running from its first poll until its future is dropped.
struct RunningGuard {
    ledger: Arc<Ledger>,
    nursery: u32,
}

impl RunningGuard {
    fn new(ledger: &Arc<Ledger>, nursery: u32) -> Self {
        ledger.with(|l| {
            let (now, peak) = l.running.entry(nursery).or_default();
            *now += 1;
            *peak = (*peak).max(*now);
        });
        RunningGuard {
            ledger: ledger.clone(),
            nursery,
        }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.ledger
            .with(|l| l.running.get_mut(&self.nursery).unwrap().0 -= 1);
    }
}

/// Lives inside a shielded child's future: dropping it before the child reached its end,
/// other than by the child's own panic, means the shield failed.
struct ShieldWitness {
    ledger: Arc<Ledger>,
    child: u32,
    ended: bool,
}

impl Drop for ShieldWitness {
    fn drop(&mut self) {
        if !self.ended && !std::thread::panicking() {
            let child = self.child;
            self.ledger.with(|l| {
                if !l.handle_cancelled.contains(&child) && !l.starting.contains(&child) {
                    l.violations
                        .push(format!("shielded child {child} was cancelled"));
                }
            });
        }
    }
}

/// Lives inside a graced child's future: dropped before the child reached its end (other than
/// by its own panic, its own handle, or a refusal), the child was cut, which must not happen
/// before its grace has passed since its nursery was cancelled. The child notes, before each
/// step, the last moment it saw its nursery not cancelled: the cancellation came later, so a
/// cut sooner than the grace after that moment is certainly too early.
struct GraceWitness {
    ledger: Arc<Ledger>,
    child: u32,
    grace: Duration,
    last_open: Instant,
    ended: bool,
}

impl Drop for GraceWitness {
    fn drop(&mut self) {
        if self.ended || std::thread::panicking() {
            return;
        }
        let child = self.child;
        let cut_after = self.last_open.elapsed();
        let grace = self.grace;
        self.ledger.with(|l| {
            if l.handle_cancelled.contains(&child) || l.starting.contains(&child) {
                return;
            }
            l.stats.graced_cut += 1;
            if cut_after < grace {
                l.violations.push(format!(
                    "graced child {child} was cut {cut_after:?} after it last saw its nursery \
                     open, before its grace of {grace:?}"
                ));
            }
        });
    }
}

/// The ids of every nursery opened, directly or not, inside the children of `plan`: the
/// nurseries whose parent chain leads to it, which it adopts if they are dropped.
fn descendants(plan: &NurseryPlan, out: &mut Vec<u32>) {
    fn of_child(child: &ChildPlan, out: &mut Vec<u32>) {
        for step in &child.steps {
            match step {
                Step::Nested(nested) => {
                    out.push(nested.id);
                    descendants(nested, out);
                }
                Step::StartSibling(sibling) => of_child(sibling, out),
                _ => {}
            }
        }
    }
    for child in &plan.children {
        of_child(child, out);
    }
}

/// A snapshot (or one of its nested ones) that lists more children than it counts.
fn inconsistent(snapshot: &smol_nursery::Snapshot) -> Option<String> {
    if snapshot.children().len() > snapshot.len() {
        return Some(format!(
            "a snapshot lists {} children but counts {}",
            snapshot.children().len(),
            snapshot.len()
        ));
    }
    snapshot
        .nurseries()
        .iter()
        .chain(snapshot.children().iter().flat_map(|c| c.nurseries()))
        .find_map(inconsistent)
}

/// The tree code of one form of nursery: `$Handle` on the executor type of the runtime
/// module `$rt`, built with `NurseryBuilder::$build` / `$scope`, with children that are
/// `$($Send)*`. Instantiated for `Nursery` and for `LocalNursery`.
macro_rules! forms {
    ($form:ident: $Handle:ident on $rt:ident, $build:ident, $scope:ident, [$($Send:tt)*]) => {
        mod $form {
            use super::*;
            use super::$rt as rt;

            /// The executor, as the round holds it.
            type Ex = rt::Ex;
            /// A handle to a nursery of this form.
            type Handle = smol_nursery::$Handle<'static, u32>;

        /// What a child needs to act on its nursery.
        #[derive(Clone)]
        struct Ctx {
            ex: Ex,
            ledger: Arc<Ledger>,
            nursery: u32,
            handle: Handle,
            /// Handles of the nursery's children, with their ids, in start order.
            table: Table,
            /// The top nursery's handle, for the snapshots taken while the round runs.
            top: Top,
        }

        /// Where the top nursery's handle is kept for the snapshots.
        type Top = Arc<Mutex<Option<Handle>>>;

        /// The handles of a nursery's children, with their ids, in start order.
        type Table = Arc<Mutex<Vec<(u32, TaskHandle<()>)>>>;

        type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + $($Send)* 'static>>;

        /// Starts a child described by `plan` in the context's nursery; returns whether the nursery
        /// accepted it.
        fn start(ctx: &Ctx, plan: ChildPlan) -> bool {
            if plan.ready_at.is_some() {
                return start_with_ready(ctx, plan);
            }
            let mut table = ctx.table.lock().unwrap();
            let index = table.len();
            let shielded = plan.shielded;
            let hidden = plan.hidden;
            let id = plan.id;
            let grace = plan.grace_ms;
            let future = child(ctx.clone(), plan, index, None);
            ctx.ledger.with(|l| l.starting.push(id));
            let handle = match (shielded, grace) {
                (true, Some(ms)) => ctx.handle.start_soon(shield(future).grace(Duration::from_millis(ms))),
                (true, None) => ctx.handle.start_soon(shield(future)),
                (false, _) => ctx.handle.start_soon(future),
            };
            ctx.ledger.with(|l| l.starting.retain(|&s| s != id));
            match handle {
                Ok(handle) => {
                    if !hidden {
                        table.push((id, handle));
                    }
                    true
                }
                // Only a dropped nursery refuses a running child's sibling: `join` waits for every
                // running child before it closes the nursery.
                Err(_closed) => {
                    ctx.ledger.with(|l| l.stats.refused += 1);
                    false
                }
            }
        }

        /// Starts a child in a place reserved with `reserve` (by the nursery's owner only: a child
        /// that reserves in its own nursery under a limit may wait for the place it holds itself).
        async fn start_reserved(ctx: &Ctx, plan: ChildPlan) {
            let Ok(slot) = ctx.handle.reserve().await else {
                ctx.ledger.with(|l| l.stats.refused += 1);
                return;
            };
            ctx.ledger.with(|l| l.stats.reserved += 1);
            // Held until the handle is in: a child that cancels itself looks itself up there.
            let mut table = ctx.table.lock().unwrap();
            let index = table.len();
            let (id, shielded, grace) = (plan.id, plan.shielded, plan.grace_ms);
            let future = child(ctx.clone(), plan, index, None);
            let handle = match (shielded, grace) {
                (true, Some(ms)) => slot.start_soon(shield(future).grace(Duration::from_millis(ms))),
                (true, None) => slot.start_soon(shield(future)),
                (false, _) => slot.start_soon(future),
            };
            table.push((id, handle));
        }

        /// Starts a child with `start`, and a task that awaits its `start` to the end: a failure
        /// before ready must reach that task, never `join`; a planned panic before ready is resumed
        /// there; every `start` resolves (the round waits for all of them).
        fn start_with_ready(ctx: &Ctx, plan: ChildPlan) -> bool {
            let shielded = plan.shielded;
            let id = plan.id;
            let closed = ctx.handle.is_closed();
            let child_ctx = ctx.clone();
            ctx.ledger.with(|l| {
                l.starts_pending += 1;
                // If the nursery closes between `start`'s check and its spawn, the child's future is
                // dropped unpolled: a refusal, not a broken shield.
                l.starting.push(id);
            });
            let starting = if shielded {
                ctx.handle
                    .start(move |ready| shield(child(child_ctx, plan, usize::MAX, Some(ready))))
            } else {
                ctx.handle
                    .start(move |ready| child(child_ctx, plan, usize::MAX, Some(ready)))
            };
            ctx.ledger.with(|l| l.starting.retain(|&s| s != id));
            let ledger = ctx.ledger.clone();
            ctx.ex
                .spawn(async move {
                    let outcome = AssertUnwindSafe(starting).catch_unwind().await;
                    ledger.with(|l| {
                        l.starts_pending -= 1;
                        l.stats.starts += 1;
                        match outcome {
                            Ok(Ok(_)) | Ok(Err(StartError::Exited | StartError::Cancelled)) => {}
                            Ok(Err(StartError::Failed(_))) => {}
                            Ok(Err(StartError::Closed)) => l.stats.refused += 1,
                            Err(panic) if panic.is::<PlannedPanic>() => {}
                            Err(_) => l.violations.push("start resumed an unplanned panic".into()),
                        }
                    });
                })
                .detach();
            !closed
        }

        /// The future of one child.
        fn child(
            ctx: Ctx,
            plan: ChildPlan,
            index: usize,
            mut ready: Option<Ready<()>>,
        ) -> BoxFuture<Result<(), u32>> {
            let alive = AliveGuard::new(&ctx.ledger, ctx.nursery);
            let mut witness = (plan.shielded && plan.grace_ms.is_none()).then(|| ShieldWitness {
                ledger: ctx.ledger.clone(),
                child: plan.id,
                ended: false,
            });
            let mut graced = plan.grace_ms.map(|ms| GraceWitness {
                ledger: ctx.ledger.clone(),
                child: plan.id,
                grace: Duration::from_millis(ms),
                last_open: Instant::now(),
                ended: false,
            });
            Box::pin(async move {
                let _alive = alive;
                let _running = RunningGuard::new(&ctx.ledger, ctx.nursery);
                let ready_at = plan.ready_at;
                let steps = plan.steps.len();
                for (at, step) in plan.steps.into_iter().enumerate() {
                    if let Some(graced) = &mut graced {
                        if !ctx.handle.is_cancelled() {
                            graced.last_open = Instant::now();
                        }
                    }
                    if ready_at == Some(at) {
                        if let Some(ready) = ready.take() {
                            ready.started(());
                        }
                    }
                    match step {
                        Step::Sleep(ms) => common::sleep(ms).await,
                        Step::Yield(n) => common::yields(n as usize).await,
                        Step::Block(us) => std::thread::sleep(Duration::from_micros(us)),
                        Step::StartSibling(sibling) => {
                            start(&ctx, sibling);
                        }
                        Step::StartAfterClose(sibling) => {
                            while !ctx.handle.is_closed() {
                                future::yield_now().await;
                            }
                            let sibling_id = sibling.id;
                            if start(&ctx, sibling) {
                                ctx.ledger.with(|l| {
                                    l.violations.push(format!(
                                        "nursery {} accepted child {sibling_id} once closed",
                                        ctx.nursery
                                    ))
                                });
                            }
                        }
                        Step::Nested(nested) => {
                            run_nursery(ctx.ex.clone(), ctx.ledger.clone(), ctx.top.clone(), nested).await
                        }
                        Step::CancelSibling(k) => {
                            let table = ctx.table.lock().unwrap();
                            // Children started with `start` have no entry: the table may be empty.
                            if let Some((id, handle)) = table.get(k % table.len().max(1)) {
                                ctx.ledger.with(|l| l.handle_cancelled.push(*id));
                                handle.cancel();
                            }
                        }
                        Step::CancelSelf => {
                            let table = ctx.table.lock().unwrap();
                            let (id, handle) = &table[index];
                            ctx.ledger.with(|l| l.handle_cancelled.push(*id));
                            handle.cancel();
                        }
                        Step::CancelNursery => ctx.handle.cancel(),
                    }
                }
                if let Some(witness) = &mut witness {
                    witness.ended = true;
                }
                if let Some(graced) = &mut graced {
                    graced.ended = true;
                    if ctx.handle.is_cancelled() {
                        ctx.ledger.with(|l| l.stats.graced_in_grace += 1);
                    }
                }
                // Ready right before the end, or never (`ready_at` past the steps).
                let readied = match ready.take() {
                    Some(ready) if ready_at == Some(steps) => {
                        ready.started(());
                        true
                    }
                    Some(_never) => false,
                    None => true,
                };
                match plan.end {
                    End::Ok => Ok(()),
                    End::Err => {
                        // A failure before ready goes to the task awaiting `start`, not to `join`.
                        if readied {
                            ctx.ledger
                                .with(|l| l.returned.entry(ctx.nursery).or_default().push(plan.id));
                        }
                        Err(plan.id)
                    }
                    End::Panic => std::panic::panic_any(PlannedPanic),
                }
            })
        }

        /// Runs one nursery of the plan to its end, and checks it.
        fn run_nursery(ex: Ex, ledger: Arc<Ledger>, top: Top, plan: NurseryPlan) -> BoxFuture<()> {
            Box::pin(async move {
                ledger.with(|l| {
                    l.stats.nurseries += 1;
                    l.stats.limited += u64::from(plan.limit.is_some());
                    l.stats.scopes += u64::from(plan.scope.is_some());
                });
                let mut nested_ids = Vec::new();
                descendants(&plan, &mut nested_ids);
                let mut builder = NurseryBuilder::new().fail_fast(plan.fail_fast);
                if let Some(limit) = plan.limit {
                    builder = builder.limit(limit);
                }
                let id = plan.id;
                let body_returned = Arc::new(std::sync::atomic::AtomicBool::new(false));
                // The nursery's children are started by its owner: the body of a scope, or this
                // function before it joins.
                let owner = {
                    let (ex, ledger, top) = (ex.clone(), ledger.clone(), top.clone());
                    let (deadline_ms, foreign_cancel_ms) = (plan.deadline_ms, plan.foreign_cancel_ms);
                    move |handle: Handle, children: Vec<ChildPlan>| async move {
                        let ctx = Ctx {
                            ex: ex.clone(),
                            ledger,
                            nursery: id,
                            handle: handle.clone(),
                            table: Arc::new(Mutex::new(Vec::new())),
                            top: top.clone(),
                        };
                        top.lock().unwrap().get_or_insert_with(|| handle.clone());
                        if let Some(ms) = deadline_ms {
                            handle.cancel_after(Duration::from_millis(ms));
                        }
                        for child_plan in children {
                            if child_plan.via_reserve {
                                start_reserved(&ctx, child_plan).await;
                            } else {
                                start(&ctx, child_plan);
                            }
                        }
                        if let Some(ms) = foreign_cancel_ms {
                            rt::cancel_later(&ex, handle.clone(), ms);
                        }
                    }
                };
                let (handle, joined): (Handle, BoxFuture<_>) = match plan.scope {
                    None => {
                        let nursery = builder.$build::<u32>(&ex);
                        let handle = nursery.handle();
                        owner(handle.clone(), plan.children).await;
                        (handle, Box::pin(nursery.join()))
                    }
                    Some(body_end) => {
                        let cell = Arc::new(Mutex::new(None));
                        let (returned, ledger) = (body_returned.clone(), ledger.clone());
                        let children = plan.children;
                        let scope = builder.$scope(&ex, |n: Handle| {
                            *cell.lock().unwrap() = Some(n.clone());
                            async move {
                                owner(n.clone(), children).await;
                                common::yields(1).await;
                                let end = match body_end {
                                    BodyEnd::Returns => Ok(()),
                                    BodyEnd::Fails => {
                                        ledger.with(|l| l.returned.entry(id).or_default().push(id));
                                        Err(id)
                                    }
                                    BodyEnd::Panics => std::panic::panic_any(PlannedPanic),
                                    BodyEnd::Cancels => {
                                        n.cancel();
                                        common::forever::<()>().await;
                                        Ok(())
                                    }
                                };
                                returned.store(true, std::sync::atomic::Ordering::SeqCst);
                                end
                            }
                        });
                        let handle = cell.lock().unwrap().take().expect("the body was called");
                        (handle, Box::pin(scope))
                    }
                };
                let joined = AssertUnwindSafe(joined).catch_unwind();
                let outcome = match plan.drop_after_ms {
                    None => Some(joined.await),
                    Some(ms) => {
                        future::or(async { Some(joined.await) }, async {
                            common::sleep(ms).await;
                            None
                        })
                        .await
                    }
                };
                if plan.scope.is_some() && !body_returned.load(std::sync::atomic::Ordering::SeqCst) {
                    ledger.with(|l| l.stats.bodies_cancelled += 1);
                }
                let Some(outcome) = outcome else {
                    // The join future was dropped, and the nursery with it: the round's end checks
                    // that its children go away and its shielded children finish.
                    ledger.with(|l| {
                        l.stats.dropped += 1;
                        if !handle.is_closed() {
                            l.violations
                                .push(format!("nursery {id} dropped but not closed"));
                        }
                    });
                    return;
                };
                ledger.with(|l| {
                    let reported = match plan.expect {
                        None => true,
                        // A scope whose body cancelled its nursery with nothing else wrong.
                        Some(Expect::Cancelled) => {
                            matches!(&outcome, Ok(Err(err)) if err.is_cancelled() || !err.errors().is_empty())
                        }
                        Some(Expect::Timeout) => matches!(&outcome, Ok(Err(err)) if err.is_timeout()),
                        Some(Expect::Error) => matches!(&outcome, Ok(Err(err)) if !err.errors().is_empty()),
                        Some(Expect::Panic) => matches!(&outcome, Err(panic) if panic.is::<PlannedPanic>()),
                    };
                    if !reported {
                        l.violations.push(format!(
                            "nursery {id}: join did not report the expected {:?}",
                            plan.expect
                        ));
                    }
                    let alive = l.alive.get(&id).copied().unwrap_or(0);
                    if alive != 0 {
                        l.violations.push(format!(
                            "{alive} child futures of nursery {id} outlived join"
                        ));
                    }
                    // Nested nurseries that were dropped mid-way were adopted: nothing of them runs
                    // once this join has returned.
                    let orphans: usize = nested_ids
                        .iter()
                        .map(|nested| l.alive.get(nested).copied().unwrap_or(0))
                        .sum();
                    if orphans != 0 {
                        l.violations.push(format!(
                            "{orphans} child futures of nurseries nested in {id} outlived its join"
                        ));
                    }
                    if !handle.is_closed() || !handle.is_empty() {
                        l.violations
                            .push(format!("nursery {id} not closed and empty after join"));
                    }
                    let peak = l.running.get(&id).map_or(0, |&(_, peak)| peak);
                    if plan.limit.is_some_and(|limit| peak > limit) {
                        l.violations.push(format!(
                            "nursery {id}: {peak} children ran at once under limit({})",
                            plan.limit.unwrap_or_default()
                        ));
                    }
                    let mut returned = l.returned.get(&id).cloned().unwrap_or_default();
                    returned.sort_unstable();
                    match outcome {
                        Ok(Ok(())) if returned.is_empty() => {}
                        Ok(Ok(())) => l
                            .violations
                            .push(format!("nursery {id}: Ok, but {returned:?} failed")),
                        Ok(Err(err)) => {
                            let mut reported = err.errors().to_vec();
                            reported.sort_unstable();
                            if reported != returned {
                                l.violations.push(format!(
                                    "nursery {id}: reported {reported:?}, returned {returned:?}"
                                ));
                            }
                            l.stats.errors += reported.len() as u64;
                            l.stats.timeouts += u64::from(err.is_timeout());
                            if err.is_timeout() && plan.deadline_ms.is_none() {
                                l.violations
                                    .push(format!("nursery {id}: a timeout without a deadline"));
                            }
                        }
                        Err(panic) if panic.is::<PlannedPanic>() => l.stats.panics += 1,
                        Err(panic) => {
                            let message = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            l.violations
                                .push(format!("nursery {id}: unexpected panic: {message}"));
                        }
                    }
                });
            })
        }

        /// Runs one seeded round on an executor run by `threads` threads (ignored on the local
        /// executor); returns its stats.
        pub(super) fn round(seed: u64, threads: usize, budget: u32) -> Stats {
            let (done, finished) = mpsc::channel();
            std::thread::spawn(move || {
                let result = std::panic::catch_unwind(move || {
                    let mut planner = Planner {
                        rng: Rng::new(seed),
                        next_id: 0,
                        budget,
                    };
                    let plan = planner.nursery(0);
                    if std::env::var_os("STRESS_PRINT_PLAN").is_some() {
                        eprintln!("seed {seed}: {plan:#?}");
                    }
                    let ledger = Arc::new(Ledger::default());
                    let ex: Ex = rt::new_ex();
                    let top: Top = Arc::default();
                    let l = ledger.clone();
                    // Snapshots of the whole tree, taken while the round runs.
                    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
                    let watcher = rt::watch(&ex, top.clone(), ledger.clone(), watching.clone());
                    let root = top.clone();
                    let round_ex = ex.clone();
                    rt::run(&ex, threads, async move {
                        run_nursery(round_ex, l.clone(), root, plan).await;
                        // Detached shielded children of dropped nurseries finish on their own.
                        let start = Instant::now();
                        while l.with(|l| l.total_alive != 0 || l.starts_pending != 0) {
                            if start.elapsed() > Duration::from_secs(20) {
                                let alive = l.with(|l| l.total_alive);
                                l.with(|l| {
                                    l.violations
                                        .push(format!("{alive} child futures never went away"))
                                });
                                break;
                            }
                            common::sleep(1).await;
                        }
                    });
                    watching.store(false, std::sync::atomic::Ordering::Release);
                    rt::stop_watching(&ex, watcher);
                    *top.lock().unwrap() = None;
                    let violations = ledger.with(|l| std::mem::take(&mut l.violations));
                    assert!(violations.is_empty(), "{violations:#?}");
                    ledger.with(|l| l.stats)
                });
                let _ = done.send(result);
            });
            match finished.recv_timeout(ROUND_WATCHDOG) {
                Ok(Ok(stats)) => stats,
                Ok(Err(panic)) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    panic!("stress seed {seed} on {} failed (rerun with STRESS_SEED={seed}): {message}", rt::NAME.replace('N', &threads.to_string()))
                }
                Err(_) => {
                    panic!("stress seed {seed} on {} hung (rerun with STRESS_SEED={seed})", rt::NAME.replace('N', &threads.to_string()))
                }
            }
        }

        }
    };
}

forms!(send: NurseryHandle on send_runtime, build, scope, [Send +]);
forms!(local: LocalNurseryHandle on local_runtime, build_local, local_scope, []);

/// The `Send` form's runtime: an `Executor` run by N threads, snapshots and foreign cancels
/// from threads of their own.
mod send_runtime {
    use super::*;

    pub(super) const NAME: &str = "N threads";
    pub(super) type Ex = Arc<async_executor::Executor<'static>>;
    type Handle = smol_nursery::NurseryHandle<'static, u32>;

    pub(super) fn new_ex() -> Ex {
        Arc::new(async_executor::Executor::new())
    }

    pub(super) fn run<T: Send>(ex: &Ex, threads: usize, fut: impl Future<Output = T> + Send) -> T {
        common::run_with(ex, threads, fut)
    }

    /// Cancels the nursery from a thread outside the executor, `ms` from now.
    pub(super) fn cancel_later(_ex: &Ex, handle: Handle, ms: u64) {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            handle.cancel();
        });
    }

    /// Takes snapshots of the tree from a thread of its own until `watching` is cleared.
    pub(super) fn watch(
        _ex: &Ex,
        top: Arc<Mutex<Option<Handle>>>,
        ledger: Arc<Ledger>,
        watching: Arc<std::sync::atomic::AtomicBool>,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            while watching.load(std::sync::atomic::Ordering::Acquire) {
                let top = top.lock().unwrap().clone();
                if let Some(top) = top {
                    snapshot_once(&top.snapshot(), &ledger);
                }
                std::thread::sleep(Duration::from_micros(if cfg!(miri) { 5_000 } else { 200 }));
            }
        })
    }

    pub(super) fn stop_watching(_ex: &Ex, watcher: std::thread::JoinHandle<()>) {
        watcher.join().unwrap();
    }
}

/// The local form's runtime: a `LocalExecutor` on the round's thread, snapshots and
/// "foreign" cancels from tasks of their own on it.
mod local_runtime {
    use super::*;

    pub(super) const NAME: &str = "a local executor";
    pub(super) type Ex = std::rc::Rc<async_executor::LocalExecutor<'static>>;
    type Handle = smol_nursery::LocalNurseryHandle<'static, u32>;

    pub(super) fn new_ex() -> Ex {
        std::rc::Rc::new(async_executor::LocalExecutor::new())
    }

    pub(super) fn run<T>(ex: &Ex, _threads: usize, fut: impl Future<Output = T>) -> T {
        future::block_on(ex.run(fut))
    }

    /// Cancels the nursery from a task of its own, `ms` from now.
    pub(super) fn cancel_later(ex: &Ex, handle: Handle, ms: u64) {
        ex.spawn(async move {
            common::sleep(ms).await;
            handle.cancel();
        })
        .detach();
    }

    /// Takes snapshots of the tree from a task of its own until `watching` is cleared.
    pub(super) fn watch(
        ex: &Ex,
        top: Arc<Mutex<Option<Handle>>>,
        ledger: Arc<Ledger>,
        watching: Arc<std::sync::atomic::AtomicBool>,
    ) -> async_executor::Task<()> {
        ex.spawn(async move {
            while watching.load(std::sync::atomic::Ordering::Acquire) {
                let top = top.lock().unwrap().clone();
                if let Some(top) = top {
                    snapshot_once(&top.snapshot(), &ledger);
                }
                common::sleep(1).await;
            }
        })
    }

    pub(super) fn stop_watching(ex: &Ex, watcher: async_executor::Task<()>) {
        future::block_on(ex.run(watcher));
    }
}

/// Checks one snapshot taken while the round runs, and counts it.
fn snapshot_once(snapshot: &smol_nursery::Snapshot, ledger: &Ledger) {
    let problem = inconsistent(snapshot);
    let _ = snapshot.to_string();
    ledger.with(|l| {
        l.stats.snapshots += 1;
        l.violations.extend(problem);
    });
}

/// Keeps planned panics off stderr; every other panic is printed as usual.
fn quiet_planned_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<PlannedPanic>() {
            default(info);
        }
    }));
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The forms and executors every run covers: `Nursery` on 1, 2 and 4 threads, and
/// `LocalNursery` on a local executor.
const SLOTS: [(&str, usize); 4] = [
    ("1 thread", 1),
    ("2 threads", 2),
    ("4 threads", 4),
    ("a local executor", 1),
];

/// Runs one round in slot `slot` of `SLOTS`.
fn play_round(seed: u64, slot: usize, budget: u32) -> Stats {
    match slot {
        3 => local::round(seed, 1, budget),
        _ => send::round(seed, SLOTS[slot].1, budget),
    }
}

#[test]
fn random_trees_keep_every_guarantee() {
    quiet_planned_panics();
    let budget = if cfg!(miri) { 2 } else { 12 };
    let started = Instant::now();
    // What the rounds did, per slot.
    let mut per_slot = [Stats::default(); SLOTS.len()];
    let mut rounds = [0u64; SLOTS.len()];
    let mut play = |seed: u64, slot: usize| {
        per_slot[slot].add(play_round(seed, slot, budget));
        rounds[slot] += 1;
    };
    let single_seed = env("STRESS_SEED");
    if let Some(seed) = single_seed {
        for slot in 0..SLOTS.len() {
            play(seed, slot);
        }
    } else if let Some(secs) = env("STRESS_SOAK_SECS") {
        let mut seed = 1_000_000;
        while started.elapsed() < Duration::from_secs(secs) {
            play(seed, (seed % SLOTS.len() as u64) as usize);
            seed += 1;
        }
    } else {
        let rounds_each = env("STRESS_ROUNDS").unwrap_or(if cfg!(miri) { 2 } else { 300 });
        for slot in 0..SLOTS.len() {
            for seed in 0..rounds_each {
                play(seed * 7 + slot as u64, slot);
            }
        }
    }
    let elapsed = started.elapsed();
    for (slot, (name, _)) in SLOTS.into_iter().enumerate() {
        let (stats, rounds) = (per_slot[slot], rounds[slot]);
        let random = stats.minus(Stats::rare_scenarios(rounds));
        println!(
            "stress on {name}: {rounds} rounds: {stats}; the random trees alone: {} errors, \
             {} panics, {} timeouts, {} dropped, {} refused, {} scopes, {} bodies cancelled, \
             {} through reserve, {} graced cut",
            random.errors,
            random.panics,
            random.timeouts,
            random.dropped,
            random.refused,
            random.scopes,
            random.bodies_cancelled,
            random.reserved,
            random.graced_cut
        );
    }
    println!(
        "stress: {} rounds in {elapsed:.1?}",
        rounds.iter().sum::<u64>()
    );
    if single_seed.is_some() {
        // One seed cannot show every scenario: it only reproduces a failure.
        return;
    }
    for (slot, (name, _)) in SLOTS.into_iter().enumerate() {
        let stats = per_slot[slot];
        for (scenario, count) in stats.scenarios() {
            assert!(
                count > 0,
                "stress on {name}: no round had {scenario} ({} rounds: {stats}); \
                 the rounds no longer exercise that scenario",
                rounds[slot]
            );
        }
    }
}
