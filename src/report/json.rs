//! `summary.json`, schema `oa-validate.summary.v4` (v1 plus `run.invocation` and, per check,
//! `started_ms`, `worker` and `code_frames`; v3 adds `run.tool_commit` and `run.matrix`, the
//! matrix's lock digest and whether the run matched it; v4 adds the status `not-checked`, per
//! check `missing` (what this machine lacked) and its two counts):
//!
//! ```text
//! { "schema": "oa-validate.summary.v4",
//!   "verdict": { decision, overall, mode, phase, interrupted, counts, no_go_reasons, warnings,
//!                checks: [{ id, lane, level, target, description, status, reason, missing,
//!                           assertions,
//!                           attempts, failures: [{ message, expected?, actual?,
//!                                                  position?: { file, line, column } }],
//!                           warnings }] },
//!   "run": { timestamp, started_at, finished_at, duration_ms, tool_version, tool_commit, jobs,
//!            simulated, lanes, matrix: { lock, lock_sha256, status, differences },
//!            environment: { NAME: value | null }, invocation: { ... },
//!            checks: [{ id, started_ms, duration_ms, worker, log, har, artifacts, evidence,
//!                       command, code_frames }] } }
//! ```
//!
//! `verdict` depends on the outcomes only — no clock, no durations, no evidence paths — so the
//! same outcomes give the same bytes ([`render_verdict_part`]). Everything that changes from
//! run to run lives under `run`. Key order is fixed (struct field order).

use super::{RunMode, RunSummary};
use crate::outcome::{CheckResult, Failure, Level, Missing, Status};
use crate::verdict::{Counts, Decision};
use serde::ser::{Serialize, SerializeMap, Serializer};

pub const SCHEMA: &str = "oa-validate.summary.v4";
/// The schema before `run.invocation`; readers still accept it.
pub const SCHEMA_V1: &str = "oa-validate.summary.v1";
/// The schema before `run.tool_commit` and `run.matrix`; readers still accept it.
pub const SCHEMA_V2: &str = "oa-validate.summary.v2";
/// The schema before the status `not-checked` and `missing`; readers still accept it.
pub const SCHEMA_V3: &str = "oa-validate.summary.v3";

/// The whole `summary.json`, pretty-printed, with a trailing newline.
pub fn render(summary: &RunSummary) -> String {
    let document = Document {
        schema: SCHEMA,
        verdict: VerdictPart::new(summary),
        run: RunPart::new(summary),
    };
    pretty(&document)
}

/// Only the `verdict` object, pretty-printed as a document of its own, with a trailing newline.
/// Identical bytes for identical outcomes, whatever the timestamps, durations and paths.
pub fn render_verdict_part(summary: &RunSummary) -> String {
    pretty(&VerdictPart::new(summary))
}

fn pretty(value: &impl Serialize) -> String {
    // These types have string keys and infallible Serialize impls: serde_json cannot fail here.
    let mut text = serde_json::to_string_pretty(value).expect("summary.json is serializable");
    text.push('\n');
    text
}

#[derive(serde::Serialize)]
struct Document<'a> {
    schema: &'static str,
    verdict: VerdictPart<'a>,
    run: RunPart<'a>,
}

#[derive(serde::Serialize)]
struct VerdictPart<'a> {
    decision: Decision,
    overall: &'static str,
    mode: RunMode,
    phase: Option<&'a str>,
    interrupted: bool,
    counts: &'a Counts,
    no_go_reasons: &'a [String],
    warnings: &'a [String],
    checks: Vec<VerdictCheck<'a>>,
}

impl<'a> VerdictPart<'a> {
    fn new(summary: &RunSummary<'a>) -> Self {
        let verdict = summary.verdict;
        VerdictPart {
            decision: verdict.decision,
            overall: verdict.overall(),
            mode: summary.mode,
            phase: summary.phase,
            interrupted: summary.interrupted,
            counts: &verdict.counts,
            no_go_reasons: &verdict.no_go_reasons,
            warnings: &verdict.warnings,
            checks: summary.results.iter().map(VerdictCheck::new).collect(),
        }
    }
}

#[derive(serde::Serialize)]
struct VerdictCheck<'a> {
    id: &'a str,
    lane: &'a str,
    level: Level,
    target: Option<&'a str>,
    description: &'a str,
    /// The real status (`errored` stays `errored`, unlike results.tsv).
    status: Status,
    reason: Option<&'a str>,
    /// What this machine lacked (status `not-checked`), else null.
    missing: Option<&'a Missing>,
    assertions: u64,
    attempts: u32,
    failures: &'a [Failure],
    warnings: &'a [String],
}

impl<'a> VerdictCheck<'a> {
    fn new(r: &'a CheckResult) -> Self {
        VerdictCheck {
            id: &r.id,
            lane: &r.lane,
            level: r.level,
            target: r.target.as_deref(),
            description: &r.description,
            status: r.status,
            reason: r.reason.as_deref(),
            missing: r.missing.as_ref(),
            assertions: r.assertions,
            attempts: r.attempts,
            failures: &r.failures,
            warnings: &r.warnings,
        }
    }
}

#[derive(serde::Serialize)]
struct RunPart<'a> {
    timestamp: &'a str,
    started_at: &'a str,
    finished_at: &'a str,
    duration_ms: u64,
    tool_version: &'a str,
    tool_commit: &'a str,
    jobs: usize,
    simulated: bool,
    lanes: &'a [String],
    matrix: &'a crate::lock::MatrixRecord,
    environment: Environment<'a>,
    invocation: &'a crate::invocation::Invocation,
    checks: Vec<RunCheck<'a>>,
}

impl<'a> RunPart<'a> {
    fn new(summary: &RunSummary<'a>) -> Self {
        RunPart {
            timestamp: summary.timestamp,
            started_at: summary.started_at,
            finished_at: summary.finished_at,
            duration_ms: summary.duration_ms,
            tool_version: summary.tool_version,
            tool_commit: summary.tool_commit,
            jobs: summary.jobs,
            simulated: summary.simulated,
            lanes: summary.lanes,
            matrix: summary.matrix,
            environment: Environment(summary.environment),
            invocation: summary.invocation,
            checks: summary.results.iter().map(RunCheck::new).collect(),
        }
    }
}

#[derive(serde::Serialize)]
struct RunCheck<'a> {
    id: &'a str,
    /// From the start of the run; null for a check no worker reached.
    started_ms: Option<u64>,
    duration_ms: u64,
    /// The worker (1..=jobs) that ran it; null for a check no worker reached.
    worker: Option<usize>,
    log: &'a str,
    har: Option<&'a str>,
    artifacts: &'a [String],
    /// Small artifacts inline, by name: JSON artifacts as JSON, others as text.
    evidence: InlineEvidence<'a>,
    /// What repeats this check; may name local ports (simulated runs), hence not in `verdict`.
    command: &'a str,
    code_frames: &'a [String],
}

impl<'a> RunCheck<'a> {
    fn new(r: &'a CheckResult) -> Self {
        RunCheck {
            id: &r.id,
            started_ms: r
                .schedule
                .map(|s| u64::try_from(s.started.as_millis()).unwrap_or(u64::MAX)),
            worker: r.schedule.map(|s| s.worker),
            duration_ms: u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
            log: &r.log_path,
            har: r.har_path.as_deref(),
            artifacts: &r.artifacts,
            evidence: InlineEvidence(&r.inline_evidence),
            command: &r.command,
            code_frames: &r.code_frames,
        }
    }
}

/// `{ "name": value }` of a check's small artifacts, in the order they were saved; a `.json`
/// artifact that parses is embedded as JSON, anything else as its text (trailing newline
/// trimmed). A name saved twice keeps its last value.
struct InlineEvidence<'a>(&'a [(String, String)]);

impl Serialize for InlineEvidence<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&str, serde_json::Value)> = Vec::new();
        for (name, text) in self.0 {
            let value = name
                .ends_with(".json")
                .then(|| serde_json::from_str::<serde_json::Value>(text).ok())
                .flatten()
                .unwrap_or_else(|| {
                    serde_json::Value::String(text.trim_end_matches('\n').to_string())
                });
            match entries.iter_mut().find(|(n, _)| *n == name.as_str()) {
                Some(entry) => entry.1 = value,
                None => entries.push((name, value)),
            }
        }
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (name, value) in &entries {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// `{ "NAME": "value" | null }` in the order the runner listed the variables.
struct Environment<'a>(&'a [(String, Option<String>)]);

impl Serialize for Environment<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{Fixture, fixture};
    use serde_json::Value;
    use std::time::Duration;

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect()
    }

    fn parsed(fixture: &Fixture) -> Value {
        serde_json::from_str(&render(&fixture.summary())).expect("summary.json parses")
    }

    #[test]
    fn key_order_is_fixed() {
        let doc = parsed(&fixture());
        assert_eq!(keys(&doc), ["schema", "verdict", "run"]);
        assert_eq!(doc["schema"], SCHEMA);
        assert_eq!(
            keys(&doc["verdict"]),
            [
                "decision",
                "overall",
                "mode",
                "phase",
                "interrupted",
                "counts",
                "no_go_reasons",
                "warnings",
                "checks"
            ]
        );
        assert_eq!(
            keys(&doc["run"]),
            [
                "timestamp",
                "started_at",
                "finished_at",
                "duration_ms",
                "tool_version",
                "tool_commit",
                "jobs",
                "simulated",
                "lanes",
                "matrix",
                "environment",
                "invocation",
                "checks"
            ]
        );
        assert_eq!(
            keys(&doc["verdict"]["checks"][0]),
            [
                "id",
                "lane",
                "level",
                "target",
                "description",
                "status",
                "reason",
                "missing",
                "assertions",
                "attempts",
                "failures",
                "warnings"
            ]
        );
        assert_eq!(
            keys(&doc["run"]["checks"][0]),
            [
                "id",
                "started_ms",
                "duration_ms",
                "worker",
                "log",
                "har",
                "artifacts",
                "evidence",
                "command",
                "code_frames"
            ]
        );
    }

    #[test]
    fn values_are_the_outcomes() {
        let doc = parsed(&fixture());
        let verdict = &doc["verdict"];
        assert_eq!(verdict["decision"], "NO-GO");
        assert_eq!(verdict["overall"], "failed");
        assert_eq!(verdict["mode"], "normal");
        assert_eq!(verdict["phase"], Value::Null);
        assert_eq!(verdict["interrupted"], false);
        assert_eq!(verdict["counts"]["total"], 4);
        assert_eq!(verdict["counts"]["required_failures"], 2);
        assert_eq!(verdict["counts"]["errored"], 1);
        assert_eq!(verdict["no_go_reasons"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            verdict["warnings"][0],
            "cross-surface-contract-harness skipped: RUN_CROSS_SURFACE=0"
        );
        let checks = verdict["checks"].as_array().expect("checks");
        let statuses: Vec<&str> = checks.iter().filter_map(|c| c["status"].as_str()).collect();
        assert_eq!(statuses, ["passed", "failed", "errored", "skipped"]);
        assert_eq!(checks[0]["level"], "required");
        assert_eq!(checks[0]["target"], "staging");
        assert_eq!(checks[3]["target"], Value::Null);
        assert_eq!(checks[3]["reason"], "RUN_CROSS_SURFACE=0");
        assert_eq!(checks[2]["attempts"], 2);
        let failure = &checks[1]["failures"][0];
        assert_eq!(failure["expected"], "200");
        assert_eq!(failure["actual"], "404");
        assert_eq!(failure["position"]["file"], "lanes/control.rhai");
        assert_eq!(failure["position"]["line"], 12);
        assert_eq!(failure["position"]["column"], 9);
        // Unknown expected/actual are left out, not null.
        assert_eq!(
            keys(&checks[2]["failures"][0]),
            ["message", "position"],
            "errored failure without expected/actual"
        );

        let run = &doc["run"];
        assert_eq!(run["timestamp"], "20260221T192746Z");
        assert_eq!(run["duration_ms"], 31_004);
        assert_eq!(run["jobs"], 2);
        assert_eq!(run["environment"]["STAGING_RUNTIME_BASE_URL"], Value::Null);
        assert_eq!(run["environment"]["RUN_CROSS_SURFACE"], "0");
        assert_eq!(
            keys(&run["environment"]),
            [
                "STAGING_CONTROL_BASE_URL",
                "STAGING_CONTROL_ACCESS_TOKEN",
                "STAGING_RUNTIME_BASE_URL",
                "RUN_CROSS_SURFACE"
            ]
        );
        assert_eq!(run["checks"][2]["duration_ms"], 30_002);
        assert_eq!(run["checks"][0]["har"], "http/control-staging-health.har");
        assert_eq!(run["checks"][2]["har"], Value::Null);
        assert_eq!(
            run["checks"][1]["artifacts"][0],
            "artifacts/control-staging-smoke/session.json"
        );
    }

    #[test]
    fn small_artifacts_are_inline_json_or_text() {
        let mut fixture = fixture();
        fixture.results[1].inline_evidence = vec![
            ("request-ids.json".into(), "{\"send\": \"oa-1\"}".into()),
            ("message-id.txt".into(), "<m1@mail>\n".into()),
            ("message-id.txt".into(), "<m2@mail>\n".into()),
        ];
        let doc = parsed(&fixture);
        let evidence = &doc["run"]["checks"][1]["evidence"];
        assert_eq!(evidence["request-ids.json"]["send"], "oa-1");
        assert_eq!(evidence["message-id.txt"], "<m2@mail>");
        assert_eq!(doc["run"]["checks"][0]["evidence"], serde_json::json!({}));
    }

    #[test]
    fn verdict_part_is_the_verdict_object() {
        let fixture = fixture();
        let doc = parsed(&fixture);
        let part: Value = serde_json::from_str(&render_verdict_part(&fixture.summary()))
            .expect("verdict part parses");
        assert_eq!(part, doc["verdict"]);
    }

    #[test]
    fn verdict_part_ignores_time_and_paths_but_not_outcomes() {
        let first = fixture();
        let mut second = fixture();
        second.timestamp = "20270101T000000Z".to_string();
        second.started_at = "2027-01-01T00:00:00Z".to_string();
        second.finished_at = "2027-01-01T00:09:00Z".to_string();
        second.duration_ms = 540_000;
        second.lanes = vec!["/elsewhere/lanes/control.rhai".to_string()];
        second.environment[0].1 = Some("http://127.0.0.1:41234".to_string());
        for r in &mut second.results {
            r.duration = Duration::from_secs(99);
            r.log_path = format!("other/logs/{}.log", r.id);
            r.har_path = Some(format!("other/http/{}.har", r.id));
            r.artifacts.push("other/artifact.png".to_string());
            r.command = "oa-validate --sim".to_string();
        }
        second.redecide();

        let before = render_verdict_part(&first.summary());
        assert_eq!(before, render_verdict_part(&second.summary()));
        assert_ne!(render(&first.summary()), render(&second.summary()));

        second.results[0].status = Status::Failed;
        second.redecide();
        assert_ne!(before, render_verdict_part(&second.summary()));
    }
}
