//! report.html in the real headless Chromium: a mixed run (pass, fail, error, skip, perf with
//! the upstream baseline, browser screenshots, a token a check tried to print) renders with no
//! console error and no request beyond the file; `oa-validate report DIR` rebuilds the page of
//! a folder written before report.html existed, and refuses a folder whose sums fail.

use crate::common;
use crate::common::{Evidence, Sandbox};
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::EventRequestWillBeSent;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use futures_util::StreamExt;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const STAGING_TOKEN: &str = "stg-report-token-0123456789abcdef-QRST";
const PROD_TOKEN: &str = "prd-report-token-0123456789abcdef-UVWX";

/// Checks of every outcome, one failing on a line the code frame must show, one whose
/// failure would print the staging token.
const MIXED_LANE: &str = r#"required("mixed-passes", || { assert(true, "fine"); });
required("mixed-fails", || {
    let answer = 1 + 1;
    assert_eq(answer, 3, "arithmetic");
});
required("mixed-errors", || { throw "boom"; });
optional("mixed-skipped", #{ toggle: "RUN_MIXED_EXTRA" }, || { assert(true, "x"); });
required("mixed-token-echo", || {
    let t = targets()[0];
    assert_eq(t.token, "not the token", "the token must not show");
});
"#;

/// What the page showed, and what happened while it did.
struct PageReport {
    facts: Value,
    requests: Vec<String>,
    console_errors: Vec<String>,
    after_filter: Value,
    lightbox_width: Value,
}

fn push(sink: &Arc<Mutex<Vec<String>>>, text: String) {
    sink.lock().expect("sink").push(text);
}

/// Every browser step is bounded: a page that never settles fails the test, never hangs it.
const STEP: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP, step)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {STEP:?}"))
}

async fn evaluate(page: &chromiumoxide::Page, js: &str) -> Value {
    let params = EvaluateParams::builder()
        .expression(js)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .expect("evaluate params");
    let result = bounded(js, page.evaluate_expression(params))
        .await
        .expect("evaluate");
    result.value().cloned().unwrap_or(Value::Null)
}

const FACTS_JS: &str = r#"(async () => {
  await Promise.all([...document.images].map(i => i.complete ? null
    : new Promise(r => { i.onload = r; i.onerror = r; })));
  const failure = id => {
    const article = document.getElementById('failure-' + id);
    return article && {
      log_link: !!article.querySelector('a[href="logs/' + id + '.log"]'),
      frames: [...article.querySelectorAll('pre.code-frame')].map(p => p.textContent),
    };
  };
  return {
    verdict: document.getElementById('verdict').textContent.trim(),
    matrix_ids: [...document.querySelectorAll('#matrix tr.check')].map(r => r.id.slice('check-'.length)),
    detail_ids: [...document.querySelectorAll('details.check')].map(d => d.id.slice('details-'.length)),
    timeline_bars: [...document.querySelectorAll('#timeline-chart rect.bar')].map(b => b.dataset.check),
    perf_marks: [...document.querySelectorAll('svg.perf-chart .perf-mark')]
      .map(g => g.dataset.target + '/' + g.dataset.probe),
    screenshots: [...document.querySelectorAll('img.screenshot')].map(i => i.naturalWidth),
    fails: failure('mixed-fails'),
    errors: failure('mixed-errors'),
    html: document.documentElement.outerHTML,
  };
})()"#;

/// Opens `file` in headless Chromium and gathers what the tests assert.
fn open_in_chromium(file: &Path, profile: &Path) -> PageReport {
    let chromium = oa_validate::browser::find_chromium(None, std::env::var("PATH").ok().as_deref())
        .expect("Chromium is installed (scripts/setup.sh)");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let url = url::Url::from_file_path(file)
        .expect("absolute path")
        .to_string();
    runtime.block_on(async {
        let config = BrowserConfig::builder()
            .chrome_executable(chromium)
            .no_sandbox()
            .user_data_dir(profile)
            .window_size(1280, 900)
            .args(["--disable-gpu", "--no-first-run", "--disable-background-networking"])
            .build()
            .expect("browser config");
        let (mut browser, mut handler) = bounded("launch", Browser::launch(config))
            .await
            .expect("launch Chromium");
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = bounded("new page", browser.new_page("about:blank"))
            .await
            .expect("a page");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut sent = page.event_listener::<EventRequestWillBeSent>().await.expect("network events");
        let mut console = page.event_listener::<EventConsoleApiCalled>().await.expect("console events");
        let mut log = page.event_listener::<EventEntryAdded>().await.expect("log events");
        let mut thrown = page.event_listener::<EventExceptionThrown>().await.expect("exceptions");
        page.enable_log().await.expect("log domain");
        let sink = requests.clone();
        let listen_requests = tokio::spawn(async move {
            while let Some(event) = sent.next().await {
                push(&sink, event.request.url.clone());
            }
        });
        let sink = errors.clone();
        let listen_console = tokio::spawn(async move {
            while let Some(event) = console.next().await {
                if event.r#type == ConsoleApiCalledType::Error {
                    let text: Vec<String> = event
                        .args
                        .iter()
                        .map(|a| a.value.as_ref().map(|v| v.to_string()).unwrap_or_default())
                        .collect();
                    push(&sink, format!("console.error {}", text.join(" ")));
                }
            }
        });
        let sink = errors.clone();
        let listen_log = tokio::spawn(async move {
            while let Some(event) = log.next().await {
                if format!("{:?}", event.entry.level).eq_ignore_ascii_case("error") {
                    push(&sink, format!("log {}", event.entry.text));
                }
            }
        });
        let sink = errors.clone();
        let listen_thrown = tokio::spawn(async move {
            while let Some(event) = thrown.next().await {
                push(&sink, format!("exception {}", event.exception_details.text));
            }
        });

        bounded("open report.html", page.goto(url.as_str()))
            .await
            .expect("open report.html");
        let facts = evaluate(&page, FACTS_JS).await;
        let after_filter = evaluate(
            &page,
            "document.querySelector('[data-filter=failed]').click(), \
             [...document.querySelectorAll('#matrix tr.check')].filter(r => !r.hidden).map(r => r.dataset.status)",
        )
        .await;
        let lightbox_width = evaluate(
            &page,
            "(async () => { const a = document.querySelector('a.shot'); if (!a) return null; a.click(); \
             const box = document.getElementById('lightbox'); const img = box.querySelector('img'); \
             if (!img.complete) await new Promise(r => { img.onload = r; img.onerror = r; }); \
             return box.hidden ? -1 : img.naturalWidth; })()",
        )
        .await;
        // The listeners are live: a console error of our own must arrive.
        evaluate(&page, "console.error('listener-probe'), true").await;
        tokio::time::sleep(Duration::from_millis(300)).await;

        let _ = tokio::time::timeout(STEP, browser.close()).await;
        if tokio::time::timeout(STEP, browser.wait()).await.is_err() {
            let _ = browser.kill().await;
        }
        for task in [handler, listen_requests, listen_console, listen_log, listen_thrown] {
            task.abort();
        }
        let requests = requests.lock().expect("requests").clone();
        let console_errors = errors.lock().expect("errors").clone();
        PageReport {
            facts,
            requests,
            console_errors,
            after_filter,
            lightbox_width,
        }
    })
}

/// (target, probe) of every perf row in the folder, from the perf.tsv files themselves.
fn perf_rows(ev: &Evidence) -> Vec<String> {
    let summary = ev.summary_json();
    let mut rows = Vec::new();
    for (verdict, run) in summary["verdict"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .zip(summary["run"]["checks"].as_array().expect("run checks"))
    {
        for artifact in run["artifacts"].as_array().expect("artifacts") {
            let path = artifact.as_str().expect("a path");
            if path.ends_with("/perf.tsv") {
                for row in common::parse_tsv(&ev.read(path)) {
                    rows.push(format!(
                        "{}/{}",
                        verdict["target"].as_str().expect("a target"),
                        row["probe"]
                    ));
                }
            }
        }
    }
    rows
}

fn png_artifacts(ev: &Evidence) -> usize {
    ev.files().iter().filter(|f| f.ends_with(".png")).count()
}

#[test]
fn report_html_of_a_mixed_run_renders_in_chromium_without_requests_errors_or_secrets() {
    let sb = Sandbox::new();
    sb.copy_from_repo("lanes/htmx.rhai", "lanes/htmx.rhai");
    sb.write("mixed.rhai", MIXED_LANE);
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .args(["--sim", "lanes/htmx.rhai", "mixed.rhai"])
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .env("RUN_MIXED_EXTRA", "0")
        .env("TMPDIR", sb.path())
        .timeout(Duration::from_secs(240))
        .run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    let summary = ev.summary_json();
    let statuses: Vec<&str> = summary["verdict"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["status"].as_str())
        .collect();
    for status in ["passed", "failed", "errored", "skipped"] {
        assert!(
            statuses.contains(&status),
            "no {status} check: {statuses:?}"
        );
    }
    let sums = ev.read("SHA256SUMS");
    assert!(
        sums.lines().any(|l| l.ends_with("  report.html")),
        "report.html is not in SHA256SUMS:\n{sums}"
    );

    let page = open_in_chromium(
        &out.join("report.html"),
        &sb.path().join("chromium-profile"),
    );
    let facts = &page.facts;

    // No console error but our own probe (which proves the listener hears them).
    assert_eq!(
        page.console_errors,
        ["console.error \"listener-probe\""],
        "console errors"
    );
    // No request but the page itself (data: URLs are not requests; seeing the page's own
    // request proves the listener hears them).
    let page_url = url::Url::from_file_path(out.join("report.html"))
        .expect("url")
        .to_string();
    let others: Vec<&String> = page
        .requests
        .iter()
        .filter(|u| !u.starts_with("data:") && **u != page_url)
        .collect();
    assert!(others.is_empty(), "requests beyond the file: {others:?}");
    assert!(page.requests.contains(&page_url), "{:?}", page.requests);

    assert_eq!(facts["verdict"], summary["verdict"]["decision"]);
    let ids: Vec<&str> = summary["verdict"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    for list in ["matrix_ids", "detail_ids"] {
        assert_eq!(
            facts[list].as_array().map(Vec::len),
            Some(ids.len()),
            "{list}"
        );
        for id in &ids {
            assert!(
                facts[list].as_array().expect("ids").iter().any(|v| v == id),
                "{id} missing from {list}"
            );
        }
    }
    assert_eq!(
        facts["timeline_bars"].as_array().map(Vec::len),
        Some(ids.len()),
        "one timeline bar per check"
    );

    // The failing check links to its log and shows its code frame (position and line).
    assert_eq!(facts["fails"]["log_link"], true, "{}", facts["fails"]);
    let frame = facts["fails"]["frames"][0].as_str().expect("a code frame");
    assert!(frame.contains("--> mixed.rhai:4:"), "{frame}");
    assert!(frame.contains("assert_eq(answer, 3"), "{frame}");
    let frame = facts["errors"]["frames"][0]
        .as_str()
        .expect("the error's frame");
    assert!(frame.contains("--> mixed.rhai:6:"), "{frame}");

    // One perf mark per probe and target.
    let mut expected = perf_rows(&ev);
    let mut marks: Vec<String> = facts["perf_marks"]
        .as_array()
        .expect("marks")
        .iter()
        .map(|v| v.as_str().expect("text").to_string())
        .collect();
    expected.sort();
    marks.sort();
    assert_eq!(expected.len(), 8, "2 targets x 4 probes: {expected:?}");
    assert_eq!(marks, expected);

    // Every screenshot loads, and opens full size.
    let widths = facts["screenshots"].as_array().expect("screenshots");
    assert_eq!(
        widths.len(),
        png_artifacts(&ev),
        "one thumbnail per screenshot"
    );
    assert!(!widths.is_empty(), "the browser smoke saved screenshots");
    assert!(widths.iter().all(|w| w.as_u64() > Some(0)), "{widths:?}");
    assert!(
        page.lightbox_width.as_u64() > Some(0),
        "{}",
        page.lightbox_width
    );

    // The status filter works.
    let shown = page.after_filter.as_array().expect("statuses shown");
    assert!(
        !shown.is_empty() && shown.iter().all(|s| s == "failed"),
        "{shown:?}"
    );

    // No token, in any form, in the page or the file.
    let html = facts["html"].as_str().expect("page html");
    let file = std::fs::read(out.join("report.html")).expect("report.html");
    for token in [STAGING_TOKEN, PROD_TOKEN] {
        common::assert_no_secret("report.html (DOM)", html.as_bytes(), token);
        common::assert_no_secret("report.html", &file, token);
    }
    assert!(
        html.contains("[REDACTED]"),
        "the echoed token shows redacted"
    );
}

/// Written by oa-validate before report.html and summary.json v2 existed (schema v1, no
/// invocation record, no start times, no code frames): control health and smoke (failing under
/// `session-401`) and the staging HTMX perf check, against the sim.
const V1_FOLDER: &str = "tests/fixtures/evidence-v1";

#[test]
fn report_rebuilds_the_page_of_a_folder_written_before_report_html_existed() {
    let sb = Sandbox::new();
    let dir = sb.copy_dir_from_repo(V1_FOLDER, "old");
    let ev = Evidence::new(dir.clone());
    assert!(!ev.files().contains(&"report.html".to_string()));
    let run = sb.cmd().arg("report").arg(&dir).run();
    run.expect_code(0).stdout_has("report.html");

    // Listed in SHA256SUMS, which still verifies every file.
    assert!(
        ev.read("SHA256SUMS")
            .lines()
            .any(|l| l.ends_with("  report.html"))
    );
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .expect("sha256sum");
    assert!(check.status.success(), "{check:?}");

    let page = open_in_chromium(
        &dir.join("report.html"),
        &sb.path().join("chromium-profile"),
    );
    assert_eq!(
        page.console_errors,
        ["console.error \"listener-probe\""],
        "console errors"
    );
    assert!(
        page.requests
            .iter()
            .all(|u| u.starts_with("file:") && u.ends_with("/old/report.html")),
        "{:?}",
        page.requests
    );
    let facts = &page.facts;
    let summary = ev.summary_json();
    assert_eq!(facts["verdict"], summary["verdict"]["decision"]);
    assert_eq!(
        facts["matrix_ids"],
        serde_json::json!([
            "control-staging-health",
            "control-staging-smoke",
            "control-staging-htmx-perf"
        ])
    );
    assert_eq!(
        facts["perf_marks"].as_array().map(Vec::len),
        Some(4),
        "{}",
        facts["perf_marks"]
    );
    let html = facts["html"].as_str().expect("html");
    assert!(
        html.contains("predates recorded start times"),
        "the timeline says it is drawn per lane"
    );
    assert!(
        html.contains("lanes/control.rhai:45:13"),
        "the failure's position"
    );

    // Rebuilding again replaces the page and its line, nothing else.
    let sums_before = ev.read("SHA256SUMS");
    sb.cmd().arg("report").arg(&dir).run().expect_code(0);
    assert_eq!(ev.read("SHA256SUMS"), sums_before);
}

#[test]
fn report_refuses_a_folder_whose_evidence_was_altered() {
    let sb = Sandbox::new();
    let dir = sb.copy_dir_from_repo(V1_FOLDER, "old");
    std::fs::write(dir.join("logs/control-staging-smoke.log"), "all fine\n").expect("tamper");
    sb.cmd()
        .arg("report")
        .arg(&dir)
        .run()
        .expect_code(2)
        .stderr_has("SHA256SUMS does not verify (logs/control-staging-smoke.log)");
    assert!(!dir.join("report.html").exists());
    sb.cmd()
        .arg("report")
        .arg(sb.path().join("nowhere"))
        .run()
        .expect_code(2)
        .stderr_has("summary.json");
}

/// Issue 21, point 9: the NO-GO reasons link to the cards that tell them in full, the
/// failures come before the matrix, a passing check lists what it asserted, the perf table
/// has a unit in every cell and its axis reads below 1 ms, and only a page `oa-validate
/// report` rebuilt says it was rebuilt. Parsed with scraper (no browser needed).
#[test]
fn report_html_links_reasons_to_cards_lists_assertions_and_units() {
    let sb = Sandbox::new();
    let perf = "probe\tsamples\tstatus\tsize_bytes_max\tttfb_ms_p50\tttfb_ms_p95\tbudget_bytes\tbudget_ttfb_ms\tbaseline_ttfb_ms\tdelta_ttfb_ms\tresult\tdetail\\n\
                login\t4\t200\t163\t0.4\t0.6\t12000\t500\t180\t-179.4\tpass\twithin budget\\n";
    sb.write(
        "page.rhai",
        &format!(
            "required(\"fine\", || {{ assert_eq(1 + 1, 2, \"two\"); assert(true, \"the sky holds\"); evidence(\"perf.tsv\", \"{perf}\"); }});\n\
             required(\"broken\", || {{ assert_eq(1, 3, \"arithmetic\"); }});\n\
             required(\"gone\", #{{ needs: [\"OA_PAGE_TOKEN\"] }}, || {{ assert(true, \"x\"); }});\n"
        ),
    );
    let out = sb.out("ev");
    sb.cmd()
        .arg("page.rhai")
        .env_remove("OA_PAGE_TOKEN")
        .out(&out)
        .run()
        .expect_code(1);
    let ev = sb.evidence("ev");
    let page = scraper::Html::parse_document(&ev.read("report.html"));
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let text = |css: &str| -> Vec<String> {
        page.select(&select(css))
            .map(|e| e.text().collect::<String>())
            .collect()
    };

    // Each reason links to the card that tells it, and that card exists.
    let links: Vec<(String, String)> = page
        .select(&select("#no-go-reasons li a"))
        .map(|a| {
            (
                a.text().collect::<String>(),
                a.value().attr("href").unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        links
            .iter()
            .map(|(_, href)| href.as_str())
            .collect::<Vec<_>>(),
        ["#failure-broken", "#details-gone"],
        "{links:?}"
    );
    for (_, href) in &links {
        assert_eq!(text(href).len(), 1, "{href} is on the page");
    }
    // Failures first: before the matrix, the timeline and the perf charts.
    let html = ev.read("report.html");
    let at = |id: &str| html.find(id).unwrap_or_else(|| panic!("{id} on the page"));
    assert!(at("id=\"failures\"") < at("id=\"matrix\""));
    assert!(at("id=\"not-checked-here\"") < at("id=\"matrix\""));
    // A passing check lists what it asserted.
    let asserted = text("#details-fine details.assertions");
    assert_eq!(asserted.len(), 1, "{asserted:?}");
    assert!(asserted[0].contains("Asserted (2)"), "{asserted:?}");
    assert!(asserted[0].contains("the sky holds"), "{asserted:?}");
    // Units in every perf cell; the axis has a tick below 1 ms.
    let cells = text(".perf-table td.num");
    assert!(!cells.is_empty());
    for cell in &cells {
        assert!(
            cell == "-" || cell.ends_with(" ms") || cell.ends_with(" B"),
            "{cell:?} in {cells:?}"
        );
    }
    assert!(cells.contains(&"0.40 ms".to_string()), "{cells:?}");
    assert!(cells.contains(&"-179.4 ms".to_string()), "{cells:?}");
    let ticks = text("svg.perf-chart text.tick");
    assert_eq!(
        ticks.first().map(String::as_str),
        Some("0.1 ms"),
        "{ticks:?}"
    );
    // The run's page does not say it was rebuilt; `oa-validate report` says so on its own.
    let footer = text("footer").concat();
    assert!(!footer.contains("Rebuilt"), "{footer}");
    assert!(footer.contains("Written by the run"), "{footer}");
    sb.cmd().arg("report").arg(&out).run().expect_code(0);
    let rebuilt = scraper::Html::parse_document(&ev.read("report.html"));
    let footer: String = rebuilt
        .select(&select("footer"))
        .flat_map(|e| e.text())
        .collect();
    assert!(footer.contains("Rebuilt from this folder"), "{footer}");
}
