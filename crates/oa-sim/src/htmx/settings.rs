//! The settings profile page, its update form and the profile API the browser smoke polls
//! (upstream `web_settings_profile_update`, `settings_profile_show`; web_maud.rs
//! `settings_panel`).

use super::{
    HtmxState, Profile, Shared, fragment, is_htmx, login_required, now, page, redirect, shell,
};
use crate::routes::Routes;
use crate::{Fault, error_envelope};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use super::shell::esc;

pub(super) fn routes(routes: Routes<Arc<HtmxState>>) -> Routes<Arc<HtmxState>> {
    routes
        .get("/settings/profile", settings_page)
        .post("/settings/profile/update", settings_update)
        .get("/api/settings/profile", settings_profile)
}

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
    let email = profile["email"].as_str().unwrap_or_default().to_string();
    let body = format!(
        "<section id=\"settings-main-panel\" class=\"oa-grid settings\"><article class=\"oa-card\"><h2>Profile</h2>{slot}\
<form method=\"post\" action=\"/settings/profile/update\" class=\"oa-form\" hx-post=\"/settings/profile/update\" hx-target=\"#settings-status\" hx-swap=\"outerHTML\">\
<label for=\"settings-name\">Display name</label><input id=\"settings-name\" type=\"text\" name=\"name\" value=\"{name}\" maxlength=\"255\" required>\
<label for=\"settings-email\">Email</label><input id=\"settings-email\" type=\"email\" value=\"{email}\" disabled>\
<div class=\"oa-action-row\"><button type=\"submit\" class=\"oa-btn primary\">Save profile</button></div></form></article></section>",
        slot = shell::status_slot("settings-status", None),
        name = esc(&st.profile_name()),
        email = esc(&email),
    );
    page(&st, "Settings", "/settings/profile", true, &body)
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
    let name = form.name.trim().to_string();
    let status = if name.is_empty() || name.len() > 255 {
        "profile-update-failed"
    } else {
        if !st.has(Fault::SettingsNotSaved) {
            let mut store = st.store.lock();
            let email = store
                .profile
                .as_ref()
                .map(|p| p.email.clone())
                .unwrap_or_else(|| "sim@openagents.com".to_string());
            store.profile = Some(Profile {
                name,
                email,
                updated_at: now(),
            });
        }
        // The bug `settings-not-saved` models: the answer says saved whatever happened.
        "profile-updated"
    };
    if !is_htmx(&headers) {
        return redirect(&format!("/settings/profile?status={status}"));
    }
    fragment(shell::notice(
        "settings-status",
        status,
        status != "profile-updated",
    ))
}

async fn settings_profile(State(st): Shared, headers: HeaderMap) -> Response {
    if !st.authenticated(&headers) {
        return error_envelope(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthenticated.");
    }
    axum::Json(json!({"data": profile_json(&st)})).into_response()
}
