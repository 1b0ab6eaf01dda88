//! The control service's HTMX web app (app-surface era only): shared state, sessions and the
//! htmx library; one file per page (login, chat, feed, settings) plus the page shell.
//!
//! Markup, routes and status messages follow upstream web_maud.rs and the lib.rs web handlers
//! at 6b173e913a. Pages load the real htmx library (npm package `htmx.org`, installed by
//! `scripts/setup.sh` into `vendor/node_modules`, never committed) from upstream's pinned
//! asset path. History restores always go to the server (`historyCacheSize: 0`, a deliberate
//! difference), so back/forward show what the server says a URL is, which is what the
//! `chat-history-broken` fault breaks.

mod chat;
mod feed;
mod login;
mod settings;
pub(super) mod shell;

use super::Fault;
use super::accounts::Accounts;
use super::control_state::ControlState;
use super::routes::{Routes, SimRoute};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// The one-time code the sim's login flow accepts (the sim sends no email).
pub const SIM_LOGIN_CODE: &str = "000000";

/// Longest delay `/sim/delay/{ms}` grants: it exists to calibrate measurements, not to hang.
const MAX_SIM_DELAY_MS: u64 = 10_000;

#[derive(Clone, Debug)]
struct Message {
    id: String,
    role: &'static str,
    text: String,
    created_at: String,
}

#[derive(Clone, Debug)]
struct Shout {
    id: u64,
    zone: String,
    body: String,
    created_at: String,
}

#[derive(Debug)]
struct Profile {
    name: String,
    email: String,
    updated_at: String,
}

#[derive(Debug, Default)]
struct Store {
    /// Thread ids in creation order; messages by thread.
    threads: Vec<String>,
    messages: HashMap<String, Vec<Message>>,
    shouts: Vec<Shout>,
    profile: Option<Profile>,
}

/// Per-instance state: the environment's accounts and faults, and what users created.
struct HtmxState {
    accounts: Arc<Accounts>,
    faults: Arc<HashSet<Fault>>,
    htmx_installed: bool,
    store: Mutex<Store>,
}

type Shared = State<Arc<HtmxState>>;

impl HtmxState {
    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    /// Whether the request carries a known access token: a bearer, or the `oa_access_token`
    /// cookie (upstream `session_bundle_from_headers`, `access_token_from_headers`).
    fn authenticated(&self, headers: &HeaderMap) -> bool {
        self.accounts.user(headers).is_some()
    }

    fn profile_name(&self) -> String {
        self.store
            .lock()
            .profile
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "Sim User".to_string())
    }
}

/// `HX-Request: true`, read as upstream web_htmx.rs does (trimmed, any case).
fn is_htmx(headers: &HeaderMap) -> bool {
    header_is_true(headers, "hx-request")
}

fn is_history_restore(headers: &HeaderMap) -> bool {
    header_is_true(headers, "hx-history-restore-request")
}

fn header_is_true(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn routes() -> Routes<Arc<HtmxState>> {
    let routes = Routes::new("control")
        .get("/sim/delay/{ms}", delay)
        .get("/favicon.ico", || async { StatusCode::NO_CONTENT });
    let routes = login::routes(routes);
    let routes = chat::routes(routes);
    let routes = feed::routes(routes);
    settings::routes(routes)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

/// The HTMX routes of one control instance, with their own state, ready to merge.
pub(super) fn router<S: Clone + Send + Sync + 'static>(control: &ControlState) -> Router<S> {
    let state = HtmxState {
        accounts: Arc::clone(&control.accounts),
        faults: Arc::clone(&control.faults),
        htmx_installed: control.htmx_library.is_some(),
        store: Mutex::new(Store::default()),
    };
    routes().into_parts().0.with_state(Arc::new(state))
}

/// A full page: upstream's shell, plus the sim's htmx configuration (server-side history
/// restores) and, when setup has not installed htmx, a visible hint.
fn page(st: &HtmxState, title: &str, path: &str, signed_in: bool, body: &str) -> Response {
    let warning = if st.htmx_installed || st.has(Fault::HtmxMissing) {
        String::new()
    } else {
        "<p id=\"sim-warning\">htmx library not installed: run oa-validate setup</p>".to_string()
    };
    let html = shell::page_html(title, path, signed_in, &format!("{warning}{body}")).replacen(
        "<title>",
        "<meta name=\"htmx-config\" content='{\"historyCacheSize\":0,\"refreshOnHistoryMiss\":false}'><title>",
        1,
    );
    shell::html_response(StatusCode::OK, shell::PAGE_CACHE, html)
}

/// The web shell's page for a path no page handler knows (upstream renders a placeholder
/// panel for it).
pub(super) fn placeholder_page(path: &str) -> Response {
    let body = format!(
        "<section class=\"oa-card oa-placeholder\"><h1>OpenAgents</h1><p class=\"oa-muted\">{}</p></section>",
        shell::esc(path)
    );
    shell::html_response(
        StatusCode::OK,
        shell::PAGE_CACHE,
        shell::page_html("OpenAgents", path, false, &body),
    )
}

/// A fragment answer (`text/html`, `no-store`, security headers).
fn fragment(body: String) -> Response {
    shell::html_response(StatusCode::OK, shell::FRAGMENT_CACHE, body)
}

fn redirect(to: &str) -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, to.to_string())],
    )
        .into_response()
}

/// An HTMX client redirect: 200 with `HX-Redirect` (upstream web_htmx.rs
/// `redirect_response`).
fn hx_redirect(to: &str) -> Response {
    let mut response = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::try_from(to) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("hx-redirect"), value);
    }
    response
}

/// A redirect as the request can follow it: `HX-Redirect` for htmx, else a plain redirect
/// (upstream's `redirect_response` / `Redirect::to`).
fn redirect_for(headers: &HeaderMap, to: &str) -> Response {
    if is_htmx(headers) {
        hx_redirect(to)
    } else {
        redirect(to)
    }
}

fn login_required(headers: &HeaderMap) -> Response {
    redirect_for(headers, "/login")
}

/// A fixed server-side delay, to calibrate timing measurements against.
async fn delay(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(Duration::from_millis(ms.min(MAX_SIM_DELAY_MS))).await;
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n").into_response()
}
