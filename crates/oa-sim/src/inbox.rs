//! The Gmail inbox surface of the control service: the Google OAuth redirect, the inbox
//! thread list and detail, and the draft approve/reject and reply-send actions. Every route
//! needs the instance's bearer token; each instance keeps its own audit log.

use super::control_state::ControlState;
use super::routes::{Routes, SimRoute};
use super::{Fault, error_envelope, random_hex};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use chrono::{SecondsFormat, Utc};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Google's OAuth 2.0 authorization endpoint.
pub(super) const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub(super) const CALLBACK_PATH: &str = "/settings/integrations/google/callback";

struct Thread {
    id: &'static str,
    subject: &'static str,
    from_address: &'static str,
    snippet: &'static str,
    category: &'static str,
    risk: &'static str,
    draft_preview: &'static str,
    updated_at: &'static str,
}

const THREADS: &[Thread] = &[
    Thread {
        id: "thread_sim_001",
        subject: "Quote request: 40 GPU-hours",
        from_address: "buyer@example.com",
        snippet: "Could you quote 40 GPU-hours for next week?",
        category: "sales",
        risk: "low",
        draft_preview: "Thanks for reaching out: 40 GPU-hours are available next week.",
        updated_at: "2026-02-20T10:00:00Z",
    },
    Thread {
        id: "thread_sim_002",
        subject: "Invoice 2026-02",
        from_address: "billing@example.com",
        snippet: "Please find the February invoice attached.",
        category: "billing",
        risk: "medium",
        draft_preview: "Received, thank you. We will process it this week.",
        updated_at: "2026-02-19T16:30:00Z",
    },
];

/// Per-instance inbox state: the audit log (oldest first, as recorded) and each thread's
/// pending-approval flag once a draft was decided (upstream's `upsert_inbox_thread_state`:
/// approve clears it, reject sets it again).
#[derive(Default)]
struct Inbox {
    audit: Mutex<Vec<Value>>,
    pending_approval: Mutex<HashMap<String, bool>>,
}

type Store = Extension<Arc<Inbox>>;

fn routes() -> Routes<Arc<ControlState>> {
    Routes::new("control")
        .get("/settings/integrations/google/redirect", google_redirect)
        .get(CALLBACK_PATH, google_callback)
        .get("/api/inbox/threads", list_threads)
        .get("/api/inbox/threads/{id}", thread_detail)
        .post("/api/inbox/threads/{id}/draft/approve", approve)
        .post("/api/inbox/threads/{id}/draft/reject", reject)
        .post("/api/inbox/threads/{id}/reply/send", send_reply)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router() -> Router<Arc<ControlState>> {
    routes()
        .into_parts()
        .0
        .layer(Extension(Arc::new(Inbox::default())))
}

fn unauthorized() -> Response {
    error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.")
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("sim-{}", random_hex(8)))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn google_redirect(State(st): State<Arc<ControlState>>, headers: HeaderMap) -> Response {
    if !st.authorized(&headers) {
        return unauthorized();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let callback = if st.has(Fault::OauthRedirectWrong) {
        "/oauth/callback"
    } else {
        CALLBACK_PATH
    };
    let redirect_uri = format!("http://{host}{callback}");
    let mut location = url::Url::parse(GOOGLE_AUTH_URL).expect("a valid constant URL");
    location
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "oa-sim.apps.googleusercontent.com")
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair(
            "scope",
            "openid email https://www.googleapis.com/auth/gmail.modify",
        )
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("state", &random_hex(16));
    // axum's Redirect::to, as upstream: 303 See Other.
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

async fn google_callback(Query(query): Query<HashMap<String, String>>) -> Response {
    if !query.contains_key("code") || !query.contains_key("state") {
        return error_envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "The OAuth callback needs code and state.",
        );
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, "/settings/integrations?connected=google")],
    )
        .into_response()
}

fn thread_json(thread: &Thread, inbox: &Inbox) -> Value {
    let pending = inbox
        .pending_approval
        .lock()
        .get(thread.id)
        .copied()
        .unwrap_or(true);
    json!({
        "id": thread.id,
        "subject": thread.subject,
        "from_address": thread.from_address,
        "snippet": thread.snippet,
        "category": thread.category,
        "risk": thread.risk,
        "policy": "draft_requires_approval",
        "draft_preview": thread.draft_preview,
        "pending_approval": pending,
        "updated_at": thread.updated_at,
    })
}

/// The audit log as upstream's `list_inbox_audits_for_user` lists it: newest first, at most
/// `limit` entries (200 in a snapshot, 100 in a thread's detail).
fn audit_for(inbox: &Inbox, id: Option<&str>, limit: usize) -> Vec<Value> {
    inbox
        .audit
        .lock()
        .iter()
        .rev()
        .filter(|entry| id.is_none_or(|id| entry["thread_id"] == id))
        .take(limit)
        .cloned()
        .collect()
}

/// Upstream's `inbox_snapshot_for_user`: the first `limit` threads, the first one selected,
/// and the user's audit log.
fn snapshot(inbox: &Inbox, limit: usize) -> Value {
    let threads: Vec<Value> = THREADS
        .iter()
        .take(limit)
        .map(|t| thread_json(t, inbox))
        .collect();
    json!({
        "threads": threads,
        "selected_thread_id": THREADS.first().map(|t| t.id),
        "audit_log": audit_for(inbox, None, 200),
    })
}

async fn list_threads(
    State(st): State<Arc<ControlState>>,
    Extension(inbox): Store,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if st.has(Fault::Inbox500) {
        return error_envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Server Error.",
        );
    }
    if !st.authorized(&headers) {
        return unauthorized();
    }
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    axum::Json(json!({"data": {
        "request_id": request_id(&headers),
        "source": "threads",
        "snapshot": snapshot(&inbox, limit),
    }}))
    .into_response()
}

fn find(id: &str) -> Option<&'static Thread> {
    THREADS.iter().find(|t| t.id == id)
}

fn thread_not_found() -> Response {
    error_envelope(StatusCode::NOT_FOUND, "not_found", "Thread not found.")
}

async fn thread_detail(
    State(st): State<Arc<ControlState>>,
    Extension(inbox): Store,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !st.authorized(&headers) {
        return unauthorized();
    }
    let Some(thread) = find(&id) else {
        return thread_not_found();
    };
    // Upstream records that the thread was opened (`inbox_thread_detail`).
    inbox.audit.lock().push(json!({
        "thread_id": thread.id,
        "action": "select_thread",
        "detail": "thread detail loaded",
        "created_at": now(),
    }));
    axum::Json(json!({"data": {
        "request_id": request_id(&headers),
        "thread_id": thread.id,
        "thread": thread_json(thread, &inbox),
        "messages": [{
            "id": format!("{}_m1", thread.id),
            "from": thread.from_address,
            "to": "inbox-sim@openagents.com",
            "subject": thread.subject,
            "snippet": thread.snippet,
            "body": format!("{}\n\n-- sent from the sim", thread.snippet),
            "created_at": thread.updated_at,
        }],
        "audit_log": audit_for(&inbox, Some(thread.id), 100),
    }}))
    .into_response()
}

/// The optional `detail` / `body` string of an action's JSON body (absent or null is fine);
/// `Err` holds the 422 message.
fn optional_text(body: &[u8], field: &str) -> Result<Option<String>, String> {
    if body.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "The request body must be valid JSON.".to_string())?;
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("The {field} field must be a string.")),
    }
}

fn invalid_request(message: &str) -> Response {
    error_envelope(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
}

/// A draft decision as upstream's `inbox_thread_approve` / `inbox_thread_reject` make it: no
/// Gmail call and no check that the thread exists; the thread's pending-approval flag is set
/// (`pending_after`), the action is audited (with the body's `detail`, else upstream's default
/// text), and the answer is the inbox snapshot with `source` naming the action. It holds no
/// `thread_id`: a lane finds the decision in `snapshot.audit_log`.
fn decide(
    st: &ControlState,
    inbox: &Inbox,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
    decision: Decision,
) -> Response {
    if !st.authorized(headers) {
        return unauthorized();
    }
    let detail = match optional_text(body, "detail") {
        Ok(detail) => detail,
        Err(message) => return invalid_request(&message),
    };
    let (action, pending_after, default_detail) = match decision {
        Decision::Approve => ("approve_draft", false, "draft approved"),
        Decision::Reject => ("reject_draft", true, "draft rejected for manual revision"),
    };
    inbox
        .pending_approval
        .lock()
        .insert(id.to_string(), pending_after);
    inbox.audit.lock().push(json!({
        "thread_id": id,
        "action": action,
        "detail": detail.filter(|d| !d.trim().is_empty()).unwrap_or_else(|| default_detail.to_string()),
        "created_at": now(),
    }));
    axum::Json(json!({"data": {
        "request_id": request_id(headers),
        "source": action,
        "snapshot": snapshot(inbox, 20),
    }}))
    .into_response()
}

#[derive(Clone, Copy)]
enum Decision {
    Approve,
    Reject,
}

async fn approve(
    State(st): State<Arc<ControlState>>,
    Extension(inbox): Store,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    decide(&st, &inbox, &headers, &id, &body, Decision::Approve)
}

async fn reject(
    State(st): State<Arc<ControlState>>,
    Extension(inbox): Store,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    decide(&st, &inbox, &headers, &id, &body, Decision::Reject)
}

async fn send_reply(
    State(st): State<Arc<ControlState>>,
    Extension(inbox): Store,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if !st.authorized(&headers) {
        return unauthorized();
    }
    let Some(thread) = find(&id) else {
        return thread_not_found();
    };
    if let Err(message) = optional_text(&body, "body") {
        return invalid_request(&message);
    }
    let message_id = format!("<sim-{}@mail.gmail.com>", random_hex(8));
    // Upstream's audit entry for a sent reply (`inbox_thread_reply_send`).
    inbox.audit.lock().push(json!({
        "thread_id": thread.id,
        "action": "send_reply",
        "detail": format!("reply sent to {} ({message_id})", thread.from_address),
        "created_at": now(),
    }));
    let mut data = json!({
        "request_id": request_id(&headers),
        "thread_id": thread.id,
        "message_id": message_id,
        "status": "sent",
    });
    if st.has(Fault::ReplySendNoMessageId)
        && let Some(map) = data.as_object_mut()
    {
        map.remove("message_id");
    }
    axum::Json(json!({ "data": data })).into_response()
}
