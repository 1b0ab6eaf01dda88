//! `diff`, `rerun` and the CI annotations, end to end: a GO and a NO-GO run compared, a run
//! compared with itself, a slowed fragment's perf delta, re-running what failed (on a target
//! that was fixed, and under a sim fault that is reproduced), and the GitHub Actions lines.

use crate::common;
use crate::common::{Evidence, Sandbox};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::Duration;

fn run_control(sb: &Sandbox, name: &str, extra: &[&str]) -> Evidence {
    sb.cmd_in_repo()
        .args(["--sim", "lanes/control.rhai"])
        .args(extra)
        .out(&sb.out(name))
        .run();
    sb.evidence(name)
}

/// The line of `text` whose first column is `first` (columns are aligned, so padded).
#[track_caller]
fn row<'a>(text: &'a str, first: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{first} ")))
        .unwrap_or_else(|| panic!("no line starting with {first:?} in\n{text}"))
}

fn diff(sb: &Sandbox, old: &str, new: &str, extra: &[&str]) -> common::Run {
    sb.cmd()
        .arg("diff")
        .arg(sb.out(old))
        .arg(sb.out(new))
        .args(extra)
        .run()
}

#[test]
fn diff_of_a_go_and_a_no_go_run_names_the_regressions_and_the_fault() {
    let sb = Sandbox::new();
    run_control(&sb, "go", &[]);
    run_control(&sb, "nogo", &["--sim-fault", "readyz-503"]);

    let text = diff(&sb, "go", "nogo", &[]);
    text.expect_code(1)
        .stdout_has("4 required check(s) regressed");
    assert!(row(&text.stdout, "OLD").contains("  GO     normal  "));
    assert!(row(&text.stdout, "NEW").contains("  NO-GO  normal  "));
    assert!(row(&text.stdout, "targets").ends_with("  simulated -> simulated, faults readyz-503"));
    // readyz-503 fails the health and smoke checks (tests/it/faults.rs).
    for id in crate::faults::HEALTH_AND_SMOKE {
        let line = row(&text.stdout, id);
        assert!(
            line.contains("required  passed -> failed  REGRESSION"),
            "{line}"
        );
    }

    let json = diff(&sb, "go", "nogo", &["--format", "json"]);
    json.expect_code(1);
    let doc: Value = serde_json::from_str(&json.stdout).expect("diff JSON");
    assert_eq!(doc["schema"], "oa-validate.diff.v1");
    assert_eq!(doc["old"]["decision"], "GO");
    assert_eq!(doc["new"]["decision"], "NO-GO");
    assert_eq!(
        doc["regressions"],
        serde_json::json!(crate::faults::HEALTH_AND_SMOKE)
    );
    assert_eq!(doc["context"][0]["what"], "targets", "{}", doc["context"]);

    let md = diff(&sb, "go", "nogo", &["--format", "md"]);
    md.expect_code(1)
        .stdout_has("| control-staging-health | required | passed -> failed | **regression** |");

    // Fixing is no regression.
    diff(&sb, "nogo", "go", &[])
        .expect_code(0)
        .stdout_has("failed -> passed")
        .stdout_has("No required check regressed.");
}

#[test]
fn diff_of_a_run_and_itself_changes_nothing_and_folders_of_other_matrices_are_compared() {
    let sb = Sandbox::new();
    run_control(&sb, "one", &[]);
    let same = diff(&sb, "one", "one", &[]);
    same.expect_code(0)
        .stdout_has("No check changed status.")
        .stdout_has("No required check regressed.");
    assert!(!same.stdout.contains("made differently"), "{}", same.stdout);

    // Another matrix (one lane more) and another mode: shown, and no regression.
    sb.cmd_in_repo()
        .args([
            "--sim",
            "--baseline",
            "lanes/control.rhai",
            "lanes/public_stats.rhai",
        ])
        .out(&sb.out("wider"))
        .run()
        .expect_code(0);
    let wider = diff(&sb, "one", "wider", &[]);
    wider
        .expect_code(0)
        .stdout_has("New checks (2):")
        .stdout_has("public-stats-staging");
    assert!(row(&wider.stdout, "mode").ends_with("  normal -> baseline"));
    assert!(row(&wider.stdout, "lanes").contains("  lanes/control.rhai "));
}

#[test]
fn diff_shows_the_perf_delta_of_a_slowed_fragment() {
    let sb = Sandbox::new();
    let perf = |name: &str, extra: &[&str]| {
        sb.cmd_in_repo()
            .args([
                "--sim",
                "lanes/htmx.rhai",
                "--check",
                "control-staging-htmx-perf",
            ])
            .args(extra)
            .out(&sb.out(name))
            .timeout(Duration::from_secs(120))
            .run();
    };
    perf("fast", &[]);
    perf("slow", &["--sim-fault", "feed-fragment-slow"]);
    let text = diff(&sb, "fast", "slow", &[]);
    text.expect_code(1)
        .stdout_has("control-staging-htmx-perf  required  passed -> failed  REGRESSION");
    let line = text
        .stdout
        .lines()
        .find(|l| l.contains("feed_main_fragment_hx"))
        .unwrap_or_else(|| panic!("no perf line:\n{}", text.stdout));
    assert!(line.ends_with("SLOWER"), "{line}");

    let doc: Value = serde_json::from_str(&diff(&sb, "fast", "slow", &["--format", "json"]).stdout)
        .expect("diff JSON");
    let rows = doc["perf"].as_array().expect("perf rows");
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in rows {
        let delta = row["delta_p50"].as_f64().expect("a p50 delta");
        if row["probe"] == "feed_main_fragment_hx" {
            assert!(delta > 700.0, "the 800 ms fault shows: {row}");
            assert_eq!(row["flag"], "slower");
        } else {
            assert!(delta.abs() < 200.0, "{row}");
        }
    }
    // A threshold nothing reaches flags nothing.
    let lenient = diff(&sb, "fast", "slow", &["--perf-min-ms", "100000"]);
    assert!(!lenient.stdout.contains("SLOWER"), "{}", lenient.stdout);
}

/// A loopback service whose `/readyz` answers the status set in `ready` (and `/version`
/// always 200): a deployment that can be fixed between two runs, at the same URL.
struct Service {
    url: String,
    ready: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Service {
    fn start(ready: u16) -> Service {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let ready = Arc::new(AtomicU16::new(ready));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (ready, stop) = (ready.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut head = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let status = if head.starts_with("GET /readyz") {
                        ready.load(Ordering::Relaxed)
                    } else {
                        200
                    };
                    let _ = stream.write_all(
                        format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                            .as_bytes(),
                    );
                }
            })
        };
        Service {
            url,
            ready,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const SERVICE_LANE: &str = r#"for t in targets() {
    required(`svc-${t.name}-ready`, #{ target: t }, || {
        assert_status(http::get(`${t.control_url}/readyz`), 200);
    });
    required(`svc-${t.name}-version`, #{ target: t }, || {
        assert_status(http::get(`${t.control_url}/version`), 200);
    });
}
"#;

fn ids(ev: &Evidence) -> Vec<String> {
    ev.statuses().into_iter().map(|(id, _)| id).collect()
}

#[test]
fn rerun_runs_only_what_failed_against_the_same_targets_and_passes_once_fixed() {
    let sb = Sandbox::new();
    sb.write("service.rhai", SERVICE_LANE);
    let service = Service::start(503);
    sb.cmd()
        .arg("service.rhai")
        .out(&sb.out("before"))
        .env("STAGING_CONTROL_BASE_URL", &service.url)
        .env("PROD_CONTROL_BASE_URL", &service.url)
        .run()
        .expect_code(1);
    let before = sb.evidence("before");
    assert_eq!(
        before.statuses(),
        [
            ("svc-staging-ready".to_string(), "failed".to_string()),
            ("svc-staging-version".to_string(), "passed".to_string()),
            ("svc-prod-ready".to_string(), "failed".to_string()),
            ("svc-prod-version".to_string(), "passed".to_string()),
        ]
    );

    // The deployment is fixed. The re-run's targets come from its own environment, never
    // from the folder (issue 20: this test asserted the folder's URLs won over a tripwire);
    // the same targets here, so nothing is said about them.
    service.ready.store(200, Ordering::Relaxed);
    let rerun = sb
        .cmd()
        .arg("rerun")
        .arg(sb.out("before"))
        .env("STAGING_CONTROL_BASE_URL", &service.url)
        .env("PROD_CONTROL_BASE_URL", &service.url)
        .out(&sb.out("after"))
        .run();
    rerun.expect_code(0);
    assert!(
        !rerun.stderr.contains("warning:"),
        "same targets, nothing to warn about: {}",
        rerun.stderr
    );
    let before_dir = sb.out("before").display().to_string();
    assert_eq!(
        rerun.verdict_line(),
        format!("Verdict: GO (partial re-run of {before_dir}: not a release decision)")
    );
    assert!(
        sb.tripwire().connections().is_empty(),
        "the re-run went elsewhere"
    );
    let after = sb.evidence("after");
    assert_eq!(ids(&after), ["svc-staging-ready", "svc-prod-ready"]);
    assert!(after.statuses().iter().all(|(_, s)| s == "passed"));
    let summary = after.summary_json();
    let origin = &summary["run"]["invocation"]["rerun_of"];
    assert_eq!(origin["folder"], before_dir);
    assert_eq!(origin["decision"], "NO-GO");
    assert_eq!(
        origin["checks"],
        serde_json::json!(["svc-staging-ready", "svc-prod-ready"])
    );
    assert_eq!(
        summary["run"]["invocation"]["checks"],
        serde_json::json!(["svc-staging-ready", "svc-prod-ready"])
    );
    let md = after.summary_md();
    assert!(
        md.contains(&format!("- Re-run of: {before_dir} (NO-GO, ")),
        "{md}"
    );
    assert!(md.contains("partial, not a release decision"), "{md}");
    assert!(
        after
            .read("junit.xml")
            .contains(&format!("name=\"rerun_of\" value=\"{before_dir}\"")),
        "junit.xml names the folder it re-ran"
    );
    let html = after.read("report.html");
    assert!(
        html.contains("id=\"partial-rerun\""),
        "report.html says it is partial"
    );
    assert!(html.contains("Not a release decision"));

    // Nothing failed any more: nothing to re-run.
    sb.cmd()
        .arg("rerun")
        .arg(sb.out("after"))
        .run()
        .expect_code(4)
        .stderr_has("nothing to re-run");
    // Never into the folder it re-runs.
    sb.cmd()
        .arg("rerun")
        .arg(sb.out("before"))
        .out(&sb.out("before"))
        .run()
        .expect_code(2);
}

#[test]
fn rerun_reproduces_the_sim_faults_phase_and_variables_of_the_run() {
    let sb = Sandbox::new();
    let missing = sb.path().join("no-such-backup.json");
    sb.cmd_in_repo()
        .args([
            "--sim",
            "--sim-fault",
            "session-401",
            "--phase",
            "legacy-deletion",
            "lanes/control.rhai",
        ])
        .env("LARAVEL_DB_BACKUP_EVIDENCE", &missing)
        .out(&sb.out("first"))
        .run()
        .expect_code(1);
    let failed = [
        "control-staging-smoke",
        "control-prod-smoke",
        "legacy-db-backup-evidence",
    ];
    let first = sb.evidence("first");
    let mut failing: Vec<String> = first
        .statuses()
        .into_iter()
        .filter(|(_, s)| s == "failed")
        .map(|(id, _)| id)
        .collect();
    failing.sort();
    let mut expected: Vec<String> = failed.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(failing, expected);

    // No --sim, no fault, no phase given: they come from the record. The variable comes from
    // the user's environment, as every variable but the RUN_* toggles and the perf and log
    // settings (issue 20: this test had the folder's value applied).
    let rerun = sb
        .cmd_in_repo()
        .arg("rerun")
        .arg(sb.out("first"))
        .env("LARAVEL_DB_BACKUP_EVIDENCE", &missing)
        .run();
    rerun
        .expect_code(1)
        .stderr_has("re-running 3 failed or errored check(s)");
    assert!(!rerun.stderr.contains("not applied"), "{}", rerun.stderr);
    let out = std::fs::read_dir(sb.path())
        .expect("sandbox")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("first-rerun-"))
        })
        .expect("the default folder DIR-rerun-<timestamp>");
    let again = Evidence::new(out);
    let mut ran = ids(&again);
    ran.sort();
    assert_eq!(ran, expected);
    assert!(again.statuses().iter().all(|(_, s)| s == "failed"));
    let summary = again.summary_json();
    let invocation = &summary["run"]["invocation"];
    assert_eq!(
        invocation["sim"]["faults"],
        serde_json::json!(["session-401"])
    );
    assert_eq!(invocation["phase"], "legacy-deletion");
    assert_eq!(summary["verdict"]["phase"], "legacy-deletion");
    assert_eq!(
        invocation["environment"]["LARAVEL_DB_BACKUP_EVIDENCE"],
        missing.display().to_string()
    );
    assert!(
        again
            .read("logs/legacy-db-backup-evidence.log")
            .contains("no-such-backup.json"),
        "the variable was used"
    );
}

/// A lane whose checks pass only when the sim serves the post-convergence era: the retired
/// Khala token route is gone there (404), while the app-surface era still routes it (401
/// without a token).
fn era_lane(status: u16) -> String {
    format!(
        r#"for t in targets() {{
    required(`era-${{t.name}}`, #{{ target: t }}, || {{
        let r = http::post(`${{t.control_url}}/api/v1/sync/token`, #{{ timeout: "10s", json: #{{}} }});
        assert_status(r, {status});
    }});
}}
"#
    )
}

/// The phase a run was made for comes back in its re-run, and with it the sim's upstream era
/// (fidelity's phases meet report's invocation record: the era is not recorded on its own, it
/// follows from the phase).
#[test]
fn rerun_reproduces_the_phase_and_so_the_sims_era() {
    let sb = Sandbox::new();
    sb.write("era.rhai", &era_lane(200));
    sb.cmd()
        .args(["--sim", "--phase", "spacetime-convergence", "era.rhai"])
        .out(&sb.out("first"))
        .run()
        .expect_code(1);
    // Fixed: the lane now expects what the post-convergence era answers.
    sb.write("era.rhai", &era_lane(404));
    // The fixed lane fails in the default phase's era: the era is what the re-run must get right.
    sb.cmd()
        .args(["--sim", "era.rhai"])
        .out(&sb.out("default-era"))
        .run()
        .expect_code(1);
    let rerun = sb
        .cmd()
        .arg("rerun")
        .arg(sb.out("first"))
        .args(["--out", "again"])
        .run();
    rerun
        .expect_code(0)
        .stdout_has("Phase: spacetime-convergence");
    let again = sb.evidence("again");
    assert_eq!(
        again.statuses(),
        [
            ("era-staging".to_string(), "passed".to_string()),
            ("era-prod".to_string(), "passed".to_string())
        ]
    );
    let summary = again.summary_json();
    assert_eq!(
        summary["run"]["invocation"]["phase"],
        "spacetime-convergence"
    );
    assert_eq!(summary["verdict"]["phase"], "spacetime-convergence");
}

/// Expected `::error` line of a failed check, from its summary.json entry (the expected and
/// actual values follow the message unless it already says both).
fn expected_annotation(check: &Value) -> String {
    let failure = &check["failures"][0];
    let pos = &failure["position"];
    let message = failure["message"].as_str().expect("message");
    let (expected, actual) = (
        failure["expected"].as_str().expect("expected"),
        failure["actual"].as_str().expect("actual"),
    );
    let values = if message.contains(expected) && message.contains(actual) {
        String::new()
    } else {
        format!(" (expected {expected}, actual {actual})")
    };
    format!(
        "::error file={},line={},col={},title={}::{message}{values}",
        pos["file"].as_str().expect("file"),
        pos["line"],
        pos["column"],
        check["id"].as_str().expect("id"),
    )
}

fn annotated_run(sb: &Sandbox, name: &str, step_summary: &Path, github: bool) -> common::Run {
    let mut cmd = sb
        .cmd_in_repo()
        .args(["--sim", "--sim-fault", "session-401", "lanes/control.rhai"])
        .out(&sb.out(name))
        .env("GITHUB_STEP_SUMMARY", step_summary);
    if github {
        cmd = cmd.env("GITHUB_ACTIONS", "true");
    }
    cmd.run()
}

#[test]
fn under_github_actions_failed_required_checks_are_annotated_and_the_summary_appended() {
    let sb = Sandbox::new();
    let step_summary = sb.write("step-summary.md", "earlier step\n");
    let run = annotated_run(&sb, "gh", &step_summary, true);
    run.expect_code(1);
    let ev = sb.evidence("gh");
    let summary = ev.summary_json();
    let expected: Vec<String> = summary["verdict"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(expected_annotation)
        .collect();
    assert_eq!(expected.len(), 2);
    assert!(
        expected[0].starts_with(
            "::error file=lanes/control.rhai,line=50,col=13,title=control-staging-smoke::GET /api/auth/session answered 401"
        ),
        "{}",
        expected[0]
    );
    // The runner's command processing is paused while checks run (a token no server sees),
    // and resumed just before the annotations.
    let commands: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    let token = commands[0]
        .strip_prefix("::stop-commands::")
        .expect("paused first");
    assert_eq!(commands[1], format!("::{token}::"), "{}", run.stdout);
    assert_eq!(commands[2..], expected);
    assert_eq!(
        std::fs::read_to_string(&step_summary).expect("step summary"),
        format!("earlier step\n{}", ev.summary_md())
    );

    // Outside GitHub Actions nothing changes, even with the variable around.
    let plain = annotated_run(&sb, "plain", &step_summary, false);
    plain.expect_code(1);
    assert!(!plain.stdout.contains("::error"), "{}", plain.stdout);
    assert_eq!(
        std::fs::read_to_string(&step_summary).expect("step summary"),
        format!("earlier step\n{}", ev.summary_md()),
        "GITHUB_STEP_SUMMARY untouched"
    );
}

#[test]
fn folders_written_before_the_invocation_record_are_diffed_but_not_re_run() {
    let sb = Sandbox::new();
    let old = sb.copy_dir_from_repo("tests/fixtures/evidence-v1", "old");
    sb.cmd_in_repo()
        .args([
            "--sim",
            "lanes/control.rhai",
            "lanes/htmx.rhai",
            "--check",
            "control-staging-health",
            "--check",
            "control-staging-smoke",
            "--check",
            "control-staging-htmx-perf",
        ])
        .out(&sb.out("new"))
        .timeout(Duration::from_secs(120))
        .run()
        .expect_code(0);
    let run = sb.cmd().arg("diff").arg(&old).arg(sb.out("new")).run();
    run.expect_code(0)
        .stdout_has("control-staging-smoke  required  failed -> passed")
        .stdout_has("feed_main_fragment_hx");
    assert!(
        row(&run.stdout, "check filter")
            .contains("  not recorded -> control-staging-health control-staging-smoke")
    );
    sb.cmd()
        .arg("rerun")
        .arg(&old)
        .run()
        .expect_code(2)
        .stderr_has("re-run its failed checks by hand")
        .stderr_has("oa-validate lanes/control.rhai --check control-staging-smoke");
}

/// A check's command in results.tsv, summary.json and SUMMARY.md repeats it as it ran: against
/// the sim with its fault and in its phase (a command without `--sim` would hit the real
/// staging and production). Run as written, it reproduces the failure, and only that check.
#[test]
fn each_checks_command_reproduces_the_run_with_sim_fault_and_phase() {
    let sb = Sandbox::new();
    sb.cmd_in_repo()
        .args([
            "--sim",
            "--sim-fault",
            "readyz-503",
            "--phase",
            "app-surface",
            "lanes/control.rhai",
        ])
        .out(&sb.out("first"))
        .run()
        .expect_code(1);
    let ev = sb.evidence("first");
    let expected = "oa-validate --sim --sim-fault readyz-503 --phase app-surface \
                    --check control-staging-health lanes/control.rhai";
    let tsv = ev.read("results.tsv");
    let row = tsv
        .lines()
        .find(|l| l.starts_with("control-staging-health\t"))
        .unwrap_or_else(|| panic!("no row:\n{tsv}"));
    assert_eq!(row.split('\t').nth(5), Some(expected), "{row}");
    let json = ev.json_check("control-staging-health");
    let summary = ev.summary_json();
    let command = summary["run"]["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == "control-staging-health"))
        .map(|c| c["command"].clone());
    assert_eq!(command, Some(serde_json::json!(expected)), "{json}");
    assert!(
        ev.read("SUMMARY.md")
            .contains(&format!("- control-staging-health: {expected}\n")),
        "SUMMARY.md"
    );

    let words: Vec<&str> = expected.split_whitespace().skip(1).collect();
    let again = sb.cmd_in_repo().args(words).out(&sb.out("again")).run();
    again
        .expect_code(1)
        .stdout_has("[failed] control-staging-health (required)");
    let rows = sb.evidence("again").read("results.tsv");
    assert_eq!(rows.lines().count(), 2, "only that check:\n{rows}");
    assert!(
        sb.tripwire().connections().is_empty(),
        "a re-run command reached the real targets"
    );
}
