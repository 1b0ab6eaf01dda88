//! Fidelity to the real services (issue 11): the sim's routes are all traced in
//! docs/sim-fidelity.md; each corrected check fails under its fault and passes on the healthy
//! sim; and a regression test per bug the real services exposed, named after it.

use crate::common;
use crate::common::Sandbox;
use crate::common::faults::FaultRun;
use oa_sim::{Fault, Sim, SimConfig, SimEra, route_inventory};
use serde_json::{Value, json};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// docs/sim-fidelity.md covers every sim route

/// The doc's `## surface` sections, each with its text.
fn doc_sections() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/sim-fidelity.md"))
        .expect("read docs/sim-fidelity.md");
    let mut sections = BTreeMap::new();
    for part in doc.split("\n## ").skip(1) {
        let (title, body) = part.split_once('\n').unwrap_or((part, ""));
        sections.insert(title.trim().to_string(), body.to_string());
    }
    sections
}

#[test]
fn every_sim_route_is_traced_in_docs_sim_fidelity() {
    let sections = doc_sections();
    let mut missing = Vec::new();
    let mut served = Vec::new();
    for era in SimEra::all() {
        for route in route_inventory(era) {
            let entry = format!("`{} {}`", route.method, route.path);
            let section = sections
                .get(route.surface)
                .map(String::as_str)
                .unwrap_or("");
            if !section.contains(&format!("| {entry} |")) {
                missing.push(format!("{} {entry} ({:?})", route.surface, era));
            }
            served.push((route.surface.to_string(), entry));
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "routes the sim serves that docs/sim-fidelity.md does not trace:\n{}",
        missing.join("\n")
    );
    // And no row names a route the sim does not serve (a stale document).
    for (surface, body) in &sections {
        for line in body.lines().filter(|l| l.starts_with("| `")) {
            let entry = line[2..].split(" |").next().unwrap_or_default().to_string();
            assert!(
                served.iter().any(|(s, e)| s == surface && *e == entry),
                "docs/sim-fidelity.md ({surface}) traces {entry}, which the sim does not serve"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Each new fault fails exactly its checks, in the phase whose era it breaks

pub(crate) struct EraFault {
    pub(crate) fault: &'static str,
    phase: &'static str,
    lane: &'static str,
    /// Every check the lane declares in that phase (report order).
    checks: &'static [&'static str],
    failing: &'static [&'static str],
    /// A piece of each failing check's reason.
    reason: &'static str,
}

/// The control lane in app-surface, the default phase.
const CONTROL_APP_SURFACE: &[&str] = &common::CONTROL_CHECKS;
const CONTROL_CONVERGED: &[&str] = &[
    "control-staging-health",
    "control-staging-smoke",
    "control-staging-retired-routes",
    "control-prod-health",
    "control-prod-smoke",
    "control-prod-retired-routes",
];
const STATS: &[&str] = &["public-stats-staging", "public-stats-prod"];
const RUNTIME: &[&str] = &[
    "runtime-staging-smoke",
    "runtime-staging-cep-contract",
    "runtime-staging-hydra-mvp2-contract",
    "runtime-staging-hydra-mvp3-fx-contract",
    "runtime-prod-smoke",
    "runtime-prod-cep-contract",
    "runtime-prod-hydra-mvp2-contract",
    "runtime-prod-hydra-mvp3-fx-contract",
    "runtime-migration-drift",
];
const STATIC_HOST: &[&str] = &["control-staging-static-host", "control-prod-static-host"];

pub(crate) const CASES: &[EraFault] = &[
    EraFault {
        fault: "manifest-entry-missing",
        phase: "app-surface",
        lane: "lanes/control.rhai",
        checks: CONTROL_APP_SURFACE,
        failing: STATIC_HOST,
        reason: "/assets/openagents_web_shell-5e1d0c9b.js answered 404",
    },
    EraFault {
        fault: "asset-not-immutable",
        phase: "app-surface",
        lane: "lanes/control.rhai",
        checks: CONTROL_APP_SURFACE,
        failing: STATIC_HOST,
        reason: "immutable",
    },
    EraFault {
        fault: "v1-sync-token-unrouted",
        phase: "app-surface",
        lane: "lanes/control.rhai",
        checks: CONTROL_APP_SURFACE,
        failing: &[
            "control-staging-khala-sync-token",
            "control-prod-khala-sync-token",
        ],
        reason: "POST /api/v1/sync/token answered 405",
    },
    EraFault {
        fault: "retired-route-alive",
        phase: "spacetime-convergence",
        lane: "lanes/control.rhai",
        checks: CONTROL_CONVERGED,
        failing: &[
            "control-staging-retired-routes",
            "control-prod-retired-routes",
        ],
        reason: "POST /api/v1/sync/token answered 200",
    },
    EraFault {
        fault: "stats-runtime-unavailable",
        phase: "app-surface",
        lane: "lanes/public_stats.rhai",
        checks: STATS,
        failing: STATS,
        reason: "Runtime unavailable.",
    },
    EraFault {
        fault: "stats-outage-rows",
        phase: "app-surface",
        lane: "lanes/public_stats.rhai",
        checks: STATS,
        failing: STATS,
        reason: "Hydra data available: no",
    },
    EraFault {
        fault: "fragment-hx-request-ignored",
        phase: "app-surface",
        lane: "lanes/public_stats.rhai",
        checks: STATS,
        failing: STATS,
        reason: "GET /stats/fragments/metrics answered 307",
    },
    EraFault {
        fault: "route-without-handler",
        phase: "app-surface",
        lane: "lanes/runtime.rhai",
        checks: RUNTIME,
        failing: &[
            "runtime-staging-hydra-mvp3-fx-contract",
            "runtime-prod-hydra-mvp3-fx-contract",
        ],
        reason: "POST /hydra/fx/settle",
    },
    EraFault {
        fault: "credit-policy-incomplete",
        phase: "app-surface",
        lane: "lanes/runtime.rhai",
        checks: RUNTIME,
        failing: &["runtime-staging-cep-contract", "runtime-prod-cep-contract"],
        reason: "max_offer_ttl_seconds",
    },
];

#[test]
fn every_fidelity_fault_fails_exactly_its_checks_and_the_healthy_sim_passes_them() {
    let sb = Sandbox::new();
    let mut healthy_seen = Vec::new();
    for case in CASES {
        // The healthy sim of the same era passes every check the fault breaks.
        let key = (case.lane, case.phase);
        if !healthy_seen.contains(&key) {
            healthy_seen.push(key);
            let name = format!("healthy-{}-{}", case.phase, case.lane.replace('/', "_"));
            let run = sb
                .cmd_in_repo()
                .args([case.lane, "--sim", "--phase", case.phase])
                .out(&sb.out(&name))
                .run();
            run.expect_code(0);
            let expected: Vec<(String, String)> = case
                .checks
                .iter()
                .map(|id| (id.to_string(), "passed".to_string()))
                .collect();
            assert_eq!(sb.evidence(&name).statuses(), expected, "healthy {name}");
        }

        let lanes = [case.lane];
        let era = FaultRun {
            lanes: &lanes,
            args: &["--phase", case.phase],
            checks: case.checks,
            env: &[],
            timeout: None,
        };
        era.expect(
            &sb,
            &common::faults::FaultCase {
                fault: case.fault,
                failing: case.failing,
                status: "failed",
                reason: case.reason,
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: what the services built from upstream showed

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn get_text(url: impl reqwest::IntoUrl) -> String {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn get_json(url: impl reqwest::IntoUrl) -> Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn sim(faults: &[Fault]) -> Sim {
    Sim::start(SimConfig {
        faults: faults.to_vec(),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts")
}

/// The control smoke errored on a healthy service: `entry.js` is relative
/// (`assets/openagents_web_shell.js`) and was appended to the base URL without a `/`.
#[tokio::test]
async fn bug_relative_manifest_entry_was_appended_without_a_slash() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;
    let manifest_url = format!("{base}/manifest.json");
    let manifest: Value = get_json(&manifest_url).await;
    let entry = manifest["entry"]["js"].as_str().unwrap();
    assert_eq!(entry, "assets/openagents_web_shell.js");
    // The old join is not even a URL.
    assert!(url::Url::parse(&format!("{base}{entry}")).is_err());
    // Resolved as a browser resolves it, it is the served entry, unhashed: a short cache.
    let resolved = oa_validate::api::urls::join(&manifest_url, entry).unwrap();
    assert_eq!(resolved, format!("{base}/assets/openagents_web_shell.js"));
    let asset = client().get(&resolved).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(asset.headers()["cache-control"], "public, max-age=60");
}

/// Public stats failed on a healthy service: the metrics fragment answers 307 to `/stats`
/// unless the request carries `HX-Request: true`.
#[tokio::test]
async fn bug_metrics_fragment_was_fetched_without_hx_request() {
    let sim = sim(&[]).await;
    let url = format!("{}/stats/fragments/metrics", sim.staging.control_url);
    for header in [None, Some("false")] {
        let mut request = client().get(&url);
        if let Some(value) = header {
            request = request.header("HX-Request", value);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 307, "HX-Request {header:?}");
        assert_eq!(resp.headers()["location"], "/stats");
    }
    let resp = client()
        .get(&url)
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(
        body.starts_with("<article id=\"stats-metrics-panel\""),
        "{body}"
    );
}

/// Public stats passed with the runtime down: the real outage markup is a status notice
/// reading "Runtime unavailable." and rows reading `no` and `-`; the literal the lane looked
/// for never appears in the HTML.
#[tokio::test]
async fn bug_runtime_outage_passed_because_the_lane_looked_for_a_sim_only_literal() {
    let sim = sim(&[Fault::StatsRuntimeUnavailable]).await;
    let page = get_text(format!("{}/stats", sim.staging.control_url)).await;
    assert!(!page.contains("stats-runtime-unavailable"), "{page}");
    assert!(page.contains("id=\"stats-status\""), "{page}");
    assert!(page.contains(">Runtime unavailable.</div>"), "{page}");
    assert!(
        page.contains("<span>Hydra data available</span><strong>no</strong>"),
        "{page}"
    );
    assert!(
        page.contains("<span>Hydra routing decisions</span><strong>-</strong>"),
        "{page}"
    );

    // With no pools configured the same outage shows no notice at all.
    let sim = self::sim(&[Fault::StatsOutageRows]).await;
    let page = get_text(format!("{}/stats", sim.staging.control_url)).await;
    assert!(page.contains("class=\"oa-notice hidden\""), "{page}");
    assert!(
        page.contains("<span>CEP data available</span><strong>no</strong>"),
        "{page}"
    );
}

/// "Served" counted axum's body-extractor rejection: a POST of `{}` to a typed route is a
/// plain-text 422 before any handler runs. The handler's own answer is a JSON 400.
#[tokio::test]
async fn bug_a_framework_422_counted_as_a_served_route() {
    let sim = sim(&[]).await;
    let url = format!("{}/internal/v1/hydra/fx/settle", sim.staging.runtime_url);
    let rejected = client().post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(rejected.status(), 422);
    assert!(
        rejected.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );

    let probe = json!({"schema": "oa-validate.not-a-schema", "idempotency_key": "k", "rfq_id": "r",
                       "quote_id": "q", "reservation_id": "v", "policy_context": {}});
    let handled = client().post(&url).json(&probe).send().await.unwrap();
    assert_eq!(handled.status(), 400);
    let body: Value = handled.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["message"],
        "schema must be openagents.hydra.fx_settle_request.v1"
    );

    // Unknown runtime routes: axum's empty 404, not a JSON body.
    let unknown = client()
        .get(format!(
            "{}/internal/v1/no/such/route",
            sim.staging.runtime_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().is_empty());
}

/// The runtime facts the sim guessed: risk health's shape, health's `fanout_driver`, UUID run
/// ids, a new run already running with its seq-1 event, an append answering `{"run"}` only.
#[tokio::test]
async fn runtime_answers_in_upstream_shapes() {
    let sim = sim(&[]).await;
    let base = &sim.staging.runtime_url;
    let risk: Value = get_json(format!("{base}/internal/v1/hydra/risk/health")).await;
    for key in ["credit_breakers", "liquidity", "routing"] {
        assert!(risk.get(key).is_some(), "{risk}");
    }
    assert!(risk.get("breakers").is_none() && risk.get("withdrawal_throttle").is_none());
    for path in ["/healthz", "/readyz"] {
        let body: Value = get_json(format!("{base}{path}")).await;
        assert_eq!(body["fanout_driver"], "memory", "{path}");
    }

    let created = client()
        .post(format!("{base}/internal/v1/runs"))
        .json(&json!({"worker_id": "w"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let run: Value = created.json().await.unwrap();
    let id = run["run"]["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(run["run"]["status"], "running");
    assert_eq!(run["run"]["events"][0]["seq"], 1);
    assert_eq!(run["run"]["events"][0]["event_type"], "run.started");

    let appended: Value = client()
        .post(format!("{base}/internal/v1/runs/{id}/events"))
        .json(&json!({"event_type": "run.note"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        appended.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["run"]
    );
    assert_eq!(appended["run"]["events"][1]["seq"], 2);
}

/// Live runtime answers match the response schemas of the document the runtime serves, and
/// a drift only the schema names (not any lane's field list) is caught.
#[tokio::test]
async fn live_runtime_answers_match_the_served_schemas() {
    use oa_validate::api::schema::validate;
    let agent = oa_sim::TEST_AGENT_ID;
    let operations = [
        ("/credit/health", "/credit/health".to_string()),
        (
            "/credit/agents/{agent_id}/exposure",
            format!("/credit/agents/{agent}/exposure"),
        ),
        ("/hydra/risk/health", "/hydra/risk/health".to_string()),
        ("/hydra/observability", "/hydra/observability".to_string()),
    ];
    for (faults, drifted) in [
        (vec![], None),
        (vec![Fault::CreditPolicyIncomplete], Some("/credit/health")),
    ] {
        let sim = sim(&faults).await;
        let base = format!("{}/internal/v1", sim.staging.runtime_url);
        let doc: Value = get_json(format!("{base}/openapi.json")).await;
        for (template, path) in &operations {
            let body: Value = get_json(format!("{base}{path}")).await;
            let report = validate(&doc, template, "get", 200, &body)
                .unwrap()
                .unwrap_or_else(|| panic!("the document has a schema for {template}"));
            if drifted == Some(*template) {
                assert!(
                    report
                        .errors
                        .iter()
                        .any(|e| e.contains("max_offer_ttl_seconds")),
                    "{template}: {:?}",
                    report.errors
                );
            } else {
                assert!(report.errors.is_empty(), "{template}: {:?}", report.errors);
            }
        }
        // The run API the smoke uses is not in the document.
        assert_eq!(
            validate(&doc, "/runs", "post", 201, &json!({})).unwrap(),
            None
        );
    }
}

/// Nothing in a lane relies on a string only the sim emits (the sim's sign-in code and
/// token prefixes included).
#[test]
fn no_lane_relies_on_a_sim_only_string() {
    let sim_only = [
        "stats-runtime-unavailable",
        "data-status",
        "data-thread-id",
        "dataset.threadId",
        "dataset.zone",
        "zone-link",
        "#settings-form",
        "/vendor/htmx",
        "#chat-thread'",
        "sess_sim",
        "user_sim",
        "org_sim",
        "/sim/delay",
        "oa_at_",
        "sim-admin@",
    ];
    let mut sources = Vec::new();
    for dir in ["lanes", "stdlib"] {
        for entry in std::fs::read_dir(common::repo_root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            sources.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    for (path, text) in &sources {
        for needle in sim_only {
            assert!(
                !text.contains(needle),
                "{path} relies on the sim-only string {needle:?}"
            );
        }
    }
    // The sim-only token bootstrap is gone: upstream answers it 405, so no lane may use it.
    for (path, text) in &sources {
        assert!(
            !text.contains("/api/auth/browser-session"),
            "{path} uses a route upstream does not serve"
        );
    }
}

/// The Gmail inbox actions passed on the sim and failed on every real deployment: the lane
/// asserted `data.thread_id` in a draft decision's answer, a shape only the sim sent (the
/// interop run against upstream, docs/interop.md). Upstream answers the inbox snapshot with
/// `source` naming the action and records the decision, newest first, in its audit log.
#[tokio::test]
async fn bug_draft_decisions_answered_a_thread_id_only_the_sim_sent() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;
    let token = &sim.staging.token;
    let decide = |action: &'static str, body: Value| {
        client()
            .post(format!(
                "{base}/api/inbox/threads/thread_sim_001/draft/{action}"
            ))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let approved: Value = decide("approve", serde_json::json!({"detail": "gate"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = &approved["data"];
    assert_eq!(data["source"], "approve_draft", "{approved:#}");
    assert!(data.get("thread_id").is_none(), "{approved:#}");
    assert_eq!(data["snapshot"]["selected_thread_id"], "thread_sim_001");
    let newest = &data["snapshot"]["audit_log"][0];
    assert_eq!(newest["action"], "approve_draft");
    assert_eq!(newest["thread_id"], "thread_sim_001");
    assert_eq!(newest["detail"], "gate");
    assert_eq!(data["snapshot"]["threads"][0]["pending_approval"], false);
    // Rejecting puts the draft back to pending, with upstream's default detail.
    let rejected: Value = decide("reject", serde_json::json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = &rejected["data"];
    assert_eq!(data["source"], "reject_draft");
    assert_eq!(
        data["snapshot"]["audit_log"][0]["detail"],
        "draft rejected for manual revision"
    );
    assert_eq!(data["snapshot"]["threads"][0]["pending_approval"], true);
}
