//! The HTTP transport, free of any scripting: requests and responses, the credential policy,
//! redirects, timeouts, the body cap, and an explicit [`Recorder`] of every hop. `http::`,
//! `perf::`, the Google REST client and its token requests all send through
//! [`Transport::send`], so every exchange obeys the same rules and lands in the same evidence.

mod client;
pub mod encoding;
mod error;
pub mod exchange;
pub mod policy;
pub mod proxy;

pub use error::{DecodeError, HopError};
pub use exchange::{Exchange, ExchangeResponse, Recorder};
pub use http::{HeaderMap, Method};
pub use policy::CredentialPolicy;
pub use proxy::Proxies;

use bytes::Bytes;
use exchange::{header_text, kept};
use rand::Rng;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;
use url::Url;

/// Redirects followed before giving up (a loop ends here).
pub const MAX_REDIRECTS: usize = 10;

/// A request body and its content type.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub content_type: Option<String>,
}

/// A request: method, URL, headers (lower-case names), body and how to send it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    pub timeout: Duration,
    pub follow_redirects: bool,
    /// A bearer token for the `authorization` header (the policy decides where it may go).
    pub bearer: Option<String>,
    /// The bodies are credentials: the evidence records their size, not their text.
    pub conceal_bodies: bool,
}

impl Request {
    /// A request without body, headers or credentials that does not follow redirects.
    pub fn new(method: Method, url: Url, timeout: Duration) -> Request {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: None,
            timeout,
            follow_redirects: false,
            bearer: None,
            conceal_bodies: false,
        }
    }

    /// A JSON body.
    pub fn json(mut self, value: &serde_json::Value) -> Request {
        self.body = Some(Body {
            bytes: Bytes::from(value.to_string()),
            content_type: Some("application/json".to_string()),
        });
        self
    }

    /// An `application/x-www-form-urlencoded` body.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Request {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(fields);
        self.body = Some(Body {
            bytes: Bytes::from(form.finish()),
            content_type: Some("application/x-www-form-urlencoded".to_string()),
        });
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// The final response (after any redirects followed).
#[derive(Debug)]
pub struct Response {
    pub method: Method,
    /// The final URL.
    pub url: Url,
    pub status: u16,
    pub headers: Arc<HeaderMap>,
    pub body: Bytes,
    /// From sending the last request to its response headers.
    pub ttfb: Duration,
    /// From sending the last request to the end of its body.
    pub total: Duration,
    /// The response's `x-request-id`, or the one sent when the server echoed none.
    pub request_id: String,
    pub redirects: usize,
}

impl Response {
    /// Path and query of the final URL: stable across runs, unlike host and port.
    pub fn path(&self) -> String {
        path_of(&self.url)
    }

    /// All values of a header (any case), joined with ", ".
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
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

/// Path and query of `url`.
/// How long a 429 asks to wait: `Retry-After` in seconds, else a JSON body whose `message`
/// says "Retry in <N>s." (what the OpenAgents control service answers, without the header).
pub fn retry_delay(response: &Response) -> Option<Duration> {
    if response.status != 429 {
        return None;
    }
    if let Some(seconds) = response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(seconds));
    }
    let message = response.parse_json().ok()?["message"].as_str()?.to_string();
    let rest = &message[message.find("Retry in ")? + "Retry in ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest[digits.len()..]
        .starts_with('s')
        .then(|| digits.parse().ok().map(Duration::from_secs))
        .flatten()
}

/// The `message` of a JSON error body (the OpenAgents envelope), else its first 200
/// characters: what a failure quotes of a refusal.
pub fn error_message(response: &Response) -> String {
    match response.parse_json() {
        Ok(json) if json["message"].is_string() => {
            json["message"].as_str().unwrap_or_default().to_string()
        }
        _ => response.body_text().chars().take(200).collect(),
    }
}

pub fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Why a request did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The credential policy refused a hop (nothing was sent).
    Refused(String),
    /// The hop to `path` failed: connection, timeout, body, cap.
    Failed {
        path: String,
        cause: HopError,
    },
    TooManyRedirects {
        path: String,
    },
    BadLocation(String),
    /// The run was interrupted while waiting.
    Interrupted,
}

impl NetError {
    /// What went wrong, without what was being done.
    pub fn reason(&self) -> String {
        match self {
            NetError::Refused(why) => why.clone(),
            NetError::Failed { cause, .. } => cause.to_string(),
            NetError::TooManyRedirects { .. } => {
                format!("more than {MAX_REDIRECTS} redirects (a redirect loop?)")
            }
            NetError::BadLocation(e) => format!("invalid redirect location: {e}"),
            NetError::Interrupted => "interrupted".to_string(),
        }
    }

    /// The message a caller shows, prefixed with what it was doing (`http::get /path`).
    pub fn describe(&self, verb: &str) -> String {
        match self {
            NetError::Failed { path, .. } | NetError::TooManyRedirects { path } => {
                format!("{verb} {path}: {}", self.reason())
            }
            _ => format!("{verb}: {}", self.reason()),
        }
    }
}

/// How the transport reaches servers: the proxies and the extra trusted CAs.
#[derive(Debug, Clone, Default)]
pub struct TransportSettings {
    pub proxies: Proxies,
    /// PEM certificates trusted besides the system's store (`--cacert`, `OA_CA_BUNDLE`).
    pub ca_bundle: Option<PathBuf>,
}

impl TransportSettings {
    /// The proxies `env` names, and `cacert` (the flag) or else `OA_CA_BUNDLE`.
    pub fn from_env(
        env: &crate::config::EnvSnapshot,
        cacert: Option<PathBuf>,
    ) -> Result<TransportSettings, String> {
        Ok(TransportSettings {
            proxies: Proxies::from_env(env)?,
            ca_bundle: cacert.or_else(|| env.get_nonempty("OA_CA_BUNDLE").map(PathBuf::from)),
        })
    }
}

/// The transport of a run: the credential policy and the body cap, over a pooled client per
/// check thread.
pub struct Transport {
    policy: CredentialPolicy,
    max_body: u64,
    clients: client::ClientSettings,
    /// Serves when a thread cannot build its own runtime.
    fallback: tokio::runtime::Handle,
}

impl Transport {
    pub fn new(
        policy: CredentialPolicy,
        max_body: u64,
        settings: &TransportSettings,
        runtime: tokio::runtime::Handle,
    ) -> Result<Transport, String> {
        let clients =
            client::ClientSettings::new(settings.proxies.clone(), settings.ca_bundle.as_deref())?;
        Ok(Transport {
            policy,
            max_body,
            fallback: runtime,
            clients,
        })
    }

    /// Refuses a hop that would show a credential to a proxy: a plain `http://` request goes
    /// to the proxy as it is (no CONNECT tunnel), so the proxy would read it.
    fn check_proxy(
        &self,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&Body>,
    ) -> Result<(), NetError> {
        if url.scheme() != "http" {
            return Ok(());
        }
        let Some(route) = self.clients.proxies.route(url) else {
            return Ok(());
        };
        if !self
            .policy
            .carries_credential(url, headers, body.map(|b| &b.bytes[..]))
        {
            return Ok(());
        }
        Err(NetError::Refused(format!(
            "refusing to send a credential in clear to {} through the proxy {} names ({}): \
             use https, or add the host to NO_PROXY",
            url.origin().ascii_serialization(),
            route.variable,
            route.shown()
        )))
    }

    /// The credential policy every hop is checked against (the browser's bearer too).
    pub fn policy(&self) -> &CredentialPolicy {
        &self.policy
    }

    /// Sends `request`, following redirects when asked, and tells `recorder` every hop. The
    /// timeout is never past `not_after` (the check's deadline); `cancel` stops the wait.
    /// Blocks the calling (check) thread.
    pub fn send(
        &self,
        request: Request,
        not_after: Instant,
        cancel: &CancellationToken,
        recorder: &mut dyn Recorder,
    ) -> Result<Response, NetError> {
        let timeout = request
            .timeout
            .min(not_after.saturating_duration_since(Instant::now()));
        let deadline = crate::duration::tokio_deadline_after(tokio::time::Instant::now(), timeout);
        let first_origin = request.url.origin();
        let Request {
            mut method,
            mut url,
            mut headers,
            mut body,
            follow_redirects,
            bearer,
            conceal_bodies,
            ..
        } = request;
        if !headers.iter().any(|(n, _)| n == "x-request-id") {
            headers.push(("x-request-id".to_string(), random_request_id()));
        }
        if let Some(Body {
            content_type: Some(content_type),
            ..
        }) = &body
            && !headers.iter().any(|(n, _)| n == "content-type")
        {
            headers.push(("content-type".to_string(), content_type.clone()));
        }
        if let Some(token) = &bearer {
            headers.push(("authorization".to_string(), format!("Bearer {token}")));
        }
        let original_path = path_of(&url);
        let mut redirects = 0usize;
        loop {
            self.policy
                .check_hop(&url, &headers, body.as_ref().map(|b| &b.bytes[..]))
                .map_err(NetError::Refused)?;
            self.check_proxy(&url, &headers, body.as_ref())?;
            let sent_request_id = headers
                .iter()
                .find(|(n, _)| n == "x-request-id")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let mut exchange = Exchange {
                started_at: SystemTime::now(),
                method: method.clone(),
                url: url.clone(),
                request_headers: headers.clone(),
                request_body: body.clone(),
                response: None,
                error: None,
                request_id: sent_request_id.clone(),
                connect: None,
                ttfb: Duration::ZERO,
                total: Duration::ZERO,
                conceal_bodies,
            };
            let outcome = client::block_on(&self.clients, &self.fallback, |client| {
                let (method, url, headers, body) = (&method, &url, &headers, body.as_ref());
                async move {
                    let hop = client::send_once(
                        &client,
                        method,
                        url,
                        headers,
                        body,
                        deadline,
                        self.max_body,
                    );
                    tokio::select! {
                        r = hop => Some(r),
                        _ = cancel.cancelled() => None,
                    }
                }
            });
            // A client that cannot be built fails the hop like a connection that cannot be made.
            let outcome = outcome.unwrap_or_else(|cause| Some(Err(cause)));
            let hop = match outcome {
                None => return Err(NetError::Interrupted),
                Some(Err(_)) if cancel.is_cancelled() => return Err(NetError::Interrupted),
                Some(Err(cause)) => {
                    exchange.error = Some(cause.to_string());
                    recorder.exchange(exchange);
                    return Err(NetError::Failed {
                        path: path_of(&url),
                        cause,
                    });
                }
                Some(Ok(hop)) => hop,
            };
            let headers_received = Arc::new(hop.headers);
            let response_request_id = header_text(&headers_received, "x-request-id");
            exchange.connect = hop.connect;
            exchange.ttfb = hop.ttfb;
            exchange.total = hop.total;
            let transferred_size = hop.body.len() as u64;
            // A body sent with Content-Encoding is decoded: scripts and the evidence see it as
            // the server meant it; the HAR keeps both sizes.
            let decoded = match header_text(&headers_received, "content-encoding") {
                Some(coding) if !hop.body.is_empty() && method != Method::HEAD => encoding::decode(
                    &coding,
                    hop.body.clone(),
                    self.max_body,
                    deadline.into_std(),
                ),
                _ => Ok(hop.body.clone()),
            };
            let response_body = match decoded {
                Ok(decoded) => decoded,
                Err(decoding) => {
                    exchange.response = Some(ExchangeResponse {
                        status: hop.status,
                        version: hop.version,
                        headers: headers_received.clone(),
                        body: Bytes::new(),
                        body_size: transferred_size,
                        transferred_size,
                    });
                    exchange.error = Some(decoding.to_string());
                    recorder.exchange(exchange);
                    return Err(NetError::Failed {
                        path: path_of(&url),
                        cause: decoding.into(),
                    });
                }
            };
            exchange.response = Some(ExchangeResponse {
                status: hop.status,
                version: hop.version,
                headers: headers_received.clone(),
                body: if conceal_bodies {
                    Bytes::new()
                } else {
                    kept(&response_body)
                },
                body_size: response_body.len() as u64,
                transferred_size,
            });
            recorder.exchange(exchange);

            let is_redirect = matches!(hop.status, 301 | 302 | 303 | 307 | 308);
            let location = header_text(&headers_received, "location");
            if follow_redirects
                && is_redirect
                && let Some(location) = location
            {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(NetError::TooManyRedirects {
                        path: original_path,
                    });
                }
                let next = url
                    .join(&location)
                    .map_err(|e| NetError::BadLocation(e.to_string()))?;
                let keeps_body = !(matches!(hop.status, 301..=303) && method != Method::HEAD);
                if policy::redirect_drops_credentials(&first_origin, &url, &next) {
                    // Credential headers by name, and any header holding a known secret
                    // (`x-api-key: env("…_TOKEN")`, a `secret()` value) whatever its name.
                    let mut dropped: Vec<String> = Vec::new();
                    headers.retain(|(n, v)| {
                        let keep = !policy::is_sensitive_header(n)
                            && !self.policy.holds_secret(v.as_bytes());
                        if !keep {
                            dropped.push(n.clone());
                        }
                        keep
                    });
                    if keeps_body
                        && body
                            .as_ref()
                            .is_some_and(|b| self.policy.holds_secret(&b.bytes))
                    {
                        return Err(NetError::Refused(format!(
                            "refusing to follow a {} redirect to {} with a body holding a secret",
                            hop.status,
                            next.origin().ascii_serialization()
                        )));
                    }
                    let dropped = if dropped.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", dropped.join(", "))
                    };
                    recorder.note(format!(
                        "redirect to another origin ({}): credentials dropped{dropped}",
                        next.origin().ascii_serialization()
                    ));
                }
                if !keeps_body {
                    method = Method::GET;
                    body = None;
                    headers.retain(|(n, _)| n != "content-type");
                }
                url = next;
                continue;
            }
            return Ok(Response {
                method,
                url,
                status: hop.status,
                request_id: response_request_id.unwrap_or(sent_request_id),
                headers: headers_received,
                body: response_body,
                ttfb: hop.ttfb,
                total: hop.total,
                redirects,
            });
        }
    }
}

fn random_request_id() -> String {
    format!("oa-{:016x}", rand::thread_rng().r#gen::<u64>())
}
