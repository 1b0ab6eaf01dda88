//! The route-split API: status and per-domain HTMX overrides with a rollback matrix.
//! `GET /api/v1/control/route-split/status`, `POST /api/v1/control/route-split/override`
//! `{"target": "htmx_full_page" | "htmx_rollback" | "htmx_clear", "domain": d}` (bearer;
//! the override only for an admin's token, upstream `admin_email_gate`: 403 otherwise).

use super::accounts::Accounts;
use super::control_state::ControlState;
use super::routes::{Routes, SimRoute};
use super::{Fault, error_envelope};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The HTMX route groups and the route each falls back to on rollback.
const HTMX_ROLLBACK_MATRIX: &[(&str, &str)] = &[
    ("auth_entry", "rust_shell"),
    ("account_settings_admin", "rust_shell"),
    ("billing_l402", "legacy"),
    ("chat_pilot", "rust_shell"),
];

/// The domain `rollback-matrix-missing` drops from the matrix.
const MISSING_DOMAIN: &str = "chat_pilot";

struct SplitState {
    accounts: Arc<Accounts>,
    faults: Arc<HashSet<Fault>>,
    overrides: Mutex<BTreeMap<String, String>>,
}

type Shared = State<Arc<SplitState>>;

impl SplitState {
    /// The request's user, from its access token (upstream `auth_session_gate`).
    fn user(&self, headers: &HeaderMap) -> Option<String> {
        self.accounts.user(headers)
    }

    fn rollback_matrix(&self) -> BTreeMap<String, String> {
        HTMX_ROLLBACK_MATRIX
            .iter()
            .filter(|(d, _)| {
                !(self.faults.contains(&Fault::RollbackMatrixMissing) && *d == MISSING_DOMAIN)
            })
            .map(|(d, r)| (d.to_string(), r.to_string()))
            .collect()
    }

    fn status(&self) -> Value {
        let overrides: Map<String, Value> = self
            .overrides
            .lock()
            .iter()
            .map(|(d, v)| (d.clone(), Value::from(v.clone())))
            .collect();
        let groups: Vec<&str> = HTMX_ROLLBACK_MATRIX.iter().map(|(d, _)| *d).collect();
        json!({
            "enabled": true,
            "mode": "cohort",
            "cohort_percentage": 100,
            "rust_routes": ["/", "/chat", "/feed", "/settings"],
            "force_legacy": false,
            "route_groups": groups,
            "rollback_matrix": {"rust": "legacy"},
            "domain_overrides": {},
            "htmx_rollback_matrix": self.rollback_matrix(),
            "htmx_domain_overrides": overrides,
        })
    }
}

fn routes() -> Routes<Arc<SplitState>> {
    Routes::new("control")
        .get("/api/v1/control/route-split/status", status)
        .post("/api/v1/control/route-split/override", apply_override)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router<S: Clone + Send + Sync + 'static>(control: &ControlState) -> Router<S> {
    let state = SplitState {
        accounts: Arc::clone(&control.accounts),
        faults: Arc::clone(&control.faults),
        overrides: Mutex::new(BTreeMap::new()),
    };
    routes().into_parts().0.with_state(Arc::new(state))
}

fn unauthorized() -> Response {
    error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.")
}

fn invalid(message: &str) -> Response {
    error_envelope(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
}

async fn status(State(st): Shared, headers: HeaderMap) -> Response {
    if st.user(&headers).is_none() {
        return unauthorized();
    }
    axum::Json(json!({"data": st.status()})).into_response()
}

async fn apply_override(State(st): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let Some(user) = st.user(&headers) else {
        return unauthorized();
    };
    // Upstream `admin_email_gate`: the token's user must be listed in OA_ADMIN_EMAILS.
    if !st.accounts.is_admin(&user) {
        return error_envelope(StatusCode::FORBIDDEN, "forbidden", "Forbidden.");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The request body must be valid JSON.");
    };
    let target = request.get("target").and_then(Value::as_str).unwrap_or("");
    let domain = request.get("domain").and_then(Value::as_str).unwrap_or("");
    if !HTMX_ROLLBACK_MATRIX.iter().any(|(d, _)| *d == domain) {
        return invalid("Unknown route group domain.");
    }
    let rollback = st.rollback_matrix().get(domain).cloned();
    {
        let mut overrides = st.overrides.lock();
        match target {
            "htmx_full_page" => {
                let value = if st.faults.contains(&Fault::CanaryOverrideIgnored) {
                    // The bug: the request is acknowledged, the domain stays on its rollback route.
                    rollback.unwrap_or_else(|| "legacy".to_string())
                } else {
                    "full_page".to_string()
                };
                overrides.insert(domain.to_string(), value);
            }
            "htmx_rollback" => match rollback {
                Some(route) => {
                    overrides.insert(domain.to_string(), route);
                }
                None => return invalid("No rollback matrix entry for this domain."),
            },
            "htmx_clear" => {
                overrides.remove(domain);
            }
            _ => return invalid("target must be htmx_full_page, htmx_rollback or htmx_clear."),
        }
    }
    axum::Json(json!({"data": st.status()})).into_response()
}
