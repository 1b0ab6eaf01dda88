//! An archive into Cloud Storage (`gs://bucket/prefix`) through the JSON API with the tool's
//! Google credentials: the archive as one multipart upload (`uploadType=multipart`, metadata
//! and bytes in one request, so Google creates the object only once all of it arrived: an
//! interrupted upload leaves no object) created only if absent (`ifGenerationMatch=0`); the
//! index read, appended to and written back only over the generation read
//! (`ifGenerationMatch=N`), so concurrent archivers never lose each other's lines.

use super::{INDEX_FILE, Outcome, Packed, indexed};
use crate::gcp::Session;
use crate::gcp::rest::{self, Api, Call};
use crate::net::{Body, Method, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// Attempts at appending to the index when another archiver wrote it in between.
const INDEX_ATTEMPTS: usize = 5;

/// `gs://bucket/prefix` as its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
}

impl Destination {
    pub fn parse(text: &str) -> Option<Destination> {
        let rest = text.strip_prefix("gs://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = !bucket.is_empty()
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        bucket_ok.then(|| Destination {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn object(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    pub fn url_of(&self, name: &str) -> String {
        format!("gs://{}/{}", self.bucket, self.object(name))
    }
}

pub fn store(session: &Session, packed: &Packed, dest: &Destination) -> Result<Outcome, String> {
    let object = dest.object(&packed.name);
    let existed = match metadata(session, dest, &object)? {
        Some(_) => true,
        None => upload(session, dest, &object, &packed.bytes, "application/zstd", 0)?,
    };
    let index_object = dest.object(INDEX_FILE);
    for _ in 0..INDEX_ATTEMPTS {
        let (index, generation) = match metadata(session, dest, &index_object)? {
            Some(meta) => {
                let generation = meta["generation"]
                    .as_str()
                    .and_then(|g| g.parse::<u64>().ok())
                    .ok_or("the index object has no generation")?;
                (media(session, dest, &index_object, generation)?, generation)
            }
            None => (String::new(), 0),
        };
        if indexed(&index, &packed.name) {
            return Ok(if existed {
                Outcome::AlreadyArchived
            } else {
                Outcome::Archived
            });
        }
        let mut text = index;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&packed.index_line);
        text.push('\n');
        // `false`: another archiver wrote the index since it was read; read it again.
        if upload(
            session,
            dest,
            &index_object,
            text.as_bytes(),
            "application/x-ndjson",
            generation,
        )? {
            return Ok(if existed {
                Outcome::AlreadyArchived
            } else {
                Outcome::Archived
            });
        }
    }
    Err(format!(
        "{}: the index kept changing under this archiver; try again",
        dest.url_of(INDEX_FILE)
    ))
}

fn object_path(dest: &Destination, object: &str) -> String {
    format!(
        "/storage/v1/b/{}/o/{}",
        dest.bucket,
        utf8_percent_encode(object, NON_ALPHANUMERIC)
    )
}

/// The object's metadata, `None` when there is no such object.
fn metadata(session: &Session, dest: &Destination, object: &str) -> Result<Option<Value>, String> {
    let path = object_path(dest, object);
    let call = get_call(&path, Vec::new());
    let response = send(session, &call, None)?;
    match response.status {
        404 => Ok(None),
        200..=299 => response.parse_json().map(Some),
        _ => Err(message(session, &call, &response)),
    }
}

/// The object's content at `generation`, as text.
fn media(
    session: &Session,
    dest: &Destination,
    object: &str,
    generation: u64,
) -> Result<String, String> {
    let path = object_path(dest, object);
    let call = get_call(
        &path,
        vec![
            ("alt", "media".to_string()),
            ("generation", generation.to_string()),
        ],
    );
    let response = send(session, &call, None)?;
    if !(200..300).contains(&response.status) {
        return Err(message(session, &call, &response));
    }
    String::from_utf8(response.body.to_vec())
        .map_err(|_| format!("{}: the index is not UTF-8 text", dest.url_of(INDEX_FILE)))
}

/// Uploads `bytes` as `object` if its generation is still `generation` (0: if absent).
/// `Ok(true)`: created; `Ok(false)`: the precondition failed (someone else wrote it).
fn upload(
    session: &Session,
    dest: &Destination,
    object: &str,
    bytes: &[u8],
    content_type: &str,
    generation: u64,
) -> Result<bool, String> {
    let path = format!("/upload/storage/v1/b/{}/o", dest.bucket);
    let call = Call {
        api: Api::Storage,
        method: Method::POST,
        path: &path,
        query: vec![
            ("uploadType", "multipart".to_string()),
            ("ifGenerationMatch", generation.to_string()),
        ],
        body: None,
        timeout: UPLOAD_TIMEOUT,
    };
    let metadata = json!({ "name": object, "contentType": content_type });
    let (body, boundary) = multipart_related(&metadata, content_type, bytes);
    let response = send(
        session,
        &call,
        Some(Body {
            bytes: body.into(),
            content_type: Some(format!("multipart/related; boundary={boundary}")),
        }),
    )?;
    match response.status {
        200..=299 => Ok(true),
        412 => Ok(false),
        _ => Err(message(session, &call, &response)),
    }
}

/// An upload may carry a large folder.
const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The `multipart/related` body of a multipart upload: the metadata part, then the media part
/// (RFC 2387, as Google's upload protocol has it). The boundary is random, so it never occurs
/// in the bytes in practice; it is checked all the same.
fn multipart_related(metadata: &Value, content_type: &str, bytes: &[u8]) -> (Vec<u8>, String) {
    let boundary = loop {
        let candidate = format!("oa-validate-{}", uuid::Uuid::new_v4().simple());
        if memchr::memmem::find(bytes, candidate.as_bytes()).is_none() {
            break candidate;
        }
    };
    let mut body = format!(
        "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n\
         --{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, boundary)
}

fn get_call<'a>(path: &'a str, query: Vec<(&'static str, String)>) -> Call<'a> {
    Call {
        api: Api::Storage,
        method: Method::GET,
        path,
        query,
        body: None,
        timeout: rest::CALL_TIMEOUT,
    }
}

fn send(session: &Session, call: &Call, body: Option<Body>) -> Result<Response, String> {
    rest::send(session, &mut Vec::new(), call, body).map_err(|e| e.message(Api::Storage))
}

fn message(session: &Session, call: &Call, response: &Response) -> String {
    rest::status_error(session, call, response).message(Api::Storage)
}
