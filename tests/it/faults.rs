//! Every sim fault against the real lanes: the checks it targets fail (for the right reason),
//! the others pass; and the redirect-offsite credential proof, out of process.

use crate::common;

use crate::common::faults::{FaultCase, FaultRun};
use crate::common::{CONTROL_CHECKS, Sandbox, SimProcess};

const SMOKE: &[&str] = &["control-staging-smoke", "control-prod-smoke"];
/// The checks `readyz-503` fails (tests/it/diff_rerun.rs diffs a run under it).
pub(crate) const HEALTH_AND_SMOKE: &[&str] = &[
    "control-staging-health",
    "control-staging-smoke",
    "control-prod-health",
    "control-prod-smoke",
];
const STATIC_HOST: &[&str] = &["control-staging-static-host", "control-prod-static-host"];

/// The spec: one row per control fault of `oa-validate sim --fault help` that acts in the
/// default phase (app-surface); the faults of the static host's relative entry, the Khala
/// route and the retired routes of the later phase are in tests/fidelity.rs.
pub(crate) const FAULTS: &[FaultCase] = &[
    FaultCase {
        fault: "readyz-503",
        failing: HEALTH_AND_SMOKE,
        reason: "GET /readyz answered 503",
        status: "failed",
    },
    FaultCase {
        fault: "control-status-500",
        failing: SMOKE,
        reason: "GET /api/v1/control/status answered 500",
        status: "failed",
    },
    FaultCase {
        fault: "manifest-version-wrong",
        failing: STATIC_HOST,
        // The value seen is in the message.
        reason: "\"openagents.webshell.v2\" (seen: \"openagents.webshell.v1\")",
        status: "failed",
    },
    FaultCase {
        fault: "manifest-cache-wrong",
        failing: STATIC_HOST,
        reason: "GET /manifest.json: header cache-control",
        status: "failed",
    },
    FaultCase {
        fault: "sw-cache-wrong",
        failing: STATIC_HOST,
        reason: "GET /sw.js: header cache-control",
        status: "failed",
    },
    FaultCase {
        fault: "asset-not-immutable",
        failing: STATIC_HOST,
        reason: "immutable",
        status: "failed",
    },
    FaultCase {
        fault: "session-401",
        failing: SMOKE,
        reason: "GET /api/auth/session answered 401",
        status: "failed",
    },
    FaultCase {
        fault: "sync-token-500",
        // One handler serves both token routes in this era.
        failing: &[
            "control-staging-smoke",
            "control-staging-khala-sync-token",
            "control-prod-smoke",
            "control-prod-khala-sync-token",
        ],
        reason: "sync/token answered 500",
        status: "failed",
    },
    FaultCase {
        fault: "redirect-offsite",
        failing: SMOKE,
        reason: "/api/auth/session",
        status: "failed",
    },
    FaultCase {
        fault: "healthz-404",
        failing: &[],
        reason: "",
        status: "failed",
    },
];

#[test]
fn every_fault_fails_exactly_its_checks() {
    let sb = Sandbox::new();
    // These faults target the control lane; the HTMX lane's faults are in tests/it/htmx.rs.
    let control = FaultRun {
        lanes: &["lanes/control.rhai"],
        args: &[],
        checks: &CONTROL_CHECKS,
        env: &[],
        timeout: None,
    };
    for expect in FAULTS {
        let name = expect.fault;
        let (run, ev) = control.expect(&sb, expect);
        for id in expect.failing {
            run.stdout_has(&format!("[failed] {id} (required)"));
        }
        if name == "healthz-404" {
            let warning = "/healthz answered 404";
            run.stdout_has(&format!("warning: {warning}"));
            let md = ev.summary_md();
            let warnings = md
                .split("\n## Warnings\n")
                .nth(1)
                .unwrap_or_else(|| panic!("SUMMARY.md has no Warnings section:\n{md}"));
            for id in HEALTH_AND_SMOKE {
                assert!(
                    warnings.contains(&format!("- {id}: {warning}")),
                    "SUMMARY.md warns about /healthz for {id}:\n{md}"
                );
            }
        }
    }
}

/// The sim follows a redirect to another origin; oa-validate must follow it (the check proves
/// it landed somewhere that is not a session) without taking the credentials along.
#[test]
fn redirect_offsite_never_carries_credentials_to_the_other_origin() {
    let sb = Sandbox::new();
    let staging_token = "stg-redirect-proof-0123456789abcdef-ABCD";
    let prod_token = "prd-redirect-proof-0123456789abcdef-WXYZ";
    let tokens = [
        ("STAGING_CONTROL_ACCESS_TOKEN", staging_token),
        ("PROD_CONTROL_ACCESS_TOKEN", prod_token),
    ];
    let sim = SimProcess::start(&sb, &["--fault", "redirect-offsite"], &tokens);
    // Tokens the caller supplied are not echoed by the sim.
    for (_, token) in tokens {
        common::assert_no_secret("`oa-validate sim` stdout", sim.stdout.as_bytes(), token);
    }

    let out = sb.out("evidence");
    let mut cmd = sb
        .cmd_in_repo()
        .arg("lanes/control.rhai")
        .out(&out)
        .sim_targets(&sim);
    for (k, v) in tokens {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");

    let (status, body) = common::http_get(&format!("{}/__recorded", sim.offsite_url));
    assert_eq!(status, 200, "{body}");
    let recorded: serde_json::Value = serde_json::from_str(&body).expect("__recorded is JSON");
    let recorded = recorded.as_array().expect("__recorded is an array");
    assert!(
        !recorded.is_empty(),
        "the offsite recorder saw nothing: the redirect was not followed"
    );
    for request in recorded {
        let headers = request["headers"].as_object().expect("headers object");
        assert!(
            !headers.keys().any(
                |h| h.eq_ignore_ascii_case("authorization") || h.eq_ignore_ascii_case("cookie")
            ),
            "credentials crossed to the other origin: {request:#}"
        );
        let text = request.to_string();
        for (_, token) in tokens {
            common::assert_no_secret("a request recorded offsite", text.as_bytes(), token);
        }
    }
}

/// A lane that declares one check per target must test that target: the staging checks talk
/// to the staging origin only, the prod checks to the prod origin only.
#[test]
fn each_control_check_talks_only_to_its_own_target() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    sb.cmd_in_repo().arg("--sim").out(&out).run().expect_code(0);
    let ev = sb.evidence("evidence");
    let md = ev.summary_md();
    let base = |var: &str| {
        md.lines()
            .find_map(|l| l.strip_prefix(&format!("- {var}=")))
            .unwrap_or_else(|| panic!("SUMMARY.md lacks {var}:\n{md}"))
            .to_string()
    };
    let staging = base("STAGING_CONTROL_BASE_URL");
    let prod = base("PROD_CONTROL_BASE_URL");
    assert_ne!(staging, prod);
    for id in CONTROL_CHECKS {
        let origin = if id.contains("-staging-") {
            &staging
        } else {
            &prod
        };
        let har: serde_json::Value =
            serde_json::from_str(&ev.read(&format!("http/{id}.har"))).expect("HAR parses");
        for entry in har["log"]["entries"].as_array().expect("entries") {
            let url = entry["request"]["url"].as_str().unwrap_or_default();
            assert!(
                url.starts_with(&format!("{origin}/")),
                "{id} sent a request to {url}, not to its target {origin}"
            );
        }
    }
}

/// The user-visible face of the same bug: staging is down, prod is healthy. The verdict must
/// be NO-GO with the staging checks failed; a GO here would clear a release against a dead
/// staging.
#[test]
fn staging_down_prod_up_is_no_go() {
    let sb = Sandbox::new();
    let prod_token = "prd-only-0123456789abcdef0123456789abcdef";
    let sim = SimProcess::start(&sb, &[], &[("PROD_CONTROL_ACCESS_TOKEN", prod_token)]);
    let out = sb.out("evidence");
    let run = sb
        .cmd_in_repo()
        .arg("lanes/control.rhai")
        .out(&out)
        .env("STAGING_CONTROL_BASE_URL", common::refused_url())
        .env("PROD_CONTROL_BASE_URL", &sim.prod_url)
        .env("PROD_CONTROL_ACCESS_TOKEN", prod_token)
        .run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");
    let ev = sb.evidence("evidence");
    assert_eq!(
        ev.statuses(),
        [
            ("control-staging-health", "failed"),
            ("control-staging-smoke", "failed"),
            ("control-staging-static-host", "failed"),
            // Needs STAGING_CONTROL_ACCESS_TOKEN, which this run lacks.
            ("control-staging-khala-sync-token", "skipped"),
            ("control-prod-health", "passed"),
            ("control-prod-smoke", "passed"),
            ("control-prod-static-host", "passed"),
            ("control-prod-khala-sync-token", "passed"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

/// `sim --fault help` is truthful (healthz-404 breaks no check: the checks only warn, as the
/// fault run above shows) and aligned (one column of descriptions after the longest name).
#[test]
fn the_fault_help_is_truthful_and_aligned() {
    let sb = Sandbox::new();
    let run = sb.cmd().args(["sim", "--fault", "help"]).run();
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let healthz = lines
        .iter()
        .find(|l| l.starts_with("healthz-404 "))
        .expect("healthz-404 listed");
    assert!(
        healthz.contains("breaks no check") && healthz.contains("only warn"),
        "{healthz}"
    );
    let manifest = lines
        .iter()
        .find(|l| l.starts_with("manifest-cache-wrong "))
        .expect("manifest-cache-wrong listed");
    assert!(manifest.contains("control-*-static-host"), "{manifest}");
    let column = |line: &str| {
        let name_end = line.find(' ').expect("a name then a description");
        name_end + line[name_end..].len() - line[name_end..].trim_start().len()
    };
    let first = column(lines[0]);
    for line in &lines {
        assert_eq!(column(line), first, "misaligned: {line:?}");
    }

    // Exactly the faults the specs run: a fault without a spec is a fault nobody showed to
    // break anything, a spec without a fault tests nothing.
    let listed: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    let specified: std::collections::BTreeSet<&str> = FAULTS
        .iter()
        .chain(crate::matrix::FAULTS)
        .chain(crate::runtime_lanes::FAULTS)
        .chain(crate::htmx::HTMX_FAULTS)
        .map(|case| case.fault)
        .chain(crate::fidelity::CASES.iter().map(|case| case.fault))
        .collect();
    assert_eq!(
        listed, specified,
        "`sim --fault help` against the fault specs"
    );
}
