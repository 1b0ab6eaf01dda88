//! `oa-validate plan [RUN ARGS]`: what a run with the same arguments would do, decided the way
//! the run decides it but without a request: the phase, the targets and the variables that set
//! them, the checks that would run, each check that would be skipped grouped by why (a toggle,
//! an unset variable, a production mutation without permission), whether Google credentials
//! were found, and what `--gate` would refuse.

use super::{deploy, host, run};
use crate::config::{Mode, RunConfig, UsageError};
use crate::outcome::Level;
use crate::{exit_code, gate};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub fn plan(runtime: &tokio::runtime::Runtime, config: RunConfig) -> Result<i32, UsageError> {
    if let Some(refusal) = gate::refuse_invocation(&config) {
        println!("--gate would refuse this run: {refusal}");
        return Ok(exit_code::USAGE);
    }
    let (deployment, _sim) = deploy::start(runtime, config.deployment.clone())?;
    let host = host::build(runtime, deployment, config.settings.clone())?;
    let engine = crate::api::build_confined(config.lanes.confinement());
    let mut plan = match host::plan(&engine, &host, &config.lanes.files) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let phase = config.phase.phase;
    let matrix = crate::lock::record(&config.lanes, &plan, phase)?;
    run::select_checks(&mut plan, phase, &config.check_filter)?;
    let refusals = if config.mode == Mode::Gate {
        let mut refusals = gate::refuse_unlocked(&matrix);
        refusals.extend(run::gate_refusals(
            &host,
            &plan,
            phase,
            config.lanes.confinement(),
        ));
        refusals
    } else {
        Vec::new()
    };

    let mut out = String::new();
    let _ = writeln!(out, "Phase: {}", config.phase.label());
    let _ = writeln!(out, "Targets: {}", run::targets_line(&host, &plan));
    let _ = writeln!(out, "Matrix: {}", matrix.line());

    // Skipped before any of their code runs, by the run's own rule.
    let mut skips: BTreeMap<String, Vec<(&str, Level)>> = BTreeMap::new();
    let mut runs = Vec::new();
    for check in &plan.checks {
        let spec = &check.spec;
        match gate::skip_reason(
            spec,
            &host.env,
            &host.targets,
            host.settings.allow_prod_mutations,
        ) {
            Some(reason) => skips
                .entry(reason)
                .or_default()
                .push((&spec.id, spec.level)),
            None => runs.push(spec),
        }
    }
    let required = runs.iter().filter(|s| s.level == Level::Required).count();
    let _ = writeln!(
        out,
        "Would run: {} check{} ({required} required, {} optional)",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        runs.len() - required
    );
    let skipped: usize = skips.values().map(Vec::len).sum();
    if skipped > 0 {
        let _ = writeln!(
            out,
            "Would skip: {skipped} check{} (a skipped required check is a NO-GO)",
            if skipped == 1 { "" } else { "s" }
        );
        for (reason, checks) in &skips {
            let ids: Vec<String> = checks
                .iter()
                .map(|(id, level)| match level {
                    Level::Required => format!("{id} (required)"),
                    Level::Optional => id.to_string(),
                })
                .collect();
            let _ = writeln!(out, "  {reason}: {}", ids.join(", "));
        }
    }
    let _ = writeln!(out, "{}", google_line(&host, &plan));
    if !refusals.is_empty() {
        let _ = writeln!(out, "--gate would refuse this run:");
        for refusal in &refusals {
            let _ = writeln!(out, "  {refusal}");
        }
    }
    // Line by line: each is the tool's own line, its text (a variable's value, a lane's check
    // id) made inert for a CI log like any other.
    let text = host.services.redactor.redact(&out);
    for line in text.lines() {
        println!("{}", crate::diagnostic::inert(line));
    }
    Ok(if refusals.is_empty() {
        exit_code::GO
    } else {
        exit_code::USAGE
    })
}

/// Whether Google credentials (ADC) were found (found without a request: the metadata server
/// is only named, not asked), and which lanes call the Cloud Run or Logging APIs (by their
/// source and the stdlib modules they import): without credentials their checks skip.
fn google_line(host: &crate::engine::host::Host, plan: &crate::plan::Plan) -> String {
    let calls_google = |source: &str| source.contains("cloudrun::") || source.contains("logging::");
    let lanes: Vec<&str> = plan
        .lanes
        .iter()
        .filter(|lane| {
            calls_google(&lane.source)
                || crate::engine::stdlib::modules().any(|(name, module)| {
                    lane.source.contains(&format!("import \"{name}\"")) && calls_google(module)
                })
        })
        .filter(|lane| {
            plan.checks
                .iter()
                .any(|c| plan.lane_of(c).path == lane.path)
        })
        .map(|lane| lane.display.as_str())
        .collect();
    if lanes.is_empty() {
        return "Google credentials: not needed by these lanes".to_string();
    }
    let found = crate::gcp::auth::discover(&host.env, crate::gcp::auth::on_google_hardware());
    match found {
        Ok(Some(source)) => format!(
            "Google credentials: {} (for {})",
            source.describe(),
            lanes.join(", ")
        ),
        Ok(None) => format!(
            "Google credentials: none found: the Cloud Run and Logging checks of {} will skip ({})",
            lanes.join(", "),
            crate::gcp::auth::NO_CREDENTIALS
        ),
        Err(e) => format!("Google credentials: {e} (for {})", lanes.join(", ")),
    }
}
