//! Application Default Credentials, read from the run's environment snapshot (never from
//! `std::env`), in Google's documented order:
//!
//! 1. `OA_GOOGLE_ACCESS_TOKEN` — an access token given directly (e.g. from
//!    `gcloud auth print-access-token`; `--sim` sets the simulator's test token here);
//! 2. `GOOGLE_APPLICATION_CREDENTIALS` — a service-account key or `authorized_user` file;
//! 3. gcloud's well-known file `$CLOUDSDK_CONFIG/application_default_credentials.json`
//!    (default `$HOME/.config/gcloud/`), written by `gcloud auth application-default login`;
//! 4. the metadata server — only when running on Google infrastructure (`GCE_METADATA_HOST`,
//!    `K_SERVICE`/`CLOUD_RUN_JOB` set, or a Google DMI product name): elsewhere it is never
//!    probed, so a laptop or CI without credentials sends no request to a link-local address.
//!
//! Tokens are cached per source until a minute before they expire, and every token (and
//! refresh token, client secret and signed assertion) is added to the redactor the moment it
//! is read or made. Token requests go through the transport like every other request.

use super::{Error, Session};
use crate::config::EnvSnapshot;
use crate::net::{Method, NetError, Recorder, Request};
use base64::Engine as _;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use url::Url;

/// The skip reason when no source of credentials exists.
pub const NO_CREDENTIALS: &str = "no Google credentials (ADC)";
/// The OAuth scope every oa-validate call needs (Cloud Run and Logging reads).
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
/// A token request never waits longer than this (and never past the check's deadline).
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);
/// Cached tokens are renewed this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// Where credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An access token given as-is.
    StaticToken {
        variable: &'static str,
    },
    ServiceAccount {
        path: PathBuf,
        key: ServiceAccountKey,
    },
    AuthorizedUser {
        path: PathBuf,
        user: AuthorizedUser,
    },
    MetadataServer {
        host: String,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key_id: Option<String>,
    pub private_key: String,
    pub token_uri: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizedUser {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub token_uri: String,
}

// Key material never reaches a Debug print (a panic message, a test failure, a log line).
impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServiceAccountKey({})", self.client_email)
    }
}
impl std::fmt::Debug for AuthorizedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthorizedUser(client {})", self.client_id)
    }
}

impl Source {
    /// What the logs say about where the credentials came from (no secret in it).
    pub fn describe(&self) -> String {
        match self {
            Source::StaticToken { variable } => format!("access token from {variable}"),
            Source::ServiceAccount { path, key } => format!(
                "service-account key {} ({})",
                path.display(),
                key.client_email
            ),
            Source::AuthorizedUser { path, .. } => {
                format!("gcloud user credentials {}", path.display())
            }
            Source::MetadataServer { host } => format!("metadata server {host}"),
        }
    }

    fn cache_key(&self) -> String {
        match self {
            Source::StaticToken { variable } => format!("static:{variable}"),
            Source::ServiceAccount { path, key } => {
                format!("sa:{}:{}", path.display(), key.client_email)
            }
            Source::AuthorizedUser { path, user } => {
                format!("user:{}:{}", path.display(), user.client_id)
            }
            Source::MetadataServer { host } => format!("metadata:{host}"),
        }
    }
}

/// Finds the credentials source; `Ok(None)` when there is none (the check is skipped).
/// `on_google_hardware` is the DMI probe, passed in so tests decide it.
pub fn discover(env: &EnvSnapshot, on_google_hardware: bool) -> Result<Option<Source>, String> {
    if env.get_nonempty("OA_GOOGLE_ACCESS_TOKEN").is_some() {
        return Ok(Some(Source::StaticToken {
            variable: "OA_GOOGLE_ACCESS_TOKEN",
        }));
    }
    if let Some(path) = env.get_nonempty("GOOGLE_APPLICATION_CREDENTIALS") {
        let path = PathBuf::from(path);
        return read_credentials_file(&path)
            .map(Some)
            .map_err(|e| format!("GOOGLE_APPLICATION_CREDENTIALS={}: {e}", path.display()));
    }
    let config_dir = env
        .get_nonempty("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| {
            env.get_nonempty("HOME")
                .map(|home| Path::new(home).join(".config").join("gcloud"))
        });
    if let Some(dir) = config_dir {
        let well_known = dir.join("application_default_credentials.json");
        if well_known.is_file() {
            return read_credentials_file(&well_known)
                .map(Some)
                .map_err(|e| format!("{}: {e}", well_known.display()));
        }
    }
    let metadata_host = env.get_nonempty("GCE_METADATA_HOST");
    let on_cloud_run =
        env.get_nonempty("K_SERVICE").is_some() || env.get_nonempty("CLOUD_RUN_JOB").is_some();
    if metadata_host.is_some() || on_cloud_run || on_google_hardware {
        return Ok(Some(Source::MetadataServer {
            host: metadata_host.unwrap_or(DEFAULT_METADATA_HOST).to_string(),
        }));
    }
    Ok(None)
}

/// Whether this machine says it is a Google Compute Engine VM (how Google's own libraries
/// detect GCE on Linux without a network probe).
pub fn on_google_hardware() -> bool {
    std::fs::read_to_string("/sys/class/dmi/id/product_name")
        .map(|name| name.trim().starts_with("Google"))
        .unwrap_or(false)
}

fn field(v: &Value, name: &str) -> Result<String, String> {
    v.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("the credentials file has no `{name}`"))
}

/// Reads a credentials file: `service_account` or `authorized_user`.
pub fn read_credentials_file(path: &Path) -> Result<Source, String> {
    // A regular file under the cap: a FIFO or a device named by a variable cannot hang a run.
    let text = crate::file_input::read_to_string(
        path,
        crate::file_input::INPUT_CAP,
        &crate::file_input::never_stop,
    )
    .map_err(|e| format!("cannot read it: {e}"))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("not a JSON credentials file: {e}"))?;
    let token_uri = v
        .get("token_uri")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_TOKEN_URI)
        .to_string();
    match v.get("type").and_then(Value::as_str) {
        Some("service_account") => Ok(Source::ServiceAccount {
            path: path.to_path_buf(),
            key: ServiceAccountKey {
                client_email: field(&v, "client_email")?,
                private_key_id: v
                    .get("private_key_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                private_key: field(&v, "private_key")?,
                token_uri,
            },
        }),
        Some("authorized_user") => Ok(Source::AuthorizedUser {
            path: path.to_path_buf(),
            user: AuthorizedUser {
                client_id: field(&v, "client_id")?,
                client_secret: field(&v, "client_secret")?,
                refresh_token: field(&v, "refresh_token")?,
                token_uri,
            },
        }),
        Some(other) => Err(format!(
            "credentials of type {other:?} are not supported (service_account or authorized_user)"
        )),
        None => Err("the credentials file has no `type`".to_string()),
    }
}

struct Cached {
    token: String,
    renew_at: Instant,
}

fn cache() -> &'static Mutex<HashMap<String, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Cached>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// An access token for `source`, from the cache or freshly obtained through the transport
/// (recorded like any exchange, its bodies concealed). Errors are messages a release engineer
/// can act on; they never contain a secret.
pub fn access_token(
    session: &Session,
    source: &Source,
    recorder: &mut dyn Recorder,
) -> Result<String, Error> {
    if let Source::StaticToken { variable } = source {
        let token = session
            .env
            .get_nonempty(variable)
            .ok_or_else(|| Error::Failed(format!("{variable} is empty")))?
            .to_string();
        session.redactor.add(&token);
        return Ok(token);
    }
    let key = source.cache_key();
    if let Some(cached) = cache().lock().get(&key)
        && Instant::now() < cached.renew_at
    {
        session.redactor.add(&cached.token);
        return Ok(cached.token.clone());
    }
    let (token, lifetime) = fetch(session, source, recorder)?;
    session.redactor.add(&token);
    cache().lock().insert(
        key,
        Cached {
            token: token.clone(),
            renew_at: crate::duration::deadline_after(
                Instant::now(),
                lifetime.saturating_sub(EXPIRY_MARGIN),
            ),
        },
    );
    Ok(token)
}

/// Token endpoints receive long-lived secrets (a signed assertion, a refresh token): only over
/// https, or to a loopback test server.
fn checked_endpoint(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| format!("token endpoint {uri:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(format!(
            "refusing to send credentials to {uri}: token endpoints must be https (or loopback)"
        )),
    }
}

/// Whether `url` points at this machine (the sim, a test server).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// Asks the token endpoint of `source` for an access token and its lifetime.
fn fetch(
    session: &Session,
    source: &Source,
    recorder: &mut dyn Recorder,
) -> Result<(String, Duration), Error> {
    let failed = |e: String| Error::Failed(e);
    let request = match source {
        Source::StaticToken { .. } => unreachable!("static tokens are not fetched"),
        Source::ServiceAccount { key, .. } => {
            let url = checked_endpoint(&key.token_uri).map_err(failed)?;
            session.redactor.add(&key.private_key);
            let assertion =
                signed_assertion(key, chrono::Utc::now().timestamp()).map_err(failed)?;
            // The signed assertion is a credential for as long as it is valid.
            session.redactor.add(&assertion);
            Request::new(Method::POST, url, TOKEN_TIMEOUT).form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
        }
        Source::AuthorizedUser { user, .. } => {
            let url = checked_endpoint(&user.token_uri).map_err(failed)?;
            session.redactor.add(&user.refresh_token);
            session.redactor.add(&user.client_secret);
            Request::new(Method::POST, url, TOKEN_TIMEOUT).form(&[
                ("grant_type", "refresh_token"),
                ("client_id", user.client_id.as_str()),
                ("client_secret", user.client_secret.as_str()),
                ("refresh_token", user.refresh_token.as_str()),
            ])
        }
        Source::MetadataServer { host: metadata } => {
            let url = format!(
                "http://{metadata}/computeMetadata/v1/instance/service-accounts/default/token?scopes={SCOPE}"
            );
            let url = Url::parse(&url)
                .map_err(|e| failed(format!("metadata server {metadata:?}: {e}")))?;
            Request::new(Method::GET, url, TOKEN_TIMEOUT).header("metadata-flavor", "Google")
        }
    };
    let request = Request {
        conceal_bodies: true,
        ..request
    };
    let response = session
        .transport
        .send(request, session.not_after, session.cancel, recorder)
        .map_err(|e| match e {
            NetError::Interrupted => Error::Interrupted,
            NetError::Failed { cause, .. } if cause.is_timeout() => failed(format!(
                "timed out obtaining a token ({})",
                source.describe()
            )),
            e => failed(format!(
                "token request failed ({}): {}",
                source.describe(),
                e.reason()
            )),
        })?;
    let v: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    if !(200..300).contains(&response.status) {
        // OAuth errors are `{"error": "invalid_grant", "error_description": "..."}`.
        let reason = [
            v.get("error").and_then(Value::as_str),
            v.get("error_description").and_then(Value::as_str),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
        return Err(failed(format!(
            "token request refused with {} ({}){}",
            response.status,
            source.describe(),
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            }
        )));
    }
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            failed(format!(
                "token response has no access_token ({})",
                source.describe()
            ))
        })?;
    let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
    Ok((token.to_string(), Duration::from_secs(expires_in)))
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The DER bytes of a PEM `PRIVATE KEY` (PKCS#8, as in service-account key files).
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, String> {
    let begin = "-----BEGIN PRIVATE KEY-----";
    let end = "-----END PRIVATE KEY-----";
    let start = pem
        .find(begin)
        .ok_or("the private_key is not a PEM PKCS#8 key")?
        + begin.len();
    let stop = pem[start..]
        .find(end)
        .ok_or("the private_key PEM is not terminated")?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "the private_key PEM is not valid base64".to_string())
}

/// The RS256-signed JWT of the OAuth 2.0 JWT-bearer grant for a service account.
pub fn signed_assertion(key: &ServiceAccountKey, now: i64) -> Result<String, String> {
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &key.private_key_id {
        header["kid"] = Value::String(kid.clone());
    }
    let claims = serde_json::json!({
        "iss": key.client_email,
        "scope": SCOPE,
        "aud": key.token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let der = pkcs8_der(&key.private_key)?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| format!("the service-account private_key is not a usable RSA key: {e}"))?;
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| "signing the token request failed".to_string())?;
    Ok(format!("{signing_input}.{}", b64url(&signature)))
}

#[cfg(test)]
mod tests;
