//! The runtime's comms ingest route, `POST /internal/v1/comms/delivery-events`: the control
//! service forwards Gmail delivery events here. Idempotent on `provider::event_id`: the first
//! delivery answers 202 `accepted`, a replay 200 with `idempotentReplay: true`; a blank
//! `event_id`, `provider` or `delivery_state`, or a null `payload`, answers 400.
//!
//! Only this route lives here, so the router merges into the runtime service's router
//! without overlapping it.

use super::Fault;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const DELIVERY_EVENTS_PATH: &str = "/internal/v1/comms/delivery-events";

struct Comms {
    faults: Arc<HashSet<Fault>>,
    /// `provider::event_id` → the event as first accepted.
    seen: Mutex<HashMap<String, Value>>,
}

/// The comms route with its own state (one event store per call: one per runtime instance).
pub fn router(faults: Arc<HashSet<Fault>>) -> Router {
    Router::new()
        .route(DELIVERY_EVENTS_PATH, post(delivery_event))
        .with_state(Arc::new(Comms {
            faults,
            seen: Mutex::new(HashMap::new()),
        }))
}

fn invalid(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_request", "message": message})),
    )
        .into_response()
}

fn required_text<'a>(event: &'a Value, field: &str) -> Option<&'a str> {
    event
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

async fn delivery_event(State(comms): State<Arc<Comms>>, body: Bytes) -> Response {
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return invalid("request body must be a JSON object");
    };
    let mut fields = Vec::new();
    for field in ["event_id", "provider", "delivery_state"] {
        if required_text(&event, field).is_none() {
            fields.push(field);
        }
    }
    if !fields.is_empty() {
        return invalid(&format!("{} must be non-blank strings", fields.join(", ")));
    }
    if event.get("payload").is_none_or(Value::is_null) {
        return invalid("payload is required");
    }
    let event_id = required_text(&event, "event_id").unwrap_or_default();
    let provider = required_text(&event, "provider").unwrap_or_default();
    let key = format!("{provider}::{event_id}");
    let replay = {
        let mut seen = comms.seen.lock();
        let replay = seen.contains_key(&key);
        if !replay {
            seen.insert(key, event.clone());
        }
        replay && !comms.faults.contains(&Fault::CommsReplayNotIdempotent)
    };
    let status = if replay {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    (
        status,
        axum::Json(json!({
            "event_id": event_id,
            "status": "accepted",
            "idempotentReplay": replay,
        })),
    )
        .into_response()
}
