//! What the Rhai primitives work with: the deployment (targets and environment), the
//! per-primitive settings from the configuration, and the services they share.

use crate::config::{Deployment, EnvSnapshot, PrimitiveSettings, Target};
use crate::net::{CredentialPolicy, Transport, TransportSettings};
use crate::redact::Redactor;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

pub struct Host {
    pub targets: Vec<Target>,
    pub env: EnvSnapshot,
    /// Limits and policies, as configured.
    pub settings: PrimitiveSettings,
    pub services: Services,
    /// The variables the lanes read with `env()` (at plan time and in checks): the run
    /// records them so that a re-run can show them and read them again.
    env_reads: Mutex<BTreeSet<String>>,
}

/// The services every primitive shares: one runtime, one transport, one redactor and the
/// run's cancellation signal.
#[derive(Clone)]
pub struct Services {
    pub runtime: tokio::runtime::Handle,
    /// HTTP with the targets' credential policy and the body cap.
    pub transport: Arc<Transport>,
    pub redactor: Redactor,
    /// Cancelled on SIGINT/SIGTERM: scripts stop at their next operation, I/O at once.
    pub cancel: CancellationToken,
}

impl Host {
    /// The host of `deployment`: its secrets are redacted from the start, and its targets'
    /// tokens may go only to their own origins.
    pub fn new(
        deployment: Deployment,
        settings: PrimitiveSettings,
        runtime: tokio::runtime::Handle,
        redactor: Redactor,
    ) -> Result<Host, String> {
        redactor.add_all(deployment.secrets.iter().map(String::as_str));
        let policy = CredentialPolicy::new(&deployment.targets, &deployment.env, redactor.clone());
        let transport_settings =
            TransportSettings::from_env(&deployment.env, settings.ca_bundle.clone())?;
        redactor.add_all(
            transport_settings
                .proxies
                .passwords()
                .iter()
                .map(String::as_str),
        );
        let transport = Transport::new(
            policy,
            settings.limits.max_body,
            &transport_settings,
            runtime.clone(),
        )
        .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Host {
            targets: deployment.targets,
            env: deployment.env,
            env_reads: Mutex::default(),
            settings,
            services: Services {
                runtime,
                transport: Arc::new(transport),
                redactor,
                cancel: CancellationToken::new(),
            },
        })
    }

    /// A host with the default settings and a fresh redactor (holding the targets' tokens):
    /// for unit tests and tools such as the fuzzer.
    pub fn with_defaults(
        targets: Vec<Target>,
        env: EnvSnapshot,
        runtime: tokio::runtime::Handle,
    ) -> Host {
        let secrets = targets.iter().filter_map(|t| t.token.clone()).collect();
        let deployment = Deployment {
            targets,
            env,
            secrets,
            simulated: false,
        };
        Host::new(
            deployment,
            PrimitiveSettings::default(),
            runtime,
            Redactor::new(),
        )
        .expect("an HTTP client")
    }

    /// The same services over another environment, with a fresh redactor (the gate
    /// re-plans lanes under environment variants with it).
    pub fn with_env(&self, env: EnvSnapshot) -> Host {
        Host {
            targets: self.targets.clone(),
            env,
            env_reads: Mutex::default(),
            settings: self.settings.clone(),
            services: Services {
                redactor: Redactor::new(),
                ..self.services.clone()
            },
        }
    }

    /// Notes that a lane read `name` with `env()`.
    pub fn note_env_read(&self, name: &str) {
        let mut reads = self.env_reads.lock().unwrap_or_else(|p| p.into_inner());
        if !reads.contains(name) {
            reads.insert(name.to_string());
        }
    }

    /// The variables the lanes read with `env()` so far, sorted.
    pub fn env_reads(&self) -> Vec<String> {
        let reads = self.env_reads.lock().unwrap_or_else(|p| p.into_inner());
        reads.iter().cloned().collect()
    }
}
