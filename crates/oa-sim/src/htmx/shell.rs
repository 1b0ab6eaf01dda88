//! The page shell and status notices every HTML page shares (upstream web_maud.rs
//! `render_page`, `topbar`, `status_slot`, `status_message`, `render_notice_fragment`).

use crate::control_state::HTMX_ASSET;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Upstream's page policy: scripts from the service's own origin only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";
/// Full pages are never cached (upstream `CACHE_MANIFEST`).
pub(crate) const PAGE_CACHE: &str = "no-cache, no-store, must-revalidate";
/// Fragments (upstream web_htmx.rs `fragment_response`).
pub(crate) const FRAGMENT_CACHE: &str = "no-store";

/// HTML-escapes text for element content and double-quoted attributes.
pub(crate) fn esc(text: &str) -> String {
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

/// The words a status code shows (upstream `status_message`; unknown codes read "Action
/// completed.").
pub(crate) fn status_message(status: &str) -> &'static str {
    match status {
        "code-sent" => "A verification code was sent. Enter it to sign in.",
        "code-expired" => "Your sign-in code expired. Request a new code.",
        "invalid-code" => "Invalid sign-in code. Try again.",
        "thread-created" => "Thread created.",
        "message-sent" => "Message queued in thread.",
        "message-send-failed" => "Could not send message.",
        "shout-posted" => "Shout posted.",
        "invalid-zone" => "Zone format is invalid.",
        "empty-body" => "Message body cannot be empty.",
        "profile-updated" => "Profile updated.",
        "profile-update-failed" => "Could not update profile.",
        "stats-runtime-unavailable" => "Runtime unavailable.",
        _ => "Action completed.",
    }
}

/// A status slot: the notice when there is a status, else the hidden empty slot.
pub(crate) fn status_slot(id: &str, status: Option<&str>) -> String {
    match status {
        Some(status) => format!(
            "<div id=\"{id}\" class=\"oa-notice\" role=\"status\" aria-live=\"polite\" aria-atomic=\"true\" tabindex=\"-1\">{}</div>",
            esc(status_message(status))
        ),
        None => format!(
            "<div id=\"{id}\" class=\"oa-notice hidden\" role=\"status\" aria-live=\"polite\" aria-atomic=\"true\" aria-hidden=\"true\" tabindex=\"-1\"></div>"
        ),
    }
}

/// A notice fragment (the answer to an HTMX form post that swaps its status slot).
pub(crate) fn notice(id: &str, status: &str, is_error: bool) -> String {
    let (class, live) = if is_error {
        ("oa-notice error", "assertive")
    } else {
        ("oa-notice", "polite")
    };
    format!(
        "<div id=\"{id}\" class=\"{class}\" role=\"status\" aria-live=\"{live}\" aria-atomic=\"true\" tabindex=\"-1\">{}</div>",
        esc(status_message(status))
    )
}

fn topbar(path: &str, signed_in: bool) -> String {
    let nav = [
        ("/", "Codex"),
        ("/compute", "Compute"),
        ("/stats", "Stats"),
        ("/feed", "Feed"),
        ("/settings/profile", "Settings"),
    ];
    let links: String = nav
        .iter()
        .map(|(href, label)| {
            let active = path == *href || (*href != "/" && path.starts_with(&format!("{href}/")));
            let class = if active {
                "oa-nav-link active"
            } else {
                "oa-nav-link"
            };
            format!("<a class=\"{class}\" href=\"{href}\">{label}</a>")
        })
        .collect();
    let session = if signed_in {
        "<form method=\"post\" action=\"/logout\" hx-post=\"/logout\" hx-swap=\"none\"><button type=\"submit\" class=\"oa-btn subtle\">Log out</button></form>"
    } else {
        "<a class=\"oa-btn\" href=\"/login\">Log in</a>"
    };
    format!(
        "<header class=\"oa-topbar\"><div class=\"oa-brand\">OpenAgents</div><nav class=\"oa-nav\">{links}</nav><div class=\"oa-session\">{session}</div></header>"
    )
}

/// A full page: the document, the htmx asset, the shell and `main#oa-main-shell` holding
/// `main_body`. Deliberately without upstream's inherited shell attributes (`hx-boost`,
/// `hx-target`, `hx-select="#oa-main-shell"`, `hx-push-url="true"` on `#oa-shell`): inherited
/// by every hx-* element they make fragment swaps select nothing and the thread poll push
/// `/chat/fragments/...` into the address bar (docs/sim-fidelity.md).
pub(crate) fn page_html(title: &str, path: &str, signed_in: bool, main_body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"openagents-runtime\" content=\"rust shell\">\
<meta name=\"openagents-htmx-mode\" content=\"fragment\">\
<title>{title} | OpenAgents</title>\
<script src=\"{HTMX_ASSET}\" defer></script></head>\n<body><div class=\"oa-app\" id=\"oa-shell\">\
{topbar}<main id=\"oa-main-shell\" class=\"oa-main\">{main_body}</main></div></body></html>\n",
        title = esc(title),
        topbar = topbar(path, signed_in),
    )
}

/// An HTML response with the security headers upstream sets on pages and fragments.
pub(crate) fn html_response(status: StatusCode, cache: &'static str, body: String) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}
