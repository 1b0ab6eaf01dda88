//! One function per concern: find credentials, get a token, call an endpoint, turn a Google
//! error body into a message. Used by the `cloudrun::` and `logging::` primitives.

use crate::api::http::{RequestSpec, perform};
use crate::api::{refuse_plan_time, script_error, skip_check};
use crate::engine::context;
use crate::engine::host::Host;
use crate::gcp::auth::{self, NO_CREDENTIALS};
use reqwest::Method;
use rhai::{EvalAltResult, NativeCallContext};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A Google API oa-validate calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    CloudRun,
    Logging,
}

impl Api {
    pub fn label(self) -> &'static str {
        match self {
            Api::CloudRun => "Cloud Run Admin API",
            Api::Logging => "Cloud Logging API",
        }
    }
    /// The variable that overrides the endpoint.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Api::CloudRun => "OA_CLOUD_RUN_ENDPOINT",
            Api::Logging => "OA_LOGGING_ENDPOINT",
        }
    }
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Api::CloudRun => "https://run.googleapis.com",
            Api::Logging => "https://logging.googleapis.com",
        }
    }
}

/// Default timeout of one API call (never past the check's deadline).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The endpoint of `api` for this run: https, or plain http only to loopback (the sim), so a
/// bearer token never crosses a network in clear.
pub fn endpoint(host: &Host, api: Api) -> Result<Url, String> {
    let var = api.endpoint_variable();
    let raw = host
        .env
        .get_nonempty(var)
        .unwrap_or(api.default_endpoint())
        .trim_end_matches('/');
    let url = Url::parse(raw).map_err(|e| format!("{var}={raw:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if auth::is_loopback(&url) => Ok(url),
        _ => Err(format!(
            "{var}={raw:?}: Google API endpoints must be https (plain http only on loopback)"
        )),
    }
}

/// A path segment taken from a script (project, region, service or job name): refused when
/// it could change the path or query.
pub fn segment(ctx: &NativeCallContext, what: &str, value: &str) -> Res<String> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(script_error(
            ctx,
            format!("{what} {value:?} is not a valid name (letters, digits, - _ . : only)"),
        ))
    }
}

/// The token for this call, or the stop that ends the check: skipped without credentials,
/// errored when the credentials exist but do not work.
fn bearer(ctx: &NativeCallContext, host: &Arc<Host>, verb: &str) -> Res<String> {
    let source = auth::discover(&host.env, auth::on_google_hardware())
        .map_err(|e| script_error(ctx, format!("{verb}: Google credentials: {e}")))?;
    let Some(source) = source else {
        context::log(format!("{verb}: {NO_CREDENTIALS}"));
        return Err(skip_check(ctx, NO_CREDENTIALS));
    };
    context::log(format!("Google credentials: {}", source.describe()));
    let deadline = Instant::now() + context::remaining();
    let cancel = host.services.cancel.clone();
    let token = host.services.runtime.block_on(async {
        tokio::select! {
            t = auth::access_token(host, &source, deadline) => Some(t),
            _ = cancel.cancelled() => None,
        }
    });
    match token {
        None => Err(crate::api::interrupted(ctx)),
        Some(Ok(token)) => Ok(token),
        Some(Err(e)) => Err(script_error(
            ctx,
            format!("{verb}: {}", host.services.redactor.redact(&e)),
        )),
    }
}

/// The message of a Google API error body `{"error": {"code", "message", "status"}}`.
pub fn google_error(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let error = v.get("error")?;
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    match error.get("status").and_then(Value::as_str) {
        Some(status) => Some(format!("{status}: {message}")),
        None => Some(message.to_string()),
    }
}

/// Calls `api` at `path` (relative to its endpoint, e.g. `/v2/projects/p/...`) and returns the
/// JSON body. Plan time is refused; no credentials skips the check; an API error (any non-2xx)
/// errors it with the API's own message.
pub fn call(
    ctx: &NativeCallContext,
    api: Api,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<Value>,
    timeout: Duration,
) -> Res<Value> {
    let verb = format!("{} {method} {path}", api.label());
    refuse_plan_time(ctx, api.label())?;
    let host = context::host().ok_or_else(|| script_error(ctx, "no host services"))?;
    let mut url = endpoint(&host, api).map_err(|e| script_error(ctx, e))?;
    let token = bearer(ctx, &host, &verb)?;
    url.set_path(&format!("{}{path}", url.path().trim_end_matches('/')));
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let mut spec = RequestSpec::new(method, url, timeout);
    spec.bearer = Some(token);
    spec.headers
        .push(("accept".to_string(), "application/json".to_string()));
    if let Some(json) = body {
        spec.body = Some((
            json.to_string().into_bytes(),
            Some("application/json".to_string()),
        ));
    }
    let response = perform(ctx, &verb, spec, &host)?;
    if !(200..300).contains(&response.status) {
        let detail = google_error(&response.body)
            .unwrap_or_else(|| response.body_text().chars().take(300).collect());
        return Err(script_error(
            ctx,
            host.services
                .redactor
                .redact(&format!("{verb} answered {}: {detail}", response.status)),
        ));
    }
    response.parse_json().map_err(|e| script_error(ctx, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_error_bodies_become_messages() {
        let body = br#"{"error":{"code":403,"message":"Permission 'run.services.get' denied on resource 'projects/p/locations/r/services/runtime' (or resource may not exist).","status":"PERMISSION_DENIED"}}"#;
        let message = google_error(body).unwrap();
        assert!(message.starts_with("PERMISSION_DENIED: Permission 'run.services.get' denied"));
        assert_eq!(google_error(b"<html>oops</html>"), None);
    }
}
