//! Bringing up the deployment a command runs against: the configured targets as they are,
//! or the in-process sim, started, with its exports applied to the environment. The one list
//! of variables a running sim exports lives here: `--sim` applies it to the run's environment,
//! `oa-validate sim` prints it.

use crate::config::{
    Deployment, DeploymentConfig, EnvSnapshot, REPO_ROOT_VAR, SimSettings, UsageError,
};
use oa_sim::{GMAIL_ACCOUNT_VAR, GcpNames, SIM_GMAIL_ACCOUNT, Sim, SimConfig, TEST_AGENT_ID};
use std::fmt::Write as _;

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
            let (sim, exports) = start_sim(runtime, &settings, &env)?;
            let deployment = Deployment::simulated(&env, apply(&exports, &env))?;
            Ok((deployment, Some(sim)))
        }
    }
}

/// Starts the sim on `runtime` with `settings` and lists what it exports.
pub fn start_sim(
    runtime: &tokio::runtime::Runtime,
    settings: &SimSettings,
    env: &EnvSnapshot,
) -> Result<(Sim, Vec<Export>), UsageError> {
    let sim = runtime
        .block_on(Sim::start(sim_config(settings, env)))
        .map_err(|e| UsageError(format!("cannot start the simulated deployment: {e}")))?;
    let exports = exports(&sim, env);
    Ok((sim, exports))
}

/// What [`Sim::start`] takes: the faults, the tokens the environment supplies (else the
/// sim generates them) and the Google names of this run (upstream defaults applied).
fn sim_config(settings: &SimSettings, env: &EnvSnapshot) -> SimConfig {
    let defaults = GcpNames::default();
    let name =
        |var: &str, default: String| env.get_nonempty(var).map(str::to_string).unwrap_or(default);
    SimConfig {
        faults: settings.faults.clone(),
        era: settings.era,
        staging_token: env
            .get_nonempty("STAGING_CONTROL_ACCESS_TOKEN")
            .map(str::to_string),
        prod_token: env
            .get_nonempty("PROD_CONTROL_ACCESS_TOKEN")
            .map(str::to_string),
        latency: settings.latency,
        gcp: GcpNames {
            project: name("GCP_PROJECT", defaults.project),
            region: name("GCP_REGION", defaults.region),
            control_service: name("CONTROL_SERVICE", defaults.control_service),
            runtime_service: name("RUNTIME_SERVICE", defaults.runtime_service),
            migrate_job: name("MIGRATE_JOB", defaults.migrate_job),
        },
        htmx_library: crate::setup::htmx_library(env),
    }
}

/// One line of what a running sim exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// A variable and its value.
    Variable { name: String, value: String },
    /// A variable whose value came from the caller's environment: set, but never echoed (a
    /// token supplied by the caller stays out of terminal scrollback and pasted logs).
    Kept { name: String, value: String },
    /// A comment for the reader (not a variable).
    Note(String),
}

/// Everything a running sim exports, in the order `oa-validate sim` prints it: its
/// endpoints and tokens, its Google APIs and their test credential, and what local lanes
/// need (the fixture workspace, a Gmail test account) unless the environment sets them.
pub fn exports(sim: &Sim, env: &EnvSnapshot) -> Vec<Export> {
    let variable = |name: &str, value: &str| Export::Variable {
        name: name.to_string(),
        value: value.to_string(),
    };
    let mut out = Vec::new();
    for (target, prefix) in [(&sim.staging, "STAGING"), (&sim.prod, "PROD")] {
        out.push(variable(
            &format!("{prefix}_CONTROL_BASE_URL"),
            &target.control_url,
        ));
        let token_var = format!("{prefix}_CONTROL_ACCESS_TOKEN");
        // The sim uses the caller's token when there is one (see `sim_config`).
        out.push(if env.get_nonempty(&token_var).is_some() {
            Export::Kept {
                name: token_var,
                value: target.token.clone(),
            }
        } else {
            variable(&token_var, &target.token)
        });
    }
    out.push(Export::Note(format!(
        "offsite recorder (redirect-offsite target): {}",
        sim.offsite_url
    )));
    for (target, prefix) in [(&sim.staging, "STAGING"), (&sim.prod, "PROD")] {
        out.push(variable(
            &format!("{prefix}_RUNTIME_BASE_URL"),
            &target.runtime_url,
        ));
    }
    // The sim's Google APIs take the sim's own test token: outside --sim, credentials come
    // from ADC (or OA_GOOGLE_ACCESS_TOKEN) and their absence skips the Cloud Run checks.
    out.push(variable("OA_CLOUD_RUN_ENDPOINT", &sim.cloud_run_url));
    out.push(variable("OA_LOGGING_ENDPOINT", &sim.logging_url));
    out.push(variable("OA_GOOGLE_ACCESS_TOKEN", &sim.google_token));
    out.push(variable("OA_TEST_AGENT_ID", TEST_AGENT_ID));
    // Local lanes (cargo tests, scripts) run against the fixture workspace (written out to the
    // per-user cache) unless told otherwise; without a cache folder they skip, naming the variable.
    let repo_root = env
        .get_nonempty(REPO_ROOT_VAR)
        .map(str::to_string)
        .or_else(|| match crate::setup::fixture_workspace(env) {
            Ok(root) => Some(root.display().to_string()),
            Err(e) => {
                tracing::warn!("the fixture workspace cannot be written: {e}");
                None
            }
        });
    if let Some(root) = repo_root {
        out.push(variable(REPO_ROOT_VAR, &root));
    }
    let gmail = env
        .get_nonempty(GMAIL_ACCOUNT_VAR)
        .unwrap_or(SIM_GMAIL_ACCOUNT);
    out.push(variable(GMAIL_ACCOUNT_VAR, gmail));
    out
}

/// `env` with every exported variable set.
pub fn apply(exports: &[Export], env: &EnvSnapshot) -> EnvSnapshot {
    let mut env = env.clone();
    for export in exports {
        match export {
            Export::Variable { name, value } | Export::Kept { name, value } => env.set(name, value),
            Export::Note(_) => {}
        }
    }
    env
}

/// The exports as shell lines: `export NAME=value`, a comment for a kept token or a note.
pub fn export_lines(exports: &[Export]) -> String {
    let mut out = String::new();
    for export in exports {
        let _ = match export {
            Export::Variable { name, value } => {
                writeln!(out, "export {name}={}", crate::shell::quote(value))
            }
            Export::Kept { name, .. } => writeln!(out, "# {name}: taken from your environment"),
            Export::Note(text) => writeln!(out, "# {text}"),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moved from the sim's own tests when the export list moved here: a token the caller
    /// configured is used but never printed.
    #[tokio::test]
    async fn exports_withhold_a_configured_token() {
        let env = EnvSnapshot::new([
            (
                "STAGING_CONTROL_ACCESS_TOKEN".to_string(),
                "staging-secret".to_string(),
            ),
            (REPO_ROOT_VAR.to_string(), "/src/openagents".to_string()),
        ]);
        let settings = SimSettings {
            faults: Vec::new(),
            era: oa_sim::SimEra::default(),
            latency: std::time::Duration::ZERO,
            setup: false,
        };
        let sim = Sim::start(sim_config(&settings, &env)).await.unwrap();
        assert_eq!(sim.staging.token, "staging-secret");
        let exports = exports(&sim, &env);
        let lines = export_lines(&exports);
        let expected = format!(
            "export STAGING_CONTROL_BASE_URL={}\n\
             # STAGING_CONTROL_ACCESS_TOKEN: taken from your environment\n\
             export PROD_CONTROL_BASE_URL={}\n\
             export PROD_CONTROL_ACCESS_TOKEN={}\n\
             # offsite recorder (redirect-offsite target): {}\n\
             export STAGING_RUNTIME_BASE_URL={}\n\
             export PROD_RUNTIME_BASE_URL={}\n\
             export OA_CLOUD_RUN_ENDPOINT={}\n\
             export OA_LOGGING_ENDPOINT={}\n\
             export OA_GOOGLE_ACCESS_TOKEN={}\n\
             export OA_TEST_AGENT_ID={TEST_AGENT_ID}\n\
             export OA_REPO_ROOT=/src/openagents\n\
             export OA_GMAIL_TEST_ACCOUNT={SIM_GMAIL_ACCOUNT}\n",
            sim.staging.control_url,
            sim.prod.control_url,
            sim.prod.token,
            sim.offsite_url,
            sim.staging.runtime_url,
            sim.prod.runtime_url,
            sim.cloud_run_url,
            sim.logging_url,
            sim.google_token
        );
        assert_eq!(lines, expected);
        assert!(!lines.contains("staging-secret"));
        // Applied to the environment, the withheld token is set all the same.
        let applied = apply(&exports, &env);
        assert_eq!(
            applied.get("STAGING_CONTROL_ACCESS_TOKEN"),
            Some("staging-secret")
        );
        assert_eq!(
            applied.get("OA_CLOUD_RUN_ENDPOINT"),
            Some(sim.cloud_run_url.as_str())
        );
    }
}
