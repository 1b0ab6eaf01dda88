//! `--sign KEY` on a run: the key is loaded (a file) or reached (Cloud KMS) before any check
//! runs, so a bad key fails the run at once; once the evidence is sealed, the verdict is
//! signed into `attestation.intoto.jsonl` ([`crate::attest`]). The key never appears in an
//! output: messages name the file or the KMS key version only.

use crate::attest::keys::{LocalKey, Signer};
use crate::attest::{kms, statement};
use crate::config::{KeyRef, UsageError};
use crate::engine::host::Host;
use crate::gcp::Session;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A KMS call may take a while; an attestation is not worth waiting for past this.
const KMS_DEADLINE: Duration = Duration::from_secs(60);
/// Largest Google API answer a standalone command reads (a public key, an upload status).
const ANSWER_CAP: u64 = 16 * 1024 * 1024;

/// The signer of a run.
pub enum RunSigner {
    Local(Box<LocalKey>),
    Kms(String),
}

/// Reads a key file now; a KMS key is reached with [`RunSigner::check`] once the host exists.
pub fn load(key: &KeyRef) -> Result<RunSigner, UsageError> {
    match key {
        KeyRef::File(path) => LocalKey::read(path)
            .map(|key| RunSigner::Local(Box::new(key)))
            .map_err(|e| UsageError(format!("--sign: {e}"))),
        KeyRef::Kms(name) => Ok(RunSigner::Kms(name.clone())),
    }
}

impl RunSigner {
    /// A KMS key version answers with a key oa-validate can sign with (before the run).
    pub fn check(&self, host: &Host) -> Result<(), UsageError> {
        if let RunSigner::Kms(name) = self {
            with_session(host, |session| kms::public_key(session, name))
                .map_err(|e| UsageError(format!("--sign: {e}")))?;
        }
        Ok(())
    }

    /// Signs `facts` into `dir/attestation.intoto.jsonl`; returns the key id.
    pub fn attest(
        &self,
        host: &Host,
        dir: &Path,
        facts: &statement::Facts,
    ) -> Result<String, String> {
        let statement = statement::build(facts);
        match self {
            RunSigner::Local(key) => {
                crate::attest::write(dir, &statement, key.as_ref())?;
                Ok(key.keyid())
            }
            RunSigner::Kms(name) => with_session(host, |session| {
                let key = kms::KmsKey::connect(session, name)?;
                crate::attest::write(dir, &statement, &key)?;
                Ok(key.keyid())
            }),
        }
    }
}

/// A Google session on the run's transport and credentials, with its own cancellation: an
/// interrupted run's NO-GO is signed too.
fn with_session<T>(host: &Host, call: impl FnOnce(&Session) -> T) -> T {
    let cancel = CancellationToken::new();
    let session = Session {
        env: &host.env,
        transport: &host.services.transport,
        redactor: &host.services.redactor,
        cancel: &cancel,
        not_after: crate::duration::deadline_after(Instant::now(), KMS_DEADLINE),
    };
    call(&session)
}

/// The images `images.json` evidence of passed checks names, pinned by digest.
pub fn deployed_images(
    dir: &Path,
    results: &[crate::outcome::CheckResult],
) -> Vec<(String, String)> {
    let mut images: Vec<(String, String)> = results
        .iter()
        .filter(|r| r.status == crate::outcome::Status::Passed)
        .flat_map(|r| r.artifacts.iter())
        .filter(|path| path.ends_with("/images.json"))
        .filter_map(|path| std::fs::read(dir.join(path)).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .flat_map(|json| statement::images_in(&json))
        .collect();
    images.sort();
    images.dedup();
    images
}

/// A Google session for a command that runs no checks (`verify`, `archive`): its own
/// transport, with no target credentials to carry, and `deadline` to finish in.
pub fn standalone_session<T>(
    runtime: &tokio::runtime::Runtime,
    env: &crate::config::EnvSnapshot,
    deadline: Duration,
    call: impl FnOnce(&Session) -> Result<T, String>,
) -> Result<T, String> {
    let redactor = crate::redact::Redactor::new();
    redactor.add_all(env.secret_values().iter().map(String::as_str));
    let policy = crate::net::policy::CredentialPolicy::new(&[], env, redactor.clone());
    // Proxies and trust as every other request of the tool (`OA_CA_BUNDLE`, the proxy
    // variables); proxy passwords are secrets too.
    let settings = crate::net::TransportSettings::from_env(env, None)?;
    redactor.add_all(settings.proxies.passwords().iter().map(String::as_str));
    let transport =
        crate::net::Transport::new(policy, ANSWER_CAP, &settings, runtime.handle().clone())?;
    let cancel = CancellationToken::new();
    let session = Session {
        env,
        transport: &transport,
        redactor: &redactor,
        cancel: &cancel,
        not_after: crate::duration::deadline_after(Instant::now(), deadline),
    };
    call(&session).map_err(|e| redactor.redact(&e))
}
