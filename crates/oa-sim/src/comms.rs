//! The runtime's comms ingest route, `POST /internal/v1/comms/delivery-events` (upstream
//! server.rs `record_comms_delivery_event`): the control service forwards Gmail delivery
//! events here. The `Json` extractor requires `event_id`, `provider` and `delivery_state` as
//! strings (a null or missing one is axum's plain-text 422); the handler trims and
//! lower-cases them and answers 400 when one is blank or `payload` is null or missing.
//! Idempotent on `provider::event_id`: the first delivery answers 202 `accepted`, a replay
//! 200 with `idempotentReplay: true`.
//!
//! Only this route lives here, so the router merges into the runtime service's router
//! without overlapping it.

use super::Fault;
use super::routes::{Routes, SimRoute};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const DELIVERY_EVENTS_PATH: &str = "/internal/v1/comms/delivery-events";

struct Comms {
    faults: Arc<HashSet<Fault>>,
    /// `provider::event_id` → the event as first accepted.
    seen: Mutex<HashMap<String, Value>>,
}

fn routes() -> Routes<Arc<Comms>> {
    Routes::new("runtime").post(DELIVERY_EVENTS_PATH, delivery_event)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

/// The comms route with its own state (one event store per call: one per runtime instance).
pub fn router(faults: Arc<HashSet<Fault>>) -> Router {
    routes().into_parts().0.with_state(Arc::new(Comms {
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

#[derive(Deserialize)]
struct DeliveryEvent {
    event_id: String,
    provider: String,
    delivery_state: String,
    #[serde(default)]
    payload: Value,
}

async fn delivery_event(
    State(comms): State<Arc<Comms>>,
    axum::Json(event): axum::Json<DeliveryEvent>,
) -> Response {
    let event_id = event.event_id.trim().to_string();
    if event_id.is_empty() {
        return invalid("event_id is required");
    }
    let provider = event.provider.trim().to_ascii_lowercase();
    if provider.is_empty() {
        return invalid("provider is required");
    }
    if event.delivery_state.trim().is_empty() {
        return invalid("delivery_state is required");
    }
    if event.payload.is_null() {
        return invalid("payload is required");
    }
    let key = format!("{provider}::{event_id}");
    let replay = {
        let mut seen = comms.seen.lock();
        let replay = seen.contains_key(&key);
        if !replay {
            seen.insert(key, event.payload.clone());
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
    use crate::{Fault, Sim, SimConfig};
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
            ("delivery_state", json!("  ")),
            ("payload", json!(null)),
        ] {
            let mut bad = event("e2");
            bad[field] = value;
            let (status, body) = post(&url, bad).await;
            assert_eq!(status, 400, "{field}");
            assert_eq!(body["error"], "invalid_request");
        }
        // A null where the extractor wants a string is axum's plain-text 422, as upstream.
        let mut bad = event("e3");
        bad["delivery_state"] = json!(null);
        let (status, body) = post(&url, bad).await;
        assert_eq!((status, body), (422, Value::Null));
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
