//! `oa-validate archive`: an evidence folder as one deterministic `.tar.zst` — the files
//! SHA256SUMS lists and SHA256SUMS itself, sorted, with fixed owners, modes and times, so the
//! same folder always makes the same bytes — named by the run's time, verdict, phase and
//! evidence digest, and one JSON line per archive in an index beside it. The destination is a
//! folder ([`local`]) or Cloud Storage ([`gcs`]); archiving the same folder again finds its
//! archive and index line there and adds nothing.
//!
//! The folder is untrusted input: read through [`crate::evidence::untrusted`], and refused
//! unless its SHA256SUMS verifies (an archive vouches for what it holds).

pub mod gcs;
pub mod local;

use crate::evidence::{sums, untrusted};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The index file (or object) in the destination.
pub const INDEX_FILE: &str = "index.jsonl";
/// zstd level: a good ratio for text evidence without a long wait.
const ZSTD_LEVEL: i32 = 12;

/// One evidence folder, packed.
#[derive(Debug)]
pub struct Packed {
    /// `<timestamp>-<go|no-go>-<phase>-<digest 16>.tar.zst`.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The index line (without its newline).
    pub index_line: String,
}

/// Packs `dir`: verifies its SHA256SUMS, reads what it lists, and tars and compresses it.
pub fn pack(dir: &Path) -> Result<Packed, String> {
    let changed = sums::verify_sha256sums(dir).map_err(|e| e.to_string())?;
    if !changed.is_empty() {
        return Err(format!(
            "{}: SHA256SUMS does not verify ({} file(s) differ: {}); not archived",
            dir.display(),
            changed.len(),
            changed.join(", ")
        ));
    }
    let sums_text = untrusted::read_to_string(dir, sums::SUMS_FILE, untrusted::FILE_CAP)
        .map_err(|e| format!("{}/{}: {e}", dir.display(), sums::SUMS_FILE))?;
    let summary: Value = untrusted::read(dir, "summary.json", untrusted::SUMMARY_CAP)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| format!("{}: no readable summary.json", dir.display()))?;
    let run = &summary["run"];
    let timestamp = safe_word(run["timestamp"].as_str().unwrap_or("unknown-time"));
    let phase = safe_word(
        summary["verdict"]["phase"]
            .as_str()
            .unwrap_or("unknown-phase"),
    );
    let verdict = match summary["verdict"]["decision"].as_str() {
        Some("GO") => "go",
        _ => "no-go",
    };
    let evidence_digest = crate::attest::sealed_digest(&sums_text);
    let name = format!(
        "{timestamp}-{verdict}-{phase}-{}.tar.zst",
        &evidence_digest[..16]
    );
    let mtime = chrono::NaiveDateTime::parse_from_str(&timestamp, "%Y%m%dT%H%M%SZ")
        .map(|t| t.and_utc().timestamp().max(0) as u64)
        .unwrap_or(0);

    let mut files: Vec<String> = sums_text
        .lines()
        .filter_map(|line| line.get(66..))
        .map(str::to_string)
        .collect();
    files.push(sums::SUMS_FILE.to_string());
    files.sort();
    let tar = tar_of(dir, &files, mtime)?;
    let bytes = zstd::encode_all(&tar[..], ZSTD_LEVEL)
        .map_err(|e| format!("cannot compress the archive: {e}"))?;
    let index_line = json!({
        "archive": name,
        "sha256": hex::encode(Sha256::digest(&bytes)),
        "bytes": bytes.len(),
        "evidence_digest": evidence_digest,
        "timestamp": timestamp,
        "verdict": if verdict == "go" { "GO" } else { "NO-GO" },
        "phase": phase,
        "gate": summary["verdict"]["mode"] == "gate",
        "signed": sums_text.lines().any(|l| l.ends_with(&format!("  {}", crate::attest::ATTESTATION_FILE))),
        "tool": run["tool_version"],
    })
    .to_string();
    Ok(Packed {
        name,
        bytes,
        index_line,
    })
}

/// The tar of `files` (relative paths) under `dir`: regular files only, mode 0644, owner 0,
/// time `mtime`, in the order given.
fn tar_of(dir: &Path, files: &[String], mtime: u64) -> Result<Vec<u8>, String> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for rel in files {
        let bytes = untrusted::read(dir, rel, untrusted::FILE_CAP)
            .map_err(|e| format!("{}/{rel}: {e}", dir.display()))?;
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, rel, &bytes[..])
            .map_err(|e| format!("cannot archive {rel}: {e}"))?;
    }
    builder
        .into_inner()
        .map_err(|e| format!("cannot finish the archive: {e}"))
}

/// A summary field as part of a file name: letters, digits and `-` only.
fn safe_word(text: &str) -> String {
    let word: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    if word.is_empty() {
        "unknown".to_string()
    } else {
        word
    }
}

/// Whether `index` (the index's text) already has a line for archive `name`.
pub fn indexed(index: &str, name: &str) -> bool {
    index
        .lines()
        .any(|line| serde_json::from_str::<Value>(line).is_ok_and(|v| v["archive"] == name))
}

/// What `archive` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The archive was written and indexed.
    Archived,
    /// It was there already (and indexed, or now indexed): nothing else changed.
    AlreadyArchived,
}
