//! `oa-validate plan [RUN ARGS]`: what a run with the same arguments would do, decided the way
//! the run decides it but without a request: the phase, the targets and the variables that set
//! them, the checks that would run, each check that would be skipped grouped by why (a toggle,
//! an unset variable, a production mutation without permission), whether Google credentials
//! were found, and what `--gate` would refuse.

use super::{pipeline, run};
use crate::config::{RunConfig, UsageError};
use crate::outcome::Level;
use crate::{exit_code, gate};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub fn plan(runtime: &tokio::runtime::Runtime, config: RunConfig) -> Result<i32, UsageError> {
    // The run's own stages up to its refusals, without running anything.
    let resolved = match pipeline::resolve(runtime, &config) {
        Ok(resolved) => resolved,
        Err(stop) => return Ok(stop.report()),
    };
    let planned = match pipeline::plan(&resolved, &config) {
        Ok(planned) => planned,
        Err(stop) => return Ok(stop.report()),
    };
    let refusals = pipeline::gate_refusals(&config, &resolved, &planned);
    let (host, plan, matrix) = (&resolved.host, &planned.plan, &planned.matrix);

    let mut out = String::new();
    let _ = writeln!(out, "Phase: {}", config.phase.label());
    let _ = writeln!(out, "Targets: {}", run::targets_line(host, plan));
    let _ = writeln!(out, "Matrix: {}", matrix.line());

    // Skipped before any of their code runs, by the run's own rule; a check whose variable is
    // unset is not checked here, grouped apart with what to set.
    let mut skips: BTreeMap<String, Vec<(&str, Level)>> = BTreeMap::new();
    let mut not_here: BTreeMap<String, Vec<(&str, Level)>> = BTreeMap::new();
    let mut remedies: BTreeMap<String, String> = BTreeMap::new();
    let mut runs = Vec::new();
    for check in &plan.checks {
        let spec = &check.spec;
        match gate::skip_reason(
            spec,
            &host.env,
            &host.targets,
            host.settings.allow_prod_mutations,
        ) {
            Some(gate::NotRun::Skipped(reason)) => skips
                .entry(reason)
                .or_default()
                .push((&spec.id, spec.level)),
            Some(gate::NotRun::NotHere(missing)) => {
                remedies.insert(missing.reason.clone(), missing.remedy);
                not_here
                    .entry(missing.reason)
                    .or_default()
                    .push((&spec.id, spec.level))
            }
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
    for (title, groups) in [
        ("Would skip", &skips),
        ("Not checked here (missing on this machine)", &not_here),
    ] {
        let count: usize = groups.values().map(Vec::len).sum();
        if count == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "{title}: {count} check{} (a required one is a NO-GO)",
            if count == 1 { "" } else { "s" }
        );
        for (reason, checks) in groups {
            let ids: Vec<String> = checks
                .iter()
                .map(|(id, level)| match level {
                    Level::Required => format!("{id} (required)"),
                    Level::Optional => id.to_string(),
                })
                .collect();
            let remedy = remedies
                .get(reason)
                .map(|r| format!("; to check here: {r}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {reason}: {}{remedy}", ids.join(", "));
        }
    }
    let _ = writeln!(out, "{}", google_line(host, plan));
    // cargo and Chromium (Google credentials have the line above).
    for (missing, lanes) in super::local::missing_up_front(host, plan) {
        if missing.kind != crate::outcome::MissingKind::Credentials {
            let _ = writeln!(out, "{}", missing_here_line(&missing, &lanes));
        }
    }
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

/// `Missing here: cargo not installed: ...`, as a run says it before its first check.
pub(super) fn missing_here_line(missing: &crate::outcome::Missing, lanes: &[String]) -> String {
    format!(
        "Missing here: {}: the checks of {} that need it will be not checked here; to check them: {}",
        missing.reason,
        lanes.join(", "),
        missing.remedy
    )
}

/// Whether Google credentials (ADC) were found (found without a request: the metadata server
/// is only named, not asked), and which lanes call the Cloud Run or Logging APIs (by their
/// source and the stdlib modules they import): without credentials their checks skip.
fn google_line(host: &crate::engine::host::Host, plan: &crate::plan::Plan) -> String {
    let lanes = super::local::lanes_calling(plan, &super::local::GOOGLE_CALLS);
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
            "Google credentials: none found: the Cloud Run and Logging checks of {} will be not checked here ({})",
            lanes.join(", "),
            crate::gcp::auth::NO_CREDENTIALS
        ),
        Err(e) => format!("Google credentials: {e} (for {})", lanes.join(", ")),
    }
}
