//! What the Rhai primitives work with: the deployment (targets and environment), the
//! per-primitive settings from the configuration, and the services they share.

use crate::config::{Deployment, EnvSnapshot, PrimitiveSettings, Target};
use crate::redact::Redactor;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct Host {
    pub targets: Vec<Target>,
    pub env: EnvSnapshot,
    /// Limits and policies, as configured.
    pub settings: PrimitiveSettings,
    pub services: Services,
}

/// The services every primitive shares: one runtime, one HTTP client, one redactor and the
/// run's cancellation signal.
#[derive(Clone)]
pub struct Services {
    pub runtime: tokio::runtime::Handle,
    pub http: reqwest::Client,
    pub redactor: Redactor,
    /// Cancelled on SIGINT/SIGTERM: scripts stop at their next operation, I/O at once.
    pub cancel: CancellationToken,
}

impl Services {
    /// Services on `runtime`, redacting with `redactor`.
    pub fn new(runtime: tokio::runtime::Handle, redactor: Redactor) -> Result<Services, String> {
        Ok(Services {
            runtime,
            http: Host::http_client().map_err(|e| format!("HTTP client: {e}"))?,
            redactor,
            cancel: CancellationToken::new(),
        })
    }
}

thread_local! {
    /// A check thread's own I/O: a current-thread runtime and an HTTP client bound to it.
    static LOCAL_IO: std::cell::OnceCell<Option<(tokio::runtime::Runtime, reqwest::Client)>> =
        const { std::cell::OnceCell::new() };
}

impl Host {
    /// The host of `deployment`: its secrets are redacted from the start.
    pub fn new(deployment: Deployment, settings: PrimitiveSettings, services: Services) -> Host {
        services
            .redactor
            .add_all(deployment.secrets.iter().map(String::as_str));
        Host {
            targets: deployment.targets,
            env: deployment.env,
            settings,
            services,
        }
    }

    /// A host with the default settings, a fresh redactor (holding the targets' tokens) and
    /// new services on `runtime`: for unit tests and tools such as the fuzzer.
    pub fn with_defaults(
        targets: Vec<Target>,
        env: EnvSnapshot,
        runtime: tokio::runtime::Handle,
    ) -> Host {
        let secrets = targets.iter().filter_map(|t| t.token.clone()).collect();
        let services = Services::new(runtime, Redactor::new()).expect("HTTP client");
        let deployment = Deployment {
            targets,
            env,
            secrets,
            simulated: false,
        };
        Host::new(deployment, PrimitiveSettings::default(), services)
    }

    /// The same services over another environment, with a fresh redactor (the gate
    /// re-plans lanes under environment variants with it).
    pub fn with_env(&self, env: EnvSnapshot) -> Host {
        Host {
            targets: self.targets.clone(),
            env,
            settings: self.settings.clone(),
            services: Services {
                redactor: Redactor::new(),
                ..self.services.clone()
            },
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
                None => self
                    .services
                    .runtime
                    .block_on(request(self.services.http.clone())),
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
