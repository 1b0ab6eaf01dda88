//! Signed evidence (issue 24): `--sign` writes a DSSE-signed in-toto SLSA verification
//! summary, which openssl — an implementation other than ours — verifies over DSSE's PAE, and
//! which `oa-validate verify` refuses once the folder, the key or the statement changed.

use crate::common::{Run, Sandbox, sha256sum_verifies};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSING_LANE: &str = r#"required("ok", || { assert(true, "true"); });"#;
const FAILING_LANE: &str = r#"required("broken", || { assert(false, "the service is down"); });"#;

/// openssl's key generation arguments for the two algorithms.
const ED25519: &[&str] = &["-algorithm", "ed25519"];
const P256: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

fn openssl(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs")
}

/// A key pair made by openssl in `sb`: `(private PEM, public PEM)`.
pub(crate) fn key_pair(sb: &Sandbox, name: &str, algorithm: &[&str]) -> (PathBuf, PathBuf) {
    let private = sb.path().join(format!("{name}.pem"));
    let public = sb.path().join(format!("{name}.pub.pem"));
    let status = Command::new("openssl")
        .arg("genpkey")
        .args(algorithm)
        .arg("-out")
        .arg(&private)
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let out = openssl(&[
        "pkey".as_ref(),
        "-pubout".as_ref(),
        "-in".as_ref(),
        private.as_os_str(),
        "-out".as_ref(),
        public.as_os_str(),
    ]);
    assert!(out.status.success());
    (private, public)
}

pub(crate) fn signed_run(sb: &Sandbox, lane: &str, out: &str, key: &Path) -> Run {
    sb.write("lane.rhai", lane);
    sb.cmd()
        .arg("lane.rhai")
        .out(&sb.out(out))
        .arg("--sign")
        .arg(key)
        .run()
}

fn verify(sb: &Sandbox, out: &str, key: &Path) -> Run {
    sb.cmd()
        .arg("verify")
        .arg(sb.out(out))
        .arg("--key")
        .arg(key)
        .run()
}

fn envelope(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("attestation.intoto.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn statement(envelope: &Value) -> Value {
    let payload = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// DSSE's pre-authentication encoding, written here from the specification (not ours).
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// What the envelope's first signature signed (the PAE of its in-toto payload) and the
/// signature itself.
fn signed_message(envelope: &Value) -> (Vec<u8>, Vec<u8>) {
    let payload = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let sig = STANDARD
        .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    (pae("application/vnd.in-toto+json", &payload), sig)
}

/// openssl's verdict on `sig` over `message` with the public key file `public`.
fn openssl_verifies(
    sb: &Sandbox,
    public: &Path,
    ed25519: bool,
    message: &[u8],
    sig: &[u8],
) -> bool {
    let message_path = sb.path().join("pae.bin");
    let sig_path = sb.path().join("sig.bin");
    std::fs::write(&message_path, message).unwrap();
    std::fs::write(&sig_path, sig).unwrap();
    let out = if ed25519 {
        openssl(&[
            "pkeyutl".as_ref(),
            "-verify".as_ref(),
            "-pubin".as_ref(),
            "-inkey".as_ref(),
            public.as_os_str(),
            "-rawin".as_ref(),
            "-in".as_ref(),
            message_path.as_os_str(),
            "-sigfile".as_ref(),
            sig_path.as_os_str(),
        ])
    } else {
        openssl(&[
            "dgst".as_ref(),
            "-sha256".as_ref(),
            "-verify".as_ref(),
            public.as_os_str(),
            "-signature".as_ref(),
            sig_path.as_os_str(),
            message_path.as_os_str(),
        ])
    };
    let said = String::from_utf8_lossy(&out.stdout);
    out.status.success() && said.contains("Verified")
}

#[test]
fn openssl_verifies_the_dsse_signature_of_a_signed_go_and_verify_proves_it_passed() {
    for (name, algorithm) in [("ed25519", ED25519), ("p256", P256)] {
        let sb = Sandbox::new();
        let (private, public) = key_pair(&sb, name, algorithm);
        let run = signed_run(&sb, PASSING_LANE, "ev", &private);
        run.expect_code(0).stdout_has("Attestation: ");
        let dir = sb.out("ev");

        let envelope = envelope(&dir);
        assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
        let (message, sig) = signed_message(&envelope);
        assert!(
            openssl_verifies(&sb, &public, name == "ed25519", &message, &sig),
            "{name}: openssl does not verify the envelope"
        );
        // The check can fail: one byte of the statement changed, openssl refuses.
        let mut edited = message.clone();
        *edited.last_mut().unwrap() ^= 1;
        assert!(!openssl_verifies(
            &sb,
            &public,
            name == "ed25519",
            &edited,
            &sig
        ));

        // The key id is the SHA-256 of the public key's DER, as openssl writes it.
        let der = openssl(&[
            "pkey".as_ref(),
            "-pubin".as_ref(),
            "-outform".as_ref(),
            "DER".as_ref(),
            "-in".as_ref(),
            public.as_os_str(),
        ])
        .stdout;
        assert_eq!(
            envelope["signatures"][0]["keyid"],
            hex::encode(Sha256::digest(der))
        );

        let statement = statement(&envelope);
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(
            statement["predicateType"],
            "https://slsa.dev/verification_summary/v1"
        );
        // The evidence subject: SHA256SUMS as sealed, which the run printed; the attestation
        // itself is listed in SHA256SUMS afterwards, and `sha256sum -c` covers it.
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
        assert!(sums.contains("  attestation.intoto.jsonl\n"), "{sums}");
        let sealed: String = sums
            .lines()
            .filter(|l| !l.ends_with("  attestation.intoto.jsonl"))
            .map(|l| format!("{l}\n"))
            .collect();
        let digest = hex::encode(Sha256::digest(sealed.as_bytes()));
        assert_eq!(statement["subject"][0]["name"], "SHA256SUMS");
        assert_eq!(statement["subject"][0]["digest"]["sha256"], digest);
        run.stdout_has(&format!("Evidence digest: {digest}"));
        assert!(sha256sum_verifies(&dir));
        let predicate = &statement["predicate"];
        assert_eq!(predicate["verificationResult"], "PASSED");
        assert_eq!(predicate["policy"]["annotations"]["phase"], "app-surface");
        assert_eq!(
            predicate["verifier"]["version"]["oa-validate"],
            env!("CARGO_PKG_VERSION")
        );
        assert!(
            predicate["policy"]["digest"]["sha256"]
                .as_str()
                .unwrap()
                .len()
                == 64
        );

        verify(&sb, "ev", &public)
            .expect_code(0)
            .stdout_has("VERIFIED: ")
            .stdout_has("PASSED (GO)")
            .stdout_has(&format!("evidence   sha256:{digest}"));
        // The private key is in no file of the folder.
        let key_body: String = std::fs::read_to_string(&private)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        for file in sb.evidence("ev").files() {
            crate::common::assert_no_secret(
                &file,
                &std::fs::read(dir.join(&file)).unwrap(),
                &key_body,
            );
        }
    }
}

#[test]
fn a_no_go_is_signed_failed_and_verify_exits_1_naming_the_failed_check() {
    let sb = Sandbox::new();
    let (private, public) = key_pair(&sb, "k", ED25519);
    // The key from the environment, as CI passes it.
    sb.write("lane.rhai", FAILING_LANE);
    sb.cmd()
        .arg("lane.rhai")
        .out(&sb.out("ev"))
        .env("OA_SIGNING_KEY", &private)
        .run()
        .expect_code(1);
    let statement = statement(&envelope(&sb.out("ev")));
    assert_eq!(statement["predicate"]["verificationResult"], "FAILED");
    assert_eq!(statement["predicate"]["verifiedLevels"][0], "FAILED");
    verify(&sb, "ev", &public)
        .expect_code(1)
        .stdout_has("FAILED (NO-GO)")
        .stdout_has("failed     broken failed");
}

#[test]
fn a_tampered_folder_a_swapped_key_and_an_edited_predicate_each_fail_verification() {
    let sb = Sandbox::new();
    let (private, public) = key_pair(&sb, "k", ED25519);
    let (other_private, other_public) = key_pair(&sb, "other", P256);
    signed_run(&sb, FAILING_LANE, "ev", &private).expect_code(1);
    verify(&sb, "ev", &public).expect_code(1);
    let copy = |name: &str| {
        let to = sb.out(name);
        let ok = Command::new("cp")
            .arg("-r")
            .arg(sb.out("ev"))
            .arg(&to)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        to
    };

    // A file changed.
    let dir = copy("tampered");
    std::fs::write(dir.join("logs/broken.log"), "all good\n").unwrap();
    verify(&sb, "tampered", &public)
        .expect_code(5)
        .stderr_has("NOT VERIFIED")
        .stderr_has("differ from SHA256SUMS: \"logs/broken.log\"");

    // A file changed and SHA256SUMS recomputed to match, as anyone can.
    let dir = copy("resealed");
    std::fs::write(dir.join("logs/broken.log"), "all good\n").unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let resealed: String = sums
        .lines()
        .map(|l| {
            if l.ends_with("  logs/broken.log") {
                format!(
                    "{}  logs/broken.log\n",
                    hex::encode(Sha256::digest(b"all good\n"))
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), resealed).unwrap();
    verify(&sb, "resealed", &public)
        .expect_code(5)
        .stderr_has("SHA256SUMS is not the one the attestation signed");

    // A file added.
    let dir = copy("added");
    std::fs::write(dir.join("APPROVED.md"), "GO\n").unwrap();
    verify(&sb, "added", &public)
        .expect_code(5)
        .stderr_has("not in SHA256SUMS")
        .stderr_has("APPROVED.md");

    // Another key.
    verify(&sb, "ev", &other_public)
        .expect_code(5)
        .stderr_has("no signature verifies with the ecdsa-p256-sha256 key");

    // The predicate edited to PASSED: the old signature no longer covers it, and a signature
    // by the editor's own key is not the signer's.
    let dir = copy("edited");
    let mut envelope = envelope(&dir);
    let mut statement = statement(&envelope);
    statement["predicate"]["verificationResult"] = "PASSED".into();
    let payload = serde_json::to_vec(&statement).unwrap();
    envelope["payload"] = STANDARD.encode(&payload).into();
    let write_envelope = |envelope: &Value| {
        std::fs::write(
            dir.join("attestation.intoto.jsonl"),
            format!("{}\n", serde_json::to_string(envelope).unwrap()),
        )
        .unwrap();
    };
    write_envelope(&envelope);
    verify(&sb, "edited", &public)
        .expect_code(5)
        .stderr_has("no signature verifies with the ed25519 key");
    let message = pae("application/vnd.in-toto+json", &payload);
    std::fs::write(sb.path().join("edited.bin"), &message).unwrap();
    let sig = openssl(&[
        "dgst".as_ref(),
        "-sha256".as_ref(),
        "-sign".as_ref(),
        other_private.as_os_str(),
        sb.path().join("edited.bin").as_os_str(),
    ])
    .stdout;
    envelope["signatures"][0]["sig"] = STANDARD.encode(&sig).into();
    write_envelope(&envelope);
    assert!(openssl_verifies(&sb, &other_public, false, &message, &sig));
    verify(&sb, "edited", &other_public).expect_code(5);
    verify(&sb, "edited", &public)
        .expect_code(5)
        .stderr_has("no signature verifies");

    // No attestation at all.
    let dir = copy("unsigned");
    std::fs::remove_file(dir.join("attestation.intoto.jsonl")).unwrap();
    verify(&sb, "unsigned", &public)
        .expect_code(5)
        .stderr_has("the run was not signed");
}

#[test]
fn a_bad_signing_key_fails_the_run_before_it_starts_without_showing_the_key() {
    let sb = Sandbox::new();
    sb.write("lane.rhai", PASSING_LANE);
    let (_, public) = key_pair(&sb, "k", ED25519);
    let not_a_key = sb.write("secret.pem", "hunter2-not-a-key\n");
    for (key, said) in [
        (not_a_key.as_path(), "secret.pem: not a PEM file"),
        (
            public.as_path(),
            "\"PUBLIC KEY\" PEM block; expected an unencrypted PKCS#8",
        ),
    ] {
        let run = sb
            .cmd()
            .arg("lane.rhai")
            .out(&sb.out("ev"))
            .arg("--sign")
            .arg(key)
            .run();
        run.expect_code(2).stderr_has(said);
        assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
        assert!(!sb.out("ev").exists(), "the run started");
    }
    sb.cmd()
        .args(["verify", "nowhere"])
        .run()
        .expect_code(2)
        .stderr_has("--key PUBKEY");
}

/// `GET url` with a bearer token over a plain loopback connection: the body (a test's own
/// client, so the check does not rest on oa-validate's).
fn get_with_bearer(url: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

const KMS_KEY_RING: &str =
    "projects/openagentsgemini/locations/us-central1/keyRings/oa-validate/cryptoKeys";

#[test]
fn a_cloud_kms_key_version_signs_through_the_sims_kms_and_openssl_verifies_it() {
    let sb = Sandbox::new();
    let (_sim, exports) = crate::common::sim_exports(&sb, &[]);
    let endpoint = exports["OA_KMS_ENDPOINT"].clone();
    let token = exports["OA_GOOGLE_ACCESS_TOKEN"].clone();
    sb.write("lane.rhai", PASSING_LANE);
    for (key, ed25519) in [("attestation-p256", false), ("attestation-ed25519", true)] {
        let name = format!("{KMS_KEY_RING}/{key}/cryptoKeyVersions/1");
        let out = format!("ev-{key}");
        let run = sb
            .cmd()
            .arg("lane.rhai")
            .out(&sb.out(&out))
            .args(["--sign", &name])
            .env("OA_KMS_ENDPOINT", &endpoint)
            .env("OA_GOOGLE_ACCESS_TOKEN", &token)
            .run();
        run.expect_code(0)
            .stdout_has(&format!("(signed, key gcpkms://{name})"));
        let dir = sb.out(&out);
        let envelope = envelope(&dir);
        assert_eq!(
            envelope["signatures"][0]["keyid"],
            format!("gcpkms://{name}")
        );

        // openssl verifies with the public key the KMS API hands out.
        let answer: Value = serde_json::from_str(&get_with_bearer(
            &format!("{endpoint}/v1/{name}/publicKey"),
            &token,
        ))
        .unwrap();
        let public = sb.path().join(format!("{key}.pub.pem"));
        std::fs::write(&public, answer["pem"].as_str().unwrap()).unwrap();
        let (message, sig) = signed_message(&envelope);
        assert!(
            openssl_verifies(&sb, &public, ed25519, &message, &sig),
            "{key}"
        );

        // verify fetches the public key by the key version's name, or reads the PEM.
        sb.cmd()
            .args([
                "verify".as_ref(),
                dir.as_os_str(),
                "--key".as_ref(),
                name.as_ref(),
            ])
            .env("OA_KMS_ENDPOINT", &endpoint)
            .env("OA_GOOGLE_ACCESS_TOKEN", &token)
            .run()
            .expect_code(0)
            .stdout_has("PASSED (GO)");
        verify(&sb, &out, &public).expect_code(0);
        for (place, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            crate::common::assert_no_secret(place, text.as_bytes(), &token);
        }
        for file in sb.evidence(&out).files() {
            crate::common::assert_no_secret(
                &file,
                &std::fs::read(dir.join(&file)).unwrap(),
                &token,
            );
        }
    }

    // A key version the KMS does not have, and no credentials: the run does not start.
    let missing = format!("{KMS_KEY_RING}/nope/cryptoKeyVersions/1");
    sb.cmd()
        .arg("lane.rhai")
        .out(&sb.out("missing"))
        .args(["--sign", &missing])
        .env("OA_KMS_ENDPOINT", &endpoint)
        .env("OA_GOOGLE_ACCESS_TOKEN", &token)
        .run()
        .expect_code(2)
        .stderr_has("NOT_FOUND: CryptoKeyVersion");
    sb.cmd()
        .arg("lane.rhai")
        .out(&sb.out("no-credentials"))
        .args([
            "--sign",
            &format!("{KMS_KEY_RING}/attestation-p256/cryptoKeyVersions/1"),
        ])
        .env("OA_KMS_ENDPOINT", &endpoint)
        .run()
        .expect_code(2)
        .stderr_has("no Google credentials");
    assert!(!sb.out("missing").exists() && !sb.out("no-credentials").exists());
}
