//! `junit.xml` through `quick-junit`: one `<testsuite>` per lane (in order of first appearance),
//! one `<testcase>` per check. Failed checks are `<failure>`, errored ones `<error>`, skipped
//! ones `<skipped message="reason">`. Each suite carries `verdict` and `mode` properties
//! (quick-junit has no properties on the report itself).

use super::{RunSummary, failure_line, single_line};
use crate::outcome::{CheckResult, Status};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub const REPORT_NAME: &str = "oa-validate";

pub fn render(summary: &RunSummary) -> String {
    let mut report = Report::new(REPORT_NAME);
    if let Ok(started) = chrono::DateTime::parse_from_rfc3339(summary.started_at) {
        report.set_timestamp(started);
    }
    report.set_time(Duration::from_millis(summary.duration_ms));

    let mut lanes: Vec<&str> = Vec::new();
    for r in summary.results {
        if !lanes.contains(&r.lane.as_str()) {
            lanes.push(&r.lane);
        }
    }
    for lane in lanes {
        let mut suite = TestSuite::new(lane);
        suite.add_properties(suite_properties(summary));
        let mut time = Duration::ZERO;
        for r in summary.results.iter().filter(|r| r.lane == lane) {
            time += r.duration;
            suite.add_test_case(test_case(r));
        }
        suite.set_time(time);
        report.add_test_suite(suite);
    }

    // Serializing into memory has no I/O to fail and our strings are valid UTF-8.
    report.to_string().expect("junit.xml serializes in memory")
}

fn suite_properties(summary: &RunSummary) -> Vec<Property> {
    let mut properties = vec![
        Property::new("verdict", summary.verdict.decision.as_str()),
        Property::new("mode", summary.mode.as_str()),
    ];
    if let Some(phase) = summary.phase {
        properties.push(Property::new("phase", phase));
    }
    // Which matrix and which tool: an archived result names both.
    properties.push(Property::new(
        "matrix_lock_sha256",
        summary.matrix.lock_sha256.as_deref().unwrap_or("none"),
    ));
    properties.push(Property::new("matrix_lock", summary.matrix.status.as_str()));
    properties.push(Property::new("tool_version", summary.tool_version));
    properties.push(Property::new("tool_commit", summary.tool_commit));
    if summary.interrupted {
        properties.push(Property::new("interrupted", "true"));
    }
    // A re-run is partial: CI dashboards reading junit.xml see which folder it re-ran.
    if let Some(origin) = &summary.invocation.rerun_of {
        properties.push(Property::new("rerun_of", origin.folder.as_str()));
    }
    properties
}

fn test_case(r: &CheckResult) -> TestCase {
    let status = match r.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => non_success(r, NonSuccessKind::Failure),
        Status::Errored => non_success(r, NonSuccessKind::Error),
        Status::Skipped | Status::NotChecked => {
            let mut status = TestCaseStatus::skipped();
            if let Some(reason) = &r.reason {
                // A CI dashboard's skip: the words say it was this machine, not the service.
                let prefix = if r.status == Status::NotChecked {
                    "not checked here: "
                } else {
                    ""
                };
                status.set_message(single_line(&format!("{prefix}{reason}")));
            }
            status
        }
    };
    let mut case = TestCase::new(r.id.as_str(), status);
    case.set_classname(r.lane.as_str());
    case.set_time(r.duration);
    case.set_assertions(usize::try_from(r.assertions).unwrap_or(usize::MAX));
    case.add_property(Property::new("level", r.level.as_str()));
    if let Some(target) = &r.target {
        case.add_property(Property::new("target", target.as_str()));
    }
    case
}

/// message = the one-line reason; text = every failure on its own line, with its position.
fn non_success(r: &CheckResult, kind: NonSuccessKind) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    let first_failure = r.failures.first().map(|f| f.message.as_str());
    if let Some(message) = r.reason.as_deref().or(first_failure) {
        status.set_message(single_line(message));
    }
    if !r.failures.is_empty() {
        // One failure a line (each one line already); the lines after the first indented, so
        // none of them starts at column 0 of junit.xml.
        let lines: Vec<String> = r.failures.iter().map(failure_line).collect();
        status.set_description(lines.join("\n  "));
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::fixture;
    use roxmltree::{Document, Node};

    fn element<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
        node.children().find(|n| n.has_tag_name(name))
    }

    fn property<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
        element(node, "properties")?
            .children()
            .find(|p| p.attribute("name") == Some(name))?
            .attribute("value")
    }

    #[test]
    fn one_testcase_per_check_in_one_suite_per_lane() {
        let fixture = fixture();
        let xml = render(&fixture.summary());
        let doc = Document::parse(&xml).expect("junit.xml parses");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(root.attribute("name"), Some("oa-validate"));
        assert_eq!(root.attribute("tests"), Some("4"));
        assert_eq!(root.attribute("failures"), Some("1"));
        assert_eq!(root.attribute("errors"), Some("1"));
        assert_eq!(root.attribute("time"), Some("31.004"));

        let suites: Vec<Node> = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        let names: Vec<&str> = suites.iter().filter_map(|s| s.attribute("name")).collect();
        assert_eq!(names, ["control", "runtime", "surface_parity"]);
        for suite in &suites {
            assert_eq!(property(*suite, "verdict"), Some("NO-GO"));
            assert_eq!(property(*suite, "mode"), Some("normal"));
        }
        assert_eq!(suites[0].attribute("tests"), Some("2"));
        assert_eq!(suites[0].attribute("time"), Some("0.965"));

        let cases: Vec<Node> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 4);
        let ids: Vec<(&str, &str)> = cases
            .iter()
            .map(|c| {
                (
                    c.attribute("name").unwrap_or(""),
                    c.attribute("classname").unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("control-staging-health", "control"),
                ("control-staging-smoke", "control"),
                ("runtime-staging-smoke", "runtime"),
                ("cross-surface-contract-harness", "surface_parity"),
            ]
        );

        // passed: no child verdict element
        assert!(element(cases[0], "failure").is_none());
        assert!(element(cases[0], "error").is_none());
        assert!(element(cases[0], "skipped").is_none());
        assert_eq!(cases[0].attribute("time"), Some("0.120"));
        assert_eq!(property(cases[0], "level"), Some("required"));
        assert_eq!(property(cases[0], "target"), Some("staging"));

        let failure = element(cases[1], "failure").expect("a <failure>");
        assert_eq!(
            failure.attribute("message"),
            Some("GET /api/auth/session: status 404, expected 200")
        );
        assert_eq!(
            failure.text(),
            Some(
                "lanes/control.rhai:12:9: GET /api/auth/session: unexpected status (expected 200, actual 404)"
            )
        );

        let error = element(cases[2], "error").expect("an <error>");
        assert_eq!(error.attribute("message"), Some("timed out after 30s"));
        assert_eq!(
            error.text(),
            Some("lanes/runtime.rhai:7:13: timed out after 30s")
        );

        let skipped: Vec<Node> = doc
            .descendants()
            .filter(|n| n.has_tag_name("skipped"))
            .collect();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].attribute("message"), Some("RUN_CROSS_SURFACE=0"));
        assert_eq!(
            skipped[0].parent().and_then(|p| p.attribute("name")),
            Some("cross-surface-contract-harness")
        );
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("failure"))
                .count(),
            1
        );
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("error"))
                .count(),
            1
        );
    }

    #[test]
    fn lanes_are_grouped_in_order_of_first_appearance() {
        let mut fixture = fixture();
        // Report order runtime, control, control, surface_parity: the runtime suite comes first.
        fixture.results.swap(0, 2);
        fixture.redecide();
        let xml = render(&fixture.summary());
        let doc = Document::parse(&xml).expect("junit.xml parses");
        let suites: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        assert_eq!(suites, ["runtime", "control", "surface_parity"]);
        let control_cases = doc
            .descendants()
            .filter(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("control"))
            .flat_map(|s| s.children().filter(|c| c.has_tag_name("testcase")))
            .count();
        assert_eq!(control_cases, 2);
    }
}
