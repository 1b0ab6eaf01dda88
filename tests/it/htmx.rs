//! The HTMX lane end to end, in a real headless Chromium: GO against the sim with its
//! artifacts; every HTMX fault fails exactly its checks; the canary clears every domain even
//! when it fails; the production guard; the perf sampler's fidelity; browsers never leak.

use crate::common;

use crate::common::faults::{FaultCase, FaultRun};
use crate::common::{HTMX_CHECKS, Sandbox, SimProcess};
use std::path::Path;
use std::time::Duration;

const STAGING_TOKEN: &str = "stg-htmx-token-0123456789abcdef-QRST";
const PROD_TOKEN: &str = "prd-htmx-token-0123456789abcdef-UVWX";
const TOKENS: [(&str, &str); 2] = [
    ("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN),
    ("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN),
];
const BROWSER_TIMEOUT: Duration = Duration::from_secs(180);

/// The timing calibration runs alone (write lock); the browser-heavy tests share the machine
/// (read lock). Two Chromiums starting on two cores delay a 100 ms timer by more than 5 ms.
static MACHINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|e| e.into_inner())
}

fn get_json(url: &str, bearer: &str) -> serde_json::Value {
    let (status, body) = common::http_get_as(url, Some(bearer));
    assert_eq!(status, 200, "{url}");
    serde_json::from_str(&body).expect("JSON body")
}

/// Processes whose command line mentions `needle` (our sandbox path): leaked browsers.
fn processes_mentioning(needle: &Path) -> Vec<String> {
    let needle = needle.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
            cmd.contains(&needle).then(|| format!("{pid}: {cmd}"))
        })
        .collect()
}

fn assert_no_leaked_browser(sb: &Sandbox) {
    // Let the kernel reap what was just killed.
    std::thread::sleep(Duration::from_millis(300));
    let leaked = processes_mentioning(sb.path());
    assert!(
        leaked.is_empty(),
        "browser processes outlived the run: {leaked:#?}"
    );
    let profiles: Vec<_> = std::fs::read_dir(sb.path())
        .expect("sandbox")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("oa-validate-browser-")
        })
        .collect();
    assert!(
        profiles.is_empty(),
        "browser profile folders left: {profiles:?}"
    );
}

#[test]
fn htmx_lane_against_the_sim_is_go_in_real_chromium_with_artifacts() {
    let _machine = shared();
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    let mut cmd = sb
        .cmd_in_repo()
        .args(["lanes/htmx.rhai", "--sim"])
        .out(&out)
        .env("TMPDIR", sb.path())
        .timeout(BROWSER_TIMEOUT);
    for (k, v) in TOKENS {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    run.expect_code(0);
    assert_eq!(run.verdict_line(), "Verdict: GO");
    for id in HTMX_CHECKS {
        run.stdout_has(&format!("[passed] {id} (required)"));
    }
    let ev = sb.evidence("evidence");

    for target in ["staging", "prod"] {
        let perf = ev.read(&format!("artifacts/control-{target}-htmx-perf/perf.tsv"));
        let rows = common::parse_tsv(&perf);
        let probes: Vec<&str> = rows.iter().map(|r| r["probe"].as_str()).collect();
        assert_eq!(
            probes,
            [
                "login_email_hx",
                "feed_main_fragment_hx",
                "settings_profile_update_hx",
                "chat_send_hx"
            ]
        );
        for row in &rows {
            assert_eq!(row["result"], "pass", "{row:?}");
            // POST /login/email is throttled upstream (6 a minute): the probe takes 4 at most.
            let samples = if row["probe"] == "login_email_hx" {
                "4"
            } else {
                "5"
            };
            assert_eq!(row["samples"], samples, "{row:?}");
            assert_ne!(
                row["baseline_ttfb_ms"], "-",
                "the upstream baseline is reported: {row:?}"
            );
        }

        let dir = format!("artifacts/control-{target}-htmx-browser-smoke");
        let summary: serde_json::Value =
            serde_json::from_str(&ev.read(&format!("{dir}/summary.json"))).expect("summary.json");
        assert_eq!(summary["outcome"], "passed", "{summary:#}");
        let steps: Vec<&str> = summary["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            steps,
            [
                "session-bootstrap",
                "chat-create-thread-1",
                "chat-send-message",
                "chat-create-thread-2",
                "chat-history-back-forward",
                "feed-post-shout",
                "feed-zone-nav-history",
                "settings-profile-update"
            ]
        );
        for step in summary["steps"].as_array().expect("steps") {
            assert_eq!(step["status"], "passed", "{step}");
            assert!(step["durationMs"].is_u64(), "{step}");
            let png = step["screenshot"].as_str().expect("a screenshot per step");
            let bytes = std::fs::read(out.join(&dir).join(png)).expect("the PNG exists");
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{png} is a PNG");
        }
        assert!(
            summary["diagnostics"]["pageErrors"]
                .as_array()
                .expect("pageErrors")
                .is_empty()
        );

        // Every browser request, as a HAR beside the HTTP ones, linked from the report.
        let har: serde_json::Value =
            serde_json::from_str(&ev.read(&format!("{dir}/browser.har"))).expect("browser.har");
        let entries = har["log"]["entries"].as_array().expect("entries");
        let posted = entries
            .iter()
            .find(|e| {
                e["request"]["method"] == "POST"
                    && e["request"]["url"]
                        .as_str()
                        .unwrap_or("")
                        .ends_with("/chat/new")
            })
            .unwrap_or_else(|| panic!("no POST /chat/new in {har:#}"));
        assert_eq!(posted["response"]["status"], 200, "{posted:#}");
        assert!(
            posted["time"].as_f64().is_some_and(|t| t >= 0.0),
            "{posted:#}"
        );
        assert!(
            posted["request"]["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .any(|h| h["name"] == "Authorization" && h["value"] == "<redacted>"),
            "the bearer is shown masked on the target's requests: {posted:#}"
        );
        assert!(
            ev.read("report.html")
                .contains(&format!("{dir}/browser.har")),
            "report.html links {dir}/browser.har"
        );
    }

    let canary: serde_json::Value = serde_json::from_str(
        &ev.read("artifacts/control-staging-htmx-route-group-canary/summary.json"),
    )
    .expect("canary summary.json");
    assert_eq!(canary["schema"], "openagents.htmx.route_group_canary.v1");
    assert_eq!(canary["overall_status"], "pass");
    let jsonl = ev.read("artifacts/control-staging-htmx-route-group-canary/checks.jsonl");
    for domain in [
        "auth_entry",
        "account_settings_admin",
        "billing_l402",
        "chat_pilot",
    ] {
        for step in ["full_page", "rollback", "clear"] {
            assert!(
                jsonl.contains(&format!("\"check_id\":\"{domain}:{step}\"")),
                "{jsonl}"
            );
        }
    }
    for line in jsonl.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        for key in ["check_id", "status", "detail", "recorded_at"] {
            assert!(record.get(key).is_some(), "{line} lacks {key}");
        }
    }

    // No token anywhere: terminal, every file (names and contents, PNGs included).
    for token in [STAGING_TOKEN, PROD_TOKEN] {
        common::assert_no_secret("stdout", run.stdout.as_bytes(), token);
        common::assert_no_secret("stderr", run.stderr.as_bytes(), token);
        for file in ev.files() {
            common::assert_no_secret("a file name", file.as_bytes(), token);
            let bytes = std::fs::read(out.join(&file)).expect("read evidence file");
            common::assert_no_secret(&file, &bytes, token);
        }
    }
    assert_no_leaked_browser(&sb);
}

/// The spec: each HTMX fault and the checks it fails (every other HTMX check passes); the
/// reasons are not compared here (the browser smoke's failed step is, below).
pub(crate) const HTMX_FAULTS: &[FaultCase] = &[
    FaultCase {
        fault: "feed-fragment-slow",
        failing: &["control-staging-htmx-perf", "control-prod-htmx-perf"],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "login-too-large",
        failing: &["control-staging-htmx-perf", "control-prod-htmx-perf"],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "chat-send-500",
        failing: &[
            "control-staging-htmx-perf",
            "control-prod-htmx-perf",
            "control-staging-htmx-browser-smoke",
            "control-prod-htmx-browser-smoke",
        ],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "canary-override-ignored",
        failing: &["control-staging-htmx-route-group-canary"],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "rollback-matrix-missing",
        failing: &["control-staging-htmx-route-group-canary"],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "canary-token-not-admin",
        failing: &["control-staging-htmx-route-group-canary"],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "chat-history-broken",
        failing: &[
            "control-staging-htmx-browser-smoke",
            "control-prod-htmx-browser-smoke",
        ],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "settings-not-saved",
        failing: &[
            "control-staging-htmx-browser-smoke",
            "control-prod-htmx-browser-smoke",
        ],
        status: "failed",
        reason: "",
    },
    FaultCase {
        fault: "htmx-missing",
        failing: &[
            "control-staging-htmx-browser-smoke",
            "control-prod-htmx-browser-smoke",
        ],
        status: "failed",
        reason: "",
    },
];

#[test]
fn every_htmx_fault_fails_exactly_its_checks() {
    let _machine = shared();
    let sb = Sandbox::new();
    let tmp = sb.path().display().to_string();
    let lanes = FaultRun {
        lanes: &["lanes/htmx.rhai"],
        args: &[],
        checks: &HTMX_CHECKS,
        env: &[("OA_PERF_SAMPLES", "2"), ("TMPDIR", &tmp)],
        timeout: Some(BROWSER_TIMEOUT),
    };
    for case in HTMX_FAULTS {
        let (fault, failing) = (case.fault, case.failing);
        let (run, _) = lanes.expect(&sb, case);
        for id in failing {
            // A failed assertion, not an error: the fault broke what the check asserts.
            run.stdout_has(&format!("[failed] {id} (required)"));
        }
        if failing.iter().any(|id| id.contains("browser-smoke")) {
            let summary: serde_json::Value = serde_json::from_str(
                &sb.evidence(fault)
                    .read("artifacts/control-staging-htmx-browser-smoke/summary.json"),
            )
            .expect("summary.json is written even when a step fails");
            assert_eq!(summary["outcome"], "failed", "fault {fault}");
            let failed = summary["steps"]
                .as_array()
                .expect("steps")
                .iter()
                .find(|s| s["status"] == "failed")
                .unwrap_or_else(|| panic!("fault {fault}: no failed step in {summary:#}"));
            assert!(
                failed["screenshot"]
                    .as_str()
                    .is_some_and(|f| f.ends_with("-failed.png"))
            );
        }
    }
    assert_no_leaked_browser(&sb);
}

/// Upstream's override is admin-only (`admin_email_gate`): a valid token whose user
/// OA_ADMIN_EMAILS does not list gets 403, and the canary says so, once.
#[test]
fn a_non_admin_token_fails_the_canary_naming_the_admin_list() {
    let _machine = shared();
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    let mut cmd = sb
        .cmd_in_repo()
        .args([
            "lanes/htmx.rhai",
            "--sim",
            "--sim-fault",
            "canary-token-not-admin",
            "--check",
            "control-staging-htmx-route-group-canary",
        ])
        .out(&out);
    for (k, v) in TOKENS {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    run.expect_code(1);
    run.stdout_has("[failed] control-staging-htmx-route-group-canary (required)");
    let message = "403: the canary's token is not an admin's (the service's OA_ADMIN_EMAILS must list its user; STAGING_CONTROL_ACCESS_TOKEN)";
    run.stdout_has(message);
    let jsonl = sb
        .evidence("evidence")
        .read("artifacts/control-staging-htmx-route-group-canary/checks.jsonl");
    assert_eq!(
        jsonl.matches("403: the canary").count(),
        2,
        "one refused apply, one refused clear, then the canary stops asking:\n{jsonl}"
    );
}

#[test]
fn canary_override_ignored_still_clears_every_domain() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &["--fault", "canary-override-ignored"], &TOKENS);
    let out = sb.out("evidence");
    let run = sb
        .cmd_in_repo()
        .args([
            "lanes/htmx.rhai",
            "--check",
            "control-staging-htmx-route-group-canary",
        ])
        .out(&out)
        .sim_targets(&sim)
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .run();
    run.expect_code(1);
    run.stdout_has("[failed] control-staging-htmx-route-group-canary (required)");
    let ev = sb.evidence("evidence");
    let jsonl = ev.read("artifacts/control-staging-htmx-route-group-canary/checks.jsonl");
    for domain in [
        "auth_entry",
        "account_settings_admin",
        "billing_l402",
        "chat_pilot",
    ] {
        assert!(
            jsonl.contains(&format!("\"check_id\":\"{domain}:apply\"")),
            "{domain}'s failed step is recorded:\n{jsonl}"
        );
        assert!(
            jsonl.contains(&format!(
                "{{\"check_id\":\"{domain}:clear\",\"detail\":\"cleared\""
            )),
            "{domain} was cleared after its failure:\n{jsonl}"
        );
    }
    // The sim's own state: no override left on any domain.
    let status = get_json(
        &format!("{}/api/v1/control/route-split/status", sim.staging_url),
        STAGING_TOKEN,
    );
    let overrides = &status["data"]["htmx_domain_overrides"];
    assert_eq!(overrides, &serde_json::json!({}), "{status:#}");
}

#[test]
fn mutating_checks_skip_production_without_the_flag_and_name_it_when_they_run() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    let base = |cmd: common::Cmd| {
        let mut cmd = cmd
            .arg("lanes/htmx.rhai")
            .sim_targets(&sim)
            .env("OA_PERF_SAMPLES", "2")
            .env("TMPDIR", sb.path())
            .timeout(BROWSER_TIMEOUT);
        for (k, v) in TOKENS {
            cmd = cmd.env(k, v);
        }
        cmd
    };

    // Without --allow-prod-mutations: the prod checks are skipped naming the flag; NO-GO.
    let run = base(sb.cmd_in_repo()).out(&sb.out("guarded")).run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");
    let ev = sb.evidence("guarded");
    for id in HTMX_CHECKS {
        let row = ev.row(id);
        if id.contains("-prod-") {
            assert_eq!(row["status"], "skipped", "{row:?}");
            assert!(row["command"].contains("--allow-prod-mutations"), "{row:?}");
        } else {
            assert_eq!(row["status"], "passed", "{row:?}");
        }
    }
    assert!(!ev.summary_md().contains("## Production Mutations"));

    // With it: they run, and the terminal and SUMMARY.md say which ones changed production.
    let run = base(sb.cmd_in_repo())
        .arg("--allow-prod-mutations")
        .out(&sb.out("allowed"))
        .run();
    run.expect_code(0);
    run.stdout_has(
        "mutated production (--allow-prod-mutations): control-prod-htmx-perf, control-prod-htmx-browser-smoke",
    );
    let md = sb.evidence("allowed").summary_md();
    assert!(
        md.contains("## Production Mutations\n\nThese checks changed state in production (--allow-prod-mutations):\n\n- control-prod-htmx-perf\n- control-prod-htmx-browser-smoke\n"),
        "{md}"
    );
    assert_no_leaked_browser(&sb);
}

#[test]
fn gate_with_an_htmx_toggle_off_exits_2_before_any_request() {
    let _machine = shared();
    for toggle in [
        "RUN_HTMX_PERF_CHECKS",
        "RUN_HTMX_BROWSER_SMOKE",
        "RUN_HTMX_ROUTE_GROUP_CANARY",
    ] {
        let sb = Sandbox::new();
        let out = sb.out("evidence");
        let run = sb
            .cmd_in_repo()
            .args(["--gate", "--phase", "app-surface", "--allow-prod-mutations"])
            .out(&out)
            .env(toggle, "0")
            .run();
        run.expect_code(2);
        run.stderr_has(&format!("would be skipped by {toggle}=0"));
        assert!(
            sb.tripwire().connections().is_empty(),
            "{toggle}: a request was made"
        );
        assert!(!out.exists(), "{toggle}: evidence was written");
    }
    // And a gate run must opt in to production mutations deliberately.
    let sb = Sandbox::new();
    let run = sb
        .cmd_in_repo()
        .args(["--gate", "--phase", "app-surface"])
        .out(&sb.out("evidence"))
        .run();
    run.expect_code(2);
    run.stderr_has(
        "required check control-prod-htmx-perf mutates production: pass --allow-prod-mutations",
    );
    assert!(sb.tripwire().connections().is_empty());
}

/// Median of `values` (sorted copy).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn perf_sampler_measures_a_fixed_100ms_delay_at_100ms_and_agrees_with_curl() {
    const SAMPLES: usize = 21;
    let _machine = MACHINE.write().unwrap_or_else(|e| e.into_inner());
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    sb.write(
        "calibrate.rhai",
        r#"
for t in targets() {
    if t.name != "staging" { continue; }
    required("perf-calibration", #{ target: t, timeout: "60s" }, || {
        let m = perf::measure(#{ name: "delay_100ms", url: `${t.control_url}/sim/delay/100`, samples: 21 });
        assert_eq(m.samples, 21, "samples taken");
        assert(m.errors.is_empty(), "no failed request");
        evidence("measured.json", m);
    });
}
"#,
    );
    let out = sb.out("evidence");
    sb.cmd()
        .arg("calibrate.rhai")
        .out(&out)
        .sim_targets(&sim)
        .run()
        .expect_code(0);
    let measured: serde_json::Value = serde_json::from_str(
        &sb.evidence("evidence")
            .read("artifacts/perf-calibration/measured.json"),
    )
    .expect("measured.json");
    let p50 = measured["ttfb_ms"]["p50"].as_f64().expect("p50");
    assert!(
        (p50 - 100.0).abs() <= 5.0,
        "p50 TTFB of a 100 ms delay measured as {p50} ms"
    );

    // The same endpoint through curl: the sampler's own overhead is the difference.
    let curl = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "%{time_starttransfer}\n"])
        .args((0..SAMPLES).flat_map(|_| {
            [
                "-o".to_string(),
                "/dev/null".to_string(),
                format!("{}/sim/delay/100", sim.staging_url),
            ]
        }))
        .output();
    match curl {
        Ok(output) if output.status.success() => {
            let samples: Vec<f64> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|l| l.trim().parse::<f64>().ok())
                .map(|s| s * 1000.0)
                .collect();
            assert_eq!(
                samples.len(),
                SAMPLES,
                "curl printed one timing per request"
            );
            let curl_p50 = median(&samples);
            let difference = p50 - curl_p50;
            eprintln!(
                "perf fidelity: oa-validate p50 TTFB {p50:.2} ms, curl time_starttransfer p50 {curl_p50:.2} ms, difference {difference:+.2} ms"
            );
            assert!(
                difference.abs() <= 5.0,
                "oa-validate {p50} ms vs curl {curl_p50} ms"
            );
        }
        _ => eprintln!("curl not available: the curl comparison was not made"),
    }
}

#[test]
fn perf_connection_errors_are_failed_rows_and_the_table_is_still_written() {
    let _machine = shared();
    let sb = Sandbox::new();
    let dead = common::refused_url();
    sb.write(
        "dead.rhai",
        &format!(
            r#"
required("perf-dead", || {{
    perf::check([
        #{{ name: "refused", url: "{dead}/x", max_ttfb_ms: 100, timeout: "2s" }},
    ], #{{ samples: 2 }});
}});
"#
        ),
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("dead.rhai").out(&out).run();
    run.expect_code(1);
    run.stdout_has("[failed] perf-dead (required)");
    let rows = common::parse_tsv(&sb.evidence("evidence").read("artifacts/perf-dead/perf.tsv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["result"], "fail");
    assert_eq!(rows[0]["status"], "-");
    assert!(
        rows[0]["detail"].contains("2 of 2 requests failed"),
        "{:?}",
        rows[0]
    );
    assert!(rows[0]["detail"].contains("connection"), "{:?}", rows[0]);
}

#[test]
fn without_chromium_browser_checks_are_skipped_saying_so() {
    let _machine = shared();
    let sb = Sandbox::new();
    sb.write(
        "b.rhai",
        r#"required("needs-browser", || { let page = browser::open(); assert(false, "unreachable"); });"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("b.rhai")
        .out(&out)
        .env("OA_CHROMIUM", "/nonexistent/chromium")
        .run();
    run.expect_code(1);
    let row = sb.evidence("evidence").row("needs-browser");
    assert_eq!(row["status"], "skipped");
    assert_eq!(row["command"], "chromium not installed");
}

#[test]
fn a_browser_check_that_times_out_leaves_no_browser_behind() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    sb.write(
        "slow.rhai",
        r#"
for t in targets() {
    if t.name != "staging" { continue; }
    required("browser-timeout", #{ target: t, timeout: "10s" }, || {
        let page = browser::open(#{ base_url: t.control_url });
        page.navigate("/login");
        sleep("60s");
    });
}
"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("slow.rhai")
        .out(&out)
        .sim_targets(&sim)
        .env("TMPDIR", sb.path())
        .run();
    run.expect_code(1);
    let row = sb.evidence("evidence").row("browser-timeout");
    assert_eq!(row["status"], "failed", "{row:?}");
    // 10 s, not less: under the whole suite (load ~20 on 2 cores) starting Chromium and
    // loading /login took over 4 s, and the navigation then ran out of time instead of the sleep.
    assert!(run.stdout.contains("timed out after 10s"), "{}", run.stdout);
    assert_no_leaked_browser(&sb);
}

#[test]
fn without_a_token_the_browser_smoke_signs_in_through_the_login_flow() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    let out = sb.out("evidence");
    let run = sb
        .cmd_in_repo()
        .args([
            "lanes/htmx.rhai",
            "--check",
            "control-staging-htmx-browser-smoke",
        ])
        .out(&out)
        .sim_targets(&sim)
        .env("OA_SMOKE_LOGIN_CODE", "000000")
        .env("TMPDIR", sb.path())
        .timeout(BROWSER_TIMEOUT)
        .run();
    run.expect_code(0);
    let summary: serde_json::Value = serde_json::from_str(
        &sb.evidence("evidence")
            .read("artifacts/control-staging-htmx-browser-smoke/summary.json"),
    )
    .expect("summary.json");
    let steps: Vec<&str> = summary["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default())
        .collect();
    // Upstream's sign-in steps, then the smoke's own with the bootstrapped bearer.
    assert_eq!(
        steps[..6],
        [
            "login-load-page",
            "login-send-code",
            "login-seed-challenge-id",
            "login-verify-code",
            "token-bootstrap",
            "session-bootstrap"
        ]
    );
    assert_eq!(summary["outcome"], "passed", "{summary:#}");
    // The tokens the sign-in issued (the sim's start `oa_at_`/`oa_rt_`) are in no file.
    let ev = sb.evidence("evidence");
    for file in ev.files() {
        let text =
            String::from_utf8_lossy(&std::fs::read(out.join(&file)).expect("read")).into_owned();
        assert!(
            !text.contains("oa_at_") && !text.contains("oa_rt_"),
            "{file} holds an issued token"
        );
    }
    assert_no_leaked_browser(&sb);
}

/// The browser's bearer goes to the target's origin and to no other: not to another loopback
/// port (the offsite recorder), whether the page navigates there, is redirected there by the
/// target, or fetches from there; the target itself accepts it (its chat page renders).
#[test]
fn the_browser_bearer_reaches_the_target_and_never_another_origin() {
    let _machine = shared();
    let sb = Sandbox::new();
    // redirect-offsite: the target's /api/auth/session bounces to the recorder.
    let sim = SimProcess::start(&sb, &["--fault", "redirect-offsite"], &TOKENS);
    sb.write(
        "scope.rhai",
        r##"
for t in targets() {
    if t.name != "staging" { continue; }
    required("bearer-scope", #{ target: t, timeout: "90s" }, || {
        let off = env("OFFSITE_URL", "");
        let page = browser::open(#{ base_url: t.control_url, bearer: t.token });
        page.navigate("/");
        page.wait_for("#chat-surface");
        assert(!page.path().starts_with("/login"), "the target accepted the bearer");
        page.navigate("/api/auth/session");
        page.wait_until(`location.origin === '${off}'`);
        page.navigate(`${off}/nav`);
        let status = page.evaluate(`fetch('${off}/fetch', {headers: {'x-probe': '1'}}).then(r => r.status)`);
        assert_eq(status, 200, "the recorder answered the page's fetch");
        page.close();
    });
}
"##,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("scope.rhai")
        .out(&out)
        .sim_targets(&sim)
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .env("OFFSITE_URL", &sim.offsite_url)
        .env("TMPDIR", sb.path())
        .timeout(BROWSER_TIMEOUT)
        .run();
    run.expect_code(0);

    let (status, body) = common::http_get(&format!("{}/__recorded", sim.offsite_url));
    assert_eq!(status, 200, "{body}");
    let recorded: serde_json::Value = serde_json::from_str(&body).expect("__recorded is JSON");
    let recorded = recorded.as_array().expect("__recorded is an array");
    let paths: Vec<&str> = recorded.iter().filter_map(|r| r["path"].as_str()).collect();
    for path in ["/capture/session", "/nav", "/fetch"] {
        assert!(paths.contains(&path), "{path} was not requested: {paths:?}");
    }
    for request in recorded {
        let headers = request["headers"].as_object().expect("headers object");
        assert!(
            !headers
                .keys()
                .any(|h| h.eq_ignore_ascii_case("authorization")),
            "the bearer crossed to another origin: {request:#}"
        );
        common::assert_no_secret(
            "a request recorded offsite",
            request.to_string().as_bytes(),
            STAGING_TOKEN,
        );
    }
    assert_no_leaked_browser(&sb);
}

/// POSTs a form to `url` `times` times; the statuses.
fn post_form(url: &str, times: usize) -> Vec<u16> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        let mut statuses = Vec::new();
        for _ in 0..times {
            let response = client
                .post(url)
                .form(&[("email", "throttle@openagents.com")])
                .send()
                .await
                .expect("POST succeeds");
            statuses.push(response.status().as_u16());
        }
        statuses
    })
}

/// Upstream's throttle, in the sim per instance: POST /login/email 6 a minute per client,
/// then 429 with the delay in the message; a perf probe that meets it, without the time to
/// wait it out, fails naming the 429; the other instance is not throttled.
#[test]
fn the_login_throttle_answers_429_and_a_probe_names_it() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    let statuses = post_form(&format!("{}/login/email", sim.staging_url), 7);
    assert_eq!(statuses, [307, 307, 307, 307, 307, 307, 429]);
    assert_eq!(
        post_form(&format!("{}/login/email", sim.prod_url), 1),
        [307],
        "prod's instance has its own buckets"
    );
    sb.write(
        "throttled.rhai",
        r#"
for t in targets() {
    if t.name != "staging" { continue; }
    required("throttled", #{ target: t, timeout: "20s" }, || {
        let r = http::post(`${t.control_url}/login/email`, #{ form: #{ email: "a@openagents.com" } });
        assert_eq(r.status, 429, "still throttled");
        assert(r.retry_after > 0 && r.retry_after <= 60, `the delay is read from the message (${r.retry_after})`);
        assert_eq(r.header("retry-after"), (), "upstream sends no Retry-After");
        perf::check([#{ name: "login_email_hx", method: "POST", url: `${t.control_url}/login/email`,
            form: #{ email: "a@openagents.com" }, headers: #{ "hx-request": "true" } }]);
    });
}
"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("throttled.rhai")
        .out(&out)
        .sim_targets(&sim)
        .run();
    run.expect_code(1);
    run.stdout_has("[failed] throttled (required)");
    let rows = common::parse_tsv(&sb.evidence("evidence").read("artifacts/throttled/perf.tsv"));
    assert_eq!(rows[0]["status"], "429", "{:?}", rows[0]);
    assert_eq!(
        rows[0]["samples"], "1",
        "no request after the refusal: {:?}",
        rows[0]
    );
    assert!(
        rows[0]["detail"].contains("429 Too Many Requests")
            && rows[0]["detail"].contains("Too many requests. Retry in"),
        "{:?}",
        rows[0]
    );
}

/// Upstream's sign-in cookies are `Secure`: a browser keeps none from a plain-http deployment
/// reached by name (here the sim as `http://sim.test:PORT`; Chromium exempts loopback
/// addresses such as 127.0.0.1), so a sign-in that relies on the challenge cookie is told the
/// code expired, and one that sends the challenge id itself, as the lane does, signs in.
#[test]
fn over_plain_http_by_name_the_browser_keeps_no_secure_challenge_cookie() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    let port = sim
        .staging_url
        .rsplit(':')
        .next()
        .expect("a port")
        .to_string();
    sb.write(
        "cookie.rhai",
        r##"
for t in targets() {
    if t.name != "staging" { continue; }
    required("secure-cookie", #{ target: t, timeout: "60s" }, || {
        let base = `http://sim.test:${env("SIM_PORT", "")}`;
        let page = browser::open(#{ base_url: base, hosts: #{ "sim.test": "127.0.0.1" } });
        page.navigate("/login");
        page.wait_until("window.htmx !== undefined");
        page.fill("form[action='/login/email'] input[name='email']", "cookie@openagents.com");
        page.submit("form[action='/login/email']");
        page.wait_until("(document.querySelector('#login-status')?.textContent || '').includes('code was sent')");
        // A success is a redirect (opaque to a manual fetch: status 0); a refusal a 422.
        let verify = |fields| `fetch('/login/verify', {method: 'POST', redirect: 'manual', credentials: 'same-origin', body: new URLSearchParams(${fields})}).then(r => r.status)`;
        assert_eq(page.evaluate(verify.call("{code: '000000'}")), 422, "the Secure challenge cookie was not kept");
        let r = http::post(`${t.control_url}/api/auth/email`, #{ json: #{ email: "cookie@openagents.com" } });
        let id = json_get(r, "/challengeId", ());
        assert_eq(page.evaluate(verify.call(`{code: '000000', challenge_id: '${id}'}`)), 0, "the challenge id signs in");
        page.close();
    });
}
"##,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("cookie.rhai")
        .out(&out)
        .sim_targets(&sim)
        .env("SIM_PORT", &port)
        .env("TMPDIR", sb.path())
        .timeout(BROWSER_TIMEOUT)
        .run();
    run.expect_code(0);
    assert_no_leaked_browser(&sb);
}

#[test]
fn checks_using_a_browser_at_once_share_one_chromium_in_isolated_contexts() {
    let _machine = shared();
    let sb = Sandbox::new();
    let sim = SimProcess::start(&sb, &[], &TOKENS);
    // "writer" sets a cookie and keeps its page open while "reader" (same origin, same time)
    // looks for it: a browser context of its own sees none.
    sb.write(
        "two_pages.rhai",
        r#"
for t in targets() {
    if t.name != "staging" { continue; }
    required("writer", #{ target: t }, || {
        let page = browser::open(#{ base_url: t.control_url });
        page.navigate("/login");
        page.evaluate("document.cookie = 'shared-context=leaked; path=/'");
        assert(page.evaluate("document.cookie").contains("shared-context=leaked"), "the writer sees its cookie");
        sleep("4s");
        page.close();
    });
    required("reader", #{ target: t }, || {
        let page = browser::open(#{ base_url: t.control_url });
        sleep("2s");
        page.navigate("/login");
        assert(!page.evaluate("document.cookie").contains("shared-context"), "no cookie from the other check's context");
        page.close();
    });
}
"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .args(["two_pages.rhai", "--jobs", "2"])
        .out(&out)
        .sim_targets(&sim)
        .env("TMPDIR", sb.path())
        .timeout(BROWSER_TIMEOUT)
        .run();
    run.expect_code(0);
    let ev = sb.evidence("evidence");
    let logs = [ev.read("logs/writer.log"), ev.read("logs/reader.log")];
    let launched = logs
        .iter()
        .filter(|l| l.contains("(or share the running one)"))
        .count();
    let shared_it = logs
        .iter()
        .filter(|l| l.contains("browser: shares the Chromium another check launched"))
        .count();
    assert_eq!((launched, shared_it), (2, 1), "{logs:#?}");
    assert_no_leaked_browser(&sb);
}
