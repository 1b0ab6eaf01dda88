//! The "other origin": a recorder on its own loopback port. Redirect faults send clients here,
//! and what it recorded shows which headers (credentials in particular) crossed origins.

use super::routes::{Routes, SimRoute};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// One request the offsite recorder received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path and query string as sent, e.g. `/capture/session?x=1`.
    pub path_and_query: String,
    /// Every header in arrival order, names lower-case, repeated names kept.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name` (give it lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    // Repeated headers are joined with ", " (RFC 9110 §5.3) because the wire shape is an
    // object, which cannot hold a name twice.
    fn to_json(&self) -> Value {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            match headers.get_mut(name) {
                Some(Value::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(value);
                }
                _ => {
                    headers.insert(name.clone(), Value::String(value.clone()));
                }
            }
        }
        json!({"method": self.method, "path": self.path_and_query, "headers": headers})
    }
}

/// Shared log of recorded requests; cloned into the server and kept by [`super::Sim`].
#[derive(Debug, Clone, Default)]
pub(super) struct Recorder(Arc<Mutex<Vec<RecordedRequest>>>);

impl Recorder {
    pub(super) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.0.lock().clone()
    }
}

/// `GET /__recorded` lists what was recorded (and is itself never recorded, so polling it does
/// not change the answer); everything else is recorded and answered 200.
fn routes() -> Routes<Recorder> {
    Routes::new("offsite").get("/__recorded", list)
}

/// The recorder's own listing route; everything else reaches the recording fallback.
pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router(recorder: Recorder) -> Router {
    routes()
        .into_parts()
        .0
        .fallback(record)
        .with_state(recorder)
}

async fn list(State(recorder): State<Recorder>) -> Response {
    let entries: Vec<Value> = recorder
        .0
        .lock()
        .iter()
        .map(RecordedRequest::to_json)
        .collect();
    axum::Json(Value::Array(entries)).into_response()
}

async fn record(State(recorder): State<Recorder>, request: Request) -> Response {
    let path_and_query = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    recorder.0.lock().push(RecordedRequest {
        method: request.method().as_str().to_owned(),
        path_and_query,
        headers,
    });
    axum::Json(json!({"recorded": true})).into_response()
}
