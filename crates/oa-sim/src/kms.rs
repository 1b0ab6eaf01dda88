//! The Cloud KMS API v1 subset a release gate signs with: `GET {name}/publicKey` and
//! `POST {name}:asymmetricSign` on asymmetric key versions, in Google's JSON shapes (base64
//! bytes, CRC32C checksums as decimal strings, the Google error envelope), behind the same
//! bearer token as the other simulated Google APIs.
//!
//! Keys (generated at start, never leaving the sim): in `projects/{project}/locations/{region}/
//! keyRings/oa-validate`, `cryptoKeys/attestation-p256` (EC_SIGN_P256_SHA256: the request
//! carries the SHA-256 digest, as Google requires) and `cryptoKeys/attestation-ed25519`
//! (EC_SIGN_ED25519: the request carries the data), each at `cryptoKeyVersions/1`.

use super::cloudrun::{GcpNames, GoogleState, google_error};
use super::routes::{Routes, SimRoute};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::pkcs8::{EncodePublicKey, LineEnding};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use std::sync::Arc;

/// The key ring the sim serves.
pub const KEY_RING: &str = "oa-validate";
pub const P256_KEY: &str = "attestation-p256";
pub const ED25519_KEY: &str = "attestation-ed25519";

pub(super) struct KmsState {
    google: Arc<GoogleState>,
    p256: p256::ecdsa::SigningKey,
    ed25519: Ed25519KeyPair,
}

impl KmsState {
    pub(super) fn new(google: Arc<GoogleState>) -> KmsState {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .expect("the system random source works");
        KmsState {
            google,
            p256: p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng),
            ed25519: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a fresh key parses"),
        }
    }
}

/// The full name of one of the sim's key versions.
pub fn key_version_name(names: &GcpNames, key: &str) -> String {
    format!(
        "projects/{}/locations/{}/keyRings/{KEY_RING}/cryptoKeys/{key}/cryptoKeyVersions/1",
        names.project, names.region
    )
}

type Shared = State<Arc<KmsState>>;

fn routes() -> Routes<Arc<KmsState>> {
    let version = "/v1/projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}/cryptoKeyVersions/{version}";
    // `{version}` is `1:asymmetricSign` on the POST: Google's custom verbs follow a colon in
    // the last segment, which the router hands over whole.
    Routes::new("kms")
        .get(&format!("{version}/publicKey"), public_key)
        .post(version, asymmetric_sign)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router(state: Arc<KmsState>) -> Router {
    super::cloudrun::google_router(routes(), state)
}

#[derive(Clone, Copy)]
enum Algorithm {
    P256,
    Ed25519,
}

/// The key version named by the path, or Google's 404 (boxed: a response is large).
fn find(st: &KmsState, segments: &[&str; 5]) -> Result<(String, Algorithm), Box<Response>> {
    let [project, location, ring, key, version] = *segments;
    let name = format!(
        "projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}/cryptoKeyVersions/{version}"
    );
    let names = &st.google.names;
    let algorithm = match key {
        P256_KEY => Algorithm::P256,
        ED25519_KEY => Algorithm::Ed25519,
        _ => return Err(Box::new(not_found(&name))),
    };
    if name != key_version_name(names, key) {
        return Err(Box::new(not_found(&name)));
    }
    Ok((name, algorithm))
}

fn not_found(name: &str) -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("CryptoKeyVersion {name} not found."),
    )
}

fn invalid(message: &str) -> Response {
    google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

async fn public_key(
    State(st): Shared,
    headers: HeaderMap,
    Path((project, location, ring, key, version)): Path<(String, String, String, String, String)>,
) -> Response {
    if let Some(refused) = st.google.refusal(&headers) {
        return refused;
    }
    let (name, algorithm) = match find(&st, &[&project, &location, &ring, &key, &version]) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let (pem, algorithm) = match algorithm {
        Algorithm::P256 => (
            st.p256
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("a P-256 public key encodes"),
            "EC_SIGN_P256_SHA256",
        ),
        Algorithm::Ed25519 => (
            ed25519_pem(st.ed25519.public_key().as_ref()),
            "EC_SIGN_ED25519",
        ),
    };
    Json(json!({
        "pem": pem,
        "algorithm": algorithm,
        "pemCrc32c": crc32c(pem.as_bytes()).to_string(),
        "name": name,
        "protectionLevel": "SOFTWARE",
    }))
    .into_response()
}

async fn asymmetric_sign(
    State(st): Shared,
    headers: HeaderMap,
    Path((project, location, ring, key, version)): Path<(String, String, String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = st.google.refusal(&headers) {
        return refused;
    }
    let Some(version) = version.strip_suffix(":asymmetricSign") else {
        return google_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested URL was not found.",
        );
    };
    let (name, algorithm) = match find(&st, &[&project, &location, &ring, &key, version]) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received.");
    };
    let bytes = |field: &Value| field.as_str().and_then(|s| STANDARD.decode(s).ok());
    let signature = match algorithm {
        Algorithm::P256 => {
            let Some(digest) = bytes(&request["digest"]["sha256"]).filter(|d| d.len() == 32) else {
                return invalid(
                    "The request digest must be a 32-byte SHA-256 digest for algorithm EC_SIGN_P256_SHA256.",
                );
            };
            let signature: p256::ecdsa::Signature = match st.p256.sign_prehash(&digest) {
                Ok(signature) => signature,
                Err(_) => return invalid("The digest cannot be signed."),
            };
            signature.to_der().as_bytes().to_vec()
        }
        Algorithm::Ed25519 => {
            let Some(data) = bytes(&request["data"]) else {
                return invalid("Data must be provided for algorithm EC_SIGN_ED25519.");
            };
            st.ed25519.sign(&data).as_ref().to_vec()
        }
    };
    Json(json!({
        "signature": STANDARD.encode(&signature),
        "signatureCrc32c": crc32c(&signature).to_string(),
        "verifiedDigestCrc32c": false,
        "name": name,
        "verifiedDataCrc32c": false,
        "protectionLevel": "SOFTWARE",
    }))
    .into_response()
}

/// An Ed25519 public key as SubjectPublicKeyInfo PEM (RFC 8410: a fixed DER prefix, then the
/// 32 raw bytes; ring yields only the raw key).
fn ed25519_pem(raw: &[u8]) -> String {
    const SPKI_PREFIX: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let der = [&SPKI_PREFIX[..], raw].concat();
    pem::encode_config(
        &pem::Pem::new("PUBLIC KEY", der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Cloud KMS reports.
/// Bitwise: a few hundred bytes per answer, so no table or crate is worth it.
pub(super) fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_is_castagnoli() {
        // RFC 3720's check value of "123456789".
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }
}
