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

impl Host {
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
