//! The feed page: zones, the main panel and its fragment, and posting a shout (upstream
//! `feed_page`, `feed_main_fragment`, `web_feed_shout`; web_maud.rs `feed_panel`).

use super::{
    HtmxState, Shared, Shout, fragment, is_htmx, login_required, now, page, redirect, shell,
};
use crate::Fault;
use crate::routes::Routes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

use super::shell::esc;

/// Over the `feed_main_fragment_hx` budget of 700 ms.
const SLOW_FEED_DELAY: Duration = Duration::from_millis(800);

pub(super) fn routes(routes: Routes<Arc<HtmxState>>) -> Routes<Arc<HtmxState>> {
    routes
        .get("/feed", feed_page)
        .get("/feed/fragments/main", feed_fragment)
        .post("/feed/shout", feed_shout)
}

#[derive(Deserialize)]
struct ZoneQuery {
    zone: Option<String>,
}

/// The zone a request asks for; `all` (or none) is every zone.
fn zone_of(query: &ZoneQuery) -> Option<String> {
    query
        .zone
        .as_deref()
        .map(str::trim)
        .filter(|z| !z.is_empty() && *z != "all")
        .map(str::to_string)
}

/// A zone name upstream accepts: short, lower-case letters, digits, `-`, `_`, `.`.
fn valid_zone(zone: &str) -> bool {
    !zone.is_empty()
        && zone.len() <= 64
        && zone
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn zone_panel(st: &HtmxState, active: Option<&str>) -> String {
    let mut zones: Vec<(String, usize)> = Vec::new();
    for shout in &st.store.lock().shouts {
        match zones.iter_mut().find(|(z, _)| *z == shout.zone) {
            Some((_, n)) => *n += 1,
            None => zones.push((shout.zone.clone(), 1)),
        }
    }
    let link = |zone: &str, label: String, is_active: bool| {
        let class = if is_active {
            "oa-zone-link active"
        } else {
            "oa-zone-link"
        };
        format!(
            "<li><a class=\"{class}\" href=\"/feed?zone={z}\" hx-get=\"/feed/fragments/main?zone={z}\" hx-target=\"#feed-main-panel\" hx-swap=\"outerHTML\" hx-push-url=\"/feed?zone={z}\" hx-boost=\"false\">{label}</a></li>",
            z = esc(zone),
        )
    };
    let mut items = link("all", "all".to_string(), active.is_none());
    for (zone, count) in &zones {
        items.push_str(&link(
            zone,
            format!("{} · {count}", esc(zone)),
            active == Some(zone.as_str()),
        ));
    }
    format!(
        "<aside id=\"feed-zone-panel\" class=\"oa-card oa-feed-zones\"><h2>Zones</h2><ul class=\"oa-feed-zone-list\">{items}</ul></aside>"
    )
}

fn main_panel(st: &HtmxState, zone: Option<&str>, signed_in: bool) -> String {
    let items: String = {
        let store = st.store.lock();
        let shouts: Vec<&Shout> = store
            .shouts
            .iter()
            .rev()
            .filter(|s| zone.is_none_or(|z| s.zone == z))
            .take(50)
            .collect();
        if shouts.is_empty() {
            "<div class=\"oa-feed-empty\">No feed items yet.</div>".to_string()
        } else {
            shouts
                .iter()
                .map(|s| {
                    format!(
                        "<article class=\"oa-feed-item\"><header><span>#{}</span><span>{}</span><span>@sim</span><span>{}</span></header><p>{}</p></article>",
                        s.id,
                        esc(&s.zone),
                        esc(&s.created_at),
                        esc(&s.body)
                    )
                })
                .collect()
        }
    };
    let compose = if signed_in {
        "<form method=\"post\" action=\"/feed/shout\" class=\"oa-form feed-compose\" hx-post=\"/feed/shout\" hx-target=\"#feed-status\" hx-swap=\"outerHTML\">\
<label for=\"zone\">Zone</label><input id=\"zone\" type=\"text\" name=\"zone\" placeholder=\"global\">\
<label for=\"body\">Shout</label><textarea id=\"body\" name=\"body\" rows=\"3\" maxlength=\"2000\" required></textarea>\
<div class=\"oa-action-row\"><button type=\"submit\" class=\"oa-btn primary\">Post shout</button></div></form>"
    } else {
        "<p class=\"oa-muted\">Log in to post shouts.</p>"
    };
    format!(
        "<article id=\"feed-main-panel\" class=\"oa-card oa-feed-main\" hx-get=\"/feed/fragments/main?zone={z}\" hx-trigger=\"feed-shout-posted from:body\" hx-target=\"#feed-main-panel\" hx-swap=\"outerHTML\">\
<h2>Feed</h2>{slot}{compose}<div id=\"feed-items-panel\" class=\"oa-feed-items\">{items}</div>\
<div id=\"feed-more-panel\" class=\"oa-feed-more\"><span class=\"oa-muted\">No more items.</span></div></article>",
        z = esc(zone.unwrap_or("all")),
        slot = shell::status_slot("feed-status", None),
    )
}

async fn feed_page(
    State(st): Shared,
    headers: HeaderMap,
    Query(query): Query<ZoneQuery>,
) -> Response {
    let zone = zone_of(&query);
    let signed_in = st.authenticated(&headers);
    let body = format!(
        "<section class=\"oa-grid feed\">{}{}</section>",
        zone_panel(&st, zone.as_deref()),
        main_panel(&st, zone.as_deref(), signed_in)
    );
    page(&st, "Feed", "/feed", signed_in, &body)
}

async fn feed_fragment(
    State(st): Shared,
    headers: HeaderMap,
    Query(query): Query<ZoneQuery>,
) -> Response {
    if !is_htmx(&headers) {
        let zone = query.zone.as_deref().unwrap_or("all");
        return redirect(&format!("/feed?zone={}", urlencode(zone)));
    }
    if st.has(Fault::FeedFragmentSlow) {
        tokio::time::sleep(SLOW_FEED_DELAY).await;
    }
    let zone = zone_of(&query);
    let signed_in = st.authenticated(&headers);
    fragment(main_panel(&st, zone.as_deref(), signed_in))
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Deserialize)]
struct ShoutForm {
    #[serde(default)]
    zone: String,
    body: String,
}

async fn feed_shout(
    State(st): Shared,
    headers: HeaderMap,
    Form(form): Form<ShoutForm>,
) -> Response {
    if !st.authenticated(&headers) {
        return login_required(&headers);
    }
    let zone = match form.zone.trim() {
        "" => "global".to_string(),
        zone => zone.to_ascii_lowercase(),
    };
    let status = if !valid_zone(&zone) {
        "invalid-zone"
    } else if form.body.trim().is_empty() {
        "empty-body"
    } else {
        let mut store = st.store.lock();
        let id = store.shouts.len() as u64 + 1;
        store.shouts.push(Shout {
            id,
            zone: zone.clone(),
            body: form.body.trim().to_string(),
            created_at: now(),
        });
        "shout-posted"
    };
    if !is_htmx(&headers) {
        return redirect(&format!("/feed?zone={}&status={status}", urlencode(&zone)));
    }
    let mut response = fragment(shell::notice(
        "feed-status",
        status,
        status != "shout-posted",
    ));
    if status == "shout-posted" {
        response.headers_mut().insert(
            header::HeaderName::from_static("hx-trigger"),
            HeaderValue::from_static("feed-shout-posted"),
        );
    }
    response
}
