//! One HTTP exchange rendered for the evidence: the transport's raw record
//! ([`crate::net::Exchange`]) as redacted text, once the check has ended. The HAR entry and
//! the check's log line are made from this.

use crate::net;
use crate::net::policy::is_sensitive_header;
use crate::redact::{MASK, Redactor};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    /// RFC 3339 start time.
    pub started_at: String,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub request_content_type: Option<String>,
    /// `None` when no response arrived (connection refused, timeout, ...).
    pub response: Option<RenderedResponse>,
    /// Why no response arrived.
    pub error: Option<String>,
    /// The `x-request-id` sent.
    pub request_id: String,
    /// Milliseconds opening the connection (DNS, TCP, proxy tunnel, TLS), when the request
    /// opened one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    /// Milliseconds from sending to the first response byte (headers), connecting included.
    pub ttfb_ms: f64,
    /// Milliseconds from sending to the end of the body.
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenderedResponse {
    pub status: u16,
    pub status_text: String,
    pub http_version: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body's size as decoded (what scripts saw).
    pub body_size: u64,
    /// The body's size on the wire (smaller when it came with a `Content-Encoding`).
    pub transferred_size: u64,
    pub content_type: Option<String>,
    /// The response's `x-request-id`, when it carried one.
    pub request_id: Option<String>,
}

impl Rendered {
    /// `exchange` as redacted text: credential headers masked by name, every other value and
    /// the bodies redacted (concealed bodies replaced by the mask).
    pub fn from_raw(exchange: &net::Exchange, redactor: &Redactor) -> Rendered {
        // A body is kept up to KEPT_BODY bytes (a response's already at recording):
        // redacted, then a remnant of a secret left at the cut is masked.
        let text = |bytes: &[u8], size: u64| {
            if exchange.conceal_bodies && !bytes.is_empty() {
                MASK.to_string()
            } else {
                let mut end = bytes.len().min(net::exchange::KEPT_BODY);
                let cut = (end as u64) < size;
                if cut {
                    // Not in the middle of a character (it would end in U+FFFD).
                    if let Err(e) = std::str::from_utf8(&bytes[..end])
                        && e.error_len().is_none()
                    {
                        end = e.valid_up_to();
                    }
                }
                let redacted = redactor.redact(&String::from_utf8_lossy(&bytes[..end]));
                if cut {
                    redactor.mask_cut(&redacted, false, true)
                } else {
                    redacted
                }
            }
        };
        let response = exchange.response.as_ref().map(|r| RenderedResponse {
            status: r.status,
            status_text: http::StatusCode::from_u16(r.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_string(),
            http_version: format!("{:?}", r.version),
            headers: headers(
                r.headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), String::from_utf8_lossy(v.as_bytes()))),
                redactor,
            ),
            body: text(&r.body, r.body_size),
            body_size: r.body_size,
            transferred_size: r.transferred_size,
            content_type: r.content_type(),
            request_id: r.request_id(),
        });
        Rendered {
            started_at: chrono::DateTime::<chrono::Utc>::from(exchange.started_at)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            method: exchange.method.to_string(),
            url: redactor.redact(exchange.url.as_str()),
            request_headers: headers(
                exchange
                    .request_headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str().into())),
                redactor,
            ),
            request_body: exchange
                .request_body
                .as_ref()
                .map(|b| text(&b.bytes, b.bytes.len() as u64)),
            request_content_type: exchange
                .request_body
                .as_ref()
                .and_then(|b| b.content_type.clone()),
            response,
            error: exchange.error.as_deref().map(|e| redactor.redact(e)),
            request_id: exchange.request_id.clone(),
            connect_ms: exchange.connect.map(|c| c.as_secs_f64() * 1000.0),
            ttfb_ms: exchange.ttfb.as_secs_f64() * 1000.0,
            total_ms: exchange.total.as_secs_f64() * 1000.0,
        }
    }

    /// The check log's line for this exchange:
    /// `GET <url> -> 200 (1.2 ms, 42 bytes, x-request-id oa-...)` or `... -> error: why`.
    pub fn log_line(&self) -> String {
        match (&self.response, &self.error) {
            (Some(r), _) => format!(
                "{} {} -> {} ({:.1} ms, {} bytes{}, x-request-id {})",
                self.method,
                self.url,
                r.status,
                self.total_ms,
                r.body_size,
                if r.transferred_size == r.body_size {
                    String::new()
                } else {
                    format!(" ({} transferred)", r.transferred_size)
                },
                r.request_id.as_deref().unwrap_or(&self.request_id)
            ),
            (None, error) => format!(
                "{} {} -> error: {}",
                self.method,
                self.url,
                error.as_deref().unwrap_or("no response")
            ),
        }
    }
}

fn headers<'a>(
    pairs: impl Iterator<Item = (&'a str, std::borrow::Cow<'a, str>)>,
    redactor: &Redactor,
) -> Vec<(String, String)> {
    pairs
        .map(|(name, value)| {
            let value = if is_sensitive_header(name) {
                MASK.to_string()
            } else {
                redactor.redact(&value)
            };
            (name.to_string(), value)
        })
        .collect()
}
