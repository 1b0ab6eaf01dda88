//! The runtime service surface: health, readiness, the authority run API, the internal
//! OpenAPI document (paths relative to `servers[0].url`), CEP credit health and agent
//! exposure, and Hydra risk health and observability — in the shapes the real runtime answers.

use super::{Fault, random_hex};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SecondsFormat, Utc};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// The test agent the sim knows (`OA_TEST_AGENT_ID` under `--sim`): 64 hex characters.
pub const TEST_AGENT_ID: &str = "5a1e0c7d9b3f48e2a6c4d8f0b2e4a6c8d0f2b4e6a8c0d2f4b6e8a0c2d4f6b8e0";

pub(super) struct RuntimeState {
    pub(super) environment: &'static str,
    pub(super) faults: Arc<HashSet<Fault>>,
    pub(super) started: Instant,
    runs: Mutex<HashMap<String, Value>>,
}

impl RuntimeState {
    pub(super) fn new(
        environment: &'static str,
        faults: Arc<HashSet<Fault>>,
        started: Instant,
    ) -> Self {
        RuntimeState {
            environment,
            faults,
            started,
            runs: Mutex::new(HashMap::new()),
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }
}

type Shared = State<Arc<RuntimeState>>;

pub(super) fn router(state: RuntimeState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/internal/v1/runs", post(create_run))
        .route("/internal/v1/runs/{id}", get(read_run))
        .route("/internal/v1/runs/{id}/events", post(append_event))
        .route("/internal/v1/openapi.json", get(openapi))
        .route("/internal/v1/credit/health", get(credit_health))
        .route(
            "/internal/v1/credit/agents/{agent_id}/exposure",
            get(exposure),
        )
        .route("/internal/v1/credit/intent", post(invalid_body))
        .route("/internal/v1/hydra/routing/score", post(invalid_body))
        .route("/internal/v1/hydra/fx/rfq", post(invalid_body))
        .route("/internal/v1/hydra/fx/quote", post(invalid_body))
        .route("/internal/v1/hydra/fx/select", post(invalid_body))
        .route("/internal/v1/hydra/fx/settle", post(invalid_body))
        .route("/internal/v1/hydra/risk/health", get(risk_health))
        .route("/internal/v1/hydra/observability", get(observability))
        .fallback(not_found)
        .with_state(Arc::new(state))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn not_found_response() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "not_found"})),
    )
        .into_response()
}

async fn not_found() -> Response {
    not_found_response()
}

fn invalid_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_request", "message": message})),
    )
        .into_response()
}

async fn healthz(State(st): Shared) -> Response {
    axum::Json(json!({
        "status": "ok",
        "service": "runtime",
        "build_sha": "5im0000000000000000000000000000000000000",
        "uptime_seconds": st.started.elapsed().as_secs(),
        "authority_write_mode": "rust_active",
        "authority_writer_active": true,
        "db_configured": true,
    }))
    .into_response()
}

async fn readyz(State(st): Shared) -> Response {
    let ready = !st.has(Fault::RuntimeReadyz503);
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "authority_ready": ready,
        "projector_ready": true,
        "workers_ready": true,
        "authority_writer_active": true,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

fn json_body(body: &Bytes) -> Option<Value> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
}

async fn create_run(State(st): Shared, body: Bytes) -> Response {
    if st.has(Fault::RunCreate500) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": "internal_error", "message": "authority write failed"})),
        )
            .into_response();
    }
    let Some(request) = json_body(&body) else {
        return invalid_request("body must be a JSON object");
    };
    let Some(worker_id) = request.get("worker_id").and_then(Value::as_str) else {
        return invalid_request("worker_id is required");
    };
    let id = format!("run_{}", random_hex(8));
    let run = json!({
        "id": id,
        "worker_id": worker_id,
        "status": "created",
        "metadata": request.get("metadata").cloned().unwrap_or(json!({})),
        "events": [],
        "created_at": now(),
        "environment": st.environment,
    });
    st.runs.lock().insert(id, run.clone());
    (StatusCode::CREATED, axum::Json(json!({"run": run}))).into_response()
}

async fn read_run(State(st): Shared, Path(id): Path<String>) -> Response {
    match st.runs.lock().get(&id) {
        Some(run) => axum::Json(json!({"run": run})).into_response(),
        None => not_found_response(),
    }
}

async fn append_event(State(st): Shared, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(request) = json_body(&body) else {
        return invalid_request("body must be a JSON object");
    };
    let event_type = request.get("event_type").and_then(Value::as_str);
    let key = request.get("idempotency_key").and_then(Value::as_str);
    let (Some(event_type), Some(key)) = (event_type, key) else {
        return invalid_request("event_type and idempotency_key are required");
    };
    let mut runs = st.runs.lock();
    let Some(run) = runs.get_mut(&id) else {
        return not_found_response();
    };
    let events = run["events"].as_array_mut().expect("events is an array");
    let seq = events.len() as u64 + 1;
    let event = json!({"seq": seq, "event_type": event_type, "idempotency_key": key,
                       "payload": request.get("payload").cloned().unwrap_or(Value::Null)});
    events.push(event.clone());
    run["status"] = json!("running");
    axum::Json(json!({"run": run.clone(), "event": event})).into_response()
}

/// The OpenAPI operations the runtime documents, relative to `servers[0].url`.
fn operations(st: &RuntimeState) -> Vec<(&'static str, &'static str)> {
    let mut ops = vec![
        ("/runs", "post"),
        ("/runs/{run_id}", "get"),
        ("/runs/{run_id}/events", "post"),
        ("/credit/intent", "post"),
        ("/credit/health", "get"),
        ("/credit/agents/{agent_id}/exposure", "get"),
        ("/hydra/routing/score", "post"),
        ("/hydra/risk/health", "get"),
        ("/hydra/observability", "get"),
        ("/hydra/fx/rfq", "post"),
        ("/hydra/fx/quote", "post"),
        ("/hydra/fx/select", "post"),
        ("/hydra/fx/settle", "post"),
    ];
    if st.has(Fault::OpenapiMissingCredit) {
        ops.retain(|(p, _)| !p.starts_with("/credit/"));
    }
    if st.has(Fault::OpenapiMissingHydra) {
        ops.retain(|(p, _)| {
            !matches!(
                *p,
                "/hydra/routing/score" | "/hydra/risk/health" | "/hydra/observability"
            )
        });
    }
    ops
}

async fn openapi(State(st): Shared) -> Response {
    let mut paths = serde_json::Map::new();
    for (path, method) in operations(&st) {
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = json!({
            "operationId": format!("{method}{}", path.replace(['/', '{', '}'], "_")),
            "responses": {"200": {"description": "OK"}},
        });
    }
    axum::Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "OpenAgents Runtime Internal API", "version": "v1"},
        "servers": [{"url": "/internal/v1"}],
        "paths": paths,
        "components": {"schemas": {}},
    }))
    .into_response()
}

async fn credit_health(State(st): Shared) -> Response {
    if st.has(Fault::CreditHealthSchemaWrong) {
        return axum::Json(json!({
            "schema": "openagents.credit.health_response.v0",
            "generated_at": now(),
            "open_envelope_count": 0,
        }))
        .into_response();
    }
    axum::Json(json!({
        "schema": "openagents.credit.health_response.v1",
        "generated_at": now(),
        "open_envelope_count": 3,
        "open_reserved_commitments_sats": 42_000,
        "settlement_sample": 120,
        "loss_count": 1,
        "loss_rate": 0.0083,
        "ln_pay_sample": 118,
        "ln_fail_count": 2,
        "ln_failure_rate": 0.0169,
        "breakers": {"halt_new_envelopes": false, "halt_large_settlements": false},
        "policy": {"max_sats_per_envelope": 100_000, "max_outstanding_envelopes_per_agent": 3,
                   "underwriting_history_days": 30},
    }))
    .into_response()
}

fn is_agent_id(id: &str) -> bool {
    id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit())
}

async fn exposure(Path(agent_id): Path<String>) -> Response {
    if !is_agent_id(&agent_id) {
        return invalid_request("agent_id must be 64 hex characters");
    }
    let known = agent_id.eq_ignore_ascii_case(TEST_AGENT_ID);
    axum::Json(json!({
        "schema": "openagents.credit.agent_exposure_response.v1",
        "agent_id": agent_id.to_ascii_lowercase(),
        "open_envelope_count": if known { 1 } else { 0 },
        "open_exposure_sats": if known { 5_000 } else { 0 },
        "settled_count_30d": if known { 14 } else { 0 },
        "success_volume_sats_30d": if known { 70_000 } else { 0 },
        "pass_rate_30d": if known { 0.93 } else { 0.0 },
        "loss_count_30d": 0,
        "underwriting_limit_sats": 25_000,
        "underwriting_fee_bps": 150,
        "requires_verifier": !known,
        "computed_at": now(),
    }))
    .into_response()
}

/// The mutating POST routes exist but answer 400 to a body that is not a request: the lanes
/// prove a route is served without changing anything.
async fn invalid_body(body: Bytes) -> Response {
    let _ = body;
    invalid_request("missing required fields")
}

async fn risk_health() -> Response {
    axum::Json(json!({
        "schema": "openagents.hydra.risk_health_response.v1",
        "generated_at": now(),
        "breakers": {"halt_new_envelopes": false, "halt_large_settlements": false},
        "withdrawal_throttle": {"mode": "normal"},
    }))
    .into_response()
}

async fn observability(State(st): Shared) -> Response {
    let mut body = json!({
        "schema": "openagents.hydra.observability_response.v1",
        "generated_at": now(),
        "routing": {
            "decision_total": 57, "selected_route_direct": 40, "selected_route_cep": 15,
            "selected_route_other": 2, "confidence_lt_040": 3, "confidence_040_070": 9,
            "confidence_070_090": 25, "confidence_gte_090": 20,
        },
        "breakers": {
            "halt_new_envelopes": false, "halt_large_settlements": false,
            "transition_total": 2, "recovery_total": 2,
            "halt_new_envelopes_transition_total": 1, "halt_new_envelopes_recovery_total": 1,
            "halt_large_settlements_transition_total": 1, "halt_large_settlements_recovery_total": 1,
        },
        "withdrawal_throttle": {
            "mode": "normal", "affected_requests_total": 4, "rejected_requests_total": 1,
            "stressed_requests_total": 3,
        },
        "fx": {
            "rfq_total": 12, "quote_total": 30, "settlement_total": 9,
            "quote_to_settlement_rate": 0.3, "spread_bps_avg": 41.5, "spread_bps_median": 40,
            "settlement_withheld_total": 1, "settlement_failed_total": 0,
            "treasury_provider_breadth": 3,
        },
    });
    if st.has(Fault::ObservabilityMissingFx)
        && let Some(map) = body.as_object_mut()
    {
        map.remove("fx");
    }
    axum::Json(body).into_response()
}
