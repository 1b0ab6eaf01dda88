//! `http::` — requests with timeouts, a body cap, evidence (HAR) and a credential policy:
//! a target's token is only ever sent to that target's own origins, never across a
//! redirect to another origin, and never from https down to http.

use crate::api::json::json_to_dynamic;
use crate::api::script_error;
use crate::engine::context;
use crate::engine::host::Host;
use crate::evidence::exchange::{Exchange, ExchangeResponse};
use rand::Rng;
use reqwest::Method;
use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::{Origin, Url};

/// Redirects followed before giving up (a loop ends here).
pub const MAX_REDIRECTS: usize = 10;
/// Body text kept in the HAR per exchange; the full size is still recorded.
const HAR_BODY_LIMIT: usize = 1024 * 1024;
/// Headers whose values never reach the evidence, whatever they hold.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// A response as scripts see it. Cheap to clone: Rhai passes values by copy.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub method: String,
    pub url: String,
    pub status: i64,
    pub headers: Arc<Vec<(String, String)>>,
    pub body: Arc<Vec<u8>>,
    pub ttfb_ms: f64,
    pub total_ms: f64,
    /// The response's `x-request-id`, or the one sent when the server echoed none.
    pub request_id: String,
    pub redirects: i64,
}

impl HttpResponse {
    /// Path and query of the final URL: stable across runs, unlike host and port.
    pub fn path(&self) -> String {
        match Url::parse(&self.url) {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            },
            Err(_) => self.url.clone(),
        }
    }

    /// All values of a header (lower-case name), joined with ", ".
    pub fn header_value(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn parse_json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "{} {} answered a body that is not JSON ({e})",
                self.method,
                self.path()
            )
        })
    }
}

/// What a script asked for, after its options were read. Other primitives that speak HTTP
/// (`cloudrun::`, `logging::`) build one too, so every exchange lands in the check's HAR.
pub(crate) struct RequestSpec {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(String, String)>,
    /// Body bytes and their content type.
    pub(crate) body: Option<(Vec<u8>, Option<String>)>,
    pub(crate) timeout: Duration,
    pub(crate) follow_redirects: bool,
    pub(crate) bearer: Option<String>,
}

impl RequestSpec {
    /// A request without body, headers or credentials that does not follow redirects.
    pub(crate) fn new(method: Method, url: Url, timeout: Duration) -> Self {
        RequestSpec {
            method,
            url,
            headers: Vec::new(),
            body: None,
            timeout,
            follow_redirects: false,
            bearer: None,
        }
    }
}

/// Reads a script's request options (shared by `http::` and `perf::`).
pub(crate) fn read_options(
    ctx: &NativeCallContext,
    host: &Host,
    method: &str,
    url: &str,
    opts: Map,
) -> Result<RequestSpec, Box<EvalAltResult>> {
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
    let mut spec = RequestSpec {
        method,
        url,
        headers: Vec::new(),
        body: None,
        timeout: host.settings.limits.http_timeout,
        follow_redirects: false,
        bearer: None,
    };
    for (key, value) in opts {
        let bad = |what: String| script_error(ctx, format!("http option `{key}`: {what}"));
        match key.as_str() {
            "headers" => {
                let map = value
                    .try_cast::<Map>()
                    .ok_or_else(|| bad("expected a map of header names to values".into()))?;
                for (name, v) in map {
                    spec.headers
                        .push((name.to_ascii_lowercase(), v.to_string()));
                }
            }
            "json" => {
                let json: serde_json::Value =
                    rhai::serde::from_dynamic(&value).map_err(|e| bad(e.to_string()))?;
                spec.body = Some((
                    json.to_string().into_bytes(),
                    Some("application/json".to_string()),
                ));
            }
            "form" => {
                let map = value
                    .try_cast::<Map>()
                    .ok_or_else(|| bad("expected a map of field names to values".into()))?;
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (name, v) in map {
                    form.append_pair(&name, &v.to_string());
                }
                spec.body = Some((
                    form.finish().into_bytes(),
                    Some("application/x-www-form-urlencoded".to_string()),
                ));
            }
            "body" => spec.body = Some((value.to_string().into_bytes(), None)),
            "timeout" => spec.timeout = crate::api::core::parse_duration(&value).map_err(bad)?,
            "follow_redirects" => {
                spec.follow_redirects = value
                    .as_bool()
                    .map_err(|_| bad("expected true or false".into()))?
            }
            "bearer" => {
                if !value.is_unit() {
                    spec.bearer = Some(value.to_string());
                }
            }
            other => {
                return Err(script_error(
                    ctx,
                    format!(
                        "unknown http option `{other}` (expected headers, json, form, body, timeout, follow_redirects, bearer)"
                    ),
                ));
            }
        }
    }
    Ok(spec)
}

/// The origins `token` may be sent to: the control and runtime origins of every target that
/// has it (two targets may share one token).
fn token_origins(host: &Host, token: &str) -> Vec<Origin> {
    host.targets
        .iter()
        .filter(|t| t.token.as_deref() == Some(token))
        .flat_map(|t| std::iter::once(t.control_url.as_str()).chain(t.runtime_url.as_deref()))
        .filter_map(|u| Url::parse(u).ok())
        .map(|u| u.origin())
        .collect()
}

/// Refuses a hop that would carry a target's token, in any of its encoded forms, to an
/// origin that is not one of that target's.
fn guard_credentials(
    host: &Host,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<(), String> {
    let origin = url.origin();
    let body = body.map(String::from_utf8_lossy);
    for target in &host.targets {
        let Some(token) = target.token.as_deref() else {
            continue;
        };
        let carried = crate::redact::secret_forms(token).iter().any(|form| {
            url.as_str().contains(form.as_str())
                || headers.iter().any(|(_, v)| v.contains(form.as_str()))
                || body.as_deref().is_some_and(|b| b.contains(form.as_str()))
        });
        if carried && !token_origins(host, token).contains(&origin) {
            let name = &target.name;
            return Err(format!(
                "refusing to send the {name} token to {}: it may only go to the {name} target's own origins",
                origin.ascii_serialization()
            ));
        }
    }
    Ok(())
}

fn random_request_id() -> String {
    format!("oa-{:016x}", rand::thread_rng().r#gen::<u64>())
}

/// One hop's result: the exchange to record and, when it arrived, the response parts.
struct Hop {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    ttfb: Duration,
    total: Duration,
}

async fn send_once(
    host: &Host,
    client: &reqwest::Client,
    method: Method,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&(Vec<u8>, Option<String>)>,
    deadline: tokio::time::Instant,
) -> Result<(Hop, String, String), String> {
    let mut request = client.request(method, url.clone());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some((bytes, _)) = body {
        request = request.body(bytes.clone());
    }
    let started = Instant::now();
    let response = tokio::time::timeout_at(deadline, request.send())
        .await
        .map_err(|_| "timed out waiting for the response headers".to_string())?
        .map_err(describe_reqwest_error)?;
    let ttfb = started.elapsed();
    let status = response.status();
    let version = format!("{:?}", response.version());
    let response_headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(len) = response.content_length()
        && len > host.settings.limits.max_body
    {
        return Err(format!(
            "response body of {len} bytes exceeds the cap of {} bytes (--max-body)",
            host.settings.limits.max_body
        ));
    }
    let mut response = response;
    let mut body_bytes = Vec::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .map_err(|_| "timed out reading the response body".to_string())?
            .map_err(describe_reqwest_error)?;
        let Some(chunk) = chunk else { break };
        if body_bytes.len() as u64 + chunk.len() as u64 > host.settings.limits.max_body {
            return Err(format!(
                "response body exceeds the cap of {} bytes (--max-body)",
                host.settings.limits.max_body
            ));
        }
        body_bytes.extend_from_slice(&chunk);
    }
    let total = started.elapsed();
    Ok((
        Hop {
            status: status.as_u16(),
            headers: response_headers,
            body: body_bytes,
            ttfb,
            total,
        },
        status.canonical_reason().unwrap_or("").to_string(),
        version,
    ))
}

/// reqwest's Display hides the cause ("error sending request"); the chain names it.
fn describe_reqwest_error(err: reqwest::Error) -> String {
    let mut text = if err.is_connect() {
        "connection failed".to_string()
    } else if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_body() || err.is_decode() {
        "error reading the response body".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn redacted_headers(host: &Host, headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            let value = if SENSITIVE_HEADERS.contains(&n.as_str()) {
                crate::redact::MASK.to_string()
            } else {
                host.services.redactor.redact(v)
            };
            (n.clone(), value)
        })
        .collect()
}

fn har_text(host: &Host, bytes: &[u8]) -> String {
    let end = bytes.len().min(HAR_BODY_LIMIT);
    host.services
        .redactor
        .redact(&String::from_utf8_lossy(&bytes[..end]))
}

/// Performs a request (following redirects when asked), recording every hop. Shared by
/// `http::`, `perf::`, `cloudrun::` and `logging::`: a timing measured here is the one a
/// script sees. The timeout is never past the check's deadline; an interruption stops the wait.
pub(crate) fn perform(
    ctx: &NativeCallContext,
    verb: &str,
    spec: RequestSpec,
    host: &Host,
) -> Result<HttpResponse, Box<EvalAltResult>> {
    let timeout = spec.timeout.min(context::remaining());
    let deadline = tokio::time::Instant::now() + timeout;
    let mut url = spec.url.clone();
    let mut method = spec.method.clone();
    let mut body = spec.body.clone();
    let first_origin = spec.url.origin();
    let mut headers = spec.headers.clone();
    if !headers.iter().any(|(n, _)| n == "x-request-id") {
        headers.push(("x-request-id".to_string(), random_request_id()));
    }
    if let Some((_, Some(content_type))) = &body
        && !headers.iter().any(|(n, _)| n == "content-type")
    {
        headers.push(("content-type".to_string(), content_type.clone()));
    }
    if let Some(token) = &spec.bearer {
        headers.push(("authorization".to_string(), format!("Bearer {token}")));
    }
    let mut redirects = 0usize;
    loop {
        guard_credentials(
            host,
            &url,
            &headers,
            body.as_ref().map(|(b, _)| b.as_slice()),
        )
        .map_err(|e| script_error(ctx, format!("{verb}: {e}")))?;
        let sent_request_id = headers
            .iter()
            .find(|(n, _)| n == "x-request-id")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let cancel = host.services.cancel.clone();
        let (hop_method, hop_url, hop_headers, hop_body) =
            (method.clone(), &url, &headers, body.as_ref());
        let outcome = host.block_on_http(|client| async move {
            tokio::select! {
                r = send_once(host, &client, hop_method, hop_url, hop_headers, hop_body, deadline) => r,
                _ = cancel.cancelled() => Err("interrupted".to_string()),
            }
        });
        let mut exchange = Exchange {
            started_at,
            method: method.to_string(),
            url: host.services.redactor.redact(url.as_str()),
            request_headers: redacted_headers(host, &headers),
            request_body: body.as_ref().map(|(b, _)| har_text(host, b)),
            request_content_type: body.as_ref().and_then(|(_, ct)| ct.clone()),
            response: None,
            error: None,
            request_id: sent_request_id.clone(),
            ttfb_ms: 0.0,
            total_ms: 0.0,
        };
        let (hop, status_text, version) = match outcome {
            Ok(ok) => ok,
            Err(message) => {
                if host.services.cancel.is_cancelled() {
                    return Err(crate::api::interrupted(ctx));
                }
                let message = host.services.redactor.redact(&message);
                exchange.error = Some(message.clone());
                context::log(format!(
                    "{} {} -> error: {message}",
                    exchange.method, exchange.url
                ));
                context::with_check(|c| c.record.exchanges.push(exchange));
                return Err(script_error(
                    ctx,
                    format!("{verb} {}: {message}", path_of(&url)),
                ));
            }
        };
        let response_request_id = hop
            .headers
            .iter()
            .find(|(n, _)| n == "x-request-id")
            .map(|(_, v)| v.clone());
        exchange.ttfb_ms = hop.ttfb.as_secs_f64() * 1000.0;
        exchange.total_ms = hop.total.as_secs_f64() * 1000.0;
        exchange.response = Some(ExchangeResponse {
            status: hop.status,
            status_text,
            http_version: version,
            headers: redacted_headers(host, &hop.headers),
            body: har_text(host, &hop.body),
            body_size: hop.body.len() as u64,
            content_type: hop
                .headers
                .iter()
                .find(|(n, _)| n == "content-type")
                .map(|(_, v)| v.clone()),
            request_id: response_request_id.clone(),
        });
        context::log(format!(
            "{} {} -> {} ({:.1} ms, {} bytes, x-request-id {})",
            exchange.method,
            exchange.url,
            hop.status,
            exchange.total_ms,
            hop.body.len(),
            response_request_id.as_deref().unwrap_or(&sent_request_id)
        ));
        tracing::debug!(method = %exchange.method, url = %exchange.url, status = hop.status, "http exchange");
        context::with_check(|c| c.record.exchanges.push(exchange));

        let location = hop
            .headers
            .iter()
            .find(|(n, _)| n == "location")
            .map(|(_, v)| v.clone());
        let is_redirect = matches!(hop.status, 301 | 302 | 303 | 307 | 308);
        if spec.follow_redirects
            && is_redirect
            && let Some(location) = location
        {
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(script_error(
                    ctx,
                    format!(
                        "{verb} {}: more than {MAX_REDIRECTS} redirects (a redirect loop?)",
                        path_of(&spec.url)
                    ),
                ));
            }
            let next = url.join(&location).map_err(|e| {
                script_error(ctx, format!("{verb}: invalid redirect location: {e}"))
            })?;
            let downgrade = url.scheme() == "https" && next.scheme() == "http";
            if next.origin() != first_origin || downgrade {
                // Credentials never follow a redirect to another origin or down to http.
                headers.retain(|(n, _)| !SENSITIVE_HEADERS.contains(&n.as_str()));
                context::log(format!(
                    "redirect to another origin ({}): credentials dropped",
                    next.origin().ascii_serialization()
                ));
            }
            if matches!(hop.status, 301..=303) && method != Method::HEAD {
                method = Method::GET;
                body = None;
                headers.retain(|(n, _)| n != "content-type");
            }
            url = next;
            continue;
        }
        return Ok(HttpResponse {
            method: method.to_string(),
            url: url.to_string(),
            status: i64::from(hop.status),
            request_id: response_request_id.unwrap_or(sent_request_id),
            headers: Arc::new(hop.headers),
            body: Arc::new(hop.body),
            ttfb_ms: exchange_ms(hop.ttfb),
            total_ms: exchange_ms(hop.total),
            redirects: redirects as i64,
        });
    }
}

fn exchange_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Entry point of every `http::` verb: refuses plan-time I/O, then performs the request.
pub fn request(
    ctx: &NativeCallContext,
    method: &str,
    url: &str,
    opts: Map,
) -> Result<HttpResponse, Box<EvalAltResult>> {
    let verb = format!("http::{}", method.to_ascii_lowercase());
    if context::with_check(|_| ()).is_none() {
        return Err(script_error(
            ctx,
            format!(
                "{verb} at plan time: the top level of a lane only declares checks; move the request into a check"
            ),
        ));
    }
    let host = context::host().ok_or_else(|| script_error(ctx, "no host services"))?;
    let spec = read_options(ctx, &host, method, url, opts)?;
    let mut record = context::RequestRecord {
        method: spec.method.to_string(),
        url: spec.url.to_string(),
        with_bearer: spec.bearer.is_some(),
        follow_redirects: spec.follow_redirects,
        json_body: spec
            .body
            .as_ref()
            .filter(|(_, ct)| ct.as_deref() == Some("application/json"))
            .map(|(b, _)| String::from_utf8_lossy(b).into_owned()),
        status: 0,
    };
    let response = perform(ctx, &verb, spec, &host)?;
    record.status = response.status;
    context::with_check(|c| c.record.requests.push(record));
    Ok(response)
}

#[export_module]
pub mod http_api {
    /// GET `url`. Returns an `HttpResponse`; errors on connection failure or timeout.
    #[rhai_fn(name = "get", return_raw)]
    pub fn get(ctx: NativeCallContext, url: &str) -> Result<HttpResponse, Box<EvalAltResult>> {
        request(&ctx, "GET", url, Map::new())
    }
    /// GET `url` with options: `headers` (map), `timeout` ("10s"), `follow_redirects`
    /// (default false), `bearer` (a target's token: sent only to that target's origins).
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
        r.status
    }
    /// Response headers: a map of lower-case names to values (repeated headers joined by ", ").
    #[rhai_fn(global, get = "headers", pure)]
    pub fn headers(r: &mut HttpResponse) -> Map {
        let mut map = Map::new();
        for (name, _) in r.headers.iter() {
            if !map.contains_key(name.as_str()) {
                let value = r.header_value(name).unwrap_or_default();
                map.insert(name.as_str().into(), value.into());
            }
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
        json_to_dynamic(&value).map_err(|e| script_error(&ctx, e))
    }
    /// Body size in bytes.
    #[rhai_fn(global, get = "size", pure)]
    pub fn size(r: &mut HttpResponse) -> i64 {
        r.body.len() as i64
    }
    /// Milliseconds from sending the request to the response headers.
    #[rhai_fn(global, get = "ttfb_ms", pure)]
    pub fn ttfb_ms(r: &mut HttpResponse) -> f64 {
        r.ttfb_ms
    }
    /// Milliseconds from sending the request to the end of the body.
    #[rhai_fn(global, get = "total_ms", pure)]
    pub fn total_ms(r: &mut HttpResponse) -> f64 {
        r.total_ms
    }
    /// The response's `x-request-id` (or the one sent, when the server echoed none).
    #[rhai_fn(global, get = "request_id", pure)]
    pub fn request_id(r: &mut HttpResponse) -> String {
        r.request_id.clone()
    }
    /// The final URL (after redirects).
    #[rhai_fn(global, get = "url", pure)]
    pub fn url(r: &mut HttpResponse) -> String {
        r.url.clone()
    }
    /// Redirects followed to get here.
    #[rhai_fn(global, get = "redirects", pure)]
    pub fn redirects(r: &mut HttpResponse) -> i64 {
        r.redirects
    }
    /// `GET /path -> 200 (12.3 ms, 42 bytes)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(r: &mut HttpResponse) -> String {
        format!(
            "{} {} -> {} ({:.1} ms, {} bytes)",
            r.method,
            r.path(),
            r.status,
            r.total_ms,
            r.body.len()
        )
    }
}
