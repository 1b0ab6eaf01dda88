//! `oa-validate rerun DIR`: the failed and errored checks of an earlier folder, run again as
//! that run was made (its recorded invocation, resolved like any run) into a new folder.

use crate::config::{self, RerunConfig, TerminalStyle, UsageError};
use crate::exit_code;

pub fn rerun(
    runtime: &tokio::runtime::Runtime,
    config: RerunConfig,
    style: TerminalStyle,
) -> Result<i32, UsageError> {
    let Some((args, env, origin)) = crate::rerun::prepare(&config)? else {
        return Ok(exit_code::NO_CHECKS);
    };
    let run = config::resolve_run(&args, env, config.started_at)?;
    super::run::run(runtime, run, style, Some(origin))
}
