//! `report.html`: the evidence folder as one self-contained page (inline CSS, JS and SVG; a
//! Content-Security-Policy that forbids every request), rendered from the folder's own files
//! through [`Archive`], so `oa-validate report DIR` rebuilds it for any folder.
//!
//! Sections: the verdict and how the run was made (each NO-GO reason linked to its card),
//! failures with code frames, what was not checked here, the matrix by lane (filterable), a
//! timeline of checks per worker, perf charts, then every check with what it asserted, its
//! requests and screenshots. Escaping is maud's; the caller redacts the text.

use crate::config::Mode;
use crate::evidence::archive::{Archive, CheckView, Request};
use crate::outcome::{Level, Status};
use crate::summary::VerdictCheck;
use crate::verdict::Decision;
use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

mod charts;

pub const FILE_NAME: &str = "report.html";

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Screenshots are embedded (data: URLs, no request) up to this many bytes in all; later
/// ones are linked instead, so a run with hundreds of screenshots still gives a usable page.
const EMBEDDED_SCREENSHOT_BYTES: usize = 32 * 1024 * 1024;
/// Requests listed per check; the HAR holds the rest.
const REQUESTS_SHOWN: usize = 100;
/// Passed assertions listed per check; the log holds the rest.
const ASSERTIONS_SHOWN: usize = 200;

const STATUSES: [Status; 5] = [
    Status::Passed,
    Status::Failed,
    Status::Errored,
    Status::Skipped,
    Status::NotChecked,
];

/// Who writes the page: the run that made the folder, or `oa-validate report DIR` later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Run,
    Rebuild,
}

/// The whole page (not yet redacted).
pub fn render(archive: &Archive, writer: Writer) -> String {
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
                    // What decided a NO-GO first: the failures, then what this machine lacked.
                    (failures(archive))
                    (not_checked_here(archive))
                    (matrix(archive))
                    (charts::timeline(archive))
                    (charts::perf(archive))
                    (checks(archive))
                    footer {
                        @match writer {
                            Writer::Run => {
                                "Written by the run from this folder's summary.json, logs, HAR files and artifacts; "
                                code { "oa-validate report DIR" } " rebuilds it. "
                            }
                            Writer::Rebuild => {
                                "Rebuilt from this folder's summary.json, logs, HAR files and artifacts by "
                                code { "oa-validate report DIR" } ". "
                            }
                        }
                        "Schema " (summary.schema) "."
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
        Ok(archive) => folder.write_report(FILE_NAME, &render(&archive, Writer::Run)),
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
    html! { span class={ "status " (status.as_str()) } { (status.label()) } }
}

/// What this machine lacked, once per missing thing, with its checks and what to do: apart
/// from the failures, since none of it is a fault of the deployment.
fn not_checked_here(archive: &Archive) -> Markup {
    let checks = &archive.summary.verdict.checks;
    let missing = super::missing_here(checks.iter().map(|c| (c.id.as_str(), c.missing.as_ref())));
    if missing.is_empty() {
        return html! {};
    }
    html! {
        section #not-checked-here {
            h2 { "Not checked here (" (missing.iter().map(|(_, ids)| ids.len()).sum::<usize>()) ")" }
            p { (super::MISSING_HERE_HEADING) "." }
            ul.reasons {
                @for (what, ids) in &missing {
                    li {
                        strong { (what.reason) } " — "
                        @for (i, id) in ids.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href={ "#details-" (id) } { (id) }
                        }
                        br;
                        "To check here: " (what.remedy)
                    }
                }
            }
        }
    }
}

/// Where a NO-GO reason (`<id> <status>: <why>`) is told in full: the check's failure card,
/// or its details for a check that did not fail (skipped, not checked here). The longest id
/// the reason starts with wins (`a-b` over `a`); `None` for a reason about the run.
fn reason_anchor(reason: &str, checks: &[VerdictCheck]) -> Option<String> {
    let check = checks
        .iter()
        .filter(|c| c.status != Status::Passed)
        .filter(|c| {
            reason
                .strip_prefix(c.id.as_str())
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .max_by_key(|c| c.id.len())?;
    Some(if is_failure(check.status) {
        format!("failure-{}", check.id)
    } else {
        format!("details-{}", check.id)
    })
}

fn header(archive: &Archive) -> Markup {
    let summary = &archive.summary;
    let verdict = &summary.verdict;
    let warnings = super::all_warnings(
        &verdict.warnings,
        verdict
            .checks
            .iter()
            .map(|c| (c.id.as_str(), c.warnings.as_slice())),
    );
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
                @if verdict.mode == Mode::Gate { " " span.muted { "(release gate)" } }
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
                    @for reason in &verdict.no_go_reasons {
                        li {
                            @match reason_anchor(reason, &verdict.checks) {
                                Some(anchor) => a href={ "#" (anchor) } { (reason) },
                                None => (reason),
                            }
                        }
                    }
                }
            }
            @if !warnings.is_empty() {
                details #warnings {
                    summary { (warnings.len()) " warning(s)" }
                    ul.reasons { @for w in &warnings { li { (w) } } }
                }
            }
            p {
                (counts.total) " checks: " (counts.passed) " passed, "
                (counts.required_failures) " required failures ("
                (counts.errored) " errored), " (counts.optional_failures) " optional failures, "
                (counts.required_skipped) " required skipped, "
                (counts.optional_skipped) " optional skipped"
                (crate::report::terminal::not_checked_counts(counts))
            }
            dl.meta {
                dt { "Mode" } dd #mode { (verdict.mode.as_str()) }
                dt { "Phase" } dd #phase { (verdict.phase.as_deref().unwrap_or("none")) }
                dt { "Targets" } dd #targets { (targets(archive)) }
                dt { "Matrix" } dd #matrix-identity { (matrix_identity(archive)) }
                dt { "Tool version" } dd #tool-version {
                    "oa-validate " (run.tool_version)
                    @if let Some(commit) = &run.tool_commit { " (commit " code { (commit) } ")" }
                }
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
    // Lanes that use no target name their own URLs: say so, and what they read.
    let checks = &archive.summary.verdict.checks;
    if !checks.is_empty() && checks.iter().all(|c| c.target.is_none()) {
        let read: Vec<String> = run
            .invocation
            .as_ref()
            .map(|i| {
                i.lane_env
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("<unset>")))
                    .collect()
            })
            .unwrap_or_default();
        return html! {
            "none (the lanes name their own URLs)"
            @if !read.is_empty() { "; they read " code { (read.join(" ")) } }
        };
    }
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
            .and_then(|v| v.as_deref())
            .unwrap_or("-")
            .to_string()
    };
    html! {
        @if run.simulated { "simulated deployment (--sim); " }
        "staging " code { (url("STAGING_CONTROL_BASE_URL")) } "; prod " code { (url("PROD_CONTROL_BASE_URL")) }
    }
}

/// Which matrix ran: the lock's digest and whether the run matched it, and the lane files.
fn matrix_identity(archive: &Archive) -> Markup {
    let run = &archive.summary.run;
    let lock = run.matrix.as_ref().map(|m| {
        html! {
            "lock " code title=(m.lock_sha256.as_deref().unwrap_or("")) #matrix-lock {
                (m.lock_sha256.as_deref().map_or("none", |d| &d[..d.len().min(16)]))
            }
            " (" (m.lock) ": " (m.status.as_str()) ")"
            @for difference in &m.differences { br; "differs: " (difference) }
            br;
        }
    });
    match &run.invocation {
        Some(invocation) => {
            let digest = invocation.lanes_digest();
            html! {
                @if let Some(lock) = lock { (lock) }
                (invocation.lanes.len()) " lane file(s)"
                @if invocation.full_matrix { " (the whole matrix)" }
                ", lanes digest " code title=(digest) { (digest[..16]) }
                @if !invocation.checks.is_empty() { ", only " (invocation.checks.join(", ")) }
            }
        }
        None => {
            html! { @if let Some(lock) = lock { (lock) } (run.lanes.join(", ")) " (no digest recorded)" }
        }
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
                    @if let Some(reason) = &c.verdict.reason { p { strong { (c.verdict.status.label()) ": " } (reason) } }
                    @if let Some(missing) = &c.verdict.missing { p.remedy { strong { "To check it here: " } (missing.remedy) } }
                    @for w in &c.verdict.warnings { p { strong { "warning: " } (w) } }
                    (assertion_list(&archive.assertions(&c)))
                    (evidence_links(&c))
                    @if let Some(run) = c.run { p.muted { "Re-run alone: " code { (run.command) } } }
                    @if !requests.is_empty() { (request_list(&requests)) }
                    (screenshots(archive, &c, &mut embedded))
                }
            }
        }
    }
}

/// What a check asserted and saw hold (its log's `ok:` lines), so a pass says what it proved.
fn assertion_list(assertions: &[String]) -> Markup {
    if assertions.is_empty() {
        return html! {};
    }
    html! {
        details.assertions open {
            summary { "Asserted (" (assertions.len()) ")" }
            ul {
                @for a in assertions.iter().take(ASSERTIONS_SHOWN) { li { "✓ " (a) } }
            }
            @if assertions.len() > ASSERTIONS_SHOWN {
                p.muted { (assertions.len() - ASSERTIONS_SHOWN) " more in the log." }
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
        // Read no more than the budget left: a file past it is linked, never loaded.
        let left = EMBEDDED_SCREENSHOT_BYTES.saturating_sub(*embedded) as u64;
        let data = archive.read_capped(path, left).map(|bytes| {
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
