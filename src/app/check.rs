//! `oa-validate check`: compile and plan lanes, run nothing.

use super::host;
use crate::config::{PlanConfig, UsageError};
use crate::exit_code;

pub fn check(runtime: &tokio::runtime::Runtime, config: PlanConfig) -> Result<i32, UsageError> {
    let phase = config.phase.label();
    let (host, plan) = match host::plan_only(runtime, config)? {
        (host, Ok(plan)) => (host, plan),
        (_, Err(code)) => return Ok(code),
    };
    // What only a run would find: unknown functions, wrong argument counts, unknown options.
    let engine = crate::api::build();
    let findings: Vec<crate::engine::lint::Finding> = plan
        .lanes
        .iter()
        .flat_map(|lane| crate::engine::lint::lint(&engine, &lane.ast, &lane.display))
        .collect();
    if !findings.is_empty() {
        let text = crate::diagnostic::render_all(
            &findings,
            "they would fail at run time",
            crate::engine::sources::read,
        );
        eprint!("{}", host.services.redactor.redact(&text));
        return Ok(exit_code::LANE_ERROR);
    }
    println!(
        "{} lane{} compiled, {} check{} declared for phase {phase}",
        plan.lanes.len(),
        if plan.lanes.len() == 1 { "" } else { "s" },
        plan.checks.len(),
        if plan.checks.len() == 1 { "" } else { "s" }
    );
    Ok(exit_code::GO)
}
