//! What a check declared and what became of it: the data every report consumes.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `required` checks decide the verdict; `optional` ones are reported as warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Required,
    Optional,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::Optional => "optional",
        }
    }
}

/// A check as a lane declared it: everything but its body. The gate's rules, the runner and
/// the reports read this; only the runner calls the body (see `plan::PlannedCheck`).
#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub id: String,
    pub level: Level,
    pub description: String,
    pub timeout: Option<Duration>,
    /// Variables (or tools) that must be set, else the check is skipped naming them.
    pub needs: Vec<String>,
    /// A variable that turns the check off (`0/false/no/off`).
    pub toggle: Option<String>,
    /// The check changes state: never against production without `--allow-prod-mutations`.
    pub mutates: bool,
    pub retries: u32,
    /// The target it runs against, by name.
    pub target: Option<String>,
    /// The cutover phases the check applies to (`phases: [...]`); empty: every phase.
    pub phases: Vec<crate::cutover::CutoverPhase>,
    /// Checks of the same lane, declared before this one, that must have passed before it
    /// starts (`after: [...]`); one that did not pass skips it, naming it.
    pub after: Vec<String>,
    /// A serial group (`serial: "name"`, plan-wide): its checks never overlap and start in
    /// plan order, whatever became of the one before.
    pub serial: Option<String>,
    /// Where it was declared.
    pub position: SourcePos,
}

impl CheckSpec {
    /// A check with no options: no timeout of its own, no needs, no toggle, no retries.
    pub fn new(id: &str, level: Level, position: SourcePos) -> CheckSpec {
        CheckSpec {
            id: id.to_string(),
            level,
            description: String::new(),
            timeout: None,
            needs: Vec::new(),
            toggle: None,
            mutates: false,
            retries: 0,
            target: None,
            phases: Vec::new(),
            after: Vec::new(),
            serial: None,
            position,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// At least one assertion was evaluated and none failed.
    Passed,
    /// An assertion failed (even one a script caught), or the check asserted nothing.
    Failed,
    /// Script error, unreachable host, timeout, panic, interruption.
    Errored,
    /// Not run, with a reason (toggle off, missing variable, `skip()`).
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Errored => "errored",
            Status::Skipped => "skipped",
        }
    }

    /// The upstream `results.tsv` knows only passed/failed/skipped: errored counts as failed.
    pub fn upstream_str(self) -> &'static str {
        match self {
            Status::Errored => "failed",
            other => other.as_str(),
        }
    }
}

/// A place in a lane file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct SourcePos {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for SourcePos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One failed assertion or error, with where it happened and what was expected and seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failure {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<SourcePos>,
}

/// Everything a report needs about one check, after it ended (or was never run).
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub id: String,
    pub lane: String,
    pub level: Level,
    pub target: Option<String>,
    pub description: String,
    pub status: Status,
    /// Why it was skipped, or the first failure / error in one line.
    pub reason: Option<String>,
    pub failures: Vec<Failure>,
    pub warnings: Vec<String>,
    pub assertions: u64,
    pub attempts: u32,
    pub duration: Duration,
    /// What a user runs to repeat this check (the `command` column of results.tsv).
    pub command: String,
    /// Relative to the evidence folder.
    pub log_path: String,
    pub har_path: Option<String>,
    pub artifacts: Vec<String>,
    /// Small artifacts (at most [`INLINE_EVIDENCE_LIMIT`] bytes) by name, also shown in
    /// summary.json (`run.checks[].evidence`): request ids, message ids, tested commits.
    pub inline_evidence: Vec<(String, String)>,
    /// When and on which worker the check ran (`None` for a check that never reached a worker).
    pub schedule: Option<Schedule>,
    /// The checks this one waited for in this run (`after:` and its serial group), by id:
    /// with the durations, the chains the run could not shorten (the critical path).
    pub waited_for: Vec<String>,
    /// The code frame (`--> file:line:col`, the line, a caret) of each failure or error with a
    /// known position, as the terminal prints it: reports show them without the lane sources.
    pub code_frames: Vec<String>,
}

/// Where a check sat in the run: the timeline of report.html draws one bar per check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The worker thread that ran it, from 1 to `--jobs`.
    pub worker: usize,
    /// From the start of the run to the start of the check.
    pub started: Duration,
}

/// Largest artifact copied inline into summary.json.
pub const INLINE_EVIDENCE_LIMIT: usize = 4096;
