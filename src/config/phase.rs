//! Cutover phases (`--phase`), resolved once: the phase a command is for (given, or the
//! documented default), the lanes it brings along and the sim era that serves it.

use super::lanes::{LaneFile, LaneSelection};
use crate::cutover::CutoverPhase;
use oa_sim::SimEra;
use std::time::Duration;

/// The phase that needs fresh Laravel DB backup evidence (policy 4).
pub const PHASE_LEGACY_DELETION: &str = "legacy-deletion";
/// The lane holding the policy 4 check (in the built-in matrix), added to any run in that phase.
pub const LEGACY_BACKUP_LANE: &str = "legacy_backup.rhai";
/// Oldest Laravel DB backup evidence accepted by default (`--backup-max-age`).
pub const DEFAULT_BACKUP_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The cutover phase of a command: `--phase`, or [`CutoverPhase::DEFAULT`] when none was
/// given (which a gate run of a phase-dependent matrix refuses, see [`crate::gate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseChoice {
    /// The phase the command is for.
    pub phase: CutoverPhase,
    /// Whether `--phase` named it.
    pub explicit: bool,
}

impl PhaseChoice {
    /// `--phase` as given, the default applied.
    pub fn resolve(given: Option<CutoverPhase>) -> PhaseChoice {
        PhaseChoice {
            phase: given.unwrap_or(CutoverPhase::DEFAULT),
            explicit: given.is_some(),
        }
    }

    /// `--phase` as given (`None`: the default was applied).
    pub fn given(self) -> Option<CutoverPhase> {
        self.explicit.then_some(self.phase)
    }

    /// The upstream era the sim serves for this phase: the app surface before the cleanup;
    /// the converged services for the convergence and the legacy deletion after it.
    pub fn sim_era(self) -> SimEra {
        match self.phase {
            CutoverPhase::AppSurface => SimEra::AppSurface,
            CutoverPhase::SpacetimeConvergence | CutoverPhase::LegacyDeletion => {
                SimEra::SpacetimeConvergence
            }
        }
    }

    /// How reports name the run's phase: `app-surface (default)` when `--phase` was not given.
    pub fn label(self) -> String {
        if self.explicit {
            self.phase.name().to_string()
        } else {
            format!("{} (default)", self.phase.name())
        }
    }
}

/// Adds the lanes `phase` needs to `lanes`: policy 4 holds whatever lanes were named, so the
/// legacy-deletion phase brings its check along (the built-in lane, unless the lanes hold one).
pub fn add_phase_lanes(phase: Option<CutoverPhase>, lanes: &mut LaneSelection) {
    if phase != Some(CutoverPhase::LegacyDeletion) {
        return;
    }
    if !lanes
        .files
        .iter()
        .any(|l| l.display().ends_with(LEGACY_BACKUP_LANE))
    {
        lanes.files.push(LaneFile::Embedded(LEGACY_BACKUP_LANE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_phase_is_labelled_as_such_and_each_phase_has_its_era() {
        let default = PhaseChoice::resolve(None);
        assert_eq!(default.phase, CutoverPhase::AppSurface);
        assert_eq!(default.given(), None);
        assert_eq!(default.label(), "app-surface (default)");
        assert_eq!(default.sim_era(), SimEra::AppSurface);
        let named = PhaseChoice::resolve(Some(CutoverPhase::LegacyDeletion));
        assert_eq!(named.given(), Some(CutoverPhase::LegacyDeletion));
        assert_eq!(named.label(), "legacy-deletion");
        assert_eq!(named.sim_era(), SimEra::SpacetimeConvergence);
    }
}
