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

/// RFC 3986 unreserved characters kept (`-._~`), everything else escaped: what most URL
/// libraries do to a query or path component.
const RFC3986_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// JavaScript's `encodeURIComponent` (also keeps `!*'()`).
const JS_URI_COMPONENT: &percent_encoding::AsciiSet = &RFC3986_COMPONENT
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A shared, growable set of secrets. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    secrets: Vec<String>,
    /// Text a script-marked secret must not mask (check ids of the plan).
    protected: Vec<String>,
    /// The reports' own fixed text (keys, headers), which no script secret may hold; made
    /// only when a script marks a secret (rendering it costs every run otherwise).
    reserved: Option<fn() -> &'static str>,
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
    for set in [RFC3986_COMPONENT, JS_URI_COMPONENT] {
        forms.push(percent_encoding::utf8_percent_encode(secret, set).to_string());
    }
    // As a URL serializes it in a path or query (WHATWG sets: only a few characters escaped;
    // the URL parser trims leading and trailing C0 controls and spaces, and drops tabs and
    // newlines anywhere).
    let in_url: String = secret
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    for set in [URL_QUERY, URL_PATH] {
        forms.push(percent_encoding::utf8_percent_encode(secret, set).to_string());
        forms.push(percent_encoding::utf8_percent_encode(&in_url, set).to_string());
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    forms.push(json.trim_matches('"').to_string());
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

/// Words of the verdict and status columns: a script secret holding one is refused.
const REPORT_WORDS: &[&str] = &[
    "NO-GO", "Verdict", "passed", "failed", "errored", "skipped", "required", "optional",
];

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor that refuses script secrets found in the text `reserved` gives: the
    /// reports' own fixed text ([`crate::evidence::vocabulary::report_vocabulary`]), which a
    /// secret would mask.
    pub fn reserving(reserved: fn() -> &'static str) -> Self {
        let redactor = Self::default();
        redactor.inner.write().reserved = Some(reserved);
        redactor
    }

    /// Adds a secret. Values shorter than [`crate::config::MIN_SECRET_LEN`] are refused by
    /// configuration before they get here; this still ignores empty ones defensively.
    pub fn add(&self, secret: &str) {
        self.add_all([secret]);
    }

    /// Adds many secrets, building the matcher once (adding 1,000 one by one rebuilt it
    /// 1,000 times: a 90 s start-up in a debug build).
    pub fn add_all<'a>(&self, secrets: impl IntoIterator<Item = &'a str>) {
        let mut inner = self.inner.write();
        let mut added = false;
        for secret in secrets {
            if secret.is_empty() || inner.secrets.iter().any(|s| s == secret) {
                continue;
            }
            inner.secrets.push(secret.to_string());
            added = true;
        }
        if !added {
            return;
        }
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

    /// Protects `text` (a check id) from secrets a script marks later.
    pub fn protect(&self, text: &str) {
        self.inner.write().protected.push(text.to_string());
    }

    /// Whether a value a script marks secret (`secret()`) is acceptable. Environment tokens
    /// are trusted; a script's value is not: `secret("Verdict: NO-GO")` or
    /// `secret("control-prod-health")` would mask the verdict or a check's row in every
    /// report. Refused: whitespace or control characters (no token has them; report
    /// structure is separated by them), a report word (`NO-GO`, `failed`, ...), text of the
    /// reports' fixed vocabulary (keys, headers), and anything inside a protected check id.
    pub fn check_script_secret(&self, secret: &str) -> Result<(), String> {
        if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a secret never holds whitespace or control characters".to_string());
        }
        let lower = secret.to_ascii_lowercase();
        if let Some(word) = REPORT_WORDS
            .iter()
            .find(|w| lower.contains(&w.to_ascii_lowercase()))
        {
            return Err(format!(
                "a secret holding the report word {word:?} would mask verdicts or statuses"
            ));
        }
        let forms = secret_forms(secret);
        let inner = self.inner.read();
        let reserved = inner.reserved.map(|text| text()).unwrap_or_default();
        if forms.iter().any(|f| reserved.contains(f.as_str())) {
            return Err(
                "a secret that is part of the reports' own text would mask their structure"
                    .to_string(),
            );
        }
        if let Some(id) = inner
            .protected
            .iter()
            .find(|p| forms.iter().any(|f| p.contains(f.as_str())))
        {
            return Err(format!(
                "a secret inside check id {id:?} would mask that check's results"
            ));
        }
        Ok(())
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

    /// Regression (found by `fuzz redact`): a secret with `-._~` and another special
    /// character survived in its RFC 3986 / encodeURIComponent form.
    #[test]
    fn regression_the_rfc3986_encoded_form_survived() {
        let secret = "a-b/c~d.e_f!*'()";
        let r = Redactor::new();
        r.add(secret);
        for form in ["a-b%2Fc~d.e_f%21%2A%27%28%29", "a-b%2Fc~d.e_f!*'()"] {
            assert_eq!(
                r.redact(&format!("?t={form}&x")),
                format!("?t={MASK}&x"),
                "{form}"
            );
        }
    }

    /// Regression (found by `fuzz redact`): a URL drops a secret's tabs and newlines, so
    /// the URL form of `"abcd\nefgh"` is `abcdefgh`, which survived.
    #[test]
    fn regression_the_url_form_of_a_secret_with_a_newline_survived() {
        let r = Redactor::new();
        r.add("abcd\nefgh-1234");
        let url = url::Url::parse("http://h/?t=abcd\nefgh-1234").expect("url");
        assert_eq!(r.redact(url.as_str()), format!("http://h/?t={MASK}"));
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
