//! `oa-validate repl`: a session with the run's engine, primitives, targets and redaction.

use super::{deploy, host};
use crate::config::{ReplConfig, UsageError};

pub fn repl(runtime: &tokio::runtime::Runtime, config: ReplConfig) -> Result<i32, UsageError> {
    let (deployment, _sim) = deploy::start(runtime, config.deployment)?;
    let host = host::build(runtime, deployment, config.settings)?;
    let session =
        crate::repl::Session::new(crate::api::build(), host, &config.target).map_err(UsageError)?;
    Ok(crate::repl::run(session, config.history))
}
