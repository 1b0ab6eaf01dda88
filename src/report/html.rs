//! `report.html`: the evidence folder as one self-contained page (inline CSS, JS and SVG; a
//! Content-Security-Policy that forbids every request), rendered from the folder's own files
//! through [`Archive`], so `oa-validate report DIR` rebuilds it for any folder.
//!
//! Sections: the verdict and how the run was made, the matrix by lane (filterable), a
//! timeline of checks per worker, perf charts, failures with code frames, then every check
//! with its requests and screenshots. Escaping is maud's; the caller redacts the text.

use crate::evidence::archive::{Archive, CheckView, PerfTable, Request};
use crate::outcome::{Level, Status};
use crate::report::RunMode;
use crate::verdict::Decision;
use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

pub const FILE_NAME: &str = "report.html";

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Screenshots are embedded (data: URLs, no request) up to this many bytes in all; later
/// ones are linked instead, so a run with hundreds of screenshots still gives a usable page.
const EMBEDDED_SCREENSHOT_BYTES: usize = 32 * 1024 * 1024;
/// Requests listed per check; the HAR holds the rest.
const REQUESTS_SHOWN: usize = 100;

const STATUSES: [Status; 4] = [
    Status::Passed,
    Status::Failed,
    Status::Errored,
    Status::Skipped,
];

/// The whole page (not yet redacted).
pub fn render(archive: &Archive) -> String {
    let summary = &archive.summary;
    let decision = summary.verdict.decision.as_str();
    // Hashes instead of 'unsafe-inline': only this page's own style and script may run.
    let csp = format!(
        "default-src 'none'; img-src data:; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'",
        csp_hash(CSS),
        csp_hash(JS)
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ "oa-validate " (summary.run.tool_version) };
                link rel="icon" href="data:,";
                title { "oa-validate " (decision) " · " (summary.run.timestamp) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    (header(archive))
                    (matrix(archive))
                    (timeline(archive))
                    (perf(archive))
                    (failures(archive))
                    (checks(archive))
                    footer {
                        "Rebuilt from this folder's summary.json, logs, HAR files and artifacts by "
                        code { "oa-validate report DIR" } ". Schema " (summary.schema) "."
                    }
                }
                div #lightbox hidden tabindex="-1" { img alt=""; }
                script { (PreEscaped(JS)) }
            }
        }
    };
    page.into_string()
}

/// Writes report.html into a folder whose other reports are written: last of the reports,
/// built from those files exactly as `oa-validate report` does. A folder that cannot be read
/// back is said, not fatal: the seal that follows reports the write error itself.
pub fn write_into(folder: &mut crate::evidence::folder::EvidenceFolder) {
    match Archive::load(folder.dir()) {
        Ok(archive) => folder.write_report(FILE_NAME, &render(&archive)),
        Err(e) => eprintln!("warning: {FILE_NAME}: {e}"),
    }
}

/// `'sha256-<base64>'` of an inline element's text, for the CSP.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn is_failure(status: Status) -> bool {
    matches!(status, Status::Failed | Status::Errored)
}

/// A relative link into the folder, percent-encoded segment by segment; `None` for anything
/// that is not a plain relative path (no scheme, no `..`, not absolute).
fn href(relative: &str) -> Option<String> {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let plain = !relative.is_empty()
        && std::path::Path::new(relative)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    plain.then(|| {
        relative
            .split('/')
            .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/")
    })
}

fn link(relative: &str, label: &str) -> Markup {
    match href(relative) {
        Some(url) => html! { a href=(url) { (label) } },
        None => html! { span.mono { (label) } },
    }
}

fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

fn status_badge(status: Status) -> Markup {
    html! { span class={ "status " (status.as_str()) } { (status.as_str()) } }
}

fn header(archive: &Archive) -> Markup {
    let summary = &archive.summary;
    let verdict = &summary.verdict;
    let run = &summary.run;
    let invocation = run.invocation.as_ref();
    let go = verdict.decision == Decision::Go;
    let counts = &verdict.counts;
    html! {
        header {
            h1 {
                "Verdict: "
                span #verdict class={ "verdict " (if go { "go" } else { "no-go" }) } {
                    (verdict.decision.as_str())
                }
                @if verdict.mode == RunMode::Gate { " " span.muted { "(release gate)" } }
            }
            @if let Some(origin) = invocation.and_then(|i| i.rerun_of.as_ref()) {
                p.banner #partial-rerun {
                    strong { "Partial re-run" } " of " code { (origin.folder) }
                    " (" (origin.decision) ", " (origin.timestamp) "): only its "
                    (origin.checks.len()) " failed or errored checks ran. "
                    "Not a release decision: only a complete gate run can give GO."
                }
            }
            @if verdict.interrupted {
                p.banner { strong { "Interrupted:" } " partial evidence; checks not reached count as errored." }
            }
            @if !verdict.no_go_reasons.is_empty() {
                ul.reasons #no-go-reasons {
                    @for reason in &verdict.no_go_reasons { li { (reason) } }
                }
            }
            @if !verdict.warnings.is_empty() {
                details {
                    summary { (verdict.warnings.len()) " warning(s)" }
                    ul.reasons { @for w in &verdict.warnings { li { (w) } } }
                }
            }
            p {
                (counts.total) " checks: " (counts.passed) " passed, "
                (counts.required_failures) " required failures ("
                (counts.errored) " errored), " (counts.optional_failures) " optional failures, "
                (counts.required_skipped) " required skipped, "
                (counts.optional_skipped) " optional skipped"
            }
            dl.meta {
                dt { "Mode" } dd #mode { (verdict.mode.as_str()) }
                dt { "Phase" } dd #phase { (verdict.phase.as_deref().unwrap_or("none")) }
                dt { "Targets" } dd #targets { (targets(archive)) }
                dt { "Matrix" } dd #matrix-identity { (matrix_identity(archive)) }
                dt { "Tool version" } dd #tool-version { "oa-validate " (run.tool_version) }
                dt { "Started" } dd { (run.started_at) " · finished " (run.finished_at) " · " (duration(run.duration_ms)) }
                dt { "Workers" } dd { (run.jobs) }
                @if let Some(invocation) = invocation {
                    dt { "Command" } dd { code #command { (invocation.command_line()) } }
                }
            }
        }
    }
}

/// The targets as recorded: URLs of real targets, or the simulated deployment and its faults.
fn targets(archive: &Archive) -> Markup {
    let run = &archive.summary.run;
    if let Some(invocation) = &run.invocation {
        if let Some(sim) = &invocation.sim {
            return html! {
                "simulated deployment (--sim)"
                @if !sim.faults.is_empty() { ", faults: " code { (sim.faults.join(", ")) } }
            };
        }
        return html! {
            @for (i, t) in invocation.targets.iter().enumerate() {
                @if i > 0 { "; " }
                (t.name) " " code { (t.control_url.as_deref().unwrap_or("-")) }
                @if let Some(runtime) = &t.runtime_url { " (runtime " code { (runtime) } ")" }
            }
        };
    }
    // Folders before the invocation record: the upstream variables say where the run went.
    let url = |name: &str| {
        run.environment
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .to_string()
    };
    html! {
        @if run.simulated { "simulated deployment (--sim); " }
        "staging " code { (url("STAGING_CONTROL_BASE_URL")) } "; prod " code { (url("PROD_CONTROL_BASE_URL")) }
    }
}

/// Which matrix ran: the lane files and one digest of their contents (when recorded).
fn matrix_identity(archive: &Archive) -> Markup {
    let run = &archive.summary.run;
    match &run.invocation {
        Some(invocation) => {
            let digest = invocation.lanes_digest();
            html! {
                (invocation.lanes.len()) " lane file(s)"
                @if invocation.full_matrix { " (the whole matrix)" }
                ", lanes digest " code title=(digest) { (digest[..16]) }
                @if !invocation.checks.is_empty() { ", only " (invocation.checks.join(", ")) }
            }
        }
        None => html! { (run.lanes.join(", ")) " (no digest recorded)" },
    }
}

fn matrix(archive: &Archive) -> Markup {
    let checks: Vec<CheckView> = archive.checks().collect();
    let mut lanes: Vec<&str> = Vec::new();
    for c in &checks {
        if !lanes.contains(&c.verdict.lane.as_str()) {
            lanes.push(&c.verdict.lane);
        }
    }
    let count = |status: Status| checks.iter().filter(|c| c.verdict.status == status).count();
    html! {
        section #matrix {
            h2 { "Matrix" }
            div.filters role="group" aria-label="Filter by status" {
                button type="button" data-filter="all" aria-pressed="true" { "all (" (checks.len()) ")" }
                @for status in STATUSES {
                    button type="button" data-filter=(status.as_str()) aria-pressed="false" {
                        (status.as_str()) " (" (count(status)) ")"
                    }
                }
            }
            table #matrix-table {
                thead { tr { th { "Status" } th { "Check" } th { "Level" } th { "Target" } th.num { "Duration" } } }
                @for lane in &lanes {
                    tbody.lane data-lane=(lane) {
                        tr.lane-row { th colspan="5" { (lane) } }
                        @for c in checks.iter().filter(|c| c.verdict.lane == *lane) {
                            tr.check id={ "check-" (c.id()) } data-status=(c.verdict.status.as_str()) {
                                td { (status_badge(c.verdict.status)) }
                                td { a href={ "#details-" (c.id()) } { (c.id()) } }
                                td { (c.verdict.level.as_str()) }
                                td { (c.verdict.target.as_deref().unwrap_or("-")) }
                                td.num { @if let Some(r) = c.run { (duration(r.duration_ms)) } @else { "-" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One bar of the timeline.
struct Bar<'a> {
    row: String,
    id: &'a str,
    status: Status,
    start: u64,
    length: u64,
}

fn timeline(archive: &Archive) -> Markup {
    let checks: Vec<CheckView> = archive.checks().collect();
    let scheduled = checks
        .iter()
        .any(|c| c.run.is_some_and(|r| r.worker.is_some()));
    let mut bars: Vec<Bar> = Vec::new();
    if scheduled {
        for c in &checks {
            if let Some(r) = c.run
                && let (Some(worker), Some(start)) = (r.worker, r.started_ms)
            {
                bars.push(Bar {
                    row: format!("worker {worker}"),
                    id: c.id(),
                    status: c.verdict.status,
                    start,
                    length: r.duration_ms,
                });
            }
        }
    } else {
        // Before start times were recorded: each lane back to back from 0 (a lane's checks
        // always ran in order on one worker; when lanes overlapped is unknown).
        let mut ends: Vec<(String, u64)> = Vec::new();
        for c in &checks {
            let Some(r) = c.run else { continue };
            let lane = c.verdict.lane.clone();
            let start = ends.iter().find(|(l, _)| *l == lane).map_or(0, |(_, e)| *e);
            match ends.iter_mut().find(|(l, _)| *l == lane) {
                Some(entry) => entry.1 = start + r.duration_ms,
                None => ends.push((lane.clone(), start + r.duration_ms)),
            }
            bars.push(Bar {
                row: lane,
                id: c.id(),
                status: c.verdict.status,
                start,
                length: r.duration_ms,
            });
        }
    }
    let mut rows: Vec<String> = Vec::new();
    for bar in &bars {
        if !rows.contains(&bar.row) {
            rows.push(bar.row.clone());
        }
    }
    if scheduled {
        rows.sort_by_key(|r| {
            r.trim_start_matches("worker ")
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        });
    }
    let end = bars
        .iter()
        .map(|b| b.start + b.length)
        .max()
        .unwrap_or(0)
        .max(1);
    // The row that finishes last is the critical path: its lanes ran back to back.
    let critical = rows
        .iter()
        .max_by_key(|row| {
            bars.iter()
                .filter(|b| &b.row == *row)
                .map(|b| b.start + b.length)
                .max()
        })
        .cloned();
    const LABEL: f64 = 130.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 24.0;
    let plot = WIDTH - LABEL - 10.0;
    let x = |ms: u64| LABEL + plot * ms as f64 / end as f64;
    let height = ROW * rows.len() as f64 + 30.0;
    html! {
        section #timeline {
            h2 { "Timeline" }
            p.muted {
                @if scheduled {
                    "Each check is a bar on the worker that ran it. The outlined row finished last: the critical path."
                } @else {
                    "This folder predates recorded start times: each lane is drawn from 0, its checks back to back."
                }
            }
            div.legend {
                @for status in STATUSES { span { span class={ "swatch " (status.as_str()) } {} (status.as_str()) } }
            }
            svg #timeline-chart viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label="Timeline of the checks" {
                @for i in 0..=4u64 {
                    line.grid x1=(f1(x(end * i / 4))) x2=(f1(x(end * i / 4))) y1="0" y2=(height - 18.0) {}
                    text x=(f1(x(end * i / 4))) y=(height - 4.0) text-anchor=(tick_anchor(i)) { (duration(end * i / 4)) }
                }
                @for (index, row) in rows.iter().enumerate() {
                    text x="4" y=(ROW * index as f64 + 16.0) { (row) }
                    @for bar in bars.iter().filter(|b| &b.row == row) {
                        @let class = if critical.as_ref() == Some(row) {
                            format!("bar {} critical", bar.status.as_str())
                        } else {
                            format!("bar {}", bar.status.as_str())
                        };
                        a href={ "#details-" (bar.id) } {
                            rect class=(class)
                                data-check=(bar.id)
                                x=(f1(x(bar.start)))
                                y=(ROW * index as f64 + 4.0)
                                width=(f1((x(bar.start + bar.length) - x(bar.start)).max(2.0)))
                                height=(ROW - 8.0) {
                                title { (bar.id) " · " (bar.status.as_str()) " · " (duration(bar.length)) " from " (duration(bar.start)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn perf(archive: &Archive) -> Markup {
    let tables = archive.perf_tables();
    if tables.is_empty() {
        return html! {};
    }
    html! {
        section #perf {
            h2 { "Perf budgets" }
            div.legend {
                span { span.swatch.p50 {} "TTFB p50" }
                span { span.swatch.p95 {} "TTFB p95" }
                span { span.swatch.budget {} "budget" }
                span { span.swatch.baseline {} "baseline" }
            }
            @for table in &tables { (perf_table(table)) }
        }
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.1}"))
}

fn perf_table(table: &PerfTable) -> Markup {
    let target = table.target.as_deref().unwrap_or(&table.check_id);
    let scale = table
        .rows
        .iter()
        .flat_map(|r| [r.ttfb_p95, r.ttfb_p50, r.budget_ttfb_ms, r.baseline_ttfb_ms])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max)
        * 1.08;
    const LABEL: f64 = 200.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 30.0;
    let plot = WIDTH - LABEL - 70.0;
    let x = |v: f64| LABEL + plot * v.max(0.0) / scale;
    let height = ROW * table.rows.len() as f64 + 24.0;
    html! {
        h3 { (target) " " span.muted { "(" a href={ "#details-" (table.check_id) } { (table.check_id) } ")" } }
        svg.perf-chart data-check=(table.check_id) viewBox={ "0 0 " (WIDTH) " " (height) } role="img"
            aria-label={ "TTFB per probe against budget and baseline, " (target) } {
            @for i in 0..=4u32 {
                @let v = scale / 1.08 * f64::from(i) / 4.0;
                line.grid x1=(f1(x(v))) x2=(f1(x(v))) y1="0" y2=(height - 18.0) {}
                text x=(f1(x(v))) y=(height - 4.0) text-anchor=(tick_anchor(u64::from(i))) { (format!("{v:.0} ms")) }
            }
            @for (i, row) in table.rows.iter().enumerate() {
                @let y = ROW * i as f64 + 4.0;
                g class=(if row.passed { "perf-mark" } else { "perf-mark over" }) data-probe=(row.probe) data-target=(target) {
                    title {
                        (row.probe) " (" (target) "): TTFB p50 " (ms(row.ttfb_p50)) " ms, p95 " (ms(row.ttfb_p95))
                        " ms, budget " (ms(row.budget_ttfb_ms)) " ms, baseline " (ms(row.baseline_ttfb_ms)) " ms"
                    }
                    text x="4" y=(y + 15.0) { (row.probe) }
                    @if let Some(p95) = row.ttfb_p95 {
                        rect.p95 x=(LABEL) y=(y) width=(f1((x(p95) - LABEL).max(1.0))) height="20" {}
                    }
                    @if let Some(p50) = row.ttfb_p50 {
                        rect.p50 x=(LABEL) y=(y + 5.0) width=(f1((x(p50) - LABEL).max(1.0))) height="10" {}
                    }
                    @if let Some(budget) = row.budget_ttfb_ms {
                        line.budget x1=(f1(x(budget))) x2=(f1(x(budget))) y1=(y - 2.0) y2=(y + 22.0) {}
                    }
                    @if let Some(baseline) = row.baseline_ttfb_ms {
                        line.baseline x1=(f1(x(baseline))) x2=(f1(x(baseline))) y1=(y - 2.0) y2=(y + 22.0) {}
                    }
                    text x=(WIDTH - 66.0) y=(y + 15.0) { (ms(row.ttfb_p95)) " ms" }
                }
            }
        }
        table.perf-table {
            thead { tr {
                th { "Probe" } th.num { "TTFB p50" } th.num { "p95" } th.num { "budget" }
                th.num { "baseline" } th.num { "Δ baseline" } th.num { "size max" } th.num { "size budget" } th { "Result" }
            } }
            tbody {
                @for row in &table.rows {
                    tr {
                        td { (row.probe) }
                        td.num { (ms(row.ttfb_p50)) } td.num { (ms(row.ttfb_p95)) }
                        td.num { (ms(row.budget_ttfb_ms)) } td.num { (ms(row.baseline_ttfb_ms)) }
                        td.num { (row.delta_ttfb_ms.map_or("-".to_string(), |d| format!("{d:+.1}"))) }
                        td.num { (row.size_bytes_max.map_or("-".to_string(), |v| format!("{v:.0} B"))) }
                        td.num { (row.budget_bytes.map_or("-".to_string(), |v| format!("{v:.0} B"))) }
                        td { @if row.passed { span.status.passed { "pass" } } @else { span.status.failed { "fail" } " " (row.detail) } }
                    }
                }
            }
        }
    }
}

/// Links to a check's log, HAR and artifacts.
fn evidence_links(check: &CheckView) -> Markup {
    html! {
        p.links {
            @if let Some(run) = check.run {
                (link(&run.log, "log"))
                @if let Some(har) = &run.har { (link(har, "HAR")) }
                @for artifact in &run.artifacts {
                    (link(artifact, artifact.rsplit('/').next().unwrap_or(artifact)))
                }
            }
        }
    }
}

fn failures(archive: &Archive) -> Markup {
    let failed: Vec<CheckView> = archive
        .checks()
        .filter(|c| is_failure(c.verdict.status))
        .collect();
    html! {
        section #failures {
            h2 { "Failures (" (failed.len()) ")" }
            @if failed.is_empty() { p.muted { "No check failed or errored." } }
            // Required first: they decide the verdict.
            @for level in [Level::Required, Level::Optional] {
                @for c in failed.iter().filter(|c| c.verdict.level == level) {
                    article id={ "failure-" (c.id()) } class={ "failure " (c.verdict.status.as_str()) } {
                        h3 { (status_badge(c.verdict.status)) " " (c.id()) " " span.muted { "(" (c.verdict.level.as_str()) ", " (c.verdict.lane) ")" } }
                        @if let Some(reason) = &c.verdict.reason { p { (reason) } }
                        @for frame in c.run.map_or(&[][..], |r| r.code_frames.as_slice()) {
                            pre.code-frame { (frame) }
                        }
                        @if !c.verdict.failures.is_empty() {
                            table.expected-actual {
                                thead { tr { th { "Where" } th { "What" } th { "Expected" } th { "Actual" } } }
                                tbody {
                                    @for f in &c.verdict.failures {
                                        tr {
                                            td.mono { (f.position.as_ref().map_or("-".to_string(), |p| p.to_string())) }
                                            td { (f.message) }
                                            td.mono { (f.expected.as_deref().unwrap_or("-")) }
                                            td.mono { (f.actual.as_deref().unwrap_or("-")) }
                                        }
                                    }
                                }
                            }
                        }
                        (evidence_links(c))
                    }
                }
            }
        }
    }
}

fn checks(archive: &Archive) -> Markup {
    let mut embedded = 0usize;
    html! {
        section #checks {
            h2 { "Checks" }
            @for c in archive.checks() {
                @let requests = archive.requests(&c);
                details.check id={ "details-" (c.id()) } open[is_failure(c.verdict.status)] {
                    summary {
                        (status_badge(c.verdict.status)) " " strong { (c.id()) }
                        " " span.muted {
                            (c.verdict.level.as_str())
                            @if let Some(run) = c.run { " · " (duration(run.duration_ms)) }
                            " · " (requests.len()) " request(s)"
                        }
                    }
                    @if !c.verdict.description.is_empty() { p { (c.verdict.description) } }
                    @if let Some(reason) = &c.verdict.reason { p { strong { (c.verdict.status.as_str()) ": " } (reason) } }
                    @for w in &c.verdict.warnings { p { strong { "warning: " } (w) } }
                    (evidence_links(&c))
                    @if let Some(run) = c.run { p.muted { "Re-run alone: " code { (run.command) } } }
                    @if !requests.is_empty() { (request_list(&requests)) }
                    (screenshots(archive, &c, &mut embedded))
                }
            }
        }
    }
}

fn request_list(requests: &[Request]) -> Markup {
    html! {
        table.requests {
            thead { tr { th { "Method" } th { "URL" } th.num { "Status" } th.num { "Time" } } }
            tbody {
                @for r in requests.iter().take(REQUESTS_SHOWN) {
                    tr {
                        td.mono { (r.method) }
                        td.mono.url { (r.url) }
                        td.num {
                            @if r.status == 0 { span.status.errored { (r.error.as_deref().unwrap_or("no response")) } }
                            @else { (r.status) }
                        }
                        td.num { (format!("{:.1} ms", r.time_ms)) }
                    }
                }
            }
        }
        @if requests.len() > REQUESTS_SHOWN {
            p.muted { (requests.len() - REQUESTS_SHOWN) " more in the HAR." }
        }
    }
}

/// Thumbnails that open full size: embedded while under the budget, linked after it.
fn screenshots(archive: &Archive, check: &CheckView, embedded: &mut usize) -> Markup {
    let mut shots: Vec<(&str, &str, Option<String>)> = Vec::new();
    for path in check.screenshots() {
        let name = path.rsplit('/').next().unwrap_or(path);
        let data = archive
            .read(path)
            .filter(|bytes| *embedded + bytes.len() <= EMBEDDED_SCREENSHOT_BYTES)
            .map(|bytes| {
                *embedded += bytes.len();
                format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(&bytes)
                )
            });
        shots.push((path, name, data));
    }
    if shots.is_empty() {
        return html! {};
    }
    html! {
        div.shots {
            @for (path, name, data) in &shots {
                figure {
                    @if let Some(data) = data {
                        a.shot href=(href(path).unwrap_or_default()) title="open full size" {
                            img.screenshot src=(data) alt=(name);
                        }
                    } @else {
                        (link(path, "screenshot (not embedded)"))
                    }
                    figcaption { (name) }
                }
            }
        }
    }
}

/// The last tick of an axis ends at its line, so its label stays inside the chart.
fn tick_anchor(tick: u64) -> &'static str {
    if tick == 4 { "end" } else { "middle" }
}

/// A coordinate with one decimal: enough for a 1000-wide viewBox, and a smaller page.
fn f1(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_stay_relative_and_inside_the_folder() {
        assert_eq!(href("logs/a b.log").as_deref(), Some("logs/a%20b.log"));
        assert_eq!(
            href("javascript:alert(1)").as_deref(),
            Some("javascript%3Aalert%281%29")
        );
        assert_eq!(href("../x"), None);
        assert_eq!(href("/etc/passwd"), None);
        assert_eq!(href(""), None);
    }

    #[test]
    fn the_csp_hash_is_the_base64_sha256() {
        // echo -n 'a' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash("a"),
            "sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs="
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(12), "12 ms");
        assert_eq!(duration(1500), "1.5 s");
        assert_eq!(duration(125_000), "2m05s");
    }
}
