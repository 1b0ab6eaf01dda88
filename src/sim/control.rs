//! The control service surface: health, readiness, authenticated status, the static host
//! (manifest, service worker, assets), session and sync token routes.

use super::{Fault, error_envelope, random_hex};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// Per-instance state: staging and prod differ only in environment name and token.
pub(super) struct ControlState {
    pub(super) environment: &'static str,
    pub(super) token: String,
    pub(super) faults: Arc<HashSet<Fault>>,
    pub(super) started: Instant,
    pub(super) offsite_url: String,
}

impl ControlState {
    pub(super) fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    pub(super) fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        // The scheme is case-insensitive (RFC 9110 §11.1); the credential is not.
        match value.split_once(' ') {
            Some((scheme, credential)) => {
                scheme.eq_ignore_ascii_case("bearer") && credential.trim() == self.token
            }
            None => false,
        }
    }
}

type Shared = State<Arc<ControlState>>;

pub(super) const MANIFEST_JS: &str = "/assets/webshell-3f9a2b7c1d4e.js";
pub(super) const MANIFEST_CSS: &str = "/assets/webshell-8c7d6e5f4a3b.css";

const NO_CACHE: &str = "no-cache, no-store, must-revalidate";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT_CACHE: &str = "public, max-age=60";
const SYNC_TOKEN_TTL_SECONDS: i64 = 300;

/// The control service router for one environment.
pub(super) fn router(state: ControlState) -> Router {
    let htmx = super::htmx::router(&state);
    let route_split = super::route_split::router(&state);
    Router::new()
        .route("/readyz", get(readyz))
        .route("/healthz", get(healthz))
        .route("/api/v1/control/status", get(control_status))
        .route("/manifest.json", get(manifest))
        .route("/sw.js", get(service_worker))
        .route("/assets/{name}", get(asset))
        .route("/api/auth/session", get(session_primary))
        .route("/api/v1/auth/session", get(session_v1))
        .route("/api/sync/token", post(sync_token))
        // `any` so the retired route is a 404 for every method, like an unknown route, unless
        // the fault revives it.
        .route("/api/v1/sync/token", any(retired_sync_token))
        .merge(htmx)
        .merge(route_split)
        .merge(super::stats::router())
        .merge(super::inbox::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(Arc::new(state))
}

fn not_found_response() -> Response {
    error_envelope(StatusCode::NOT_FOUND, "not_found", "Not found.")
}

fn unauthorized() -> Response {
    error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.")
}

fn server_error() -> Response {
    error_envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Server Error.",
    )
}

async fn not_found() -> Response {
    not_found_response()
}

async fn method_not_allowed() -> Response {
    error_envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed.",
    )
}

async fn readyz(State(st): Shared) -> Response {
    if st.has(Fault::Readyz503) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "not_ready", "checks": {"database": "unavailable"}})),
        )
            .into_response();
    }
    axum::Json(json!({"status": "ready", "checks": {"database": "ok"}})).into_response()
}

async fn healthz(State(st): Shared) -> Response {
    if st.has(Fault::Healthz404) {
        return not_found_response();
    }
    axum::Json(json!({
        "status": "ok",
        "service": "openagents-control-service",
        "version": "sim",
        "uptime_seconds": st.started.elapsed().as_secs(),
        "auth_provider": "sim",
    }))
    .into_response()
}

async fn control_status(State(st): Shared, headers: HeaderMap) -> Response {
    // The fault models a broken backend, which fails before (and regardless of) auth.
    if st.has(Fault::ControlStatus500) {
        return server_error();
    }
    if !st.authorized(&headers) {
        return unauthorized();
    }
    axum::Json(json!({"data": {
        "service": "openagents-control-service",
        "status": "ok",
        "environment": st.environment,
    }}))
    .into_response()
}

async fn manifest(State(st): Shared) -> Response {
    let version = if st.has(Fault::ManifestVersionWrong) {
        "openagents.webshell.v1"
    } else {
        "openagents.webshell.v2"
    };
    let body = json!({
        "manifestVersion": version,
        "buildId": "sim",
        "js": MANIFEST_JS,
        "css": MANIFEST_CSS,
    });
    // Pretty-printed because checks match the literal text `"manifestVersion": "..."`.
    let text = serde_json::to_string_pretty(&body).expect("a json! value serializes");
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        text,
    )
        .into_response()
}

async fn service_worker(State(st): Shared) -> Response {
    let cache = if st.has(Fault::SwCacheWrong) {
        "public, max-age=3600"
    } else {
        NO_CACHE
    };
    (
        [
            (header::CONTENT_TYPE, "application/javascript"),
            (header::CACHE_CONTROL, cache),
        ],
        "// openagents sim service worker\nself.addEventListener('install', () => self.skipWaiting());\n",
    )
        .into_response()
}

async fn asset(State(st): Shared, Path(name): Path<String>) -> Response {
    let hashed_cache = if st.has(Fault::AssetNotImmutable) {
        SHORT_CACHE
    } else {
        IMMUTABLE
    };
    let (content_type, cache, body) = match format!("/assets/{name}").as_str() {
        MANIFEST_JS => (
            "application/javascript",
            hashed_cache,
            "console.log('openagents sim webshell');\n",
        ),
        MANIFEST_CSS => ("text/css", hashed_cache, "body { margin: 0; }\n"),
        "/assets/app.js" => (
            "application/javascript",
            SHORT_CACHE,
            "console.log('openagents sim app');\n",
        ),
        _ => return not_found_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

async fn session_primary(State(st): Shared, headers: HeaderMap) -> Response {
    // Redirecting before the auth check mirrors a misconfigured auth proxy, which bounces
    // clients (and whatever headers they forward) to another origin.
    if st.has(Fault::RedirectOffsite) {
        return (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("{}/capture/session", st.offsite_url),
            )],
        )
            .into_response();
    }
    session(&st, &headers)
}

async fn session_v1(State(st): Shared, headers: HeaderMap) -> Response {
    session(&st, &headers)
}

fn session(st: &ControlState, headers: &HeaderMap) -> Response {
    if st.has(Fault::Session401) || !st.authorized(headers) {
        return unauthorized();
    }
    axum::Json(json!({"data": {
        "session": {"id": "sess_sim", "expires_at": "2030-01-01T00:00:00Z"},
        "user": {"id": "user_sim", "email": "sim@openagents.com", "name": "Sim User"},
    }}))
    .into_response()
}

async fn sync_token(State(st): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if st.has(Fault::SyncToken500) {
        return server_error();
    }
    if !st.authorized(&headers) {
        return unauthorized();
    }
    match requested_scopes(&body) {
        Ok(scopes) => sync_token_payload(scopes),
        Err(problem) => invalid_scopes(problem),
    }
}

/// The `scopes` array of a sync token request, or why it is unusable.
fn requested_scopes(body: &[u8]) -> Result<Vec<String>, &'static str> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "The request body must be valid JSON.")?;
    let scopes = value
        .get("scopes")
        .and_then(Value::as_array)
        .ok_or("The scopes field is required and must be an array.")?;
    scopes
        .iter()
        .map(|scope| {
            scope
                .as_str()
                .map(str::to_owned)
                .ok_or("Each scope must be a string.")
        })
        .collect()
}

fn invalid_scopes(problem: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "message": problem,
            "error": {"code": "invalid_request", "message": problem},
            "errors": {"scopes": [problem]},
        })),
    )
        .into_response()
}

fn sync_token_payload(scopes: Vec<String>) -> Response {
    let issued = Utc::now();
    let expires = issued + chrono::Duration::seconds(SYNC_TOKEN_TTL_SECONDS);
    let granted_topics: Vec<String> = scopes
        .iter()
        .map(|scope| format!("org:org_sim:{scope}"))
        .collect();
    axum::Json(json!({"data": {
        // Fresh per request and unrelated to the access token, so a check can tell a real
        // exchange from an echo of its own credential.
        "token": format!("oa_sync_{}", random_hex(24)),
        "token_type": "Bearer",
        "expires_in": SYNC_TOKEN_TTL_SECONDS,
        "issued_at": issued.to_rfc3339_opts(SecondsFormat::Secs, true),
        "expires_at": expires.to_rfc3339_opts(SecondsFormat::Secs, true),
        "issuer": "https://openagents.com",
        "audience": "openagents-sync",
        "subject": "user:user_sim",
        "org_id": "org_sim",
        "claims_version": "oa_sync_claims_v1",
        "scopes": scopes,
        "granted_topics": granted_topics,
        "kid": "sync-sim-1",
        "token_id": format!("stk_{}", random_hex(8)),
        "session_id": "sess_sim",
        "device_id": "device_sim",
    }}))
    .into_response()
}

async fn retired_sync_token(State(st): Shared, method: Method, body: Bytes) -> Response {
    if method == Method::POST && st.has(Fault::RetiredRouteAlive) {
        // A forgotten legacy handler: no auth, lenient body, so the fault shows whatever
        // request a check sends.
        return sync_token_payload(requested_scopes(&body).unwrap_or_default());
    }
    not_found_response()
}
