//! Google Cloud APIs oa-validate reads: the Cloud Run Admin API v2 and Cloud Logging v2, over
//! REST (JSON) through the transport ([`crate::net`]), so every call — token requests too —
//! obeys the body cap and the timeouts and lands in the check's HAR with its credentials
//! masked. Credentials are Application Default Credentials ([`auth`]); endpoints are
//! overridable so the sim (or a test server) can stand in. Nothing here knows about scripts.

pub mod auth;
pub mod model;
pub mod rest;

use crate::config::EnvSnapshot;
use crate::net::Transport;
use crate::redact::Redactor;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// What a Google call works with: the run's environment, transport, redactor (every token
/// read is added to it) and cancellation, and the deadline of the check making the call.
pub struct Session<'a> {
    pub env: &'a EnvSnapshot,
    pub transport: &'a Transport,
    pub redactor: &'a Redactor,
    pub cancel: &'a CancellationToken,
    pub not_after: Instant,
}

/// Why a Google call produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No source of credentials exists: the check is skipped ([`auth::NO_CREDENTIALS`]).
    NoCredentials,
    /// The run was interrupted.
    Interrupted,
    /// Anything else, in words a release engineer can act on (never holding a secret).
    Failed(String),
}

impl Error {
    /// The error in words, for a command outside a check (where no credentials is an error,
    /// not a skip).
    pub fn message(self, api: rest::Api) -> String {
        match self {
            Error::NoCredentials => format!("{}: {}", api.label(), auth::NO_CREDENTIALS),
            Error::Interrupted => "interrupted".to_string(),
            Error::Failed(message) => message,
        }
    }
}
