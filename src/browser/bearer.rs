//! An `Authorization: Bearer` header on the page's requests to one origin only.
//!
//! Upstream's browser smoke puts the bearer on every request of its browser context
//! (Playwright `extraHTTPHeaders`), which also hands it to any other origin the page loads
//! from. Here every request the page makes is paused (CDP `Fetch.enable`) and continued
//! (`Fetch.continueRequest`) with the header added only when the request's origin — scheme,
//! host and port — is the scoped one; any other request continues untouched. A redirect hop is
//! a new paused request, decided again by its own URL.

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, HeaderEntry, RequestPattern,
};
use futures_util::StreamExt;
use parking_lot::Mutex;
use std::sync::Arc;
use tokio::task::JoinHandle;
use url::{Origin, Url};

/// The origin a bearer may go to, and the header value (`Bearer <token>`).
struct Scope {
    origin: Origin,
    authorization: String,
}

/// The page's bearer, shared with the task continuing its paused requests; empty until set.
#[derive(Clone, Default)]
pub struct Bearer {
    scope: Arc<Mutex<Option<Scope>>>,
}

impl Bearer {
    /// From now on, requests to `origin` carry `Authorization: Bearer <token>`.
    pub fn set(&self, origin: Origin, token: &str) {
        *self.scope.lock() = Some(Scope {
            origin,
            authorization: format!("Bearer {token}"),
        });
    }

    /// Whether a request to `url` gets the bearer (now).
    pub fn applies_to(&self, url: &str) -> bool {
        self.for_url(url).is_some()
    }

    /// The header value a request to `url` gets, if any.
    fn for_url(&self, url: &str) -> Option<String> {
        let origin = Url::parse(url).ok()?.origin();
        let scope = self.scope.lock();
        let scope = scope.as_ref()?;
        (origin.is_tuple() && origin == scope.origin).then(|| scope.authorization.clone())
    }
}

/// The request's headers with `authorization` replaced by `value`.
fn with_authorization(headers: &serde_json::Value, value: String) -> Vec<HeaderEntry> {
    let mut entries: Vec<HeaderEntry> = headers
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
                .map(|(name, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    HeaderEntry::new(name.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    entries.push(HeaderEntry::new("Authorization", value));
    entries
}

/// Starts pausing every request of `page` and continuing it, with `bearer`'s header when its
/// origin is the scoped one. The returned task must live as long as the page: without it
/// every request would stay paused.
pub async fn intercept(
    page: &Page,
    bearer: Bearer,
) -> Result<JoinHandle<()>, chromiumoxide::error::CdpError> {
    // Listen before enabling, so no paused request is missed.
    let mut paused = page.event_listener::<EventRequestPaused>().await?;
    let continuing = page.clone();
    let task = tokio::spawn(async move {
        while let Some(event) = paused.next().await {
            let mut params = ContinueRequestParams::new(event.request_id.clone());
            if let Some(value) = bearer.for_url(&event.request.url) {
                params.headers = Some(with_authorization(event.request.headers.inner(), value));
            }
            // A failed continue (the page went away mid-request) concerns that request only.
            let _ = continuing.execute(params).await;
        }
    });
    let enable = EnableParams::builder()
        .pattern(RequestPattern::builder().url_pattern("*").build())
        .build();
    if let Err(e) = page.execute(enable).await {
        task.abort();
        return Err(e);
    }
    Ok(task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_scoped_origin_gets_the_header_and_ports_differ() {
        let bearer = Bearer::default();
        assert_eq!(bearer.for_url("http://127.0.0.1:8000/"), None, "unset");
        bearer.set(
            Url::parse("http://127.0.0.1:8000/").unwrap().origin(),
            "tok-123456789",
        );
        assert_eq!(
            bearer.for_url("http://127.0.0.1:8000/chat?x=1").as_deref(),
            Some("Bearer tok-123456789")
        );
        for other in [
            "http://127.0.0.1:8001/chat",
            "https://127.0.0.1:8000/chat",
            "http://localhost:8000/chat",
            "data:text/plain,x",
        ] {
            assert_eq!(bearer.for_url(other), None, "{other}");
        }
    }

    #[test]
    fn the_header_replaces_any_authorization_the_page_set() {
        let headers = serde_json::json!({"Accept": "*/*", "authorization": "Basic x"});
        let entries = with_authorization(&headers, "Bearer t".to_string());
        let auth: Vec<_> = entries
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case("authorization"))
            .collect();
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0].value, "Bearer t");
        assert!(entries.iter().any(|e| e.name == "Accept"));
    }
}
