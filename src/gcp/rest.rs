//! One function per concern: the endpoint of an API, a token for the call, one call, every
//! page of a list, a Google error body as a message. Used by the `cloudrun::` and `logging::`
//! primitives.

use super::auth::{self, NO_CREDENTIALS};
use super::{Error, Session};
use crate::config::EnvSnapshot;
use crate::net::{Body, Method, NetError, Recorder, Request, Response};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// A Google API oa-validate calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    CloudRun,
    Logging,
    /// Cloud KMS: signing attestations (`--sign` with a key version).
    Kms,
    /// Cloud Storage JSON API: archiving evidence (`archive --to gs://`).
    Storage,
}

impl Api {
    pub fn label(self) -> &'static str {
        match self {
            Api::CloudRun => "Cloud Run Admin API",
            Api::Logging => "Cloud Logging API",
            Api::Kms => "Cloud KMS API",
            Api::Storage => "Cloud Storage JSON API",
        }
    }
    /// The variable that overrides the endpoint.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Api::CloudRun => "OA_CLOUD_RUN_ENDPOINT",
            Api::Logging => "OA_LOGGING_ENDPOINT",
            Api::Kms => "OA_KMS_ENDPOINT",
            Api::Storage => "OA_STORAGE_ENDPOINT",
        }
    }
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Api::CloudRun => "https://run.googleapis.com",
            Api::Logging => "https://logging.googleapis.com",
            Api::Kms => "https://cloudkms.googleapis.com",
            Api::Storage => "https://storage.googleapis.com",
        }
    }
}

/// Default timeout of one API call (never past the check's deadline).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The endpoint of `api` for this run: https, or plain http only to loopback (the sim), so a
/// bearer token never crosses a network in clear.
pub fn endpoint(env: &EnvSnapshot, api: Api) -> Result<Url, String> {
    let var = api.endpoint_variable();
    let raw = env
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
pub fn segment(what: &str, value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{what} {value:?} is not a valid name (letters, digits, - _ . : only)"
        ))
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

/// One API call: where, what, and how long it may take.
pub struct Call<'a> {
    pub api: Api,
    pub method: Method,
    /// Relative to the API's endpoint, e.g. `/v2/projects/p/locations/r/services/s`.
    pub path: &'a str,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    pub timeout: Duration,
}

impl Call<'_> {
    /// How messages name this call: `Cloud Run Admin API GET /v2/...`.
    fn verb(&self) -> String {
        format!("{} {} {}", self.api.label(), self.method, self.path)
    }
}

/// The token for a call: no credentials is [`Error::NoCredentials`]; credentials that exist
/// but do not work are an error.
fn bearer(session: &Session, recorder: &mut dyn Recorder, verb: &str) -> Result<String, Error> {
    let source = auth::discover(session.env, auth::on_google_hardware())
        .map_err(|e| Error::Failed(format!("{verb}: Google credentials: {e}")))?;
    let Some(source) = source else {
        recorder.note(format!("{verb}: {NO_CREDENTIALS}"));
        return Err(Error::NoCredentials);
    };
    recorder.note(format!("Google credentials: {}", source.describe()));
    auth::access_token(session, &source, recorder).map_err(|e| match e {
        Error::Failed(message) => {
            Error::Failed(format!("{verb}: {}", session.redactor.redact(&message)))
        }
        other => other,
    })
}

/// Makes `call` and returns the JSON body. An API error (any non-2xx) is an error carrying the
/// API's own message.
pub fn call(session: &Session, recorder: &mut dyn Recorder, call: &Call) -> Result<Value, Error> {
    let body = call.body.as_ref().map(|body| Body {
        bytes: bytes::Bytes::from(body.to_string()),
        content_type: Some("application/json".to_string()),
    });
    let response = send(session, recorder, call, body)?;
    if !(200..300).contains(&response.status) {
        return Err(status_error(session, call, &response));
    }
    response.parse_json().map_err(Error::Failed)
}

/// Makes `call` with `body` (`call.body` is not used) and returns the answer whatever its
/// status: for callers to whom a 404 is an answer (Cloud Storage's "no such object").
pub fn send(
    session: &Session,
    recorder: &mut dyn Recorder,
    call: &Call,
    body: Option<Body>,
) -> Result<Response, Error> {
    let verb = call.verb();
    let mut url = endpoint(session.env, call.api).map_err(Error::Failed)?;
    let token = bearer(session, recorder, &verb)?;
    url.set_path(&format!(
        "{}{}",
        url.path().trim_end_matches('/'),
        call.path
    ));
    if !call.query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let mut request =
        Request::new(call.method.clone(), url, call.timeout).header("accept", "application/json");
    request.bearer = Some(token);
    request.body = body;
    session
        .transport
        .send(request, session.not_after, session.cancel, recorder)
        .map_err(|e| match e {
            NetError::Interrupted => Error::Interrupted,
            e => Error::Failed(session.redactor.redact(&e.describe(&verb))),
        })
}

/// The error of a non-2xx answer to `call`: the API's own message.
pub fn status_error(session: &Session, call: &Call, response: &Response) -> Error {
    let detail = google_error(&response.body)
        .unwrap_or_else(|| session.redactor.excerpt(&response.body_text(), 300));
    Error::Failed(session.redactor.redact(&format!(
        "{} answered {}: {detail}",
        call.verb(),
        response.status
    )))
}

/// Every item of a paginated list, page after page while the API hands out a `nextPageToken`,
/// until `limit` items were read or `max_pages` pages (a runaway token ends there). `page`
/// makes each page's call from the page token and how many items are still wanted; the items
/// are the array `items_field` of each answer.
pub fn list<'p>(
    session: &Session,
    recorder: &mut dyn Recorder,
    items_field: &str,
    limit: usize,
    max_pages: usize,
    page: impl Fn(Option<&str>, usize) -> Call<'p>,
) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    let mut page_token: Option<String> = None;
    for _ in 0..max_pages {
        let answer = call(
            session,
            recorder,
            &page(page_token.as_deref(), limit.saturating_sub(items.len())),
        )?;
        if let Some(list) = answer.get(items_field).and_then(Value::as_array) {
            items.extend(list.iter().cloned());
        }
        page_token = answer
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if page_token.is_none() || items.len() >= limit {
            break;
        }
    }
    Ok(items)
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
