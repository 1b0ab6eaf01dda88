//! `oa-validate diff OLD NEW`: what changed between two evidence folders — how the runs were
//! made, statuses, new and removed checks, levels, perf TTFB per probe, each verdict — as
//! text, Markdown or JSON. Exit 1 when a required check regressed (passed in OLD, not in NEW).

mod render;

pub use render::{render_markdown, render_text};

use crate::evidence::archive::{Archive, PerfRow};
use crate::outcome::{Level, Status};
use crate::verdict::Counts;
use serde::Serialize;

pub const SCHEMA: &str = "oa-validate.diff.v1";

/// One folder as the diff shows it.
#[derive(Debug, Serialize)]
pub struct Side {
    pub folder: String,
    pub timestamp: String,
    pub decision: String,
    pub mode: String,
    pub phase: Option<String>,
    pub interrupted: bool,
    pub tool_version: String,
    pub counts: Counts,
    /// `null` for a folder written before the invocation record.
    pub command: Option<String>,
}

/// One way the two runs were made differently.
#[derive(Debug, Serialize, PartialEq)]
pub struct ContextChange {
    pub what: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Serialize)]
pub struct StatusChange {
    pub id: String,
    pub level: Level,
    pub old: Status,
    pub new: Status,
    /// Passed in OLD, not in NEW, and required in either.
    pub regression: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckBrief {
    pub id: String,
    pub level: Level,
    pub status: Status,
}

#[derive(Debug, Serialize)]
pub struct LevelChange {
    pub id: String,
    pub old: Level,
    pub new: Level,
}

#[derive(Debug, Serialize)]
pub struct PerfChange {
    pub check: String,
    pub target: Option<String>,
    pub probe: String,
    pub old_p50: Option<f64>,
    pub new_p50: Option<f64>,
    pub delta_p50: Option<f64>,
    pub old_p95: Option<f64>,
    pub new_p95: Option<f64>,
    pub delta_p95: Option<f64>,
    /// `slower` / `faster` past the threshold, `null` within it.
    pub flag: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct Threshold {
    pub percent: f64,
    pub min_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub old: Side,
    pub new: Side,
    /// How the runs were made differently (matrix, mode, phase, targets, faults, tool).
    pub context: Vec<ContextChange>,
    pub status_changes: Vec<StatusChange>,
    pub added: Vec<CheckBrief>,
    pub removed: Vec<CheckBrief>,
    pub level_changes: Vec<LevelChange>,
    pub perf_threshold: Threshold,
    pub perf: Vec<PerfChange>,
    /// Ids of the required checks that regressed: the exit code is 1 when there is one.
    pub regressions: Vec<String>,
}

fn side(archive: &Archive) -> Side {
    let summary = &archive.summary;
    Side {
        folder: archive.dir.display().to_string(),
        timestamp: summary.run.timestamp.clone(),
        decision: summary.verdict.decision.as_str().to_string(),
        mode: summary.verdict.mode.as_str().to_string(),
        phase: summary.verdict.phase.clone(),
        interrupted: summary.verdict.interrupted,
        tool_version: summary.run.tool_version.clone(),
        counts: summary.verdict.counts.clone(),
        command: summary.run.invocation.as_ref().map(|i| i.command_line()),
    }
}

/// The aspects of how a run was made that the diff compares, by name.
fn context_of(archive: &Archive) -> Vec<(&'static str, String)> {
    let run = &archive.summary.run;
    let verdict = &archive.summary.verdict;
    let mut aspects = vec![
        ("mode", verdict.mode.as_str().to_string()),
        (
            "phase",
            verdict.phase.clone().unwrap_or_else(|| "none".into()),
        ),
        ("tool version", run.tool_version.clone()),
    ];
    match &run.invocation {
        Some(invocation) => {
            let targets = match &invocation.sim {
                Some(sim) if sim.faults.is_empty() => "simulated".to_string(),
                Some(sim) => format!("simulated, faults {}", sim.faults.join(" ")),
                None => invocation
                    .targets
                    .iter()
                    .map(|t| format!("{} {}", t.name, t.control_url.as_deref().unwrap_or("-")))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            aspects.push(("targets", targets));
            let lanes: Vec<String> = invocation
                .lanes
                .iter()
                .map(|l| format!("{} {}", l.path, &l.sha256[..l.sha256.len().min(12)]))
                .collect();
            aspects.push(("lanes", lanes.join(", ")));
            let filter = if invocation.checks.is_empty() {
                "none".to_string()
            } else {
                invocation.checks.join(" ")
            };
            aspects.push(("check filter", filter));
            let rerun = invocation
                .rerun_of
                .as_ref()
                .map_or("no".to_string(), |r| format!("re-run of {}", r.folder));
            aspects.push(("re-run", rerun));
        }
        None => {
            let targets = if run.simulated {
                "simulated (faults not recorded)".to_string()
            } else {
                ["STAGING_CONTROL_BASE_URL", "PROD_CONTROL_BASE_URL"]
                    .iter()
                    .map(|v| {
                        run.environment
                            .get(*v)
                            .and_then(|x| x.as_deref())
                            .unwrap_or("-")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            aspects.push(("targets", targets));
            aspects.push(("lanes", run.lanes.join(", ")));
        }
    }
    aspects
}

pub fn compare(old: &Archive, new: &Archive, threshold: Threshold) -> Diff {
    let old_context = context_of(old);
    let new_context = context_of(new);
    let mut context = Vec::new();
    for (what, old_value) in &old_context {
        let new_value = new_context
            .iter()
            .find(|(w, _)| w == what)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "not recorded".to_string());
        if *old_value != new_value {
            context.push(ContextChange {
                what: what.to_string(),
                old: old_value.clone(),
                new: new_value,
            });
        }
    }
    for (what, new_value) in &new_context {
        if !old_context.iter().any(|(w, _)| w == what) {
            context.push(ContextChange {
                what: what.to_string(),
                old: "not recorded".to_string(),
                new: new_value.clone(),
            });
        }
    }

    let mut status_changes = Vec::new();
    let mut level_changes = Vec::new();
    let mut removed = Vec::new();
    for before in old.checks() {
        let before = before.verdict;
        let Some(after) = new.check(&before.id).map(|c| c.verdict) else {
            removed.push(CheckBrief {
                id: before.id.clone(),
                level: before.level,
                status: before.status,
            });
            continue;
        };
        if before.level != after.level {
            level_changes.push(LevelChange {
                id: before.id.clone(),
                old: before.level,
                new: after.level,
            });
        }
        if before.status != after.status {
            let required = before.level == Level::Required || after.level == Level::Required;
            status_changes.push(StatusChange {
                id: before.id.clone(),
                level: after.level,
                old: before.status,
                new: after.status,
                regression: required
                    && before.status == Status::Passed
                    && after.status != Status::Passed,
                reason: after.reason.clone(),
            });
        }
    }
    let added = new
        .checks()
        .filter(|c| old.check(c.id()).is_none())
        .map(|c| CheckBrief {
            id: c.id().to_string(),
            level: c.verdict.level,
            status: c.verdict.status,
        })
        .collect();
    let regressions = status_changes
        .iter()
        .filter(|c| c.regression)
        .map(|c| c.id.clone())
        .collect();
    Diff {
        schema: SCHEMA,
        old: side(old),
        new: side(new),
        context,
        status_changes,
        added,
        removed,
        level_changes,
        perf: perf_changes(old, new, &threshold),
        perf_threshold: threshold,
        regressions,
    }
}

fn perf_changes(old: &Archive, new: &Archive, threshold: &Threshold) -> Vec<PerfChange> {
    let old_tables = old.perf_tables();
    let new_tables = new.perf_tables();
    let mut changes = Vec::new();
    for table in &new_tables {
        let before = old_tables.iter().find(|t| t.check_id == table.check_id);
        for row in &table.rows {
            let old_row: Option<&PerfRow> =
                before.and_then(|t| t.rows.iter().find(|r| r.probe == row.probe));
            let delta = |old: Option<f64>, new: Option<f64>| Some(new? - old?);
            let (old_p50, old_p95) = (
                old_row.and_then(|r| r.ttfb_p50),
                old_row.and_then(|r| r.ttfb_p95),
            );
            let delta_p50 = delta(old_p50, row.ttfb_p50);
            let delta_p95 = delta(old_p95, row.ttfb_p95);
            let past = |old: Option<f64>, delta: Option<f64>| match (old, delta) {
                (Some(old), Some(d)) => {
                    d.abs() >= threshold.min_ms && d.abs() >= old.abs() * threshold.percent / 100.0
                }
                _ => false,
            };
            let flagged = [(old_p50, delta_p50), (old_p95, delta_p95)]
                .into_iter()
                .filter(|(o, d)| past(*o, *d))
                .map(|(_, d)| d.unwrap_or(0.0))
                .max_by(|a, b| a.abs().total_cmp(&b.abs()));
            changes.push(PerfChange {
                check: table.check_id.clone(),
                target: table.target.clone(),
                probe: row.probe.clone(),
                old_p50,
                new_p50: row.ttfb_p50,
                delta_p50,
                old_p95,
                new_p95: row.ttfb_p95,
                delta_p95,
                flag: flagged.map(|d| if d > 0.0 { "slower" } else { "faster" }),
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    /// A v1 folder's summary with these (id, level, status) checks.
    fn archive(checks: &[(&str, &str, &str)]) -> Archive {
        let verdict_checks: Vec<_> = checks
            .iter()
            .map(|(id, level, status)| {
                json!({"id": id, "lane": "lanes/x.rhai", "level": level, "target": null,
                       "description": "", "status": status, "reason": null, "assertions": 1,
                       "attempts": 1, "failures": [], "warnings": []})
            })
            .collect();
        let summary = json!({
            "schema": crate::summary::legacy::SCHEMA_V1,
            "verdict": {"decision": "NO-GO", "overall": "failed", "mode": "normal", "phase": null,
                "interrupted": false, "counts": {"total": 0, "passed": 0, "required_failures": 0,
                "optional_failures": 0, "required_skipped": 0, "optional_skipped": 0, "errored": 0},
                "no_go_reasons": [], "warnings": [], "checks": verdict_checks},
            "run": {"timestamp": "t", "started_at": "s", "finished_at": "f", "duration_ms": 0,
                "tool_version": "0.1.0", "jobs": 1, "simulated": true, "lanes": ["lanes/x.rhai"],
                "environment": {}, "checks": []}
        });
        Archive::new(
            PathBuf::from("folder"),
            serde_json::from_value(summary).expect("a summary"),
        )
    }

    fn threshold() -> Threshold {
        Threshold {
            percent: 20.0,
            min_ms: 25.0,
        }
    }

    #[test]
    fn a_regression_is_a_pass_lost_by_a_check_required_on_either_side() {
        let old = archive(&[
            ("stays", "required", "passed"),
            ("breaks", "required", "passed"),
            ("demoted-and-broken", "required", "passed"),
            ("optional-breaks", "optional", "passed"),
            ("fixed", "required", "failed"),
            ("gone", "required", "passed"),
        ]);
        let new = archive(&[
            ("stays", "required", "passed"),
            ("breaks", "required", "errored"),
            ("demoted-and-broken", "optional", "failed"),
            ("optional-breaks", "optional", "failed"),
            ("fixed", "required", "passed"),
            ("new", "required", "failed"),
        ]);
        let diff = compare(&old, &new, threshold());
        assert_eq!(diff.regressions, ["breaks", "demoted-and-broken"]);
        assert_eq!(diff.status_changes.len(), 4);
        assert_eq!(diff.level_changes.len(), 1);
        assert_eq!(
            diff.added.iter().map(|c| &c.id).collect::<Vec<_>>(),
            ["new"]
        );
        assert_eq!(
            diff.removed.iter().map(|c| &c.id).collect::<Vec<_>>(),
            ["gone"]
        );
        assert!(diff.context.is_empty(), "{:?}", diff.context);
        let text = render_text(&diff);
        assert!(text.contains("2 required check(s) regressed: breaks, demoted-and-broken"));
        let md = render_markdown(&diff);
        assert!(
            md.contains("| breaks | required | passed -> errored | **regression** |"),
            "{md}"
        );
    }

    #[test]
    fn how_the_runs_differ_is_listed() {
        let old = archive(&[("a", "required", "passed")]);
        let mut new = archive(&[("a", "required", "passed")]);
        new.summary.verdict.mode = crate::config::Mode::Gate;
        new.summary.run.tool_version = "0.2.0".to_string();
        let diff = compare(&old, &new, threshold());
        assert_eq!(
            diff.context,
            [
                ContextChange {
                    what: "mode".to_string(),
                    old: "normal".to_string(),
                    new: "gate".to_string()
                },
                ContextChange {
                    what: "tool version".to_string(),
                    old: "0.1.0".to_string(),
                    new: "0.2.0".to_string()
                },
            ]
        );
        assert!(diff.regressions.is_empty());
    }
}
