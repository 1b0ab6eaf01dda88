//! The login page and its email-code flow (upstream auth_routes.rs `login_page`,
//! `login_email`, `login_verify`; web_maud.rs `login_panel`) and the JSON sign-in API the
//! browser smoke bootstraps a token with (`send_email_code`, `verify_email_code`).
//!
//! Cookies carry upstream's attributes (`Secure` among them), so a browser on plain http
//! keeps none of them: a flow that relies on the challenge cookie fails there, one that sends
//! the `challenge_id` itself works, as upstream's smoke does. The code routes are throttled
//! per client identity as upstream's are (see [`crate::accounts`]).

use super::{
    HtmxState, Profile, SIM_LOGIN_CODE, Shared, fragment, is_htmx, now, page, redirect,
    redirect_for, shell,
};
use crate::Fault;
use crate::accounts::{
    self, ACCESS_COOKIE, ACCESS_TTL_SECONDS, AUTH_EMAIL, CHALLENGE_COOKIE, CHALLENGE_TTL_SECONDS,
    LOGIN_EMAIL, LOGIN_VERIFY, REFRESH_COOKIE, REFRESH_TTL_SECONDS,
};
use crate::routes::Routes;
use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Over the `login_email_hx` budget of 12000 bytes.
const LARGE_LOGIN_PADDING: usize = 16 * 1024;
/// Upstream's messages (auth.rs `normalize_email`, `verify_challenge`, auth_routes.rs).
const INVALID_EMAIL: &str = "Enter a valid email address first.";
const CODE_EXPIRED: &str = "Your sign-in code expired. Request a new code.";
const CODE_INVALID: &str = "That code is invalid or expired. Request a new code.";

pub(super) fn routes(routes: Routes<Arc<HtmxState>>) -> Routes<Arc<HtmxState>> {
    routes
        .get("/login", login_page)
        .post("/login/email", login_email)
        .post("/login/verify", login_verify)
        .post("/api/auth/email", api_auth_email)
        .post("/api/auth/verify", api_auth_verify)
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

async fn login_page(State(st): Shared, headers: HeaderMap) -> Response {
    if st.authenticated(&headers) {
        return redirect("/");
    }
    page(&st, "Log in", "/login", false, &login_panel(None))
}

/// Upstream `validation_error`: 422 with the field's message under `errors`.
fn validation_error(field: &str, message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "message": message,
            "error": {"code": "invalid_request", "message": message},
            "errors": {field: [message]},
        })),
    )
        .into_response()
}

/// Upstream `normalize_email`.
fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    (!email.is_empty() && email.contains('@') && email.len() <= 255).then_some(email)
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::try_from(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
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
    if let Some(refused) = st.accounts.throttle(LOGIN_EMAIL, &headers) {
        return refused;
    }
    if st.authenticated(&headers) {
        return redirect_for(&headers, "/");
    }
    let Some(email) = normalize_email(&form.email) else {
        return validation_error("email", INVALID_EMAIL);
    };
    let challenge = st.accounts.start_challenge(&email);
    let mut response = if is_htmx(&headers) {
        let mut html = shell::notice("login-status", "code-sent", false);
        if st.has(Fault::LoginTooLarge) {
            html.push_str(&format!("<!-- {} -->", "x".repeat(LARGE_LOGIN_PADDING)));
        }
        fragment(html)
    } else {
        redirect("/login?status=code-sent")
    };
    append_cookie(
        &mut response,
        &accounts::cookie(CHALLENGE_COOKIE, &challenge, CHALLENGE_TTL_SECONDS),
    );
    response
}

#[derive(Deserialize)]
struct VerifyForm {
    code: String,
    #[serde(default, alias = "challengeId")]
    challenge_id: Option<String>,
}

/// The challenge a verify names: the form's or body's `challenge_id`, else the challenge
/// cookie (which a browser on plain http never kept).
fn challenge_of(given: Option<String>, headers: &HeaderMap) -> Option<String> {
    given
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .or_else(|| accounts::cookie_value(headers, CHALLENGE_COOKIE).map(str::to_string))
}

/// Checks the code and consumes the challenge: the new access token and its email.
fn verify(st: &HtmxState, challenge: &str, code: &str) -> Result<(String, String), &'static str> {
    if code.trim() != SIM_LOGIN_CODE {
        return Err(CODE_INVALID);
    }
    let (token, email) = st
        .accounts
        .verify_challenge(challenge)
        .ok_or(CODE_EXPIRED)?;
    st.store.lock().profile.get_or_insert_with(|| Profile {
        name: "Sim User".to_string(),
        email: email.clone(),
        updated_at: now(),
    });
    Ok((token, email))
}

fn login_failed(headers: &HeaderMap, status: &str, message: &str) -> Response {
    if is_htmx(headers) {
        return shell::html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            shell::FRAGMENT_CACHE,
            shell::notice("login-status", status, true),
        );
    }
    validation_error("code", message)
}

async fn login_verify(
    State(st): Shared,
    headers: HeaderMap,
    Form(form): Form<VerifyForm>,
) -> Response {
    if let Some(refused) = st.accounts.throttle(LOGIN_VERIFY, &headers) {
        return refused;
    }
    if st.authenticated(&headers) {
        return redirect_for(&headers, "/");
    }
    let Some(challenge) = challenge_of(form.challenge_id, &headers) else {
        return login_failed(&headers, "code-expired", CODE_EXPIRED);
    };
    let (token, _) = match verify(&st, &challenge, &form.code) {
        Ok(issued) => issued,
        Err(message) => return login_failed(&headers, "invalid-code", message),
    };
    let mut response = redirect_for(&headers, "/");
    let refresh = format!("oa_rt_{}", crate::random_hex(24));
    append_cookie(
        &mut response,
        &accounts::cookie(ACCESS_COOKIE, &token, ACCESS_TTL_SECONDS),
    );
    append_cookie(
        &mut response,
        &accounts::cookie(REFRESH_COOKIE, &refresh, REFRESH_TTL_SECONDS),
    );
    append_cookie(&mut response, &accounts::clear_cookie(CHALLENGE_COOKIE));
    response
}

/// `POST /api/auth/email` `{"email"}` (upstream `send_email_code`).
async fn api_auth_email(State(st): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = st.accounts.throttle(AUTH_EMAIL, &headers) {
        return refused;
    }
    #[derive(Deserialize)]
    struct Request {
        email: String,
    }
    let Ok(request) = serde_json::from_slice::<Request>(&body) else {
        return crate::error_envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "The request body must be JSON with an email.",
        );
    };
    let Some(email) = normalize_email(&request.email) else {
        return validation_error("email", INVALID_EMAIL);
    };
    let challenge = st.accounts.start_challenge(&email);
    let mut response = axum::Json(json!({
        "ok": true,
        "status": "code-sent",
        "email": email,
        "challengeId": challenge,
    }))
    .into_response();
    append_cookie(
        &mut response,
        &accounts::cookie(CHALLENGE_COOKIE, &challenge, CHALLENGE_TTL_SECONDS),
    );
    response
}

/// `POST /api/auth/verify` `{"code", "challenge_id", "device_id"}` (upstream
/// `verify_email_code`): the access and refresh tokens in the body, no session cookie.
async fn api_auth_verify(State(st): Shared, headers: HeaderMap, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct Request {
        code: String,
        #[serde(default)]
        challenge_id: Option<String>,
    }
    let Ok(request) = serde_json::from_slice::<Request>(&body) else {
        return crate::error_envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "The request body must be JSON with a code.",
        );
    };
    let Some(challenge) = challenge_of(request.challenge_id, &headers) else {
        return validation_error("code", CODE_EXPIRED);
    };
    let (token, email) = match verify(&st, &challenge, &request.code) {
        Ok(issued) => issued,
        Err(message) => return validation_error("code", message),
    };
    let mut response = axum::Json(json!({
        "ok": true,
        "status": "authenticated",
        "user": {"email": email},
        "redirect": "/",
        "tokenType": "Bearer",
        "token": token,
        "refreshToken": format!("oa_rt_{}", crate::random_hex(24)),
        "newUser": false,
    }))
    .into_response();
    append_cookie(&mut response, &accounts::clear_cookie(CHALLENGE_COOKIE));
    response
}
