//! `http::` — requests through the run's transport ([`crate::net`]): timeouts, a body cap,
//! evidence (HAR) and the credential policy (a target's token is only ever sent to that
//! target's own origins, never across a redirect to another origin, never down to http).
//! This file only reads a script's options and shows the response to scripts.

use crate::api::bind::{self, Res};
use crate::api::script_error;
use crate::engine::context;
use crate::engine::host::Host;
use crate::net::{self, Body, Method};
use bytes::Bytes;
use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};
use std::sync::Arc;
use url::Url;

/// A response as scripts see it: the transport's response, shared (Rhai passes values by
/// copy, so a clone must be cheap).
#[derive(Clone, Debug)]
pub struct HttpResponse(pub Arc<net::Response>);

impl std::ops::Deref for HttpResponse {
    type Target = net::Response;
    fn deref(&self) -> &net::Response {
        &self.0
    }
}

impl HttpResponse {
    /// All values of a header (lower-case name), joined with ", ".
    pub fn header_value(&self, name: &str) -> Option<String> {
        self.0.header(name)
    }

    pub fn ttfb_ms(&self) -> f64 {
        self.ttfb.as_secs_f64() * 1000.0
    }

    pub fn total_ms(&self) -> f64 {
        self.total.as_secs_f64() * 1000.0
    }
}

/// Reads a script's request options (shared by `http::` and `perf::`).
pub(crate) fn read_options(
    ctx: &NativeCallContext,
    host: &Host,
    method: &str,
    url: &str,
    opts: Map,
) -> Res<net::Request> {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| script_error(ctx, format!("invalid HTTP method {method:?}")))?;
    let url =
        Url::parse(url).map_err(|e| script_error(ctx, format!("invalid URL {url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(script_error(
            ctx,
            format!("unsupported URL scheme {:?}", url.scheme()),
        ));
    }
    let mut request = net::Request::new(method, url, host.settings.limits.http_timeout);
    let mut compressed = false;
    for (key, value) in opts {
        let bad = |what: String| script_error(ctx, format!("http option `{key}`: {what}"));
        match key.as_str() {
            "headers" => {
                let map = value
                    .try_cast::<Map>()
                    .ok_or_else(|| bad("expected a map of header names to values".into()))?;
                for (name, v) in map {
                    request
                        .headers
                        .push((name.to_ascii_lowercase(), v.to_string()));
                }
            }
            "json" => {
                let json: serde_json::Value =
                    rhai::serde::from_dynamic(&value).map_err(|e| bad(e.to_string()))?;
                request = request.json(&json);
            }
            "form" => {
                let map = value
                    .try_cast::<Map>()
                    .ok_or_else(|| bad("expected a map of field names to values".into()))?;
                let fields: Vec<(String, String)> = map
                    .into_iter()
                    .map(|(name, v)| (name.to_string(), v.to_string()))
                    .collect();
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                request = request.form(&fields);
            }
            "body" => {
                request.body = Some(Body {
                    bytes: Bytes::from(value.to_string()),
                    content_type: None,
                })
            }
            "timeout" => request.timeout = crate::api::core::parse_duration(&value).map_err(bad)?,
            "follow_redirects" => {
                request.follow_redirects = value
                    .as_bool()
                    .map_err(|_| bad("expected true or false".into()))?
            }
            "bearer" => {
                if !value.is_unit() {
                    request.bearer = Some(value.to_string());
                }
            }
            "compressed" => {
                compressed = value
                    .as_bool()
                    .map_err(|_| bad("expected true or false".into()))?
            }
            other => {
                return Err(script_error(
                    ctx,
                    format!(
                        "unknown http option `{other}` (expected headers, json, form, body, timeout, follow_redirects, bearer, compressed)"
                    ),
                ));
            }
        }
    }
    // Ask for a compressed body (the answer is decoded whatever was asked); an explicit
    // `accept-encoding` header wins.
    if compressed && !request.headers.iter().any(|(n, _)| n == "accept-encoding") {
        request.headers.push((
            "accept-encoding".to_string(),
            net::encoding::ACCEPT_ENCODING.to_string(),
        ));
    }
    Ok(request)
}

/// Entry point of every `http::` verb: refuses plan-time I/O, then sends the request.
pub fn request(
    ctx: &NativeCallContext,
    method: &str,
    url: &str,
    opts: Map,
) -> Result<HttpResponse, Box<EvalAltResult>> {
    let verb = match method {
        "GET" => "http::get".into(),
        "HEAD" => "http::head".into(),
        "POST" => "http::post".into(),
        "PUT" => "http::put".into(),
        "PATCH" => "http::patch".into(),
        "DELETE" => "http::delete".into(),
        other => std::borrow::Cow::Owned(format!("http::{}", other.to_ascii_lowercase())),
    };
    let host = bind::in_check(ctx, &verb)?;
    let request = read_options(ctx, &host, method, url, opts)?;
    let mut record = context::keeps_requests().then(|| context::RequestRecord {
        method: request.method.to_string(),
        url: request.url.to_string(),
        with_bearer: request.bearer.is_some(),
        follow_redirects: request.follow_redirects,
        json_body: request
            .body
            .as_ref()
            .filter(|b| b.content_type.as_deref() == Some("application/json"))
            .map(|b| String::from_utf8_lossy(&b.bytes).into_owned()),
        status: 0,
    });
    let response = bind::send(ctx, &host, &verb, request)?;
    if let Some(mut record) = record.take() {
        record.status = i64::from(response.status);
        context::with_check(|c| c.record.requests.push(record));
    }
    Ok(HttpResponse(Arc::new(response)))
}

#[export_module]
pub mod http_api {
    /// GET `url`. Returns an `HttpResponse`; errors on connection failure or timeout.
    #[rhai_fn(name = "get", return_raw)]
    pub fn get(ctx: NativeCallContext, url: &str) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "GET", url, Map::new())
    }
    /// GET `url` with options: `headers` (map), `timeout` ("10s"), `follow_redirects`
    /// (default false), `bearer` (a target's token: sent only to that target's origins),
    /// `compressed` (true: send `Accept-Encoding: gzip, deflate, br, zstd`). A body that comes
    /// with a `Content-Encoding` (gzip, deflate, br, zstd) is decoded whether asked for or not.
    #[rhai_fn(name = "get", return_raw)]
    pub fn get_with(
        ctx: NativeCallContext,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "GET", url, opts)
    }
    /// HEAD `url` with options (see `get`).
    #[rhai_fn(name = "head", return_raw)]
    pub fn head(
        ctx: NativeCallContext,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "HEAD", url, opts)
    }
    /// POST `url` with options: those of `get` plus a body from `json` (any value),
    /// `form` (map, url-encoded) or `body` (string).
    #[rhai_fn(name = "post", return_raw)]
    pub fn post(
        ctx: NativeCallContext,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "POST", url, opts)
    }
    /// PUT `url` with options (see `post`).
    #[rhai_fn(name = "put", return_raw)]
    pub fn put(
        ctx: NativeCallContext,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "PUT", url, opts)
    }
    /// PATCH `url` with options (see `post`).
    #[rhai_fn(name = "patch", return_raw)]
    pub fn patch(
        ctx: NativeCallContext,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "PATCH", url, opts)
    }
    /// DELETE `url` with options (see `post`).
    #[rhai_fn(name = "delete", return_raw)]
    pub fn delete(
        ctx: NativeCallContext,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "DELETE", url, opts)
    }
    /// A request with any method, with options (see `post`).
    #[rhai_fn(name = "request", return_raw)]
    pub fn request_any(
        ctx: NativeCallContext,
        method: &str,
        url: &str,
        opts: Map,
    ) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, method, url, opts)
    }
}

#[export_module]
pub mod response_api {
    /// The HTTP status code.
    #[rhai_fn(global, get = "status", pure)]
    pub fn status(r: &mut HttpResponse) -> i64 {
        i64::from(r.status)
    }
    /// Response headers: a map of lower-case names to values (repeated headers joined by ", ").
    #[rhai_fn(global, get = "headers", pure)]
    pub fn headers(r: &mut HttpResponse) -> Map {
        let mut map = Map::new();
        for name in r.headers.keys() {
            let value = r.header_value(name.as_str()).unwrap_or_default();
            map.insert(name.as_str().into(), value.into());
        }
        map
    }
    /// One header's value (any case), or `()` when absent.
    #[rhai_fn(global, name = "header", pure)]
    pub fn header(r: &mut HttpResponse, name: &str) -> Dynamic {
        r.header_value(&name.to_ascii_lowercase())
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT)
    }
    /// The body as text (invalid UTF-8 replaced).
    #[rhai_fn(global, get = "body", pure)]
    pub fn body(r: &mut HttpResponse) -> String {
        r.body_text()
    }
    /// The body parsed as JSON; an error names the request when it is not JSON.
    #[rhai_fn(global, name = "json", pure, return_raw)]
    pub fn json(
        ctx: NativeCallContext,
        r: &mut HttpResponse,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let value = r.parse_json().map_err(|e| script_error(&ctx, e))?;
        // Directly, not through `json::`: that module reads responses, so this one stays below it.
        rhai::serde::to_dynamic(&value).map_err(|e| script_error(&ctx, e.to_string()))
    }
    /// For a 429: the seconds it asks to wait (`Retry-After`, else an error body's "Retry in
    /// <N>s." message); `()` otherwise.
    #[rhai_fn(global, get = "retry_after", pure)]
    pub fn retry_after(r: &mut HttpResponse) -> Dynamic {
        crate::net::retry_delay(&r.0)
            .map(|d| Dynamic::from(d.as_secs() as i64))
            .unwrap_or(Dynamic::UNIT)
    }
    /// Body size in bytes.
    #[rhai_fn(global, get = "size", pure)]
    pub fn size(r: &mut HttpResponse) -> i64 {
        r.body.len() as i64
    }
    /// Milliseconds from sending the request to the response headers.
    #[rhai_fn(global, get = "ttfb_ms", pure)]
    pub fn ttfb_ms(r: &mut HttpResponse) -> f64 {
        r.ttfb_ms()
    }
    /// Milliseconds from sending the request to the end of the body.
    #[rhai_fn(global, get = "total_ms", pure)]
    pub fn total_ms(r: &mut HttpResponse) -> f64 {
        r.total_ms()
    }
    /// The response's `x-request-id` (or the one sent, when the server echoed none).
    #[rhai_fn(global, get = "request_id", pure)]
    pub fn request_id(r: &mut HttpResponse) -> String {
        r.request_id.clone()
    }
    /// The final URL (after redirects).
    #[rhai_fn(global, get = "url", pure)]
    pub fn url(r: &mut HttpResponse) -> String {
        r.url.to_string()
    }
    /// Redirects followed to get here.
    #[rhai_fn(global, get = "redirects", pure)]
    pub fn redirects(r: &mut HttpResponse) -> i64 {
        r.redirects as i64
    }
    /// `GET /path -> 200 (12.3 ms, 42 bytes)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(r: &mut HttpResponse) -> String {
        format!(
            "{} {} -> {} ({:.1} ms, {} bytes)",
            r.method,
            r.path(),
            r.status,
            r.total_ms(),
            r.body.len()
        )
    }
}
