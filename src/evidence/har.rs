//! `http/<check_id>.har`: every HTTP exchange of one check as a HAR 1.2 document
//! (<http://www.softwareishard.com/blog/har-12-spec/>), from exchanges already rendered as
//! redacted text ([`super::exchange::Rendered`]).
//!
//! Unknowns follow the spec: sizes and optional timings are `-1`. Custom fields (allowed by the
//! spec when prefixed with `_`): `entries[]._requestId` (the `x-request-id` sent),
//! `entries[]._responseRequestId` (the one echoed back, when there was one) and
//! `response._error` (why no response arrived; the response then has status 0).

use super::exchange::{Rendered, RenderedResponse};
use serde::Serialize;

pub const CREATOR: &str = "oa-validate";

/// A HAR 1.2 document with one page (titled with the check id) holding every exchange,
/// pretty-printed, with a trailing newline. No exchange, no page.
pub fn render(entries: &[Rendered], creator_version: &str, check_id: &str) -> String {
    let pages = entries
        .first()
        .map(|first| Page {
            started_date_time: &first.started_at,
            id: check_id,
            title: check_id,
            page_timings: PageTimings {
                on_content_load: -1.0,
                on_load: -1.0,
            },
        })
        .into_iter()
        .collect();
    let har = Har {
        log: Log {
            version: "1.2",
            creator: Creator {
                name: CREATOR,
                version: creator_version,
            },
            pages,
            entries: entries.iter().map(|e| Entry::new(e, check_id)).collect(),
        },
    };
    // Plain structs with string keys: serialization cannot fail.
    let mut text = serde_json::to_string_pretty(&har).expect("HAR serializes");
    text.push('\n');
    text
}

#[derive(Serialize)]
struct Har<'a> {
    log: Log<'a>,
}

#[derive(Serialize)]
struct Log<'a> {
    version: &'static str,
    creator: Creator<'a>,
    pages: Vec<Page<'a>>,
    entries: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Creator<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    started_date_time: &'a str,
    id: &'a str,
    title: &'a str,
    page_timings: PageTimings,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageTimings {
    on_content_load: f64,
    on_load: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    pageref: &'a str,
    started_date_time: &'a str,
    /// Total milliseconds: the sum of the non -1 timings.
    time: f64,
    request: Request<'a>,
    response: Response<'a>,
    cache: Cache,
    timings: Timings,
    #[serde(rename = "_requestId")]
    request_id: &'a str,
    #[serde(rename = "_responseRequestId", skip_serializing_if = "Option::is_none")]
    response_request_id: Option<&'a str>,
}

impl<'a> Entry<'a> {
    fn new(exchange: &'a Rendered, check_id: &'a str) -> Self {
        let total = non_negative(exchange.total_ms);
        // The connection's opening (when this request opened one) is part of the time to
        // the first byte; HAR counts it apart, so `wait` is the rest.
        let connect = exchange.connect_ms.map_or(0.0, non_negative);
        let wait = (non_negative(exchange.ttfb_ms) - connect)
            .max(0.0)
            .min(total);
        let http_version = exchange
            .response
            .as_ref()
            .map_or("HTTP/1.1", |r| r.http_version.as_str());
        Entry {
            pageref: check_id,
            started_date_time: &exchange.started_at,
            time: total,
            request: Request::new(exchange, http_version),
            response: match &exchange.response {
                Some(response) => Response::received(response, exchange.error.as_deref()),
                None => Response::missing(exchange.error.as_deref()),
            },
            cache: Cache {},
            timings: Timings {
                blocked: -1.0,
                dns: -1.0,
                connect: exchange.connect_ms.map_or(-1.0, |_| connect),
                send: 0.0,
                wait,
                receive: (total - connect - wait).max(0.0),
                ssl: -1.0,
            },
            request_id: &exchange.request_id,
            response_request_id: exchange
                .response
                .as_ref()
                .and_then(|r| r.request_id.as_deref()),
        }
    }
}

fn non_negative(ms: f64) -> f64 {
    if ms.is_finite() && ms > 0.0 { ms } else { 0.0 }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    http_version: &'a str,
    cookies: &'static [NameValue<'static>],
    headers: Vec<NameValue<'a>>,
    query_string: Vec<NameValue<'static>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData<'a>>,
    headers_size: i64,
    body_size: i64,
}

impl<'a> Request<'a> {
    fn new(exchange: &'a Rendered, http_version: &'a str) -> Self {
        // Most URLs have no query: skip parsing them again.
        let query_string = Some(&exchange.url)
            .filter(|u| u.contains('?'))
            .and_then(|u| url::Url::parse(u).ok())
            .map(|url| {
                url.query_pairs()
                    .map(|(name, value)| NameValue {
                        name: name.into_owned().into(),
                        value: value.into_owned().into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let post_data = exchange.request_body.as_deref().map(|text| PostData {
            mime_type: exchange.request_content_type.as_deref().unwrap_or(""),
            text,
        });
        let body_size = exchange
            .request_body
            .as_ref()
            .map_or(0, |body| i64::try_from(body.len()).unwrap_or(i64::MAX));
        Request {
            method: &exchange.method,
            url: &exchange.url,
            http_version,
            cookies: &[],
            headers: name_values(&exchange.request_headers),
            query_string,
            post_data,
            headers_size: -1,
            body_size,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostData<'a> {
    mime_type: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'a str,
    http_version: &'a str,
    cookies: &'static [NameValue<'static>],
    headers: Vec<NameValue<'a>>,
    content: Content<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: &'a str,
    headers_size: i64,
    body_size: i64,
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl<'a> Response<'a> {
    fn received(response: &'a RenderedResponse, error: Option<&'a str>) -> Self {
        let redirect_url = response
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("location"))
            .map_or("", |(_, value)| value.as_str());
        // HAR 1.2: content.size is the decoded length, bodySize what was transferred, and
        // content.compression the bytes a Content-Encoding saved.
        let size = i64::try_from(response.body_size).unwrap_or(i64::MAX);
        let transferred = i64::try_from(response.transferred_size).unwrap_or(i64::MAX);
        Response {
            status: response.status,
            status_text: &response.status_text,
            http_version: &response.http_version,
            cookies: &[],
            headers: name_values(&response.headers),
            content: Content {
                size,
                compression: (transferred != size).then(|| size - transferred),
                mime_type: response.content_type.as_deref().unwrap_or(""),
                text: &response.body,
            },
            redirect_url,
            headers_size: -1,
            body_size: transferred,
            error,
        }
    }

    /// No response arrived: status 0, as browsers export a failed request.
    fn missing(error: Option<&'a str>) -> Self {
        Response {
            status: 0,
            status_text: "",
            http_version: "",
            cookies: &[],
            headers: Vec::new(),
            content: Content {
                size: 0,
                compression: None,
                mime_type: "x-unknown",
                text: "",
            },
            redirect_url: "",
            headers_size: -1,
            body_size: -1,
            error: Some(error.unwrap_or("no response")),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<i64>,
    mime_type: &'a str,
    text: &'a str,
}

/// Serializes as `{}`: nothing is cached.
#[derive(Serialize)]
struct Cache {}

#[derive(Serialize)]
struct Timings {
    blocked: f64,
    dns: f64,
    connect: f64,
    send: f64,
    wait: f64,
    receive: f64,
    ssl: f64,
}

#[derive(Serialize)]
struct NameValue<'a> {
    name: std::borrow::Cow<'a, str>,
    value: std::borrow::Cow<'a, str>,
}

fn name_values(pairs: &[(String, String)]) -> Vec<NameValue<'_>> {
    pairs
        .iter()
        .map(|(name, value)| NameValue {
            name: name.as_str().into(),
            value: value.as_str().into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn exchanges() -> Vec<Rendered> {
        vec![
            Rendered {
                started_at: "2026-02-21T19:27:46.120Z".to_string(),
                method: "POST".to_string(),
                url: "https://staging.openagents.com/api/auth/session?next=%2Ffeed&x=1&x=2"
                    .to_string(),
                request_headers: vec![
                    ("x-request-id".to_string(), "oa-7f3a-1".to_string()),
                    ("authorization".to_string(), "<redacted>".to_string()),
                ],
                request_body: Some("{\"email\":\"a@b.c\"}".to_string()),
                request_content_type: Some("application/json".to_string()),
                response: Some(RenderedResponse {
                    status: 302,
                    status_text: "Found".to_string(),
                    http_version: "HTTP/2.0".to_string(),
                    headers: vec![
                        ("Location".to_string(), "/feed".to_string()),
                        ("x-request-id".to_string(), "oa-7f3a-1".to_string()),
                    ],
                    body: "redirecting".to_string(),
                    body_size: 11,
                    transferred_size: 11,
                    content_type: Some("text/plain".to_string()),
                    request_id: Some("oa-7f3a-1".to_string()),
                }),
                error: None,
                request_id: "oa-7f3a-1".to_string(),
                connect_ms: None,
                ttfb_ms: 40.5,
                total_ms: 42.0,
            },
            Rendered {
                started_at: "2026-02-21T19:27:46.300Z".to_string(),
                method: "GET".to_string(),
                url: "https://staging-runtime.openagents.com/readyz".to_string(),
                request_headers: vec![("x-request-id".to_string(), "oa-7f3a-2".to_string())],
                request_body: None,
                request_content_type: None,
                response: None,
                error: Some("connection refused".to_string()),
                request_id: "oa-7f3a-2".to_string(),
                connect_ms: None,
                ttfb_ms: 0.0,
                total_ms: 3.0,
            },
        ]
    }

    fn parsed() -> Value {
        let text = render(&exchanges(), "0.1.0", "control-staging-smoke");
        serde_json::from_str(&text).expect("HAR parses")
    }

    fn has_keys(value: &Value, keys: &[&str]) {
        for key in keys {
            assert!(value.get(key).is_some(), "missing {key} in {value}");
        }
    }

    #[test]
    fn document_has_every_required_har_field() {
        let har = parsed();
        let log = &har["log"];
        assert_eq!(log["version"], "1.2");
        assert_eq!(log["creator"]["name"], "oa-validate");
        assert_eq!(log["creator"]["version"], "0.1.0");
        assert_eq!(log["pages"][0]["id"], "control-staging-smoke");
        assert_eq!(log["pages"][0]["title"], "control-staging-smoke");
        assert_eq!(
            log["pages"][0]["startedDateTime"],
            "2026-02-21T19:27:46.120Z"
        );
        has_keys(
            &log["pages"][0]["pageTimings"],
            &["onContentLoad", "onLoad"],
        );
        let entries = log["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 2);
        for entry in entries {
            has_keys(
                entry,
                &[
                    "startedDateTime",
                    "time",
                    "request",
                    "response",
                    "cache",
                    "timings",
                ],
            );
            assert_eq!(entry["pageref"], "control-staging-smoke");
            has_keys(
                &entry["request"],
                &[
                    "method",
                    "url",
                    "httpVersion",
                    "cookies",
                    "headers",
                    "queryString",
                    "headersSize",
                    "bodySize",
                ],
            );
            has_keys(
                &entry["response"],
                &[
                    "status",
                    "statusText",
                    "httpVersion",
                    "cookies",
                    "headers",
                    "content",
                    "redirectURL",
                    "headersSize",
                    "bodySize",
                ],
            );
            has_keys(&entry["response"]["content"], &["size", "mimeType"]);
            has_keys(&entry["timings"], &["send", "wait", "receive"]);
            assert_eq!(entry["cache"], serde_json::json!({}));
            // `time` is the sum of the known timings.
            let t = &entry["timings"];
            let sum: f64 = ["send", "wait", "receive"]
                .iter()
                .map(|k| t[k].as_f64().expect("number"))
                .sum();
            assert_eq!(entry["time"].as_f64(), Some(sum));
        }
    }

    #[test]
    fn exchange_with_a_response() {
        let har = parsed();
        let entry = &har["log"]["entries"][0];
        assert_eq!(entry["_requestId"], "oa-7f3a-1");
        assert_eq!(entry["_responseRequestId"], "oa-7f3a-1");
        assert_eq!(entry["time"], 42.0);
        assert_eq!(entry["timings"]["wait"], 40.5);
        assert_eq!(entry["timings"]["receive"], 1.5);
        assert_eq!(entry["timings"]["dns"], -1.0);

        let request = &entry["request"];
        assert_eq!(request["method"], "POST");
        assert_eq!(request["httpVersion"], "HTTP/2.0");
        assert_eq!(
            request["queryString"],
            serde_json::json!([
                {"name": "next", "value": "/feed"},
                {"name": "x", "value": "1"},
                {"name": "x", "value": "2"},
            ])
        );
        assert_eq!(request["headers"][1]["name"], "authorization");
        assert_eq!(request["headers"][1]["value"], "<redacted>");
        assert_eq!(request["postData"]["mimeType"], "application/json");
        assert_eq!(request["postData"]["text"], "{\"email\":\"a@b.c\"}");
        assert_eq!(request["bodySize"], 17);
        assert_eq!(request["headersSize"], -1);

        let response = &entry["response"];
        assert_eq!(response["status"], 302);
        assert_eq!(response["statusText"], "Found");
        assert_eq!(response["redirectURL"], "/feed");
        assert_eq!(response["content"]["size"], 11);
        assert_eq!(response["content"]["mimeType"], "text/plain");
        assert_eq!(response["content"]["text"], "redirecting");
        assert_eq!(response["bodySize"], 11);
        assert!(response.get("_error").is_none());
    }

    #[test]
    fn exchange_without_a_response() {
        let har = parsed();
        let entry = &har["log"]["entries"][1];
        assert_eq!(entry["_requestId"], "oa-7f3a-2");
        assert!(entry.get("_responseRequestId").is_none());
        assert_eq!(entry["request"]["queryString"], serde_json::json!([]));
        assert!(entry["request"].get("postData").is_none());
        assert_eq!(entry["request"]["bodySize"], 0);
        let response = &entry["response"];
        assert_eq!(response["status"], 0);
        assert_eq!(response["_error"], "connection refused");
        assert_eq!(response["redirectURL"], "");
        assert_eq!(response["headers"], serde_json::json!([]));
        assert_eq!(entry["time"], 3.0);
    }

    #[test]
    fn a_new_connection_is_counted_apart_from_the_wait() {
        let mut exchange = exchanges().remove(0);
        exchange.connect_ms = Some(3.0);
        let har: Value = serde_json::from_str(&render(&[exchange], "0", "c")).expect("parse");
        let t = &har["log"]["entries"][0]["timings"];
        assert_eq!(t["connect"], 3.0);
        assert_eq!(t["wait"], 37.5);
        assert_eq!(t["receive"], 1.5);
        assert_eq!(t["ssl"], -1.0, "TLS is inside connect, not measured apart");
        assert_eq!(har["log"]["entries"][0]["time"], 42.0);
    }

    #[test]
    fn no_exchanges_no_page() {
        let har: Value =
            serde_json::from_str(&render(&[], "0.1.0", "control-staging-health")).expect("parse");
        assert_eq!(har["log"]["version"], "1.2");
        assert_eq!(har["log"]["pages"], serde_json::json!([]));
        assert_eq!(har["log"]["entries"], serde_json::json!([]));
    }
}
