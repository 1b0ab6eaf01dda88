//! `oa-validate archive` (issue 24): a deterministic `.tar.zst` of an evidence folder that GNU
//! tar and zstd unpack into a folder that still verifies, an index line per archive, the same
//! folder archived twice adding nothing, into a folder or Cloud Storage (the sim's, in
//! Google's upload shape), where an upload cut short leaves no object.

use crate::attest::{key_pair, signed_run};
use crate::common::{Sandbox, sha256sum_verifies};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const LANE: &str = r#"required("ok", || { assert(true, "true"); });"#;

/// A signed GO evidence folder `ev` and its public key.
fn signed_folder(sb: &Sandbox) -> std::path::PathBuf {
    let (key, public) = key_pair(sb, "k", &["-algorithm", "ed25519"]);
    signed_run(sb, LANE, "ev", &key).expect_code(0);
    public
}

fn index_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_archive_is_deterministic_unpacks_into_a_verified_folder_and_is_indexed_once() {
    let sb = Sandbox::new();
    let public = signed_folder(&sb);
    let dest = sb.path().join("backroom");
    let first = sb
        .cmd()
        .arg("archive")
        .arg(sb.out("ev"))
        .arg("--to")
        .arg(&dest)
        .run();
    first.expect_code(0).stdout_has("archived: ");
    let archives: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tar.zst"))
        .collect();
    assert_eq!(archives.len(), 1, "{archives:?}");
    let name = &archives[0];
    // <timestamp>-go-<phase>-<16 hex of the evidence digest>.tar.zst
    let summary = sb.evidence("ev").summary_json();
    let timestamp = summary["run"]["timestamp"].as_str().unwrap();
    assert!(
        name.starts_with(&format!("{timestamp}-go-app-surface-")),
        "{name}"
    );
    let bytes = std::fs::read(dest.join(name)).unwrap();
    let index = index_lines(&dest.join("index.jsonl"));
    assert_eq!(index.len(), 1);
    assert_eq!(index[0]["archive"], name.as_str());
    assert_eq!(index[0]["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(index[0]["verdict"], "GO");
    assert_eq!(index[0]["signed"], true);

    // Again: the same name, nothing rewritten, no second index line.
    sb.cmd()
        .arg("archive")
        .arg(sb.out("ev"))
        .arg("--to")
        .arg(&dest)
        .run()
        .expect_code(0)
        .stdout_has("already archived: ");
    assert_eq!(index_lines(&dest.join("index.jsonl")).len(), 1);
    // Elsewhere: the same bytes (sorted entries, fixed owners, modes and times).
    let elsewhere = sb.path().join("elsewhere");
    sb.cmd()
        .arg("archive")
        .arg(sb.out("ev"))
        .arg("--to")
        .arg(&elsewhere)
        .run()
        .expect_code(0);
    assert_eq!(std::fs::read(elsewhere.join(name)).unwrap(), bytes);

    // GNU tar and zstd unpack it; the folder verifies, signature included.
    let listing = Command::new("tar")
        .args(["--zstd", "-tvf"])
        .arg(dest.join(name))
        .output()
        .unwrap();
    assert!(listing.status.success());
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert!(listing.contains("attestation.intoto.jsonl") && listing.contains("SHA256SUMS"));
    assert!(
        listing.lines().all(|l| l.starts_with("-rw-r--r-- 0/0")),
        "{listing}"
    );
    let unpacked = sb.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    assert!(
        Command::new("tar")
            .args(["--zstd", "-xf"])
            .arg(dest.join(name))
            .arg("-C")
            .arg(&unpacked)
            .status()
            .unwrap()
            .success()
    );
    assert!(sha256sum_verifies(&unpacked));
    sb.cmd()
        .arg("verify")
        .arg(&unpacked)
        .arg("--key")
        .arg(&public)
        .run()
        .expect_code(0);
}

#[test]
fn a_folder_whose_sums_do_not_verify_is_not_archived() {
    let sb = Sandbox::new();
    signed_folder(&sb);
    std::fs::write(sb.out("ev").join("results.tsv"), "edited\n").unwrap();
    let dest = sb.path().join("backroom");
    sb.cmd()
        .arg("archive")
        .arg(sb.out("ev"))
        .arg("--to")
        .arg(&dest)
        .run()
        .expect_code(2)
        .stderr_has("SHA256SUMS does not verify")
        .stderr_has("results.tsv");
    assert!(!dest.exists());
}

/// Sends `head` and a body shorter than its Content-Length, then hangs up: an upload cut short.
fn cut_short_upload(url: &str, token: &str, object: &str) {
    use std::io::Write;
    let rest = url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(rest).unwrap();
    let boundary = "b0undary";
    let body = format!(
        "--{boundary}\r\nContent-Type: application/json\r\n\r\n{{\"name\":\"{object}\"}}\r\n--{boundary}\r\nContent-Type: application/zstd\r\n\r\npartial"
    );
    write!(
        stream,
        "POST /upload/storage/v1/b/oa-validate-evidence/o?uploadType=multipart HTTP/1.1\r\nHost: {rest}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: multipart/related; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len() + 100_000
    )
    .unwrap();
    stream.flush().unwrap();
    drop(stream);
}

/// `GET path` on the sim's Storage API: (status, body).
fn storage_get(url: &str, token: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(rest).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {rest}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = memchr::memmem::find(&response, b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, response[split + 4..].to_vec())
}

#[test]
fn archiving_to_cloud_storage_uploads_once_and_a_cut_short_upload_leaves_no_object() {
    let sb = Sandbox::new();
    signed_folder(&sb);
    let (_sim, exports) = crate::common::sim_exports(&sb, &[]);
    let endpoint = exports["OA_STORAGE_ENDPOINT"].clone();
    let token = exports["OA_GOOGLE_ACCESS_TOKEN"].clone();
    let archive = |to: &str| {
        sb.cmd()
            .arg("archive")
            .arg(sb.out("ev"))
            .args(["--to", to])
            .env("OA_STORAGE_ENDPOINT", &endpoint)
            .env("OA_GOOGLE_ACCESS_TOKEN", &token)
            .run()
    };
    let first = archive("gs://oa-validate-evidence/validation/runs");
    first
        .expect_code(0)
        .stdout_has("archived: gs://oa-validate-evidence/validation/runs/");
    let name = first
        .stdout
        .split("validation/runs/")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    archive("gs://oa-validate-evidence/validation/runs")
        .expect_code(0)
        .stdout_has("already archived: ");

    let encoded = |object: &str| object.replace('/', "%2F");
    let (status, index) = storage_get(
        &endpoint,
        &token,
        &format!(
            "/storage/v1/b/oa-validate-evidence/o/{}?alt=media",
            encoded("validation/runs/index.jsonl")
        ),
    );
    assert_eq!(status, 200);
    let index = String::from_utf8(index).unwrap();
    assert_eq!(index.lines().count(), 1, "{index}");
    let line: Value = serde_json::from_str(index.lines().next().unwrap()).unwrap();
    assert_eq!(line["archive"], name.as_str());
    let (status, bytes) = storage_get(
        &endpoint,
        &token,
        &format!(
            "/storage/v1/b/oa-validate-evidence/o/{}?alt=media",
            encoded(&format!("validation/runs/{name}"))
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(line["sha256"], hex::encode(Sha256::digest(&bytes)));
    // The same bytes as a local archive of the folder.
    let local = sb.path().join("local");
    sb.cmd()
        .arg("archive")
        .arg(sb.out("ev"))
        .arg("--to")
        .arg(&local)
        .run()
        .expect_code(0);
    assert_eq!(std::fs::read(local.join(&name)).unwrap(), bytes);

    // An upload cut short stores nothing.
    cut_short_upload(&endpoint, &token, "validation/runs/partial.tar.zst");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, _) = storage_get(
        &endpoint,
        &token,
        &format!(
            "/storage/v1/b/oa-validate-evidence/o/{}",
            encoded("validation/runs/partial.tar.zst")
        ),
    );
    assert_eq!(status, 404);

    // A bucket that does not exist, and no credentials: errors, the token never shown.
    let run = archive("gs://no-such-bucket/x");
    run.expect_code(2)
        .stderr_has("The specified bucket does not exist.");
    crate::common::assert_no_secret("stderr", run.stderr.as_bytes(), &token);
    sb.cmd()
        .arg("archive")
        .arg(sb.out("ev"))
        .args(["--to", "gs://oa-validate-evidence/x"])
        .env("OA_STORAGE_ENDPOINT", &endpoint)
        .run()
        .expect_code(2)
        .stderr_has("no Google credentials");
}
