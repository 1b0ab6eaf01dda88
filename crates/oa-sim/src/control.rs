//! The control service surface (upstream `apps/openagents.com/service/src/lib.rs` at
//! 6b173e913a, `apps/openagents.com/src/` at d29e2a788f): health, readiness, authenticated
//! status, session and sync token routes; in the app-surface era also the static host
//! (manifest, service worker, assets) and the GET catch-all that serves the web shell.

use super::control_state::{ControlState, HTMX_ASSET};
use super::routes::{Routes, SimRoute};
use super::{Fault, SimEra, error_envelope, random_hex};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::Arc;

type Shared = State<Arc<ControlState>>;

/// The web shell entry as build-dist.sh names it: relative to the manifest, unhashed.
pub(super) const ENTRY_JS: &str = "assets/openagents_web_shell.js";
/// `asset-not-immutable`: a hashed entry (server rule: `-` + 8 alphanumerics) served short.
const HASHED_ENTRY_JS: &str = "assets/openagents_web_shell-3f9a2b7c.js";
/// `manifest-entry-missing`: an entry the deployment does not carry.
const MISSING_ENTRY_JS: &str = "assets/openagents_web_shell-5e1d0c9b.js";

const NO_CACHE: &str = "no-cache, no-store, must-revalidate";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT_CACHE: &str = "public, max-age=60";
const SYNC_TOKEN_TTL_SECONDS: i64 = 300;
/// The scopes the sync token issuer allows (sync_token.rs default topics).
const SYNC_SCOPES: &[&str] = &[
    "runtime.codex_worker_events",
    "runtime.codex_worker_summaries",
    "runtime.run_summaries",
];

/// The control routes of one era (state provided by [`router`]).
fn routes(era: SimEra) -> Routes<Arc<ControlState>> {
    let common = Routes::new("control")
        .get("/readyz", readyz)
        .get("/healthz", healthz)
        .get("/api/v1/control/status", control_status)
        .get("/api/auth/session", session_primary)
        .get("/api/v1/auth/session", session_v1)
        .post("/api/sync/token", sync_token);
    match era {
        SimEra::AppSurface => common
            .post("/api/v1/sync/token", v1_sync_token)
            .get("/manifest.json", manifest)
            .get("/sw.js", service_worker)
            .get("/assets/{*path}", asset)
            // GET-only, as upstream: any other method on an unrouted path is a 405.
            .get("/{*path}", web_shell_entry),
        SimEra::SpacetimeConvergence => common
            .get("/", landing_page)
            // Not routed upstream at d29e2a788f; registered so `retired-route-alive` can
            // revive it. Healthy, it answers exactly what an unrouted path does.
            .any("/api/v1/sync/token", retired_v1_sync_token),
    }
}

/// Every control route of `era`, with the HTMX, route-split, stats and inbox surfaces.
pub(super) fn inventory(era: SimEra) -> Vec<SimRoute> {
    let mut all = routes(era).into_parts().1;
    if era == SimEra::AppSurface {
        all.extend(super::htmx::inventory());
        all.extend(super::stats::inventory());
    }
    all.extend(super::route_split::inventory());
    all.extend(super::inbox::inventory());
    all
}

/// The control service router for one environment.
pub(super) fn router(state: ControlState) -> Router {
    let era = state.era;
    let route_split = super::route_split::router(&state);
    let inbox = super::inbox::router();
    let (own, _) = routes(era).into_parts();
    let mut app = own.merge(route_split).merge(inbox);
    if era == SimEra::AppSurface {
        app = app
            .merge(super::htmx::router(&state))
            .merge(super::stats::router());
    }
    app.with_state(Arc::new(state))
}

pub(super) fn not_found_response(message: &str) -> Response {
    error_envelope(StatusCode::NOT_FOUND, "not_found", message)
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

/// What axum answers for a path no route matches (upstream at d29e2a788f has no fallback).
fn unrouted() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

async fn readyz(State(st): Shared) -> Response {
    // Upstream is ready when its static directory exists, and says which one.
    let (status, word) = if st.has(Fault::Readyz503) {
        (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
    } else {
        (StatusCode::OK, "ready")
    };
    (
        status,
        axum::Json(json!({"status": word, "static_dir": "/app/static"})),
    )
        .into_response()
}

async fn healthz(State(st): Shared) -> Response {
    if st.has(Fault::Healthz404) {
        return not_found_response("Not found.");
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
        "authProvider": "sim",
        "activeOrgId": "org_sim",
        "memberships": [{"orgId": "org_sim", "role": "owner"}],
        "compatibility": {
            "protocolVersion": "khala.ws.v1",
            "minClientBuildId": "20260101T000000Z",
            "maxClientBuildId": null,
            "minSchemaVersion": 1,
            "maxSchemaVersion": 1,
        },
        "routeSplit": {"enabled": true, "mode": "cohort"},
        "runtimeRouting": {"default": "rust"},
    }}))
    .into_response()
}

// ---- static host (app-surface era) ----

/// The manifest build-dist.sh writes (indent 2, every entry path relative).
fn manifest_body(st: &ControlState) -> String {
    let version = if st.has(Fault::ManifestVersionWrong) {
        "openagents.webshell.v1"
    } else {
        "openagents.webshell.v2"
    };
    let js = if st.has(Fault::ManifestEntryMissing) {
        MISSING_ENTRY_JS
    } else if st.has(Fault::AssetNotImmutable) {
        HASHED_ENTRY_JS
    } else {
        ENTRY_JS
    };
    let build_id = "20260224T204800Z";
    let body = json!({
        "manifestVersion": version,
        "buildId": build_id,
        "entry": {
            "html": "index.html",
            "js": js,
            "wasm": "assets/openagents_web_shell_bg.wasm",
            "hostShim": "assets/host-shim.js",
        },
        "compatibility": {
            "protocolVersion": "khala.ws.v1",
            "minClientBuildId": build_id,
            "maxClientBuildId": null,
            "syncSchemaMin": 1,
            "syncSchemaMax": 1,
        },
        "serviceWorker": {
            "script": "sw.js",
            "cacheName": format!("openagents-web-shell::{build_id}"),
            "pinnedAssets": ["/index.html", "/assets/openagents_web_shell.js",
                             "/assets/openagents_web_shell_bg.wasm", "/assets/host-shim.js",
                             HTMX_ASSET],
            "rollbackCaches": [],
        },
    });
    serde_json::to_string_pretty(&body).expect("a json! value serializes") + "\n"
}

/// A static file response as upstream builds it: content type by extension, cache policy,
/// a strong ETag of the bytes, `Vary: Accept-Encoding` and `nosniff`.
fn static_response(content_type: &str, cache: &'static str, body: Vec<u8>) -> Response {
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&body)));
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CACHE_CONTROL, cache.to_string()),
            (header::VARY, "Accept-Encoding".to_string()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn manifest(State(st): Shared) -> Response {
    let cache = if st.has(Fault::ManifestCacheWrong) {
        "public, max-age=3600"
    } else {
        NO_CACHE
    };
    static_response("application/json", cache, manifest_body(&st).into_bytes())
}

async fn service_worker(State(st): Shared) -> Response {
    let cache = if st.has(Fault::SwCacheWrong) {
        "public, max-age=3600"
    } else {
        NO_CACHE
    };
    static_response(
        "text/javascript",
        cache,
        b"// openagents sim service worker\nself.addEventListener('install', () => self.skipWaiting());\n"
            .to_vec(),
    )
}

/// The server's hashed-asset rule: the file stem ends in `-` and 8 or more ASCII
/// alphanumerics (written from the rule; not upstream's code).
pub(super) fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, _extension)) = file.rsplit_once('.') else {
        return false;
    };
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    hash.len() >= 8 && hash.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `path` with empty, `.` and `..` segments refused, as upstream normalizes static paths.
fn normalized_static_path(path: &str) -> Option<String> {
    let trimmed = path.trim().trim_start_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for segment in trimmed.split('/') {
        let segment = segment.trim();
        if segment.is_empty() || segment == "." || segment == ".." {
            return None;
        }
        parts.push(segment);
    }
    Some(parts.join("/"))
}

/// The bytes and content type of a file under the static root's `assets/`, if deployed.
fn asset_file(st: &ControlState, name: &str) -> Option<(&'static str, Vec<u8>)> {
    let js = |text: &str| Some(("text/javascript", text.as_bytes().to_vec()));
    match name {
        "openagents_web_shell.js" => js("console.log('openagents sim web shell');\n"),
        "openagents_web_shell-3f9a2b7c.js" if st.has(Fault::AssetNotImmutable) => {
            js("console.log('openagents sim web shell (hashed)');\n")
        }
        "openagents_web_shell_bg.wasm" => Some(("application/wasm", b"\0asm\x01\0\0\0".to_vec())),
        "host-shim.js" => js("// openagents sim host shim\n"),
        "capability-policy.js" | "update-policy.js" => js("// openagents sim policy\n"),
        "htmx-2_0_8-22283ef6.js" if !st.has(Fault::HtmxMissing) => {
            let text = st
                .htmx_library
                .as_deref()
                .unwrap_or("console.error('htmx library not installed: run oa-validate setup');\n");
            Some(("text/javascript", text.as_bytes().to_vec()))
        }
        _ => None,
    }
}

fn serve_asset(st: &ControlState, relative: &str) -> Response {
    let name = relative.strip_prefix("assets/").unwrap_or(relative);
    let Some((content_type, body)) = asset_file(st, name) else {
        return not_found_response(&format!("Asset '{relative}' was not found."));
    };
    let cache = if is_hashed_asset(relative) && !st.has(Fault::AssetNotImmutable) {
        IMMUTABLE
    } else {
        SHORT_CACHE
    };
    static_response(content_type, cache, body)
}

async fn asset(State(st): Shared, Path(path): Path<String>) -> Response {
    match normalized_static_path(&path) {
        Some(relative) => serve_asset(&st, &relative),
        None => not_found_response(&format!("Asset '{path}' was not found.")),
    }
}

/// The GET catch-all (`/*path` -> `web_shell_entry`): API paths are a JSON 404, paths with
/// an extension are tried as static files, anything else renders the web shell.
async fn web_shell_entry(State(st): Shared, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") {
        return not_found_response(&format!("Route '{path}' was not found."));
    }
    let relative = path.trim_start_matches('/');
    let has_extension = relative
        .rsplit('/')
        .next()
        .is_some_and(|file| file.contains('.'));
    if has_extension {
        return match normalized_static_path(relative) {
            Some(relative) => serve_asset(&st, &relative),
            None => not_found_response(&format!("Asset '{path}' was not found.")),
        };
    }
    super::htmx::placeholder_page(path)
}

async fn landing_page() -> Response {
    Html(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OpenAgents</title></head>\
<body><main><h1>OpenAgents</h1><p><a href=\"/download-desktop\">Download Autopilot Desktop</a></p></main></body></html>\n",
    )
    .into_response()
}

// ---- sessions and sync tokens ----

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
        "session": {
            "sessionId": "sess_sim",
            "userId": "user_sim",
            "email": "sim@openagents.com",
            "deviceId": "device_sim",
            "status": "active",
            "tokenName": null,
            "issuedAt": "2026-02-24T00:00:00Z",
            "accessExpiresAt": "2030-01-01T00:00:00Z",
            "refreshExpiresAt": "2030-01-01T00:00:00Z",
            "activeOrgId": "org_sim",
            "reauthRequired": false,
            "lastRefreshedAt": null,
            "revokedAt": null,
            "revokedReason": null,
        },
        "user": {"id": "user_sim", "email": "sim@openagents.com", "name": "Sim User", "workosId": "user_sim_workos"},
        "memberships": [{"orgId": "org_sim", "role": "owner"}],
    }}))
    .into_response()
}

/// The sync token request body; upstream's `Json` extractor rejects anything else with a
/// plain-text 4xx before the handler runs.
#[derive(Deserialize)]
struct SyncTokenRequest {
    #[serde(default)]
    scopes: Vec<String>,
}

async fn sync_token(
    State(st): Shared,
    headers: HeaderMap,
    body: Result<axum::Json<SyncTokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if st.has(Fault::SyncToken500) {
        return server_error();
    }
    if !st.authorized(&headers) {
        return unauthorized();
    }
    match body {
        Ok(axum::Json(request)) => issue_sync_token(st.era, request.scopes),
        Err(rejection) => rejection.into_response(),
    }
}

async fn v1_sync_token(
    state: Shared,
    headers: HeaderMap,
    body: Result<axum::Json<SyncTokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if state.0.has(Fault::V1SyncTokenUnrouted) {
        // What the GET-only catch-all answers a POST to a path it matches.
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    sync_token(state, headers, body).await
}

async fn retired_v1_sync_token(
    State(st): Shared,
    body: Result<axum::Json<SyncTokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if st.has(Fault::RetiredRouteAlive) {
        // A forgotten legacy handler: no auth, lenient body, so the fault shows whatever
        // request a check sends.
        let scopes = body.map(|b| b.0.scopes).unwrap_or_default();
        return issue_sync_token(SimEra::AppSurface, scopes);
    }
    unrouted()
}

fn issue_sync_token(era: SimEra, requested: Vec<String>) -> Response {
    let mut scopes: Vec<String> = Vec::new();
    for scope in requested {
        let scope = scope.trim().to_string();
        if !scope.is_empty() && !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.iter().any(|s| !SYNC_SCOPES.contains(&s.as_str())) {
        return error_envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_scope",
            "requested sync scopes are not allowed",
        );
    }
    if scopes.is_empty() {
        scopes.push(SYNC_SCOPES[0].to_string());
    }
    let granted_topics: Vec<Value> = scopes
        .iter()
        .map(|scope| {
            let topic = match scope.as_str() {
                "runtime.codex_worker_events" => "org:org_sim:worker_events".to_string(),
                "runtime.codex_worker_summaries" => "org:org_sim:workers".to_string(),
                _ => "user:user_sim:runs".to_string(),
            };
            json!({"topic": topic, "required_scope": scope})
        })
        .collect();
    let issued = Utc::now();
    let expires = issued + chrono::Duration::seconds(SYNC_TOKEN_TTL_SECONDS);
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    // Fresh per request and unrelated to the access token (an HS256 JWT upstream), so a
    // check can tell a real exchange from an echo of its own credential.
    let token = format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        random_hex(24),
        random_hex(16)
    );
    let mut data = json!({
        "token": token,
        "token_type": "Bearer",
        "expires_in": SYNC_TOKEN_TTL_SECONDS,
        "issued_at": at(issued),
        "expires_at": at(expires),
        "issuer": "https://openagents.com",
        "audience": "openagents-sync",
        "subject": "user:user_sim",
        "org_id": "org_sim",
        "claims_version": "oa_sync_claims_v1",
        "scopes": scopes,
        "granted_topics": granted_topics,
        "kid": "sync-sim-1",
        "token_id": format!("sync_{}", random_hex(16)),
        "session_id": "sess_sim",
        "device_id": "device_sim",
    });
    if era == SimEra::SpacetimeConvergence {
        // d29e2a788f's SyncTokenResult: a Spacetime transport with refresh hints and streams.
        let refresh_in = (SYNC_TOKEN_TTL_SECONDS - 30).max(1);
        let streams: Vec<Value> = data["granted_topics"]
            .as_array()
            .map(|topics| {
                topics
                    .iter()
                    .map(|t| json!({"stream": t["topic"], "required_scope": t["required_scope"]}))
                    .collect()
            })
            .unwrap_or_default();
        data["transport"] = json!("spacetime_ws");
        data["protocol_version"] = json!("spacetime.sync.v1");
        data["refresh_after_in"] = json!(refresh_in);
        data["refresh_after"] = json!(at(issued + chrono::Duration::seconds(refresh_in)));
        data["granted_streams"] = json!(streams);
    }
    axum::Json(json!({ "data": data })).into_response()
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn the_hashed_asset_rule_is_the_servers() {
        for hashed in [
            "assets/htmx-2_0_8-22283ef6.js",
            "assets/openagents_web_shell-3f9a2b7c.js",
            "app-ABCDEFGH.css",
            "x-abcdefghij.js",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
        }
        for plain in [
            "assets/openagents_web_shell.js",
            "assets/webshell3f9a2b7c1d4e.js",
            "app-1234567.js",
            "app-1234_5678.js",
            "noextension-12345678",
        ] {
            assert!(!is_hashed_asset(plain), "{plain}");
        }
    }
}
