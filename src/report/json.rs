//! `summary.json` from a finished run: the run's [`RunSummary`] as the typed
//! [`crate::summary::Summary`] (which documents the schema and also reads folders back).

use super::RunSummary;
use crate::outcome::CheckResult;
use crate::summary::{Overall, RunCheck, RunDoc, SCHEMA, Summary, VerdictCheck, VerdictDoc};

/// The whole `summary.json`, pretty-printed, with a trailing newline.
pub fn render(summary: &RunSummary) -> String {
    crate::summary::render(&document(summary))
}

/// Only the `verdict` object, pretty-printed as a document of its own, with a trailing newline.
/// Identical bytes for identical outcomes, whatever the timestamps, durations and paths.
pub fn render_verdict_part(summary: &RunSummary) -> String {
    crate::summary::render_verdict(&verdict(summary))
}

/// The run as the document summary.json holds.
pub fn document(summary: &RunSummary) -> Summary {
    Summary {
        schema: SCHEMA.to_string(),
        verdict: verdict(summary),
        run: RunDoc {
            timestamp: summary.timestamp.to_string(),
            started_at: summary.started_at.to_string(),
            finished_at: summary.finished_at.to_string(),
            duration_ms: summary.duration_ms,
            tool_version: summary.tool_version.to_string(),
            tool_commit: Some(summary.tool_commit.to_string()),
            jobs: summary.jobs,
            simulated: summary.simulated,
            lanes: summary.lanes.to_vec(),
            matrix: Some(summary.matrix.clone()),
            environment: summary.environment.iter().cloned().collect(),
            invocation: Some(summary.invocation.clone()),
            checks: summary.results.iter().map(run_check).collect(),
        },
    }
}

fn verdict(summary: &RunSummary) -> VerdictDoc {
    let verdict = summary.verdict;
    VerdictDoc {
        decision: verdict.decision,
        overall: Overall::from(verdict.decision),
        mode: summary.mode,
        phase: summary.phase.map(str::to_string),
        interrupted: summary.interrupted,
        counts: verdict.counts.clone(),
        no_go_reasons: verdict.no_go_reasons.clone(),
        warnings: verdict.warnings.clone(),
        checks: summary.results.iter().map(verdict_check).collect(),
    }
}

fn verdict_check(r: &CheckResult) -> VerdictCheck {
    VerdictCheck {
        id: r.id.clone(),
        lane: r.lane.clone(),
        level: r.level,
        target: r.target.clone(),
        description: r.description.clone(),
        status: r.status,
        reason: r.reason.clone(),
        missing: r.missing.clone(),
        assertions: r.assertions,
        attempts: r.attempts,
        failures: r.failures.clone(),
        warnings: r.warnings.clone(),
    }
}

fn run_check(r: &CheckResult) -> RunCheck {
    RunCheck {
        id: r.id.clone(),
        started_ms: r
            .schedule
            .map(|s| u64::try_from(s.started.as_millis()).unwrap_or(u64::MAX)),
        duration_ms: u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
        worker: r.schedule.map(|s| s.worker),
        log: r.log_path.clone(),
        har: r.har_path.clone(),
        artifacts: r.artifacts.clone(),
        evidence: inline_evidence(&r.inline_evidence),
        command: r.command.clone(),
        code_frames: r.code_frames.clone(),
        waited_for: r.waited_for.clone(),
    }
}

/// `{ "name": value }` of a check's small artifacts, in the order they were saved; a `.json`
/// artifact that parses is embedded as JSON, anything else as its text (trailing newline
/// trimmed). A name saved twice keeps its last value (in its first place).
fn inline_evidence(saved: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    let mut evidence = serde_json::Map::new();
    for (name, text) in saved {
        let value = name
            .ends_with(".json")
            .then(|| serde_json::from_str::<serde_json::Value>(text).ok())
            .flatten()
            .unwrap_or_else(|| serde_json::Value::String(text.trim_end_matches('\n').to_string()));
        evidence.insert(name.clone(), value);
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
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
                "code_frames",
                "waited_for"
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
