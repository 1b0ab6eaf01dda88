//! `results.tsv`, byte-compatible with the upstream harness (errored is written `failed`).

use super::{RunSummary, single_line};
use crate::outcome::{CheckResult, Status};

const HEADER: &str = "check_id\trequired\tstatus\tdescription\tlog_path\tcommand";

/// One header line and one row per check, in report order.
pub fn render(summary: &RunSummary) -> String {
    let mut out = String::with_capacity(64 * (summary.results.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for result in summary.results {
        let fields = [
            result.id.as_str(),
            result.level.as_str(),
            result.status.upstream_str(),
            result.description.as_str(),
            result.log_path.as_str(),
            command_column(result),
        ];
        let row: Vec<String> = fields.iter().map(|f| single_line(f)).collect();
        out.push_str(&row.join("\t"));
        out.push('\n');
    }
    out
}

/// Upstream put the skip reason where the command would be.
fn command_column(result: &CheckResult) -> &str {
    match result.status {
        Status::Skipped | Status::NotChecked => result.reason.as_deref().unwrap_or(""),
        _ => &result.command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::fixture;

    #[test]
    fn golden_results_tsv() {
        let fixture = fixture();
        let expected = "\
check_id\trequired\tstatus\tdescription\tlog_path\tcommand
control-staging-health\trequired\tpassed\tstaging control health/ready endpoints\tlogs/control-staging-health.log\toa-validate lanes/control.rhai --check control-staging-health
control-staging-smoke\trequired\tfailed\tstaging control smoke (static host + auth/session/sync token checks when token provided)\tlogs/control-staging-smoke.log\toa-validate lanes/control.rhai --check control-staging-smoke
runtime-staging-smoke\trequired\tfailed\tstaging runtime health and authority API smoke\tlogs/runtime-staging-smoke.log\toa-validate lanes/runtime.rhai --check runtime-staging-smoke
cross-surface-contract-harness\toptional\tskipped\tdesktop/runtime-api cross-surface contract harness\tlogs/cross-surface-contract-harness.log\tRUN_CROSS_SURFACE=0
";
        assert_eq!(render(&fixture.summary()), expected);
    }

    #[test]
    fn tabs_and_newlines_inside_fields_become_spaces() {
        let mut fixture = fixture();
        fixture.results.truncate(1);
        fixture.results[0].description = "two\tcolumns\r\nand lines".to_string();
        fixture.results[0].command = "curl\t-s\nhttps://x".to_string();
        let tsv = render(&fixture.summary());
        let rows: Vec<&str> = tsv.lines().collect();
        assert_eq!(rows.len(), 2);
        let cells: Vec<&str> = rows[1].split('\t').collect();
        assert_eq!(cells.len(), 6);
        assert_eq!(cells[3], "two columns  and lines");
        assert_eq!(cells[5], "curl -s https://x");
    }

    #[test]
    fn skipped_without_reason_leaves_the_command_column_empty() {
        let mut fixture = fixture();
        fixture.results.drain(..3);
        fixture.results[0].reason = None;
        let tsv = render(&fixture.summary());
        assert!(tsv.ends_with("\tlogs/cross-surface-contract-harness.log\t\n"));
    }
}
