//! The chat (Codex) page: thread list, thread content, new thread, send message, and the
//! messages API the browser smoke polls (upstream `web_chat_new_thread`,
//! `web_chat_thread_fragment`, `web_chat_send_message`, `list_runtime_thread_messages`;
//! web_maud.rs `chat_panel`).

use super::{
    HtmxState, Message, Shared, fragment, is_history_restore, is_htmx, login_required, now, page,
    redirect, shell,
};
use crate::routes::Routes;
use crate::{Fault, error_envelope, random_hex};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use super::shell::esc;

pub(super) fn routes(routes: Routes<Arc<HtmxState>>) -> Routes<Arc<HtmxState>> {
    routes
        .get("/", home)
        .post("/chat/new", chat_new)
        .get("/chat/{thread}", chat_page)
        .get("/chat/fragments/thread/{thread}", thread_fragment)
        .post("/chat/{thread}/send", chat_send)
        .get("/api/runtime/threads/{thread}/messages", thread_messages)
}

fn thread_list_panel(
    st: &HtmxState,
    status: Option<&str>,
    active: Option<&str>,
    oob: bool,
) -> String {
    let store = st.store.lock();
    let items: String = if store.threads.is_empty() {
        "<li class=\"oa-thread-empty\">No threads yet.</li>".to_string()
    } else {
        store
            .threads
            .iter()
            .rev()
            .map(|id| {
                let class = if Some(id.as_str()) == active {
                    "oa-thread-link active"
                } else {
                    "oa-thread-link"
                };
                let count = store.messages.get(id).map_or(0, Vec::len);
                format!(
                    "<li><a href=\"/chat/{id}\" hx-get=\"/chat/fragments/thread/{id}\" hx-target=\"#chat-thread-content-panel\" hx-swap=\"outerHTML\" hx-push-url=\"/chat/{id}\" hx-boost=\"false\" class=\"{class}\">\
<span class=\"oa-thread-title\">{id}</span><span class=\"oa-thread-meta\">{count} msg</span></a></li>",
                    id = esc(id)
                )
            })
            .collect()
    };
    let oob = if oob {
        " hx-swap-oob=\"outerHTML\""
    } else {
        ""
    };
    format!(
        "<aside id=\"chat-thread-list-panel\"{oob} class=\"oa-card oa-thread-list\"><h2>Threads</h2>{slot}\
<form method=\"post\" action=\"/chat/new\" hx-post=\"/chat/new\" hx-target=\"#chat-thread-content-panel\" hx-swap=\"outerHTML\">\
<div class=\"oa-action-row\"><button type=\"submit\" class=\"oa-btn primary\">New thread</button></div></form>\
<ul class=\"oa-thread-items\">{items}</ul></aside>",
        slot = shell::status_slot("chat-status", status)
    )
}

fn content_panel(st: &HtmxState, thread: Option<&str>) -> String {
    let Some(id) = thread else {
        return "<article id=\"chat-thread-content-panel\" class=\"oa-card oa-chat-main\"><h2>Codex</h2>\
<p class=\"oa-muted\">Create a thread to begin. Live worker events remain WS-only.</p></article>"
            .to_string();
    };
    let messages: String = {
        let store = st.store.lock();
        let list = store.messages.get(id).cloned().unwrap_or_default();
        if list.is_empty() {
            "<div class=\"oa-message-empty\">No messages yet. Send a message to start.</div>"
                .to_string()
        } else {
            list.iter()
                .map(|m| {
                    format!(
                        "<article class=\"oa-msg {role}\"><header>{role} · {at}</header><pre>{text}</pre></article>",
                        role = m.role,
                        at = esc(&m.created_at),
                        text = esc(&m.text)
                    )
                })
                .collect()
        }
    };
    format!(
        "<article id=\"chat-thread-content-panel\" class=\"oa-card oa-chat-main\" hx-get=\"/chat/fragments/thread/{id}\" hx-trigger=\"chat-message-sent from:body, every 2s\" hx-target=\"#chat-thread-content-panel\" hx-swap=\"outerHTML\">\
<h2>Codex</h2><p class=\"oa-muted\">Thread: <code>{id}</code></p><div class=\"oa-message-list\">{messages}</div>\
<form method=\"post\" action=\"/chat/{id}/send\" class=\"oa-form chat-send\" hx-post=\"/chat/{id}/send\" hx-target=\"#chat-status\" hx-swap=\"outerHTML\">\
<textarea name=\"text\" rows=\"4\" placeholder=\"Message Codex\" required></textarea>\
<div class=\"oa-action-row\"><button type=\"submit\" class=\"oa-btn primary\">Send</button></div></form></article>",
        id = esc(id)
    )
}

fn chat_surface(st: &HtmxState, thread: Option<&str>, status: Option<&str>) -> String {
    format!(
        "<section id=\"chat-surface\" class=\"oa-grid chat\">{}{}</section>",
        thread_list_panel(st, status, thread, false),
        content_panel(st, thread)
    )
}

async fn home(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    page(&st, "Codex", "/", true, &chat_surface(&st, None, None))
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
    if !is_htmx(&headers) {
        return redirect(&format!("/chat/{id}?status=thread-created"));
    }
    // The content panel, and the thread list out of band with the status notice.
    let body = format!(
        "{}{}",
        content_panel(&st, Some(&id)),
        thread_list_panel(&st, Some("thread-created"), Some(&id), true)
    );
    let mut response = fragment(body);
    if let Ok(push) = HeaderValue::try_from(format!("/chat/{id}")) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("hx-push-url"), push);
    }
    response
}

/// The thread shown for `thread`: itself, except that `chat-history-broken` renders the
/// newest thread on history restores.
fn shown_thread(st: &HtmxState, headers: &HeaderMap, thread: &str) -> Option<String> {
    let store = st.store.lock();
    if !store.messages.contains_key(thread) {
        return None;
    }
    if st.has(Fault::ChatHistoryBroken) && is_history_restore(headers) {
        return store.threads.last().cloned();
    }
    Some(thread.to_string())
}

async fn chat_page(State(st): Shared, headers: HeaderMap, Path(thread): Path<String>) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let Some(shown) = shown_thread(&st, &headers, &thread) else {
        return error_envelope(StatusCode::NOT_FOUND, "not_found", "Thread not found.");
    };
    let surface = chat_surface(&st, Some(&shown), None);
    if is_htmx(&headers) && !is_history_restore(&headers) {
        return fragment(format!(
            "<main id=\"oa-main-shell\" class=\"oa-main\">{surface}</main>"
        ));
    }
    page(&st, "Codex", &format!("/chat/{thread}"), true, &surface)
}

async fn thread_fragment(
    State(st): Shared,
    headers: HeaderMap,
    Path(thread): Path<String>,
) -> Response {
    if !is_htmx(&headers) {
        return redirect(&format!("/chat/{thread}"));
    }
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let Some(shown) = shown_thread(&st, &headers, &thread) else {
        return fragment(shell::notice("chat-status", "message-send-failed", true));
    };
    fragment(format!(
        "{}{}",
        content_panel(&st, Some(&shown)),
        thread_list_panel(&st, None, Some(&shown), true)
    ))
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
    {
        let mut store = st.store.lock();
        let Some(messages) = store.messages.get_mut(&thread) else {
            return error_envelope(StatusCode::NOT_FOUND, "not_found", "Thread not found.");
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
    }
    if !is_htmx(&headers) {
        return redirect(&format!("/chat/{thread}?status=message-sent"));
    }
    let mut response = fragment(shell::notice("chat-status", "message-sent", false));
    response.headers_mut().insert(
        header::HeaderName::from_static("hx-trigger"),
        HeaderValue::from_static("chat-message-sent"),
    );
    response
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
        return error_envelope(StatusCode::NOT_FOUND, "not_found", "Thread not found.");
    };
    let list: Vec<_> = messages
        .iter()
        .map(|m| json!({"id": m.id, "role": m.role, "text": m.text, "created_at": m.created_at}))
        .collect();
    axum::Json(json!({"data": {"thread_id": thread, "messages": list}})).into_response()
}
