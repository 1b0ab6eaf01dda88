//! The control service's HTMX surface: login, chat, feed and settings pages and their
//! fragments, the session bootstrap, and the read-back APIs the browser smoke polls
//! (`/api/runtime/threads/{id}/messages`, `/api/settings/profile`).
//!
//! Pages load the real htmx library (npm package `htmx.org`, installed by
//! `scripts/setup.sh` into `vendor/node_modules`, never committed) from `/vendor/htmx.min.js`.
//! History restores always go to the server (`historyCacheSize: 0`), so back/forward show
//! what the server says a URL is, which is what the `chat-history-broken` fault breaks.

use super::control::ControlState;
use super::{Fault, error_envelope, random_hex};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SecondsFormat, Utc};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The one-time code the sim's login flow accepts (the sim sends no email).
pub const SIM_LOGIN_CODE: &str = "000000";
/// The session cookie set by the login flow and by the token bootstrap.
pub const SESSION_COOKIE: &str = "oa_session";
/// Where setup installs htmx, relative to the repository root.
pub const HTMX_RELATIVE_PATH: &str = "vendor/node_modules/htmx.org/dist/htmx.min.js";

const ZONES: &[&str] = &["all", "general", "builders", "l402"];
/// Over the `feed_main_fragment_hx` budget of 700 ms.
const SLOW_FEED_DELAY: Duration = Duration::from_millis(800);
/// Over the `login_email_hx` budget of 12000 bytes.
const LARGE_LOGIN_PADDING: usize = 16 * 1024;
/// Longest delay `/sim/delay/{ms}` grants: it exists to calibrate measurements, not to hang.
const MAX_SIM_DELAY_MS: u64 = 10_000;

/// The htmx library's text, read once per process, or `None` when setup has not installed it.
fn htmx_library() -> Option<&'static str> {
    static LIBRARY: OnceLock<Option<String>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            htmx_candidates()
                .into_iter()
                .find_map(|path| std::fs::read_to_string(path).ok())
        })
        .as_deref()
}

/// Where to look for htmx: the working directory (a checkout), then the source tree this
/// binary was built from.
pub fn htmx_candidates() -> Vec<PathBuf> {
    vec![
        PathBuf::from(HTMX_RELATIVE_PATH),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(HTMX_RELATIVE_PATH),
    ]
}

/// Whether the htmx library can be served (setup ran).
pub fn htmx_installed() -> bool {
    htmx_library().is_some()
}

#[derive(Clone, Debug)]
struct Message {
    id: String,
    role: &'static str,
    text: String,
    created_at: String,
}

#[derive(Clone, Debug)]
struct Post {
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
    sessions: HashSet<String>,
    /// Thread ids in creation order; messages by thread.
    threads: Vec<String>,
    messages: HashMap<String, Vec<Message>>,
    posts: Vec<Post>,
    profile: Option<Profile>,
}

/// Per-instance state: the environment's token and faults, and what users created.
struct HtmxState {
    token: String,
    faults: Arc<HashSet<Fault>>,
    store: Mutex<Store>,
}

type Shared = State<Arc<HtmxState>>;

impl HtmxState {
    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    fn bearer_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, credential)| {
                scheme.eq_ignore_ascii_case("bearer") && credential.trim() == self.token
            })
    }

    fn session_ok(&self, headers: &HeaderMap) -> bool {
        session_cookie(headers).is_some_and(|s| self.store.lock().sessions.contains(&s))
    }

    fn authenticated(&self, headers: &HeaderMap) -> bool {
        self.bearer_ok(headers) || self.session_ok(headers)
    }

    fn new_session(&self) -> String {
        let id = random_hex(24);
        self.store.lock().sessions.insert(id.clone());
        id
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

fn is_history_restore(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-history-restore-request")
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// HTML-escapes text for element content and double-quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTMX routes of one control instance, with their own state, ready to merge.
pub(super) fn router<S: Clone + Send + Sync + 'static>(control: &ControlState) -> Router<S> {
    let state = HtmxState {
        token: control.token.clone(),
        faults: Arc::clone(&control.faults),
        store: Mutex::new(Store::default()),
    };
    Router::new()
        .route("/vendor/htmx.min.js", get(htmx_js))
        .route("/login", get(login_page))
        .route("/login/email", post(login_email))
        .route("/login/verify", post(login_verify))
        .route("/api/auth/browser-session", post(browser_session))
        .route("/", get(home))
        .route("/chat/new", post(chat_new))
        .route("/chat/{thread}", get(chat_page))
        .route("/chat/{thread}/send", post(chat_send))
        .route(
            "/api/runtime/threads/{thread}/messages",
            get(thread_messages),
        )
        .route("/feed", get(feed_page))
        .route("/feed/fragments/main", get(feed_fragment))
        .route("/feed/posts", post(feed_post))
        .route("/settings/profile", get(settings_page))
        .route("/settings/profile/update", post(settings_update))
        .route("/api/settings/profile", get(settings_profile))
        .route("/sim/delay/{ms}", get(delay))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .with_state(Arc::new(state))
}

fn page(st: &HtmxState, title: &str, body: &str) -> Response {
    let warning = if htmx_installed() || st.has(Fault::HtmxMissing) {
        String::new()
    } else {
        // Without the library the pages cannot work; say how to fix it where a person looks.
        "<p id=\"sim-warning\">htmx library not installed: run scripts/setup.sh</p>".to_string()
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{title} - OpenAgents (sim)</title>\
<meta name=\"htmx-config\" content='{{\"historyCacheSize\":0,\"refreshOnHistoryMiss\":false}}'>\
<script src=\"/vendor/htmx.min.js\"></script></head>\n<body>\
<nav id=\"site-nav\"><a href=\"/\">Chat</a> <a href=\"/feed?zone=all\">Feed</a> \
<a href=\"/settings/profile\">Settings</a></nav>\n{warning}{body}\n</body></html>\n",
        title = esc(title)
    );
    Html(html).into_response()
}

async fn htmx_js(State(st): Shared) -> Response {
    if st.has(Fault::HtmxMissing) {
        return error_envelope(StatusCode::NOT_FOUND, "not_found", "Not found.");
    }
    match htmx_library() {
        Some(text) => (
            [
                (header::CONTENT_TYPE, "application/javascript"),
                (header::CACHE_CONTROL, "public, max-age=60"),
            ],
            text,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/javascript")],
            "console.error('htmx library not installed: run scripts/setup.sh');\n",
        )
            .into_response(),
    }
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

fn login_required(headers: &HeaderMap) -> Response {
    if is_htmx(headers) {
        return error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.");
    }
    redirect("/login")
}

// ---- login and session ----

async fn login_page(State(st): Shared) -> Response {
    page(
        &st,
        "Log in",
        "<main id=\"login-surface\"><h1>Log in</h1>\
<form action=\"/login/email\" method=\"post\" hx-post=\"/login/email\" hx-target=\"#login-status\" hx-swap=\"outerHTML\">\
<input type=\"email\" name=\"email\" id=\"login-email\" required><button type=\"submit\">Send code</button></form>\
<div id=\"login-status\"></div></main>",
    )
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn login_email(State(st): Shared, Form(form): Form<EmailForm>) -> Response {
    let mut html = format!(
        "<div id=\"login-status\"><p>Code sent to {email}.</p>\
<form action=\"/login/verify\" method=\"post\" hx-post=\"/login/verify\" hx-target=\"#login-status\" hx-swap=\"outerHTML\">\
<input type=\"hidden\" name=\"email\" value=\"{email}\"><input name=\"code\" id=\"login-code\" inputmode=\"numeric\">\
<button type=\"submit\">Verify</button></form></div>",
        email = esc(&form.email)
    );
    if st.has(Fault::LoginTooLarge) {
        html.push_str(&format!("<!-- {} -->", "x".repeat(LARGE_LOGIN_PADDING)));
    }
    Html(html).into_response()
}

#[derive(Deserialize)]
struct VerifyForm {
    email: String,
    code: String,
}

async fn login_verify(
    State(st): Shared,
    headers: HeaderMap,
    Form(form): Form<VerifyForm>,
) -> Response {
    if form.code.trim() != SIM_LOGIN_CODE {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html("<div id=\"login-status\"><p>Invalid code.</p></div>"),
        )
            .into_response();
    }
    {
        let mut store = st.store.lock();
        store.profile.get_or_insert_with(|| Profile {
            name: "Sim User".to_string(),
            email: form.email.clone(),
            updated_at: now(),
        });
    }
    let cookie = set_session_cookie(&st.new_session());
    if is_htmx(&headers) {
        return (
            [
                (header::SET_COOKIE, cookie),
                (
                    header::HeaderName::from_static("hx-redirect"),
                    HeaderValue::from_static("/"),
                ),
            ],
            Html("<div id=\"login-status\"><p>Signed in.</p></div>"),
        )
            .into_response();
    }
    ([(header::SET_COOKIE, cookie)], redirect("/")).into_response()
}

fn set_session_cookie(session: &str) -> HeaderValue {
    HeaderValue::try_from(format!(
        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("oa_session=; Path=/"))
}

/// Token bootstrap: a bearer token buys a browser session cookie.
async fn browser_session(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.bearer_ok(&headers) {
        return error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.");
    }
    let cookie = set_session_cookie(&st.new_session());
    (
        [(header::SET_COOKIE, cookie)],
        axum::Json(json!({"data": {"cookie": SESSION_COOKIE, "path": "/"}})),
    )
        .into_response()
}

// ---- chat ----

fn chat_surface(st: &HtmxState, thread: Option<&str>, status: &str) -> String {
    let thread_html = match thread {
        None => "<section id=\"chat-thread\" data-thread-id=\"\"><p>No thread yet.</p></section>"
            .to_string(),
        Some(id) => {
            let store = st.store.lock();
            let items: String = store
                .messages
                .get(id)
                .map(|msgs| {
                    msgs.iter()
                        .map(|m| {
                            format!(
                                "<li class=\"chat-message\" data-role=\"{}\">{}</li>",
                                m.role,
                                esc(&m.text)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "<section id=\"chat-thread\" data-thread-id=\"{id}\"><h2>{id}</h2>\
<ul id=\"chat-messages\">{items}</ul>\
<form class=\"chat-send\" action=\"/chat/{id}/send\" method=\"post\" hx-post=\"/chat/{id}/send\" hx-target=\"#chat-status\" hx-swap=\"outerHTML\">\
<textarea name=\"text\"></textarea><button type=\"submit\">Send</button></form></section>",
                id = esc(id)
            )
        }
    };
    format!(
        "<main id=\"chat-surface\" data-thread-id=\"{tid}\">\
<form action=\"/chat/new\" method=\"post\" hx-post=\"/chat/new\" hx-target=\"#chat-surface\" hx-swap=\"outerHTML\">\
<button type=\"submit\">New thread</button></form>\
<div id=\"chat-status\">{status}</div>{thread_html}</main>",
        tid = esc(thread.unwrap_or("")),
        status = esc(status)
    )
}

async fn home(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    page(&st, "Chat", &chat_surface(&st, None, ""))
}

async fn chat_new(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let id = format!("thread_{}", random_hex(8));
    {
        let mut store = st.store.lock();
        store.threads.push(id.clone());
        store.messages.insert(id.clone(), Vec::new());
    }
    let location = format!("/chat/{id}");
    if !is_htmx(&headers) {
        return redirect(&location);
    }
    let push = HeaderValue::try_from(location.as_str()).unwrap_or(HeaderValue::from_static("/"));
    (
        [
            (header::HeaderName::from_static("hx-push-url"), push.clone()),
            (header::LOCATION, push),
        ],
        Html(chat_surface(&st, Some(&id), "thread created")),
    )
        .into_response()
}

async fn chat_page(State(st): Shared, headers: HeaderMap, Path(thread): Path<String>) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let shown = {
        let store = st.store.lock();
        if !store.messages.contains_key(&thread) {
            return error_envelope(StatusCode::NOT_FOUND, "not_found", "Not found.");
        }
        if st.has(Fault::ChatHistoryBroken) && is_history_restore(&headers) {
            // The bug: history restores render whatever thread is newest.
            store.threads.last().cloned().unwrap_or(thread.clone())
        } else {
            thread.clone()
        }
    };
    let surface = chat_surface(&st, Some(&shown), "");
    if is_htmx(&headers) && !is_history_restore(&headers) {
        return Html(surface).into_response();
    }
    page(&st, "Chat", &surface)
}

#[derive(Deserialize)]
struct SendForm {
    text: String,
}

async fn chat_send(
    State(st): Shared,
    headers: HeaderMap,
    Path(thread): Path<String>,
    Form(form): Form<SendForm>,
) -> Response {
    if st.has(Fault::ChatSend500) {
        return error_envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Server Error.",
        );
    }
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let mut store = st.store.lock();
    let Some(messages) = store.messages.get_mut(&thread) else {
        return error_envelope(StatusCode::NOT_FOUND, "not_found", "Not found.");
    };
    let at = now();
    messages.push(Message {
        id: format!("msg_{}", random_hex(6)),
        role: "user",
        text: form.text.clone(),
        created_at: at.clone(),
    });
    messages.push(Message {
        id: format!("msg_{}", random_hex(6)),
        role: "assistant",
        text: format!("(sim) received: {}", form.text),
        created_at: at,
    });
    Html("<div id=\"chat-status\">message sent</div>").into_response()
}

async fn thread_messages(
    State(st): Shared,
    headers: HeaderMap,
    Path(thread): Path<String>,
) -> Response {
    if !st.authenticated(&headers) {
        return error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.");
    }
    let store = st.store.lock();
    let Some(messages) = store.messages.get(&thread) else {
        return error_envelope(StatusCode::NOT_FOUND, "not_found", "Not found.");
    };
    let list: Vec<_> = messages
        .iter()
        .map(|m| json!({"id": m.id, "role": m.role, "text": m.text, "created_at": m.created_at}))
        .collect();
    axum::Json(json!({"data": {"thread_id": thread, "messages": list}})).into_response()
}

// ---- feed ----

#[derive(Deserialize)]
struct ZoneQuery {
    zone: Option<String>,
}

fn zone_of(query: &ZoneQuery) -> String {
    query
        .zone
        .as_deref()
        .filter(|z| !z.is_empty())
        .unwrap_or("all")
        .to_string()
}

fn feed_panel(st: &HtmxState, zone: &str) -> String {
    let store = st.store.lock();
    let mut posts: Vec<&Post> = store
        .posts
        .iter()
        .filter(|p| zone == "all" || p.zone == zone)
        .collect();
    posts.reverse();
    let mut items = String::new();
    for p in posts.iter().take(100) {
        items.push_str(&format!(
            "<article class=\"feed-post\" data-zone=\"{}\"><p>{}</p><time>{}</time></article>",
            esc(&p.zone),
            esc(&p.body),
            esc(&p.created_at)
        ));
    }
    // A few static items so the fragment has a realistic size even on a fresh instance.
    for i in 0..12 {
        items.push_str(&format!(
            "<article class=\"feed-post feed-seed\" data-zone=\"general\"><p>Welcome post {i}: \
the OpenAgents feed shows shouts from every zone.</p></article>"
        ));
    }
    format!(
        "<section id=\"feed-main-panel\" data-zone=\"{zone}\"><h2>Zone: {zone}</h2>{items}</section>",
        zone = esc(zone)
    )
}

async fn feed_page(State(st): Shared, Query(query): Query<ZoneQuery>) -> Response {
    let zone = zone_of(&query);
    let links: String = ZONES
        .iter()
        .map(|z| {
            format!(
                "<a class=\"zone-link\" data-zone=\"{z}\" href=\"/feed?zone={z}\" \
hx-get=\"/feed/fragments/main?zone={z}\" hx-target=\"#feed-main-panel\" hx-swap=\"outerHTML\" \
hx-push-url=\"/feed?zone={z}\">{z}</a> "
            )
        })
        .collect();
    let options: String = ZONES
        .iter()
        .filter(|z| **z != "all")
        .map(|z| format!("<option value=\"{z}\">{z}</option>"))
        .collect();
    let body = format!(
        "<main id=\"feed-surface\"><nav id=\"feed-zones\">{links}</nav>\
<form class=\"feed-compose\" action=\"/feed/posts\" method=\"post\" hx-post=\"/feed/posts\" hx-target=\"#feed-main-panel\" hx-swap=\"outerHTML\">\
<select name=\"zone\">{options}</select><textarea name=\"body\"></textarea><button type=\"submit\">Shout</button></form>\
{panel}</main>",
        panel = feed_panel(&st, &zone)
    );
    page(&st, "Feed", &body)
}

async fn feed_fragment(State(st): Shared, Query(query): Query<ZoneQuery>) -> Response {
    if st.has(Fault::FeedFragmentSlow) {
        tokio::time::sleep(SLOW_FEED_DELAY).await;
    }
    Html(feed_panel(&st, &zone_of(&query))).into_response()
}

#[derive(Deserialize)]
struct PostForm {
    zone: String,
    body: String,
}

async fn feed_post(State(st): Shared, headers: HeaderMap, Form(form): Form<PostForm>) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let zone = if ZONES.contains(&form.zone.as_str()) && form.zone != "all" {
        form.zone.clone()
    } else {
        return error_envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "Unknown zone.",
        );
    };
    st.store.lock().posts.push(Post {
        zone: zone.clone(),
        body: form.body,
        created_at: now(),
    });
    Html(feed_panel(&st, &zone)).into_response()
}

// ---- settings ----

fn profile_json(st: &HtmxState) -> serde_json::Value {
    let store = st.store.lock();
    match &store.profile {
        Some(p) => json!({"name": p.name, "email": p.email, "updated_at": p.updated_at}),
        None => json!({"name": "Sim User", "email": "sim@openagents.com", "updated_at": null}),
    }
}

async fn settings_page(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let profile = profile_json(&st);
    let name = profile["name"].as_str().unwrap_or_default().to_string();
    let body = format!(
        "<main id=\"settings-surface\"><h1>Profile</h1>\
<form id=\"settings-form\" action=\"/settings/profile/update\" method=\"post\" hx-post=\"/settings/profile/update\" hx-target=\"#settings-status\" hx-swap=\"outerHTML\">\
<input id=\"settings-name\" name=\"name\" value=\"{}\"><button type=\"submit\">Save</button></form>\
<div id=\"settings-status\"></div></main>",
        esc(&name)
    );
    page(&st, "Settings", &body)
}

#[derive(Deserialize)]
struct ProfileForm {
    name: String,
}

async fn settings_update(
    State(st): Shared,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    if !st.has(Fault::SettingsNotSaved) {
        let mut store = st.store.lock();
        let email = store
            .profile
            .as_ref()
            .map(|p| p.email.clone())
            .unwrap_or_else(|| "sim@openagents.com".to_string());
        store.profile = Some(Profile {
            name: form.name,
            email,
            updated_at: now(),
        });
    }
    Html("<div id=\"settings-status\">Profile updated</div>").into_response()
}

async fn settings_profile(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.authenticated(&headers) {
        return error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.");
    }
    axum::Json(json!({"data": profile_json(&st)})).into_response()
}

/// A fixed server-side delay, to calibrate timing measurements against.
async fn delay(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(Duration::from_millis(ms.min(MAX_SIM_DELAY_MS))).await;
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n").into_response()
}
