//! Loopback servers for the transport tests: a test CA (rcgen) and an HTTPS server whose
//! certificate it signs, speaking HTTP/2 when the client offers it by ALPN (or HTTP/1.1 only);
//! a plain HTTP server; and a forward proxy (CONNECT tunnels, and plain requests forwarded
//! as they came) that records what it saw. The proxy sends everything to one upstream,
//! whatever host a request names: a test can use a host name that resolves nowhere
//! (`*.oa-test.invalid`) and still only ever reach 127.0.0.1. Each server runs on its own
//! tokio runtime, shut down on drop.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// A host name that never resolves (RFC 6761): only the test proxy can take a request there.
pub const UNRESOLVABLE_HOST: &str = "staging.oa-test.invalid";

/// A certificate authority made for one test, and a server certificate it signed for
/// 127.0.0.1, localhost and [`UNRESOLVABLE_HOST`].
pub struct TestCa {
    pub ca_pem: String,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "oa-validate test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let mut leaf = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
            UNRESOLVABLE_HOST.to_string(),
        ])
        .expect("server params");
        leaf.distinguished_name
            .push(DnType::CommonName, "oa-validate test server");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf_cert = leaf
            .signed_by(&leaf_key, &ca_cert, &ca_key)
            .expect("server certificate");
        TestCa {
            ca_pem: ca_cert.pem(),
            server_chain: vec![leaf_cert.der().clone()],
            server_key: leaf_key.serialize_der(),
        }
    }

    pub fn write_ca(&self, path: &Path) {
        std::fs::write(path, &self.ca_pem).expect("write the CA file");
    }

    fn server_config(&self, http2: bool) -> Arc<rustls::ServerConfig> {
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.server_key.clone().into());
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(self.server_chain.clone(), key)
        .expect("server certificate");
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Arc::new(config)
    }
}

/// A server's own runtime, shut down (its tasks dropped) with the server.
struct Background(Option<tokio::runtime::Runtime>);

impl Background {
    fn new() -> Background {
        Background(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a test runtime"),
        ))
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("running")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// An HTTP server answering every request `200 {"ok":true,"version":"HTTP/2.0"}` (the
/// version it was spoken to in), over TLS or plain TCP.
pub struct TestServer {
    pub addr: SocketAddr,
    tls: bool,
    _background: Background,
}

impl TestServer {
    /// HTTPS with `ca`'s certificate; HTTP/2 offered by ALPN when `http2`.
    pub fn https(ca: &TestCa, http2: bool) -> TestServer {
        Self::start(Some(ca.server_config(http2)))
    }

    pub fn http() -> TestServer {
        Self::start(None)
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>) -> TestServer {
        let background = Background::new();
        let runtime = background.runtime();
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind the test server");
        let addr = listener.local_addr().expect("server address");
        let is_tls = tls.is_some();
        runtime.spawn(async move {
            let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(Ok(tls)) = tokio::time::timeout(
                                Duration::from_secs(5),
                                acceptor.accept(stream),
                            )
                            .await
                            {
                                serve(tls).await;
                            }
                        }
                        None => serve(stream).await,
                    }
                });
            }
        });
        TestServer {
            addr,
            tls: is_tls,
            _background: background,
        }
    }

    /// `https://127.0.0.1:PORT` (or http).
    pub fn url(&self) -> String {
        self.url_for("127.0.0.1")
    }

    /// The server's URL under another host name (reachable only through the test proxy).
    pub fn url_for(&self, host: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{host}:{}", self.addr.port())
    }
}

/// Serves one connection, HTTP/1.1 or HTTP/2 (whichever the client speaks).
async fn serve<S>(stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(
        |request: hyper::Request<hyper::body::Incoming>| async move {
            let body = format!(
                r#"{{"ok":true,"version":"{:?}","path":"{}"}}"#,
                request.version(),
                request.uri().path()
            );
            Ok::<_, std::convert::Infallible>(
                hyper::Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .expect("a response"),
            )
        },
    );
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// A forward proxy on loopback: `CONNECT` opens a tunnel, any other request is forwarded as
/// it came; both to `upstream`. It records the head (request line and headers) of each
/// connection's first request: a tunnel's later traffic is encrypted, and a plain
/// connection's later requests are passed through unread.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    _background: Background,
}

impl ConnectProxy {
    pub fn start(upstream: SocketAddr) -> ConnectProxy {
        let background = Background::new();
        let runtime = background.runtime();
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(30),
                        relay(client, upstream, recorded),
                    )
                    .await;
                });
            }
        });
        ConnectProxy {
            addr,
            seen,
            _background: background,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request heads seen so far, one per connection.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("proxy record").clone()
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    seen.lock().expect("proxy record").push(text.clone());
    let mut server = TcpStream::connect(upstream).await?;
    if text.starts_with("CONNECT ") {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        server.write_all(&head[end..]).await?;
    } else {
        server.write_all(&head).await?;
    }
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
