//! Evidence that proves itself: a run signed with `--sign` writes `attestation.intoto.jsonl`
//! into its evidence folder, a DSSE envelope ([`dsse`]) over an in-toto Statement whose
//! predicate is a SLSA Verification Summary ([`statement`]), signed by a local key or a
//! Cloud KMS key version ([`keys`], [`kms`]); `oa-validate verify` checks it ([`verify`]).
//!
//! The evidence digest the statement names is the SHA-256 of SHA256SUMS as the run sealed it:
//! the attestation is written after, and its own line is then added to SHA256SUMS (so
//! `sha256sum -c` covers it too); [`sealed_digest`] removes that line again to recompute it.
//! No Rhai here: this module sees files, keys and JSON.

pub mod dsse;
pub mod keys;
pub mod kms;
pub mod statement;
pub mod verify;

use crate::evidence::{sums, write::atomic_write};
use keys::Signer;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The attestation's file name in an evidence folder.
pub const ATTESTATION_FILE: &str = "attestation.intoto.jsonl";

/// Signs `statement` with `signer` and writes it as `dir/attestation.intoto.jsonl` (one
/// envelope, one line), then lists it in `dir/SHA256SUMS`.
pub fn write(dir: &Path, statement: &serde_json::Value, signer: &dyn Signer) -> Result<(), String> {
    let payload = serde_json::to_vec(statement).expect("a JSON value serializes");
    let envelope = dsse::Envelope::sign(
        dsse::IN_TOTO_PAYLOAD_TYPE,
        &payload,
        &signer.keyid(),
        |pae| signer.sign(pae),
    )?;
    let mut line = serde_json::to_string(&envelope).expect("an envelope serializes");
    line.push('\n');
    atomic_write(&dir.join(ATTESTATION_FILE), line.as_bytes())
        .and_then(|()| sums::replace_entry(dir, ATTESTATION_FILE))
        .map_err(|e| format!("cannot write {ATTESTATION_FILE}: {e}"))
}

/// The evidence digest from SHA256SUMS's text: the SHA-256 of every line but the
/// attestation's own (lowercase hex), i.e. of SHA256SUMS as it was before the attestation.
pub fn sealed_digest(sums_text: &str) -> String {
    let own_line_end = format!("  {ATTESTATION_FILE}");
    let sealed: String = sums_text
        .split_inclusive('\n')
        .filter(|line| {
            let line = line.trim_end_matches('\n');
            !(line.len() == 64 + own_line_end.len() && line.ends_with(&own_line_end))
        })
        .collect();
    hex::encode(Sha256::digest(sealed.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sealed_digest_ignores_only_the_attestations_own_line() {
        let a = format!("{}  a.txt\n", "1".repeat(64));
        let own = format!("{}  {ATTESTATION_FILE}\n", "2".repeat(64));
        let nested = format!("{}  x/{ATTESTATION_FILE}\n", "3".repeat(64));
        let plain = hex::encode(Sha256::digest(a.as_bytes()));
        assert_eq!(sealed_digest(&a), plain);
        assert_eq!(sealed_digest(&format!("{a}{own}")), plain);
        assert_ne!(sealed_digest(&format!("{a}{nested}")), plain);
    }
}
