//! DSSE (Dead Simple Signing Envelope, <https://github.com/secure-systems-lab/dsse>): the
//! envelope in-toto attestations travel in, and the pre-authentication encoding (PAE) its
//! signatures cover. Hand-written: the format is three fields and one byte string, and no
//! maintained crate offers it without pulling in a whole signing framework.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope as serialized: the payload and signatures in standard base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// A hint naming the key; unauthenticated (verification never trusts it).
    #[serde(default)]
    pub keyid: String,
    /// The signature over [`pae`], standard base64.
    pub sig: String,
}

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN the byte
/// length in ASCII decimal without leading zeros: what a DSSE signature signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// An envelope over `payload`, signed by `sign` (which receives the PAE bytes).
    pub fn sign(
        payload_type: &str,
        payload: &[u8],
        keyid: &str,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<Envelope, String> {
        let signature = sign(&pae(payload_type, payload))?;
        Ok(Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![Signature {
                keyid: keyid.to_string(),
                sig: STANDARD.encode(signature),
            }],
        })
    }

    /// The decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, String> {
        STANDARD
            .decode(&self.payload)
            .map_err(|e| format!("the envelope's payload is not base64: {e}"))
    }
}

/// A signature's bytes from its base64 (`None` when it is not base64).
pub fn decode_signature(signature: &Signature) -> Option<Vec<u8>> {
    STANDARD.decode(&signature.sig).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_specifications_encoding() {
        // The DSSE protocol document's own example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
        // Lengths are in bytes, not characters.
        assert_eq!(
            pae("t", "é".as_bytes()),
            "DSSEv1 1 t 2 é".as_bytes().to_vec()
        );
    }

    #[test]
    fn an_envelope_round_trips_through_json() {
        let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}", "k1", |pae| {
            assert_eq!(pae, b"DSSEv1 28 application/vnd.in-toto+json 2 {}");
            Ok(vec![1, 2, 3])
        })
        .unwrap();
        let json = serde_json::to_string(&envelope).unwrap();
        assert_eq!(
            json,
            r#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k1","sig":"AQID"}]}"#
        );
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back, envelope);
        assert_eq!(back.payload_bytes().unwrap(), b"{}");
        assert_eq!(decode_signature(&back.signatures[0]).unwrap(), [1, 2, 3]);
    }
}
