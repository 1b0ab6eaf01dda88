//! What the runtime's route files share: the instance's state (faults, start time, era, the
//! runs it holds), its JSON error shape and its pubkey rule. [`super::runtime`] composes the
//! read routes and [`super::runtime_writes`]; both import this, neither the other's.

use super::{Fault, SimEra};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

pub(crate) struct RuntimeState {
    pub(crate) faults: Arc<HashSet<Fault>>,
    pub(crate) started: Instant,
    pub(crate) era: SimEra,
    /// The runs created through the API, by id.
    pub(crate) runs: Mutex<HashMap<Uuid, Value>>,
}

impl RuntimeState {
    pub(crate) fn new(faults: Arc<HashSet<Fault>>, started: Instant, era: SimEra) -> Self {
        RuntimeState {
            faults,
            started,
            era,
            runs: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }
}

/// The runtime's error body `{"error": code, "message"}` (server.rs `ApiError`).
pub(crate) fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": code, "message": message})),
    )
        .into_response()
}

pub(crate) fn invalid_request(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// A 64-hex pubkey, lower-cased (credit/service.rs `sanitize_pubkey`), or `None`.
pub(crate) fn pubkey(raw: &str) -> Option<String> {
    let id = raw.trim().to_ascii_lowercase();
    (id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
}
