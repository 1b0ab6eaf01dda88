//! Misbehaving HTTP servers on loopback, one behaviour each, for the reliability suite:
//! silence after accept, a dripping body, a reset mid-body, a huge body, fixed answers
//! (invalid JSON, invalid UTF-8), a redirect loop, a TLS server with a self-signed
//! certificate, a slow server for interruption tests and an echo server that reflects the
//! request (secret canaries). Plain std threads: one per connection, all stopped on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does with each connection.
#[derive(Clone)]
pub enum Behaviour {
    /// Reads the request and never answers (headers never sent).
    Silent,
    /// Sends headers announcing a body, then one byte every `every`.
    Drip { every: Duration },
    /// Sends headers and part of the body, then resets the connection (RST).
    ResetMidBody,
    /// Streams `bytes` of body; with `chunked` no content-length is announced.
    HugeBody { bytes: u64, chunked: bool },
    /// A fixed answer.
    Fixed {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// A `200` whose body was encoded with `content_encoding` (gzip, br, ...), as a server
    /// compressing its answers sends it.
    Encoded {
        content_encoding: &'static str,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// `302` to the same path, forever.
    RedirectLoop,
    /// TLS with a freshly generated self-signed certificate (clients must refuse it).
    SelfSignedTls,
    /// Waits `delay` before answering `200 {"ok":true}` (an in-flight request to interrupt).
    Slow { delay: Duration },
    /// Reflects the request: the request line and headers in the body (JSON, also `\/`-,
    /// `\u`-escaped and lower-case percent-encoded) and in response headers, and
    /// `/redirect?to=..` answers 302 to that location.
    Echo,
}

/// A running fault server; stopped (and its threads ended) on drop.
pub struct FaultServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    tls: bool,
}

impl FaultServer {
    pub fn start(behaviour: Behaviour) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fault server");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("fault server address");
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let tls = matches!(behaviour, Behaviour::SelfSignedTls);
        let tls_config = tls.then(self_signed_config);
        let thread = {
            let (stop, connections, requests) =
                (stop.clone(), connections.clone(), requests.clone());
            std::thread::spawn(move || {
                let mut handlers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::Relaxed);
                            let (behaviour, stop, requests, tls_config) = (
                                behaviour.clone(),
                                stop.clone(),
                                requests.clone(),
                                tls_config.clone(),
                            );
                            handlers.push(std::thread::spawn(move || {
                                let _ = stream.set_nonblocking(false);
                                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                                match tls_config {
                                    Some(config) => serve_tls(stream, config),
                                    None => serve(stream, &behaviour, &stop, &requests),
                                }
                            }));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                for h in handlers {
                    let _ = h.join();
                }
            })
        };
        FaultServer {
            addr,
            stop,
            connections,
            requests,
            thread: Some(thread),
            tls,
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://` for the TLS behaviour).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// The raw request heads received so far (not for the TLS behaviour).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads up to the end of the request head; returns it (lossy text).
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 20 {
            break;
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Sleeps in small steps until `stop` is set or `limit` passed.
fn linger(stop: &AtomicBool, limit: Duration) {
    let until = Instant::now() + limit;
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn serve(
    mut stream: TcpStream,
    behaviour: &Behaviour,
    stop: &AtomicBool,
    log: &Mutex<Vec<String>>,
) {
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    log.lock().expect("requests lock").push(head.clone());
    match behaviour {
        Behaviour::Silent => linger(stop, Duration::from_secs(60)),
        Behaviour::Drip { every } => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n",
            );
            let until = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                if stream.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(*every);
            }
        }
        Behaviour::ResetMidBody => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n",
            );
            let _ = stream.write_all(&[b' '; 1000]);
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(100));
            reset(stream);
        }
        Behaviour::HugeBody { bytes, chunked } => {
            let head = if *chunked {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    .to_string()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {bytes}\r\n\r\n"
                )
            };
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0u64;
            while sent < *bytes && !stop.load(Ordering::Relaxed) {
                let n = (*bytes - sent).min(block.len() as u64) as usize;
                let ok = if *chunked {
                    stream
                        .write_all(format!("{n:x}\r\n").as_bytes())
                        .and_then(|()| stream.write_all(&block[..n]))
                        .and_then(|()| stream.write_all(b"\r\n"))
                } else {
                    stream.write_all(&block[..n])
                };
                if ok.is_err() {
                    return; // the client gave up (as it must, at the cap)
                }
                sent += n as u64;
            }
            if *chunked {
                let _ = stream.write_all(b"0\r\n\r\n");
            }
        }
        Behaviour::Fixed {
            status,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
        Behaviour::Encoded {
            content_encoding,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-encoding: {content_encoding}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
        Behaviour::RedirectLoop => {
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let _ = stream.write_all(
                format!("HTTP/1.1 302 Found\r\nlocation: {path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
        Behaviour::SelfSignedTls => unreachable!("served by serve_tls"),
        Behaviour::Slow { delay } => {
            linger(stop, *delay);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}",
            );
        }
        Behaviour::Echo => echo(stream, &head),
    }
}

/// Reflects the request everywhere a response can carry text.
fn echo(mut stream: TcpStream, head: &str) {
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = String::new();
    // Every request header comes back as a response header (x-echo-*), the request target too.
    let head_only = head.split("\r\n\r\n").next().unwrap_or_default();
    for line in head_only.lines().skip(1).filter(|l| l.contains(':')) {
        let (name, value) = line.split_once(':').unwrap_or_default();
        headers.push_str(&format!("x-echo-{}: {}\r\n", name.trim(), value.trim()));
    }
    headers.push_str(&format!("x-echo-target: {target}\r\n"));
    if let Some(to) = target.split_once("to=").map(|(_, to)| to.to_string()) {
        let to = percent_decode(&to);
        let _ = stream.write_all(
            format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\n{headers}content-length: 0\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        );
        return;
    }
    let status = if target.contains("status=500") {
        500
    } else {
        200
    };
    let body =
        serde_json::json!({ "ok": status == 200, "request": head, "target": target }).to_string();
    // The request again, as other servers' encoders write it (issue 13): PHP's json_encode
    // (`\/`), Gson (`\u003d`), .NET (`\u003D`), lower-case percent-encoding.
    let php = serde_json::to_string(head)
        .unwrap_or_default()
        .replace('/', "\\/");
    let u_escaped = |upper: bool| {
        head.encode_utf16()
            .map(|unit| match char::from_u32(u32::from(unit)) {
                Some(c) if c.is_ascii_alphanumeric() => c.to_string(),
                _ if upper => format!("\\u{unit:04X}"),
                _ => format!("\\u{unit:04x}"),
            })
            .collect::<String>()
    };
    let lower_percent: String = target
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    let body = format!(
        "{},\"php\":{php},\"gson\":\"{}\",\"dotnet\":\"{}\",\"percent\":\"{lower_percent}\"}}",
        body.trim_end_matches('}'),
        u_escaped(false),
        u_escaped(true)
    );
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Closes with SO_LINGER 0: the peer sees a reset, not an orderly end.
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket fd and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

fn self_signed_config() -> Arc<tokio_rustls::rustls::ServerConfig> {
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("generate a self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("server certificate");
    Arc::new(config)
}

fn serve_tls(stream: TcpStream, config: Arc<tokio_rustls::rustls::ServerConfig>) {
    use tokio_rustls::rustls;
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut buf = [0u8; 4096];
    // The handshake runs inside the first read; a client that refuses the certificate
    // aborts it, and nothing below is reached.
    if matches!(tls.read(&mut buf), Ok(n) if n > 0) {
        let _ = tls.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}",
        );
    }
}
