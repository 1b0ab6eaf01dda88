//! Which lane files a command plans: the files or globs named, else every `lanes/*.rhai`.

use super::UsageError;
use std::path::PathBuf;

/// The directory and pattern of the default lane set.
pub const DEFAULT_LANES: &str = "lanes/*.rhai";

/// The lane files of a command, in order, without duplicates.
#[derive(Debug, Clone)]
pub struct LaneSelection {
    pub paths: Vec<PathBuf>,
    /// True when the lanes are the default full set ([`DEFAULT_LANES`]).
    pub full_matrix: bool,
    /// The arguments as given (the gate names them when it refuses a subset).
    pub named: Vec<String>,
}

/// Expands lane arguments (files or globs); the default is every `lanes/*.rhai`, sorted.
pub fn resolve_lanes(args: &[String]) -> Result<LaneSelection, UsageError> {
    let full_matrix = args.is_empty();
    let patterns: Vec<String> = if full_matrix {
        vec![DEFAULT_LANES.to_string()]
    } else {
        args.to_vec()
    };
    let mut lanes = Vec::new();
    for pattern in &patterns {
        let is_glob = pattern.contains(['*', '?', '[']);
        if !is_glob {
            let path = PathBuf::from(pattern);
            if !path.is_file() {
                return Err(UsageError(format!("lane file not found: {pattern}")));
            }
            lanes.push(path);
            continue;
        }
        let mut matched: Vec<PathBuf> = glob::glob(pattern)
            .map_err(|e| UsageError(format!("invalid lane pattern {pattern:?}: {e}")))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        matched.sort();
        if matched.is_empty() {
            return Err(UsageError(format!(
                "no lane files match {pattern:?} (run from the repository root, or name lane files)"
            )));
        }
        lanes.extend(matched);
    }
    let mut seen = std::collections::HashSet::new();
    lanes.retain(|p| seen.insert(p.clone()));
    Ok(LaneSelection {
        paths: lanes,
        full_matrix,
        named: args.to_vec(),
    })
}
