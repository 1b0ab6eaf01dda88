//! The public `/stats` page of the control service (upstream stats.rs `stats_page`,
//! `stats_*_fragment`; markup from web_maud.rs `stats_panel`, `stats_metrics_panel`,
//! `stats_pools_panel`): minute-cached Hydra, CEP and liquidity rows
//! (`div.oa-kv > span + strong` under `h3` sections) and panels that refresh through HTMX.
//!
//! The values are what the sim runtime reports (its credit health and Hydra observability),
//! rendered the way upstream formats them. A runtime outage shows as upstream shows it:
//! `stats-runtime-unavailable` renders the status notice "Runtime unavailable." with empty
//! metrics; `stats-outage-rows` renders the outage upstream shows when no liquidity pools are
//! configured: no notice at all, "data available" rows reading `no` and every value `-`.

use super::Fault;
use super::control_state::ControlState;
use super::htmx::shell::{self, esc};
use super::routes::{Routes, SimRoute};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

const MINUTE_CACHE: &str = "public, max-age=60";
/// The status upstream sets when the runtime cannot be read for the page.
const RUNTIME_UNAVAILABLE: &str = "stats-runtime-unavailable";
/// The row `stats-row-missing` leaves out.
pub(super) const MISSING_ROW: &str = "Hydra FX treasury provider breadth";

type Shared = State<Arc<ControlState>>;

fn routes() -> Routes<Arc<ControlState>> {
    Routes::new("control")
        .get("/stats", page)
        .get("/stats/fragments/main", main_fragment)
        .get("/stats/fragments/metrics", metrics_fragment)
        .get("/stats/fragments/pools", pools_fragment)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router() -> Router<Arc<ControlState>> {
    routes().into_parts().0
}

/// What the runtime answered, or `None` where it could not be read.
struct RuntimeView {
    credit: Option<Value>,
    hydra: Option<Value>,
}

fn runtime_view(st: &ControlState) -> RuntimeView {
    if st.has(Fault::StatsRuntimeUnavailable) || st.has(Fault::StatsOutageRows) {
        return RuntimeView {
            credit: None,
            hydra: None,
        };
    }
    RuntimeView {
        credit: Some(super::runtime::credit_health_body(
            st.has(Fault::CreditHealthSchemaWrong),
        )),
        hydra: Some(super::runtime::observability_body(false)),
    }
}

/// The page's status: the `status` query parameter (any value shows a notice upstream), or
/// the outage status when the runtime cannot be read for the page.
fn page_status(st: &ControlState, query: &HashMap<String, String>) -> Option<String> {
    if st.has(Fault::StatsRuntimeUnavailable) {
        return Some(RUNTIME_UNAVAILABLE.to_string());
    }
    query.get("status").cloned()
}

fn int(value: Option<&Value>, pointer: &str) -> String {
    match value {
        Some(v) => v
            .pointer(pointer)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        None => "-".to_string(),
    }
}

fn bool_text(value: Option<&Value>, pointer: &str) -> String {
    match value {
        Some(v) => match v.pointer(pointer).and_then(Value::as_bool) {
            Some(true) => "true".to_string(),
            _ => "false".to_string(),
        },
        None => "-".to_string(),
    }
}

/// A rate as a percentage with two decimals (`0.3` -> `30.00`), or a plain two-decimal
/// number when `percent` is false.
fn decimal(value: Option<&Value>, pointer: &str, percent: bool) -> String {
    match value {
        Some(v) => {
            let n = v.pointer(pointer).and_then(Value::as_f64).unwrap_or(0.0);
            let n = if percent {
                (n * 100.0).max(0.0)
            } else {
                n.max(0.0)
            };
            format!("{n:.2}")
        }
        None => "-".to_string(),
    }
}

fn available(value: Option<&Value>) -> String {
    if value.is_some() { "yes" } else { "no" }.to_string()
}

/// (section, [(label, value)]) in page order.
fn sections(
    st: &ControlState,
    view: &RuntimeView,
) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let c = view.credit.as_ref();
    let h = view.hydra.as_ref();
    let throttle_mode = match h {
        Some(v) => v
            .pointer("/withdrawal_throttle/mode")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        None => "-".to_string(),
    };
    let mut fx = vec![
        ("Hydra FX RFQ count", int(h, "/fx/rfq_total")),
        ("Hydra FX quote count", int(h, "/fx/quote_total")),
        ("Hydra FX settlement count", int(h, "/fx/settlement_total")),
        (
            "Hydra FX quote->settle conversion (%)",
            decimal(h, "/fx/quote_to_settlement_rate", true),
        ),
        (MISSING_ROW, int(h, "/fx/treasury_provider_breadth")),
        (
            "Hydra FX spread avg (bps)",
            decimal(h, "/fx/spread_bps_avg", false),
        ),
        (
            "Hydra FX spread median (bps)",
            decimal(h, "/fx/spread_bps_median", false),
        ),
        (
            "Hydra FX withheld settlements",
            int(h, "/fx/settlement_withheld_total"),
        ),
        (
            "Hydra FX failed settlements",
            int(h, "/fx/settlement_failed_total"),
        ),
    ];
    if st.has(Fault::StatsRowMissing) {
        fx.retain(|(label, _)| *label != MISSING_ROW);
    }
    vec![
        (
            "Metrics",
            vec![
                ("Pools", "0".to_string()),
                ("Total assets (sats)", "0".to_string()),
                ("Wallet sats", "0".to_string()),
                ("On-chain sats", "0".to_string()),
                ("Total shares", "0".to_string()),
                ("Channel sats", "0".to_string()),
                ("Channel outbound sats", "0".to_string()),
                ("Channel inbound sats", "0".to_string()),
                ("Channels connected/total", "0/0".to_string()),
                ("Pending withdrawals (sats est.)", "0".to_string()),
                ("Last snapshot", "-".to_string()),
            ],
        ),
        (
            "CEP",
            vec![
                ("CEP data available", available(c)),
                ("CEP outstanding envelopes", int(c, "/open_envelope_count")),
                (
                    "CEP outstanding reserved commitments (sats)",
                    int(c, "/open_reserved_commitments_sats"),
                ),
                ("CEP settlement sample", int(c, "/settlement_sample")),
                ("CEP loss rate (%)", decimal(c, "/loss_rate", true)),
                ("CEP LN pay sample", int(c, "/ln_pay_sample")),
                (
                    "CEP LN failure rate (%)",
                    decimal(c, "/ln_failure_rate", true),
                ),
                (
                    "CEP breaker halt_new_envelopes",
                    bool_text(c, "/breakers/halt_new_envelopes"),
                ),
                (
                    "CEP breaker halt_large_settlements",
                    bool_text(c, "/breakers/halt_large_settlements"),
                ),
            ],
        ),
        (
            "Hydra Routing",
            vec![
                ("Hydra data available", available(h)),
                ("Hydra routing decisions", int(h, "/routing/decision_total")),
                (
                    "Hydra selected route-direct",
                    int(h, "/routing/selected_route_direct"),
                ),
                (
                    "Hydra selected route-cep",
                    int(h, "/routing/selected_route_cep"),
                ),
                (
                    "Hydra selected other routes",
                    int(h, "/routing/selected_route_other"),
                ),
                (
                    "Hydra confidence <0.40",
                    int(h, "/routing/confidence_lt_040"),
                ),
                (
                    "Hydra confidence 0.40-0.70",
                    int(h, "/routing/confidence_040_070"),
                ),
                (
                    "Hydra confidence 0.70-0.90",
                    int(h, "/routing/confidence_070_090"),
                ),
                (
                    "Hydra confidence >=0.90",
                    int(h, "/routing/confidence_gte_090"),
                ),
            ],
        ),
        (
            "Hydra Risk",
            vec![
                (
                    "Hydra breaker transitions",
                    int(h, "/breakers/transition_total"),
                ),
                (
                    "Hydra breaker recoveries",
                    int(h, "/breakers/recovery_total"),
                ),
                (
                    "Hydra breaker halt_new_envelopes",
                    bool_text(h, "/breakers/halt_new_envelopes"),
                ),
                (
                    "Hydra breaker halt_large_settlements",
                    bool_text(h, "/breakers/halt_large_settlements"),
                ),
                ("Hydra throttle mode", throttle_mode),
                (
                    "Hydra throttle affected requests",
                    int(h, "/withdrawal_throttle/affected_requests_total"),
                ),
                (
                    "Hydra throttle rejected requests",
                    int(h, "/withdrawal_throttle/rejected_requests_total"),
                ),
                (
                    "Hydra throttle stressed requests",
                    int(h, "/withdrawal_throttle/stressed_requests_total"),
                ),
            ],
        ),
        ("Hydra FX", fx),
    ]
}

/// `article#stats-metrics-panel`: the panel the page embeds and the metrics fragment
/// answers (the same article: it replaces itself, `hx-swap="outerHTML"`).
fn metrics_panel(st: &ControlState, view: &RuntimeView) -> String {
    let mut body = String::new();
    for (section, rows) in sections(st, view) {
        let _ = write!(
            body,
            "<h3>{}</h3><div class=\"oa-grid two\"><div>",
            esc(section)
        );
        // Two columns, the first one longer, as upstream lays them out.
        let split = rows.len().div_ceil(2);
        for (i, (label, value)) in rows.into_iter().enumerate() {
            if i == split {
                body.push_str("</div><div>");
            }
            let _ = write!(
                body,
                "<div class=\"oa-kv\"><span>{}</span><strong>{}</strong></div>",
                esc(label),
                esc(&value)
            );
        }
        body.push_str("</div></div>");
    }
    format!(
        "<article id=\"stats-metrics-panel\" class=\"oa-card\" hx-get=\"/stats/fragments/metrics\" hx-trigger=\"load, every 60s\" hx-swap=\"outerHTML\">{body}</article>"
    )
}

/// `article#stats-pools-panel`: the sim configures no liquidity pools.
fn pools_panel() -> String {
    "<article id=\"stats-pools-panel\" class=\"oa-card\" hx-get=\"/stats/fragments/pools\" hx-trigger=\"load, every 60s\" hx-swap=\"outerHTML\"><h3>Pools</h3><p class=\"oa-muted\">No pools configured.</p></article>".to_string()
}

/// `section#stats-surface`: the liquidity card with the status slot, and both panels.
fn stats_surface(st: &ControlState, status: Option<&str>) -> String {
    let view = runtime_view(st);
    format!(
        "<section id=\"stats-surface\" class=\"oa-grid stats\"><aside class=\"oa-card\"><h2>Liquidity</h2>\
<p class=\"oa-muted\">Pool proofs + core health metrics.</p>{slot}\
<div class=\"oa-actions\"><a class=\"oa-btn primary\" href=\"/compute\">Provide liquidity</a>\
<a class=\"oa-btn subtle\" href=\"/compute\">View compute</a></div></aside>{metrics}{pools}</section>",
        slot = shell::status_slot("stats-status", status),
        metrics = metrics_panel(st, &view),
        pools = pools_panel(),
    )
}

fn cache_control(st: &ControlState) -> &'static str {
    if st.has(Fault::StatsCacheWrong) {
        "no-store"
    } else {
        MINUTE_CACHE
    }
}

/// Whether the request is an HTMX request: `HX-Request: true` (trimmed, any case), as
/// upstream web_htmx.rs `classify_request` reads it.
fn is_hx_request(st: &ControlState, headers: &HeaderMap) -> bool {
    if st.has(Fault::FragmentHxRequestIgnored) {
        return false;
    }
    headers
        .get("hx-request")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Fragments answer a non-HTMX request with a temporary redirect to the page.
fn redirect_to_stats() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, "/stats")],
    )
        .into_response()
}

async fn page(State(st): Shared, Query(query): Query<HashMap<String, String>>) -> Response {
    let status = page_status(&st, &query);
    let body = shell::page_html(
        "Stats",
        "/stats",
        false,
        &stats_surface(&st, status.as_deref()),
    );
    shell::html_response(StatusCode::OK, cache_control(&st), body)
}

async fn main_fragment(
    State(st): Shared,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !is_hx_request(&st, &headers) {
        return redirect_to_stats();
    }
    let status = page_status(&st, &query);
    let body = format!(
        "<main id=\"oa-main-shell\" class=\"oa-main\">{}</main>",
        stats_surface(&st, status.as_deref())
    );
    shell::html_response(StatusCode::OK, cache_control(&st), body)
}

async fn metrics_fragment(State(st): Shared, headers: HeaderMap) -> Response {
    if !is_hx_request(&st, &headers) {
        return redirect_to_stats();
    }
    // Upstream renders the empty view on any failure here, never a status.
    let view = runtime_view(&st);
    shell::html_response(
        StatusCode::OK,
        cache_control(&st),
        metrics_panel(&st, &view),
    )
}

async fn pools_fragment(State(st): Shared, headers: HeaderMap) -> Response {
    if !is_hx_request(&st, &headers) {
        return redirect_to_stats();
    }
    shell::html_response(StatusCode::OK, cache_control(&st), pools_panel())
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            super::esc("Hydra FX quote->settle <0.40 & \"x\""),
            "Hydra FX quote-&gt;settle &lt;0.40 &amp; &quot;x&quot;"
        );
    }
}
