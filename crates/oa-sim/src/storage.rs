//! The Cloud Storage JSON API subset `archive --to gs://` uses: object metadata and media
//! (`GET /storage/v1/b/{bucket}/o/{object}`, `?alt=media`) and multipart uploads
//! (`POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart`), with generation
//! preconditions (`ifGenerationMatch`, 0 meaning "only if absent"), in Google's JSON shapes,
//! behind the same bearer token as the other simulated Google APIs.
//!
//! As Google does, an upload creates its object only once the whole request arrived: a
//! request cut short stores nothing. One bucket exists, [`BUCKET`].

use super::cloudrun::{GoogleState, google_error};
use super::routes::{Routes, SimRoute};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The bucket the sim serves.
pub const BUCKET: &str = "oa-validate-evidence";
/// The largest upload the sim takes (Google's limit is far higher; evidence is far smaller).
const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;

struct Object {
    bytes: Vec<u8>,
    content_type: String,
    generation: u64,
    created: String,
}

pub(super) struct StorageState {
    google: Arc<GoogleState>,
    objects: Mutex<HashMap<String, Object>>,
    /// Generations grow like Google's (microseconds), and strictly.
    last_generation: Mutex<u64>,
}

impl StorageState {
    pub(super) fn new(google: Arc<GoogleState>) -> StorageState {
        StorageState {
            google,
            objects: Mutex::default(),
            last_generation: Mutex::new(0),
        }
    }

    fn next_generation(&self) -> u64 {
        let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
        let mut last = self.last_generation.lock();
        *last = now.max(*last + 1);
        *last
    }
}

type Shared = State<Arc<StorageState>>;

fn routes() -> Routes<Arc<StorageState>> {
    Routes::new("storage")
        .get("/storage/v1/b/{bucket}/o/{object}", get_object)
        .post("/upload/storage/v1/b/{bucket}/o", upload)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router(state: Arc<StorageState>) -> Router {
    routes()
        .into_parts()
        .0
        .fallback(|| async { google_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found") })
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .with_state(state)
}

fn no_bucket() -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The specified bucket does not exist.",
    )
}

fn metadata(name: &str, object: &Object) -> Value {
    let crc = super::kms::crc32c(&object.bytes).to_be_bytes();
    json!({
        "kind": "storage#object",
        "id": format!("{BUCKET}/{name}/{}", object.generation),
        "name": name,
        "bucket": BUCKET,
        "generation": object.generation.to_string(),
        "metageneration": "1",
        "contentType": object.content_type,
        "storageClass": "STANDARD",
        "size": object.bytes.len().to_string(),
        "crc32c": STANDARD.encode(crc),
        "timeCreated": object.created,
        "updated": object.created,
    })
}

async fn get_object(
    State(st): Shared,
    headers: HeaderMap,
    Path((bucket, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = st.google.refusal(&headers) {
        return refused;
    }
    if bucket != BUCKET {
        return no_bucket();
    }
    let objects = st.objects.lock();
    let wanted = query.get("generation").and_then(|g| g.parse::<u64>().ok());
    let Some(object) = objects
        .get(&name)
        .filter(|o| wanted.is_none_or(|g| g == o.generation))
    else {
        return google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("No such object: {BUCKET}/{name}"),
        );
    };
    if query.get("alt").map(String::as_str) == Some("media") {
        return (
            [(header::CONTENT_TYPE, object.content_type.clone())],
            object.bytes.clone(),
        )
            .into_response();
    }
    Json(metadata(&name, object)).into_response()
}

async fn upload(
    State(st): Shared,
    headers: HeaderMap,
    Path(bucket): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = st.google.refusal(&headers) {
        return refused;
    }
    if bucket != BUCKET {
        return no_bucket();
    }
    let invalid =
        |message: &str| google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message);
    if query.get("uploadType").map(String::as_str) != Some("multipart") {
        return invalid("The sim takes uploadType=multipart only.");
    }
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("multipart/related"))
        .and_then(|v| {
            v.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').to_string());
    let Some(boundary) = boundary else {
        return invalid("Content-Type must be multipart/related with a boundary.");
    };
    let Some([meta, media]) = two_parts(&body, &boundary) else {
        return invalid("The multipart body must hold a metadata part and a media part.");
    };
    let Ok(meta) = serde_json::from_slice::<Value>(meta.1) else {
        return invalid("The metadata part is not JSON.");
    };
    let Some(name) = meta["name"].as_str().filter(|n| !n.is_empty()) else {
        return invalid("Required object name.");
    };
    let content_type = meta["contentType"]
        .as_str()
        .map(str::to_string)
        .or_else(|| media.0.clone())
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let mut objects = st.objects.lock();
    if let Some(expected) = query
        .get("ifGenerationMatch")
        .and_then(|g| g.parse::<u64>().ok())
    {
        let current = objects.get(name).map_or(0, |o| o.generation);
        if current != expected {
            return google_error(
                StatusCode::PRECONDITION_FAILED,
                "FAILED_PRECONDITION",
                "At least one of the pre-conditions you specified did not hold.",
            );
        }
    }
    let object = Object {
        bytes: media.1.to_vec(),
        content_type,
        generation: st.next_generation(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let answer = metadata(name, &object);
    objects.insert(name.to_string(), object);
    Json(answer).into_response()
}

/// The two parts of a `multipart/related` body: each its Content-Type (if given) and bytes.
fn two_parts<'a>(body: &'a [u8], boundary: &str) -> Option<[(Option<String>, &'a [u8]); 2]> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut parts = Vec::new();
    let mut rest = &body[finder.find(body)? + delimiter.len()..];
    while !rest.starts_with(b"--") {
        let rest_after_crlf = rest.strip_prefix(b"\r\n")?;
        let head_end = memchr::memmem::find(rest_after_crlf, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest_after_crlf[..head_end]).ok()?;
        let content_type = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        });
        let content_start = &rest_after_crlf[head_end + 4..];
        let end = finder.find(content_start)?;
        let content = content_start[..end].strip_suffix(b"\r\n")?;
        parts.push((content_type, content));
        rest = &content_start[end + delimiter.len()..];
    }
    parts.try_into().ok()
}
