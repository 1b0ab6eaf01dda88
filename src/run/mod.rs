//! Running the plan: checks on worker threads (`--jobs`), each as soon as what it waits for
//! has finished (`after:` and serial groups, see [`constraints`]), the ready check first in
//! plan order; each attempt with a wall-clock deadline. Emits [`Event`]s.

pub mod event;

pub use event::Event;

use crate::evidence_model::{self, CheckEvidence};

use crate::engine::context::{self, CheckRecord, CheckScope, Phase};
use crate::engine::error::{self, StopKind};
use crate::engine::host::Host;
use crate::outcome::{CheckResult, Failure, SourcePos, Status};
use crate::plan::{Plan, PlannedCheck};
use rhai::Engine;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Run-wide settings the runner needs (resolved from the configuration).
pub struct RunSettings {
    pub jobs: usize,
    pub default_timeout: Duration,
    /// Whether checks' HTTP exchanges are archived as HAR files.
    pub http_archive: bool,
    /// The first required check that fails or errors skips every check not yet started.
    pub fail_fast: bool,
}

/// The results in report order (one per declared check) and whether the run was interrupted.
pub struct RunOutcome {
    pub results: Vec<CheckResult>,
    pub interrupted: bool,
}

/// Runs every planned check and feeds `sink` with events, in the order they happen.
pub fn run(
    plan: &Plan,
    engine: &Engine,
    host: &Arc<Host>,
    settings: &RunSettings,
    mut sink: impl FnMut(&Event),
) -> RunOutcome {
    let total = plan.checks.len();
    sink(&Event::RunStarted { total });

    let board = Board::new(plan);
    let (tx, rx) = mpsc::channel::<Event>();
    let mut results: Vec<Option<CheckResult>> = vec![None; total];
    let mut interrupted_reported = false;

    let run_started = Instant::now();
    // Set by the first required failure under --fail-fast: checks not yet started skip.
    let failed_fast: parking_lot::Mutex<Option<String>> = parking_lot::Mutex::new(None);
    std::thread::scope(|scope| {
        let workers = settings.jobs.max(1).min(total.max(1));
        for worker in 1..=workers {
            let tx = tx.clone();
            let board = &board;
            let failed_fast = &failed_fast;
            scope.spawn(move || {
                while let Some((index, waited_on)) = board.take() {
                    let check = &plan.checks[index];
                    let _ = tx.send(Event::CheckStarted {
                        index,
                        id: check.spec.id.clone(),
                    });
                    let started = run_started.elapsed();
                    let stopped_by = failed_fast.lock().clone();
                    let (mut result, evidence) = match (stopped_by, waited_on) {
                        (Some(first), _) => skipped_fast(plan, index, &first),
                        // Interrupted: the check says so itself (run_check), not that it waited in vain.
                        (None, Some(unmet)) if !host.services.cancel.is_cancelled() => {
                            skipped_after(plan, index, &unmet)
                        }
                        (None, _) => run_check(plan, index, engine, host, settings),
                    };
                    if settings.fail_fast
                        && result.level == crate::outcome::Level::Required
                        && matches!(result.status, Status::Failed | Status::Errored)
                    {
                        failed_fast.lock().get_or_insert_with(|| result.id.clone());
                    }
                    result.schedule = Some(crate::outcome::Schedule { worker, started });
                    result.waited_for = board.waits[index]
                        .iter()
                        .map(|&other| plan.checks[other].spec.id.clone())
                        .collect();
                    board.finish(index, result.status);
                    let _ = tx.send(Event::CheckFinished {
                        index,
                        result: Box::new(result),
                        evidence: Box::new(evidence),
                    });
                }
            });
        }
        drop(tx);
        for event in rx {
            if host.services.cancel.is_cancelled() && !interrupted_reported {
                interrupted_reported = true;
                sink(&Event::Interrupted);
            }
            if let Event::CheckFinished { index, result, .. } = &event {
                results[*index] = Some((**result).clone());
            }
            sink(&event);
        }
    });

    let interrupted = host.services.cancel.is_cancelled();
    if interrupted && !interrupted_reported {
        sink(&Event::Interrupted);
    }
    RunOutcome {
        results: results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|| never_reached(plan, i)))
            .collect(),
        interrupted,
    }
}

/// Which checks wait for which (plan indices), from `after:` and serial groups: a check
/// waits for each check of the plan it names in `after` and for the check of its serial group
/// just before it in plan order. An `after` id that is not in the plan (another phase, or left
/// out by `--check`) orders nothing.
pub fn constraints(plan: &Plan) -> Vec<Vec<usize>> {
    let index_of: std::collections::HashMap<&str, usize> = plan
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.spec.id.as_str(), i))
        .collect();
    let mut last_of_group: std::collections::HashMap<&str, usize> = Default::default();
    let mut waits = Vec::with_capacity(plan.checks.len());
    for (i, check) in plan.checks.iter().enumerate() {
        let mut on: Vec<usize> = check
            .spec
            .after
            .iter()
            .filter_map(|id| index_of.get(id.as_str()).copied())
            .collect();
        if let Some(group) = &check.spec.serial
            && let Some(previous) = last_of_group.insert(group, i)
            && !on.contains(&previous)
        {
            on.push(previous);
        }
        waits.push(on);
    }
    waits
}

/// The runner's shared state: which checks may start. A check is ready when every check it
/// waits for has finished; workers take the ready check first in plan order.
struct Board<'p> {
    plan: &'p Plan,
    waits: Vec<Vec<usize>>,
    /// For each check, the checks that wait for it.
    dependents: Vec<Vec<usize>>,
    state: parking_lot::Mutex<BoardState>,
    changed: parking_lot::Condvar,
}

struct BoardState {
    /// Checks still waiting for this many others to finish.
    pending: Vec<usize>,
    ready: std::collections::BTreeSet<usize>,
    outcomes: Vec<Option<Status>>,
    not_started: usize,
}

impl<'p> Board<'p> {
    fn new(plan: &'p Plan) -> Self {
        let waits = constraints(plan);
        let mut dependents = vec![Vec::new(); waits.len()];
        for (i, on) in waits.iter().enumerate() {
            for &other in on {
                dependents[other].push(i);
            }
        }
        let pending: Vec<usize> = waits.iter().map(Vec::len).collect();
        let ready = (0..waits.len()).filter(|&i| pending[i] == 0).collect();
        Board {
            plan,
            state: parking_lot::Mutex::new(BoardState {
                pending,
                ready,
                outcomes: vec![None; waits.len()],
                not_started: waits.len(),
            }),
            waits,
            dependents,
            changed: parking_lot::Condvar::new(),
        }
    }

    /// The next check to start, waiting until one is ready; `None` once every check has
    /// started. With it, the first `after` check that did not pass (id and status), if any.
    fn take(&self) -> Option<(usize, Option<(String, Status)>)> {
        let mut state = self.state.lock();
        loop {
            if state.not_started == 0 {
                return None;
            }
            if let Some(index) = state.ready.pop_first() {
                state.not_started -= 1;
                if state.not_started == 0 {
                    // Idle workers stop waiting: nothing is left to start.
                    self.changed.notify_all();
                }
                let spec = &self.plan.checks[index].spec;
                let unmet = self.waits[index].iter().find_map(|&other| {
                    let other_spec = &self.plan.checks[other].spec;
                    let status = state.outcomes[other]?;
                    (spec.after.contains(&other_spec.id) && status != Status::Passed)
                        .then(|| (other_spec.id.clone(), status))
                });
                return Some((index, unmet));
            }
            self.changed.wait(&mut state);
        }
    }

    /// Records that `index` ended with `status`, making ready what waited only for it.
    fn finish(&self, index: usize, status: Status) {
        let mut state = self.state.lock();
        state.outcomes[index] = Some(status);
        for &next in &self.dependents[index] {
            state.pending[next] -= 1;
            if state.pending[next] == 0 {
                state.ready.insert(next);
            }
        }
        self.changed.notify_all();
    }
}

/// A check not run because a check it runs `after` did not pass.
fn skipped_after(
    plan: &Plan,
    index: usize,
    unmet: &(String, Status),
) -> (CheckResult, CheckEvidence) {
    let (id, status) = unmet;
    skipped(
        plan,
        index,
        format!("not run: after {id} {}", status.as_str()),
    )
}

/// A check not started because an earlier required check failed under `--fail-fast`.
fn skipped_fast(plan: &Plan, index: usize, first: &str) -> (CheckResult, CheckEvidence) {
    skipped(
        plan,
        index,
        format!("not run: --fail-fast after {first} failed"),
    )
}

fn skipped(plan: &Plan, index: usize, reason: String) -> (CheckResult, CheckEvidence) {
    let mut result = base_result(plan, index);
    let mut evidence = CheckEvidence::default();
    evidence.log(format!("skipped: {reason}"));
    result.status = Status::Skipped;
    result.reason = Some(reason);
    (result, evidence)
}

/// A row for a check that has no outcome (should not happen: every check is run or skipped).
fn never_reached(plan: &Plan, index: usize) -> CheckResult {
    let mut result = base_result(plan, index);
    result.status = Status::Errored;
    result.reason = Some("declared but never reached".to_string());
    result
}

fn base_result(plan: &Plan, index: usize) -> CheckResult {
    let check = &plan.checks[index];
    let lane = plan.lane_of(check);
    let decl = &check.spec;
    CheckResult {
        id: decl.id.clone(),
        lane: lane.display.clone(),
        level: decl.level,
        target: decl.target.clone(),
        description: decl.description.clone(),
        status: Status::Errored,
        reason: None,
        reason_at: None,
        missing: None,
        failures: Vec::new(),
        warnings: Vec::new(),
        assertions: 0,
        attempts: 0,
        duration: Duration::ZERO,
        command: format!("oa-validate {} --check {}", lane.display, decl.id),
        log_path: evidence_model::log_path(&decl.id),
        har_path: None,
        artifacts: Vec::new(),
        inline_evidence: Vec::new(),
        schedule: None,
        waited_for: Vec::new(),
        code_frames: Vec::new(),
    }
}

/// One check, all its attempts.
fn run_check(
    plan: &Plan,
    index: usize,
    engine: &Engine,
    host: &Arc<Host>,
    settings: &RunSettings,
) -> (CheckResult, CheckEvidence) {
    let check = &plan.checks[index];
    let decl = &check.spec;
    let lane = plan.lane_of(check);
    let mut result = base_result(plan, index);
    let mut evidence = CheckEvidence::default();
    evidence.log(format!(
        "check {} ({}) in {} at {}",
        decl.id,
        decl.level.as_str(),
        lane.display,
        decl.position
    ));
    if !decl.description.is_empty() {
        evidence.log(format!("description: {}", decl.description));
    }
    if host.services.cancel.is_cancelled() {
        result.status = Status::Errored;
        result.reason = Some("interrupted before it ran".to_string());
        evidence.log("interrupted before it ran");
        return (result, evidence);
    }
    if let Some(not_run) = crate::gate::skip_reason(
        decl,
        &host.env,
        &host.targets,
        host.settings.allow_prod_mutations,
    ) {
        evidence.log(format!(
            "{}: {}",
            not_run.status().label(),
            not_run.reason()
        ));
        not_run.apply(&mut result);
        return (result, evidence);
    }

    let timeout = decl.timeout.unwrap_or(settings.default_timeout);
    let started = Instant::now();
    let attempts = 1 + decl.retries;
    for attempt in 1..=attempts {
        if attempts > 1 {
            evidence.log(format!("--- attempt {attempt} of {attempts}"));
        }
        result.attempts = attempt;
        let Attempt {
            status,
            reason,
            reason_at,
            record,
        } = run_attempt(engine, host, lane, check, timeout);
        evidence.journal.extend(record.journal);
        evidence.artifacts.extend(record.artifacts);
        evidence.files.extend(record.files);
        result.assertions += record.assertions;
        result.warnings.extend(record.warnings);
        result.failures = record.failures;
        result.status = status;
        result.reason = reason;
        result.reason_at = reason_at;
        result.missing = record.missing;
        let retry = matches!(status, Status::Failed | Status::Errored)
            && attempt < attempts
            && !host.services.cancel.is_cancelled();
        if !retry {
            break;
        }
        evidence.log(format!("attempt {attempt} {}: retrying", status.as_str()));
    }
    result.duration = started.elapsed();
    drop_unwritable_artifacts(&mut evidence, &host.services.redactor);
    tracing::debug!(
        check = %decl.id,
        status = result.status.as_str(),
        attempts = result.attempts,
        ms = result.duration.as_millis() as u64,
        "check finished"
    );
    if settings.http_archive && evidence.exchanges().next().is_some() {
        result.har_path = Some(evidence_model::har_path(&decl.id));
    }
    result.artifacts = evidence
        .artifacts
        .iter()
        .map(|(name, _)| name)
        .chain(evidence.files.iter().map(|(name, _)| name))
        .map(|name| evidence_model::artifact_path(&decl.id, name))
        .collect();
    result.inline_evidence = evidence
        .artifacts
        .iter()
        .filter(|(_, text)| text.len() <= crate::outcome::INLINE_EVIDENCE_LIMIT)
        .cloned()
        .collect();
    evidence.log(format!(
        "outcome: {}{}",
        result.status.as_str(),
        result
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    ));
    (result, evidence)
}

/// Drops artifacts whose name cannot be written as is: `evidence()` refuses such names at the
/// call, but a value can become secret after it named an artifact (`secret()` later in the
/// check). Dropped here, before any report lists it, so summary.json and SHA256SUMS name only
/// files that exist and no file name holds a secret.
fn drop_unwritable_artifacts(evidence: &mut CheckEvidence, redactor: &crate::redact::Redactor) {
    let mut notes = Vec::new();
    let mut keep = |name: &String| match evidence_model::artifact_name_error(name, redactor) {
        None => true,
        Some(_) if redactor.contains_secret(name) => {
            notes.push("an artifact not written: its name holds a secret".to_string());
            false
        }
        Some(why) => {
            notes.push(format!("an artifact not written: {why}"));
            false
        }
    };
    evidence.artifacts.retain(|(name, _)| keep(name));
    evidence.files.retain(|(name, _)| keep(name));
    for note in notes {
        evidence.log(note);
    }
}

/// How one attempt of a check ended: its status, the reason in words, where the reason
/// points when it is an error or a timeout (no failure holds that position), and what the
/// attempt recorded.
struct Attempt {
    status: Status,
    reason: Option<String>,
    reason_at: Option<SourcePos>,
    record: CheckRecord,
}

impl Attempt {
    fn new(
        status: Status,
        reason: Option<String>,
        reason_at: Option<SourcePos>,
        record: CheckRecord,
    ) -> Attempt {
        Attempt {
            status,
            reason,
            reason_at,
            record,
        }
    }
}

fn run_attempt(
    engine: &Engine,
    host: &Arc<Host>,
    lane: &crate::plan::Lane,
    check: &PlannedCheck,
    timeout: Duration,
) -> Attempt {
    let decl = &check.spec;
    let deadline = crate::duration::deadline_after(Instant::now(), timeout);
    let scope = CheckScope {
        id: decl.id.clone(),
        lane: lane.display.clone(),
        deadline,
        record: CheckRecord::default(),
        keeps_requests: false,
    };
    let (outcome, phase) =
        context::with_phase(host.clone(), Phase::Checking(scope), deadline, || {
            let call = std::panic::catch_unwind(AssertUnwindSafe(|| {
                context::call_body(engine, &check.body)
            }));
            match call {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(Ok(error::from_eval(&e))),
                Err(panic) => Err(Err(panic_message(&panic))),
            }
        });
    let record = match phase {
        Phase::Checking(scope) => scope.record,
        Phase::Planning { .. } => CheckRecord::default(),
    };
    // Work that finished after the deadline did not finish in time, whatever it asserted.
    let late = Instant::now() > deadline;
    let first_failure = |f: &Failure| match &f.position {
        Some(p) => format!("{p}: {}", f.message),
        None => f.message.clone(),
    };
    // A failed assertion wins over everything: catching its error does not undo it.
    if let Some(failure) = record.failures.first() {
        let reason = first_failure(failure);
        return Attempt::new(Status::Failed, Some(reason), None, record);
    }
    let timed_out = |at: &SourcePos| {
        format!(
            "{at}: timed out after {}",
            humantime::format_duration(timeout)
        )
    };
    match outcome {
        Err(Err(panic)) => Attempt::new(
            Status::Errored,
            Some(format!("panic in a primitive: {panic}")),
            None,
            record,
        ),
        Err(Ok(stop)) => match stop.kind {
            StopKind::Skip => Attempt::new(skip_status(&record), Some(stop.message), None, record),
            StopKind::Deadline => Attempt::new(
                Status::Errored,
                Some(timed_out(&stop.position)),
                Some(stop.position),
                record,
            ),
            StopKind::Cancelled => Attempt::new(
                Status::Errored,
                Some("interrupted".to_string()),
                None,
                record,
            ),
            StopKind::Error => Attempt::new(
                Status::Errored,
                Some(format!("{}: {}", stop.position, stop.message)),
                Some(stop.position),
                record,
            ),
        },
        Ok(()) => {
            if let Some(reason) = record.skip.clone() {
                Attempt::new(skip_status(&record), Some(reason), None, record)
            } else if late {
                Attempt::new(
                    Status::Errored,
                    Some(timed_out(&decl.position)),
                    Some(decl.position.clone()),
                    record,
                )
            } else if record.assertions == 0 {
                Attempt::new(
                    Status::Failed,
                    Some(format!(
                        "{}: vacuous: the check evaluated no assertion",
                        decl.position
                    )),
                    Some(decl.position.clone()),
                    record,
                )
            } else {
                Attempt::new(Status::Passed, None, None, record)
            }
        }
    }
}

/// A check that ended early without failing: not checked here when a primitive found
/// something missing on this machine, else skipped.
fn skip_status(record: &CheckRecord) -> Status {
    if record.missing.is_some() {
        Status::NotChecked
    } else {
        Status::Skipped
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
