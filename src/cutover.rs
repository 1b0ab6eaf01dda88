//! Cutover phases: which checks of the matrix apply to a deployment at a given point of the
//! OpenAgents Rust cutover.
//!
//! No single upstream commit passes the whole seed matrix: the static host, the HTMX pages
//! and public `/stats` were removed by the app surface cleanup (f7a0c222cf), and the
//! Spacetime sync tests and retired-route guards only hold after the Spacetime convergence
//! (9b2b978949). A lane states where a check applies (`phases: [...]`); a run selects one
//! phase, and only the checks of that phase are planned. (Not `engine::context::Phase`,
//! which is planning vs running.)

use std::fmt;
use std::str::FromStr;

/// A point of the cutover a gate run is for, selected with `--phase NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CutoverPhase {
    /// Before the app surface cleanup: the control service still hosts the web app (static
    /// host, HTMX pages, public `/stats`). Upstream era 6b173e913a.
    AppSurface,
    /// After the Spacetime-only convergence: the Khala routes are retired and the Spacetime
    /// sync tests exist. Upstream era d29e2a788f.
    SpacetimeConvergence,
    /// Deleting the legacy (Laravel) system, the last step of the convergence: the
    /// post-convergence matrix plus fresh backup evidence (seed policy 4).
    LegacyDeletion,
}

const ALL: &[CutoverPhase] = &[
    CutoverPhase::AppSurface,
    CutoverPhase::SpacetimeConvergence,
    CutoverPhase::LegacyDeletion,
];

impl CutoverPhase {
    /// The phase of a run that names none (and is not a gate run, which must name one):
    /// the era whose validation document the seed matches (6b173e913a).
    pub const DEFAULT: CutoverPhase = CutoverPhase::AppSurface;

    /// Every phase, in cutover order.
    pub fn all() -> &'static [CutoverPhase] {
        ALL
    }

    /// The kebab-case name used by `--phase`, `phases: [...]` and the reports.
    pub fn name(self) -> &'static str {
        match self {
            CutoverPhase::AppSurface => "app-surface",
            CutoverPhase::SpacetimeConvergence => "spacetime-convergence",
            CutoverPhase::LegacyDeletion => "legacy-deletion",
        }
    }

    /// One line saying when the phase holds.
    pub fn describe(self) -> &'static str {
        match self {
            CutoverPhase::AppSurface => {
                "before the app surface cleanup (upstream 6b173e913a): static host, HTMX pages and public /stats are served"
            }
            CutoverPhase::SpacetimeConvergence => {
                "after the Spacetime-only convergence (upstream 9b2b978949 .. d29e2a788f): Khala routes retired, Spacetime sync tests"
            }
            CutoverPhase::LegacyDeletion => {
                "legacy (Laravel) deletion after the convergence: the spacetime-convergence matrix plus fresh DB backup evidence"
            }
        }
    }

    /// The names of every phase, comma-separated (for messages).
    pub fn names() -> String {
        ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    }

    /// Whether a check declared for `phases` (empty: every phase) runs in this phase.
    pub fn includes(self, phases: &[CutoverPhase]) -> bool {
        phases.is_empty() || phases.contains(&self)
    }
}

impl fmt::Display for CutoverPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A phase name that is not one of [`CutoverPhase::all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPhase(pub String);

impl fmt::Display for UnknownPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown cutover phase `{}`; phases: {}",
            self.0,
            CutoverPhase::names()
        )
    }
}

impl std::error::Error for UnknownPhase {}

impl FromStr for CutoverPhase {
    type Err = UnknownPhase;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .copied()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPhase(s.to_string()))
    }
}

/// By name, as `--phase` spells it (summary.json's `run.invocation.phase`).
impl serde::Serialize for CutoverPhase {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A phase is written by name: the schema lists the names.
impl schemars::JsonSchema for CutoverPhase {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CutoverPhase".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = CutoverPhase::all().iter().map(|p| p.name()).collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

impl<'de> serde::Deserialize<'de> for CutoverPhase {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_phases() {
        for &phase in CutoverPhase::all() {
            assert_eq!(phase.name().parse::<CutoverPhase>(), Ok(phase));
        }
        let err = "post-cleanup".parse::<CutoverPhase>().unwrap_err();
        assert!(
            err.to_string()
                .contains("app-surface, spacetime-convergence, legacy-deletion")
        );
    }

    #[test]
    fn an_unphased_check_runs_in_every_phase() {
        for &phase in CutoverPhase::all() {
            assert!(phase.includes(&[]));
        }
        assert!(!CutoverPhase::AppSurface.includes(&[CutoverPhase::LegacyDeletion]));
        assert!(CutoverPhase::LegacyDeletion.includes(&[
            CutoverPhase::SpacetimeConvergence,
            CutoverPhase::LegacyDeletion
        ]));
    }
}
