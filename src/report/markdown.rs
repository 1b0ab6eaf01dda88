//! `SUMMARY.md`: the upstream layout, byte for byte, plus lines and sections that only add
//! (a `- Verdict:` line, the mode, and `## Verdict`, `## Failures`, `## Warnings` at the end).
//!
//! GitHub renders it as the job summary, so every text a run picked up (a server's words in a
//! failure, a reason, a warning) goes through [`text`]: it shows as written and cannot open
//! HTML or Markdown (issue 20, finding 9).

use super::{RunSummary, failure_line, single_line};
use crate::outcome::{CheckResult, Status};
use crate::redact::Redactor;
use crate::verdict::Decision;
use std::fmt::Write as _;

const TITLE: &str = "# Rust Staging/Prod Validation Matrix";

/// SUMMARY.md of `summary`. Texts are redacted with `redactor` before they are escaped: an
/// escape inside a secret would hide it from any later redaction.
pub fn render(summary: &RunSummary, redactor: &Redactor) -> String {
    let text = |s: &str| text(&redactor.redact(s));
    let mut out = String::new();
    // Lanes that use no target (they name their own URLs) are not a run of the OpenAgents
    // matrix: their summary says what they were and what they read (issue 21, point 4).
    if uses_targets(summary) {
        out.push_str(TITLE);
    } else {
        out.push_str(&format!(
            "# Validation: {}",
            single_line(&summary.lanes.join(", "))
        ));
    }
    out.push_str("\n\n");
    out.push_str(&headline(summary));
    let environment = if uses_targets(summary) {
        environment(summary)
    } else {
        lane_environment(summary, redactor)
    };
    section(&mut out, "Environment", &environment);
    section(&mut out, "Check Results", &check_table(summary));
    section(&mut out, "Commands", &commands(summary, &text));
    section(&mut out, "Verdict", &verdict(summary, &text));
    let missing = super::missing_here(
        summary
            .results
            .iter()
            .map(|r| (r.id.as_str(), r.missing.as_ref())),
    );
    if !missing.is_empty() {
        let lines = missing
            .iter()
            .map(|(what, ids)| format!("- {}", text(&super::missing_here_line(what, ids))));
        section(
            &mut out,
            "Not Checked Here",
            &format!("{}:\n\n{}", super::MISSING_HERE_HEADING, bullets(lines)),
        );
    }
    let failures = failures(summary, &text);
    if !failures.is_empty() {
        section(&mut out, "Failures", &failures);
    }
    let warnings = warnings(summary, &text);
    if !warnings.is_empty() {
        section(&mut out, "Warnings", &warnings);
    }
    if !summary.production_mutations.is_empty() {
        section(
            &mut out,
            "Production Mutations",
            &production_mutations(summary.production_mutations),
        );
    }
    out
}

/// The mutating checks that ran against production (only with --allow-prod-mutations).
fn production_mutations(ids: &[String]) -> String {
    let mut out =
        String::from("These checks changed state in production (--allow-prod-mutations):\n\n");
    out.push_str(&bullets(
        ids.iter().map(|id| format!("- {}", single_line(id))),
    ));
    out
}

/// Text from a run as inert Markdown on one line: `<`, `>` and `&` become entities (no HTML
/// opens: no fake `<h1>`, no remote `<img>`), and a backslash goes before each ASCII
/// punctuation mark that can open a Markdown construct (emphasis, code, links and images,
/// headings, tables, strikethrough), so the text renders exactly as it was written.
/// An `_` inside a word (`RUN_CROSS_SURFACE`) opens nothing in GitHub's Markdown and is kept.
fn text(s: &str) -> String {
    let line: Vec<char> = single_line(s).chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in line.iter().enumerate() {
        let in_word = |j: Option<usize>| {
            j.and_then(|j| line.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '_' if in_word(i.checked_sub(1)) && in_word(Some(i + 1)) => out.push(c),
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '|' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `\n## title\n\nbody` where `body` ends with a newline.
fn section(out: &mut String, title: &str, body: &str) {
    out.push_str("\n## ");
    out.push_str(title);
    out.push_str("\n\n");
    out.push_str(body);
}

fn headline(summary: &RunSummary) -> String {
    let verdict = summary.verdict;
    let counts = &verdict.counts;
    let mut lines = vec![
        format!("- Timestamp (UTC): {}", single_line(summary.timestamp)),
        format!("- Overall: {}", verdict.overall()),
        format!("- Verdict: {}", verdict.decision.as_str()),
        format!("- Total checks: {}", counts.total),
        format!("- Passed: {}", counts.passed),
        format!("- Required failures: {}", counts.required_failures),
        format!("- Optional failures: {}", counts.optional_failures),
        format!("- Required skipped: {}", counts.required_skipped),
        format!("- Optional skipped: {}", counts.optional_skipped),
    ];
    // Only when some check could not run on this machine: upstream's lines stay as they were.
    let not_checked = counts.required_not_checked + counts.optional_not_checked;
    if not_checked > 0 {
        lines.push(format!(
            "- Not checked here (missing on this machine): {not_checked} ({} required, {} optional)",
            counts.required_not_checked, counts.optional_not_checked
        ));
    }
    lines.push(format!("- Mode: {}", summary.mode.as_str()));
    // Lanes without targets show the phase only when it was asked for.
    if let Some(phase) = summary.phase
        && (uses_targets(summary) || summary.invocation.phase.is_some())
    {
        lines.push(format!("- Phase: {}", single_line(phase)));
    }
    if let Some(origin) = &summary.invocation.rerun_of {
        lines.push(format!(
            "- Re-run of: {} ({}, {}): its {} failed checks only; partial, not a release decision",
            single_line(&origin.folder),
            single_line(&origin.decision),
            single_line(&origin.timestamp),
            origin.checks.len()
        ));
    }
    if summary.interrupted {
        lines.push("- Interrupted: yes".to_string());
    }
    if summary.simulated {
        lines.push("- Target: simulated deployment".to_string());
    }
    // Which matrix and which tool: an archived verdict names both.
    lines.push(format!("- Matrix: {}", single_line(&summary.matrix.line())));
    lines.push(format!(
        "- Tool: oa-validate {} (commit {})",
        single_line(summary.tool_version),
        single_line(summary.tool_commit)
    ));
    bullets(lines)
}

/// Whether some check ran against a target (staging, prod): an OpenAgents matrix run.
fn uses_targets(summary: &RunSummary) -> bool {
    summary.results.iter().any(|r| r.target.is_some())
}

/// The variables the lanes read with `env()` (secret-named ones are only named).
fn lane_environment(summary: &RunSummary, redactor: &Redactor) -> String {
    let invocation = summary.invocation;
    if invocation.lane_env.is_empty() && invocation.secrets_set.is_empty() {
        return "- (the lanes read no variables)\n".to_string();
    }
    let read = invocation.lane_env.iter().map(|(name, value)| {
        let value = value
            .as_deref()
            .map_or("<unset>".to_string(), |v| redactor.redact(v));
        format!("- {}={}", single_line(name), single_line(&value))
    });
    let secrets = invocation
        .secrets_set
        .iter()
        .filter(|name| !invocation.lane_env.contains_key(*name))
        .map(|name| format!("- {}=<redacted>", single_line(name)));
    bullets(read.chain(secrets))
}

fn environment(summary: &RunSummary) -> String {
    bullets(summary.environment.iter().map(|(name, value)| {
        let value = value.as_deref().unwrap_or("<unset>");
        format!("- {}={}", single_line(name), single_line(value))
    }))
}

fn check_table(summary: &RunSummary) -> String {
    let mut out = String::from(
        "| Check | Required | Status | Description | Log |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in summary.results {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&r.id),
            r.level.as_str(),
            // upstream's vocabulary, but a check this machine could not run says so
            match r.status {
                Status::NotChecked => r.status.label(),
                other => other.upstream_str(),
            },
            cell(&r.description),
            cell(&r.log_path),
        );
    }
    out
}

/// A table cell: one line, and a `|` does not end the cell.
fn cell(text: &str) -> String {
    single_line(text).replace('|', "\\|")
}

fn commands(summary: &RunSummary, text: &dyn Fn(&str) -> String) -> String {
    bullets(summary.results.iter().map(|r| {
        let what = match r.status {
            Status::Skipped => text(r.reason.as_deref().unwrap_or("")),
            Status::NotChecked => format!(
                "not checked here: {}",
                text(r.reason.as_deref().unwrap_or(""))
            ),
            _ => single_line(&r.command),
        };
        format!("- {}: {what}", single_line(&r.id))
    }))
}

fn verdict(summary: &RunSummary, text: &dyn Fn(&str) -> String) -> String {
    let verdict = summary.verdict;
    let decided = match verdict.decision {
        Decision::Go => "GO: every required check passed.\n".to_string(),
        Decision::NoGo => {
            let reasons = bullets(
                verdict
                    .no_go_reasons
                    .iter()
                    .map(|reason| format!("- {}", text(reason))),
            );
            format!("NO-GO because:\n\n{reasons}")
        }
    };
    match &summary.invocation.rerun_of {
        Some(origin) => format!(
            "Partial re-run of {}: only the checks that failed there ran. Not a release \
             decision: only a complete gate run can give GO.\n\n{decided}",
            single_line(&origin.folder)
        ),
        None => decided,
    }
}

/// One `### id` block per failed or errored check (required or optional).
fn failures(summary: &RunSummary, text: &dyn Fn(&str) -> String) -> String {
    let blocks: Vec<String> = summary
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Errored))
        .map(|r| failure_block(r, text))
        .collect();
    blocks.join("\n")
}

fn failure_block(result: &CheckResult, text: &dyn Fn(&str) -> String) -> String {
    let lines: Vec<String> = if result.failures.is_empty() {
        // An errored check may carry only its reason (e.g. a panic outside any assertion).
        let reason = result.reason.as_deref().unwrap_or("no failure recorded");
        vec![format!("- {}", text(reason))]
    } else {
        result
            .failures
            .iter()
            .map(|f| format!("- {}", text(&failure_line(f))))
            .collect()
    };
    format!("### {}\n\n{}", single_line(&result.id), bullets(lines))
}

/// Optional checks that did not pass (from the verdict, each line already starts with the
/// check id), then every `warn()` of every check as `- id: text`.
fn warnings(summary: &RunSummary, text: &dyn Fn(&str) -> String) -> String {
    let all = super::all_warnings(
        &summary.verdict.warnings,
        summary
            .results
            .iter()
            .map(|r| (r.id.as_str(), r.warnings.as_slice())),
    );
    bullets(all.iter().map(|w| format!("- {}", text(w))))
}

/// Lines joined with newlines, each one terminated.
fn bullets(lines: impl IntoIterator<Item = String>) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use crate::outcome::{Level, Status};
    use crate::report::fixture::fixture;

    #[test]
    fn golden_summary_md() {
        let fixture = fixture();
        let expected = "\
# Rust Staging/Prod Validation Matrix

- Timestamp (UTC): 20260221T192746Z
- Overall: failed
- Verdict: NO-GO
- Total checks: 4
- Passed: 1
- Required failures: 2
- Optional failures: 0
- Required skipped: 0
- Optional skipped: 1
- Mode: normal
- Matrix: lanes/matrix.lock (built in) sha256:abababababab (not compared: lane files named)
- Tool: oa-validate 0.1.0 (commit 0123456789ab)

## Environment

- STAGING_CONTROL_BASE_URL=https://staging.openagents.com
- STAGING_CONTROL_ACCESS_TOKEN=<redacted>
- STAGING_RUNTIME_BASE_URL=<unset>
- RUN_CROSS_SURFACE=0

## Check Results

| Check | Required | Status | Description | Log |
| --- | --- | --- | --- | --- |
| control-staging-health | required | passed | staging control health/ready endpoints | logs/control-staging-health.log |
| control-staging-smoke | required | failed | staging control smoke (static host + auth/session/sync token checks when token provided) | logs/control-staging-smoke.log |
| runtime-staging-smoke | required | failed | staging runtime health and authority API smoke | logs/runtime-staging-smoke.log |
| cross-surface-contract-harness | optional | skipped | desktop/runtime-api cross-surface contract harness | logs/cross-surface-contract-harness.log |

## Commands

- control-staging-health: oa-validate lanes/control.rhai --check control-staging-health
- control-staging-smoke: oa-validate lanes/control.rhai --check control-staging-smoke
- runtime-staging-smoke: oa-validate lanes/runtime.rhai --check runtime-staging-smoke
- cross-surface-contract-harness: RUN_CROSS_SURFACE=0

## Verdict

NO-GO because:

- control-staging-smoke failed: GET /api/auth/session: status 404, expected 200
- runtime-staging-smoke errored: timed out after 30s

## Failures

### control-staging-smoke

- lanes/control.rhai:12:9: GET /api/auth/session: unexpected status (expected 200, actual 404)

### runtime-staging-smoke

- lanes/runtime.rhai:7:13: timed out after 30s

## Warnings

- cross-surface-contract-harness skipped: RUN_CROSS_SURFACE=0
- control-staging-health: /healthz answered 404; /readyz is canonical
";
        assert_eq!(render(&fixture.summary(), &Redactor::new()), expected);
    }

    #[test]
    fn go_run_has_no_failures_or_warnings_section() {
        let mut fixture = fixture();
        fixture.results.truncate(1);
        fixture.results[0].warnings.clear();
        fixture.mode = Mode::Gate;
        fixture.phase = Some("legacy-deletion".to_string());
        fixture.simulated = true;
        fixture.redecide();
        let md = render(&fixture.summary(), &Redactor::new());
        assert!(md.contains(
            "- Overall: passed\n- Verdict: GO\n- Total checks: 1\n- Passed: 1\n- Required failures: 0\n"
        ));
        assert!(md.contains(
            "- Optional skipped: 0\n- Mode: gate\n- Phase: legacy-deletion\n- Target: simulated deployment\n- Matrix: "
        ));
        assert!(md.ends_with(
            "## Commands\n\n- control-staging-health: oa-validate lanes/control.rhai --check control-staging-health\n\n## Verdict\n\nGO: every required check passed.\n"
        ));
        assert!(!md.contains("## Failures"));
        assert!(!md.contains("## Warnings"));
        assert!(!md.contains("Interrupted"));
    }

    #[test]
    fn interrupted_run_says_so() {
        let mut fixture = fixture();
        fixture.interrupted = true;
        fixture.redecide();
        let md = render(&fixture.summary(), &Redactor::new());
        assert!(md.contains("- Mode: normal\n- Interrupted: yes\n- Matrix: "));
        assert!(md.contains("- the run was interrupted\n"));
    }

    #[test]
    fn pipes_in_cells_are_escaped_and_checks_without_failures_show_their_reason() {
        let mut fixture = fixture();
        fixture.results.truncate(1);
        let r = &mut fixture.results[0];
        r.level = Level::Optional;
        r.status = Status::Errored;
        r.warnings.clear();
        r.description = "a | b\nc".to_string();
        r.reason = Some("lane panicked".to_string());
        fixture.redecide();
        let md = render(&fixture.summary(), &Redactor::new());
        assert!(md.contains(
            "| control-staging-health | optional | failed | a \\| b c | logs/control-staging-health.log |\n"
        ));
        assert!(md.contains("## Failures\n\n### control-staging-health\n\n- lane panicked\n"));
        assert!(md.contains("## Warnings\n\n- control-staging-health errored: lane panicked\n"));
        assert!(md.contains("- no required check was declared\n"));
    }

    /// Issue 20, finding 9: a NO-GO run's summary showed a server's `<h1>Verdict: GO</h1>` and
    /// a remote image.
    #[test]
    fn server_text_cannot_open_html_or_markdown_in_the_summary() {
        let mut fixture = fixture();
        fixture.results[1].failures[0].message =
            "<h1>Verdict: GO</h1> ![x](https://evil.example/t.png) # GO **GO** `x` a_b _c_ | c"
                .to_string();
        fixture.results[0].warnings = vec!["<img src=https://evil.example/i>".to_string()];
        fixture.redecide();
        let md = render(&fixture.summary(), &Redactor::new());
        assert!(md.contains(
            "- lanes/control.rhai:12:9: &lt;h1&gt;Verdict: GO&lt;/h1&gt; \\!\\[x\\](https://evil.example/t.png) \\# GO \\*\\*GO\\*\\* \\`x\\` a_b \\_c\\_ \\| c (expected 200, actual 404)\n"
        ), "{md}");
        assert!(md.contains("- control-staging-health: &lt;img src=https://evil.example/i&gt;\n"));
        assert!(!md.contains("<h1>") && !md.contains("<img"), "{md}");
        assert!(!md.contains("[x]("), "{md}");
    }

    #[test]
    fn production_mutations_are_listed_only_when_some_ran() {
        let fixture = fixture();
        assert!(!render(&fixture.summary(), &Redactor::new()).contains("Production Mutations"));
        let ids = vec!["control-prod-htmx-perf".to_string()];
        let mut summary = fixture.summary();
        summary.production_mutations = &ids;
        let md = render(&summary, &Redactor::new());
        assert!(md.ends_with(
            "## Production Mutations\n\nThese checks changed state in production (--allow-prod-mutations):\n\n- control-prod-htmx-perf\n"
        ), "{md}");
    }
}
