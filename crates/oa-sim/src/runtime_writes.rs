//! The runtime's typed write routes (credit intent, Hydra routing score, Hydra FX): axum's
//! `Json` extractor first (a body missing required fields is a plain-text 422 before any
//! handler runs), then the handler's own first validations with its JSON error shape.
//!
//! The sim models these routes only as far as the lanes reach them: a request that passes the
//! handler's validations answers 501 (a deliberate difference, see docs/sim-fidelity.md).

use super::Fault;
use super::routes::Routes;
use super::runtime_state::{RuntimeState, api_error, invalid_request, pubkey};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

type Shared = State<Arc<RuntimeState>>;

pub(super) const CREDIT_INTENT_SCHEMA: &str = "openagents.credit.intent_request.v1";
pub(super) const FX_RFQ_SCHEMA: &str = "openagents.hydra.fx_rfq_request.v1";
pub(super) const FX_QUOTE_SCHEMA: &str = "openagents.hydra.fx_quote_upsert_request.v1";
pub(super) const FX_SELECT_SCHEMA: &str = "openagents.hydra.fx_select_request.v1";
pub(super) const FX_SETTLE_SCHEMA: &str = "openagents.hydra.fx_settle_request.v1";

pub(super) fn routes(routes: Routes<Arc<RuntimeState>>) -> Routes<Arc<RuntimeState>> {
    routes
        .post("/internal/v1/credit/intent", credit_intent)
        .post("/internal/v1/hydra/routing/score", routing_score)
        .post("/internal/v1/hydra/fx/rfq", fx_rfq)
        .post("/internal/v1/hydra/fx/quote", fx_quote)
        .post("/internal/v1/hydra/fx/select", fx_select)
        .post("/internal/v1/hydra/fx/settle", fx_settle)
}

/// What a request that passed every validation the sim models gets.
fn not_modelled() -> Response {
    api_error(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        "the sim does not model this operation past its request validation",
    )
}

/// axum's plain-text answer to a JSON body its target type refuses.
fn extractor_rejection(detail: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        format!("Failed to deserialize the JSON body into the target type: {detail}"),
    )
        .into_response()
}

fn wrong_schema(expected: &str) -> Response {
    invalid_request(&format!("schema must be {expected}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeType {
    Nip90,
}

#[derive(Deserialize)]
#[allow(dead_code)] // The fields exist so the extractor requires them, as upstream's does.
struct CreditIntentRequest {
    schema: String,
    idempotency_key: String,
    agent_id: String,
    scope_type: ScopeType,
    scope_id: String,
    max_sats: u64,
    exp: String,
    #[serde(default)]
    policy_context: Value,
}

async fn credit_intent(axum::Json(body): axum::Json<CreditIntentRequest>) -> Response {
    if chrono::DateTime::parse_from_rfc3339(&body.exp).is_err() {
        // Upstream's `exp` is a DateTime: the extractor refuses it before the handler.
        return extractor_rejection("exp: premature end of input");
    }
    if body.schema.trim() != CREDIT_INTENT_SCHEMA {
        return wrong_schema(CREDIT_INTENT_SCHEMA);
    }
    if body.idempotency_key.trim().is_empty() {
        return invalid_request("idempotency_key is required");
    }
    if pubkey(&body.agent_id).is_none() {
        return invalid_request("agent_id/pool_id/provider_id must be 64-char hex pubkeys");
    }
    not_modelled()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RoutingCandidate {
    marketplace_id: String,
    provider_id: String,
    #[serde(default)]
    provider_worker_id: Option<String>,
    total_price_msats: u64,
    #[serde(default)]
    latency_ms: Option<u64>,
    reliability_bps: u32,
    #[serde(default)]
    constraints: Value,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RoutingScoreRequest {
    schema: String,
    idempotency_key: String,
    run_id: String,
    marketplace_id: String,
    capability: String,
    policy: String,
    #[serde(default)]
    objective_hash: Option<String>,
    decided_at_unix: u64,
    candidates: Vec<RoutingCandidate>,
}

async fn routing_score(axum::Json(body): axum::Json<RoutingScoreRequest>) -> Response {
    if body.idempotency_key.trim().is_empty() {
        return invalid_request("idempotency_key must not be empty");
    }
    if uuid::Uuid::parse_str(body.run_id.trim()).is_err() {
        return invalid_request("run_id must be a valid UUID");
    }
    if body.capability.trim().is_empty() {
        return invalid_request("capability must not be empty");
    }
    if body.candidates.is_empty() {
        return invalid_request("candidates must not be empty");
    }
    not_modelled()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Money {
    asset: String,
    amount: u64,
    unit: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FxRfqRequest {
    schema: String,
    idempotency_key: String,
    requester_id: String,
    budget_scope_id: String,
    sell: Money,
    buy_asset: String,
    min_buy_amount: u64,
    max_spread_bps: u32,
    max_fee_bps: u32,
    max_latency_ms: u32,
    quote_ttl_seconds: u32,
    #[serde(default)]
    policy_context: Value,
}

async fn fx_rfq(axum::Json(body): axum::Json<FxRfqRequest>) -> Response {
    if body.schema.trim() != FX_RFQ_SCHEMA {
        return wrong_schema(FX_RFQ_SCHEMA);
    }
    not_modelled()
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum QuoteStatus {
    Active,
    Expired,
    Withdrawn,
    Selected,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FxQuote {
    quote_id: String,
    rfq_id: String,
    provider_id: String,
    sell: Money,
    buy: Money,
    spread_bps: u32,
    fee_bps: u32,
    latency_ms: u32,
    reliability_bps: u32,
    valid_until_unix: u64,
    status: QuoteStatus,
    #[serde(default)]
    constraints: Value,
    quote_sha256: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FxQuoteUpsertRequest {
    schema: String,
    idempotency_key: String,
    quote: FxQuote,
}

async fn fx_quote(axum::Json(body): axum::Json<FxQuoteUpsertRequest>) -> Response {
    if body.schema.trim() != FX_QUOTE_SCHEMA {
        return wrong_schema(FX_QUOTE_SCHEMA);
    }
    not_modelled()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FxSelectRequest {
    schema: String,
    idempotency_key: String,
    rfq_id: String,
    policy: String,
}

async fn fx_select(axum::Json(body): axum::Json<FxSelectRequest>) -> Response {
    if body.schema.trim() != FX_SELECT_SCHEMA {
        return wrong_schema(FX_SELECT_SCHEMA);
    }
    not_modelled()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FxSettleRequest {
    schema: String,
    idempotency_key: String,
    rfq_id: String,
    quote_id: String,
    reservation_id: String,
    #[serde(default)]
    policy_context: Value,
}

async fn fx_settle(
    State(st): Shared,
    body: Result<axum::Json<FxSettleRequest>, JsonRejection>,
) -> Response {
    if st.has(Fault::RouteWithoutHandler) {
        // The router still matches the path, but only an extractor answers: whatever the body,
        // the rejection a route gives when no handler of this contract is behind it.
        return extractor_rejection("missing field `settlement` at line 1 column 2");
    }
    let body = match body {
        Ok(axum::Json(body)) => body,
        Err(rejection) => return rejection.into_response(),
    };
    if body.schema.trim() != FX_SETTLE_SCHEMA {
        return wrong_schema(FX_SETTLE_SCHEMA);
    }
    not_modelled()
}
