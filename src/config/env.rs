//! The process environment, captured once into an [`EnvSnapshot`] with the upstream names,
//! defaults and aliases applied; which variables are secrets. Nothing else reads `std::env`.

use std::collections::BTreeMap;

/// The upstream variables and their defaults (upstream-harness §1), in SUMMARY.md order.
pub const UPSTREAM_VARIABLES: &[(&str, Option<&str>)] = &[
    (
        "STAGING_CONTROL_BASE_URL",
        Some("https://staging.openagents.com"),
    ),
    ("PROD_CONTROL_BASE_URL", Some("https://openagents.com")),
    ("STAGING_RUNTIME_BASE_URL", None),
    ("PROD_RUNTIME_BASE_URL", None),
    ("STAGING_CONTROL_ACCESS_TOKEN", None),
    ("PROD_CONTROL_ACCESS_TOKEN", None),
    ("GCP_PROJECT", Some("openagentsgemini")),
    ("GCP_REGION", Some("us-central1")),
    ("CONTROL_SERVICE", Some("openagents-control-service")),
    ("RUNTIME_SERVICE", Some("runtime")),
    ("MIGRATE_JOB", Some("runtime-migrate")),
    ("RUN_RUNTIME_DRIFT_CHECK", Some("1")),
    ("RUN_SPACETIME_SYNC_CONTRACT_TESTS", Some("1")),
    ("RUN_LOG_PROBES", Some("1")),
    ("RUN_HTMX_PERF_CHECKS", Some("1")),
    ("RUN_HTMX_BROWSER_SMOKE", Some("1")),
    ("RUN_HTMX_ROUTE_GROUP_CANARY", Some("1")),
    ("RUN_CROSS_SURFACE", Some("0")),
    ("FAIL_ON_REQUIRED_FAILURE", Some("1")),
    ("OUTPUT_DIR", None),
];

/// (canonical, alias): when the canonical variable is unset, the alias's value is used.
pub const VARIABLE_ALIASES: &[(&str, &str)] = &[(
    "RUN_SPACETIME_SYNC_CONTRACT_TESTS",
    "RUN_SPACETIME_CONTRACT_TESTS",
)];

/// The checkout whose `cargo test`s local lanes run (`cargo::test`); `--sim` points it at the
/// fixture workspace when it is unset.
pub const REPO_ROOT_VAR: &str = "OA_REPO_ROOT";

/// Shortest secret accepted: a shorter one would redact ordinary text everywhere.
pub const MIN_SECRET_LEN: usize = 8;

/// Whether a variable's name marks its value as secret (DESIGN §4).
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "KEY",
        "PASSWORD",
        "AUTHORIZATION",
        "COOKIE",
    ]
    .iter()
    .any(|marker| upper.contains(marker))
}

/// The process environment as it was when the run started, with upstream defaults applied.
#[derive(Debug, Clone, Default)]
pub struct EnvSnapshot {
    vars: BTreeMap<String, String>,
}

impl EnvSnapshot {
    /// The process environment as it is now (upstream aliases applied).
    pub fn capture() -> Self {
        let mut env = Self::new(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        );
        env.apply_aliases();
        env
    }

    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            vars: vars.into_iter().collect(),
        }
    }

    /// The raw value, or the upstream default when the variable is unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).or_else(|| {
            UPSTREAM_VARIABLES
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, default)| *default)
        })
    }

    /// Set only when the value is present and not empty (the upstream `-n` test).
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Copies each [`VARIABLE_ALIASES`] alias to its canonical name when only the alias is set.
    pub fn apply_aliases(&mut self) {
        for (canonical, alias) in VARIABLE_ALIASES {
            if !self.vars.contains_key(*canonical)
                && let Some(value) = self.vars.get(*alias).cloned()
            {
                self.vars.insert(canonical.to_string(), value);
            }
        }
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
    }

    /// Unsets a variable (its upstream default, if any, applies again).
    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Values of secret-named variables (long enough to be redacted safely): what the
    /// redactor masks besides the targets' tokens.
    pub fn secret_values(&self) -> Vec<String> {
        self.iter()
            .filter(|(name, value)| is_secret_name(name) && value.len() >= MIN_SECRET_LEN)
            .map(|(_, value)| value.to_string())
            .collect()
    }

    /// Reads a toggle: `Ok(true)` when on, `Err(reason)` quoting the raw value when off.
    /// Unset means the upstream default, or on when there is none.
    pub fn toggle(&self, name: &str) -> Result<bool, String> {
        match self.get(name) {
            None => Ok(true),
            Some(raw) => parse_toggle(raw).ok_or_else(|| {
                format!("{name}={raw:?} is not a toggle value (1/true/yes/on or 0/false/no/off)")
            }),
        }
    }
}

/// `1/true/yes/on` and `0/false/no/off`, case-insensitive.
pub fn parse_toggle(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggles_accept_the_documented_words_and_quote_others() {
        for on in ["1", "true", "YES", "on"] {
            assert_eq!(parse_toggle(on), Some(true), "{on}");
        }
        for off in ["0", "false", "No", "OFF"] {
            assert_eq!(parse_toggle(off), Some(false), "{off}");
        }
        assert_eq!(parse_toggle("ture"), None);
        let env = EnvSnapshot::new([("RUN_X".to_string(), "ture".to_string())]);
        let err = env.toggle("RUN_X").unwrap_err();
        assert!(err.contains("RUN_X=\"ture\""), "{err}");
    }

    #[test]
    fn upstream_defaults_apply_when_unset() {
        let env = EnvSnapshot::default();
        assert_eq!(env.get("GCP_PROJECT"), Some("openagentsgemini"));
        assert_eq!(env.get("RUN_CROSS_SURFACE"), Some("0"));
        assert_eq!(env.toggle("RUN_CROSS_SURFACE"), Ok(false));
        assert_eq!(env.toggle("RUN_HTMX_PERF_CHECKS"), Ok(true));
        assert_eq!(env.get("STAGING_CONTROL_ACCESS_TOKEN"), None);
        let env = EnvSnapshot::new([("GCP_PROJECT".to_string(), "other".to_string())]);
        assert_eq!(env.get("GCP_PROJECT"), Some("other"));
    }

    #[test]
    fn the_spacetime_toggle_alias_applies_only_when_the_canonical_name_is_unset() {
        let mut env = EnvSnapshot::new([("RUN_SPACETIME_CONTRACT_TESTS".into(), "0".into())]);
        env.apply_aliases();
        assert_eq!(env.toggle("RUN_SPACETIME_SYNC_CONTRACT_TESTS"), Ok(false));
        let mut env = EnvSnapshot::new([
            ("RUN_SPACETIME_CONTRACT_TESTS".into(), "0".into()),
            ("RUN_SPACETIME_SYNC_CONTRACT_TESTS".into(), "1".into()),
        ]);
        env.apply_aliases();
        assert_eq!(env.toggle("RUN_SPACETIME_SYNC_CONTRACT_TESTS"), Ok(true));
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_name("STAGING_CONTROL_ACCESS_TOKEN"));
        assert!(is_secret_name("gcp_api_key"));
        assert!(!is_secret_name("GCP_PROJECT"));
    }
}
