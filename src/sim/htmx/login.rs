//! The login page and its email-code flow (upstream `login_page`, `login_email`,
//! `login_verify`; web_maud.rs `login_panel`), and the sim's token-to-cookie bootstrap.

use super::{
    HtmxState, Profile, SESSION_COOKIE, SIM_LOGIN_CODE, Shared, fragment, hx_redirect, is_htmx,
    now, page, redirect, shell,
};
use crate::sim::Fault;
use crate::sim::routes::Routes;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Over the `login_email_hx` budget of 12000 bytes.
const LARGE_LOGIN_PADDING: usize = 16 * 1024;

pub(super) fn routes(routes: Routes<Arc<HtmxState>>) -> Routes<Arc<HtmxState>> {
    routes
        .get("/login", login_page)
        .post("/login/email", login_email)
        .post("/login/verify", login_verify)
}

fn login_panel(status: Option<&str>) -> String {
    format!(
        "<section class=\"oa-card oa-login\"><h1>Sign in to OpenAgents</h1>\
<p class=\"oa-muted\">Use your email code to access Codex and account surfaces.</p>{slot}\
<div class=\"oa-grid two\">\
<form method=\"post\" action=\"/login/email\" class=\"oa-form\" hx-post=\"/login/email\" hx-target=\"#login-status\" hx-swap=\"outerHTML\">\
<label for=\"email\">Email</label><input id=\"email\" type=\"email\" name=\"email\" placeholder=\"you@example.com\" required>\
<div class=\"oa-action-row\"><button type=\"submit\" class=\"oa-btn primary\">Send code</button></div></form>\
<form method=\"post\" action=\"/login/verify\" class=\"oa-form\" hx-post=\"/login/verify\" hx-target=\"#login-status\" hx-swap=\"outerHTML\">\
<label for=\"code\">Code</label><input id=\"code\" type=\"text\" name=\"code\" placeholder=\"123456\" minlength=\"6\" maxlength=\"12\" required>\
<div class=\"oa-action-row\"><button type=\"submit\" class=\"oa-btn primary\">Verify and continue</button></div></form>\
</div></section>",
        slot = shell::status_slot("login-status", status)
    )
}

async fn login_page(State(st): Shared) -> Response {
    page(&st, "Log in", "/login", false, &login_panel(None))
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn login_email(
    State(st): Shared,
    headers: HeaderMap,
    Form(form): Form<EmailForm>,
) -> Response {
    st.store.lock().pending_login = Some(form.email.trim().to_string());
    if !is_htmx(&headers) {
        return redirect("/login?status=code-sent");
    }
    let mut html = shell::notice("login-status", "code-sent", false);
    if st.has(Fault::LoginTooLarge) {
        html.push_str(&format!("<!-- {} -->", "x".repeat(LARGE_LOGIN_PADDING)));
    }
    fragment(html)
}

#[derive(Deserialize)]
struct VerifyForm {
    code: String,
}

async fn login_verify(
    State(st): Shared,
    headers: HeaderMap,
    Form(form): Form<VerifyForm>,
) -> Response {
    let email = st.store.lock().pending_login.clone();
    let Some(email) = email.filter(|_| form.code.trim() == SIM_LOGIN_CODE) else {
        if is_htmx(&headers) {
            return super::shell::html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                super::shell::FRAGMENT_CACHE,
                shell::notice("login-status", "invalid-code", true),
            );
        }
        return redirect("/login?status=invalid-code");
    };
    st.store.lock().profile.get_or_insert_with(|| Profile {
        name: "Sim User".to_string(),
        email,
        updated_at: now(),
    });
    let cookie = set_session_cookie(&st.new_session());
    let mut response = if is_htmx(&headers) {
        hx_redirect("/")
    } else {
        redirect("/")
    };
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

fn set_session_cookie(session: &str) -> HeaderValue {
    HeaderValue::try_from(format!(
        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("oa_session=; Path=/"))
}

/// Token bootstrap (sim only, see docs/sim-fidelity.md): a bearer token buys a browser
/// session cookie, standing in for upstream's bearer-authenticated page requests.
pub(super) async fn browser_session(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.bearer_ok(&headers) {
        return crate::sim::error_envelope(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthenticated.",
        );
    }
    let cookie = set_session_cookie(&st.new_session());
    (
        [(header::SET_COOKIE, cookie)],
        axum::Json(json!({"data": {"cookie": SESSION_COOKIE, "path": "/"}})),
    )
        .into_response()
}
