//! Secret redaction for every output: terminal, logs, reports, HAR, REPL history.
//!
//! A secret is matched raw and in the forms it takes on the wire or in documents:
//! URL-encoded, base64 (standard and URL-safe, with or without padding) and JSON-escaped.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use parking_lot::RwLock;
use std::sync::Arc;

pub const MASK: &str = "[REDACTED]";

/// The WHATWG URL query percent-encode set (what a URL parser escapes in a query).
const URL_QUERY: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\'');
/// The WHATWG URL path percent-encode set.
const URL_PATH: &percent_encoding::AsciiSet = &URL_QUERY.add(b'?').add(b'`').add(b'{').add(b'}');

/// A shared, growable set of secrets. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    secrets: Vec<String>,
    patterns: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.inner.read().secrets.len())
    }
}

/// Every form in which `secret` may appear in an output.
pub fn secret_forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_url = base64::engine::general_purpose::URL_SAFE;
    let mut forms = vec![
        secret.to_string(),
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        b64.encode(secret),
        b64_url.encode(secret),
        b64.encode(secret).trim_end_matches('=').to_string(),
        b64_url.encode(secret).trim_end_matches('=').to_string(),
    ];
    // As a URL serializes it in a path or query (WHATWG sets: only a few characters escaped).
    for set in [URL_QUERY, URL_PATH] {
        forms.push(percent_encoding::utf8_percent_encode(secret, set).to_string());
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    forms.push(json.trim_matches('"').to_string());
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret. Values shorter than [`crate::config::MIN_SECRET_LEN`] are refused by
    /// configuration before they get here; this still ignores empty ones defensively.
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut inner = self.inner.write();
        if inner.secrets.iter().any(|s| s == secret) {
            return;
        }
        inner.secrets.push(secret.to_string());
        let mut patterns: Vec<String> =
            inner.secrets.iter().flat_map(|s| secret_forms(s)).collect();
        patterns.sort();
        patterns.dedup();
        inner.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        inner.patterns = patterns;
    }

    pub fn is_empty(&self) -> bool {
        self.inner.read().secrets.is_empty()
    }

    /// Whether `text` holds a secret in any of its forms.
    pub fn contains_secret(&self, text: &str) -> bool {
        let inner = self.inner.read();
        inner
            .matcher
            .as_ref()
            .is_some_and(|m| m.find(text).is_some())
    }

    /// `text` with every form of every secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let inner = self.inner.read();
        match &inner.matcher {
            Some(m) => {
                let masks = vec![MASK; inner.patterns.len()];
                m.replace_all(text, &masks)
            }
            None => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok_9f8e7d6c5b4a+/=secret\"x";

    #[test]
    fn every_form_is_masked() {
        let r = Redactor::new();
        r.add(TOKEN);
        for form in secret_forms(TOKEN) {
            let text = format!("before {form} after");
            let out = r.redact(&text);
            assert_eq!(out, format!("before {MASK} after"), "form {form:?}");
            assert!(!r.redact(&text).contains(&form));
        }
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let r = Redactor::new();
        assert_eq!(r.redact("plain"), "plain");
        r.add("abcdefgh12345678");
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(r.contains_secret("xx abcdefgh12345678 yy"));
    }

    #[test]
    fn clones_share_secrets_added_later() {
        let r = Redactor::new();
        let seen_by_reports = r.clone();
        r.add("added-after-clone-123");
        assert_eq!(seen_by_reports.redact("added-after-clone-123"), MASK);
    }
}
