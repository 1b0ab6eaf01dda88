//! The runtime service surface (upstream `apps/runtime/src/server.rs`): health, readiness,
//! the authority run API, the internal OpenAPI document, CEP credit health and agent
//! exposure, Hydra risk health and observability, and the typed write routes (in
//! runtime_writes.rs) — in the shapes and status codes the real runtime answers, including
//! its framework answers: axum's plain-text extractor rejections and its empty-bodied 404
//! for a path no route matches (the runtime router has no fallback).

use super::routes::{Routes, SimRoute};
use super::runtime_state::{RuntimeState, api_error, invalid_request, pubkey};
use super::{Fault, SimEra};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use std::sync::Arc;
use uuid::Uuid;

/// The test agent the sim knows (`OA_TEST_AGENT_ID` under `--sim`): 64 hex characters.
pub const TEST_AGENT_ID: &str = "5a1e0c7d9b3f48e2a6c4d8f0b2e4a6c8d0f2b4e6a8c0d2f4b6e8a0c2d4f6b8e0";

type Shared = State<Arc<RuntimeState>>;

fn routes() -> Routes<Arc<RuntimeState>> {
    let reads = Routes::new("runtime")
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/internal/v1/openapi.json", openapi)
        .post("/internal/v1/runs", create_run)
        .get("/internal/v1/runs/{run_id}", read_run)
        .post("/internal/v1/runs/{run_id}/events", append_event)
        .get("/internal/v1/credit/health", credit_health)
        .get("/internal/v1/credit/agents/{agent_id}/exposure", exposure)
        .get("/internal/v1/hydra/risk/health", risk_health)
        .get("/internal/v1/hydra/observability", observability);
    super::runtime_writes::routes(reads)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router(state: RuntimeState) -> Router {
    routes().into_parts().0.with_state(Arc::new(state))
}

pub(super) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "not_found"})),
    )
        .into_response()
}

async fn healthz(State(st): Shared) -> Response {
    let mut body = json!({
        "status": "ok",
        "service": "runtime",
        "build_sha": "5im0000000000000000000000000000000000000",
        "uptime_seconds": st.started.elapsed().as_secs(),
        "authority_write_mode": "rust_active",
        "authority_writer_active": true,
        "db_configured": true,
    });
    if st.era == SimEra::AppSurface {
        body["fanout_driver"] = json!("memory");
    }
    axum::Json(body).into_response()
}

async fn readyz(State(st): Shared) -> Response {
    let ready = !st.has(Fault::RuntimeReadyz503);
    let mut body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "authority_ready": ready,
        "projector_ready": true,
        "workers_ready": true,
        "authority_writer_active": true,
    });
    if st.era == SimEra::AppSurface {
        body["fanout_driver"] = json!("memory");
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

// ---- runs ----

#[derive(Deserialize)]
struct StartRunBody {
    worker_id: Option<String>,
    #[serde(default)]
    metadata: Value,
}

#[derive(Deserialize)]
struct AppendRunEventBody {
    event_type: String,
    #[serde(default)]
    payload: Value,
    idempotency_key: Option<String>,
}

fn run_event(seq: u64, event_type: &str, payload: Value, key: Option<String>) -> Value {
    json!({"seq": seq, "event_type": event_type, "payload": payload,
           "idempotency_key": key, "recorded_at": now()})
}

async fn create_run(State(st): Shared, axum::Json(body): axum::Json<StartRunBody>) -> Response {
    if st.has(Fault::RunCreate500) {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "authority write failed",
        );
    }
    let id = Uuid::new_v4();
    let at = now();
    // Starting a run appends its first event itself: the run is already running.
    let run = json!({
        "id": id.to_string(),
        "worker_id": body.worker_id,
        "status": "running",
        "metadata": body.metadata,
        "events": [run_event(1, "run.started", json!({"source": "runtime"}), None)],
        "created_at": at,
        "updated_at": at,
    });
    st.runs.lock().insert(id, run.clone());
    (StatusCode::CREATED, axum::Json(json!({"run": run}))).into_response()
}

async fn read_run(State(st): Shared, Path(run_id): Path<Uuid>) -> Response {
    match st.runs.lock().get(&run_id) {
        Some(run) => axum::Json(json!({"run": run})).into_response(),
        None => not_found(),
    }
}

async fn append_event(
    State(st): Shared,
    Path(run_id): Path<Uuid>,
    axum::Json(body): axum::Json<AppendRunEventBody>,
) -> Response {
    let event_type = body.event_type.trim().to_string();
    if event_type.is_empty() {
        return invalid_request("event_type cannot be empty");
    }
    if event_type == "payment" {
        return invalid_request("payment events must be emitted via treasury settlement endpoints");
    }
    let mut runs = st.runs.lock();
    let Some(run) = runs.get_mut(&run_id) else {
        return not_found();
    };
    let events = run["events"].as_array_mut().expect("events is an array");
    let replay = body.idempotency_key.as_ref().is_some_and(|key| {
        events
            .iter()
            .any(|e| e["idempotency_key"].as_str() == Some(key.as_str()))
    });
    if !replay {
        let seq = events.len() as u64 + 1;
        events.push(run_event(
            seq,
            &event_type,
            body.payload,
            body.idempotency_key,
        ));
        run["updated_at"] = json!(now());
    }
    // run.started on a running run is an idempotent transition; other events leave the
    // status as it is (the sim models no terminal events).
    axum::Json(json!({"run": run.clone()})).into_response()
}

// ---- the internal OpenAPI document ----

async fn openapi(State(st): Shared) -> Response {
    axum::Json(super::runtime_openapi::document(
        st.era,
        st.has(Fault::OpenapiMissingCredit),
        st.has(Fault::OpenapiMissingHydra),
    ))
    .into_response()
}

// ---- credit ----

/// The credit health answer (shared with the control service's `/stats`, which renders it).
pub(super) fn credit_health_body(schema_wrong: bool) -> Value {
    if schema_wrong {
        return json!({
            "schema": "openagents.credit.health_response.v0",
            "generated_at": now(),
            "open_envelope_count": 0,
        });
    }
    json!({
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
        "policy": {
            "max_sats_per_envelope": 100_000,
            "max_outstanding_envelopes_per_agent": 3,
            "max_offer_ttl_seconds": 900,
            "underwriting_history_days": 30,
            "underwriting_base_sats": 10_000,
            "underwriting_k": 1.5,
            "underwriting_default_penalty_multiplier": 2.0,
            "min_fee_bps": 50,
            "max_fee_bps": 500,
            "fee_risk_scaler": 1.0,
            "health_window_seconds": 86_400,
            "health_settlement_sample_limit": 200,
            "health_ln_pay_sample_limit": 200,
            "circuit_breaker_min_sample": 20,
            "loss_rate_halt_threshold": 0.2,
            "ln_failure_rate_halt_threshold": 0.35,
            "ln_failure_large_settlement_cap_sats": 50_000,
        },
    })
}

async fn credit_health(State(st): Shared) -> Response {
    let mut body = credit_health_body(st.has(Fault::CreditHealthSchemaWrong));
    if st.has(Fault::CreditPolicyIncomplete)
        && let Some(policy) = body.get_mut("policy").and_then(Value::as_object_mut)
    {
        policy.remove("max_offer_ttl_seconds");
    }
    axum::Json(body).into_response()
}

async fn exposure(Path(agent_id): Path<String>) -> Response {
    let Some(agent_id) = pubkey(&agent_id) else {
        return invalid_request("agent_id/pool_id/provider_id must be 64-char hex pubkeys");
    };
    let known = agent_id == TEST_AGENT_ID;
    axum::Json(json!({
        "schema": "openagents.credit.agent_exposure_response.v1",
        "agent_id": agent_id,
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

// ---- hydra ----

async fn risk_health() -> Response {
    axum::Json(json!({
        "schema": "openagents.hydra.risk_health_response.v1",
        "generated_at": now(),
        "credit_breakers": {"halt_new_envelopes": false, "halt_large_settlements": false},
        "liquidity": {"wallet_executor_configured": true, "wallet_executor_reachable": true},
        "routing": {"degraded": false, "direct_disabled": false, "reasons": []},
    }))
    .into_response()
}

/// The Hydra observability answer (shared with the control service's `/stats`).
pub(super) fn observability_body(missing_fx: bool) -> Value {
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
            "quote_to_settlement_rate": 0.3, "spread_bps_avg": 41.5, "spread_bps_median": 40.0,
            "settlement_withheld_total": 1, "settlement_failed_total": 0,
            "treasury_provider_breadth": 3,
        },
    });
    if missing_fx && let Some(map) = body.as_object_mut() {
        map.remove("fx");
    }
    body
}

async fn observability(State(st): Shared) -> Response {
    axum::Json(observability_body(st.has(Fault::ObservabilityMissingFx))).into_response()
}
