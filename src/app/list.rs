//! `oa-validate list`: the matrix as a table (id, lane, level, target, phases, description),
//! without touching the network; the phase it is for on the first line.

use super::host;
use crate::config::{PlanConfig, UsageError};
use crate::exit_code;
use crate::plan::Plan;

pub fn list(
    runtime: &tokio::runtime::Runtime,
    config: PlanConfig,
    json: bool,
) -> Result<i32, UsageError> {
    let phase = config.phase.phase;
    let label = config.phase.label();
    let (host, plan) = match host::plan_only(runtime, config)? {
        (host, Ok(plan)) => (host, plan),
        (_, Err(code)) => return Ok(code),
    };
    let text = if json {
        matrix_json(&plan, phase.name())
    } else {
        format!("Phase: {label}\n{}", matrix_table(&plan))
    };
    use std::io::Write;
    let _ = write!(
        std::io::stdout().lock(),
        "{}",
        host.services.redactor.redact(&text)
    );
    Ok(exit_code::GO)
}

/// `list --json`: `{"phase": .., "checks": [..]}`, each check with what it needs to run, for
/// scripts that pick checks or prepare a runner's variables.
pub fn matrix_json(plan: &Plan, phase: &str) -> String {
    let checks: Vec<serde_json::Value> = plan
        .checks
        .iter()
        .map(|c| {
            let spec = &c.spec;
            serde_json::json!({
                "id": spec.id,
                "lane": plan.lane_of(c).display,
                "level": spec.level.as_str(),
                "target": spec.target,
                "phases": spec.phases.iter().map(|p| p.name()).collect::<Vec<_>>(),
                "description": spec.description,
                "needs": spec.needs,
                "toggle": spec.toggle,
                "mutates": spec.mutates,
                "timeout_ms": spec.timeout.map(|t| t.as_millis() as u64),
                "retries": spec.retries,
                "after": spec.after,
                "serial": spec.serial,
                "declared_at": spec.position.to_string(),
            })
        })
        .collect();
    let document = serde_json::json!({ "phase": phase, "checks": checks });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&document).expect("plain data")
    )
}

/// `list` output: aligned columns id, lane, level, target, phases, description.
pub fn matrix_table(plan: &Plan) -> String {
    let rows: Vec<[String; 6]> = plan
        .checks
        .iter()
        .map(|c| {
            let phases = if c.spec.phases.is_empty() {
                "all".to_string()
            } else {
                let names: Vec<&str> = c.spec.phases.iter().map(|p| p.name()).collect();
                names.join(",")
            };
            [
                c.spec.id.clone(),
                plan.lane_of(c).display.clone(),
                c.spec.level.as_str().to_string(),
                c.spec.target.clone().unwrap_or_else(|| "-".to_string()),
                phases,
                c.spec.description.clone(),
            ]
        })
        .collect();
    let header = ["CHECK", "LANE", "LEVEL", "TARGET", "PHASES", "DESCRIPTION"].map(str::to_string);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str(&format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {:w4$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        ));
    }
    out
}
