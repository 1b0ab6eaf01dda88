//! Signing and verification keys: a PKCS#8 PEM private key (Ed25519 or ECDSA P-256) that
//! signs through `ring`, and an SPKI PEM public key that verifies. A key's id is the SHA-256
//! of its SubjectPublicKeyInfo (DER), in lowercase hex, as `openssl pkey -pubout -outform DER
//! | sha256sum` prints it.
//!
//! Errors name the file and what is wrong with it, never its contents.

use crate::file_input;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A key file is a few hundred bytes; anything much larger is not one.
const KEY_FILE_CAP: u64 = 64 * 1024;

/// The signature algorithms oa-validate signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032): 64-byte signatures over the whole message.
    Ed25519,
    /// ECDSA on P-256 with SHA-256: ASN.1 DER signatures (as openssl and Cloud KMS make them).
    EcdsaP256Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        }
    }

    /// The fixed DER prefix of this algorithm's SubjectPublicKeyInfo, before the raw public
    /// key (RFC 8410 for Ed25519, RFC 5480 for P-256 with an uncompressed point). Written out
    /// because both are constant and ring reads and writes only the raw key.
    fn spki_prefix(self) -> &'static [u8] {
        match self {
            Algorithm::Ed25519 => &[
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ],
            Algorithm::EcdsaP256Sha256 => &[
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
            ],
        }
    }

    fn raw_key_len(self) -> usize {
        match self {
            Algorithm::Ed25519 => 32,
            Algorithm::EcdsaP256Sha256 => 65,
        }
    }
}

/// What signs an attestation: a local key or a Cloud KMS key version.
pub trait Signer {
    /// The DSSE `keyid` hint.
    fn keyid(&self) -> String;
    /// Signs `message` (the DSSE PAE bytes).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String>;
}

/// A private key read from a PKCS#8 PEM file.
pub struct LocalKey {
    pair: Pair,
    public: PublicKey,
}

enum Pair {
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
}

impl LocalKey {
    /// Reads `path`: one `PRIVATE KEY` PEM block (PKCS#8), Ed25519 or ECDSA P-256.
    pub fn read(path: &Path) -> Result<LocalKey, String> {
        let shown = path.display();
        let bytes = file_input::read(path, KEY_FILE_CAP, &file_input::never_stop)
            .map_err(|e| format!("signing key {shown}: {e}"))?;
        let block =
            pem::parse(&bytes).map_err(|_| format!("signing key {shown}: not a PEM file"))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(format!(
                "signing key {shown}: a {:?} PEM block; expected an unencrypted PKCS#8 \
                 \"PRIVATE KEY\" (convert with `openssl pkcs8 -topk8 -nocrypt`)",
                block.tag()
            ));
        }
        let der = block.contents();
        // openssl writes version-1 PKCS#8 (no public key inside): accepted for Ed25519.
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            let public = PublicKey::from_raw(Algorithm::Ed25519, pair.public_key().as_ref());
            return Ok(LocalKey {
                pair: Pair::Ed25519(pair),
                public,
            });
        }
        let rng = SystemRandom::new();
        match EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng) {
            Ok(pair) => {
                let public =
                    PublicKey::from_raw(Algorithm::EcdsaP256Sha256, pair.public_key().as_ref());
                Ok(LocalKey {
                    pair: Pair::Ecdsa(pair),
                    public,
                })
            }
            Err(_) => Err(format!(
                "signing key {shown}: not an Ed25519 or ECDSA P-256 PKCS#8 private key"
            )),
        }
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl Signer for LocalKey {
    fn keyid(&self) -> String {
        self.public.keyid()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        match &self.pair {
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Pair::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_string()),
        }
    }
}

/// A public key: its algorithm and raw bytes (32 for Ed25519, a 65-byte uncompressed point
/// for P-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub algorithm: Algorithm,
    raw: Vec<u8>,
}

impl PublicKey {
    fn from_raw(algorithm: Algorithm, raw: &[u8]) -> PublicKey {
        PublicKey {
            algorithm,
            raw: raw.to_vec(),
        }
    }

    /// From an SPKI PEM (`-----BEGIN PUBLIC KEY-----`, as `openssl pkey -pubout` writes it and
    /// Cloud KMS's getPublicKey returns it); `source` names it in errors.
    pub fn from_pem(text: &[u8], source: &str) -> Result<PublicKey, String> {
        let block = pem::parse(text).map_err(|_| format!("{source}: not a PEM file"))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(format!(
                "{source}: a {:?} PEM block; expected a \"PUBLIC KEY\" (SubjectPublicKeyInfo)",
                block.tag()
            ));
        }
        PublicKey::from_spki_der(block.contents())
            .ok_or_else(|| format!("{source}: not an Ed25519 or ECDSA P-256 public key"))
    }

    /// Reads an SPKI PEM public key file.
    pub fn read(path: &Path) -> Result<PublicKey, String> {
        let shown = path.display().to_string();
        let bytes = file_input::read(path, KEY_FILE_CAP, &file_input::never_stop)
            .map_err(|e| format!("public key {shown}: {e}"))?;
        PublicKey::from_pem(&bytes, &format!("public key {shown}"))
    }

    fn from_spki_der(der: &[u8]) -> Option<PublicKey> {
        [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256]
            .into_iter()
            .find_map(|algorithm| {
                let raw = der.strip_prefix(algorithm.spki_prefix())?;
                (raw.len() == algorithm.raw_key_len()).then(|| PublicKey::from_raw(algorithm, raw))
            })
    }

    /// The SubjectPublicKeyInfo, DER.
    pub fn spki_der(&self) -> Vec<u8> {
        [self.algorithm.spki_prefix(), &self.raw].concat()
    }

    /// The SubjectPublicKeyInfo as PEM.
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki_der()))
    }

    /// SHA-256 of the SubjectPublicKeyInfo (DER), lowercase hex.
    pub fn keyid(&self) -> String {
        hex::encode(Sha256::digest(self.spki_der()))
    }

    /// Whether `sig` is this key's signature over `message`.
    pub fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        let algorithm: &dyn signature::VerificationAlgorithm = match self.algorithm {
            Algorithm::Ed25519 => &signature::ED25519,
            Algorithm::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
        };
        UnparsedPublicKey::new(algorithm, &self.raw)
            .verify(message, sig)
            .is_ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::process::Command;

    /// A key made by openssl (an implementation other than ours), and its public half.
    pub(crate) fn openssl_key(
        dir: &Path,
        algorithm: &[&str],
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        let private = dir.join("key.pem");
        let public = dir.join("key.pub.pem");
        let ok = Command::new("openssl")
            .arg("genpkey")
            .args(algorithm)
            .arg("-out")
            .arg(&private)
            .status()
            .expect("openssl runs")
            .success();
        assert!(ok);
        let ok = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public)
            .status()
            .expect("openssl runs")
            .success();
        assert!(ok);
        (private, public)
    }

    #[test]
    fn openssl_keys_sign_and_verify_and_their_ids_are_the_spki_digest() {
        for algorithm in [
            &["-algorithm", "ed25519"][..],
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let (private, public) = openssl_key(tmp.path(), algorithm);
            let key = LocalKey::read(&private).unwrap();
            let verifier = PublicKey::read(&public).unwrap();
            assert_eq!(key.public_key(), &verifier);
            assert_eq!(
                verifier.to_pem().replace("\r\n", "\n"),
                std::fs::read_to_string(&public).unwrap()
            );
            let der = Command::new("openssl")
                .args(["pkey", "-pubin", "-outform", "DER", "-in"])
                .arg(&public)
                .output()
                .unwrap()
                .stdout;
            assert_eq!(key.keyid(), hex::encode(Sha256::digest(der)));
            let sig = key.sign(b"message").unwrap();
            assert!(verifier.verifies(b"message", &sig));
            assert!(!verifier.verifies(b"massage", &sig));
        }
    }

    #[test]
    fn key_errors_name_the_file_never_its_contents() {
        let tmp = tempfile::tempdir().unwrap();
        let (private, _) = openssl_key(tmp.path(), &["-algorithm", "ed25519"]);
        // A private key where a public key belongs.
        let err = PublicKey::read(&private).unwrap_err();
        assert!(err.contains("\"PRIVATE KEY\" PEM block"), "{err}");
        let text = std::fs::read_to_string(&private).unwrap();
        let body = text.lines().nth(1).unwrap();
        assert!(!err.contains(body));
        let garbage = tmp.path().join("garbage.pem");
        std::fs::write(&garbage, "secret-material-not-pem").unwrap();
        for err in [
            LocalKey::read(&garbage).err().unwrap(),
            PublicKey::read(&garbage).unwrap_err(),
        ] {
            assert!(err.contains("garbage.pem: not a PEM file"), "{err}");
            assert!(!err.contains("secret-material"));
        }
        let rsa = tmp.path().join("rsa.pem");
        assert!(
            Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:1024",
                    "-out"
                ])
                .arg(&rsa)
                .output()
                .unwrap()
                .status
                .success()
        );
        let err = LocalKey::read(&rsa).err().unwrap();
        assert!(err.contains("not an Ed25519 or ECDSA P-256"), "{err}");
    }
}
