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

#[cfg(test)]
mod tests {
    use crate::sim::{Fault, Sim, SimConfig};
    use serde_json::{Value, json};

    async fn post(url: &str, body: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    fn event(id: &str) -> Value {
        json!({"event_id": id, "provider": "gmail", "delivery_state": "delivered",
               "payload": {"x": 1}})
    }

    #[tokio::test]
    async fn accepted_then_idempotent_replay_then_validation() {
        let sim = Sim::start(SimConfig::default()).await.expect("sim");
        let url = format!("{}{}", sim.staging.runtime_url, super::DELIVERY_EVENTS_PATH);
        let (status, body) = post(&url, event("e1")).await;
        assert_eq!((status, &body["idempotentReplay"]), (202, &json!(false)));
        assert_eq!(body["status"], "accepted");
        let (status, body) = post(&url, event("e1")).await;
        assert_eq!((status, &body["idempotentReplay"]), (200, &json!(true)));
        // The key is provider::event_id: another provider is a new event.
        let mut other = event("e1");
        other["provider"] = json!("sendgrid");
        assert_eq!(post(&url, other).await.0, 202);
        // Instances do not share events.
        let prod = format!("{}{}", sim.prod.runtime_url, super::DELIVERY_EVENTS_PATH);
        assert_eq!(post(&prod, event("e1")).await.0, 202);
        for (field, value) in [
            ("event_id", json!(" ")),
            ("provider", json!("")),
            ("delivery_state", json!(null)),
            ("payload", json!(null)),
        ] {
            let mut bad = event("e2");
            bad[field] = value;
            let (status, body) = post(&url, bad).await;
            assert_eq!(status, 400, "{field}");
            assert_eq!(body["error"], "invalid_request");
        }
    }

    #[tokio::test]
    async fn the_fault_accepts_a_replay_again() {
        let sim = Sim::start(SimConfig {
            faults: vec![Fault::CommsReplayNotIdempotent],
            ..SimConfig::default()
        })
        .await
        .expect("sim");
        let url = format!("{}{}", sim.staging.runtime_url, super::DELIVERY_EVENTS_PATH);
        assert_eq!(post(&url, event("e1")).await.0, 202);
        let (status, body) = post(&url, event("e1")).await;
        assert_eq!((status, &body["idempotentReplay"]), (202, &json!(false)));
    }
}
