//! Cutover phases (`--phase`), resolved once: the phase a command is for (given, or the
//! documented default), the lanes it brings along and the sim era that serves it.

use super::UsageError;
use super::lanes::LaneSelection;
use crate::cutover::CutoverPhase;
use crate::sim::SimEra;
use std::path::PathBuf;
use std::time::Duration;

/// The phase that needs fresh Laravel DB backup evidence (policy 4).
pub const PHASE_LEGACY_DELETION: &str = "legacy-deletion";
/// The lane holding the policy 4 check, added to any run in that phase.
pub const LEGACY_BACKUP_LANE: &str = "lanes/legacy_backup.rhai";
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

    /// The upstream era the sim serves for this phase.
    pub fn sim_era(self) -> SimEra {
        SimEra::for_phase(self.phase)
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
/// legacy-deletion phase brings its check along.
pub fn add_phase_lanes(
    phase: Option<CutoverPhase>,
    lanes: &mut LaneSelection,
) -> Result<(), UsageError> {
    if phase != Some(CutoverPhase::LegacyDeletion) {
        return Ok(());
    }
    let lane = PathBuf::from(LEGACY_BACKUP_LANE);
    if !lane.is_file() {
        return Err(UsageError(format!(
            "--phase {PHASE_LEGACY_DELETION} needs {LEGACY_BACKUP_LANE} (run from the repository root)"
        )));
    }
    if !lanes
        .paths
        .iter()
        .any(|l| l.ends_with("legacy_backup.rhai"))
    {
        lanes.paths.push(lane);
    }
    Ok(())
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
