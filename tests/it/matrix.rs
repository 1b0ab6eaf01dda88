//! The whole matrix under `--sim`, and the faults of the public stats, Gmail inbox and
//! runtime comms surfaces: each fails exactly its checks, for the right reason.

use crate::common;

use crate::common::Sandbox;
use crate::common::faults::{FaultCase, FaultRun};

/// Every required check of every real lane in the default phase (app-surface), in report
/// order. (The spacetime-convergence matrix: tests/phases.rs.)
const REQUIRED: &[&str] = &[
    "control-staging-health",
    "control-staging-smoke",
    "control-staging-static-host",
    "control-staging-khala-sync-token",
    "control-prod-health",
    "control-prod-smoke",
    "control-prod-static-host",
    "control-prod-khala-sync-token",
    "gmail-staging-connect-flow",
    "gmail-staging-inbox-threads",
    "gmail-staging-inbox-actions",
    "runtime-staging-comms-ingest",
    "gmail-prod-connect-flow",
    "gmail-prod-inbox-threads",
    "gmail-prod-inbox-actions",
    "runtime-prod-comms-ingest",
    "control-staging-htmx-perf",
    "control-prod-htmx-perf",
    "control-staging-htmx-browser-smoke",
    "control-prod-htmx-browser-smoke",
    "control-staging-htmx-route-group-canary",
    "public-stats-staging",
    "public-stats-prod",
    "runtime-hydra-mvp2-vignette",
    "runtime-hydra-mvp3-vignette",
];

#[test]
fn the_whole_matrix_under_sim_is_go_with_its_evidence() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    let run = sb.cmd_in_repo().arg("--sim").out(&out).run();
    run.expect_code(0);
    assert_eq!(run.verdict_line(), "Verdict: GO");
    for id in REQUIRED {
        run.stdout_has(&format!("[passed] {id} (required)\n"));
    }
    run.stdout_has("[skipped] cross-surface-contract-harness (optional)");

    let ev = sb.evidence("evidence");
    let json = ev.summary_json();
    let run_check = |id: &str| {
        json["run"]["checks"]
            .as_array()
            .expect("run.checks")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no run.checks entry for {id}"))
    };

    // The reply's message id and every request id: in summary.json, the artifacts and the log.
    for target in ["staging", "prod"] {
        let id = format!("gmail-{target}-inbox-actions");
        let evidence = &run_check(&id)["evidence"];
        let message_id = evidence["message-id.txt"]
            .as_str()
            .expect("message id inline");
        assert!(message_id.starts_with("<sim-"), "{evidence:#}");
        let log = ev.read(&format!("logs/{id}.log"));
        assert!(
            log.contains(message_id),
            "the log has the message id:\n{log}"
        );
        for step in ["threads", "draft_approve", "draft_reject", "reply_send"] {
            let request_id = evidence["request-ids.json"][step]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: no {step} request id in {evidence:#}"));
            assert!(log.contains(request_id), "the log has {request_id}:\n{log}");
        }
        assert_eq!(
            ev.read(&format!("artifacts/{id}/message-id.txt")).trim(),
            message_id
        );

        // The connected account, redacted everywhere.
        let connect = format!("gmail-{target}-connect-flow");
        assert_eq!(
            run_check(&connect)["evidence"]["connected-account.txt"],
            "i***m@openagents.com"
        );
        let comms = format!("runtime-{target}-comms-ingest");
        assert!(run_check(&comms)["evidence"]["request-ids.json"]["replay"].is_string());
    }
    for file in ev.files() {
        let text = std::fs::read(ev.dir.join(&file)).expect("read evidence file");
        common::assert_no_secret(&file, &text, "inbox-sim@openagents.com");
    }

    // The tested tree of every cargo check is recorded (the Spacetime ones: tests/phases.rs).
    for id in ["runtime-hydra-mvp2-vignette", "runtime-hydra-mvp3-vignette"] {
        let commit = ev.read(&format!("artifacts/{id}/tested-commit.txt"));
        assert!(commit.starts_with("commit: "), "{commit}");
        assert!(commit.contains("apps/runtime/Cargo.toml"), "{commit}");
        assert!(run_check(id)["evidence"]["tested-commit.txt"].is_string());
    }
    let log = ev.read("logs/runtime-hydra-mvp3-vignette.log");
    assert!(
        log.contains(
            "test fx::service::tests::rfq_create_or_get_conflicts_on_idempotency_drift ... ok"
        ),
        "the cargo output is in the check's log:\n{log}"
    );
}

const STATS: &[&str] = &["public-stats-staging", "public-stats-prod"];

/// One row per fault this surface adds (`oa-validate sim --fault help`).
pub(crate) const FAULTS: &[FaultCase] = &[
    FaultCase {
        fault: "stats-runtime-unavailable",
        failing: STATS,
        // The real outage notice (the sim-only literal is gone: tests/fidelity.rs).
        reason: "Runtime unavailable.",
        status: "failed",
    },
    FaultCase {
        fault: "stats-row-missing",
        failing: STATS,
        reason: "Hydra FX treasury provider breadth",
        status: "failed",
    },
    FaultCase {
        fault: "stats-cache-wrong",
        failing: STATS,
        reason: "header cache-control",
        status: "failed",
    },
    FaultCase {
        fault: "inbox-500",
        failing: &[
            "gmail-staging-inbox-threads",
            "gmail-staging-inbox-actions",
            "gmail-prod-inbox-threads",
            "gmail-prod-inbox-actions",
        ],
        reason: "GET /api/inbox/threads?limit=10 answered 500",
        status: "failed",
    },
    FaultCase {
        fault: "reply-send-no-message-id",
        failing: &["gmail-staging-inbox-actions", "gmail-prod-inbox-actions"],
        reason: "reply/send answers a message_id",
        status: "failed",
    },
    FaultCase {
        fault: "comms-replay-not-idempotent",
        failing: &["runtime-staging-comms-ingest", "runtime-prod-comms-ingest"],
        reason: "POST /internal/v1/comms/delivery-events answered 202, expected 200",
        status: "failed",
    },
    FaultCase {
        fault: "oauth-redirect-wrong",
        failing: &["gmail-staging-connect-flow", "gmail-prod-connect-flow"],
        reason: "redirect_uri ends in /settings/integrations/google/callback",
        status: "failed",
    },
];

#[test]
fn every_stats_inbox_and_comms_fault_fails_exactly_its_checks() {
    let sb = Sandbox::new();
    let lanes = FaultRun {
        lanes: &["lanes/public_stats.rhai", "lanes/gmail_inbox.rhai"],
        args: &[],
        checks: &[
            "public-stats-staging",
            "public-stats-prod",
            "gmail-staging-connect-flow",
            "gmail-staging-inbox-threads",
            "gmail-staging-inbox-actions",
            "runtime-staging-comms-ingest",
            "gmail-prod-connect-flow",
            "gmail-prod-inbox-threads",
            "gmail-prod-inbox-actions",
            "runtime-prod-comms-ingest",
        ],
        env: &[],
        timeout: None,
    };
    for expect in FAULTS {
        lanes.expect(&sb, expect);
    }
}

/// A token the caller supplies is used by the inbox checks and never written anywhere.
#[test]
fn a_supplied_token_never_reaches_the_inbox_evidence() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    let staging = "stg-inbox-token-0123456789abcdef";
    let run = sb
        .cmd_in_repo()
        .args(["lanes/gmail_inbox.rhai", "--sim"])
        .env("STAGING_CONTROL_ACCESS_TOKEN", staging)
        .out(&out)
        .run();
    run.expect_code(0);
    let ev = sb.evidence("evidence");
    for file in ev.files() {
        let text = std::fs::read(ev.dir.join(&file)).expect("read evidence file");
        common::assert_no_secret(&file, &text, staging);
    }
}
