//! The runtime's internal OpenAPI document (`GET /internal/v1/openapi.json`), written for the
//! sim from the shapes of upstream apps/runtime/docs/openapi-internal-v1.yaml: OpenAPI 3.1,
//! `servers[0].url = "/internal/v1"` (relative paths), response schemas for the contract
//! operations, OpenAPI 3.0's `nullable` in places, and the document's own mistakes (it lists
//! `/health`, which the binary does not serve, and names the comms answer `eventId` where
//! the server says `event_id`). It does not document the run API the smoke calls.

use super::SimEra;
use serde_json::{Value, json};

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
    })
}

fn error_response() -> Value {
    json!({"$ref": "#/components/responses/Error"})
}

fn get_op(id: &str, ok: Value) -> Value {
    json!({"get": {"operationId": id, "responses": {"200": ok, "400": error_response(), "401": error_response()}}})
}

fn post_op(id: &str, request: &str, ok: Value) -> Value {
    json!({"post": {
        "operationId": id,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{request}")}}}},
        "responses": {"200": ok, "400": error_response(), "401": error_response(), "409": error_response()},
    }})
}

fn paths(era: SimEra, missing_credit: bool, missing_hydra: bool) -> serde_json::Map<String, Value> {
    let mut paths = serde_json::Map::new();
    let mut add = |path: &str, op: Value| {
        paths.insert(path.to_string(), op);
    };
    add(
        "/health",
        get_op("health", json_response("Runtime healthy", "HealthResponse")),
    );
    add(
        "/comms/delivery-events",
        json!({"post": {
            "operationId": "recordCommsDeliveryEvent",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CommsDeliveryEventRequest"}}}},
            "responses": {
                "200": json_response("Duplicate idempotent replay accepted", "CommsDeliveryAccepted"),
                "202": json_response("Delivery event accepted", "CommsDeliveryAccepted"),
                "400": error_response(),
            },
        }}),
    );
    add(
        "/runs/{run_id}/stream",
        json!({"get": {
            "operationId": "streamRun",
            "responses": {"200": {"description": "Run events as server-sent events",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
        }}),
    );
    if !missing_credit {
        add(
            "/credit/intent",
            post_op(
                "creditIntent",
                "CreditIntentRequestV1",
                json_response("Intent created", "CreditIntentResponseV1"),
            ),
        );
        add(
            "/credit/health",
            get_op(
                "creditHealth",
                json_response("Current CEP health status", "CreditHealthResponseV1"),
            ),
        );
        add(
            "/credit/agents/{agent_id}/exposure",
            get_op(
                "creditAgentExposure",
                json_response("Agent exposure snapshot", "CreditAgentExposureResponseV1"),
            ),
        );
    }
    if !missing_hydra {
        add(
            "/hydra/routing/score",
            post_op(
                "hydraRoutingScore",
                "HydraRoutingScoreRequestV1",
                json_response("Routing decision accepted", "HydraRoutingScoreResponseV1"),
            ),
        );
        add(
            "/hydra/risk/health",
            get_op(
                "hydraRiskHealth",
                json_response("Hydra risk health snapshot", "HydraRiskHealthResponseV1"),
            ),
        );
        add(
            "/hydra/observability",
            get_op(
                "hydraObservability",
                json_response(
                    "Hydra observability snapshot",
                    "HydraObservabilityResponseV1",
                ),
            ),
        );
    }
    for (path, id, request) in [
        ("/hydra/fx/rfq", "hydraFxRfqCreate", "HydraFxRfqRequestV1"),
        (
            "/hydra/fx/quote",
            "hydraFxQuoteUpsert",
            "HydraFxQuoteUpsertRequestV1",
        ),
        (
            "/hydra/fx/select",
            "hydraFxSelect",
            "HydraFxSelectRequestV1",
        ),
        (
            "/hydra/fx/settle",
            "hydraFxSettle",
            "HydraFxSettleRequestV1",
        ),
    ] {
        add(
            path,
            post_op(
                id,
                request,
                json_response("FX operation accepted", "HydraFxOperationResponseV1"),
            ),
        );
    }
    add(
        "/hydra/fx/rfq/{rfq_id}",
        get_op(
            "hydraFxRfqGet",
            json_response("RFQ snapshot", "HydraFxOperationResponseV1"),
        ),
    );
    if era == SimEra::SpacetimeConvergence {
        // d29e2a788f added the Aegis operations to the document.
        add(
            "/aegis/classify",
            post_op(
                "aegisClassify",
                "AegisRequestV1",
                json_response("Classification", "AegisResponseV1"),
            ),
        );
    }
    paths
}

fn integer() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn number() -> Value {
    json!({"type": "number"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn date_time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// An object schema requiring every property of `properties` except those in `optional`.
fn object(properties: Value, optional: &[&str]) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !optional.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    json!({"type": "object", "required": required, "properties": properties})
}

fn schemas() -> Value {
    let policy_fields = [
        ("max_sats_per_envelope", integer()),
        ("max_outstanding_envelopes_per_agent", integer()),
        ("max_offer_ttl_seconds", integer()),
        ("underwriting_history_days", json!({"type": "integer"})),
        ("underwriting_base_sats", integer()),
        ("underwriting_k", number()),
        ("underwriting_default_penalty_multiplier", number()),
        ("min_fee_bps", json!({"type": "integer"})),
        ("max_fee_bps", json!({"type": "integer"})),
        ("fee_risk_scaler", number()),
        ("health_window_seconds", integer()),
        ("health_settlement_sample_limit", integer()),
        ("health_ln_pay_sample_limit", integer()),
        ("circuit_breaker_min_sample", integer()),
        ("loss_rate_halt_threshold", number()),
        ("ln_failure_rate_halt_threshold", number()),
        ("ln_failure_large_settlement_cap_sats", integer()),
    ];
    let policy: serde_json::Map<String, Value> = policy_fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let breakers = object(
        json!({"halt_new_envelopes": boolean(), "halt_large_settlements": boolean()}),
        &[],
    );
    json!({
        "HealthResponse": object(json!({"status": {"type": "string"}, "service": {"type": "string"}, "version": {"type": "string"}}), &[]),
        "CommsDeliveryEventRequest": object(json!({
            "event_id": {"type": "string"}, "provider": {"type": "string"},
            "delivery_state": {"type": "string"}, "payload": {"type": "object"},
            "message_id": {"type": "string", "nullable": true},
        }), &["message_id"]),
        "CommsDeliveryAccepted": object(json!({
            "eventId": {"type": "string"}, "status": {"type": "string", "enum": ["accepted"]},
            "idempotentReplay": boolean(),
        }), &[]),
        "CreditCircuitBreakersV1": breakers,
        "CreditPolicySnapshotV1": object(Value::Object(policy), &[]),
        "CreditHealthResponseV1": object(json!({
            "schema": {"type": "string", "const": "openagents.credit.health_response.v1"},
            "generated_at": date_time(),
            "open_envelope_count": integer(),
            "open_reserved_commitments_sats": integer(),
            "settlement_sample": integer(),
            "loss_count": integer(),
            "loss_rate": number(),
            "ln_pay_sample": integer(),
            "ln_fail_count": integer(),
            "ln_failure_rate": number(),
            "breakers": {"$ref": "#/components/schemas/CreditCircuitBreakersV1"},
            "policy": {"$ref": "#/components/schemas/CreditPolicySnapshotV1"},
        }), &[]),
        "CreditAgentExposureResponseV1": object(json!({
            "schema": {"type": "string", "const": "openagents.credit.agent_exposure_response.v1"},
            "agent_id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "open_envelope_count": integer(),
            "open_exposure_sats": integer(),
            "settled_count_30d": integer(),
            "success_volume_sats_30d": integer(),
            "pass_rate_30d": number(),
            "loss_count_30d": integer(),
            "underwriting_limit_sats": {"type": "integer", "minimum": 1},
            "underwriting_fee_bps": integer(),
            "requires_verifier": boolean(),
            "computed_at": date_time(),
        }), &[]),
        "CreditIntentRequestV1": {"type": "object"},
        "CreditIntentResponseV1": object(json!({"schema": {"type": "string"}, "intent": {"type": "object"}}), &[]),
        "HydraRoutingScoreRequestV1": {"type": "object"},
        "HydraRoutingScoreResponseV1": object(json!({"schema": {"type": "string"}, "decision_sha256": {"type": "string"}}), &[]),
        "HydraFxRfqRequestV1": {"type": "object"},
        "HydraFxQuoteUpsertRequestV1": {"type": "object"},
        "HydraFxSelectRequestV1": {"type": "object"},
        "HydraFxSettleRequestV1": {"type": "object"},
        "HydraFxOperationResponseV1": object(json!({"schema": {"type": "string"}}), &[]),
        "HydraRiskCreditBreakersV1": breakers,
        "HydraRiskLiquidityStateV1": object(json!({
            "wallet_executor_configured": boolean(),
            "wallet_executor_reachable": boolean(),
            "error_code": {"type": "string", "nullable": true},
            "withdraw_throttle_mode": {"type": "string", "nullable": true},
            "withdraw_throttle_reasons": {"type": "array", "items": {"type": "string"}},
        }), &["error_code", "withdraw_throttle_mode", "withdraw_throttle_reasons"]),
        "HydraRiskRoutingStateV1": object(json!({
            "degraded": boolean(), "direct_disabled": boolean(),
            "reasons": {"type": "array", "items": {"type": "string"}},
        }), &[]),
        "HydraRiskHealthResponseV1": object(json!({
            "schema": {"type": "string", "const": "openagents.hydra.risk_health_response.v1"},
            "generated_at": date_time(),
            "credit_breakers": {"$ref": "#/components/schemas/HydraRiskCreditBreakersV1"},
            "liquidity": {"$ref": "#/components/schemas/HydraRiskLiquidityStateV1"},
            "routing": {"$ref": "#/components/schemas/HydraRiskRoutingStateV1"},
        }), &[]),
        "HydraRoutingObservabilityV1": object(json!({
            "decision_total": integer(), "selected_route_direct": integer(),
            "selected_route_cep": integer(), "selected_route_other": integer(),
            "confidence_lt_040": integer(), "confidence_040_070": integer(),
            "confidence_070_090": integer(), "confidence_gte_090": integer(),
        }), &[]),
        "HydraBreakersObservabilityV1": object(json!({
            "halt_new_envelopes": boolean(), "halt_large_settlements": boolean(),
            "transition_total": integer(), "recovery_total": integer(),
            "halt_new_envelopes_transition_total": integer(),
            "halt_new_envelopes_recovery_total": integer(),
            "halt_large_settlements_transition_total": integer(),
            "halt_large_settlements_recovery_total": integer(),
            "last_transition_at": {"type": "string", "format": "date-time", "nullable": true},
        }), &["last_transition_at"]),
        "HydraWithdrawalThrottleObservabilityV1": object(json!({
            "mode": {"type": "string", "nullable": true},
            "affected_requests_total": integer(),
            "rejected_requests_total": integer(),
            "stressed_requests_total": integer(),
        }), &["mode"]),
        "HydraFxObservabilityV1": object(json!({
            "rfq_total": integer(), "quote_total": integer(), "settlement_total": integer(),
            "quote_to_settlement_rate": {"type": "number", "minimum": 0},
            "spread_bps_avg": {"type": "number", "minimum": 0},
            "spread_bps_median": {"type": "number", "minimum": 0},
            "settlement_withheld_total": integer(), "settlement_failed_total": integer(),
            "treasury_provider_breadth": integer(),
        }), &[]),
        "HydraObservabilityResponseV1": object(json!({
            "schema": {"type": "string", "const": "openagents.hydra.observability_response.v1"},
            "generated_at": date_time(),
            "routing": {"$ref": "#/components/schemas/HydraRoutingObservabilityV1"},
            "breakers": {"$ref": "#/components/schemas/HydraBreakersObservabilityV1"},
            "withdrawal_throttle": {"$ref": "#/components/schemas/HydraWithdrawalThrottleObservabilityV1"},
            "fx": {"$ref": "#/components/schemas/HydraFxObservabilityV1"},
        }), &[]),
        "AegisRequestV1": {"type": "object"},
        "AegisResponseV1": object(json!({"schema": {"type": "string"}}), &[]),
        "ErrorEnvelope": object(json!({
            "error": object(json!({"code": {"type": "string"}, "message": {"type": "string"}}), &[]),
        }), &[]),
    })
}

/// The document for `era`; the two faults drop the credit or Hydra MVP-2 operations.
pub(super) fn document(era: SimEra, missing_credit: bool, missing_hydra: bool) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "OpenAgents Runtime Internal API", "version": "0.2.0"},
        "servers": [{"url": "/internal/v1"}],
        "security": [{"RuntimeSignature": []}],
        "paths": paths(era, missing_credit, missing_hydra),
        "components": {
            "securitySchemes": {"RuntimeSignature": {"type": "apiKey", "in": "header", "name": "X-OA-RUNTIME-SIGNATURE"}},
            "responses": {"Error": {"description": "Structured error response",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}},
            "schemas": schemas(),
        },
    })
}
