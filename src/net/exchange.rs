//! One HTTP hop as the transport recorded it: the raw parts, nothing formatted or redacted.
//! The check's log line and its HAR entry are rendered from this when the check ends
//! (`evidence::{log, har}`), off the request path.

use super::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, Version};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// Body bytes kept per exchange for the evidence; the full size is still recorded.
pub const KEPT_BODY: usize = 1024 * 1024;

/// A request/response pair, or a request and why no response came.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub started_at: SystemTime,
    pub method: Method,
    pub url: Url,
    /// As sent, credentials included: the evidence masks them by name.
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Body>,
    /// `None` when no response arrived (connection refused, timeout, ...).
    pub response: Option<ExchangeResponse>,
    /// Why no response arrived, or why it was not read to the end.
    pub error: Option<String>,
    /// The `x-request-id` sent.
    pub request_id: String,
    /// Opening the connection (DNS, TCP, a proxy tunnel, TLS), when this hop opened one:
    /// `None` on a reused connection or when no response came.
    pub connect: Option<Duration>,
    /// From sending to the response headers (the connection's opening included).
    pub ttfb: Duration,
    /// From sending to the end of the body (or the error).
    pub total: Duration,
    /// The bodies are credentials (a token request and its answer): the evidence shows their
    /// size, never their text.
    pub conceal_bodies: bool,
}

#[derive(Debug, Clone)]
pub struct ExchangeResponse {
    pub status: u16,
    pub version: Version,
    pub headers: Arc<HeaderMap>,
    /// At most [`KEPT_BODY`] bytes of the body (decoded when it came with a
    /// `Content-Encoding`).
    pub body: Bytes,
    /// The body's size as scripts see it (decoded).
    pub body_size: u64,
    /// The body's size on the wire (as received, before decoding).
    pub transferred_size: u64,
}

impl ExchangeResponse {
    /// The response's `x-request-id`, when it carried one.
    pub fn request_id(&self) -> Option<String> {
        header_text(&self.headers, "x-request-id")
    }

    pub fn content_type(&self) -> Option<String> {
        header_text(&self.headers, "content-type")
    }
}

/// The first value of header `name`, as text.
pub fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The body bytes the evidence keeps: all of a small body (shared, not copied), the first
/// [`KEPT_BODY`] bytes of a large one (copied, so the large one can be freed).
pub fn kept(body: &Bytes) -> Bytes {
    if body.len() <= KEPT_BODY {
        body.clone()
    } else {
        Bytes::copy_from_slice(&body[..KEPT_BODY])
    }
}

/// Where the transport puts what it did: every hop, and notes such as dropped credentials.
/// A check's record implements it; so does a plain list.
pub trait Recorder {
    fn exchange(&mut self, exchange: Exchange);
    fn note(&mut self, line: String);
}
