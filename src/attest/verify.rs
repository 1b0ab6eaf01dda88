//! Checking an attestation against its evidence folder, which is untrusted input (read as
//! `report`, `diff` and `rerun` read it, [`crate::evidence::untrusted`]): the envelope, its
//! signature by the given key over DSSE's PAE, the statement's types, and that the folder is
//! the one it names: SHA256SUMS as sealed has the signed digest, every listed file matches
//! it, and nothing lies in the folder that it does not list.

use super::dsse::{self, Envelope};
use super::keys::PublicKey;
use super::statement::{EVIDENCE_SUBJECT, STATEMENT_TYPE, VSA_PREDICATE_TYPE};
use super::{ATTESTATION_FILE, sealed_digest};
use crate::evidence::{sums, untrusted};
use serde_json::Value;
use std::path::Path;

/// An attestation is a few KiB (one envelope); a cap keeps a stranger's file bounded.
const ATTESTATION_CAP: u64 = 4 * 1024 * 1024;

/// What a verified attestation proves.
#[derive(Debug)]
pub struct Verified {
    /// The verdict: the predicate's `verificationResult` is `PASSED`.
    pub passed: bool,
    /// The statement, as signed.
    pub statement: Value,
    /// The id of the key that verified.
    pub keyid: String,
    /// The evidence digest (hex).
    pub evidence_digest: String,
    /// How many files SHA256SUMS lists (all of which match).
    pub files: usize,
}

/// Verifies `dir`'s attestation with `key`; the error says why it proves nothing.
pub fn verify(dir: &Path, key: &PublicKey) -> Result<Verified, String> {
    let text = untrusted::read_to_string(dir, ATTESTATION_FILE, ATTESTATION_CAP).map_err(|e| {
        if e.is_not_found() {
            format!("no {ATTESTATION_FILE}: the run was not signed (--sign)")
        } else {
            format!("{ATTESTATION_FILE}: {e}")
        }
    })?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let [line] = lines[..] else {
        return Err(format!(
            "{ATTESTATION_FILE} holds {} envelopes; a run writes one",
            lines.len()
        ));
    };
    let envelope: Envelope = serde_json::from_str(line)
        .map_err(|e| format!("{ATTESTATION_FILE}: not a DSSE envelope: {e}"))?;
    if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "the envelope's payloadType is {:?}, not {:?}",
            envelope.payload_type,
            dsse::IN_TOTO_PAYLOAD_TYPE
        ));
    }
    let payload = envelope.payload_bytes()?;
    let pae = dsse::pae(&envelope.payload_type, &payload);
    let signed_by_key = envelope
        .signatures
        .iter()
        .filter_map(dsse::decode_signature)
        .any(|sig| key.verifies(&pae, &sig));
    if !signed_by_key {
        return Err(format!(
            "no signature verifies with the {} key {} (the envelope, its payload or the key \
             differs from what was signed)",
            key.algorithm.name(),
            key.keyid()
        ));
    }
    // Signed by the key: from here on the statement says what its signer meant.
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|e| format!("the signed payload is not JSON: {e}"))?;
    if statement["_type"] != STATEMENT_TYPE || statement["predicateType"] != VSA_PREDICATE_TYPE {
        return Err(format!(
            "the statement is not an in-toto Statement v1 with a SLSA verification summary \
             (_type {}, predicateType {})",
            statement["_type"], statement["predicateType"]
        ));
    }
    let passed = match statement["predicate"]["verificationResult"].as_str() {
        Some("PASSED") => true,
        Some("FAILED") => false,
        other => return Err(format!("the verificationResult is {other:?}")),
    };
    let signed_digest = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == EVIDENCE_SUBJECT)
        .and_then(|s| s["digest"]["sha256"].as_str())
        .ok_or_else(|| format!("the statement has no {EVIDENCE_SUBJECT} subject"))?
        .to_ascii_lowercase();

    let sums_text = untrusted::read_to_string(dir, sums::SUMS_FILE, untrusted::FILE_CAP)
        .map_err(|e| format!("{}: {e}", sums::SUMS_FILE))?;
    let evidence_digest = sealed_digest(&sums_text);
    if evidence_digest != signed_digest {
        return Err(format!(
            "SHA256SUMS is not the one the attestation signed (sha256:{evidence_digest}, \
             signed sha256:{signed_digest})"
        ));
    }
    let changed = sums::verify_sha256sums(dir).map_err(|e| e.to_string())?;
    if !changed.is_empty() {
        return Err(format!(
            "{} file(s) differ from SHA256SUMS: {}",
            changed.len(),
            shortlist(&changed)
        ));
    }
    let unlisted = sums::unlisted(dir).map_err(|e| e.to_string())?;
    if !unlisted.is_empty() {
        return Err(format!(
            "{} file(s) in the folder are not in SHA256SUMS (added since the run, or not \
             regular files): {}",
            unlisted.len(),
            shortlist(&unlisted)
        ));
    }
    Ok(Verified {
        passed,
        statement,
        keyid: key.keyid(),
        evidence_digest,
        files: sums_text.lines().filter(|l| !l.is_empty()).count(),
    })
}

/// The first few of `paths`, for a message.
fn shortlist(paths: &[String]) -> String {
    let mut text = paths
        .iter()
        .take(5)
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > 5 {
        text.push_str(", ...");
    }
    text
}
