//! The forms a secret takes in outputs, written here independently of the library's own
//! list (an oracle must not share the code it checks). Shared by the tests and the fuzzer
//! (`fuzz/fuzz.rs` includes this file by path).

/// Every form a secret may take in an output: raw, percent-encoded (all non-alphanumerics,
/// RFC 3986 unreserved kept, form-urlencoded, and as a URL query), base64 (standard and URL-safe, with and
/// without padding), JSON-escaped (also with `\/`), every character `\u`-escaped (either
/// case) and percent-encoded in lower case.
pub fn secret_forms(secret: &str) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    let std_b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let url_b64 = base64::engine::general_purpose::URL_SAFE.encode(secret);
    let percent = |keep: &dyn Fn(u8) -> bool| {
        secret
            .bytes()
            .map(|b| {
                if keep(b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let json = serde_json::to_string(secret).unwrap_or_default();
    let mut forms = vec![
        ("raw", secret.to_string()),
        ("percent (all)", percent(&|b| b.is_ascii_alphanumeric())),
        (
            "percent (RFC 3986)",
            percent(&|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
        ),
        (
            "form-urlencoded",
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        ),
        (
            "percent (as a URL query serializes it)",
            url::Url::parse(&format!("http://h/?{secret}"))
                .ok()
                // After a `#` the rest is a fragment: the query would be a piece of the secret.
                .filter(|_| !secret.contains('#'))
                .and_then(|u| u.query().map(str::to_string))
                .unwrap_or_default(),
        ),
        ("base64", std_b64.clone()),
        ("base64 unpadded", std_b64.trim_end_matches('=').to_string()),
        ("base64url", url_b64.clone()),
        (
            "base64url unpadded",
            url_b64.trim_end_matches('=').to_string(),
        ),
        (
            "json-escaped",
            json.get(1..json.len().saturating_sub(1))
                .unwrap_or_default()
                .to_string(),
        ),
    ];
    // Issue 13: PHP's `json_encode` escapes `/`; Gson and .NET escape characters as `\u002b`
    // (lower- or upper-case hex); many clients percent-encode in lower case.
    let json_inner = json
        .get(1..json.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string();
    let u_escaped = |upper: bool| {
        secret
            .encode_utf16()
            .map(|unit| {
                if upper {
                    format!("\\u{unit:04X}")
                } else {
                    format!("\\u{unit:04x}")
                }
            })
            .collect::<String>()
    };
    forms.push(("json-escaped with \\/", json_inner.replace('/', "\\/")));
    forms.push((
        "every character \\u-escaped (lower-case hex)",
        u_escaped(false),
    ));
    forms.push((
        "every character \\u-escaped (upper-case hex)",
        u_escaped(true),
    ));
    forms.push((
        "percent (all, lower-case hex)",
        secret
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect(),
    ));
    forms.retain(|(_, value)| !value.is_empty());
    forms
}
