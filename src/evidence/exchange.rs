//! One HTTP request/response pair as recorded for the evidence (HAR) and the check log.
//! Everything in here is already redacted by the time it is stored.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// RFC 3339 start time.
    pub started_at: String,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub request_content_type: Option<String>,
    /// `None` when no response arrived (connection refused, timeout, ...).
    pub response: Option<ExchangeResponse>,
    /// Why no response arrived.
    pub error: Option<String>,
    /// The `x-request-id` sent.
    pub request_id: String,
    /// Milliseconds from sending to the first response byte (headers).
    pub ttfb_ms: f64,
    /// Milliseconds from sending to the end of the body.
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExchangeResponse {
    pub status: u16,
    pub status_text: String,
    pub http_version: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub body_size: u64,
    pub content_type: Option<String>,
    /// The response's `x-request-id`, when it carried one.
    pub request_id: Option<String>,
}
