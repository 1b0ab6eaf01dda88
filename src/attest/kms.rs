//! A Cloud KMS asymmetric key version as the signer, through the REST API with the tool's
//! Google credentials ([`crate::gcp`]): `GET v1/{name}/publicKey` for its algorithm and
//! public key, `POST v1/{name}:asymmetricSign` to sign — the SHA-256 digest for
//! `EC_SIGN_P256_SHA256`, the message itself for `EC_SIGN_ED25519` — as Google documents.
//! Each signature is checked with the public key before it is used (a corrupted answer never
//! becomes an attestation that fails to verify later).

use super::keys::{Algorithm, PublicKey, Signer};
use crate::gcp::Session;
use crate::gcp::rest::{self, Api, Call};
use crate::net::Method;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A KMS key version, its public key fetched.
pub struct KmsKey<'a> {
    session: &'a Session<'a>,
    name: String,
    public: PublicKey,
}

impl<'a> KmsKey<'a> {
    /// Fetches the public key of key version `name` (`projects/.../cryptoKeyVersions/N`).
    pub fn connect(session: &'a Session<'a>, name: &str) -> Result<KmsKey<'a>, String> {
        let public = public_key(session, name)?;
        Ok(KmsKey {
            session,
            name: name.to_string(),
            public,
        })
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

/// The public key of KMS key version `name` (EC_SIGN_P256_SHA256 or EC_SIGN_ED25519).
pub fn public_key(session: &Session, name: &str) -> Result<PublicKey, String> {
    let path = format!("/v1/{}/publicKey", checked_name(name)?);
    let answer = call(session, &path, Method::GET, None)?;
    let pem = answer["pem"]
        .as_str()
        .ok_or_else(|| format!("Cloud KMS publicKey of {name}: no \"pem\" in the answer"))?;
    let key = PublicKey::from_pem(pem.as_bytes(), &format!("Cloud KMS key {name}"))?;
    let expected = match answer["algorithm"].as_str() {
        Some("EC_SIGN_P256_SHA256") => Algorithm::EcdsaP256Sha256,
        Some("EC_SIGN_ED25519") => Algorithm::Ed25519,
        other => {
            return Err(format!(
                "Cloud KMS key {name}: algorithm {other:?}; oa-validate signs with \
                 EC_SIGN_P256_SHA256 or EC_SIGN_ED25519"
            ));
        }
    };
    if key.algorithm != expected {
        return Err(format!(
            "Cloud KMS key {name}: its PEM is not an {} key",
            expected.name()
        ));
    }
    Ok(key)
}

impl Signer for KmsKey<'_> {
    /// The key version's resource name, as cosign names KMS keys.
    fn keyid(&self) -> String {
        format!("gcpkms://{}", self.name)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let body = match self.public.algorithm {
            Algorithm::EcdsaP256Sha256 => {
                json!({ "digest": { "sha256": STANDARD.encode(Sha256::digest(message)) } })
            }
            Algorithm::Ed25519 => json!({ "data": STANDARD.encode(message) }),
        };
        let path = format!("/v1/{}:asymmetricSign", checked_name(&self.name)?);
        let answer = call(self.session, &path, Method::POST, Some(body))?;
        let signature = answer["signature"]
            .as_str()
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| {
                format!(
                    "Cloud KMS asymmetricSign of {}: no base64 \"signature\" in the answer",
                    self.name
                )
            })?;
        if !self.public.verifies(message, &signature) {
            return Err(format!(
                "Cloud KMS asymmetricSign of {}: the signature does not verify with the key's \
                 public key",
                self.name
            ));
        }
        Ok(signature)
    }
}

/// One KMS call; errors as messages (no credentials says so).
fn call(
    session: &Session,
    path: &str,
    method: Method,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut journal = Vec::new();
    rest::call(
        session,
        &mut journal,
        &Call {
            api: Api::Kms,
            method,
            path,
            query: Vec::new(),
            body,
            timeout: rest::CALL_TIMEOUT,
        },
    )
    .map_err(|e| e.message(Api::Kms))
}

/// The key version name, each segment checked (it becomes a URL path).
fn checked_name(name: &str) -> Result<&str, String> {
    for segment in name.split('/') {
        rest::segment("Cloud KMS key name segment", segment)?;
    }
    Ok(name)
}
