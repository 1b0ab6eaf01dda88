//! The deployments the lanes run against: staging and prod, from the upstream variables.

use super::{EnvSnapshot, MIN_SECRET_LEN, UsageError};

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

/// The staging and prod targets from the upstream variables (`simulated` when they point at
/// the sim).
pub fn targets_from_env(env: &EnvSnapshot, simulated: bool) -> Result<Vec<Target>, UsageError> {
    let mut targets = Vec::new();
    for (name, label, prefix) in [
        ("staging", "staging", "STAGING"),
        ("prod", "production", "PROD"),
    ] {
        let control_var = format!("{prefix}_CONTROL_BASE_URL");
        let control_url = env
            .get_nonempty(&control_var)
            .ok_or_else(|| UsageError(format!("{control_var} is empty")))?
            .trim_end_matches('/')
            .to_string();
        url::Url::parse(&control_url)
            .map_err(|e| UsageError(format!("{control_var}={control_url:?} is not a URL: {e}")))?;
        let runtime_url = env
            .get_nonempty(&format!("{prefix}_RUNTIME_BASE_URL"))
            .map(|u| u.trim_end_matches('/').to_string());
        let token_var = format!("{prefix}_CONTROL_ACCESS_TOKEN");
        let token = env.get_nonempty(&token_var).map(str::to_string);
        if let Some(t) = &token
            && t.len() < MIN_SECRET_LEN
        {
            return Err(UsageError(format!(
                "{token_var} is shorter than {MIN_SECRET_LEN} characters: too short to be a token, and it would \
                 redact ordinary text from every report"
            )));
        }
        targets.push(Target {
            name: name.to_string(),
            label: label.to_string(),
            control_url,
            runtime_url,
            token,
            token_var,
            simulated,
        });
    }
    Ok(targets)
}
