//! Per-thread state of the lane or check being evaluated.
//!
//! Rhai functions are registered once on a shared engine; what they act on (the plan being
//! collected, or the running check's assertions and journal) lives here, set by the planner
//! or runner on the thread that evaluates the script.

use crate::engine::host::Host;
use crate::evidence_model::Entry;
use crate::outcome::{CheckSpec, Failure, SourcePos};
use rhai::{FnPtr, NativeCallContext, Position};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A check as a lane declared it, before anything ran: its declaration and its body.
#[derive(Clone)]
pub struct DeclaredCheck {
    pub spec: CheckSpec,
    pub body: CheckBody,
}

/// The closure a check runs, with the lane's evaluation state where it was declared (its
/// imports, functions and source name), so the body sees `import`ed modules when it runs.
#[derive(Clone)]
pub struct CheckBody {
    pub function: FnPtr,
    pub declared_in: Arc<StoredContext>,
}

/// Rhai's saved call context (an `internals` API: Rhai has no public way to call a closure
/// with the imports of the script that made it).
#[allow(deprecated)]
pub type StoredContext = rhai::NativeCallContextStore;

/// Calls a declared check's body in the context it was declared in, with a fresh operation
/// budget.
#[allow(deprecated)]
pub fn call_body(
    engine: &rhai::Engine,
    body: &CheckBody,
) -> Result<rhai::Dynamic, Box<rhai::EvalAltResult>> {
    let mut store = (*body.declared_in).clone();
    reset_operations(&mut store.global);
    let ctx = store.create_context(engine);
    body.function.call_raw(&ctx, None, [])
}

#[allow(deprecated)]
fn reset_operations(global: &mut rhai::GlobalRuntimeState) {
    global.num_operations = Default::default();
    global.level = 0;
}

/// What is recorded while one attempt of a check runs.
#[derive(Default)]
pub struct CheckRecord {
    pub assertions: u64,
    pub failures: Vec<Failure>,
    pub warnings: Vec<String>,
    pub skip: Option<String>,
    /// What this machine lacked, when a primitive ended the check for it (`skip` holds its
    /// reason): the check is then not checked here rather than skipped.
    pub missing: Option<crate::outcome::Missing>,
    /// Log lines and HTTP exchanges, in order (the evidence model's journal).
    pub journal: Vec<Entry>,
    /// Text artifacts (`evidence(name, value)`), saved under `artifacts/<check_id>/`.
    pub artifacts: Vec<(String, String)>,
    /// Binary artifacts (screenshots), saved as they are under `artifacts/<check_id>/`.
    pub files: Vec<(String, Vec<u8>)>,
    /// One entry per `http::` call as the script made it, kept only when the scope asks (the
    /// REPL's `:save` replays these).
    pub requests: Vec<RequestRecord>,
}

/// An `http::` call as the script made it, with its final status.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    /// The URL as given (before redirects); may hold a secret, so never printed unredacted.
    pub url: String,
    pub with_bearer: bool,
    pub follow_redirects: bool,
    /// A JSON body, as text.
    pub json_body: Option<String>,
    pub status: i64,
}

pub struct CheckScope {
    pub id: String,
    pub lane: String,
    pub deadline: Instant,
    pub record: CheckRecord,
    /// Keep [`CheckRecord::requests`] (the REPL does; a run does not).
    pub keeps_requests: bool,
}

// One per evaluating thread, moved in and out once per check: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Phase {
    Planning {
        lane: String,
        checks: Vec<DeclaredCheck>,
    },
    Checking(CheckScope),
}

struct Active {
    host: Arc<Host>,
    phase: Phase,
    deadline: Instant,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
    /// Environment variables read (`env()`) while a lane was being planned on this thread.
    static PLAN_ENV_READS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Notes that the lane being planned read `name`: what it declares may depend on it, which
/// the gate checks (a required check declared only when a variable is set is a hidden toggle).
pub fn note_env_read(name: &str) {
    if with_plan(|_, _| ()).is_some() {
        PLAN_ENV_READS.with(|r| {
            let mut reads = r.borrow_mut();
            if !reads.iter().any(|n| n == name) {
                reads.push(name.to_string());
            }
        });
    }
}

/// The variables read at plan time on this thread since the last call (and forgets them).
pub fn take_env_reads() -> Vec<String> {
    PLAN_ENV_READS.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

/// Runs `f` and returns, with its result, the variables read at plan time while it ran; they
/// stay noted for the lane being planned too (a module's reads are the importing lane's).
pub fn env_reads_during<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let before = take_env_reads();
    let result = f();
    let during = take_env_reads();
    PLAN_ENV_READS.with(|r| *r.borrow_mut() = before);
    for name in &during {
        note_env_read(name);
    }
    (result, during)
}

/// Whether native I/O of the running check must stop: the run was interrupted, or the
/// deadline (a check's, or the plan's) passed.
pub fn io_stop() -> Option<crate::file_input::Stop> {
    if host().is_some_and(|h| h.services.cancel.is_cancelled()) {
        return Some(crate::file_input::Stop::Interrupted);
    }
    match deadline() {
        Some(deadline) if Instant::now() >= deadline => Some(crate::file_input::Stop::Deadline),
        _ => None,
    }
}

/// Installs `phase` on this thread for the duration of `f`, and returns it afterwards.
pub fn with_phase<R>(
    host: Arc<Host>,
    phase: Phase,
    deadline: Instant,
    f: impl FnOnce() -> R,
) -> (R, Phase) {
    ACTIVE.with(|a| {
        *a.borrow_mut() = Some(Active {
            host,
            phase,
            deadline,
        })
    });
    // Restore the slot even if `f` panics, so the thread can run the next check.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.borrow_mut().take());
        }
    }
    let reset = Reset;
    let result = f();
    let active = ACTIVE.with(|a| a.borrow_mut().take());
    drop(reset);
    let phase = active.map(|a| a.phase).unwrap_or(Phase::Planning {
        lane: String::new(),
        checks: Vec::new(),
    });
    (result, phase)
}

/// The host services of the current thread, if a lane or check is being evaluated.
pub fn host() -> Option<Arc<Host>> {
    ACTIVE.with(|a| a.borrow().as_ref().map(|a| a.host.clone()))
}

/// The wall-clock deadline of what this thread evaluates (check timeout or plan limit).
pub fn deadline() -> Option<Instant> {
    ACTIVE.with(|a| a.borrow().as_ref().map(|a| a.deadline))
}

/// Time left before the deadline; zero once it passed.
pub fn remaining() -> Duration {
    deadline()
        .map(|d| d.saturating_duration_since(Instant::now()))
        .unwrap_or(Duration::from_secs(60))
}

/// Runs `f` on the running check's record; `None` when no check is running (plan time).
pub fn with_check<R>(f: impl FnOnce(&mut CheckScope) -> R) -> Option<R> {
    ACTIVE.with(|a| match a.borrow_mut().as_mut().map(|a| &mut a.phase) {
        Some(Phase::Checking(scope)) => Some(f(scope)),
        _ => None,
    })
}

/// Runs `f` on the lane being planned; `None` while a check runs.
pub fn with_plan<R>(f: impl FnOnce(&str, &mut Vec<DeclaredCheck>) -> R) -> Option<R> {
    ACTIVE.with(|a| match a.borrow_mut().as_mut().map(|a| &mut a.phase) {
        Some(Phase::Planning { lane, checks }) => Some(f(lane, checks)),
        _ => None,
    })
}

/// The lane file of whatever is being evaluated on this thread.
pub fn current_lane() -> String {
    ACTIVE.with(|a| match a.borrow().as_ref().map(|a| &a.phase) {
        Some(Phase::Planning { lane, .. }) => lane.clone(),
        Some(Phase::Checking(scope)) => scope.lane.clone(),
        None => String::new(),
    })
}

/// Where a native function was called from, as `file:line:col`.
pub fn call_site(ctx: &NativeCallContext) -> SourcePos {
    position_in(ctx.call_source(), ctx.call_position())
}

/// A Rhai position in `source` (or the current lane when the source is unnamed).
pub fn position_in(source: Option<&str>, pos: Position) -> SourcePos {
    let file = match source {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => current_lane(),
    };
    SourcePos {
        file,
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
    }
}

/// Appends a line to the running check's log (redacted when the log is written).
pub fn log(line: impl Into<String>) {
    let line = line.into();
    with_check(|c| c.record.journal.push(Entry::Line(line)));
}

/// Whether the running check keeps the requests scripts make (the REPL's `:save`).
pub fn keeps_requests() -> bool {
    with_check(|c| c.keeps_requests).unwrap_or(false)
}
