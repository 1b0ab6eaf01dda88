//! The in-toto Statement v1 an attestation signs, with SLSA's Verification Summary
//! Attestation (VSA v1) as its predicate: which verifier checked which resource against which
//! policy, when, and whether it PASSED.
//!
//! Subjects: the evidence folder, by its digest (the SHA-256 of SHA256SUMS as the run sealed
//! it, before the attestation's own line was added), and the container images the run saw
//! deployed (`images.json` evidence of checks that passed), by their `sha256` digests.

use serde_json::{Value, json};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const VSA_PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The subject naming the evidence folder.
pub const EVIDENCE_SUBJECT: &str = "SHA256SUMS";
/// The verifier's id (a URI naming the tool; its version and commit are in `version`).
pub const VERIFIER_ID: &str = "https://github.com/OpenAgentsInc/openagents/oa-validate";
/// The level a GO of a `--gate` run verifies (a custom level: SLSA_ names are SLSA's own).
pub const GATE_LEVEL: &str = "OA_VALIDATE_GATE_GO";

/// What a run knows and the statement says.
#[derive(Debug, Clone)]
pub struct Facts {
    /// SHA-256 (hex) of SHA256SUMS as sealed.
    pub evidence_digest: String,
    /// `(name, sha256 hex)` of each deployed image seen.
    pub images: Vec<(String, String)>,
    /// GO.
    pub passed: bool,
    /// RFC 3339, when the verdict was reached.
    pub time_verified: String,
    /// What was verified: the deployment's URL.
    pub resource_uri: String,
    /// The matrix lock as named (`lanes/matrix.lock (built in)`) and its SHA-256.
    pub lock: String,
    pub lock_sha256: Option<String>,
    /// Whether the matrix matched its lock.
    pub lock_status: String,
    pub phase: String,
    /// A `--gate` run.
    pub gate: bool,
    /// The required checks that did not pass, one line each.
    pub failed_checks: Vec<String>,
    pub tool_version: String,
    pub tool_commit: String,
}

/// The Statement as JSON (keys in a fixed order).
pub fn build(facts: &Facts) -> Value {
    let mut subjects = vec![json!({
        "name": EVIDENCE_SUBJECT,
        "digest": { "sha256": facts.evidence_digest },
    })];
    subjects.extend(
        facts
            .images
            .iter()
            .map(|(name, digest)| json!({ "name": name, "digest": { "sha256": digest } })),
    );
    let mut policy = json!({
        "uri": format!(
            "oa-validate:matrix?lock={}&phase={}&gate={}",
            percent_encoding::utf8_percent_encode(&facts.lock, QUERY_VALUE),
            facts.phase,
            facts.gate
        ),
        "annotations": {
            "lock": facts.lock,
            "lockStatus": facts.lock_status,
            "phase": facts.phase,
            "gate": facts.gate,
        },
    });
    if let Some(digest) = &facts.lock_sha256 {
        policy["digest"] = json!({ "sha256": digest });
    }
    let verified_levels: Vec<&str> = match (facts.passed, facts.gate) {
        (true, true) => vec![GATE_LEVEL],
        (true, false) => vec![],
        (false, _) => vec!["FAILED"],
    };
    json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": VSA_PREDICATE_TYPE,
        "predicate": {
            "verifier": {
                "id": VERIFIER_ID,
                "version": {
                    "oa-validate": facts.tool_version,
                    "oa-validate-commit": facts.tool_commit,
                },
            },
            "timeVerified": facts.time_verified,
            "resourceUri": facts.resource_uri,
            "policy": policy,
            "inputAttestations": [],
            "verificationResult": if facts.passed { "PASSED" } else { "FAILED" },
            "verifiedLevels": verified_levels,
            "slsaVersion": "1.0",
            // Not a VSA field (consumers ignore fields they do not know): why it FAILED.
            "failedChecks": facts.failed_checks,
        },
    })
}

/// Characters escaped in a query value.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'/');

/// The images named in an `images.json` evidence file (`{"service": IMAGE, "job": IMAGE}`, any
/// string values): each `name@sha256:<64 hex>` as `(name, hex)`; a tag without a digest
/// names no content and is left out.
pub fn images_in(json: &Value) -> Vec<(String, String)> {
    let mut images: Vec<(String, String)> = match json {
        Value::Object(map) => map.values().filter_map(Value::as_str).collect::<Vec<_>>(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter_map(|image| {
        let (name, digest) = image.split_once("@sha256:")?;
        let ok = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| (name.to_string(), digest.to_ascii_lowercase()))
    })
    .collect();
    images.sort();
    images.dedup();
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(passed: bool, gate: bool) -> Facts {
        Facts {
            evidence_digest: "a".repeat(64),
            images: vec![("europe-docker.pkg.dev/p/r/runtime".into(), "7".repeat(64))],
            passed,
            time_verified: "2026-12-06T21:00:00Z".into(),
            resource_uri: "https://openagents.com".into(),
            lock: "lanes/matrix.lock (built in)".into(),
            lock_sha256: Some("b".repeat(64)),
            lock_status: "matches".into(),
            phase: "app-surface".into(),
            gate,
            failed_checks: if passed {
                vec![]
            } else {
                vec!["x: failed".into()]
            },
            tool_version: "0.1.0".into(),
            tool_commit: "abc".into(),
        }
    }

    #[test]
    fn a_go_of_a_gate_run_is_a_passed_vsa_over_the_evidence_and_the_images() {
        let s = build(&facts(true, true));
        assert_eq!(s["_type"], STATEMENT_TYPE);
        assert_eq!(s["predicateType"], VSA_PREDICATE_TYPE);
        assert_eq!(s["subject"][0]["name"], "SHA256SUMS");
        assert_eq!(s["subject"][0]["digest"]["sha256"], "a".repeat(64));
        assert_eq!(s["subject"][1]["name"], "europe-docker.pkg.dev/p/r/runtime");
        let p = &s["predicate"];
        assert_eq!(p["verificationResult"], "PASSED");
        assert_eq!(p["verifiedLevels"], json!([GATE_LEVEL]));
        assert_eq!(p["policy"]["digest"]["sha256"], "b".repeat(64));
        assert_eq!(
            p["policy"]["uri"],
            "oa-validate:matrix?lock=lanes/matrix.lock%20%28built%20in%29&phase=app-surface&gate=true"
        );
        assert_eq!(p["verifier"]["version"]["oa-validate"], "0.1.0");
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["_type", "subject", "predicateType", "predicate"]);
    }

    #[test]
    fn a_no_go_is_failed_and_names_the_failed_checks() {
        let p = build(&facts(false, true))["predicate"].clone();
        assert_eq!(p["verificationResult"], "FAILED");
        assert_eq!(p["verifiedLevels"], json!(["FAILED"]));
        assert_eq!(p["failedChecks"], json!(["x: failed"]));
        let p = build(&facts(true, false))["predicate"].clone();
        assert_eq!(p["verifiedLevels"], json!([]));
    }

    #[test]
    fn only_images_pinned_by_digest_are_subjects() {
        let d = "C".repeat(64);
        let images = images_in(&json!({
            "service": format!("r/app@sha256:{d}"),
            "job": format!("r/app@sha256:{d}"),
            "tagged": "r/app:latest",
            "short": "r/app@sha256:abc",
            "n": 3,
        }));
        assert_eq!(images, [("r/app".to_string(), "c".repeat(64))]);
    }
}
