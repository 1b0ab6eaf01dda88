//! `oa-validate check`: compile and plan lanes, run nothing.

use super::host;
use crate::config::{PlanConfig, UsageError};
use crate::exit_code;

pub fn check(runtime: &tokio::runtime::Runtime, config: PlanConfig) -> Result<i32, UsageError> {
    let phase = config.phase.label();
    let plan = match host::plan_only(runtime, config)? {
        (_, Ok(plan)) => plan,
        (_, Err(code)) => return Ok(code),
    };
    println!(
        "{} lane{} compiled, {} checks declared for phase {phase}",
        plan.lanes.len(),
        if plan.lanes.len() == 1 { "" } else { "s" },
        plan.checks.len()
    );
    Ok(exit_code::GO)
}
