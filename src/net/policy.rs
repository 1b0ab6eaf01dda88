//! The credential policy: a target's token goes only to that target's own origins, in any of
//! its encoded forms; credentials never follow a redirect to another origin or down to http.

use crate::config::{EnvSnapshot, MIN_SECRET_LEN, Target, is_secret_name};
use crate::redact::{Redactor, secret_forms};
use aho_corasick::{AhoCorasick, MatchKind};
use url::{Origin, Url};

/// Headers that carry credentials: dropped on a redirect to another origin or down to http,
/// and masked by name in the evidence whatever they hold.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether `name` (lower-case) is a credential header.
pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS.contains(&name)
}

/// A secret and where it may go.
struct Grant {
    /// What the secret is, for the refusal (`the staging token`, `STAGING_RUNTIME_ACCESS_TOKEN`).
    what: String,
    /// The target whose origins it may go to (`staging`).
    target: String,
    origins: Vec<Origin>,
}

/// Which secrets may be sent to which origins. Built once per run; a hop is checked with one
/// pass of an automaton over every encoded form of every bound secret.
///
/// Bound secrets (refused anywhere else, in the URL, a header or the body): each target's
/// token, and the value of every secret-named variable named after a target
/// (`STAGING_RUNTIME_ACCESS_TOKEN`: the staging target's origins). Every other known secret
/// (any other secret-named variable, a `secret()` value: `known`) has no origin of its own:
/// it goes where the script sends it, and a header holding it is dropped, like a credential
/// header, on a redirect that leaves the first origin.
#[derive(Default)]
pub struct CredentialPolicy {
    grants: Vec<Grant>,
    matcher: Option<AhoCorasick>,
    /// The grant of each pattern of `matcher`.
    pattern_grants: Vec<usize>,
    /// Every secret of the run, `secret()` values included as they are marked.
    known: Redactor,
}

/// The origins of `target` (control and runtime).
fn origins_of(target: &Target) -> impl Iterator<Item = Origin> + '_ {
    std::iter::once(target.control_url.as_str())
        .chain(target.runtime_url.as_deref())
        .filter_map(|u| Url::parse(u).ok())
        .map(|u| u.origin())
}

impl CredentialPolicy {
    /// Each target's token may go to the control and runtime origins of every target holding
    /// it (two targets may share one token).
    pub fn for_targets(targets: &[Target]) -> CredentialPolicy {
        Self::new(targets, &EnvSnapshot::default(), Redactor::new())
    }

    /// The targets' tokens and the target-named secret variables of `env` are bound to
    /// their targets' origins; `known` (the run's redactor) holds every other secret.
    pub fn new(targets: &[Target], env: &EnvSnapshot, known: Redactor) -> CredentialPolicy {
        // (secret, grant), in a stable order: the targets' tokens first.
        let mut grants: Vec<(String, Grant)> = Vec::new();
        for target in targets {
            let Some(token) = target.token.as_deref() else {
                continue;
            };
            if grants.iter().any(|(secret, _)| secret == token) {
                continue;
            }
            let origins = targets
                .iter()
                .filter(|t| t.token.as_deref() == Some(token))
                .flat_map(origins_of)
                .collect();
            grants.push((
                token.to_string(),
                Grant {
                    what: format!("the {} token", target.name),
                    target: target.name.clone(),
                    origins,
                },
            ));
        }
        for (name, value) in env.iter() {
            if !is_secret_name(name) || value.len() < MIN_SECRET_LEN {
                continue;
            }
            let Some(target) = targets.iter().find(|t| {
                let prefix = format!("{}_", t.name.to_ascii_uppercase());
                name.to_ascii_uppercase().starts_with(&prefix)
            }) else {
                continue;
            };
            if grants.iter().any(|(secret, _)| secret == value) {
                // A token, or a value two variables share: the first binding holds.
                continue;
            }
            grants.push((
                value.to_string(),
                Grant {
                    what: name.to_string(),
                    target: target.name.clone(),
                    origins: origins_of(target).collect(),
                },
            ));
        }
        let mut patterns = Vec::new();
        let mut pattern_grants = Vec::new();
        for (index, (secret, _)) in grants.iter().enumerate() {
            for form in secret_forms(secret) {
                patterns.push(form);
                pattern_grants.push(index);
            }
        }
        let matcher = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        CredentialPolicy {
            grants: grants.into_iter().map(|(_, grant)| grant).collect(),
            matcher,
            pattern_grants,
            known,
        }
    }

    /// Whether a header value (or a body) holds a known secret, bound or not, in any form.
    pub fn holds_secret(&self, value: &[u8]) -> bool {
        let text = String::from_utf8_lossy(value);
        self.known.contains_secret(&text)
            || self
                .matcher
                .as_ref()
                .is_some_and(|m| m.find(value).is_some())
    }

    /// Whether a hop carries a credential: a credential header, or a known secret in the URL,
    /// a header or the body.
    pub fn carries_credential(
        &self,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> bool {
        headers
            .iter()
            .any(|(n, v)| is_sensitive_header(n) || self.holds_secret(v.as_bytes()))
            || self.holds_secret(url.as_str().as_bytes())
            || body.is_some_and(|b| self.holds_secret(b))
    }

    /// Refuses a hop that would carry a secret, in any of its encoded forms (in the URL, a
    /// header or the body), to an origin it is not granted.
    pub fn check_hop(
        &self,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        let Some(matcher) = &self.matcher else {
            return Ok(());
        };
        let mut carried = vec![false; self.grants.len()];
        let places = std::iter::once(url.as_str().as_bytes())
            .chain(headers.iter().map(|(_, v)| v.as_bytes()))
            .chain(body);
        for place in places {
            for found in matcher.find_overlapping_iter(place) {
                carried[self.pattern_grants[found.pattern().as_usize()]] = true;
            }
            // With its escapes decoded too: `\u`-escaped or mixed-case percent-encoded.
            if let Some(decoded) = crate::redact::decode_escapes(place) {
                for found in matcher.find_overlapping_iter(&decoded) {
                    carried[self.pattern_grants[found.pattern().as_usize()]] = true;
                }
            }
        }
        let origin = url.origin();
        for (grant, _) in self.grants.iter().zip(&carried).filter(|(_, c)| **c) {
            if !grant.origins.contains(&origin) {
                return Err(format!(
                    "refusing to send {} to {}: it may only go to the {} target's own origins",
                    grant.what,
                    origin.ascii_serialization(),
                    grant.target
                ));
            }
        }
        Ok(())
    }
}

/// Whether following a redirect to `next` must drop the credential headers: it leaves the
/// origin the request was first sent to, or goes from https down to http.
pub fn redirect_drops_credentials(first: &Origin, current: &Url, next: &Url) -> bool {
    let downgrade = current.scheme() == "https" && next.scheme() == "http";
    next.origin() != *first || downgrade
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, control: &str, token: Option<&str>) -> Target {
        Target {
            name: name.to_string(),
            label: name.to_string(),
            control_url: control.to_string(),
            runtime_url: Some(format!("{control}0")),
            token: token.map(str::to_string),
            token_var: String::new(),
            simulated: true,
        }
    }

    #[test]
    fn a_token_goes_only_to_its_targets_origins_in_any_form() {
        let policy = CredentialPolicy::for_targets(&[
            target(
                "staging",
                "http://127.0.0.1:1000",
                Some("staging-token-1234"),
            ),
            target("prod", "http://127.0.0.1:2000", Some("prod-token-5678")),
        ]);
        let url = |u: &str| Url::parse(u).unwrap();
        let bearer = |t: &str| vec![("authorization".to_string(), format!("Bearer {t}"))];
        assert!(
            policy
                .check_hop(
                    &url("http://127.0.0.1:1000/x"),
                    &bearer("staging-token-1234"),
                    None
                )
                .is_ok()
        );
        // Its runtime origin too.
        assert!(
            policy
                .check_hop(
                    &url("http://127.0.0.1:10000/x"),
                    &bearer("staging-token-1234"),
                    None
                )
                .is_ok()
        );
        let err = policy
            .check_hop(
                &url("http://127.0.0.1:2000/x"),
                &bearer("staging-token-1234"),
                None,
            )
            .unwrap_err();
        assert_eq!(
            err,
            "refusing to send the staging token to http://127.0.0.1:2000: it may only go to the staging target's own origins"
        );
        // Base64 in a body, percent-encoded in a query.
        let b64 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "prod-token-5678",
        );
        assert!(
            policy
                .check_hop(&url("http://example.com/"), &[], Some(b64.as_bytes()))
                .is_err()
        );
        assert!(
            policy
                .check_hop(&url("http://example.com/?t=prod-token-5678"), &[], None)
                .is_err()
        );
        assert!(
            policy
                .check_hop(&url("http://example.com/"), &[], None)
                .is_ok()
        );
    }

    #[test]
    fn redirects_drop_credentials_off_origin_or_down_to_http() {
        let url = |u: &str| Url::parse(u).unwrap();
        let first = url("https://a.example/").origin();
        let current = url("https://a.example/x");
        assert!(!redirect_drops_credentials(
            &first,
            &current,
            &url("https://a.example/y")
        ));
        assert!(redirect_drops_credentials(
            &first,
            &current,
            &url("https://b.example/y")
        ));
        assert!(redirect_drops_credentials(
            &first,
            &current,
            &url("http://a.example/y")
        ));
    }
}
