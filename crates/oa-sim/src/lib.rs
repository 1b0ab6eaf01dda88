//! The simulated OpenAgents deployment: loopback servers that behave like the real surfaces the
//! lanes touch, with named [`Fault`]s so every check can be shown to fail.
//!
//! The sim is a witness of the real services, not an author: each route mirrors what the
//! upstream service (OpenAgentsInc/openagents) answers in the era the sim serves ([`SimEra`]),
//! traced route by route in docs/sim-fidelity.md. Never add behaviour only a lane expects.
//!
//! Each surface lives in its own file and registers its routes through [`routes::Routes`]
//! (so [`route_inventory`] is exactly what is served); this module only binds listeners,
//! applies the cross-cutting layers and owns shutdown. A new surface is a sibling file plus a
//! few lines in [`Sim::start`] and [`route_inventory`].

pub mod accounts;
mod cloudrun;
mod comms;
mod control;
mod control_state;
mod fault;
pub mod htmx;
mod inbox;
mod logging;
mod offsite;
mod route_split;
mod routes;
mod runtime;
mod runtime_openapi;
mod runtime_state;
mod runtime_writes;
mod stats;
mod workspace;

pub use cloudrun::GcpNames;
pub use fault::{Fault, ParseFaultError, help as fault_help};
pub use offsite::RecordedRequest;
pub use routes::SimRoute;
pub use runtime::TEST_AGENT_ID;
pub use workspace::{GMAIL_ACCOUNT_VAR, SIM_GMAIL_ACCOUNT, fixture_workspace};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The upstream version the sim reproduces: each cutover phase has its own era, so every
/// phase has a healthy deployment to pass against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SimEra {
    /// 6b173e913a (2026-02-24): the control service hosts the web app (static host, HTMX
    /// pages, `/stats`, a GET catch-all) and still routes `POST /api/v1/sync/token`.
    #[default]
    AppSurface,
    /// d29e2a788f (2026-02-25): after the app surface cleanup and the Spacetime convergence:
    /// no web app, no catch-all, the Khala sync token route retired; runtime health without
    /// `fanout_driver`.
    SpacetimeConvergence,
}

impl SimEra {
    /// Both eras, oldest first.
    pub fn all() -> [SimEra; 2] {
        [SimEra::AppSurface, SimEra::SpacetimeConvergence]
    }

    /// The upstream commit whose behaviour this era mirrors.
    pub fn commit(self) -> &'static str {
        match self {
            SimEra::AppSurface => "6b173e913a",
            SimEra::SpacetimeConvergence => "d29e2a788f",
        }
    }

    /// One line on what the era serves.
    pub fn describe(self) -> &'static str {
        match self {
            SimEra::AppSurface => "before the app surface cleanup",
            SimEra::SpacetimeConvergence => "after the Spacetime convergence",
        }
    }
}

/// How to run the sim.
#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    /// Faults applied to both control instances.
    pub faults: Vec<Fault>,
    /// The upstream era every surface reproduces.
    pub era: SimEra,
    /// Staging bearer token; `None` generates a random 32-char hex token.
    pub staging_token: Option<String>,
    /// Prod bearer token; `None` generates a random 32-char hex token.
    pub prod_token: Option<String>,
    /// Delay added before every response, so benchmarks can model a remote deployment.
    pub latency: Duration,
    /// Project, region, service and job names the simulated Google APIs answer for.
    pub gcp: GcpNames,
    /// The htmx library the pages load (`/vendor/htmx.min.js`), as `oa-validate setup`
    /// installed it; `None`: pages say it is missing.
    pub htmx_library: Option<Arc<str>>,
}

/// One simulated environment, in the shape oa-validate's target configuration wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimTarget {
    /// `"staging"` or `"prod"`.
    pub name: String,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub control_url: String,
    /// The bearer token this instance accepts (and no other instance does).
    pub token: String,
    /// This environment's runtime service (with the comms ingest route), `http://127.0.0.1:PORT`.
    pub runtime_url: String,
}

/// A running sim. Dropping it shuts every server down.
#[derive(Debug)]
pub struct Sim {
    /// The staging control service.
    pub staging: SimTarget,
    /// The prod control service.
    pub prod: SimTarget,
    /// Base URL of the header-recording server on a different loopback origin.
    pub offsite_url: String,
    /// The simulated Cloud Run Admin API v2 (`OA_CLOUD_RUN_ENDPOINT`).
    pub cloud_run_url: String,
    /// The simulated Cloud Logging API v2 (`OA_LOGGING_ENDPOINT`).
    pub logging_url: String,
    /// The access token both simulated Google APIs require (a generated test credential).
    pub google_token: String,
    recorder: offsite::Recorder,
    shutdown: Vec<oneshot::Sender<()>>,
}

impl Sim {
    /// Starts both control instances and the offsite recorder on the current tokio runtime.
    pub async fn start(config: SimConfig) -> std::io::Result<Sim> {
        // If a later bind fails, the senders already pushed are dropped with this vector, which
        // also resolves their shutdown futures: nothing is left running.
        let mut shutdown = Vec::new();

        let recorder = offsite::Recorder::default();
        let offsite_url = serve(
            with_latency(offsite::router(recorder.clone()), config.latency),
            &mut shutdown,
        )
        .await?;

        let faults: Arc<HashSet<Fault>> = Arc::new(config.faults.iter().copied().collect());
        let started = Instant::now();

        let mut targets = Vec::with_capacity(2);
        for (name, token) in [
            ("staging", config.staging_token),
            ("prod", config.prod_token),
        ] {
            let token = token.unwrap_or_else(|| random_hex(16));
            let state = control_state::ControlState {
                token: token.clone(),
                faults: Arc::clone(&faults),
                started,
                offsite_url: offsite_url.clone(),
                era: config.era,
                htmx_library: config.htmx_library.clone(),
                accounts: Arc::new(accounts::Accounts::new(
                    &token,
                    !faults.contains(&Fault::CanaryTokenNotAdmin),
                )),
            };
            let app = with_latency(with_request_id(control::router(state)), config.latency);
            let control_url = serve(app, &mut shutdown).await?;
            let runtime =
                runtime_state::RuntimeState::new(Arc::clone(&faults), started, config.era);
            let runtime_app = runtime::router(runtime).merge(comms::router(Arc::clone(&faults)));
            let app = with_latency(with_request_id(runtime_app), config.latency);
            let runtime_url = serve(app, &mut shutdown).await?;
            targets.push(SimTarget {
                name: name.to_owned(),
                control_url,
                token,
                runtime_url,
            });
        }
        let prod = targets.pop().expect("two targets were pushed");
        let staging = targets.pop().expect("two targets were pushed");

        let google_token = format!("ya29.sim-{}", random_hex(24));
        let google = Arc::new(cloudrun::GoogleState {
            names: config.gcp.clone(),
            token: google_token.clone(),
            faults: Arc::clone(&faults),
        });
        let cloud_run_url = serve(
            with_latency(cloudrun::router(Arc::clone(&google)), config.latency),
            &mut shutdown,
        )
        .await?;
        let logging_url = serve(
            with_latency(logging::router(google), config.latency),
            &mut shutdown,
        )
        .await?;

        Ok(Sim {
            staging,
            prod,
            offsite_url,
            cloud_run_url,
            logging_url,
            google_token,
            recorder,
            shutdown,
        })
    }

    /// Every request the offsite recorder received, in arrival order (lower-case header names).
    pub fn offsite_requests(&self) -> Vec<RecordedRequest> {
        self.recorder.snapshot()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Graceful shutdown runs on the server tasks; a send error only means a server already
        // stopped, which is what we want anyway.
        for tx in self.shutdown.drain(..) {
            let _ = tx.send(());
        }
    }
}

/// Every route the sim serves in `era`, surface by surface (what docs/sim-fidelity.md must
/// cover).
pub fn route_inventory(era: SimEra) -> Vec<SimRoute> {
    let mut all = Vec::new();
    all.extend(control::inventory(era));
    all.extend(runtime::inventory());
    all.extend(comms::inventory());
    all.extend(cloudrun::inventory());
    all.extend(logging::inventory());
    all.extend(offsite::inventory());
    all
}

/// Binds 127.0.0.1:0, serves `app` on a spawned task until the pushed sender fires or is
/// dropped, and returns the base URL.
async fn serve(app: Router, shutdown: &mut Vec<oneshot::Sender<()>>) -> std::io::Result<String> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(err) = result {
            tracing::warn!(%addr, error = %err, "sim server stopped with an error");
        }
    });
    shutdown.push(tx);
    Ok(format!("http://{addr}"))
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every response an `x-request-id` (echoed, or generated), as the real services do, so
/// checks that record request ids have something to record.
fn with_request_id(app: Router) -> Router {
    app.layer(middleware::from_fn(request_id))
}

async fn request_id(req: Request, next: Next) -> Response {
    // Upstream sets a UUID (tower-http MakeRequestUuid) unless the client sent one.
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(value) => value.clone(),
        None => HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
            .expect("a UUID is a valid header value"),
    };
    let mut response = next.run(req).await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    response
}

/// Delays every response by `latency`; zero adds no layer at all.
fn with_latency(app: Router, latency: Duration) -> Router {
    if latency.is_zero() {
        return app;
    }
    app.layer(middleware::from_fn(
        move |req: Request, next: Next| async move {
            tokio::time::sleep(latency).await;
            next.run(req).await
        },
    ))
}

/// The OpenAgents error envelope `{"message","error":{"code","message"}}`.
fn error_envelope(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// `bytes` random bytes as lower-case hex (twice as many characters).
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests;
