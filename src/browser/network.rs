//! Every request the page makes, as the browser reports it (CDP `Network` events), and its
//! rendering as a HAR 1.2 document: method, URL, status, timing and headers, with credential
//! headers masked by name. The text is redacted again when the evidence is written.

use super::bearer::Bearer;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
    Headers,
};
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Bound on recorded requests, so a polling page cannot grow the evidence forever.
const MAX_REQUESTS: usize = 2000;
/// What a masked header value reads (as in the HTTP HARs).
const MASKED: &str = "<redacted>";

/// One request (one hop: a redirect starts a new one).
#[derive(Debug, Clone, Default)]
struct Hop {
    method: String,
    url: String,
    /// Wall clock, seconds since the epoch, when it was sent.
    wall_time: f64,
    /// The browser's monotonic clock, seconds: when sent and when finished.
    sent: f64,
    finished: Option<f64>,
    request_headers: Vec<(String, String)>,
    /// The page's bearer was added to it (the target's origin).
    bearer: bool,
    status: Option<i64>,
    status_text: String,
    response_headers: Vec<(String, String)>,
    mime_type: String,
    protocol: String,
    encoded_length: Option<f64>,
    error: Option<String>,
}

#[derive(Default)]
struct Log {
    hops: Vec<Hop>,
    /// CDP request id -> the index of its current hop.
    current: HashMap<String, usize>,
    dropped: usize,
}

/// The page's requests, shared with the tasks that record them.
#[derive(Clone, Default)]
pub struct NetworkLog {
    inner: Arc<Mutex<Log>>,
}

fn header_pairs(headers: &Headers) -> Vec<(String, String)> {
    headers
        .inner()
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(name, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (name.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl NetworkLog {
    fn finish_response(
        log: &mut Log,
        id: &str,
        response: &chromiumoxide::cdp::browser_protocol::network::Response,
        at: f64,
    ) {
        if let Some(&i) = log.current.get(id)
            && let Some(hop) = log.hops.get_mut(i)
        {
            hop.status = Some(response.status);
            hop.status_text = response.status_text.clone();
            hop.response_headers = header_pairs(&response.headers);
            hop.mime_type = response.mime_type.clone();
            hop.protocol = response.protocol.clone().unwrap_or_default();
            hop.encoded_length = Some(response.encoded_data_length);
            hop.finished.get_or_insert(at);
        }
    }

    fn sent(&self, event: &EventRequestWillBeSent, bearer: bool) {
        let mut log = self.inner.lock();
        let id = event.request_id.inner().clone();
        let at = *event.timestamp.inner();
        // A redirect: the previous hop of this id ends with the redirect's response.
        if let Some(redirect) = &event.redirect_response {
            Self::finish_response(&mut log, &id, redirect, at);
        }
        if log.hops.len() >= MAX_REQUESTS {
            log.dropped += 1;
            log.current.remove(&id);
            return;
        }
        log.hops.push(Hop {
            method: event.request.method.clone(),
            url: event.request.url.clone(),
            wall_time: *event.wall_time.inner(),
            sent: at,
            request_headers: header_pairs(&event.request.headers),
            bearer,
            ..Hop::default()
        });
        let index = log.hops.len() - 1;
        log.current.insert(id, index);
    }

    fn responded(&self, event: &EventResponseReceived) {
        let mut log = self.inner.lock();
        let id = event.request_id.inner().clone();
        // The response's headers arrived; the body is still to come.
        Self::finish_response(&mut log, &id, &event.response, *event.timestamp.inner());
        if let Some(&i) = log.current.get(&id)
            && let Some(hop) = log.hops.get_mut(i)
        {
            hop.finished = None;
        }
    }

    fn finished(&self, event: &EventLoadingFinished) {
        let mut log = self.inner.lock();
        let id = event.request_id.inner().clone();
        if let Some(index) = log.current.remove(&id)
            && let Some(hop) = log.hops.get_mut(index)
        {
            hop.finished = Some(*event.timestamp.inner());
            hop.encoded_length = Some(event.encoded_data_length);
        }
    }

    fn failed(&self, event: &EventLoadingFailed) {
        let mut log = self.inner.lock();
        let id = event.request_id.inner().clone();
        if let Some(index) = log.current.remove(&id)
            && let Some(hop) = log.hops.get_mut(index)
        {
            hop.finished = Some(*event.timestamp.inner());
            hop.error = Some(event.error_text.clone());
        }
    }

    /// How many requests were recorded (and how many were not, over the bound).
    pub fn len(&self) -> (usize, usize) {
        let log = self.inner.lock();
        (log.hops.len(), log.dropped)
    }

    /// The requests as a HAR 1.2 document (one page titled `title`), pretty-printed.
    pub fn har(&self, title: &str) -> String {
        let log = self.inner.lock();
        let entries: Vec<Value> = log.hops.iter().map(entry).collect();
        let started = log
            .hops
            .first()
            .map(|h| iso_time(h.wall_time))
            .unwrap_or_default();
        let pages: Vec<Value> = if log.hops.is_empty() {
            Vec::new()
        } else {
            vec![json!({
                "startedDateTime": started,
                "id": title,
                "title": title,
                "pageTimings": {"onContentLoad": -1, "onLoad": -1},
            })]
        };
        let mut har = json!({
            "log": {
                "version": "1.2",
                "creator": {"name": "oa-validate", "version": env!("CARGO_PKG_VERSION")},
                "pages": pages,
                "entries": entries,
            }
        });
        if log.dropped > 0 {
            har["log"]["_dropped"] = json!(log.dropped);
        }
        let mut text = serde_json::to_string_pretty(&har).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn iso_time(epoch_seconds: f64) -> String {
    chrono::DateTime::from_timestamp_millis((epoch_seconds * 1000.0) as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Header values as the HAR shows them: credential headers masked by name.
fn har_headers(headers: &[(String, String)]) -> Vec<Value> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if crate::net::policy::is_sensitive_header(&name.to_ascii_lowercase()) {
                MASKED
            } else {
                value.as_str()
            };
            json!({"name": name, "value": shown})
        })
        .collect()
}

fn entry(hop: &Hop) -> Value {
    let time = hop
        .finished
        .map(|f| ((f - hop.sent) * 1000.0).max(0.0))
        .unwrap_or(-1.0);
    let mut request_headers = har_headers(&hop.request_headers);
    if hop.bearer {
        request_headers.push(json!({"name": "Authorization", "value": MASKED}));
    }
    let query: Vec<Value> = url::Url::parse(&hop.url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect()
        })
        .unwrap_or_default();
    let location = hop
        .response_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut value = json!({
        "startedDateTime": iso_time(hop.wall_time),
        "time": time,
        "request": {
            "method": hop.method,
            "url": hop.url,
            "httpVersion": hop.protocol,
            "cookies": [],
            "headers": request_headers,
            "queryString": query,
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": {
            "status": hop.status.unwrap_or(0),
            "statusText": hop.status_text,
            "httpVersion": hop.protocol,
            "cookies": [],
            "headers": har_headers(&hop.response_headers),
            "content": {"size": -1, "mimeType": hop.mime_type},
            "redirectURL": location,
            "headersSize": -1,
            "bodySize": hop.encoded_length.map(|l| l as i64).unwrap_or(-1),
        },
        "cache": {},
        "timings": {"send": 0, "wait": time, "receive": 0},
    });
    if let Some(error) = &hop.error {
        value["response"]["_error"] = json!(error);
    }
    value
}

/// Starts recording the page's requests into `log`; `bearer` says which of them carry the
/// page's bearer. The task ends with the session.
///
/// One task reads the four event streams, always taking an earlier phase first (sent,
/// response, finished, failed): the browser sends a request's events in that order, and each
/// lands in its stream before the next, so a ready "finished" never overtakes the "response"
/// already waiting (four tasks did, and the HAR lost that response's status).
pub async fn record(
    page: &Page,
    log: NetworkLog,
    bearer: Bearer,
) -> Result<[JoinHandle<()>; 1], chromiumoxide::error::CdpError> {
    let mut sent = page.event_listener::<EventRequestWillBeSent>().await?;
    let mut responded = page.event_listener::<EventResponseReceived>().await?;
    let mut finished = page.event_listener::<EventLoadingFinished>().await?;
    let mut failed = page.event_listener::<EventLoadingFailed>().await?;
    Ok([tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                Some(event) = sent.next() => {
                    let with_bearer = bearer.applies_to(&event.request.url);
                    log.sent(&event, with_bearer);
                }
                Some(event) = responded.next() => log.responded(&event),
                Some(event) = finished.next() => log.finished(&event),
                Some(event) = failed.next() => log.failed(&event),
                else => break,
            }
        }
    })])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_masked_by_name() {
        let shown = har_headers(&[
            ("Cookie".to_string(), "oa_access_token=abc".to_string()),
            ("Accept".to_string(), "*/*".to_string()),
        ]);
        assert_eq!(shown[0]["value"], MASKED);
        assert_eq!(shown[1]["value"], "*/*");
    }

    #[test]
    fn a_hop_renders_with_its_status_timing_and_bearer_marker() {
        let hop = Hop {
            method: "GET".to_string(),
            url: "http://127.0.0.1:1/feed?zone=all".to_string(),
            wall_time: 1_700_000_000.0,
            sent: 10.0,
            finished: Some(10.25),
            bearer: true,
            status: Some(200),
            status_text: "OK".to_string(),
            ..Hop::default()
        };
        let e = entry(&hop);
        assert_eq!(e["response"]["status"], 200);
        assert_eq!(e["time"], 250.0);
        assert_eq!(e["request"]["queryString"][0]["name"], "zone");
        assert_eq!(e["request"]["headers"][0]["value"], MASKED);
        assert_eq!(e["startedDateTime"], "2023-11-14T22:13:20.000Z");
    }
}
