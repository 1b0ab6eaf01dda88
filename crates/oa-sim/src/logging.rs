//! The Cloud Logging API v2 `entries:list` subset: validates the request as the API does,
//! honours the service name, severity and timestamp terms of the filter, and (under the
//! `error-logs-present` fault) holds fresh ERROR entries for the Cloud Run services.

use super::Fault;
use super::cloudrun::{GoogleState, google_error};
use super::routes::{Routes, SimRoute};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration as Age, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

fn routes() -> Routes<Arc<GoogleState>> {
    Routes::new("logging").post("/v2/entries:list", list)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router(state: Arc<GoogleState>) -> Router {
    super::cloudrun::google_router(routes(), state)
}

fn invalid(message: &str) -> Response {
    google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// The quoted value after `term` (a field and its operator, `timestamp>=`) in a filter.
fn quoted_term<'a>(filter: &'a str, term: &str) -> Option<&'a str> {
    let start = filter.find(&format!("{term}\""))? + term.len() + 1;
    let len = filter[start..].find('"')?;
    Some(&filter[start..start + len])
}

/// The entries the sim holds for `service`: only under the fault, and all at ERROR or above.
fn held_entries(st: &GoogleState, service: &str) -> Vec<Value> {
    if !st.has(Fault::ErrorLogsPresent) {
        return Vec::new();
    }
    let at = |minutes: i64| {
        (Utc::now() - Age::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Micros, true)
    };
    let labels = json!({"service_name": service, "revision_name": format!("{service}-sim-rev"),
                        "location": st.names.region, "project_id": st.names.project,
                        "configuration_name": service});
    vec![
        json!({
            "textPayload": "thread 'tokio-runtime-worker' panicked at src/server.rs:812:9: called `Result::unwrap()` on an `Err` value: PoolTimedOut",
            "insertId": "sim0000000000001",
            "resource": {"type": "cloud_run_revision", "labels": labels},
            "timestamp": at(2),
            "severity": "ERROR",
            "logName": format!("projects/{}/logs/run.googleapis.com%2Fstderr", st.names.project),
            "receiveTimestamp": at(2),
        }),
        json!({
            "httpRequest": {"requestMethod": "POST", "requestUrl": format!("https://{service}-sim-uc.a.run.app/internal/v1/runs"),
                            "status": 503, "latency": "0.012s"},
            "insertId": "sim0000000000002",
            "resource": {"type": "cloud_run_revision", "labels": labels},
            "timestamp": at(4),
            "severity": "ERROR",
            "logName": format!("projects/{}/logs/run.googleapis.com%2Frequests", st.names.project),
            "trace": format!("projects/{}/traces/4bf92f3577b34da6a3ce929d0e0e4736", st.names.project),
        }),
    ]
}

async fn list(State(st): State<Arc<GoogleState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = st.refusal(&headers) {
        return r;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received.");
    };
    let resources: Vec<&str> = request
        .get("resourceNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if resources.is_empty() {
        return invalid("resourceNames must name at least one resource.");
    }
    let project = format!("projects/{}", st.names.project);
    if !resources.contains(&project.as_str()) {
        return google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            &format!(
                "The caller does not have permission to read logs of {}",
                resources.join(", ")
            ),
        );
    }
    let page_size = request
        .get("pageSize")
        .and_then(Value::as_u64)
        .unwrap_or(50);
    if page_size == 0 || page_size > 1000 {
        return invalid("pageSize must be between 1 and 1000.");
    }
    let filter = request.get("filter").and_then(Value::as_str).unwrap_or("");
    let since = quoted_term(filter, "timestamp>=")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let mut entries = match quoted_term(filter, "resource.labels.service_name=") {
        Some(service) => held_entries(&st, service),
        None => [&st.names.control_service, &st.names.runtime_service]
            .iter()
            .flat_map(|s| held_entries(&st, s))
            .collect(),
    };
    entries.retain(|e| {
        let fresh = match (
            since,
            e["timestamp"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        ) {
            (Some(since), Some(at)) => at.with_timezone(&Utc) >= since,
            _ => true,
        };
        // Every held entry is ERROR: a filter asking for more than CRITICAL matches none.
        let severe = !filter.contains("severity>=CRITICAL") && !filter.contains("severity>=ALERT");
        fresh && severe
    });
    entries.truncate(page_size as usize);
    let mut body = json!({});
    if !entries.is_empty() {
        body["entries"] = json!(entries);
    }
    axum::Json(body).into_response()
}
