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
    /// Not run, with a reason (toggle off, `skip()`, production mutation refused, --fail-fast).
    Skipped,
    /// Could not run because something is missing on this machine (a program, credentials, a
    /// variable): see [`Missing`]. Never a fault of the deployment, still a NO-GO when required.
    #[serde(rename = "not-checked")]
    NotChecked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Errored => "errored",
            Status::Skipped => "skipped",
            Status::NotChecked => "not-checked",
        }
    }

    /// The status in words, for people: `not checked here` rather than `not-checked`.
    pub fn label(self) -> &'static str {
        match self {
            Status::NotChecked => "not checked here",
            other => other.as_str(),
        }
    }

    /// The upstream `results.tsv` knows only passed/failed/skipped: errored counts as failed.
    pub fn upstream_str(self) -> &'static str {
        match self {
            Status::Errored => "failed",
            Status::NotChecked => "skipped",
            other => other.as_str(),
        }
    }
}

/// What kind of thing a machine lacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MissingKind {
    /// A program: not found, or found but unable to run (rustup without a default toolchain).
    Program,
    /// Google Application Default Credentials.
    Credentials,
    /// A variable the check `needs`.
    Variable,
}

/// Something missing on this machine that kept a check from running (issue 21, point 1): the
/// one classification every such case goes through (a `needs` variable, `proc::`/`cargo::` and
/// their programs, `browser::` and Chromium, `google::` and credentials), so that every report
/// says "not checked here" with what to install, never a fault of the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Missing {
    pub kind: MissingKind,
    /// `cargo`, `chromium`, `OA_REPO_ROOT`, `Google credentials`.
    pub name: String,
    /// The check's reason: `cargo not installed`.
    pub reason: String,
    /// What to do about it on this machine.
    pub remedy: String,
}

impl Missing {
    /// A program that was not found (`program` as the lane or a variable named it).
    pub fn program_not_installed(program: &str) -> Missing {
        let name = program_name(program);
        let remedy = match name {
            "cargo" => {
                "install Rust with rustup (https://rustup.rs), or set CARGO to a cargo".to_string()
            }
            "chromium" => "run `oa-validate setup`, or set OA_CHROMIUM to a Chromium".to_string(),
            "gcloud" => "install the Google Cloud CLI (https://cloud.google.com/sdk)".to_string(),
            _ => format!("install {name}, or put it on PATH"),
        };
        Missing {
            kind: MissingKind::Program,
            name: name.to_string(),
            // A program named by path (`CARGO=/opt/x/cargo`) says where it was looked for.
            reason: if name == program {
                format!("{name} not installed")
            } else {
                format!("{name} not installed ({program} not found)")
            },
            remedy,
        }
    }

    /// A program that is there but cannot run on this machine, for the reason `why`.
    pub fn program_unusable(program: &str, why: &str, remedy: &str) -> Missing {
        let name = program_name(program);
        let at = if name == program {
            String::new()
        } else {
            format!(" ({program})")
        };
        Missing {
            kind: MissingKind::Program,
            name: name.to_string(),
            reason: format!("{name} cannot run here: {why}{at}"),
            remedy: remedy.to_string(),
        }
    }

    /// No source of Google credentials; `reason` is the Google client's own words.
    pub fn google_credentials(reason: &str) -> Missing {
        Missing {
            kind: MissingKind::Credentials,
            name: "Google credentials".to_string(),
            reason: reason.to_string(),
            remedy:
                "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS"
                    .to_string(),
        }
    }

    /// A variable the check needs is unset or empty.
    pub fn variable(name: &str) -> Missing {
        Missing {
            kind: MissingKind::Variable,
            name: name.to_string(),
            reason: format!("{name} unset"),
            remedy: format!("set {name} (or pass --var {name}=VALUE)"),
        }
    }
}

/// `cargo` for `/usr/bin/cargo`: a program named by path is still the same tool.
fn program_name(program: &str) -> &str {
    std::path::Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program)
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
    /// Where the reason points when it is a script error or a timeout (the reason's text
    /// starts with it); a failure's position is in the failure.
    pub reason_at: Option<SourcePos>,
    /// What this machine lacked, for a check [`Status::NotChecked`].
    pub missing: Option<Missing>,
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
