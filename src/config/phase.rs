//! Cutover phases (`--phase`): which lanes and limits a phase brings along.

use super::UsageError;
use super::lanes::LaneSelection;
use std::path::PathBuf;
use std::time::Duration;

/// The phase that needs fresh Laravel DB backup evidence (policy 4).
pub const PHASE_LEGACY_DELETION: &str = "legacy-deletion";
/// The lane holding the policy 4 check, added to any run in that phase.
pub const LEGACY_BACKUP_LANE: &str = "lanes/legacy_backup.rhai";
/// Oldest Laravel DB backup evidence accepted by default (`--backup-max-age`).
pub const DEFAULT_BACKUP_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Adds the lanes `phase` needs to `lanes`: policy 4 holds whatever lanes were named, so the
/// legacy-deletion phase brings its check along.
pub fn add_phase_lanes(phase: Option<&str>, lanes: &mut LaneSelection) -> Result<(), UsageError> {
    if phase != Some(PHASE_LEGACY_DELETION) {
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
