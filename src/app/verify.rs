//! `oa-validate verify DIR --key PUBKEY`: what a signed evidence folder proves. Exit 0 when
//! the attestation verifies and says PASSED (GO), 1 when it verifies and says FAILED (NO-GO),
//! 5 when it proves nothing ([`crate::attest::verify`] says why), 2 for a bad key or argument.

use super::sign;
use crate::attest::keys::PublicKey;
use crate::attest::{kms, verify};
use crate::config::{KeyRef, UsageError, VerifyConfig};
use crate::diagnostic::escape_controls;
use crate::exit_code;
use serde_json::Value;
use std::time::Duration;

pub fn verify(runtime: &tokio::runtime::Runtime, config: &VerifyConfig) -> Result<i32, UsageError> {
    let key = match &config.key {
        KeyRef::File(path) => PublicKey::read(path),
        KeyRef::Kms(name) => {
            sign::standalone_session(runtime, &config.env, Duration::from_secs(60), |session| {
                kms::public_key(session, name)
            })
        }
    }
    .map_err(|e| UsageError(format!("--key: {e}")))?;
    let shown = config.dir.display();
    let verified = match verify::verify(&config.dir, &key) {
        Ok(verified) => verified,
        Err(why) => {
            eprintln!(
                "{}",
                crate::diagnostic::for_terminal(&format!("NOT VERIFIED: {shown}: {why}"))
            );
            return Ok(exit_code::UNVERIFIED);
        }
    };
    let statement = &verified.statement;
    let predicate = &statement["predicate"];
    let text = |v: &Value| escape_controls(v.as_str().unwrap_or("-"));
    let (result, verdict) = if verified.passed {
        ("PASSED", "GO")
    } else {
        ("FAILED", "NO-GO")
    };
    println!(
        "VERIFIED: {shown}: {result} ({verdict}), signed by the {} key {}",
        key.algorithm.name(),
        verified.keyid
    );
    println!(
        "  evidence   sha256:{} (SHA256SUMS: {} files, all match, nothing else in the folder)",
        verified.evidence_digest, verified.files
    );
    let version = &predicate["verifier"]["version"];
    println!(
        "  verifier   {} {} (commit {})",
        text(&predicate["verifier"]["id"]),
        text(&version["oa-validate"]),
        text(&version["oa-validate-commit"])
    );
    println!("  verified   {}", text(&predicate["timeVerified"]));
    println!("  resource   {}", text(&predicate["resourceUri"]));
    let policy = &predicate["policy"];
    let annotations = &policy["annotations"];
    println!(
        "  policy     {} sha256:{} ({}) · phase {} · {}",
        text(&annotations["lock"]),
        text(&policy["digest"]["sha256"]),
        text(&annotations["lockStatus"]),
        text(&annotations["phase"]),
        if annotations["gate"] == true {
            "gate run"
        } else {
            "not a gate run"
        }
    );
    if let Some(levels) = predicate["verifiedLevels"].as_array()
        && !levels.is_empty()
    {
        let levels: Vec<String> = levels.iter().map(text).collect();
        println!("  levels     {}", levels.join(", "));
    }
    for subject in statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .skip(1)
    {
        println!(
            "  image      {}@sha256:{}",
            text(&subject["name"]),
            text(&subject["digest"]["sha256"])
        );
    }
    for failed in predicate["failedChecks"].as_array().into_iter().flatten() {
        println!("  failed     {}", text(failed));
    }
    Ok(if verified.passed {
        exit_code::GO
    } else {
        exit_code::NO_GO
    })
}
