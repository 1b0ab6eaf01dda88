//! One hop on the wire: reqwest over TCP or rustls (HTTP/1.1, or HTTP/2 when the server picks
//! it by ALPN), through the proxy the environment names (`net::proxy`), with the timeouts and
//! the body cap. reqwest neither follows redirects (the transport does, deciding per hop which
//! credentials go) nor decodes bodies (`net::encoding` does, within its limits). Each check
//! thread has its own current-thread runtime and pooled client.

use super::Body;
use super::error::HopError;
use super::proxy::Proxies;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Version};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::cell::{Cell, OnceCell, RefCell};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use url::Url;

pub type Client = reqwest::Client;

const USER_AGENT: &str = concat!("oa-validate/", env!("CARGO_PKG_VERSION"));

/// What every client of one transport is built from: its TLS configuration and its proxies.
pub struct ClientSettings {
    /// Tells the clients of two transports apart on a thread that serves both.
    id: u64,
    /// The CAs of `--cacert`, read up front: a bad file is an error before anything runs.
    extra_roots: Vec<CertificateDer<'static>>,
    /// Built for the first request: parsing the system's store takes milliseconds that
    /// `list`, `check` and a run without requests need not pay.
    tls: OnceLock<Result<rustls::ClientConfig, String>>,
    /// A client for threads without their own runtime (see [`block_on`]).
    shared: OnceLock<Result<Client, String>>,
    pub proxies: Arc<Proxies>,
}

impl ClientSettings {
    pub fn new(proxies: Proxies, ca_bundle: Option<&Path>) -> Result<ClientSettings, String> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(ClientSettings {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            extra_roots: match ca_bundle {
                Some(path) => read_ca_bundle(path)?,
                None => Vec::new(),
            },
            tls: OnceLock::new(),
            shared: OnceLock::new(),
            proxies: Arc::new(proxies),
        })
    }

    /// A client: no redirects, no decoding, only the proxies of [`Proxies`] (reqwest's own
    /// reading of the environment is off: it honours `HTTP_PROXY`, curl does not).
    pub fn client(&self) -> Result<Client, String> {
        let tls = self
            .tls
            .get_or_init(|| tls_config(&self.extra_roots))
            .clone()?;
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .connector_layer(TimedConnectLayer);
        if self.proxies.any() {
            let proxies = self.proxies.clone();
            builder = builder.proxy(reqwest::Proxy::custom(move |url| {
                proxies.route(url).map(|route| route.proxy.clone())
            }));
        }
        builder
            .build()
            .map_err(|e| format!("HTTP client: {}", error_chain(&e)))
    }

    fn shared_client(&self) -> Result<Client, String> {
        self.shared.get_or_init(|| self.client()).clone()
    }
}

/// The PEM certificates of `path`; none is an error.
fn read_ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("CA bundle {shown}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("CA bundle {shown}: no PEM certificate in it"));
    }
    let (usable, _) = rustls::RootCertStore::empty().add_parsable_certificates(certs.clone());
    if usable == 0 {
        return Err(format!(
            "CA bundle {shown}: no certificate in it can be a root"
        ));
    }
    Ok(certs)
}

/// The roots: the system's trust store (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured), or the
/// bundled Mozilla roots when the system has none (a minimal container), plus `extra_roots`
/// (`--cacert`). ALPN offers HTTP/2 and HTTP/1.1.
fn tls_config(extra_roots: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    // Stores often hold a few certificates rustls cannot parse: skipped, as curl does.
    let (added, _) =
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots.add_parsable_certificates(extra_roots.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// Times opening a connection (DNS, TCP, a proxy's tunnel and the TLS handshake: reqwest's
/// connector does all of them and exposes no step on its own) for the HAR's `connect`. The
/// connector runs on the check thread's current-thread runtime, one request at a time, so
/// the figure is left in a thread-local for the hop that asked for the connection.
#[derive(Clone)]
struct TimedConnectLayer;

impl<S> tower_layer::Layer<S> for TimedConnectLayer {
    type Service = TimedConnect<S>;
    fn layer(&self, inner: S) -> TimedConnect<S> {
        TimedConnect(inner)
    }
}

#[derive(Clone)]
struct TimedConnect<S>(S);

type BoxedFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, R> tower_service::Service<R> for TimedConnect<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxedFuture<Result<S::Response, S::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let connecting = self.0.call(request);
        Box::pin(async move {
            let started = Instant::now();
            let connection = connecting.await;
            if connection.is_ok() {
                CONNECTED.with(|c| c.set(Some(started.elapsed())));
            }
            connection
        })
    }
}

thread_local! {
    /// How long the connection opened last on this thread took (taken by the hop).
    static CONNECTED: Cell<Option<Duration>> = const { Cell::new(None) };
    /// A check thread's own current-thread runtime...
    static RUNTIME: OnceCell<Option<tokio::runtime::Runtime>> = const { OnceCell::new() };
    /// ...and, per transport (by [`ClientSettings`] id), a client whose pool lives on it.
    static CLIENTS: RefCell<Vec<(u64, Client)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `io` for the calling (check) thread on that thread's own current-thread runtime and
/// pool. Blocking on the shared multi-thread runtime instead hands every request and every
/// body chunk between threads (about a third of a loopback request's wall time); here the
/// socket, the timers and the script stay on one thread. `fallback` (with the settings'
/// shared client) serves when the local runtime or client cannot be built.
pub fn block_on<F: std::future::Future>(
    settings: &ClientSettings,
    fallback: &tokio::runtime::Handle,
    io: impl FnOnce(Client) -> F,
) -> Result<F::Output, HopError> {
    let client = CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        if let Some((_, client)) = clients.iter().find(|(id, _)| *id == settings.id) {
            return Some(client.clone());
        }
        let client = settings.client().ok()?;
        clients.push((settings.id, client.clone()));
        Some(client)
    });
    RUNTIME.with(|cell| {
        let runtime = cell.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
        });
        match (runtime, client) {
            (Some(runtime), Some(client)) => Ok(runtime.block_on(io(client))),
            _ => Ok(fallback.block_on(io(settings.shared_client().map_err(HopError::Client)?))),
        }
    })
}

/// What came back for one hop.
pub struct Hop {
    pub status: u16,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Opening the connection, when this hop opened one (a pooled one was reused otherwise).
    pub connect: Option<Duration>,
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
) -> Result<Hop, HopError> {
    let reading_body = Cell::new(false);
    let hop = exchange(client, method, url, headers, body, max_body, &reading_body);
    match tokio::time::timeout_at(deadline, hop).await {
        Ok(result) => result,
        Err(_) if reading_body.get() => Err(HopError::BodyTimedOut),
        Err(_) => Err(HopError::HeadersTimedOut),
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
) -> Result<Hop, HopError> {
    let started = Instant::now();
    let mut request = reqwest::Request::new(method.clone(), url.clone());
    let sent = request.headers_mut();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| HopError::InvalidRequest(format!("header name {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| HopError::InvalidRequest(format!("header {name}: {e}")))?;
        sent.append(name, value);
    }
    if !sent.contains_key(http::header::ACCEPT) {
        sent.insert(http::header::ACCEPT, HeaderValue::from_static("*/*"));
    }
    if !sent.contains_key(http::header::USER_AGENT) {
        sent.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
    }
    *request.body_mut() = Some(reqwest::Body::from(
        body.map(|b| b.bytes.clone()).unwrap_or_default(),
    ));
    CONNECTED.with(|c| c.set(None));
    let mut response = client
        .execute(request)
        .await
        .map_err(|e| client_error(e, url))?;
    let ttfb = started.elapsed();
    let connect = CONNECTED.with(Cell::take);
    reading_body.set(true);
    let announced = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = announced
        && len > max_body
    {
        return Err(HopError::AnnouncedOverCap {
            announced: len,
            cap: max_body,
        });
    }
    let status = response.status().as_u16();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    // One chunk (the usual small body) is kept as it arrived; more are joined.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    let mut size: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HopError::Body(error_chain(&e.without_url())))?
    {
        size += chunk.len() as u64;
        if size > max_body {
            return Err(HopError::OverCap { cap: max_body });
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
        status,
        version,
        headers,
        body,
        connect,
        ttfb,
        total: started.elapsed(),
    })
}

/// What went wrong, with the causes the top error's own text hides (never the URL, whose
/// query may hold a secret); a failed connection names the host and port it tried.
fn client_error(err: reqwest::Error, url: &Url) -> HopError {
    let connect = err.is_connect();
    let chain = error_chain(&err.without_url());
    // rustls reports an untrusted chain only in its text ("invalid peer certificate").
    let untrusted = chain.contains("certificate");
    if connect {
        HopError::Connect {
            host: url.host_str().unwrap_or("?").to_string(),
            port: url.port_or_known_default().unwrap_or(0),
            chain,
            untrusted,
        }
    } else {
        HopError::Request { chain, untrusted }
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
