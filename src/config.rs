//! The resolved run configuration: targets, environment snapshot, secrets, modes.
//!
//! `cli.rs` is the only place that reads the process environment; it captures it into an
//! [`EnvSnapshot`] and everything below works from that.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

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

/// One deployment the lanes run against.
#[derive(Debug, Clone)]
pub struct Target {
    /// `staging` or `prod`.
    pub name: String,
    /// Human form used in descriptions: `staging`, `production`.
    pub label: String,
    pub control_url: String,
    pub runtime_url: Option<String>,
    pub token: Option<String>,
    /// The name of the variable the token came from (for skip reasons).
    pub token_var: String,
    /// A simulated target is never production, whatever its name.
    pub simulated: bool,
}

impl Target {
    pub fn is_production(&self) -> bool {
        self.name == "prod" && !self.simulated
    }
}

/// How the verdict turns into an exit code and what is refused up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Release gating: the whole matrix, no skipped required check, no baseline.
    Gate,
    /// Exit 0 even on NO-GO (`--baseline` or `FAIL_ON_REQUIRED_FAILURE=0`).
    Baseline,
}

/// Everything a run needs, resolved once from arguments and environment.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub lanes: Vec<PathBuf>,
    /// True when the lanes are the default full set (lanes/*.rhai).
    pub full_matrix: bool,
    pub check_filter: Vec<String>,
    pub targets: Vec<Target>,
    pub env: EnvSnapshot,
    pub mode: Mode,
    pub jobs: usize,
    pub out_dir: PathBuf,
    pub default_timeout: Duration,
    pub allow_prod_mutations: bool,
    /// `--phase` as given; [`RunConfig::cutover_phase`] applies the default.
    pub phase: Option<crate::cutover::CutoverPhase>,
    /// `--backup-max-age`: oldest Laravel DB backup evidence accepted (policy 4).
    pub backup_max_age: Duration,
    pub max_body: u64,
    pub color: bool,
    pub progress: bool,
    /// Write `http/<check_id>.har` (off with `--no-har`).
    pub http_archive: bool,
    /// Extra secret values (beyond tokens and secret-named variables) to redact.
    pub secrets: Vec<String>,
}

impl RunConfig {
    /// The phase this run is for: `--phase`, or the documented default.
    pub fn cutover_phase(&self) -> crate::cutover::CutoverPhase {
        self.phase.unwrap_or(crate::cutover::CutoverPhase::DEFAULT)
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
