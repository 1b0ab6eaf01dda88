//! The simulated deployment as configuration: what starting it takes (faults, era, latency,
//! whether to install what the HTMX lanes need). Starting it and the variables it exports
//! belong to the command that starts it ([`crate::app`]'s deploy step).

use super::UsageError;
use oa_sim::{Fault, SimEra};
use std::time::Duration;

/// How to start the sim, resolved from arguments and environment.
#[derive(Debug, Clone)]
pub struct SimSettings {
    pub faults: Vec<Fault>,
    /// The upstream era every surface reproduces (the phase's, see [`super::PhaseChoice`]).
    pub era: SimEra,
    /// Delay added to every response.
    pub latency: Duration,
    /// Install what the HTMX lanes need (Chromium, htmx) first, when it is missing.
    pub setup: bool,
}

/// Parses `--fault`/`--sim-fault` names.
pub fn parse_faults(names: &[String]) -> Result<Vec<Fault>, UsageError> {
    names
        .iter()
        .map(|n| n.parse::<Fault>().map_err(|e| UsageError(e.to_string())))
        .collect()
}
