//! Services the Rhai primitives share: one HTTP client, one tokio runtime, the targets,
//! the environment snapshot, the redactor and the cancellation signal.

use crate::config::{EnvSnapshot, Target};
use crate::evidence::redact::Redactor;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct Host {
    pub targets: Vec<Target>,
    pub env: EnvSnapshot,
    pub redactor: Redactor,
    pub http: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
    /// Cancelled on SIGINT/SIGTERM: scripts stop at their next operation, I/O at once.
    pub cancel: CancellationToken,
    /// Largest response body read (`--max-body`); larger ones error.
    pub max_body: u64,
    pub default_http_timeout: Duration,
    pub allow_prod_mutations: bool,
    /// The cutover phase (`--phase`), e.g. `legacy-deletion`; lanes read it with `phase()`.
    pub phase: Option<String>,
    /// Oldest Laravel DB backup evidence accepted (`--backup-max-age`, policy 4).
    pub backup_max_age: Duration,
}

thread_local! {
    /// A check thread's own I/O: a current-thread runtime and an HTTP client bound to it.
    static LOCAL_IO: std::cell::OnceCell<Option<(tokio::runtime::Runtime, reqwest::Client)>> =
        const { std::cell::OnceCell::new() };
}

impl Host {
    /// The same services over another environment, with a fresh redactor (the gate
    /// re-plans lanes under environment variants with it).
    pub fn with_env(&self, env: EnvSnapshot) -> Host {
        Host {
            targets: self.targets.clone(),
            env,
            redactor: Redactor::new(),
            http: self.http.clone(),
            runtime: self.runtime.clone(),
            cancel: self.cancel.clone(),
            max_body: self.max_body,
            default_http_timeout: self.default_http_timeout,
            allow_prod_mutations: self.allow_prod_mutations,
            phase: self.phase.clone(),
            backup_max_age: self.backup_max_age,
        }
    }

    /// Runs HTTP I/O for the calling check thread on that thread's own current-thread
    /// runtime and connection pool. Blocking on the shared multi-thread runtime instead
    /// hands every request and every body chunk between threads (measured in benches/:
    /// about a third of a loopback request's wall time); here the socket, the timers and
    /// the script stay on one thread. Falls back to the shared runtime if the local one
    /// cannot be built.
    pub fn block_on_http<F: std::future::Future>(
        &self,
        request: impl FnOnce(reqwest::Client) -> F,
    ) -> F::Output {
        LOCAL_IO.with(|cell| {
            let local = cell.get_or_init(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                let client = Self::http_client().ok()?;
                Some((runtime, client))
            });
            match local {
                Some((runtime, client)) => runtime.block_on(request(client.clone())),
                None => self.runtime.block_on(request(self.http.clone())),
            }
        })
    }

    /// The one HTTP client: no automatic redirects (the http primitive follows them itself,
    /// deciding per hop which credentials may go along) and no proxies from the environment
    /// (a proxy would be another origin that sees the token).
    pub fn http_client() -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .user_agent(concat!("oa-validate/", env!("CARGO_PKG_VERSION")))
            .build()
    }
}
