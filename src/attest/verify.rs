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

/// Why an attestation proves nothing about its folder: what is wrong with the attestation
/// itself, or how the folder differs from what was signed.
#[derive(Debug, thiserror::Error)]
pub enum NotVerified {
    #[error("no {ATTESTATION_FILE}: the run was not signed (--sign)")]
    NotSigned,
    /// The attestation is not one envelope a run writes (unreadable, several, not DSSE).
    #[error("{0}")]
    Malformed(String),
    #[error(
        "no signature verifies with the {algorithm} key {keyid} (the envelope, its payload or the key differs from what was signed)"
    )]
    NotSignedByKey {
        algorithm: &'static str,
        keyid: String,
    },
    /// Signed by the key, but not a statement a run signs.
    #[error("{0}")]
    Statement(String),
    #[error(
        "SHA256SUMS is not the one the attestation signed (sha256:{found}, signed sha256:{signed})"
    )]
    SumsReplaced { found: String, signed: String },
    #[error("{}", files_differ(.0))]
    FilesDiffer(Vec<String>),
    #[error("{}", files_unlisted(.0))]
    FilesUnlisted(Vec<String>),
    /// SHA256SUMS or a file it lists cannot be read as the folder's own.
    #[error("{0}")]
    Unreadable(String),
}

fn files_differ(paths: &[String]) -> String {
    format!(
        "{} file(s) differ from SHA256SUMS: {}",
        paths.len(),
        shortlist(paths)
    )
}

fn files_unlisted(paths: &[String]) -> String {
    format!(
        "{} file(s) in the folder are not in SHA256SUMS (added since the run, or not regular \
         files): {}",
        paths.len(),
        shortlist(paths)
    )
}

/// Verifies `dir`'s attestation with `key`; the error says why it proves nothing.
pub fn verify(dir: &Path, key: &PublicKey) -> Result<Verified, NotVerified> {
    let text = untrusted::read_to_string(dir, ATTESTATION_FILE, ATTESTATION_CAP).map_err(|e| {
        if e.is_not_found() {
            NotVerified::NotSigned
        } else {
            NotVerified::Malformed(format!("{ATTESTATION_FILE}: {e}"))
        }
    })?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let [line] = lines[..] else {
        return Err(NotVerified::Malformed(format!(
            "{ATTESTATION_FILE} holds {} envelopes; a run writes one",
            lines.len()
        )));
    };
    let envelope: Envelope = serde_json::from_str(line).map_err(|e| {
        NotVerified::Malformed(format!("{ATTESTATION_FILE}: not a DSSE envelope: {e}"))
    })?;
    if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(NotVerified::Malformed(format!(
            "the envelope's payloadType is {:?}, not {:?}",
            envelope.payload_type,
            dsse::IN_TOTO_PAYLOAD_TYPE
        )));
    }
    let payload = envelope.payload_bytes().map_err(NotVerified::Malformed)?;
    let pae = dsse::pae(&envelope.payload_type, &payload);
    let signed_by_key = envelope
        .signatures
        .iter()
        .filter_map(dsse::decode_signature)
        .any(|sig| key.verifies(&pae, &sig));
    if !signed_by_key {
        return Err(NotVerified::NotSignedByKey {
            algorithm: key.algorithm.name(),
            keyid: key.keyid(),
        });
    }
    // Signed by the key: from here on the statement says what its signer meant.
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|e| NotVerified::Statement(format!("the signed payload is not JSON: {e}")))?;
    if statement["_type"] != STATEMENT_TYPE || statement["predicateType"] != VSA_PREDICATE_TYPE {
        return Err(NotVerified::Statement(format!(
            "the statement is not an in-toto Statement v1 with a SLSA verification summary \
             (_type {}, predicateType {})",
            statement["_type"], statement["predicateType"]
        )));
    }
    let passed = match statement["predicate"]["verificationResult"].as_str() {
        Some("PASSED") => true,
        Some("FAILED") => false,
        other => {
            return Err(NotVerified::Statement(format!(
                "the verificationResult is {other:?}"
            )));
        }
    };
    let signed_digest = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == EVIDENCE_SUBJECT)
        .and_then(|s| s["digest"]["sha256"].as_str())
        .ok_or_else(|| {
            NotVerified::Statement(format!("the statement has no {EVIDENCE_SUBJECT} subject"))
        })?
        .to_ascii_lowercase();

    let sums_text = untrusted::read_to_string(dir, sums::SUMS_FILE, untrusted::FILE_CAP)
        .map_err(|e| NotVerified::Unreadable(format!("{}: {e}", sums::SUMS_FILE)))?;
    let evidence_digest = sealed_digest(&sums_text);
    if evidence_digest != signed_digest {
        return Err(NotVerified::SumsReplaced {
            found: evidence_digest,
            signed: signed_digest,
        });
    }
    let changed =
        sums::verify_sha256sums(dir).map_err(|e| NotVerified::Unreadable(e.to_string()))?;
    if !changed.is_empty() {
        return Err(NotVerified::FilesDiffer(changed));
    }
    let unlisted = sums::unlisted(dir).map_err(|e| NotVerified::Unreadable(e.to_string()))?;
    if !unlisted.is_empty() {
        return Err(NotVerified::FilesUnlisted(unlisted));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::keys::LocalKey;
    use crate::attest::statement::{self, Facts};

    /// A sealed folder with one file, signed by a fresh Ed25519 key; the key's public half.
    fn signed_folder(dir: &Path) -> PublicKey {
        std::fs::write(dir.join("SUMMARY.md"), "# GO\n").unwrap();
        let evidence_digest = sums::write_sha256sums(dir).unwrap();
        let (key_file, _) = crate::attest::keys::tests::openssl_key(
            dir.parent().unwrap(),
            &["-algorithm", "ed25519"],
        );
        let key = LocalKey::read(&key_file).unwrap();
        let facts = Facts {
            evidence_digest,
            images: Vec::new(),
            passed: true,
            time_verified: "2026-12-07T00:00:00Z".to_string(),
            resource_uri: "http://127.0.0.1:1".to_string(),
            lock: "lanes/matrix.lock".to_string(),
            lock_sha256: None,
            lock_status: "matches".to_string(),
            phase: "app-surface".to_string(),
            gate: true,
            failed_checks: Vec::new(),
            tool_version: "0".to_string(),
            tool_commit: "0".to_string(),
        };
        crate::attest::write(dir, &statement::build(&facts), &key).unwrap();
        key.public_key().clone()
    }

    #[test]
    fn each_way_a_folder_differs_from_what_was_signed_is_its_own_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ev");
        std::fs::create_dir(&dir).unwrap();
        let key = signed_folder(&dir);
        assert!(verify(&dir, &key).unwrap().passed);

        std::fs::write(dir.join("SUMMARY.md"), "# NO-GO\n").unwrap();
        let err = verify(&dir, &key).unwrap_err();
        assert!(
            matches!(&err, NotVerified::FilesDiffer(files) if files == &["SUMMARY.md"]),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "1 file(s) differ from SHA256SUMS: \"SUMMARY.md\""
        );

        std::fs::write(dir.join("SUMMARY.md"), "# GO\n").unwrap();
        std::fs::write(dir.join("added.txt"), "x").unwrap();
        let err = verify(&dir, &key).unwrap_err();
        assert!(matches!(&err, NotVerified::FilesUnlisted(files) if files == &["added.txt"]));
        std::fs::remove_file(dir.join("added.txt")).unwrap();

        // Resealing the changed folder gives SHA256SUMS another digest than the signed one.
        std::fs::write(dir.join("SUMMARY.md"), "# NO-GO\n").unwrap();
        sums::write_sha256sums(&dir).unwrap();
        let err = verify(&dir, &key).unwrap_err();
        assert!(matches!(err, NotVerified::SumsReplaced { .. }), "{err}");

        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let other_key = signed_folder(&other);
        let err = verify(&dir, &other_key).unwrap_err();
        assert!(matches!(err, NotVerified::NotSignedByKey { .. }), "{err}");

        std::fs::remove_file(dir.join(ATTESTATION_FILE)).unwrap();
        let err = verify(&dir, &key).unwrap_err();
        assert!(matches!(err, NotVerified::NotSigned), "{err}");
    }
}
