//! One hop on the wire: hyper's pooled HTTP/1.1 client over TCP or rustls, with the timeouts
//! and the body cap. Each check thread has its own current-thread runtime and pool.

use super::Body;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Version};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

pub type Client = HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

const USER_AGENT: &str = concat!("oa-validate/", env!("CARGO_PKG_VERSION"));

/// A client: no proxies (a proxy would be another origin that sees the token) and no
/// redirects (the transport follows them itself, deciding per hop which credentials go).
pub fn client() -> Result<Client, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_timer(TokioTimer::new())
        .build(connector))
}

thread_local! {
    /// A check thread's own I/O: a current-thread runtime and a client whose pool lives on it.
    static LOCAL: std::cell::OnceCell<Option<(tokio::runtime::Runtime, Client)>> =
        const { std::cell::OnceCell::new() };
}

/// Runs `io` for the calling (check) thread on that thread's own current-thread runtime and
/// pool. Blocking on the shared multi-thread runtime instead hands every request and every
/// body chunk between threads (about a third of a loopback request's wall time); here the
/// socket, the timers and the script stay on one thread. `fallback` serves when the local
/// runtime cannot be built.
pub fn block_on<F: std::future::Future>(
    fallback: &(tokio::runtime::Handle, Client),
    io: impl FnOnce(Client) -> F,
) -> F::Output {
    LOCAL.with(|cell| {
        let local = cell.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            Some((runtime, client().ok()?))
        });
        match local {
            Some((runtime, client)) => runtime.block_on(io(client.clone())),
            None => fallback.0.block_on(io(fallback.1.clone())),
        }
    })
}

/// What came back for one hop.
pub struct Hop {
    pub status: u16,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub ttfb: Duration,
    pub total: Duration,
}

/// Sends one request and reads the whole body, within `deadline` and `max_body` bytes; an
/// error says why in words that name the fault. One timer covers the whole hop (a timer per
/// step cost more than the rest of the transport); where it fired says which step was late.
pub async fn send_once(
    client: &Client,
    method: &Method,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&Body>,
    deadline: tokio::time::Instant,
    max_body: u64,
) -> Result<Hop, String> {
    let reading_body = Cell::new(false);
    let hop = exchange(client, method, url, headers, body, max_body, &reading_body);
    match tokio::time::timeout_at(deadline, hop).await {
        Ok(result) => result,
        Err(_) if reading_body.get() => Err("timed out reading the response body".to_string()),
        Err(_) => Err("timed out waiting for the response headers".to_string()),
    }
}

async fn exchange(
    client: &Client,
    method: &Method,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&Body>,
    max_body: u64,
    reading_body: &Cell<bool>,
) -> Result<Hop, String> {
    let started = Instant::now();
    let mut request = http::Request::builder()
        .method(method.clone())
        .uri(url.as_str());
    let mut has_agent = false;
    let mut has_accept = false;
    for (name, value) in headers {
        has_agent |= name == "user-agent";
        has_accept |= name == "accept";
        request = request.header(name.as_str(), value.as_str());
    }
    if !has_accept {
        request = request.header(http::header::ACCEPT, "*/*");
    }
    if !has_agent {
        request = request.header(http::header::USER_AGENT, USER_AGENT);
    }
    let request = request
        .body(Full::new(body.map(|b| b.bytes.clone()).unwrap_or_default()))
        .map_err(|e| format!("invalid request: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| describe_client_error(&e, url))?;
    let ttfb = started.elapsed();
    reading_body.set(true);
    let (parts, mut incoming) = response.into_parts();
    let announced = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = announced
        && len > max_body
    {
        return Err(format!(
            "response body of {len} bytes exceeds the cap of {max_body} bytes (--max-body)"
        ));
    }
    // One chunk (the usual small body) is kept as it arrived; more are joined.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    let mut size: u64 = 0;
    while let Some(frame) = incoming.frame().await {
        let frame =
            frame.map_err(|e| format!("error reading the response body: {}", error_chain(&e)))?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        size += chunk.len() as u64;
        if size > max_body {
            return Err(format!(
                "response body exceeds the cap of {max_body} bytes (--max-body)"
            ));
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            earlier => {
                if let Some(earlier) = earlier {
                    joined.extend_from_slice(&earlier);
                }
                joined.extend_from_slice(&chunk);
            }
        }
    }
    let body = first.unwrap_or_else(|| joined.freeze());
    Ok(Hop {
        status: parts.status.as_u16(),
        version: parts.version,
        headers: parts.headers,
        body,
        ttfb,
        total: started.elapsed(),
    })
}

/// What went wrong, with the causes the top error's own text hides; a failed connection names
/// the host and port it tried (a wrong port or a DNS typo reads at once on the terminal).
fn describe_client_error(err: &hyper_util::client::legacy::Error, url: &Url) -> String {
    if err.is_connect() {
        let host = url.host_str().unwrap_or("?");
        let port = url.port_or_known_default().unwrap_or(0);
        format!("connection to {host}:{port} failed: {}", error_chain(err))
    } else {
        format!("request failed: {}", error_chain(err))
    }
}

/// An error and its sources, `: `-separated.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
