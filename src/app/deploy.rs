//! Bringing up the deployment a command runs against: the configured targets as they are,
//! or the in-process sim, started, with its exports applied to the environment.

use crate::config::{self, Deployment, DeploymentConfig, UsageError};
use crate::sim::Sim;

/// The deployment, and the sim behind it when there is one (dropping it stops the sim).
pub fn start(
    runtime: &tokio::runtime::Runtime,
    deployment: DeploymentConfig,
) -> Result<(Deployment, Option<Sim>), UsageError> {
    match deployment {
        DeploymentConfig::Real(deployment) => Ok((deployment, None)),
        DeploymentConfig::Sim(settings, env) => {
            if settings.setup {
                // The HTMX lanes need Chromium and the htmx library: install what is missing,
                // or say why not (their checks then skip or fail, naming it).
                if let Err(e) = crate::setup::ensure(&env) {
                    eprintln!("warning: setup: {e}");
                }
            }
            let sim = runtime
                .block_on(Sim::start(settings.sim_config(&env)))
                .map_err(|e| UsageError(format!("cannot start the simulated deployment: {e}")))?;
            let exports = config::sim::exports(&sim, &env);
            let deployment = Deployment::simulated(&env, &exports)?;
            Ok((deployment, Some(sim)))
        }
    }
}
