//! The public `/stats` page of the control service: minute-cached Hydra rows
//! (`div.oa-kv > span + strong` under `h3` sections), HTML-escaped labels, and a metrics panel
//! that refreshes itself through HTMX.

use super::Fault;
use super::control::ControlState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write as _;
use std::sync::Arc;

const MINUTE_CACHE: &str = "public, max-age=60";
/// The status word a runtime outage shows (a 200 page that must fail the lane).
pub(super) const RUNTIME_UNAVAILABLE: &str = "stats-runtime-unavailable";
/// The row `stats-row-missing` leaves out.
pub(super) const MISSING_ROW: &str = "Hydra FX treasury provider breadth";

/// (section, [(label, value)]): what the runtime's Hydra observability reports, rendered.
const SECTIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "Hydra Routing",
        &[
            ("Hydra routing decisions", "128"),
            ("Hydra selected route-direct", "80"),
            ("Hydra selected route-cep", "40"),
            ("Hydra selected other routes", "8"),
            ("Hydra confidence <0.40", "10"),
            ("Hydra confidence 0.40-0.70", "30"),
            ("Hydra confidence 0.70-0.90", "50"),
            ("Hydra confidence >=0.90", "38"),
        ],
    ),
    (
        "Hydra Risk",
        &[
            ("Hydra breaker transitions", "3"),
            ("Hydra breaker recoveries", "2"),
            ("Hydra breaker halt_new_envelopes", "false"),
            ("Hydra breaker halt_large_settlements", "false"),
            ("Hydra throttle mode", "normal"),
            ("Hydra throttle affected requests", "5"),
            ("Hydra throttle rejected requests", "1"),
            ("Hydra throttle stressed requests", "2"),
        ],
    ),
    (
        "Hydra FX",
        &[
            ("Hydra FX RFQ count", "12"),
            ("Hydra FX quote count", "30"),
            ("Hydra FX settlement count", "9"),
            ("Hydra FX quote->settle conversion (%)", "75.0"),
            ("Hydra FX treasury provider breadth", "3"),
            ("Hydra FX spread avg (bps)", "14.5"),
            ("Hydra FX spread median (bps)", "12"),
            ("Hydra FX withheld settlements", "1"),
            ("Hydra FX failed settlements", "0"),
        ],
    ),
];

pub(super) fn router() -> Router<Arc<ControlState>> {
    Router::new()
        .route("/stats", get(page))
        .route("/stats/fragments/metrics", get(fragment))
}

/// Escapes text for HTML content and attribute values.
pub(super) fn escape(text: &str) -> String {
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

fn metrics_html(st: &ControlState) -> String {
    let unavailable = st.has(Fault::StatsRuntimeUnavailable);
    let mut html = String::new();
    for (section, rows) in SECTIONS {
        let _ = writeln!(html, "<h3>{}</h3>", escape(section));
        for (label, value) in *rows {
            if st.has(Fault::StatsRowMissing) && *label == MISSING_ROW {
                continue;
            }
            let value = if unavailable { "-" } else { value };
            let _ = writeln!(
                html,
                "<div class=\"oa-kv\"><span>{}</span><strong>{}</strong></div>",
                escape(label),
                escape(value)
            );
        }
    }
    html
}

fn cache_control(st: &ControlState) -> &'static str {
    if st.has(Fault::StatsCacheWrong) {
        "no-store"
    } else {
        MINUTE_CACHE
    }
}

fn html_response(st: &ControlState, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, cache_control(st)),
        ],
        body,
    )
        .into_response()
}

async fn page(State(st): State<Arc<ControlState>>) -> Response {
    let status = if st.has(Fault::StatsRuntimeUnavailable) {
        RUNTIME_UNAVAILABLE
    } else {
        "ok"
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OpenAgents stats</title>\
         <script src=\"/assets/htmx.min.js\"></script></head>\n<body>\n<main>\n\
         <section id=\"stats-surface\" data-status=\"{status}\">\n<h2>OpenAgents public stats</h2>\n\
         <p class=\"oa-stats-status\">Status: {status}</p>\n\
         <article id=\"stats-metrics-panel\" hx-get=\"/stats/fragments/metrics\" hx-trigger=\"load, every 60s\" hx-swap=\"innerHTML\">\n\
         {}</article>\n</section>\n</main>\n</body></html>\n",
        metrics_html(&st)
    );
    html_response(&st, body)
}

async fn fragment(State(st): State<Arc<ControlState>>) -> Response {
    html_response(&st, metrics_html(&st))
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            super::escape("Hydra FX quote->settle <0.40 & \"x\""),
            "Hydra FX quote-&gt;settle &lt;0.40 &amp; &quot;x&quot;"
        );
    }
}
