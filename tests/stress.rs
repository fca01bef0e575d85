//! Randomized stress: random trees of children on executors run by 1, 2 and 4 threads.
//!
//! Every round is generated from a seed. Children succeed, fail, panic, sleep on
//! `async_io::Timer`, block their thread, are shielded, cancel themselves or siblings through
//! their handles, cancel the nursery, start siblings, and open nested nurseries; nurseries get
//! random deadlines, cancels from foreign threads, limits (1 to 3) and `fail_fast(false)`, and
//! some are dropped mid-way (their `join` loses a race against a timer). Under a limit, the
//! most children that ever ran at once must not exceed it. Some children are started with
//! `start` and say they are ready at a random step (or never): their failures before ready
//! must reach the task awaiting `start`, never `join`, and every `start` must resolve. A thread
//! of its own takes snapshots of the whole tree while the round runs. After every `join` the round checks that no child future of
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
//! - `STRESS_SEED=<n>` runs that one seed (the failure message prints it); one seed need not
//!   show every scenario;
//! - `STRESS_ROUNDS=<n>` sets the rounds per thread count (default 400; 2 under Miri);
//! - `STRESS_SOAK_SECS=<s>` keeps running fresh seeds for that long: the long soak.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use async_executor::Executor;
use futures_lite::{future, FutureExt};
use smol_nursery::{shield, NurseryBuilder, NurseryHandle, Ready, StartError, TaskHandle};

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
}

/// What `join` of a scripted nursery must report.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Timeout,
    Error,
    Panic,
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
        let mut children: Vec<_> = (0..count).map(|_| self.child(depth)).collect();
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
            limit: self.rng.percent(25).then(|| 1 + self.rng.below(3) as usize),
            fail_fast: !self.rng.percent(20),
            expect: None,
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
    /// - one with a 1 ms deadline and a child that sleeps for a minute, so the deadline fires
    ///   while the child is unfinished and `join` must report a timeout;
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
        if !cfg!(miri) {
            let sleeper = plain(self.id(), vec![Step::Sleep(60_000)], End::Ok);
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
        ChildPlan {
            id,
            shielded,
            hidden: ready_at.is_some(),
            steps,
            end,
            ready_at,
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
    /// The top nursery's handle, for the thread that takes snapshots during the round.
    top: Option<NurseryHandle<'static, u32>>,
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
        ];
        if !cfg!(miri) {
            scenarios.push(("a timeout reported by join", self.timeouts));
        }
        scenarios
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} nurseries, {} children, {} errors reported, {} panics resumed, {} timeouts, \
             {} nurseries dropped mid-way, {} siblings refused by dropped nurseries",
            self.nurseries,
            self.children,
            self.errors,
            self.panics,
            self.timeouts,
            self.dropped,
            self.refused
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

/// What a child needs to act on its nursery.
#[derive(Clone)]
struct Ctx {
    ex: Arc<Executor<'static>>,
    ledger: Arc<Ledger>,
    nursery: u32,
    handle: NurseryHandle<'static, u32>,
    /// Handles of the nursery's children, with their ids, in start order.
    table: Table,
}

/// The handles of a nursery's children, with their ids, in start order.
type Table = Arc<Mutex<Vec<(u32, TaskHandle<()>)>>>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

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
    let future = child(ctx.clone(), plan, index, None);
    ctx.ledger.with(|l| l.starting.push(id));
    let handle = if shielded {
        ctx.handle.start_soon(shield(future))
    } else {
        ctx.handle.start_soon(future)
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
    let mut witness = plan.shielded.then(|| ShieldWitness {
        ledger: ctx.ledger.clone(),
        child: plan.id,
        ended: false,
    });
    Box::pin(async move {
        let _alive = alive;
        let _running = RunningGuard::new(&ctx.ledger, ctx.nursery);
        let ready_at = plan.ready_at;
        let steps = plan.steps.len();
        for (at, step) in plan.steps.into_iter().enumerate() {
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
                    run_nursery(ctx.ex.clone(), ctx.ledger.clone(), nested).await
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

/// Runs one nursery of the plan to its end, and checks it.
fn run_nursery(
    ex: Arc<Executor<'static>>,
    ledger: Arc<Ledger>,
    plan: NurseryPlan,
) -> BoxFuture<()> {
    Box::pin(async move {
        ledger.with(|l| l.stats.nurseries += 1);
        let mut nested_ids = Vec::new();
        descendants(&plan, &mut nested_ids);
        let mut builder = NurseryBuilder::new().fail_fast(plan.fail_fast);
        if let Some(limit) = plan.limit {
            builder = builder.limit(limit);
        }
        let nursery = builder.build::<u32>(&ex);
        let handle = nursery.handle();
        ledger.with(|l| {
            if l.top.is_none() {
                l.top = Some(handle.clone());
            }
        });
        let ctx = Ctx {
            ex: ex.clone(),
            ledger: ledger.clone(),
            nursery: plan.id,
            handle: handle.clone(),
            table: Arc::new(Mutex::new(Vec::new())),
        };
        if let Some(ms) = plan.deadline_ms {
            nursery.cancel_after(Duration::from_millis(ms));
        }
        for child_plan in plan.children {
            start(&ctx, child_plan);
        }
        if let Some(ms) = plan.foreign_cancel_ms {
            let handle = handle.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(ms));
                handle.cancel();
            });
        }
        let joined = AssertUnwindSafe(nursery.join()).catch_unwind();
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
        let id = plan.id;
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

/// Runs one seeded round on an executor run by `threads` threads; returns its stats.
fn round(seed: u64, threads: usize, budget: u32) -> Stats {
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
            let ex = Arc::new(Executor::new());
            let l = ledger.clone();
            // Snapshots of the whole tree, taken from a thread of their own while it runs.
            let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
            let watcher = {
                let (ledger, watching) = (ledger.clone(), watching.clone());
                std::thread::spawn(move || {
                    while watching.load(std::sync::atomic::Ordering::Acquire) {
                        if let Some(top) = ledger.with(|l| l.top.clone()) {
                            let snapshot = top.snapshot();
                            if let Some(problem) = inconsistent(&snapshot) {
                                ledger.with(|l| l.violations.push(problem));
                            }
                            let _ = snapshot.to_string();
                        }
                        std::thread::sleep(Duration::from_micros(if cfg!(miri) {
                            5_000
                        } else {
                            200
                        }));
                    }
                })
            };
            common::run_with(&ex.clone(), threads, async move {
                run_nursery(ex.clone(), l.clone(), plan).await;
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
            watcher.join().unwrap();
            ledger.with(|l| l.top = None);
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
            panic!("stress seed {seed} on {threads} threads failed (rerun with STRESS_SEED={seed}): {message}")
        }
        Err(_) => {
            panic!("stress seed {seed} on {threads} threads hung (rerun with STRESS_SEED={seed})")
        }
    }
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

#[test]
fn random_trees_keep_every_guarantee() {
    quiet_planned_panics();
    let budget = if cfg!(miri) { 2 } else { 12 };
    let started = Instant::now();
    // What the rounds did, per thread count (in the order of `common::THREADS`).
    let mut per_threads = [Stats::default(); 3];
    let mut rounds = [0u64; 3];
    let mut play = |seed: u64, slot: usize| {
        per_threads[slot].add(round(seed, common::THREADS[slot], budget));
        rounds[slot] += 1;
    };
    let single_seed = env("STRESS_SEED");
    if let Some(seed) = single_seed {
        for slot in 0..common::THREADS.len() {
            play(seed, slot);
        }
    } else if let Some(secs) = env("STRESS_SOAK_SECS") {
        let mut seed = 1_000_000;
        while started.elapsed() < Duration::from_secs(secs) {
            play(seed, (seed % 3) as usize);
            seed += 1;
        }
    } else {
        let rounds_each = env("STRESS_ROUNDS").unwrap_or(if cfg!(miri) { 2 } else { 400 });
        for (slot, threads) in common::THREADS.into_iter().enumerate() {
            for seed in 0..rounds_each {
                play(seed * 7 + threads as u64, slot);
            }
        }
    }
    let elapsed = started.elapsed();
    for (slot, threads) in common::THREADS.into_iter().enumerate() {
        let (stats, rounds) = (per_threads[slot], rounds[slot]);
        let random = stats.minus(Stats::rare_scenarios(rounds));
        println!(
            "stress on {threads} threads: {rounds} rounds: {stats}; the random trees alone: \
             {} errors, {} panics, {} timeouts, {} dropped, {} refused",
            random.errors, random.panics, random.timeouts, random.dropped, random.refused
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
    for (slot, threads) in common::THREADS.into_iter().enumerate() {
        let stats = per_threads[slot];
        for (scenario, count) in stats.scenarios() {
            assert!(
                count > 0,
                "stress on {threads} threads: no round had {scenario} ({} rounds: {stats}); \
                 the rounds no longer exercise that scenario",
                rounds[slot]
            );
        }
    }
}
