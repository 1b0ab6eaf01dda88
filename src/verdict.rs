//! The verdict: a pure function of outcomes and levels. No I/O, no clock.

use crate::outcome::{CheckResult, Level, Status};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Decision {
    #[serde(rename = "GO")]
    Go,
    #[serde(rename = "NO-GO")]
    NoGo,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Go => "GO",
            Decision::NoGo => "NO-GO",
        }
    }
}

/// Tallies in the upstream SUMMARY.md vocabulary (errored counts as failed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub required_failures: usize,
    pub optional_failures: usize,
    pub required_skipped: usize,
    pub optional_skipped: usize,
    pub errored: usize,
    /// Checks that could not run because this machine lacks something (summary.json v4).
    #[serde(default)]
    pub required_not_checked: usize,
    #[serde(default)]
    pub optional_not_checked: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    pub counts: Counts,
    /// One line per required check that did not pass, in report order.
    pub no_go_reasons: Vec<String>,
    /// One line per optional check that did not pass.
    pub warnings: Vec<String>,
}

impl Verdict {
    /// Upstream's `Overall:` word.
    pub fn overall(&self) -> &'static str {
        match self.decision {
            Decision::Go => "passed",
            Decision::NoGo => "failed",
        }
    }
}

/// GO iff there is at least one required check, every required check passed, and the run
/// was not interrupted. `results` holds a row for every declared check, run or not.
pub fn decide(results: &[CheckResult], interrupted: bool) -> Verdict {
    let mut counts = Counts {
        total: results.len(),
        ..Counts::default()
    };
    let mut no_go_reasons = Vec::new();
    let mut warnings = Vec::new();
    for r in results {
        let why = || {
            let reason = r.reason.as_deref().unwrap_or("no reason recorded");
            format!("{} {}: {}", r.id, r.status.label(), reason)
        };
        match (r.status, r.level) {
            (Status::Passed, _) => counts.passed += 1,
            (Status::Failed | Status::Errored, Level::Required) => {
                counts.required_failures += 1;
                no_go_reasons.push(why());
            }
            (Status::Failed | Status::Errored, Level::Optional) => {
                counts.optional_failures += 1;
                warnings.push(why());
            }
            (Status::Skipped, Level::Required) => {
                counts.required_skipped += 1;
                no_go_reasons.push(why());
            }
            (Status::Skipped, Level::Optional) => {
                counts.optional_skipped += 1;
                warnings.push(why());
            }
            // Missing on this machine: not a fault of the deployment, but nothing was shown
            // to work either, so a required one is still a NO-GO.
            (Status::NotChecked, Level::Required) => {
                counts.required_not_checked += 1;
                no_go_reasons.push(why());
            }
            (Status::NotChecked, Level::Optional) => {
                counts.optional_not_checked += 1;
                warnings.push(why());
            }
        }
        if r.status == Status::Errored {
            counts.errored += 1;
        }
    }
    if !results.iter().any(|r| r.level == Level::Required) {
        no_go_reasons.push("no required check was declared".to_string());
    }
    if interrupted {
        no_go_reasons.push("the run was interrupted".to_string());
    }
    let decision = if no_go_reasons.is_empty() {
        Decision::Go
    } else {
        Decision::NoGo
    };
    Verdict {
        decision,
        counts,
        no_go_reasons,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{CheckResult, Level, Status};
    use std::time::Duration;

    fn check(id: &str, level: Level, status: Status) -> CheckResult {
        CheckResult {
            id: id.to_string(),
            lane: "lanes/x.rhai".to_string(),
            level,
            target: None,
            description: String::new(),
            status,
            reason: Some("why".to_string()),
            reason_at: None,
            missing: None,
            failures: Vec::new(),
            warnings: Vec::new(),
            assertions: 1,
            attempts: 1,
            duration: Duration::ZERO,
            command: String::new(),
            log_path: format!("logs/{id}.log"),
            har_path: None,
            artifacts: Vec::new(),
            inline_evidence: Vec::new(),
            schedule: None,
            waited_for: Vec::new(),
            code_frames: Vec::new(),
        }
    }

    #[test]
    fn go_only_when_every_required_check_passed() {
        let all_pass = [
            check("a", Level::Required, Status::Passed),
            check("b", Level::Optional, Status::Failed),
            check("c", Level::Optional, Status::Skipped),
        ];
        let v = decide(&all_pass, false);
        assert_eq!(v.decision, Decision::Go);
        assert_eq!(v.warnings.len(), 2);
        assert_eq!(v.counts.optional_failures, 1);
        assert_eq!(v.counts.optional_skipped, 1);
        for bad in [Status::Failed, Status::Errored, Status::Skipped] {
            let results = [
                check("a", Level::Required, Status::Passed),
                check("b", Level::Required, bad),
            ];
            let v = decide(&results, false);
            assert_eq!(v.decision, Decision::NoGo, "{bad:?}");
            assert_eq!(v.no_go_reasons.len(), 1);
            assert!(v.no_go_reasons[0].starts_with("b "));
        }
    }

    #[test]
    fn a_check_not_checked_here_is_a_no_go_when_required_and_a_warning_when_optional() {
        let mut required = check("vignette", Level::Required, Status::NotChecked);
        required.reason = Some("cargo not installed".to_string());
        let v = decide(&[required], false);
        assert_eq!(v.decision, Decision::NoGo);
        assert_eq!(v.counts.required_not_checked, 1);
        assert_eq!(v.counts.required_failures, 0);
        assert_eq!(
            v.no_go_reasons,
            ["vignette not checked here: cargo not installed"]
        );
        let optional = [
            check("a", Level::Required, Status::Passed),
            check("b", Level::Optional, Status::NotChecked),
        ];
        let v = decide(&optional, false);
        assert_eq!(v.decision, Decision::Go);
        assert_eq!(v.counts.optional_not_checked, 1);
        assert_eq!(v.warnings, ["b not checked here: why"]);
    }

    #[test]
    fn errored_counts_as_a_required_failure() {
        let v = decide(&[check("a", Level::Required, Status::Errored)], false);
        assert_eq!(v.counts.required_failures, 1);
        assert_eq!(v.counts.errored, 1);
        assert_eq!(v.overall(), "failed");
    }

    #[test]
    fn no_required_check_or_an_interruption_is_no_go() {
        let only_optional = [check("a", Level::Optional, Status::Passed)];
        assert_eq!(decide(&only_optional, false).decision, Decision::NoGo);
        assert_eq!(decide(&[], false).decision, Decision::NoGo);
        let passed = [check("a", Level::Required, Status::Passed)];
        assert_eq!(decide(&passed, true).decision, Decision::NoGo);
        assert_eq!(decide(&passed, false).decision, Decision::Go);
    }
}
