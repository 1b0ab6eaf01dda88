//! Loopback listeners: a tripwire that never answers and a responder that records requests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A nonblocking listener that never answers: it only counts (and reads) what connected.
pub struct Tripwire {
    listener: TcpListener,
    seen: Mutex<Vec<Vec<u8>>>,
}

impl Default for Tripwire {
    fn default() -> Self {
        Self::new()
    }
}

impl Tripwire {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tripwire");
        listener.set_nonblocking(true).expect("nonblocking");
        Tripwire {
            listener,
            seen: Mutex::new(Vec::new()),
        }
    }

    pub fn url(&self) -> String {
        format!(
            "http://{}",
            self.listener.local_addr().expect("tripwire address")
        )
    }

    /// Accepts every pending connection and returns what each one sent (all so far).
    pub fn connections(&self) -> Vec<Vec<u8>> {
        let mut seen = self.seen.lock().expect("tripwire lock");
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut chunk) {
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    seen.push(buf);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("tripwire accept: {e}"),
            }
        }
        seen.clone()
    }
}

/// A loopback HTTP server on its own origin that answers every request `200 ok` and
/// records the raw request heads.
pub struct Responder {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Default for Responder {
    fn default() -> Self {
        Self::new()
    }
}

impl Responder {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind responder");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("responder address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            if let Some(head) = answer(stream) {
                                requests.lock().expect("responder lock").push(head);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Responder {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The raw request heads (request line and headers) received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("responder lock").clone()
    }
}

fn answer(mut stream: TcpStream) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    );
    Some(String::from_utf8_lossy(&buf).into_owned())
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// GET `url` with a throwaway runtime; returns (status, body).
pub fn http_get(url: &str) -> (u16, String) {
    http_get_as(url, None)
}

/// GET `url`, with `Authorization: Bearer` when given; returns (status, body).
pub fn http_get_as(url: &str, bearer: Option<&str>) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        let mut request = client.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("GET succeeds");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, body)
    })
}
