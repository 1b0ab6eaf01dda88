//! Report sinks: pure renderers from one [`RunSummary`] to the text of a report file.
//!
//! Every renderer is `&RunSummary -> String`; writing the files (atomically) and hashing them
//! is the job of [`crate::evidence`].

pub mod code_frames;
pub mod critical_path;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod rebuild;
pub mod terminal;
pub mod tsv;

use crate::outcome::{CheckResult, Failure, Missing};
use crate::verdict::Verdict;

/// Everything the file reports need about a finished (or interrupted) run. Built once by the runner.
#[derive(Debug, Clone, Copy)]
pub struct RunSummary<'a> {
    /// `YYYYMMDDTHHMMSSZ`, e.g. "20260221T192746Z".
    pub timestamp: &'a str,
    /// RFC 3339.
    pub started_at: &'a str,
    /// RFC 3339.
    pub finished_at: &'a str,
    pub duration_ms: u64,
    pub tool_version: &'a str,
    /// The git commit the tool was built from (`unknown` outside git).
    pub tool_commit: &'a str,
    /// The matrix's lock: its digest and whether the run's matrix matched it.
    pub matrix: &'a crate::lock::MatrixRecord,
    pub mode: crate::config::Mode,
    pub interrupted: bool,
    pub simulated: bool,
    pub phase: Option<&'a str>,
    pub jobs: usize,
    /// Lane files, as displayed.
    pub lanes: &'a [String],
    /// (variable, value already redacted for display); `None` is shown as `<unset>`.
    pub environment: &'a [(String, Option<String>)],
    /// In report order, one per declared check.
    pub results: &'a [CheckResult],
    pub verdict: &'a Verdict,
    /// Ids of checks declared `mutates: true` that ran against production
    /// (`--allow-prod-mutations`), in report order.
    pub production_mutations: &'a [String],
    /// How the run was made (summary.json `run.invocation`).
    pub invocation: &'a crate::invocation::Invocation,
}

/// One failure on one line, the same in SUMMARY.md and junit.xml:
/// `lanes/control.rhai:12:9: message (expected X, actual Y)`, leaving out what is unknown, and
/// what the message already says (`answered 401, expected 200` needs no `(expected 200, actual
/// 401)` after it).
pub(crate) fn failure_line(failure: &Failure) -> String {
    let mut line = String::new();
    if let Some(pos) = &failure.position {
        line.push_str(&format!("{pos}: "));
    }
    line.push_str(&failure.message);
    let said = |value: &Option<String>| {
        value
            .as_deref()
            .is_some_and(|v| failure.message.contains(v))
    };
    if said(&failure.expected) && said(&failure.actual) {
        return single_line(&line);
    }
    match (&failure.expected, &failure.actual) {
        (Some(expected), Some(actual)) => {
            line.push_str(&format!(" (expected {expected}, actual {actual})"))
        }
        (Some(expected), None) => line.push_str(&format!(" (expected {expected})")),
        (None, Some(actual)) => line.push_str(&format!(" (actual {actual})")),
        (None, None) => {}
    }
    single_line(&line)
}

/// Every warning of a run, the same list (and so the same count) on the terminal, in
/// SUMMARY.md and in report.html: the verdict's (an optional check that did not pass, each
/// starting with its id), then every `warn()` of every check as `id: text`.
pub(crate) fn all_warnings<'a>(
    verdict_warnings: &[String],
    checks: impl IntoIterator<Item = (&'a str, &'a [String])>,
) -> Vec<String> {
    let mut all = verdict_warnings.to_vec();
    for (id, warnings) in checks {
        all.extend(warnings.iter().map(|w| format!("{id}: {w}")));
    }
    all
}

/// What this machine lacked, once per missing thing, with the checks it kept from running
/// (in report order): the terminal's verdict block, SUMMARY.md and report.html show the same
/// list, under the same heading ([`MISSING_HERE_HEADING`]).
pub(crate) fn missing_here<'a>(
    checks: impl IntoIterator<Item = (&'a str, Option<&'a Missing>)>,
) -> Vec<(&'a Missing, Vec<&'a str>)> {
    let mut groups: Vec<(&Missing, Vec<&str>)> = Vec::new();
    for (id, missing) in checks {
        let Some(missing) = missing else { continue };
        match groups.iter_mut().find(|(m, _)| *m == missing) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((missing, vec![id])),
        }
    }
    groups
}

/// The heading over [`missing_here`]'s list, in every report.
pub const MISSING_HERE_HEADING: &str =
    "Not checked here: missing on this machine, not a fault of the deployment";

/// One line of [`missing_here`]'s list: `cargo not installed (a, b): install Rust ...`.
pub(crate) fn missing_here_line(missing: &Missing, ids: &[&str]) -> String {
    format!(
        "{} ({}): {}",
        missing.reason,
        ids.join(", "),
        missing.remedy
    )
}

/// Tabs and line breaks (`diagnostic::LINE_BREAKS`) become spaces: every report field is one line.
pub(crate) fn single_line(text: &str) -> String {
    crate::diagnostic::one_line(text)
}

#[cfg(test)]
pub(crate) mod fixture {
    //! The run every report test renders: 4 checks, one of each outcome that matters.

    use super::RunSummary;
    use crate::config::Mode;
    use crate::outcome::{CheckResult, Failure, Level, SourcePos, Status};
    use crate::verdict::{Verdict, decide};
    use std::time::Duration;

    pub struct Fixture {
        pub timestamp: String,
        pub started_at: String,
        pub finished_at: String,
        pub duration_ms: u64,
        pub mode: crate::config::Mode,
        pub interrupted: bool,
        pub simulated: bool,
        pub phase: Option<String>,
        pub lanes: Vec<String>,
        pub environment: Vec<(String, Option<String>)>,
        pub results: Vec<CheckResult>,
        pub verdict: Verdict,
        pub invocation: crate::invocation::Invocation,
        pub matrix: crate::lock::MatrixRecord,
    }

    impl Fixture {
        pub fn summary(&self) -> RunSummary<'_> {
            RunSummary {
                timestamp: &self.timestamp,
                started_at: &self.started_at,
                finished_at: &self.finished_at,
                duration_ms: self.duration_ms,
                tool_version: "0.1.0",
                tool_commit: "0123456789ab",
                matrix: &self.matrix,
                mode: self.mode,
                interrupted: self.interrupted,
                simulated: self.simulated,
                phase: self.phase.as_deref(),
                jobs: 2,
                lanes: &self.lanes,
                environment: &self.environment,
                results: &self.results,
                verdict: &self.verdict,
                production_mutations: &[],
                invocation: &self.invocation,
            }
        }

        /// Recompute the verdict after changing `results` or `interrupted`.
        pub fn redecide(&mut self) {
            self.verdict = decide(&self.results, self.interrupted);
        }
    }

    fn result(id: &str, lane: &str, level: Level, status: Status) -> CheckResult {
        CheckResult {
            id: id.to_string(),
            lane: lane.to_string(),
            level,
            target: None,
            description: String::new(),
            status,
            reason: None,
            reason_at: None,
            missing: None,
            failures: Vec::new(),
            warnings: Vec::new(),
            assertions: 0,
            attempts: 1,
            duration: Duration::ZERO,
            command: format!("oa-validate lanes/{lane}.rhai --check {id}"),
            log_path: format!("logs/{id}.log"),
            har_path: None,
            artifacts: Vec::new(),
            inline_evidence: Vec::new(),
            schedule: None,
            waited_for: Vec::new(),
            code_frames: Vec::new(),
        }
    }

    pub fn fixture() -> Fixture {
        let mut health = result(
            "control-staging-health",
            "control",
            Level::Required,
            Status::Passed,
        );
        health.target = Some("staging".to_string());
        health.description = "staging control health/ready endpoints".to_string();
        health.assertions = 1;
        health.duration = Duration::from_millis(120);
        health.har_path = Some("http/control-staging-health.har".to_string());
        health.warnings = vec!["/healthz answered 404; /readyz is canonical".to_string()];

        let mut smoke = result(
            "control-staging-smoke",
            "control",
            Level::Required,
            Status::Failed,
        );
        smoke.target = Some("staging".to_string());
        smoke.description = "staging control smoke (static host + auth/session/sync token checks when token provided)".to_string();
        smoke.reason = Some("GET /api/auth/session: status 404, expected 200".to_string());
        smoke.failures = vec![Failure {
            message: "GET /api/auth/session: unexpected status".to_string(),
            expected: Some("200".to_string()),
            actual: Some("404".to_string()),
            position: Some(SourcePos {
                file: "lanes/control.rhai".to_string(),
                line: 12,
                column: 9,
            }),
        }];
        smoke.assertions = 3;
        smoke.duration = Duration::from_millis(845);
        smoke.har_path = Some("http/control-staging-smoke.har".to_string());
        smoke.artifacts = vec!["artifacts/control-staging-smoke/session.json".to_string()];

        let mut runtime = result(
            "runtime-staging-smoke",
            "runtime",
            Level::Required,
            Status::Errored,
        );
        runtime.target = Some("staging".to_string());
        runtime.description = "staging runtime health and authority API smoke".to_string();
        runtime.reason = Some("timed out after 30s".to_string());
        runtime.failures = vec![Failure {
            message: "timed out after 30s".to_string(),
            expected: None,
            actual: None,
            position: Some(SourcePos {
                file: "lanes/runtime.rhai".to_string(),
                line: 7,
                column: 13,
            }),
        }];
        runtime.attempts = 2;
        runtime.duration = Duration::from_millis(30_002);

        let mut cross = result(
            "cross-surface-contract-harness",
            "surface_parity",
            Level::Optional,
            Status::Skipped,
        );
        cross.description = "desktop/runtime-api cross-surface contract harness".to_string();
        cross.reason = Some("RUN_CROSS_SURFACE=0".to_string());
        cross.attempts = 0;

        let results = vec![health, smoke, runtime, cross];
        let verdict = decide(&results, false);
        Fixture {
            timestamp: "20260221T192746Z".to_string(),
            started_at: "2026-02-21T19:27:46Z".to_string(),
            finished_at: "2026-02-21T19:28:17Z".to_string(),
            duration_ms: 31_004,
            mode: Mode::Normal,
            interrupted: false,
            simulated: false,
            phase: None,
            lanes: vec![
                "lanes/control.rhai".to_string(),
                "lanes/runtime.rhai".to_string(),
                "lanes/surface_parity.rhai".to_string(),
            ],
            environment: vec![
                (
                    "STAGING_CONTROL_BASE_URL".to_string(),
                    Some("https://staging.openagents.com".to_string()),
                ),
                (
                    "STAGING_CONTROL_ACCESS_TOKEN".to_string(),
                    Some("<redacted>".to_string()),
                ),
                ("STAGING_RUNTIME_BASE_URL".to_string(), None),
                ("RUN_CROSS_SURFACE".to_string(), Some("0".to_string())),
            ],
            results,
            verdict,
            invocation: invocation(),
            matrix: crate::lock::MatrixRecord {
                lock: "lanes/matrix.lock (built in)".to_string(),
                lock_sha256: Some("ab".repeat(32)),
                status: crate::lock::LockStatus::NotCompared,
                differences: Vec::new(),
            },
        }
    }

    /// A run of three lanes against real targets with one secret set.
    pub fn invocation() -> crate::invocation::Invocation {
        use crate::invocation::*;
        Invocation {
            schema: SCHEMA.to_string(),
            lanes: ["control", "runtime", "surface_parity"]
                .iter()
                .map(|lane| LaneFile {
                    path: format!("lanes/{lane}.rhai"),
                    sha256: source_digest(lane),
                    embedded: false,
                })
                .collect(),
            full_matrix: false,
            lanes_dir: None,
            checks: Vec::new(),
            mode: Mode::Normal,
            phase: None,
            sim: None,
            targets: vec![TargetRecord {
                name: "staging".to_string(),
                control_url: Some("https://staging.openagents.com".to_string()),
                runtime_url: None,
            }],
            options: RunOptions {
                jobs: 2,
                timeout: "1m".to_string(),
                max_body: 16 * 1024 * 1024,
                allow_prod_mutations: false,
                http_archive: true,
                backup_max_age: "1day".to_string(),
            },
            environment: [("RUN_CROSS_SURFACE".to_string(), "0".to_string())].into(),
            secrets_set: vec!["STAGING_CONTROL_ACCESS_TOKEN".to_string()],
            lane_env: [("ACME_URL".to_string(), None)].into(),
            rerun_of: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::SourcePos;

    #[test]
    fn failure_line_leaves_out_what_is_unknown() {
        let mut failure = Failure {
            message: "status\nmismatch".to_string(),
            expected: Some("200".to_string()),
            actual: Some("404".to_string()),
            position: Some(SourcePos {
                file: "lanes/control.rhai".to_string(),
                line: 12,
                column: 9,
            }),
        };
        assert_eq!(
            failure_line(&failure),
            "lanes/control.rhai:12:9: status mismatch (expected 200, actual 404)"
        );
        failure.actual = None;
        failure.position = None;
        assert_eq!(failure_line(&failure), "status mismatch (expected 200)");
        failure.expected = None;
        failure.actual = Some("404".to_string());
        assert_eq!(failure_line(&failure), "status mismatch (actual 404)");
        failure.actual = None;
        assert_eq!(failure_line(&failure), "status mismatch");
        // Issue 21, point 8: what the message already says is not said again.
        failure.message = "GET /x answered 401, expected 200".to_string();
        failure.expected = Some("200".to_string());
        failure.actual = Some("401".to_string());
        assert_eq!(failure_line(&failure), "GET /x answered 401, expected 200");
    }

    #[test]
    fn run_mode_words() {
        use crate::config::Mode;
        assert_eq!(Mode::Normal.as_str(), "normal");
        assert_eq!(Mode::Gate.as_str(), "gate");
        assert_eq!(Mode::Baseline.as_str(), "baseline");
        assert_eq!(
            serde_json::to_string(&Mode::Baseline).unwrap(),
            "\"baseline\""
        );
    }
}
