//! Secret redaction for every output: terminal, logs, reports, HAR, REPL history.
//!
//! A secret is matched raw and in the forms it takes on the wire or in documents:
//! URL-encoded, base64 (standard and URL-safe, with or without padding) and JSON-escaped.
//! Text holding an escape (`\` or `%`) is also searched decoded ([`decode_escapes`]): a
//! secret with any of its characters escaped (`\/`, `\u002b` or `\u002B`, `%2f` or `%2F`,
//! `\x2b`), in any mix, is masked where it stands in the original text. A text cut to an
//! excerpt is redacted first; a remnant of a secret left at the cut is masked too
//! ([`Redactor::mask_cut`], [`Redactor::excerpt`]).

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use parking_lot::RwLock;
use std::sync::Arc;

mod escapes;

pub use escapes::decode_escapes;
use escapes::{Decoded, decode_levels, decode_one, mask_decoded};

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
    /// The raw secrets, searched in decoded text.
    raw_matcher: Option<AhoCorasick>,
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
    let json = json.trim_matches('"');
    forms.push(json.to_string());
    // PHP's json_encode: `/` as `\/` (also found decoded; listed for a secret that itself
    // holds an escape-like `%2B` or `\u0041`, which the decoded search cannot tell apart).
    forms.push(json.replace('/', "\\/"));
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
        inner.raw_matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&inner.secrets)
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

    /// Whether `text` holds a secret in any of its forms, escaped characters included.
    pub fn contains_secret(&self, text: &str) -> bool {
        let inner = self.inner.read();
        let Some(matcher) = &inner.matcher else {
            return false;
        };
        if matcher.find(text).is_some() {
            return true;
        }
        let Some(raw) = &inner.raw_matcher else {
            return false;
        };
        decode_levels(text.as_bytes(), false)
            .iter()
            .any(|level| raw.find(&level.bytes[..]).is_some())
    }

    /// `text` with every form of every secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let inner = self.inner.read();
        let Some(matcher) = &inner.matcher else {
            return text.to_string();
        };
        // (Not `replace_all` with one mask per pattern: filling that list cost every call
        // time in proportion to the number of patterns.)
        let mut once = String::with_capacity(text.len());
        matcher.replace_all_with(text, &mut once, |_, _, out| {
            out.push_str(MASK);
            true
        });
        match &inner.raw_matcher {
            // Only text with an escape can hide an escaped secret.
            Some(raw) if memchr::memchr2(b'\\', b'%', once.as_bytes()).is_some() => {
                mask_decoded(&once, raw).unwrap_or(once)
            }
            _ => once,
        }
    }

    /// `text` redacted, then cut to at most `max_chars` characters; a remnant of a secret
    /// (8 or more bytes, in any form) left at the cut is masked.
    pub fn excerpt(&self, text: &str, max_chars: usize) -> String {
        let redacted = self.redact(text);
        match redacted.char_indices().nth(max_chars) {
            None => redacted,
            Some((end, _)) => self.mask_cut(&redacted[..end], false, true),
        }
    }

    /// Masks a remnant of a secret left where `text` was cut: at its start (`cut_start`: a
    /// suffix of a form of a secret begins the text) or at its end (`cut_end`: a prefix of
    /// one ends it). Only remnants of [`crate::config::MIN_SECRET_LEN`] bytes or more: a
    /// shorter one is not told apart from ordinary text. Escaped remnants are found too.
    pub fn mask_cut(&self, text: &str, cut_start: bool, cut_end: bool) -> String {
        let inner = self.inner.read();
        if inner.matcher.is_none() || !(cut_start || cut_end) {
            return text.to_string();
        }
        let bytes = text.as_bytes();
        let window = inner
            .patterns
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .saturating_mul(6)
            .min(bytes.len());
        let mut start = 0;
        let mut end = bytes.len();
        if cut_end {
            let mut from = bytes.len() - window;
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let tail = &bytes[from..];
            // A remnant may end the text as it is, or before an escape cut in the middle
            // (`…\u00`), which is then masked with it.
            let mut ends = vec![tail.len()];
            let last = tail.len().saturating_sub(11);
            if let Some(at) = memchr::memrchr2(b'\\', b'%', &tail[last..]).map(|i| i + last)
                && decode_one(&tail[at..]).is_none()
            {
                ends.push(at);
            }
            let longest = ends
                .into_iter()
                .filter_map(|upto| {
                    let part = &tail[..upto];
                    let cut_escape = tail.len() - upto;
                    let plain = longest_edge(part, &inner.patterns, Edge::End);
                    let decoded = Decoded::of(part);
                    let escaped = longest_edge(&decoded.bytes, &inner.secrets, Edge::End)
                        .map(|n| part.len() - decoded.original_start(decoded.bytes.len() - n));
                    plain
                        .into_iter()
                        .chain(escaped)
                        .max()
                        .map(|n| n + cut_escape)
                })
                .max();
            if let Some(n) = longest {
                end = bytes.len() - n;
            }
        }
        if cut_start {
            let mut to = window;
            while !text.is_char_boundary(to) {
                to += 1;
            }
            let head = &bytes[..to];
            let plain = longest_edge(head, &inner.patterns, Edge::Start);
            let decoded = Decoded::of(head);
            let escaped = longest_edge(&decoded.bytes, &inner.secrets, Edge::Start)
                .map(|n| decoded.original_end(n - 1));
            if let Some(n) = plain.into_iter().chain(escaped).max() {
                start = n.min(end);
            }
        }
        if start == 0 && end == bytes.len() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        if start > 0 {
            out.push_str(MASK);
        }
        out.push_str(&String::from_utf8_lossy(&bytes[start..end]));
        if end < bytes.len() {
            out.push_str(MASK);
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Edge {
    Start,
    End,
}

/// The length of the longest remnant (at least [`crate::config::MIN_SECRET_LEN`] bytes) of
/// one of `patterns` at `edge` of `text`: a proper prefix of a pattern ending the text, or a
/// proper suffix of one starting it.
fn longest_edge(text: &[u8], patterns: &[String], edge: Edge) -> Option<usize> {
    let min = crate::config::MIN_SECRET_LEN;
    let mut best: Option<usize> = None;
    for pattern in patterns {
        let p = pattern.as_bytes();
        let most = p.len().saturating_sub(1).min(text.len());
        for n in (min..=most).rev() {
            if best.is_some_and(|b| b >= n) {
                break;
            }
            let found = match edge {
                Edge::End => text.ends_with(&p[..n]),
                Edge::Start => text.starts_with(&p[p.len() - n..]),
            };
            if found {
                best = Some(n);
                break;
            }
        }
    }
    best
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

    /// Issue 13, finding 5: PHP's `\/`, Gson's and .NET's `\u` escapes (either case, any
    /// character, in any mix), lower-case percent-encoding.
    #[test]
    fn escaped_forms_in_any_mix_are_masked() {
        let secret = "tok/9f8e+7d6c=5b4a~x";
        let r = Redactor::new();
        r.add(secret);
        let u = |upper: bool, every: bool| {
            secret
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if every || i % 3 == 0 {
                        let e = format!("\\u{:04x}", c as u32);
                        if upper {
                            e.to_uppercase().replace("\\U", "\\u")
                        } else {
                            e
                        }
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
        };
        for form in [
            secret.replace('/', "\\/"),
            u(false, true),
            u(true, true),
            u(false, false),
            u(true, false),
            "tok%2f9f8e%2b7d6c%3d5b4a~x".to_string(),
            "tok%2F9f8e%2b7d6c%3D5b4a%7ex".to_string(),
            "tok\\x2f9f8e+7d6c=5b4a~x".to_string(),
        ] {
            let text = format!("{{\"t\":\"{form}\",\"n\":1}}");
            let out = r.redact(&text);
            assert_eq!(out, format!("{{\"t\":\"{MASK}\",\"n\":1}}"), "{form}");
            assert!(r.contains_secret(&text), "{form}");
        }
        // Not a secret: escapes alone are left as they are.
        let plain = "{\"path\":\"\\/api\\/v1\",\"q\":\"a%20b\",\"e\":\"caf\\u00e9\"}";
        assert_eq!(r.redact(plain), plain);
        // Quoted again (`{:?}` of a JSON text): backslashes doubled.
        let twice = format!(
            "{:?}",
            format!("{{\"t\":\"{}\"}}", secret.replace('/', "\\/"))
        );
        assert!(!r.redact(&twice).contains("9f8e"), "{}", r.redact(&twice));
        // A character outside the BMP as a surrogate pair.
        r.add("emoji-\u{1F600}-secret");
        assert_eq!(
            r.redact("x emoji-\\ud83d\\uDE00-secret y"),
            format!("x {MASK} y")
        );
    }

    /// Issue 13, finding 5: a remnant of 8 or more bytes at a cut is masked, raw or escaped.
    #[test]
    fn a_remnant_at_a_cut_is_masked() {
        let secret = "cnAbCdEfGh1234567-xyz+Q";
        let r = Redactor::new();
        r.add(secret);
        let text = format!("{}{secret} and more", "p".repeat(100));
        let excerpt = r.excerpt(&text, 120);
        // Redacted before the cut: the whole secret is masked, not cut.
        assert_eq!(excerpt, format!("{}{MASK} and more", "p".repeat(100)));
        // Shorter than 8 bytes: ordinary text.
        assert_eq!(r.mask_cut("abc cnAbCdE", false, true), "abc cnAbCdE");
        assert_eq!(
            r.mask_cut("abc cnAbCdEf", false, true),
            format!("abc {MASK}")
        );
        // At the start of a text cut there.
        assert_eq!(
            r.mask_cut("1234567-xyz+Q rest", true, false),
            format!("{MASK} rest")
        );
        // Escaped, and cut in the middle of an escape.
        assert_eq!(
            r.mask_cut("x cn\\u0041bCdEfGh12", false, true),
            format!("x {MASK}")
        );
        assert_eq!(
            r.mask_cut("x cnAbCdEfGh12\\u00", false, true),
            format!("x {MASK}")
        );
        assert_eq!(
            r.mask_cut("x cnAbCdEfGh1%2", false, true),
            format!("x {MASK}")
        );
        // Nothing cut: nothing masked.
        assert_eq!(r.excerpt("short", 120), "short");
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
