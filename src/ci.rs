//! CI integration. Under GitHub Actions (`GITHUB_ACTIONS=true`) every required check that did
//! not pass becomes an `::error` workflow command pointing at its lane line (shown on the pull
//! request), and SUMMARY.md is appended to `$GITHUB_STEP_SUMMARY`. Anywhere else nothing
//! changes (GitLab reads junit.xml, see docs/release-gate.md).
//!
//! No server can steer the runner (issue 20, finding 8): while checks run, the runner's
//! command processing is paused with `::stop-commands::` and a random token no server can
//! know ([`CommandPause`]), and every text the terminal prints has its command markers made
//! inert anyway ([`crate::diagnostic::inert`]); the tool's own annotations come after the
//! pause ends.

use crate::config::EnvSnapshot;
use crate::outcome::{CheckResult, Level, SourcePos, Status};
use crate::plan::Plan;
use crate::redact::Redactor;
use crate::report::code_frames::reason_message;
use std::io::Write;
use std::path::Path;

pub fn github_actions(env: &EnvSnapshot) -> bool {
    env.get("GITHUB_ACTIONS") == Some("true")
}

/// One `::error file=..,line=..,col=..,title=<check id>::<reason>` line per required check
/// that failed, errored or was skipped, in report order. The position is the first failure's,
/// else the error's, else where the check was declared (`declared_at`).
/// Messages are redacted with `redact` before their command markers are made inert and they
/// are escaped: an escape inside a secret would hide it from any later redaction.
pub fn error_annotations(
    results: &[CheckResult],
    declared_at: impl Fn(&str) -> Option<SourcePos>,
    redact: impl Fn(&str) -> String,
) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.level == Level::Required && r.status != Status::Passed)
        .map(|r| {
            let reason = r.reason.as_deref().unwrap_or("no reason recorded");
            let (position, message) = match (r.status, r.failures.first()) {
                (Status::Skipped | Status::NotChecked, _) => {
                    (None, format!("{}: {reason}", r.status.label()))
                }
                (_, Some(failure)) => (
                    failure.position.clone(),
                    crate::report::failure_line(&crate::outcome::Failure {
                        position: None,
                        ..failure.clone()
                    }),
                ),
                (_, None) => match &r.reason_at {
                    Some(pos) => (Some(pos.clone()), reason_message(reason, pos).to_string()),
                    None => (None, reason.to_string()),
                },
            };
            let position = position.or_else(|| declared_at(&r.id));
            let mut properties = Vec::new();
            if let Some(pos) = &position {
                properties.push(format!("file={}", escape_property(&pos.file)));
                properties.push(format!("line={}", pos.line));
                properties.push(format!("col={}", pos.column));
            }
            properties.push(format!("title={}", escape_property(&r.id)));
            format!(
                "::error {}::{}",
                properties.join(","),
                escape_data(&crate::diagnostic::inert(&redact(&message)))
            )
        })
        .collect()
}

/// GitHub Actions' command processing paused while it lives: `::stop-commands::TOKEN` when
/// made, `::TOKEN::` when dropped (on every path out of a run, a panic's unwinding included).
/// The token is 128 random bits, printed nowhere else, so no text a server sends during the
/// run can resume processing. Outside GitHub Actions it prints nothing.
pub struct CommandPause {
    token: String,
}

impl CommandPause {
    pub fn start(env: &EnvSnapshot) -> Option<CommandPause> {
        if !github_actions(env) {
            return None;
        }
        let token = hex::encode(rand::random::<[u8; 16]>());
        let _ = writeln!(std::io::stdout().lock(), "::stop-commands::{token}");
        Some(CommandPause { token })
    }
}

impl Drop for CommandPause {
    fn drop(&mut self) {
        let _ = writeln!(std::io::stdout().lock(), "::{}::", self.token);
    }
}

/// Prints the annotations of `results` and appends `summary_md` to `$GITHUB_STEP_SUMMARY`
/// when running under GitHub Actions; does nothing otherwise.
pub fn report(
    env: &EnvSnapshot,
    redactor: &Redactor,
    results: &[CheckResult],
    plan: &Plan,
    summary_md: &Path,
) {
    if !github_actions(env) {
        return;
    }
    let annotations = error_annotations(
        results,
        |id| {
            plan.checks
                .iter()
                .find(|c| c.spec.id == id)
                .map(|c| c.spec.position.clone())
        },
        |text| redactor.redact(text),
    );
    {
        let mut out = std::io::stdout().lock();
        for line in &annotations {
            let _ = writeln!(out, "{}", redactor.redact(line));
        }
    }
    let Some(step_summary) = env.get_nonempty("GITHUB_STEP_SUMMARY") else {
        return;
    };
    let appended = std::fs::read_to_string(summary_md).and_then(|text| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(step_summary)?;
        file.write_all(redactor.redact(&text).as_bytes())
    });
    if let Err(e) = appended {
        eprintln!("warning: cannot append SUMMARY.md to GITHUB_STEP_SUMMARY ({step_summary}): {e}");
    }
}

/// The workflow-command escaping of a message (actions/toolkit `escapeData`).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escaping of a property value (`escapeProperty`): also `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::fixture;

    #[test]
    fn one_error_line_per_required_check_that_did_not_pass() {
        let mut fixture = fixture();
        fixture.results[2].failures.clear();
        fixture.results[2].reason =
            Some("lanes/runtime.rhai:7:13: timed out after 30s".to_string());
        fixture.results[2].reason_at = Some(crate::outcome::SourcePos {
            file: "lanes/runtime.rhai".to_string(),
            line: 7,
            column: 13,
        });
        let lines = error_annotations(&fixture.results, |_| None, str::to_string);
        assert_eq!(
            lines,
            [
                "::error file=lanes/control.rhai,line=12,col=9,title=control-staging-smoke::GET /api/auth/session: unexpected status (expected 200, actual 404)",
                "::error file=lanes/runtime.rhai,line=7,col=13,title=runtime-staging-smoke::timed out after 30s",
            ]
        );
    }

    #[test]
    fn skipped_required_checks_point_at_their_declaration() {
        let mut fixture = fixture();
        fixture.results[3].level = Level::Required;
        let declared = |id: &str| {
            (id == "cross-surface-contract-harness").then(|| SourcePos {
                file: "lanes/surface_parity.rhai".to_string(),
                line: 4,
                column: 1,
            })
        };
        let lines = error_annotations(&fixture.results[3..], declared, str::to_string);
        assert_eq!(
            lines,
            [
                "::error file=lanes/surface_parity.rhai,line=4,col=1,title=cross-surface-contract-harness::skipped: RUN_CROSS_SURFACE=0"
            ]
        );
    }

    #[test]
    fn server_text_in_a_message_cannot_pass_for_a_command() {
        let mut fixture = fixture();
        fixture.results[2].failures.clear();
        fixture.results[2].reason = Some("degraded ##[stop-commands]x\n::error::fake".to_string());
        let lines = error_annotations(&fixture.results, |_| None, str::to_string);
        assert_eq!(
            lines[1],
            "::error title=runtime-staging-smoke::degraded #\\#[stop-commands]x%0A:\\:error::fake"
        );
    }

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("50%\nnext\r"), "50%25%0Anext%0D");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
